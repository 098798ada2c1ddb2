/**
 * @module session/columnstore/columnstore
 * The columnstore as the session layer runs it (docs/design/columnstore.md):
 *
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
import { deparseExpr, isConstant, planAggregate, timeFilters, writeFilters, type AggregatePlan, type ConstantFilter, type PlannerTable } from '../../sql/planner/aggregates.js';
import type { Fields, Node } from '../../sql/rewrite/ast.js';
import { planLastPoint, type LastPointPlan } from '../../sql/planner/last-point.js';
import { explainOptions, explainResultSql, type ExplainOptions } from '../../sql/planner/explain.js';
import { planScan, type ScanPlan } from '../../sql/planner/scan.js';
import { namesSystemColumn, readsOnly, rewriteColumnstoreReads, type ColumnstoreTable } from '../../sql/rewrite/columnstore-reads.js';
import { SqlState } from '../../sqlstate.js';
import { lastPointCandidates, runAggregate, runLastPoint, type DirectRowsTarget } from './fast-path.js';
import { lastPointRows } from './last-point-rows.js';
import { decompressForWrite } from './dml.js';
import { aggregateLines, scanLines } from './explain.js';
import { runScan, type PrintedRows } from './scan.js';
import type { ValueOf } from '../../columnstore/pg-text.js';
import { boundBucketLimit, type BucketBound } from './bucket-limit.js';
import { ResultReuse } from './reuse.js';
import { CacheTables } from './cache-tables.js';
import { CompressionRequests } from './compression-requests.js';
import { FactsCache } from './facts.js';
import { INSTALLED_SQL } from '../hypertable-routing.js';
import { cacheRunner, firstError, jsonRows, must, quoteIdent, textRows, type InternalRunner } from '../internal-sql.js';
import { grantCacheSql } from '../roles.js';
import { quoteLiteral } from '../settings.js';

export type { InternalRunner };

/** Statement types after which the set of columnstore hypertables, compressed chunks or views may differ. */
const CHANGES = new Set(['CreateExtensionStmt', 'AlterExtensionStmt', 'DropStmt', 'RenameStmt', 'AlterObjectSchemaStmt', 'AlterTableStmt', 'ViewStmt', 'CreateTableAsStmt', 'TruncateStmt', 'DiscardStmt', 'DoStmt']);
/** Functions whose calls change them. */
const CHANGING_FUNCTIONS = ['compress_chunk', 'decompress_chunk', 'drop_chunks', 'create_hypertable', 'set_chunk_time_interval', 'run_job'];
/** Calls that queue conversions. */
const CONVERTING = ['compress_chunk', 'decompress_chunk', 'convert_to_columnstore', 'convert_to_rowstore', 'run_job'];

type TableInfo = PlannerTable & { compressed: boolean; unique: boolean };

interface Metadata {
  tables: TableInfo[];
  chunks: string[];
  views: string[];
}

export class Columnstore {
  private stale = true;
  private tables = new Map<string, TableInfo[]>();
  /** Names of compressed chunk tables (read by name: refused). */
  private compressedChunks = new Set<string>();
  /** Views (and materialized views) over hypertables with compressed chunks. */
  private views = new Set<string>();
  /** The cache tables of the general read path (session/columnstore/cache-tables.ts). */
  private readonly cacheTables: CacheTables;
  /** Requests may be waiting (a statement called compress_chunk & co.). */
  private requestsPending = true;
  /** compress_chunk & co. carried out (session/columnstore/compression-requests.ts). */
  private readonly conversions: CompressionRequests;
  /** Aggregate and last-point plans by parse tree, valid while `tables` is the map they were made from. */
  private readonly plans = new WeakMap<Fields, { tables: Map<string, TableInfo[]>; aggregate?: AggregatePlan; lastPoint?: LastPointPlan }>();
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
    this.stale = true;
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

  /** Loads which hypertables have the columnstore enabled (when stale). */
  async load(run: InternalRunner): Promise<void> {
    if (!this.stale) return;
    // A failing lookup would abort the client's transaction block: ask only once the extension is there.
    const installed = await run.sql(INSTALLED_SQL);
    if (textRows(installed).length === 0) {
      this.tables = new Map();
      this.compressedChunks = new Set();
      this.views = new Set();
      this.stale = firstError(installed) !== undefined;
      return;
    }
    const out = await run.sql(METADATA_SQL);
    const error = firstError(out);
    const json = error ? undefined : jsonRows<Metadata>(out)[0];
    this.tables = new Map();
    this.compressedChunks = new Set(json?.chunks ?? []);
    this.views = new Set(json?.views ?? []);
    for (const t of json?.tables ?? []) {
      const list = this.tables.get(t.name) ?? [];
      list.push(t);
      this.tables.set(t.name, list);
    }
    // A failed lookup (aborted transaction) is retried at the next statement.
    this.stale = error !== undefined;
  }

  /** Whether any statement may touch the columnstore (cheap test before loading). */
  mayConcern(statements: readonly ClassifiedStatement[]): boolean {
    if (this.stale) return statements.some((s) => s.relations.length > 0 || s.type === 'ExecuteStmt');
    return statements.some(
      (s) =>
        (s.type === 'ExecuteStmt' && this.tables.size > 0) ||
        s.relations.some((r) => this.tables.has(r.name) || this.views.has(r.name) || this.compressedChunks.has(r.name)),
    );
  }

  private lookup = (schema: string | undefined, name: string): ColumnstoreTable | undefined =>
    this.tables.get(name)?.find((t) => schema === undefined || t.schema === schema);

  /**
   * What a statement needs before it runs: its rewritten text (undefined: run as is), the
   * hypertables whose cache tables it reads, and those whose compressed chunks it writes.
   * Throws 0A000 for reads Orbit cannot make see compressed rows.
   */
  plan(statement: ClassifiedStatement, fastPath = false): ColumnstorePlan {
    for (const r of statement.relations) {
      if (this.views.has(r.name) && statement.type !== 'DropStmt') {
        throw new OrbitError(SqlState.feature_not_supported, `reading view "${r.name}" over a hypertable with chunks in the columnstore is not supported by Orbit`, {
          hint: 'Query the hypertable directly, or convert its chunks back to the rowstore (decompress_chunk).',
        });
      }
      if (this.compressedChunks.has(r.name) && isRead(statement)) {
        throw new OrbitError(SqlState.feature_not_supported, `reading chunk "${r.name}" by name while it is in the columnstore is not supported by Orbit`, {
          hint: 'Query the hypertable, or convert the chunk back to the rowstore (decompress_chunk).',
        });
      }
    }
    const writes: WriteTarget[] = [];
    const target = statement.node.relation as { schemaname?: string; relname?: string } | undefined;
    const t = target?.relname ? this.tables.get(target.relname)?.find((x) => (target.schemaname === undefined || x.schema === target.schemaname) && x.compressed) : undefined;
    if (t && (statement.type === 'UpdateStmt' || statement.type === 'DeleteStmt' || statement.type === 'MergeStmt')) {
      // With a unique index, an UPDATE's or MERGE's new rows could conflict with rows of any batch.
      const functions = new Set<string>();
      const filters = t.unique && statement.type !== 'DeleteStmt' ? undefined : writeFilters(statement.type, statement.node, t, functions);
      writes.push(filters ? { ...t, filters, functions } : t);
    }
    // Rows inserted where compressed rows may conflict with them (a unique index, ON CONFLICT): the
    // compressed chunks their times fall in are decompressed first, or all of them when the times
    // are not constants Orbit can read off the statement (INSERT … SELECT, COPY).
    const inserting = (statement.type === 'InsertStmt' && (t?.unique || statement.node.onConflictClause !== undefined)) || (statement.type === 'CopyStmt' && statement.node.is_from && t?.unique);
    if (t && inserting) {
      const times = statement.type === 'InsertStmt' ? insertedTimes(statement.node, t) : undefined;
      writes.push(times ? { ...t, times, inserting: true } : { ...t, inserting: true });
    }
    if (statement.type === 'AlterTableStmt' || statement.type === 'RenameStmt') {
      const rel = statement.relations[0];
      const t = rel ? this.lookup(rel.schema, rel.name) : undefined;
      if (t && this.tables.get(t.name)?.find((x) => x.id === t.id)?.compressed && changesColumns(statement)) {
        throw new OrbitError(SqlState.feature_not_supported, `renaming or changing the type of columns of hypertable "${t.name}" while it has chunks in the columnstore is not supported by Orbit`, {
          hint: 'Convert its chunks back to the rowstore (decompress_chunk) first.',
        });
      }
    }
    // EXECUTE of a statement PREPAREd (and rewritten) earlier: its cache tables may be stale.
    if (statement.type === 'ExecuteStmt') {
      // A prepared UPDATE/DELETE/MERGE (or conflicting INSERT) writes the compressed chunks of its
      // target: they are decompressed whole (its parameters are unknown here).
      const w = this.preparedWrites.get(String(statement.node.name));
      const targets = w
        ? (this.tables.get(w.name) ?? []).filter((t) => (w.schema === undefined || t.schema === w.schema) && t.compressed && (!w.insert || t.unique || w.onConflict))
        : [];
      return { reads: [...this.tables.values()].flat(), writes: [...writes, ...targets] };
    }
    if (fastPath) {
      const fast = this.planFast(statement);
      if (fast) return { reads: [], writes, ...fast };
    }
    const rewritten = rewriteColumnstoreReads(statement.type, statement.node, this.lookup);
    const reads = [...(rewritten?.tables ?? [])];
    // A lone SELECT of one hypertable with time bounds only needs the compressed chunks they reach.
    const only = reads.length === 1 ? this.tables.get(reads[0]!.name)?.find((t) => t.id === reads[0]!.id) : undefined;
    const filters = only && statement.relations.filter((r) => r.name === only.name).length === 1 ? timeFilters(statement.type, statement.node, only) : undefined;
    return {
      ...(rewritten ? { sql: rewritten.sql } : {}),
      reads,
      writes,
      ...(filters && only ? { ranges: new Map([[only.id, { table: only, filters }]]) } : {}),
    };
  }

  /**
   * The planner's shapes over compressed chunks (statements run at once only): aggregates in the
   * kernels, last points, scans of the batches a WHERE can match; and EXPLAIN of those.
   */
  private planFast(statement: ClassifiedStatement): Pick<ColumnstorePlan, 'aggregate' | 'lastPoint' | 'scan' | 'explain'> | undefined {
    const compressed = (schema: string | undefined, name: string) => this.tables.get(name)?.find((t) => (schema === undefined || t.schema === schema) && t.compressed);
    if (readsOnly(statement.node, compressed) || namesSystemColumn(statement.node)) return undefined;
    if (statement.type === 'ExplainStmt') {
      const explain = explainOptions(statement.node);
      const query = statement.node.query as Node | undefined;
      const type = query ? Object.keys(query)[0] : undefined;
      if (!explain || !type) return undefined;
      const inner = this.planFast({ ...statement, type, node: query![type] as Fields });
      return inner && !inner.explain ? { ...inner, explain } : undefined;
    }
    // Parsed statements are shared by text (session/statement-cache.ts), so a plan is kept with its
    // parse tree for as long as the hypertables' metadata it was made from (`load` replaces it).
    let cached = this.plans.get(statement.node);
    if (cached?.tables !== this.tables) {
      const aggregate = planAggregate(statement.type, statement.node, compressed);
      const lastPoint = aggregate ? undefined : planLastPoint(statement.type, statement.node, compressed);
      cached = { tables: this.tables, ...(aggregate ? { aggregate } : {}), ...(lastPoint ? { lastPoint } : {}) };
      this.plans.set(statement.node, cached);
    }
    if (cached.aggregate) return { aggregate: cached.aggregate };
    if (cached.lastPoint) return { lastPoint: cached.lastPoint };
    const scan = planScan(statement.type, statement.node, compressed);
    // The hypertable named once (nothing else of the statement reads it), and no other hypertable
    // with compressed chunks in subqueries (only the general path shows those their rows).
    const others = statement.relations.filter((r) => r.name !== scan?.table.name);
    if (scan && statement.relations.length - others.length === 1 && !others.some((r) => this.tables.get(r.name)?.some((t) => t.compressed))) return { scan };
    return undefined;
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

  /** Prepared statements (SQL PREPARE, by backend name) that write a hypertable. */
  private readonly preparedWrites = new Map<string, { schema?: string; name: string; insert: boolean; onConflict: boolean }>();

  /** Records a SQL PREPARE whose statement writes a table (its EXECUTE then decompresses first). */
  notePreparedWrite(node: Fields): void {
    const query = node.query as Record<string, Fields> | undefined;
    const type = query ? Object.keys(query)[0] : undefined;
    if (!type || !['UpdateStmt', 'DeleteStmt', 'MergeStmt', 'InsertStmt'].includes(type)) return;
    const inner = query![type]!;
    const rel = inner.relation as { schemaname?: string; relname?: string } | undefined;
    if (!rel?.relname) return;
    this.preparedWrites.set(String(node.name), {
      ...(rel.schemaname ? { schema: rel.schemaname } : {}),
      name: rel.relname,
      insert: type === 'InsertStmt',
      onConflict: inner.onConflictClause !== undefined,
    });
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

/** A hypertable a statement writes; `times`: SQL of the inserted rows' times when known. */
export type WriteTarget = TableInfo & {
  readonly times?: readonly string[];
  /** UPDATE/DELETE/MERGE: comparisons bounding the rows it touches, and the functions they call. */
  readonly filters?: readonly ConstantFilter[];
  readonly functions?: ReadonlySet<string>;
  readonly inserting?: boolean;
};

/**
 * The time of every row of an `INSERT … VALUES` as SQL constants, or undefined when one is not a
 * constant Orbit can read off the statement (then every compressed chunk may be hit).
 */
function insertedTimes(node: Fields, table: TableInfo): string[] | undefined {
  const select = (node.selectStmt as Node | undefined)?.SelectStmt as Fields | undefined;
  const lists = select?.valuesLists as Node[] | undefined;
  if (!lists || select!.withClause) return undefined;
  const cols = (node.cols as Node[] | undefined)?.map((c) => (c.ResTarget as Fields).name as string);
  const index = cols ? cols.indexOf(table.timeColumn) : table.columns.findIndex((c) => c.name === table.timeColumn);
  if (index < 0) return undefined;
  const out: string[] = [];
  for (const row of lists) {
    const expr = ((row.List as Fields | undefined)?.items as Node[] | undefined)?.[index];
    if (!expr || !isConstant(expr)) return undefined;
    out.push(deparseExpr(expr));
  }
  return out;
}

/**
 * Compressed rows of a scan as DataRow messages (text format), for the caller to add to the result.
 * `describes`: the statement to run only describes the result (an aggregate's final statement over
 * no partial rows); its response may come from `Columnstore.described`.
 */
export type DirectRows = PrintedRows & { readonly describes?: true };

/** Most responses kept by `Columnstore.described` (one per statement shape and settings in use). */
const DESCRIPTIONS_KEPT = 256;

export interface ColumnstorePlan {
  /** The statement rewritten for the cache tables (undefined: as it is). */
  readonly sql?: string;
  readonly reads: readonly ColumnstoreTable[];
  readonly writes: readonly WriteTarget[];
  /** An aggregate the kernels take (then reads/writes are empty). */
  readonly aggregate?: AggregatePlan;
  /** A last-point query answered from the newest batches. */
  readonly lastPoint?: LastPointPlan;
  /** A row-returning read of the batches its WHERE can match. */
  readonly scan?: ScanPlan;
  /** EXPLAIN of the statement that `aggregate`, `lastPoint` or `scan` plans. */
  readonly explain?: ExplainOptions;
  /** Per hypertable read: the time bounds of the rows the statement can see. */
  readonly ranges?: ReadonlyMap<number, { readonly table: PlannerTable; readonly filters: readonly ConstantFilter[] }>;
}

const METADATA_SQL = `SELECT json_build_object(
  'tables', (SELECT json_agg(json_build_object('id', h.id, 'schema', h.schema_name, 'name', h.table_name,
      'compressed', EXISTS (SELECT FROM _timescaledb_catalog.chunk ch WHERE ch.hypertable_id = h.id AND ch.compressed_chunk_id IS NOT NULL AND NOT ch.dropped),
      'timeColumn', (SELECT d.column_name FROM _timescaledb_catalog.dimension d WHERE d.hypertable_id = h.id AND d.interval_length IS NOT NULL ORDER BY d.id LIMIT 1),
      'segmentBy', coalesce((SELECT s.segmentby FROM _timescaledb_catalog.compression_settings s WHERE s.hypertable_id = h.id), '{}'),
      'unique', EXISTS (SELECT FROM pg_index i WHERE i.indrelid = h.relid AND i.indisunique),
      'columns', (SELECT json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'typname', t.typname) ORDER BY a.attnum)
        FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = h.relid AND a.attnum > 0 AND NOT a.attisdropped)))
    FROM _timescaledb_catalog.hypertable h WHERE h.compression_state = 1),
  'chunks', (SELECT json_agg(ch.table_name) FROM _timescaledb_catalog.chunk ch WHERE ch.compressed_chunk_id IS NOT NULL AND NOT ch.dropped),
  'views', (WITH RECURSIVE deps(oid) AS (
      SELECT h.relid FROM _timescaledb_catalog.hypertable h
        WHERE EXISTS (SELECT FROM _timescaledb_catalog.chunk ch WHERE ch.hypertable_id = h.id AND ch.compressed_chunk_id IS NOT NULL AND NOT ch.dropped)
      UNION
      SELECT r.ev_class FROM deps JOIN pg_depend d ON d.refobjid = deps.oid AND d.classid = 'pg_rewrite'::regclass
        JOIN pg_rewrite r ON r.oid = d.objid WHERE r.ev_class <> deps.oid)
    SELECT json_agg(c.relname) FROM pg_class c WHERE c.oid IN (SELECT oid FROM deps) AND c.relkind IN ('v', 'm')))`;

function isRead(s: ClassifiedStatement): boolean {
  return !['DropStmt', 'TruncateStmt', 'AlterTableStmt', 'RenameStmt', 'IndexStmt', 'CommentStmt', 'GrantStmt', 'VacuumStmt', 'LockStmt'].includes(s.type);
}

/** ALTER TABLE … ALTER COLUMN … TYPE, or RENAME COLUMN. */
function changesColumns(s: ClassifiedStatement): boolean {
  if (s.type === 'RenameStmt') return s.node.renameType === 'OBJECT_COLUMN';
  const cmds = (s.node.cmds as Array<{ AlterTableCmd?: { subtype?: string } }> | undefined) ?? [];
  return cmds.some((c) => c.AlterTableCmd?.subtype === 'AT_AlterColumnType');
}
