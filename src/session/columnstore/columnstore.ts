/**
 * @module session/columnstore/columnstore
 * The columnstore as the session layer runs it (docs/design/columnstore.md):
 *
 * - Plans. Which hypertables have the columnstore enabled, and what each statement needs from it
 *   (session/columnstore/statement-plans.ts): the general path's rewritten text, the chunks it
 *   writes, or one of the planner's fast-path shapes, which `runPlanned` runs.
 * - Conversions. `compress_chunk` / `decompress_chunk` record requests (catalog/extension/
 *   columnstore-chunks.ts); once the requesting transaction has committed, `processRequests` carries
 *   them out (session/columnstore/compression-requests.ts): compressing reads the chunk's rows with
 *   binary COPY, writes batches and a manifest to the storage adapter (durable first), then in one
 *   transaction empties the chunk table and points the chunk at the manifest; decompressing COPYs
 *   the batches back and clears the pointer. Objects no catalog row points at are swept afterwards.
 * - Reads. Statements that read a hypertable with the columnstore enabled are rewritten to read a
 *   temporary table too (sql/rewrite/columnstore-reads.ts); `prepareReads` makes sure that table
 *   holds exactly the rows of the compressed chunks, one inheriting child per chunk version
 *   (session/columnstore/cache-tables.ts).
 * - Writes. UPDATE, DELETE, MERGE and INSERT … ON CONFLICT on such a hypertable first decompress the
 *   batches their segmentby/time conditions can reach (session/columnstore/dml.ts; all of them when
 *   those cannot be read), within `timescaledb.max_tuples_decompressed_per_dml_transaction`.
 */
import { OrbitError } from '../../errors.js';
import type { ColumnStore } from '../../columnstore/store.js';
import type { KernelBackend } from '../../columnstore/kernels/index.js';
import type { ClassifiedStatement } from '../../sql/classify.js';
import type { AggregatePlan } from '../../sql/planner/aggregates.js';
import type { Fields } from '../../sql/rewrite/ast.js';
import type { LastPointPlan } from '../../sql/planner/last-point.js';
import { explainResultSql } from '../../sql/planner/explain.js';
import type { ColumnstoreTable } from '../../sql/rewrite/columnstore-reads.js';
import { lastPointCandidates, runAggregate, runLastPoint, type DirectRowsTarget } from './fast-path.js';
import { lastPointRows } from './last-point-rows.js';
import { decompressForWrite } from './dml.js';
import { aggregateLines, scanLines } from './explain.js';
import { runScan, type PrintedRows } from './scan.js';
import type { ValueOf } from '../../columnstore/pg-text.js';
import { boundBucketLimit, type BucketBound } from './bucket-limit.js';
import { ResultReuse } from './reuse.js';
import { CacheTables } from './cache-tables.js';
import { StatementPlanner, type ColumnstorePlan, type WriteTarget } from './statement-plans.js';
import { CompressionRequests } from './compression-requests.js';
import { FactsCache } from './facts.js';
import { cacheRunner, firstError, must, quoteIdent, textRows, type InternalRunner } from '../internal-sql.js';
import { grantCacheSql } from '../roles.js';
import { quoteLiteral } from '../settings.js';

export type { InternalRunner };

/** Statement types after which the set of columnstore hypertables, compressed chunks or views may differ. */
const CHANGES = new Set(['CreateExtensionStmt', 'AlterExtensionStmt', 'DropStmt', 'RenameStmt', 'AlterObjectSchemaStmt', 'AlterTableStmt', 'ViewStmt', 'CreateTableAsStmt', 'TruncateStmt', 'DiscardStmt', 'DoStmt']);
/** Functions whose calls change them. */
const CHANGING_FUNCTIONS = ['compress_chunk', 'decompress_chunk', 'drop_chunks', 'create_hypertable', 'set_chunk_time_interval', 'run_job'];
/** Calls that queue conversions. */
const CONVERTING = ['compress_chunk', 'decompress_chunk', 'convert_to_columnstore', 'convert_to_rowstore', 'run_job'];

export class Columnstore {
  /** Which hypertables have the columnstore, and what statements need (session/columnstore/statement-plans.ts). */
  private readonly planner = new StatementPlanner();
  /** The cache tables of the general read path (session/columnstore/cache-tables.ts). */
  private readonly cacheTables: CacheTables;
  /** Requests may be waiting (a statement called compress_chunk & co.). */
  private requestsPending = true;
  /** compress_chunk & co. carried out (session/columnstore/compression-requests.ts). */
  private readonly conversions: CompressionRequests;
  /** Hypertables whose scan table (`pg_temp.orbit_scan_<id>`) exists with their current columns. */
  private readonly scanTables = new Set<number>();
  /** Reuse of results across repeated statements (session/columnstore/reuse.ts). */
  private readonly reuse: ResultReuse;
  /**
   * Responses of statements that only describe a result (an aggregate's final statement over no
   * partial rows, the same text for every window and host of a statement shape), by runner,
   * session settings and text. Their RowDescription depends on the catalog (names resolved through
   * search_path, types) and the settings only: cleared with the metadata and on any DDL or utility
   * statement of any session, keyed by the settings.
   */
  private readonly descriptions = new Map<string, unknown>();

  constructor(
    readonly store: ColumnStore,
    private readonly kernels: KernelBackend,
    /** The row store's request count (rowstore/counted.ts), if it is counted. */
    requests?: () => number,
  ) {
    this.reuse = new ResultReuse(store, kernels);
    this.cacheTables = new CacheTables(store);
    this.conversions = new CompressionRequests(store);
    this.facts = new FactsCache(requests);
  }

  /** A direct COPY is writing batches; inside a transaction block its end may undo them. */
  private stalesAtTransactionEnd = false;

  /** Catalog and rowstore facts of the fast path's internal statements (session/columnstore/facts.ts). */
  private readonly facts: FactsCache;

  /** A direct COPY (session/direct-ingest/copy.ts) is about to write to the columnstore. */
  noteDirectWrite(inTransactionBlock: boolean): void {
    this.invalidate();
    if (inTransactionBlock) this.stalesAtTransactionEnd = true;
  }

  /** Records what statements about to run may change. */
  note(statements: readonly ClassifiedStatement[]): void {
    for (const s of statements) {
      if (s.kind === 'ddl' || s.kind === 'utility') this.descriptions.clear();
      if (this.stalesAtTransactionEnd && s.type === 'TransactionStmt') {
        this.stalesAtTransactionEnd = false;
        this.invalidate();
      }
      // A CALL's procedure is not among s.functions (run_job may drop chunks or queue conversions).
      const called = s.type === 'CallStmt' ? s.text.toLowerCase() : '';
      if (CHANGES.has(s.type) || CHANGING_FUNCTIONS.some((f) => s.functions.includes(f) || called.includes(f))) this.invalidate();
      // A statement naming a last-point candidates table may have changed its rows.
      if (s.relations.some((r) => r.name.startsWith('orbit_last_'))) this.reuse.forgetLastPoints();
      if (CONVERTING.some((f) => s.functions.includes(f)) || CONVERTING.some((f) => called.includes(f))) {
        this.requestsPending = true;
      }
    }
  }

  /** A statement is about to run whose effects cannot be read from its text (a job's). */
  expectChanges(): void {
    this.invalidate();
    this.requestsPending = true;
  }

  /** After a backend restart, DISCARD, or anything that may have dropped temporary tables. */
  invalidate(): void {
    this.descriptions.clear();
    this.facts.clear();
    this.planner.forget();
    this.cacheTables.forget();
    this.scanTables.clear();
    this.reuse.forgetLastPoints();
  }

  get hasRequests(): boolean {
    return this.requestsPending;
  }

  /**
   * The response of a statement that only describes a result (`DirectRows.describes`), run by
   * `run` once per key (`key`: the runner's kind, the session's settings key and the statement's
   * text) and kept while nothing that could change it ran. For sessions outside a transaction
   * block only (the response carries the transaction status). A failed run is not kept.
   */
  async described<T>(key: string, run: () => Promise<T>, keep: (response: T) => boolean): Promise<T> {
    const kept = this.descriptions.get(key);
    if (kept !== undefined) return kept as T;
    const response = await this.readOnly(run);
    if (keep(response)) {
      if (this.descriptions.size >= DESCRIPTIONS_KEPT) this.descriptions.clear();
      this.descriptions.set(key, response);
    }
    return response;
  }

  /**
   * Runs `request`, whose messages read no table and change nothing (Parse, Describe, a statement
   * over no rows): if it is the only request meanwhile, the kept facts stay still (facts.ts).
   */
  async readOnly<T>(request: () => Promise<T>): Promise<T> {
    const before = this.facts.count();
    const response = await request();
    this.facts.carry(before);
    return response;
  }

  /** See StatementPlanner.load (session/columnstore/statement-plans.ts). */
  load(run: InternalRunner): Promise<void> {
    return this.planner.load(run);
  }

  /** See StatementPlanner.mayConcern. */
  mayConcern(statements: readonly ClassifiedStatement[]): boolean {
    return this.planner.mayConcern(statements);
  }

  /** See StatementPlanner.plan. */
  plan(statement: ClassifiedStatement, fastPath = false): ColumnstorePlan {
    return this.planner.plan(statement, fastPath);
  }

  /**
   * Runs a plan's fast path (aggregate, last point, scan, EXPLAIN of them) and returns the statement
   * PostgreSQL runs instead; undefined when the chunks do not allow it after all (the caller takes
   * the general path). Outside a transaction block the work is one transaction; inside one, a
   * savepoint, released when the statement needs what it filled (the scan's temporary table).
   */
  async runPlanned(run: InternalRunner, plan: ColumnstorePlan, idle: boolean, onRows?: (rows: DirectRows) => void, values?: (oid: number) => ValueOf, guarded = false): Promise<string | null | undefined> {
    this.reuse.unguard();
    // Outside a transaction block, an aggregate or last point only reads (the catalog and constants,
    // one statement each): a failure aborts nothing and there is nothing to undo, so the BEGIN and
    // ROLLBACK round trips are skipped. No other session can run in between (this one holds the backend).
    if (idle && !plan.scan && !plan.explain) {
      if (plan.aggregate) {
        // Rows Orbit makes from the partials (no final statement); otherwise the final statement,
        // reused while its inputs are.
        if (onRows && plan.aggregate.direct) return this.aggregate(run, plan.aggregate, undefined, { onRows: (rows) => onRows({ ...rows, describes: true }), ...(values ? { values } : {}) }, run.settingsKey);
        return this.reuse.aggregate(run, plan.aggregate, guarded);
      }
      if (plan.lastPoint) {
        // Without reuse of results, every answer is a first one: its rows made here when they can
        // be (one round trip; with reuse, the candidates table kept for later answers instead).
        if (onRows && plan.lastPoint.output && !this.store.reuseResults) {
          const made = await lastPointRows(this.store, run, plan.lastPoint, values, this.facts, run.settingsKey);
          if (!made) return undefined;
          if (made.rows && made.sql !== undefined) {
            onRows(made.rows);
            return made.sql;
          }
          const candidates = await lastPointCandidates(this.store, plan.lastPoint, made.keys);
          return candidates === undefined ? undefined : plan.lastPoint.finalSql(candidates ?? undefined);
        }
        return this.reuse.lastPoint(run, plan.lastPoint, guarded);
      }
    }
    // A scan whose rows may be printed (outside a transaction block) reads only, until it needs its
    // temporary table: the transaction (BEGIN, TRUNCATE, COMMIT: three round trips) is opened then,
    // and not at all for printed rows.
    const lazy = idle && plan.scan !== undefined && onRows !== undefined && plan.explain === undefined;
    let opened = !lazy;
    if (opened) await must(run, idle ? 'BEGIN' : 'SAVEPOINT orbit_internal');
    let keep = false;
    let created: number | undefined;
    try {
      let sql: string | null | undefined;
      let lines: string[] = [];
      if (plan.scan) {
        const id = plan.scan.table.id;
        const temp = `pg_temp.orbit_scan_${id}`;
        const t = plan.scan.table;
        const prepareTemp = async (): Promise<boolean> => {
          if (!opened) {
            await must(run, 'BEGIN');
            opened = true;
          }
          const reuse = idle && this.scanTables.has(id);
          const ready = await cacheRunner(run).sql(
            reuse ? `TRUNCATE ${temp}` : `DROP TABLE IF EXISTS ${temp}; CREATE TEMP TABLE orbit_scan_${id} (LIKE ${quoteIdent(t.schema)}.${quoteIdent(t.name)} INCLUDING GENERATED); ` +
                  // Columns the statement does not name are left NULL.
                  `ALTER TABLE ${temp} ${t.columns.map((c) => `ALTER COLUMN ${quoteIdent(c.name)} DROP NOT NULL`).join(', ')}; ${grantCacheSql(temp)}`,
          );
          if (!reuse && idle) created = id;
          // No temporary table (no TEMP privilege, …): the general path.
          return !firstError(ready);
        };
        const direct = onRows !== undefined && plan.explain === undefined;
        const stats = lazy ? await runScan(this.store, run, plan.scan, temp, direct && (values ?? true), prepareTemp) : (await prepareTemp()) ? await runScan(this.store, run, plan.scan, temp, direct && (values ?? true)) : undefined;
        if (stats?.rows && direct) {
          // The statement runs as written (it then reads the rowstore's rows only); the caller
          // appends the compressed rows to its result.
          onRows(stats.rows);
          sql = null;
        } else if (stats) {
          sql = plan.scan.finalSql(temp);
          lines = scanLines(plan.scan, stats, temp, plan.explain?.timing ?? false);
        }
      } else if (plan.aggregate) {
        // ORDER BY the bucket LIMIT n: the kernels read only the buckets that can reach the result.
        const limited = plan.aggregate.bucketOrder ? await boundBucketLimit(this.store, this.kernels, run, plan.aggregate, undefined, this.facts) : undefined;
        sql = await this.aggregate(run, plan.aggregate, limited, onRows && !plan.explain ? { onRows, ...(values ? { values } : {}) } : undefined);
        if (sql !== undefined && plan.explain) lines = await aggregateLines(this.store, run, plan.aggregate, limited);
      } else if (plan.lastPoint) {
        sql = await runLastPoint(this.store, run, plan.lastPoint);
        if (sql !== undefined && plan.explain) lines = [`Orbit Columnstore Last Point on ${plan.lastPoint.table.name}`, `  Path: the newest batch(es) of each ${plan.lastPoint.segment} by the manifests' time maxima, plus the rowstore's last points`];
      }
      if (typeof sql === 'string' && plan.explain) {
        const out = await run.sql(`EXPLAIN ${plan.explain.sql} ${sql}`);
        // PostgreSQL's own error (of the statement it would run) comes from the general path.
        sql = firstError(out) ? undefined : explainResultSql(lines, textRows(out).map((r) => r[0] ?? ''), quoteLiteral);
      }
      keep = sql !== undefined && plan.scan !== undefined && plan.explain === undefined;
      return sql;
    } finally {
      if (!opened) {
        // Nothing was written: no transaction to end.
      } else if (idle) {
        await run.sql(keep ? 'COMMIT' : 'ROLLBACK');
        if (keep && created !== undefined) this.scanTables.add(created);
      } else await run.sql(keep ? 'RELEASE SAVEPOINT orbit_internal' : 'ROLLBACK TO SAVEPOINT orbit_internal; RELEASE SAVEPOINT orbit_internal');
    }
  }

  /**
   * An aggregate in the kernels; ORDER BY the bucket LIMIT n first bounds the buckets they read
   * (session/columnstore/bucket-limit.ts), whose query also evaluates the kernels' inputs.
   * `quietKey`: outside a transaction block, the session's settings key (runAggregate).
   */
  private async aggregate(run: InternalRunner, plan: AggregatePlan, limited?: BucketBound, direct?: DirectRowsTarget, quietKey?: string): Promise<string | undefined> {
    limited ??= plan.bucketOrder ? await boundBucketLimit(this.store, this.kernels, run, plan, undefined, this.facts) : undefined;
    if (limited?.evaluated) return runAggregate(this.store, this.kernels, run, plan, limited.evaluated, direct);
    return runAggregate(this.store, this.kernels, run, limited?.plan ?? plan, undefined, direct, this.facts, quietKey);
  }

  /** See ResultReuse.retryStale. */
  retryStale(message: () => string | undefined): boolean {
    return this.reuse.retryStale(message);
  }

  /** See StatementPlanner.notePreparedWrite. */
  notePreparedWrite(node: Fields): void {
    this.planner.notePreparedWrite(node);
  }

  // ---- conversions ----------------------------------------------------------------------------

  /** See CompressionRequests.process (session/columnstore/compression-requests.ts). */
  processRequests(run: InternalRunner): Promise<OrbitError[]> {
    this.requestsPending = false;
    return this.conversions.process(run, () => this.invalidate());
  }

  // ---- writes ---------------------------------------------------------------------------------

  /** See decompressForWrite (session/columnstore/dml.ts). */
  decompressForWrite(run: InternalRunner, tables: readonly WriteTarget[]): Promise<void> {
    return decompressForWrite(this.store, run, tables, () => this.invalidate());
  }

  /** Aggregates in the kernels (session/columnstore/fast-path.ts); `idle`: outside a transaction block (kept facts may spare the round trip). */
  runAggregate(run: InternalRunner, plan: AggregatePlan, idle: boolean): Promise<string | undefined> {
    return runAggregate(this.store, this.kernels, run, plan, undefined, undefined, this.facts, idle ? run.settingsKey : undefined);
  }

  /** The last point per segment from the newest batches (session/columnstore/fast-path.ts). */
  runLastPoint(run: InternalRunner, plan: LastPointPlan): Promise<string | undefined> {
    return runLastPoint(this.store, run, plan);
  }

  // ---- reads ----------------------------------------------------------------------------------

  /** See CacheTables.prepare (session/columnstore/cache-tables.ts). */
  prepareReads(run: InternalRunner, tables: readonly ColumnstoreTable[], durable: boolean, ranges?: ColumnstorePlan['ranges'], fill = true): Promise<void> {
    return this.cacheTables.prepare(run, tables, durable, ranges, fill);
  }
}

/**
 * Compressed rows of a scan as DataRow messages (text format), for the caller to add to the result.
 * `describes`: the statement to run only describes the result (an aggregate's final statement over
 * no partial rows); its response may come from `Columnstore.described`.
 */
export type DirectRows = PrintedRows & { readonly describes?: true };

/** Most responses kept by `Columnstore.described` (one per statement shape and settings in use). */
const DESCRIPTIONS_KEPT = 256;
