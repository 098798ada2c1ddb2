/**
 * @module edge/engine
 * The edge profile's engine: PostgreSQL's parser (libpg-query), Orbit's catalog and write buffer in
 * Durable Object SQLite, and the columnstore for sealed batches, without PGlite. It runs the
 * statements edge users need (CREATE TABLE, the hypertable/columnstore API, INSERT, time-series
 * SELECTs, show_chunks/drop_chunks, SET/SHOW) and answers every other statement with SQLSTATE
 * 0A000 naming it.
 *
 * Durability: an INSERT is acknowledged once its rows are committed to the DO SQLite write buffer
 * (one transaction per statement). A chunk's buffer is sealed into column batches (ColumnStore)
 * when it reaches `sealRows`; the batches are written first and the catalog then points at them
 * and drops the sealed rows in one transaction, so a crash in between leaves only orphan objects,
 * which `open` sweeps.
 */
import { ColumnStore } from '../columnstore/store.js';
import { decodeManifest, type Manifest } from '../columnstore/manifest.js';
import type { ChunkTransfer } from './chunk-transfer.js';
import { allocColumn, type Column, type PgType } from '../columnstore/columns.js';
import type { CodecBackend } from '../columnstore/codecs/index.js';
import type { Predicate } from '../columnstore/manifest.js';
import { batchesMatching } from '../columnstore/manifest.js';
import { orbitError, OrbitError } from '../errors.js';
import { loadParser } from '../sql/parser.js';
import { edgeStatements, SplitMismatch, type EdgeStatement } from './statements.js';
import { DurableObjectStorage, type DurableObjectStorageLike } from '../storage/durable-object.js';
import { JsAggregates, type AggregateEngine } from './aggregates.js';
import { EdgeCatalog, toInternal, type Chunk, type Hypertable, type TableDef } from './catalog.js';
import { changesCatalog, runDdl } from './ddl.js';
import { nextJobAt, runRetentionJobs } from './retention.js';
import { compile, funcName as funcNameOf, notAtEdge, unwrap, type Node, type Scope } from './expr.js';
import { planCopy, type CopyPlan } from './copy.js';
import { EdgeCopyIn } from './copy-in.js';
import { runInsert } from './insert.js';
import { executeSelect, type PushedGroups, type ResultField, type TimeBound } from './select.js';
import { emptyPartials } from '../columnstore/kernels/partials.js';
import { aggregateChunk, mergePartials, type AggregateSpec as KernelSpec, type Partials } from '../columnstore/kernels/index.js';
import { concatColumns, mergeCandidates } from './compaction.js';
import { bufferedPartials, groupColumns, KernelAggregates, resolveForTable } from './kernel-aggregates.js';
import type { PushdownPlan } from './pushdown.js';
import { MAX_SHARDS, shardKey, type ShardChunk, type ShardRouter, type ShardRows, type ShardTable } from './shards.js';
import { EdgeSettings } from './settings.js';
import { typeLabel, type EdgeType, type Value } from './values.js';

export interface EdgeEngineOptions {
  /** The Durable Object's storage (`ctx.storage`). */
  readonly storage: DurableObjectStorageLike;
  /** Codecs for the column batches (WasmBackend from the Worker's compiled codecs.wasm). */
  readonly codecs: CodecBackend;
  /** Aggregate computation; defaults to the TypeScript implementation. */
  readonly aggregates?: AggregateEngine;
  /** Buffered rows of one chunk that trigger a seal into batches (default 1,000, one batch). */
  readonly sealRows?: number;
  /**
   * Bytes of encoded batches cached in memory (default 8 MiB: the isolate has 128 MB in all, the
   * parser takes 34–41 MiB, and DO SQLite reads batches at 100+ MB/s, edge_probe.md §3).
   */
  readonly cacheBytes?: number;
  /**
   * Decoded values one SELECT's row path may hold (rows × columns read; default 250,000). Measured in
   * workerd: a row-path query over 648,000 values (216,000 rows × 3 columns, sorted) took the JS heap
   * to ~100 MiB used, about 150 B per value with the executor's copies, beside the parser's 34–41
   * MiB of WASM memory. So a scan past the budget fails with 54000 rather than running the isolate
   * out of its 128 MB.
   */
  readonly maxScanValues?: number;
  /**
   * Shard objects for hypertables set to `orbit.shards` (docs/runtimes/workers.md, "Scale-out"):
   * the router, and this object's unique prefix for its shards' keys.
   */
  readonly shards?: { readonly router: ShardRouter; readonly prefix: string };
}

/**
 * Values a seal merge decodes at most (rows × columns): merged rows are typed arrays (8 B a number,
 * one reference a string), ~8–10 MB at this size, so a 20-column chunk merges up to 50,000 rows.
 */
const MERGE_VALUES = 1_000_000;
/** Buffered values sealed in one pass (the rest in further passes). */
const SEAL_VALUES = 250_000;

/** The data of a `COPY … FROM STDIN`: whole, or chunks read as they arrive. */
export type CopyData = string | AsyncIterable<Uint8Array>;

/** One statement's result, before text formatting. */
export interface StatementResult {
  /** The CommandComplete tag, e.g. `SELECT 3`, `INSERT 0 2`. */
  readonly command: string;
  /** Absent for statements that return no rows (NoData). */
  readonly fields?: ResultField[];
  readonly rows: Value[][];
}

/** Statement node types → the command PostgreSQL names them by, for the 0A000 message. */
const COMMAND_NAMES: Record<string, string> = {
  CreateStmt: 'CREATE TABLE',
  DropStmt: 'DROP',
  AlterTableStmt: 'ALTER TABLE',
  CreateExtensionStmt: 'CREATE EXTENSION',
  VariableSetStmt: 'SET',
  SelectStmt: 'a TimescaleDB function that changes the catalog',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
  CopyStmt: 'COPY',
  CreateTableAsStmt: 'CREATE TABLE AS / CREATE MATERIALIZED VIEW',
  ViewStmt: 'CREATE VIEW',
  IndexStmt: 'CREATE INDEX',
  TransactionStmt: 'transaction control',
  TruncateStmt: 'TRUNCATE',
  CreateFunctionStmt: 'CREATE FUNCTION',
  CreateSchemaStmt: 'CREATE SCHEMA',
  PrepareStmt: 'PREPARE',
  ExecuteStmt: 'EXECUTE',
  DeallocateStmt: 'DEALLOCATE',
  ListenStmt: 'LISTEN',
  NotifyStmt: 'NOTIFY',
  UnlistenStmt: 'UNLISTEN',
  DoStmt: 'DO',
  CallStmt: 'CALL',
  ExplainStmt: 'EXPLAIN',
  VacuumStmt: 'VACUUM',
  GrantStmt: 'GRANT',
  CreateRoleStmt: 'CREATE ROLE',
  CreateSeqStmt: 'CREATE SEQUENCE',
  RefreshMatViewStmt: 'REFRESH MATERIALIZED VIEW',
};

const PG_TYPES: Partial<Record<EdgeType, PgType>> = {
  bool: 'bool', int2: 'int2', int4: 'int4', int8: 'int8', float4: 'float4', float8: 'float8', numeric: 'numeric',
  text: 'text', varchar: 'varchar', timestamptz: 'timestamptz', timestamp: 'timestamp', date: 'date',
};

/**
 * A transaction block: INSERT and COPY rows are staged in memory and buffered in one SQLite
 * transaction at COMMIT (ROLLBACK and ROLLBACK TO SAVEPOINT drop them). Other writes (DDL, API
 * functions that change the catalog) and reads of a table with staged rows are 0A000 inside a block,
 * so no statement ever sees a state PostgreSQL would not show it.
 */
interface Transaction {
  readonly staged: Array<{ table: TableDef; rows: Value[][] }>;
  readonly savepoints: Array<{ name: string; at: number }>;
  failed: boolean;
}

/** Statements a transaction block may contain. */
const IN_BLOCK = new Set(['SelectStmt', 'InsertStmt', 'CopyStmt', 'TransactionStmt', 'VariableShowStmt']);

export class EdgeEngine {
  readonly catalog: EdgeCatalog;
  readonly columnstore: ColumnStore;
  readonly settings = new EdgeSettings();
  readonly aggregates: AggregateEngine;
  private readonly sealRows: number;
  private readonly maxScanValues: number;
  private txn: Transaction | undefined;
  private readonly shards: EdgeEngineOptions['shards'];

  private constructor(options: EdgeEngineOptions) {
    this.shards = options.shards;
    this.catalog = new EdgeCatalog(options.storage);
    this.columnstore = new ColumnStore(new DurableObjectStorage(options.storage), options.codecs, { cacheBytes: options.cacheBytes ?? 8 << 20 });
    this.aggregates = options.aggregates ?? new JsAggregates();
    this.sealRows = options.sealRows ?? 1000;
    this.maxScanValues = options.maxScanValues ?? 250_000;
  }

  static async open(options: EdgeEngineOptions): Promise<EdgeEngine> {
    await loadParser();
    const engine = new EdgeEngine(options);
    // Objects of seals that crashed before their catalog commit, and rows of a COPY a restart cut short.
    await engine.columnstore.sweep(engine.catalog.allManifestKeys());
    engine.catalog.clearStaged();
    return engine;
  }

  /**
   * Runs every statement of `sql` in order; stops at the first error (earlier statements stay done).
   * `stdin` is the data of a `COPY … FROM STDIN` among them: whole, or a stream read as it arrives.
   */
  async execute(sql: string, params: readonly (string | null)[] = [], stdin?: CopyData): Promise<StatementResult[]> {
    const { count, statements } = edgeStatements(sql);
    if (params.length > 0 && count > 1) throw orbitError('syntax_error', 'cannot insert multiple commands into a prepared statement');
    const out: StatementResult[] = [];
    for (const s of statements) out.push(await this.run(s, params, stdin));
    return out;
  }

  /** Runs one statement of edgeStatements(); a split INSERT whose groups do not parse as expected runs parsed whole. */
  async run(s: EdgeStatement, params: readonly (string | null)[], stdin?: CopyData): Promise<StatementResult> {
    try {
      return await this.statement(s.type, s.node, params, stdin, s.valueGroups);
    } catch (err) {
      if (!(err instanceof SplitMismatch) || !s.whole) throw err;
      const w = s.whole();
      return this.statement(w.type, w.node, params, stdin);
    }
  }

  /** A scope with no columns (constants, parameters, now()). */
  constantScope(params: readonly (string | null)[]): Scope {
    return {
      zone: this.settings.timeZone,
      now: this.now(),
      params,
      column: (name) => {
        throw orbitError('undefined_column', `column "${name}" does not exist`);
      },
    };
  }

  private now(): bigint {
    return BigInt(Date.now()) * 1000n - 946_684_800_000_000n;
  }

  /** ReadyForQuery's status: idle, in a transaction block, or in a failed one. */
  get transactionStatus(): 'I' | 'T' | 'E' {
    return this.txn === undefined ? 'I' : this.txn.failed ? 'E' : 'T';
  }

  /** Marks an open transaction block failed (a COPY the client cancelled). */
  failTransaction(): void {
    if (this.txn) this.txn.failed = true;
  }

  /** Ends any open transaction block without applying it (a stateless HTTP request, a lost client). */
  abortTransaction(): void {
    this.txn = undefined;
  }

  async statement(type: string, node: Node, params: readonly (string | null)[], stdin?: CopyData, valueGroups?: () => Iterable<Node[]>): Promise<StatementResult> {
    if (type === 'TransactionStmt') return this.transaction(node);
    const txn = this.txn;
    if (txn?.failed) throw orbitError('in_failed_sql_transaction', 'current transaction is aborted, commands ignored until end of transaction block');
    if (txn && (!IN_BLOCK.has(type) || (type === 'SelectStmt' && changesCatalog(node)))) {
      txn.failed = true;
      throw notAtEdge(`${COMMAND_NAMES[type] ?? type.replace(/Stmt$/, '')} inside a transaction block`);
    }
    try {
      return await this.dispatch(type, node, params, stdin, valueGroups);
    } catch (err) {
      // A split that did not match wrote nothing: the caller runs the statement again, parsed whole.
      if (txn && !(err instanceof SplitMismatch)) txn.failed = true;
      throw err;
    }
  }

  private async transaction(node: Node): Promise<StatementResult> {
    const kind = String(node.kind);
    const txn = this.txn;
    switch (kind) {
      case 'TRANS_STMT_BEGIN':
      case 'TRANS_STMT_START':
        if (node.options) throw notAtEdge('transaction modes');
        // PostgreSQL only warns about a BEGIN inside a block.
        this.txn ??= { staged: [], savepoints: [], failed: false };
        return { command: 'BEGIN', rows: [] };
      case 'TRANS_STMT_COMMIT': {
        this.txn = undefined;
        if (!txn) return { command: 'COMMIT', rows: [] };
        if (txn.failed) return { command: 'ROLLBACK', rows: [] };
        await this.writeNow(txn.staged);
        return { command: 'COMMIT', rows: [] };
      }
      case 'TRANS_STMT_ROLLBACK':
        this.txn = undefined;
        return { command: 'ROLLBACK', rows: [] };
      case 'TRANS_STMT_SAVEPOINT':
      case 'TRANS_STMT_RELEASE':
      case 'TRANS_STMT_ROLLBACK_TO': {
        const name = String(node.savepoint_name);
        const verb = kind === 'TRANS_STMT_SAVEPOINT' ? 'SAVEPOINT' : kind === 'TRANS_STMT_RELEASE' ? 'RELEASE SAVEPOINT' : 'ROLLBACK TO SAVEPOINT';
        if (!txn) throw orbitError('no_active_sql_transaction', `${verb} can only be used in transaction blocks`);
        if (kind === 'TRANS_STMT_SAVEPOINT') {
          if (txn.failed) throw orbitError('in_failed_sql_transaction', 'current transaction is aborted, commands ignored until end of transaction block');
          txn.savepoints.push({ name, at: txn.staged.length });
          return { command: 'SAVEPOINT', rows: [] };
        }
        let i = txn.savepoints.length - 1;
        while (i >= 0 && txn.savepoints[i]!.name !== name) i--;
        if (i < 0) {
          txn.failed = true;
          throw orbitError('invalid_savepoint_specification', `savepoint "${name}" does not exist`);
        }
        if (kind === 'TRANS_STMT_RELEASE') {
          if (txn.failed) throw orbitError('in_failed_sql_transaction', 'current transaction is aborted, commands ignored until end of transaction block');
          txn.savepoints.length = i;
          return { command: 'RELEASE', rows: [] };
        }
        txn.staged.length = txn.savepoints[i]!.at;
        txn.savepoints.length = i + 1;
        txn.failed = false;
        return { command: 'ROLLBACK', rows: [] };
      }
      default:
        throw notAtEdge(kind.replace('TRANS_STMT_', '').replace(/_/g, ' '));
    }
  }

  /** The table and format of a `COPY … FROM STDIN` (checked before the client sends data). */
  planCopy(node: Node): CopyPlan {
    return planCopy(node, (name) => this.catalog.requireTable(name));
  }

  /**
   * Starts a COPY FROM STDIN whose data the caller pushes as it arrives (src/edge/copy-in.ts): staged
   * in SQLite, or gathered in memory inside a transaction block or for a sharded hypertable.
   */
  beginCopy(node: Node): EdgeCopyIn {
    const plan = this.planCopy(node);
    return new EdgeCopyIn(this, plan, this.txn !== undefined || this.shardCount(plan.table.name) > 0);
  }

  /** beginCopy for a COPY sent as a statement of its own (the wire), under the transaction block's rules. */
  startCopy(node: Node): EdgeCopyIn {
    if (this.txn?.failed) throw orbitError('in_failed_sql_transaction', 'current transaction is aborted, commands ignored until end of transaction block');
    try {
      return this.beginCopy(node);
    } catch (err) {
      this.failTransaction();
      throw err;
    }
  }

  /** A COPY with its data given whole or as a stream: rows are staged a piece at a time either way. */
  private async copy(node: Node, stdin: CopyData): Promise<number> {
    const copy = this.beginCopy(node);
    try {
      if (typeof stdin === 'string') copy.push(stdin);
      else for await (const chunk of stdin) copy.push(chunk);
      return await copy.finish();
    } catch (err) {
      // A stream that failed (the client went away) leaves nothing either.
      copy.abort();
      throw err;
    }
  }

  private async dispatch(type: string, node: Node, params: readonly (string | null)[], stdin: CopyData | undefined, valueGroups?: () => Iterable<Node[]>): Promise<StatementResult> {
    switch (type) {
      case 'SelectStmt':
        return this.select(node, params);
      case 'InsertStmt':
        return runInsert(this, node, params, valueGroups);
      case 'VariableSetStmt':
      case 'VariableShowStmt':
        return this.settings.run(type, node, this.constantScope(params));
      case 'CallStmt':
        return this.call(node, params);
      case 'CopyStmt': {
        this.planCopy(node);
        if (stdin === undefined) throw notAtEdge('COPY FROM STDIN without its data (send it in the request\'s "stdin")');
        return { command: `COPY ${await this.copy(node, stdin)}`, rows: [] };
      }
      default: {
        const ddl = await runDdl(this, type, node, params);
        if (ddl) return ddl;
        throw notAtEdge(COMMAND_NAMES[type] ?? type.replace(/Stmt$/, ''));
      }
    }
  }

  /** CALL run_job(id): runs a job now, as TimescaleDB's run_job does. */
  private async call(node: Node, params: readonly (string | null)[]): Promise<StatementResult> {
    const call = node.funccall as Node;
    if (funcNameOf(call) !== 'run_job') throw notAtEdge(`CALL ${funcNameOf(call)}()`);
    const args = (call.args as Node[] | undefined) ?? [];
    const id = args[0] ? compile(args[0], this.constantScope(params)).eval([], 0) : null;
    if (id === null) throw orbitError('invalid_parameter_value', 'job ID cannot be NULL');
    await runRetentionJobs(this, Date.now(), Number(id));
    return { command: 'CALL', rows: [] };
  }

  /** Runs the jobs due now (the Durable Object's alarm); returns when the next one is due. */
  runDueJobs(nowMs = Date.now()): Promise<number | undefined> {
    return runRetentionJobs(this, nowMs);
  }

  /** When the next job is due (ms since the Unix epoch), for the Durable Object's alarm. */
  nextJobAt(): number | undefined {
    return nextJobAt(this);
  }

  private async select(node: Node, params: readonly (string | null)[]): Promise<StatementResult> {
    const api = await runDdl(this, 'SelectStmt', node, params);
    if (api) return api;
    const staged = this.txn?.staged ?? [];
    const from = ((node.fromClause as Node[] | undefined) ?? [])[0]?.RangeVar as Node | undefined;
    if (from && staged.some((s) => s.table.name === from.relname)) {
      throw notAtEdge(`reading "${String(from.relname)}" after writing it in the same transaction block`);
    }
    const result = await executeSelect(node, {
      zone: this.settings.timeZone,
      now: this.now(),
      params,
      aggregates: this.aggregates,
      table: (name) => this.catalog.requireTable(name),
      timeColumn: (name) => this.catalog.hypertable(name)?.timeColumn,
      scan: (table, columns, bounds, equalities, latestPer) => this.scan(table, columns, bounds, equalities, latestPer),
      segmentBy: (name) => this.catalog.hypertable(name)?.compression?.segmentBy ?? [],
      pushdown: this.aggregates instanceof KernelAggregates ? (table, plan) => this.pushdown(table, plan) : undefined,
    });
    return { command: `SELECT ${result.rows.length}`, fields: result.fields, rows: result.rows };
  }

  /** The result columns of a SELECT without running API functions (Describe of a prepared statement). */
  async describeSelect(node: Node, params: readonly (string | null)[]): Promise<ResultField[] | undefined> {
    const targets = (node.targetList as Node[] | undefined) ?? [];
    const calls = targets.map((t) => ((t.ResTarget as Node).val as Node).FuncCall as Node | undefined);
    if (!node.fromClause || calls.some((c) => c !== undefined && /^(drop_chunks|compress_chunk|convert_to_columnstore|create_hypertable|set_config|set_chunk_time_interval)$/.test(funcNameOf(c)))) return undefined;
    return (await this.select(node, params)).fields;
  }

  // ---- writes -----------------------------------------------------------------------------------

  /** Writes rows (typed, in table column order): staged inside a transaction block, else buffered now. */
  async write(table: TableDef, rows: Value[][]): Promise<void> {
    if (!this.catalog.hypertable(table.name)) throw notAtEdge(`writing to "${table.name}", which is not a hypertable,`);
    if (this.txn) this.txn.staged.push({ table, rows });
    else await this.writeNow([{ table, rows }]);
  }

  /**
   * Writes one statement's rows arriving in pieces (a split INSERT's groups, COPY data): on this
   * object outside a transaction block each piece is converted and buffered in turn inside one
   * SQLite transaction, so only one piece is in memory at a time and an error leaves nothing; else
   * the pieces are gathered and written as `write` does. Returns the rows written.
   */
  async writePieces(table: TableDef, pieces: Iterable<Value[][]>): Promise<number> {
    if (!this.catalog.hypertable(table.name)) throw notAtEdge(`writing to "${table.name}", which is not a hypertable,`);
    if (this.txn || this.shardCount(table.name) > 0) {
      const rows: Value[][] = [];
      for (const p of pieces) for (const r of p) rows.push(r);
      await this.write(table, rows);
      return rows.length;
    }
    const touched = new Map<number, { h: Hypertable; table: TableDef }>();
    let n = 0;
    this.catalog.atomically(() => {
      for (const p of pieces) {
        this.bufferRows(table, p, touched);
        n += p.length;
      }
    });
    await this.sealFull(touched);
    return n;
  }

  /** Buffers every write in one SQLite transaction (acknowledged = committed), then seals full chunks. */
  private async writeNow(writes: ReadonlyArray<{ table: TableDef; rows: Value[][] }>): Promise<void> {
    const touched = new Map<number, { h: Hypertable; table: TableDef }>();
    const remote = new Map<string, { def: ShardTable; chunks: Map<number, ShardRows> }>();
    // The chunk→shard map is committed with the chunks, before any row leaves for a shard.
    this.catalog.atomically(() => {
      for (const { table, rows } of writes) {
        if (this.shardCount(table.name) > 0) this.routeRows(table, rows, remote);
        else this.bufferRows(table, rows, touched);
      }
    });
    // Acknowledged only when every shard has committed its rows (each syncs before it answers).
    await Promise.all([...remote].map(([shard, { def, chunks }]) => this.shards!.router.write(shard, def, [...chunks.values()])));
    await this.sealFull(touched);
  }

  /** Seals the chunks among `touched` whose write buffer is full. */
  async sealFull(touched: ReadonlyMap<number, { h: Hypertable; table: TableDef }>): Promise<void> {
    for (const [id, { h, table }] of touched) if (this.catalog.bufferedCount(id) >= this.sealRows) await this.seal(h, table, id);
  }

  /**
   * A shard object's write: each group's rows into the chunk covering exactly its range (the
   * coordinator's chunk), in one SQLite transaction, then seals full chunks. Returns the rows written.
   */
  async writeChunks(table: TableDef, groups: readonly ShardRows[]): Promise<number> {
    const h = this.catalog.hypertable(table.name);
    if (!h) throw notAtEdge(`writing to "${table.name}", which is not a hypertable,`);
    const touched = new Map<number, { h: Hypertable; table: TableDef }>();
    let n = 0;
    this.catalog.atomically(() => {
      for (const g of groups) {
        const chunk = this.catalog.chunkWithRange(h, g.rangeStart, g.rangeEnd);
        touched.set(chunk.id, { h, table });
        this.catalog.buffer(g.rows.map((row) => ({ chunkId: chunk.id, row: encodeRow(row) })));
        n += g.rows.length;
      }
    });
    await this.sealFull(touched);
    return n;
  }

  /**
   * Drops chunks of `h` (drop_chunks, retention): those held by shard objects in their shards first,
   * all shards at once, then the catalog entries here. A failed shard call fails the statement with
   * the chunks still listed here, so a retry drops what is left (dropping is idempotent per range).
   */
  async dropChunks(h: Hypertable, chunks: readonly Chunk[]): Promise<void> {
    const remote = new Map<string, ShardChunk[]>();
    for (const c of chunks) {
      const shard = this.chunkShard(c.id);
      if (shard === undefined) continue;
      let list = remote.get(shard);
      if (!list) remote.set(shard, (list = []));
      list.push({ rangeStart: c.rangeStart, rangeEnd: c.rangeEnd });
    }
    await Promise.all([...remote].map(([shard, list]) => this.shards!.router.dropChunks(shard, h.tableName, list)));
    this.catalog.atomically(() => chunks.forEach((c) => this.catalog.dropChunk(c.id)));
    // The batch objects go after the catalog no longer points at them.
    await this.columnstore.sweep(this.catalog.allManifestKeys());
  }

  /** compress_chunk: seals the chunk's write buffer here or in the shard object holding it. */
  async compressChunk(h: Hypertable, chunk: Chunk): Promise<void> {
    const shard = this.chunkShard(chunk.id);
    if (shard === undefined) await this.seal(h, this.catalog.requireTable(h.tableName), chunk.id);
    else await this.shards!.router.compressChunk(shard, h.tableName, { rangeStart: chunk.rangeStart, rangeEnd: chunk.rangeEnd });
  }

  /** DROP TABLE of a sharded hypertable: every shard holding its chunks drops its copy first. */
  async dropShardedTable(name: string): Promise<void> {
    const h = this.catalog.hypertable(name);
    if (!h || !this.shards) return;
    const shards = new Set<string>();
    for (const c of this.catalog.chunks(h.id)) {
      const k = this.chunkShard(c.id);
      if (k !== undefined) shards.add(k);
    }
    await Promise.all([...shards].map((k) => this.shards!.router.dropTable(k, name)));
  }

  /** A shard object's side of drop_chunks: its chunks inside the given ranges. Returns how many. */
  async dropChunkRanges(tableName: string, ranges: readonly ShardChunk[]): Promise<number> {
    const h = this.catalog.hypertable(tableName);
    if (!h) return 0;
    const chunks = this.catalog.chunks(h.id).filter((c) => ranges.some((r) => c.rangeStart >= r.rangeStart && c.rangeEnd <= r.rangeEnd));
    await this.dropChunks(h, chunks);
    return chunks.length;
  }

  /** A shard object's side of compress_chunk. */
  async sealRange(tableName: string, range: ShardChunk): Promise<void> {
    const h = this.catalog.hypertable(tableName);
    if (!h) return;
    const chunk = this.catalog.chunks(h.id).find((c) => c.rangeStart === range.rangeStart && c.rangeEnd === range.rangeEnd);
    if (chunk) await this.seal(h, this.catalog.requireTable(tableName), chunk.id);
  }

  /** A shard object's side of DROP TABLE. */
  async dropLocalTable(tableName: string): Promise<void> {
    this.catalog.atomically(() => {
      if (this.catalog.table(tableName)) this.catalog.dropTable(tableName);
    });
    await this.columnstore.sweep(this.catalog.allManifestKeys());
  }

  /** Shard objects the hypertable's new chunks spread over (0: kept in this object). */
  shardCount(table: string): number {
    return Number(this.catalog.meta(`shards:${table}`) ?? 0);
  }

  /** ALTER TABLE … SET (orbit.shards = n): chunks created from now on go to n shard objects. */
  setShardCount(table: string, n: number): void {
    if (!this.catalog.hypertable(table)) throw orbitError('feature_not_supported', `"${table}" is not a hypertable`, { detail: 'Only hypertables spread over shard objects.' });
    if (!Number.isInteger(n) || n < 0 || n > MAX_SHARDS) throw orbitError('invalid_parameter_value', `orbit.shards must be an integer from 0 to ${MAX_SHARDS}`);
    if (n > 0 && !this.shards) throw notAtEdge('orbit.shards without shard objects (the Worker binds them as ORBIT_SHARD)');
    this.catalog.setMeta(`shards:${table}`, String(n));
  }

  /** The shard object holding a chunk, if it is not in this object. */
  chunkShard(chunkId: number): string | undefined {
    return this.catalog.meta(`chunk_shard:${chunkId}`);
  }

  private routeRows(table: TableDef, rows: Value[][], remote: Map<string, { def: ShardTable; chunks: Map<number, ShardRows> }>): void {
    const h = this.catalog.hypertable(table.name)!;
    const timeAt = table.columns.findIndex((c) => c.name === h.timeColumn);
    const def: ShardTable = { table, timeColumn: h.timeColumn, timeType: h.timeType, interval: h.interval, compression: h.compression };
    for (const row of rows) {
      const t = row[timeAt];
      if (t === null || t === undefined) {
        throw orbitError('not_null_violation', `null value in column "${h.timeColumn}" of relation "${table.name}" violates not-null constraint`);
      }
      const chunk = this.catalog.chunkFor(h, toInternal(h.timeType, t as bigint | number));
      let shard = this.chunkShard(chunk.id);
      if (shard === undefined) {
        shard = shardKey(this.shards!.prefix, table.name, chunk.rangeStart, h.interval, this.shardCount(table.name));
        this.catalog.setMeta(`chunk_shard:${chunk.id}`, shard);
      }
      let batch = remote.get(shard);
      if (!batch) remote.set(shard, (batch = { def, chunks: new Map() }));
      let group = batch.chunks.get(chunk.id);
      if (!group) batch.chunks.set(chunk.id, (group = { rangeStart: chunk.rangeStart, rangeEnd: chunk.rangeEnd, rows: [] }));
      group.rows.push(row);
    }
  }

  /** Distinct shard objects holding chunks of `h` that overlap [lo, hi) (internal time), in key order. */
  private shardsOverlapping(h: Hypertable, lo: number | undefined, hi: number | undefined): string[] {
    const keys = new Set<string>();
    for (const c of this.catalog.chunksOverlapping(h.id, lo, hi)) {
      const k = this.chunkShard(c.id);
      if (k !== undefined) keys.add(k);
    }
    return [...keys].sort();
  }

  private bufferRows(table: TableDef, rows: Value[][], touched: Map<number, { h: Hypertable; table: TableDef }>): void {
    const h = this.catalog.hypertable(table.name);
    if (!h) throw notAtEdge(`writing to "${table.name}", which is not a hypertable,`);
    const timeAt = table.columns.findIndex((c) => c.name === h.timeColumn);
    {
      const buffered = rows.map((row) => {
        const t = row[timeAt];
        if (t === null || t === undefined) {
          throw orbitError('not_null_violation', `null value in column "${h.timeColumn}" of relation "${table.name}" violates not-null constraint`);
        }
        const chunk = this.catalog.chunkFor(h, toInternal(h.timeType, t as bigint | number));
        touched.set(chunk.id, { h, table });
        return { chunkId: chunk.id, row: encodeRow(row) };
      });
      this.catalog.buffer(buffered);
    }
  }

  /**
   * Seals a chunk's buffered rows into column batches (compress_chunk at the edge), merged with the
   * chunk's smaller batch sets (src/edge/compaction.ts) so a chunk keeps few, full batches.
   */
  async seal(h: Hypertable, table: TableDef, chunkId: number): Promise<void> {
    // At most SEAL_VALUES buffered values a pass, so a large write seals in bounded memory.
    const limit = Math.max(1, Math.floor(SEAL_VALUES / Math.max(1, table.columns.length)));
    for (;;) {
      const { rows, lastSeq } = this.catalog.buffered(chunkId, limit);
      if (rows.length === 0) return;
      await this.sealPass(h, table, chunkId, rows, lastSeq);
      if (rows.length < limit) return;
    }
  }

  private async sealPass(h: Hypertable, table: TableDef, chunkId: number, rows: string[], lastSeq: number): Promise<void> {
    const names = table.columns.map((c) => c.name);
    const parts: Column[][] = [rowsToColumns(table, rows)];
    rows.length = 0;
    const maxRows = Math.floor(MERGE_VALUES / Math.max(1, names.length));
    const merged: string[] = [];
    for (const { key } of mergeCandidates(this.catalog.manifests(chunkId), parts[0]![0]?.values.length ?? 0, maxRows)) {
      const m = await this.columnstore.readManifest(key);
      // Batch sets of another column layout (none today) are left as they are.
      if (m.columns.length !== names.length || m.columns.some((c, j) => c.name !== names[j] || c.type !== PG_TYPES[table.columns[j]!.type])) continue;
      for (let b = 0; b < m.batches.length; b++) parts.push([...(await this.columnstore.readBatch(m, b, names)).columns]);
      merged.push(key);
    }
    const columns = names.map((_, j) => concatColumns(parts.map((p) => p[j]!)));
    const segmentBy = h.compression?.segmentBy ?? [];
    const orderBy = h.compression?.orderBy.length ? h.compression.orderBy : [{ column: h.timeColumn, desc: true, nullsFirst: true }];
    const manifest = await this.columnstore.writeChunk(h.id, chunkId, { names, columns }, { segmentBy, orderBy, timeColumn: h.timeColumn });
    this.catalog.commitSeal(chunkId, manifest.key, manifest.rowCount, lastSeq, merged);
    // The merged sets' objects are unreferenced now; a crash before this leaves them to the next open's sweep.
    if (merged.length > 0) await this.columnstore.sweep(this.catalog.allManifestKeys());
  }

  /**
   * Imports a compressed chunk handed over by another Orbit (src/edge/chunk-transfer.ts): checks the
   * manifest against the hypertable, stores the batches as they are under a new version of the
   * chunk covering exactly the given range (created if missing), then commits the manifest to the
   * catalog with the source recorded, in one transaction. Returns the rows imported.
   */
  async importChunk(t: ChunkTransfer): Promise<number> {
    const { header } = t;
    const table = this.catalog.requireTable(header.table);
    const h = this.catalog.hypertable(header.table);
    if (!h) throw orbitError('invalid_parameter_value', `"${header.table}" is not a hypertable`);
    const importKey = `import:${header.source}`;
    if (this.catalog.meta(importKey) !== undefined) throw orbitError('duplicate_object', `chunk ${header.source} was already imported into "${header.table}"`);
    const m = decodeManifest(this.columnstore.backend, t.manifest, 'import');
    // The batches are read by column name with the edge's types, so the layouts must agree exactly.
    const mismatch = table.columns.find((c) => m.columns.find((x) => x.name === c.name)?.type !== PG_TYPES[c.type]);
    if (mismatch || m.columns.length !== table.columns.length) {
      throw orbitError('datatype_mismatch', `the chunk's columns do not match "${header.table}"`, { detail: `chunk: ${m.columns.map((c) => `${c.name} ${c.type}`).join(', ')}` });
    }
    if (m.settings.timeColumn !== h.timeColumn) throw orbitError('datatype_mismatch', `the chunk is partitioned by "${m.settings.timeColumn}", "${header.table}" by "${h.timeColumn}"`);
    if (t.batches.length !== m.batches.length || t.batches.some((b, i) => b.length !== m.batches[i]!.bytes)) {
      throw orbitError('invalid_parameter_value', 'malformed chunk transfer: the batches do not match the manifest');
    }
    const timeAt = m.columns.findIndex((c) => c.name === h.timeColumn);
    for (const b of m.batches) {
      if (b.rows === 0) continue;
      const lo = b.min[timeAt];
      const hi = b.max[timeAt];
      if (b.nullCount[timeAt]! > 0 || lo == null || hi == null) throw orbitError('not_null_violation', `the chunk has NULLs in "${h.timeColumn}"`);
      if (toInternal(h.timeType, lo as bigint | number) < header.rangeStart || toInternal(h.timeType, hi as bigint | number) >= header.rangeEnd) {
        throw orbitError('invalid_parameter_value', 'the chunk holds rows outside its range');
      }
    }
    const chunk = this.catalog.atomically(() => {
      const same = this.catalog.chunksOverlapping(h.id, header.rangeStart, header.rangeEnd);
      const other = same.find((c) => c.rangeStart !== header.rangeStart || c.rangeEnd !== header.rangeEnd);
      if (other) throw notAtEdge(`importing a chunk whose range overlaps chunk ${other.tableName} with another range`);
      return this.catalog.chunkWithRange(h, header.rangeStart, header.rangeEnd);
    });
    // A version above every stored one (this object runs one statement at a time).
    const dir = `cs/${h.id}/${chunk.id}/`;
    let version = 0;
    for (const key of await this.columnstore.storage.list(dir)) version = Math.max(version, Number(key.slice(dir.length).split('/')[0]));
    // Packed like the batches Orbit writes itself; the sender's object locations are not ours.
    const written = await this.columnstore.writeVersion({ hypertableId: h.id, chunkId: chunk.id, version: version + 1 }, m.columns, m.settings, m.batches, t.batches);
    this.catalog.commitImport(chunk.id, written.key, written.rowCount, importKey);
    return written.rowCount;
  }

  // ---- reads ------------------------------------------------------------------------------------

  /** An aggregate through the kernels (src/edge/pushdown.ts); undefined sends the executor down the row path. */
  private async pushdown(table: TableDef, plan: PushdownPlan): Promise<PushedGroups | undefined> {
    const p = await this.partials(table.name, plan.spec, plan.lo, plan.hi);
    return p ? groupColumns(plan, p) : undefined;
  }

  /**
   * Partial aggregates of `table`'s chunks overlapping [lo, hi] (µs, inclusive): sealed batches one
   * by one through the kernels, then each chunk's write buffer. Undefined when the kernels refuse the
   * spec (0A000), so the caller can fall back to rows. Shard objects answer the coordinator with this.
   */
  async partials(tableName: string, spec: KernelSpec, lo?: bigint, hi?: bigint): Promise<Partials | undefined> {
    const k = this.aggregates;
    const table = this.catalog.table(tableName);
    const h = this.catalog.hypertable(tableName);
    if (!(k instanceof KernelAggregates) || !table || !h) return undefined;
    try {
      const r = resolveForTable(table, h, spec);
      const out = emptyPartials(r.aggregates, r.groupBy.map((g) => g.name), r.bucket !== null);
      const segmentBy = h.compression?.segmentBy ?? [];
      const lo_ = lo === undefined ? undefined : toInternal(h.timeType, lo);
      const hi_ = hi === undefined ? undefined : toInternal(h.timeType, hi) + 1;
      k.stats.queries++;
      for (const chunk of this.catalog.chunksOverlapping(h.id, lo_, hi_)) {
        for (const { key } of this.catalog.manifests(chunk.id)) {
          const p = await aggregateChunk(this.columnstore, await this.columnstore.readManifest(key), spec, k.kernels);
          k.record(p, 0);
          mergePartials(out, p);
        }
        const rows = this.catalog.buffered(chunk.id).rows.map((row) => decodeRow(row, table));
        if (rows.length > 0) {
          const b = bufferedPartials(table, segmentBy, r, rows);
          k.record(b, rows.length);
          mergePartials(out, b);
        }
      }
      // Sharded chunks: every shard holding a matching chunk computes its partials in its own kernels, at once.
      const shards = this.shardsOverlapping(h, lo_, hi_);
      if (shards.length > 0) {
        const parts = await Promise.all(shards.map((key) => this.shards!.router.partials(key, tableName, spec, lo, hi)));
        if (parts.some((p) => p === undefined)) return undefined;
        for (const p of parts) mergePartials(out, p!);
      }
      return out;
    } catch (err) {
      if (err instanceof OrbitError && err.code === '0A000') return undefined;
      throw err;
    }
  }

  /** Decoded columns of `table`: this object's chunks, then those of every shard holding a matching chunk. */
  private async scan(table: TableDef, columns: readonly string[], bounds: readonly TimeBound[], equalities: ReadonlyMap<string, Value>, latestPer?: string): Promise<{ cols: Value[][]; length: number }> {
    const local = await this.scanRows(table, columns, bounds, equalities, latestPer);
    const h = this.catalog.hypertable(table.name);
    if (!h || !this.shards) return local;
    const { lo, hi } = internalRange(h, bounds);
    const shards = this.shardsOverlapping(h, lo, hi);
    if (shards.length === 0) return local;
    // Each shard keeps its own latest rows per value; their union holds the latest overall.
    const parts = await Promise.all(shards.map((key) => this.shards!.router.scan(key, table.name, columns, bounds, equalities, latestPer)));
    let length = local.length;
    for (const p of parts) {
      p.cols.forEach((col, j) => {
        const out = local.cols[j]!;
        for (const v of col) out.push(v);
      });
      length += p.length;
      if (length * Math.max(1, columns.length) > this.maxScanValues) throw scanLimit(this.maxScanValues);
    }
    return { cols: local.cols, length };
  }

  /**
   * For a last-point scan (select.ts, `latestPer`): which sealed batches may hold a latest row of
   * their `column` value. Per value, the latest time is the largest batch maximum over the manifests
   * segmented by `column`; a batch whose maximum is below it cannot hold that value's latest rows.
   * Manifests not segmented by `column` (other settings, imports) are read whole.
   */
  private async latestBatches(h: Hypertable, chunks: readonly Chunk[], column: string): Promise<(m: Manifest, b: number) => boolean> {
    const latest = new Map<string, bigint | number>();
    const timeAt = (m: Manifest) => m.columns.findIndex((c) => c.name === h.timeColumn);
    for (const chunk of chunks) {
      for (const { key } of this.catalog.manifests(chunk.id)) {
        const m = await this.columnstore.readManifest(key);
        const seg = m.settings.segmentBy.indexOf(column);
        if (seg < 0) continue;
        const t = timeAt(m);
        for (const b of m.batches) {
          const max = b.max[t] as bigint | number | null;
          if (b.rows === 0 || max === null) continue;
          const k = segmentKey(b.segment[seg]);
          const cur = latest.get(k);
          if (cur === undefined || max > cur) latest.set(k, max);
        }
      }
    }
    return (m, b) => {
      const seg = m.settings.segmentBy.indexOf(column);
      if (seg < 0) return true;
      const stats = m.batches[b]!;
      const max = stats.max[timeAt(m)] as bigint | number | null;
      return max === null || max >= latest.get(segmentKey(stats.segment[seg]))!;
    };
  }

  /** Decoded columns of `table` for this object's chunks and batches the bounds and equalities may match. */
  async scanRows(table: TableDef, columns: readonly string[], bounds: readonly TimeBound[], equalities: ReadonlyMap<string, Value>, latestPer?: string): Promise<{ cols: Value[][]; length: number }> {
    const cols: Value[][] = columns.map(() => []);
    const h = this.catalog.hypertable(table.name);
    if (!h) return { cols, length: 0 };
    let lo: number | undefined;
    let hi: number | undefined;
    for (const b of bounds) {
      const t = toInternal(h.timeType, b.value as bigint | number);
      if (b.op === '>' || b.op === '>=' || b.op === '=') lo = lo === undefined ? t : Math.max(lo, t);
      if (b.op === '<' || b.op === '<=' || b.op === '=') hi = hi === undefined ? t + 1 : Math.min(hi, t + 1);
    }
    const predicates: Predicate[] = bounds.map((b) => ({ column: h.timeColumn, op: b.op, value: b.value }));
    for (const [column, value] of equalities) {
      const c = table.columns.find((x) => x.name === column);
      if (c && (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')) {
        predicates.push({ column, op: '=', value: c.type === 'bool' ? value : value });
      }
    }
    const positions = columns.map((name) => table.columns.findIndex((c) => c.name === name));
    let length = 0;
    const budget = () => {
      if (length * Math.max(1, columns.length) > this.maxScanValues) throw scanLimit(this.maxScanValues);
    };
    const chunks = this.catalog.chunksOverlapping(h.id, lo, hi);
    const keep = latestPer === undefined ? undefined : await this.latestBatches(h, chunks, latestPer);
    for (const chunk of chunks) {
      for (const { key } of this.catalog.manifests(chunk.id)) {
        const m = await this.columnstore.readManifest(key);
        for (const b of batchesMatching(m, predicates)) {
          if (keep && !keep(m, b)) continue;
          const batch = await this.columnstore.readBatch(m, b, columns);
          const n = m.batches[b]!.rows;
          batch.columns.forEach((col, j) => {
            const out = cols[j]!;
            for (let i = 0; i < n; i++) out.push(columnValue(col, i));
          });
          length += n;
          budget();
        }
      }
      for (const r of this.catalog.buffered(chunk.id).rows) {
        const row = decodeRow(r, table);
        positions.forEach((p, j) => cols[j]!.push(row[p]!));
        length++;
      }
      budget();
    }
    return { cols, length };
  }
}

/** Segment values as map keys (text, numbers, booleans, NULL). */
function segmentKey(v: unknown): string {
  return v === null ? 'null' : `${typeof v}:${String(v)}`;
}

function scanLimit(max: number): Error {
  return orbitError('program_limit_exceeded', `the query reads more than ${max} values, more than an edge object holds in memory`, {
    hint: 'Narrow the time range or the columns read.',
  });
}

/** The internal time range [lo, hi) of a scan's bounds, as chunk exclusion uses it. */
function internalRange(h: Hypertable, bounds: readonly TimeBound[]): { lo: number | undefined; hi: number | undefined } {
  let lo: number | undefined;
  let hi: number | undefined;
  for (const b of bounds) {
    const t = toInternal(h.timeType, b.value as bigint | number);
    if (b.op === '>' || b.op === '>=' || b.op === '=') lo = lo === undefined ? t : Math.max(lo, t);
    if (b.op === '<' || b.op === '<=' || b.op === '=') hi = hi === undefined ? t + 1 : Math.min(hi, t + 1);
  }
  return { lo, hi };
}

/** Buffer rows as JSON arrays; bigints (timestamps, int8) as strings, restored by column type. */
export function encodeRow(row: readonly Value[]): string {
  return JSON.stringify(row.map((v) => (typeof v === 'bigint' ? v.toString() : v)));
}

function decodeRow(text: string, table: TableDef): Value[] {
  const raw = JSON.parse(text) as Value[];
  return table.columns.map((c, j) => {
    const v = raw[j] ?? null;
    if (v === null) return null;
    return c.type === 'timestamptz' || c.type === 'timestamp' || c.type === 'int8' ? BigInt(v as string) : v;
  });
}

/** Buffered rows (encodeRow's JSON) straight into columns, one row decoded at a time. */
function rowsToColumns(table: TableDef, rows: readonly string[]): Column[] {
  const n = rows.length;
  const cols = table.columns.map((c) => {
    const pg = PG_TYPES[c.type];
    if (!pg) throw notAtEdge(`columns of type ${typeLabel(c.type)}`);
    return allocColumn(pg, n) as Column & { nulls: Uint8Array | null };
  });
  const big = table.columns.map((c) => c.type === 'timestamptz' || c.type === 'timestamp' || c.type === 'int8');
  const bool = table.columns.map((c) => c.type === 'bool');
  for (let i = 0; i < n; i++) {
    const raw = JSON.parse(rows[i]!) as Value[];
    for (let j = 0; j < cols.length; j++) {
      const v = raw[j] ?? null;
      const col = cols[j]!;
      if (v === null) {
        col.nulls ??= new Uint8Array((n + 7) >> 3);
        col.nulls[i >> 3]! |= 1 << (i & 7);
        continue;
      }
      (col.values as unknown as { [k: number]: unknown })[i] = big[j] ? BigInt(v as string) : bool[j] ? (v ? 1 : 0) : v;
    }
  }
  return cols;
}

function columnValue(col: Column, i: number): Value {
  if (col.nulls && (col.nulls[i >> 3]! >> (i & 7)) & 1) return null;
  const v = (col.values as ArrayLike<unknown>)[i];
  if (col.type === 'bool') return v === 1;
  return v as Value;
}

/** Compiles a constant expression (INSERT values, API arguments) in the engine's constant scope. */
export function constantValue(engine: EdgeEngine, node: Node, params: readonly (string | null)[]) {
  return compile(node, engine.constantScope(params));
}

export { unwrap };
