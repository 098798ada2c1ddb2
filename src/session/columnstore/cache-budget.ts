/**
 * @module session/columnstore/cache-budget
 * Which cache-table children to drop so that a backend's decoded rows stay within a budget
 * (docs/design/columnstore.md, "Everything else → cache tables"). Temporary tables live in the
 * WebAssembly memory of memory:// and idb:// data directories, so without a bound every chunk a
 * session ever read through the general path would stay decoded there. The children a statement
 * reads are marked `use`d and never chosen; the others go least recently used first, and are filled
 * again when a statement needs them. What exists, and its size, is always what the catalog said
 * last (`sync`): a rolled-back transaction may bring back a child dropped in it, or take away one
 * filled in it.
 */

export class CacheBudget {
  /** Statements prepared so far: a child's `lastUsed` is the last one that read it. */
  private tick = 0;
  private readonly lastUsed = new Map<string, number>();
  /** Children that exist, with their size in bytes (pg_total_relation_size). */
  private readonly sizes = new Map<string, number>();
  /** Children the statement being prepared reads. */
  private readonly needed = new Set<string>();
  /** Bytes per decoded row, by hypertable, from the children filled so far (estimates before a fill). */
  private readonly perRow = new Map<number, number>();

  /** `bytes`: the budget (ColumnStoreOptions.cacheTableBytes). */
  constructor(readonly bytes: number) {}

  /** A statement is being prepared: nothing is needed yet. */
  begin(): void {
    this.tick++;
    this.needed.clear();
  }

  /**
   * The children that exist now and their sizes, as the catalog says; `held`: those the current
   * transaction has locked (something in it may still read them), never chosen either.
   */
  sync(children: ReadonlyArray<{ readonly name: string; readonly bytes: number }>, held: readonly string[]): void {
    this.sizes.clear();
    for (const c of children) this.sizes.set(c.name, c.bytes);
    for (const name of held) this.needed.add(name);
    for (const name of this.lastUsed.keys()) if (!this.sizes.has(name)) this.lastUsed.delete(name);
  }

  /** The statement being prepared reads `name`: it is kept until the next statement. */
  use(name: string): void {
    this.needed.add(name);
    this.lastUsed.set(name, this.tick);
  }

  /** `name` (of hypertable `id`) was filled with `rows` rows taking `bytes`. */
  filled(name: string, id: number, rows: number, bytes: number): void {
    this.sizes.set(name, bytes);
    if (rows > 0) this.perRow.set(id, bytes / rows);
  }

  dropped(name: string): void {
    this.sizes.delete(name);
    this.lastUsed.delete(name);
  }

  /** Bytes that `rows` rows of hypertable `id` will likely take once decoded (0 before any fill of it). */
  estimate(id: number, rows: number): number {
    return Math.ceil((this.perRow.get(id) ?? 0) * rows);
  }

  /** Bytes of all children. */
  total(): number {
    let sum = 0;
    for (const bytes of this.sizes.values()) sum += bytes;
    return sum;
  }

  /**
   * Children to drop, least recently used first, so that `incoming` more bytes fit in the budget;
   * never one the current statement reads (then the budget may stay exceeded until it is done).
   */
  victims(incoming: number): string[] {
    let excess = this.total() + incoming - this.bytes;
    if (excess <= 0) return [];
    const candidates = [...this.sizes.keys()].filter((n) => !this.needed.has(n)).sort((a, b) => (this.lastUsed.get(a) ?? 0) - (this.lastUsed.get(b) ?? 0));
    const out: string[] = [];
    for (const name of candidates) {
      if (excess <= 0) break;
      out.push(name);
      excess -= this.sizes.get(name)!;
    }
    return out;
  }
}
