/**
 * @module session/columnstore/cache-tables
 * The general read path over compressed chunks (docs/design/columnstore.md, "Reads"): statements that
 * read a hypertable with the columnstore enabled are rewritten to read a temporary cache table too
 * (sql/rewrite/columnstore-reads.ts, `pg_temp.orbit_cs_<id>`), and this module makes that table hold
 * exactly the rows of the compressed chunks, one inheriting child per chunk version, decoded from the
 * batches (copy-batches.ts). Children of versions no longer current are dropped by name (emptied
 * first while an open portal still reads them: `retire`), and
 * children the current statement does not read are dropped, least recently used first, when the
 * decoded rows would exceed the backend's budget (cache-budget.ts).
 */
import type { ColumnStore } from '../../columnstore/store.js';
import { cacheParentName, type ColumnstoreTable } from '../../sql/rewrite/columnstore-reads.js';
import type { ColumnstorePlan } from './statement-plans.js';
import { copyBatchesInto } from './copy-batches.js';
import { CacheBudget } from './cache-budget.js';
import { cacheRunner, firstError, jsonRows, must, quoteIdent, textRows, type InternalRunner } from '../internal-sql.js';
import { grantCacheSql } from '../roles.js';
import { quoteLiteral } from '../settings.js';
import { exactTimeSql } from './time-constants.js';
import { OrbitError } from '../../errors.js';
import { SqlState } from '../../sqlstate.js';

/** A session's cache tables, and which of them are known to match the catalog. */
export class CacheTables {
  /** Hypertables whose cache tables are known to match the catalog. */
  private readonly verified = new Set<number>();
  /** The children of each verified hypertable (a statement reading it reads them all). */
  private readonly childrenOf = new Map<number, readonly string[]>();
  private readonly budget: CacheBudget;

  constructor(
    private readonly store: ColumnStore,
    /** Bytes of decoded rows the children may take (exceeded only by what one statement reads). */
    budgetBytes: number,
  ) {
    this.budget = new CacheBudget(budgetBytes);
  }

  /** After anything that may have changed the compressed chunks or dropped temporary tables. */
  forget(): void {
    this.verified.clear();
    this.childrenOf.clear();
  }

  /**
   * Makes the cache tables of `tables` hold exactly the rows of their compressed chunks: creates
   * the parent (like the hypertable), drops children of versions no longer current, and creates and
   * fills the missing ones. `durable` says the work will outlive the current transaction (false
   * inside a transaction block, whose rollback would undo it). Without `fill`, only the parent.
   */
  async prepare(run: InternalRunner, tables: readonly ColumnstoreTable[], durable: boolean, ranges?: ColumnstorePlan['ranges'], fill = true): Promise<void> {
    if (fill) this.budget.begin();
    // Over the budget (a statement read more than it), verified tables are looked at again: this
    // statement's bounds may leave children to drop.
    const over = fill && this.budget.total() > this.budget.bytes;
    const todo = tables.filter((t) => over || !this.verified.has(t.id));
    for (const t of tables) if (!todo.includes(t)) for (const name of this.childrenOf.get(t.id) ?? []) this.budget.use(name);
    if (todo.length === 0) return;
    const ids = todo.map((t) => t.id).join(', ');
    const out = await must(run, `${LOCKED_SQL}; ${stateSql(ids)}`);
    const [locked, state] = jsonRows<unknown>(out) as [string[] | null, CacheState];
    const have = new Set((state.have ?? []).map((c) => c.name));
    const held = new Set(locked ?? []);
    this.budget.sync((state.have ?? []).filter((c) => CHILD.test(c.name)), [...held]);
    // Bounds are evaluated only outside a transaction block (in Orbit's own transaction): a failing
    // one must not abort the client's.
    const bounds = durable ? await evaluateBounds(run, ranges) : new Map<number, Array<{ op: string; v: bigint }>>();
    const owner = cacheRunner(run);
    for (const t of todo) {
      const parent = cacheParentName(t.id);
      const sig = state.signatures?.find((s) => s.id === t.id);
      if (!have.has(parent) || !sig || sig.table !== sig.cache) {
        await must(owner, `DROP TABLE IF EXISTS pg_temp.${parent} CASCADE`);
        // The hypertable's signature it is made from is its comment (its own attnums have no gaps).
        await must(owner, `CREATE TEMP TABLE ${parent} (LIKE ${quoteIdent(t.schema)}.${quoteIdent(t.name)} INCLUDING DEFAULTS); COMMENT ON TABLE pg_temp.${parent} IS ${quoteLiteral(sig?.table ?? '')}; ${grantCacheSql(`pg_temp.${parent}`)}`);
        for (const name of [...have]) {
          if (!name.startsWith(`${parent}_`)) continue;
          have.delete(name);
          this.budget.dropped(name);
        }
      }
      // Parsing a statement only needs the parent; its children are filled when it runs.
      if (!fill) continue;
      const wanted = (state.chunks ?? []).filter((c) => c.hypertable_id === t.id);
      // The store's chunk generation is in the name: a decompressed and recompressed chunk may get
      // the version number its old (and now different) batches had.
      const childName = (c: { chunk_id: number; manifest: string }) => `${parent}_${c.chunk_id}_v${versionOf(c.manifest)}_g${this.store.chunkGeneration(t.id, c.chunk_id)}`;
      const names = new Set(wanted.map(childName));
      /** A child of a version no longer current stayed (emptied): an open portal still reads it. */
      let stayed = false;
      for (const name of have) {
        if (!name.startsWith(`${parent}_`) || names.has(name)) continue;
        if (await this.retire(run, name, held)) {
          this.budget.dropped(name);
          have.delete(name);
        } else stayed = true;
      }
      const limits = bounds.get(t.id);
      // A chunk holds internal times range_start ≤ t < range_end.
      const reached = (c: { range_start: string; range_end: string }) => {
        const lo = BigInt(c.range_start);
        const hi = BigInt(c.range_end);
        return (limits ?? []).every(({ op, v }) =>
          op === '<' ? lo < v : op === '<=' ? lo <= v : op === '>' ? hi - 1n > v : op === '>=' ? hi > v : lo <= v && v < hi,
        );
      };
      for (const c of wanted) {
        const name = childName(c);
        if (!reached(c)) continue;
        this.budget.use(name);
        if (have.has(name)) continue;
        // Room is made before the fill (by the estimate) so that the peak stays near the budget too.
        const rows = (await this.store.readManifest(c.manifest)).rowCount;
        await this.evict(run, this.budget.victims(this.budget.estimate(t.id, rows)), have);
        const check = c.constraint ? `(CHECK (${c.constraint}))` : '()';
        await must(owner, `CREATE TEMP TABLE ${name} ${check} INHERITS (pg_temp.${parent})`);
        await copyBatchesInto(this.store, owner, { into: `pg_temp.${name}`, chunk: c.chunk, manifest: c.manifest, columnsOf: `pg_temp.${parent}` });
        const size = await must(owner, `ANALYZE pg_temp.${name}; SELECT pg_total_relation_size('pg_temp.${name}'::regclass)`);
        this.budget.filled(name, t.id, rows, Number(textRows(size)[0]![0]));
        have.add(name);
      }
      // With a child left to drop, the next statement looks again (the portal may be gone by then).
      if (durable && wanted.every(reached) && !stayed) {
        this.verified.add(t.id);
        this.childrenOf.set(t.id, [...names]);
      }
    }
    if (fill) await this.evict(run, this.budget.victims(0), have);
  }

  /**
   * Drops a child of a version no longer current; false when it stays. A child the transaction has
   * not locked (`held`) cannot be in use. One it has may be read by an open portal or cursor, which
   * keeps its snapshot from before the write that made the version stale: PostgreSQL refuses the
   * DROP (55006), so the child is emptied instead. The portal still sees its rows (MVCC), later
   * statements see none, and it is dropped by a statement after the portal is gone (its table is not
   * verified meanwhile). A ROLLBACK undoes the DELETE with the write, when its version is current
   * again. In a pipeline's implicit transaction no savepoint can catch the refusal: a locked child
   * is emptied at once, whether a portal reads it or not, and dropped by a statement after the Sync.
   */
  private async retire(run: InternalRunner, name: string, held: ReadonlySet<string>): Promise<boolean> {
    const owner = cacheRunner(run);
    if (!held.has(name)) {
      await must(owner, `DROP TABLE IF EXISTS pg_temp.${name}`);
      return true;
    }
    const error = run.pipeline ? SqlState.object_in_use : await dropInSavepoint(run, name);
    if (error === undefined) return true;
    if (error !== SqlState.object_in_use) throw new OrbitError(error, `could not drop cache table ${name}`);
    await must(owner, `DELETE FROM pg_temp.${name}`);
    return false;
  }

  /**
   * Drops children (neither read by the current statement nor locked by the transaction, so not in
   * use) to stay within the budget; one that fails to drop all the same stays until a later
   * statement (dropInSavepoint). Inside the client's transaction block a drop is undone with it,
   * and a rollback brings the child back: its hypertable is no longer verified, so the next
   * statement reads what exists from the catalog.
   */
  private async evict(run: InternalRunner, names: readonly string[], have: Set<string>): Promise<void> {
    for (const name of names) {
      const id = Number(CHILD.exec(name)![1]);
      this.verified.delete(id);
      this.childrenOf.delete(id);
      if ((await dropInSavepoint(run, name)) !== undefined) continue;
      this.budget.dropped(name);
      have.delete(name);
    }
  }
}

/**
 * Drops child `name` in a savepoint, so that a failure (55006: still in use) aborts nothing; its
 * SQLSTATE, or undefined once dropped. The savepoint is the session's (`run`), the drop the cache
 * tables' owner's: rolling back to it also undoes the owner's role switch, whose switch back a
 * failed drop skips. In a pipeline's implicit transaction the savepoint is left out (PostgreSQL
 * refuses it there: session/pipeline-transaction.ts) and a failure fails the client's statement.
 */
async function dropInSavepoint(run: InternalRunner, name: string): Promise<string | undefined> {
  const owner = cacheRunner(run);
  const drop = `DROP TABLE IF EXISTS pg_temp.${name}`;
  const out = owner === run ? await run.sql(`SAVEPOINT orbit_evict; ${drop}; RELEASE SAVEPOINT orbit_evict`) : await must(run, 'SAVEPOINT orbit_evict').then(() => owner.sql(drop));
  const error = firstError(out);
  if (error !== undefined) {
    await must(run, 'ROLLBACK TO SAVEPOINT orbit_evict; RELEASE SAVEPOINT orbit_evict');
    return error.C ?? SqlState.internal_error;
  }
  if (owner !== run) await must(run, 'RELEASE SAVEPOINT orbit_evict');
  return undefined;
}

/**
 * The cache tables the current transaction has locked: a portal bound but not yet run (or an open
 * cursor) may read them, and a statement earlier in the client's transaction block has read them.
 */
const LOCKED_SQL = `SELECT json_agg(DISTINCT c.relname) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
  WHERE l.locktype = 'relation' AND l.pid = pg_backend_pid() AND c.relnamespace = pg_my_temp_schema() AND c.relname LIKE 'orbit\\_cs\\_%'`;

/** A child's name (`orbit_cs_<hypertable>_<chunk>_v<version>_g<generation>`); group 1: the hypertable id. */
const CHILD = /^orbit_cs_(\d+)_\d+_v/;

/** Internal time (µs since 1970, integer time as is) of each time bound; none for a table whose bounds fail. */
async function evaluateBounds(run: InternalRunner, ranges: ColumnstorePlan['ranges']): Promise<Map<number, Array<{ op: string; v: bigint }>>> {
  const result = new Map<number, Array<{ op: string; v: bigint }>>();
  for (const [id, { table, filters }] of ranges ?? []) {
    const column = table.columns.find((c) => c.name === table.timeColumn)!;
    const integer = ['int2', 'int4', 'int8'].includes(column.typname);
    const exprs = filters.flatMap((f) =>
      // NULL (no bound: every chunk) for a constant whose cast would not compare as PostgreSQL does (time-constants.ts).
      f.op === 'in' ? [] : [exactTimeSql(f.sql, column.typname, integer ? `((${f.sql})::${column.type})::int8::text` : `(EXTRACT(EPOCH FROM (${f.sql})::${column.type}) * 1000000)::int8::text`)],
    );
    // In a savepoint: the caller's transaction (Orbit's own) goes on after a bound PostgreSQL rejects
    // or cannot make a bigint of ('-infinity'); the statement itself then reports its own error.
    const out = await run.sql(`SAVEPOINT orbit_bounds; SELECT json_build_array(${exprs.join(', ')})`);
    const failed = firstError(out) !== undefined;
    await must(run, failed ? 'ROLLBACK TO SAVEPOINT orbit_bounds; RELEASE SAVEPOINT orbit_bounds' : 'RELEASE SAVEPOINT orbit_bounds');
    if (failed) continue;
    const values = jsonRows<Array<string | null>>(out)[0]!;
    // A NULL bound (`time >= NULL`) keeps no row; PostgreSQL's WHERE says so, the ranges need not.
    if (values.some((v) => v === null)) continue;
    result.set(
      id,
      filters.flatMap((f) => (f.op === 'in' ? [] : [f.op])).map((op, i) => ({ op, v: BigInt(values[i]!) })),
    );
  }
  return result;
}

interface CacheState {
  chunks: Array<{ hypertable_id: number; chunk_id: number; chunk: string; manifest: string; constraint: string | null; range_start: string; range_end: string }> | null;
  /** Every orbit_cs_% temporary table, with its bytes. */
  have: Array<{ name: string; bytes: number }> | null;
  signatures: Array<{ id: number; table: string | null; cache: string | null }> | null;
}

/**
 * The compressed chunks of hypertables `ids`, the cache tables that exist, and column signatures:
 * the hypertable's (with attnums: a column dropped and added again with its name and type is
 * another column, whose cached values are stale) and the one its cache parent was made from.
 */
function stateSql(ids: string): string {
  const sig = (rel: string) =>
    `(SELECT string_agg(a.attnum || ' ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = ${rel} AND a.attnum > 0 AND NOT a.attisdropped)`;
  return `SELECT json_build_object(
  'chunks', (SELECT json_agg(json_build_object('hypertable_id', ch.hypertable_id, 'chunk_id', ch.id, 'chunk', format('%I.%I', ch.schema_name, ch.table_name), 'manifest', cc.manifest,
      'range_start', ch.range_start::text, 'range_end', ch.range_end::text,
      'constraint', pg_get_partition_constraintdef(format('%I.%I', ch.schema_name, ch.table_name)::regclass)))
    FROM _timescaledb_catalog.chunk ch JOIN _timescaledb_catalog.orbit_columnstore_chunk cc ON cc.id = ch.compressed_chunk_id
    WHERE ch.hypertable_id IN (${ids}) AND NOT ch.dropped),
  'have', (SELECT json_agg(json_build_object('name', c.relname, 'bytes', pg_total_relation_size(c.oid))) FROM pg_class c WHERE c.relnamespace = pg_my_temp_schema() AND c.relname LIKE 'orbit\\_cs\\_%'),
  'signatures', (SELECT json_agg(json_build_object('id', h.id, 'table', ${sig('h.relid')},
      'cache', (SELECT obj_description(c.oid, 'pg_class') FROM pg_class c WHERE c.relnamespace = pg_my_temp_schema() AND c.relname = 'orbit_cs_' || h.id)))
    FROM _timescaledb_catalog.hypertable h WHERE h.id IN (${ids})))`;
}

function versionOf(manifestKey: string): string {
  return manifestKey.split('/')[3] ?? '0';
}
