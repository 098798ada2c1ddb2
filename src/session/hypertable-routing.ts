/**
 * @module session/hypertable-routing
 * Rows written to a hypertable for which no chunk exists yet land in its default partition (see
 * docs/design/hypertables-rowstore.md). After a batch that wrote to a hypertable, the session runs
 * the extension's fix-up function, which creates the chunks and moves the rows into them. Until
 * then the rows are still part of the hypertable (the default partition is one of its partitions),
 * so nothing is ever missing; the fix-up only gives them their chunk.
 */
import type { ClassifiedStatement } from '../sql/classify.js';
import { literal, quoteIdent } from '../sql/rewrite/timescaledb-options.js';

/** Statement types after which the set of hypertables may have changed. */
const CATALOG_CHANGES = new Set(['CreateExtensionStmt', 'AlterExtensionStmt', 'DropStmt', 'RenameStmt', 'AlterObjectSchemaStmt']);

/** Functions and views that see chunks (and so not rows still waiting for theirs). */
const CHUNK_FUNCTIONS = new Set([
  'show_chunks', 'drop_chunks', 'compress_chunk', 'decompress_chunk', 'convert_to_columnstore', 'convert_to_rowstore', 'recompress_chunk',
  'chunk_compression_stats', 'chunk_columnstore_stats', 'chunks_detailed_size', 'hypertable_compression_stats', 'hypertable_columnstore_stats',
  'move_chunk', 'reorder_chunk', 'run_job', 'policy_compression', 'policy_retention', 'policy_compaction',
]);
const CHUNK_RELATIONS = new Set(['chunks', 'chunk', 'chunk_compression_settings', 'chunk_columnstore_settings']);

export const ROUTE_SQL = 'SELECT _timescaledb_functions.route_default_rows()';
export const HYPERTABLES_SQL =
  "SELECT c.relname FROM pg_catalog.pg_extension e, _timescaledb_catalog.hypertable h JOIN pg_catalog.pg_class c ON c.relname = h.table_name WHERE e.extname = 'timescaledb'";
export const INSTALLED_SQL = "SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'timescaledb'";

export class HypertableRouting {
  /** Names of hypertables (unqualified: a same-named ordinary table only costs an idle fix-up). */
  private names = new Set<string>();
  /** The cache must be reloaded before it is trusted. */
  private stale = true;

  /** Hypertables truncated since the last fix-up (qualified as written, for to_regclass). */
  private truncated = new Set<string>();

  /** Whether the statements may have written rows to a hypertable (and so need the fix-up). */
  writes(statements: readonly ClassifiedStatement[]): boolean {
    let writes = false;
    for (const s of statements) {
      // CREATE TABLE … WITH (timescaledb.hypertable) runs as a rewritten DO block.
      if (CATALOG_CHANGES.has(s.type) || s.functions.includes('create_hypertable') || (s.type === 'CreateStmt' && s.rewrite !== undefined)) this.stale = true;
      if (s.type === 'TruncateStmt') {
        // TimescaleDB drops a truncated hypertable's chunks; the fix-up does it (catalog/extension/truncate.ts).
        for (const r of s.relations) {
          if (!this.stale && !this.names.has(r.name)) continue;
          this.truncated.add(r.schema ? `${quoteIdent(r.schema)}.${quoteIdent(r.name)}` : quoteIdent(r.name));
          writes = true;
        }
      }
      const target = s.relations[0]?.name;
      const writing = s.kind === 'dml' || (s.kind === 'copy' && s.copy?.from === true) || s.functions.includes('create_hypertable');
      if (writing && target !== undefined && (this.stale || this.names.has(target))) writes = true;
    }
    return writes;
  }

  /**
   * Whether a statement works on chunks (and so must not run before written rows have theirs), or
   * names any relation after a TRUNCATE whose chunks the fix-up has yet to drop: until then a
   * truncated compressed chunk's batches would still be read.
   */
  usesChunks(s: ClassifiedStatement): boolean {
    if (this.truncated.size > 0 && s.relations.length > 0) return true;
    return s.functions.some((f) => CHUNK_FUNCTIONS.has(f)) || s.relations.some((r) => CHUNK_RELATIONS.has(r.name));
  }

  /**
   * The statements of a text before which the fix-up must run: each statement that works on chunks
   * after a write to a hypertable (earlier in the text, or before it when `wroteBefore`: a write
   * earlier in the open transaction). Rows written get their chunks only from the fix-up, so
   * show_chunks or compress_chunk would not see them otherwise.
   */
  fixUpPoints(statements: readonly ClassifiedStatement[], wroteBefore = false): number[] {
    const points: number[] = [];
    let wrote = wroteBefore;
    for (const [i, s] of statements.entries()) {
      if (wrote && this.usesChunks(s)) {
        points.push(i);
        wrote = false;
      }
      if (this.changesChunks(s)) wrote = true;
    }
    return points;
  }

  /** Whether a statement may leave rows or chunks for the fix-up: a write or TRUNCATE of a hypertable, create_hypertable. */
  private changesChunks(s: ClassifiedStatement): boolean {
    if (s.functions.includes('create_hypertable')) return true;
    const known = (name: string | undefined) => name !== undefined && (this.stale || this.names.has(name));
    if (s.type === 'TruncateStmt') return s.relations.some((r) => known(r.name));
    return (s.kind === 'dml' || (s.kind === 'copy' && s.copy?.from === true)) && known(s.relations[0]?.name);
  }

  /** Whether the statements name a known hypertable (false while the cache is stale). */
  reads(statements: readonly ClassifiedStatement[]): boolean {
    return !this.stale && statements.some((s) => s.relations.some((r) => this.names.has(r.name)));
  }

  get needsReload(): boolean {
    return this.stale;
  }

  get empty(): boolean {
    return this.names.size === 0;
  }

  /** Replaces the cache with the hypertable names read by HYPERTABLES_SQL (none when not installed). */
  reload(names: Iterable<string>): void {
    this.names = new Set(names);
    this.stale = false;
  }

  /** The SQL that drops the chunks of hypertables truncated since the last call, if any. */
  takeTruncated(): string | undefined {
    if (this.truncated.size === 0) return undefined;
    const calls = [...this.truncated].map((name) => `_timescaledb_functions.orbit_drop_empty_chunks(pg_catalog.to_regclass(${literal(name)}))`);
    this.truncated.clear();
    return `SELECT ${calls.join(', ')}`;
  }

  /** After a backend restart or an error reading the catalog. */
  invalidate(): void {
    this.stale = true;
  }
}
