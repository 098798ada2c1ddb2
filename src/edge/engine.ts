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
import type { CodecBackend } from '../columnstore/codecs/index.js';
import { orbitError } from '../errors.js';
import { loadParser } from '../sql/parser.js';
import { edgeStatements, SplitMismatch, type EdgeStatement } from './statements.js';
import { DurableObjectStorage, type DurableObjectStorageLike } from '../storage/durable-object.js';
import { JsAggregates, type AggregateEngine } from './aggregates.js';
import { EdgeCatalog, type Hypertable, type TableDef } from './catalog.js';
import { changesCatalog, runDdl } from './ddl.js';
import { nextJobAt, runRetentionJobs } from './retention.js';
import { compile, funcName as funcNameOf, notAtEdge, unwrap, type Node, type Scope } from './expr.js';
import { planCopy, type CopyPlan } from './copy.js';
import { EdgeCopyIn } from './copy-in.js';
import { runInsert } from './insert.js';
import { executeSelect, type ResultField } from './select.js';
import { KernelAggregates } from './kernel-aggregates.js';
import { pushdown, scan } from './reads.js';
import { sealFull } from './seal.js';
import { shardCount } from './shard-chunks.js';
import type { ShardRouter } from './shards.js';
import { bufferRows, writeNow } from './writes.js';
import { EdgeSettings } from './settings.js';
import type { Value } from './values.js';

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
  readonly sealRows: number;
  readonly maxScanValues: number;
  private txn: Transaction | undefined;
  readonly shards: EdgeEngineOptions['shards'];

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
        await writeNow(this, txn.staged);
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
    return new EdgeCopyIn(this, plan, this.txn !== undefined || shardCount(this, plan.table.name) > 0);
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
      scan: (table, columns, bounds, equalities, latestPer) => scan(this, table, columns, bounds, equalities, latestPer),
      segmentBy: (name) => this.catalog.hypertable(name)?.compression?.segmentBy ?? [],
      pushdown: this.aggregates instanceof KernelAggregates ? (table, plan) => pushdown(this, table, plan) : undefined,
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
    else await writeNow(this, [{ table, rows }]);
  }

  /**
   * Writes one statement's rows arriving in pieces (a split INSERT's groups, COPY data): on this
   * object outside a transaction block each piece is converted and buffered in turn inside one
   * SQLite transaction, so only one piece is in memory at a time and an error leaves nothing; else
   * the pieces are gathered and written as `write` does. Returns the rows written.
   */
  async writePieces(table: TableDef, pieces: Iterable<Value[][]>): Promise<number> {
    if (!this.catalog.hypertable(table.name)) throw notAtEdge(`writing to "${table.name}", which is not a hypertable,`);
    if (this.txn || shardCount(this, table.name) > 0) {
      const rows: Value[][] = [];
      for (const p of pieces) for (const r of p) rows.push(r);
      await this.write(table, rows);
      return rows.length;
    }
    const touched = new Map<number, { h: Hypertable; table: TableDef }>();
    let n = 0;
    this.catalog.atomically(() => {
      for (const p of pieces) {
        bufferRows(this, table, p, touched);
        n += p.length;
      }
    });
    await sealFull(this, touched);
    return n;
  }
}

/** Compiles a constant expression (INSERT values, API arguments) in the engine's constant scope. */
export function constantValue(engine: EdgeEngine, node: Node, params: readonly (string | null)[]) {
  return compile(node, engine.constantScope(params));
}

export { unwrap };
