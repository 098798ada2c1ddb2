/**
 * @module session/columnstore/columnstore
 * The columnstore as the session layer runs it (docs/design/columnstore.md). A backend consults the
 * `Columnstore` for statements naming hypertables with the columnstore enabled; it keeps track of
 * what statements may have changed and hands the work to the modules of this folder:
 *
 * - Plans (statement-plans.ts). Which hypertables have the columnstore enabled, and what each
 *   statement needs from it: the general path's rewritten text, the chunks it writes, or one of the
 *   planner's fast-path shapes, which `runPlanned` runs (fast-path-runner.ts).
 * - Conversions (compression-requests.ts). `compress_chunk` / `decompress_chunk` record requests
 *   (catalog/extension/columnstore-chunks.ts); once the requesting transaction has committed,
 *   `processRequests` carries them out; objects no catalog row points at are swept afterwards.
 * - Reads (cache-tables.ts). Statements that read a hypertable with the columnstore enabled are
 *   rewritten to read a temporary table too (sql/rewrite/columnstore-reads.ts); `prepareReads` makes
 *   sure that table holds exactly the rows of the compressed chunks a statement reads, one
 *   inheriting child per chunk version, kept across statements within a budget (cache-budget.ts).
 * - Writes (dml.ts). UPDATE, DELETE, MERGE and INSERT … ON CONFLICT on such a hypertable first
 *   decompress the batches their segmentby/time conditions can reach (all of them when those cannot
 *   be read), within `timescaledb.max_tuples_decompressed_per_dml_transaction`.
 */
import type { OrbitError } from '../../errors.js';
import type { ColumnStore } from '../../columnstore/store.js';
import type { KernelBackend } from '../../columnstore/kernels/index.js';
import type { ValueOf } from '../../columnstore/pg-text.js';
import type { ClassifiedStatement } from '../../sql/classify.js';
import type { AggregatePlan } from '../../sql/planner/aggregate-plan.js';
import type { LastPointPlan } from '../../sql/planner/last-point.js';
import type { ColumnstoreTable } from '../../sql/rewrite/columnstore-reads.js';
import { runLastPoint } from './last-point.js';
import { decompressForWrite } from './dml.js';
import type { PrintedRows } from './scan.js';
import { ResultReuse } from './reuse.js';
import { CacheTables } from './cache-tables.js';
import { FastPathRunner } from './fast-path-runner.js';
import { StatementPlanner, type ColumnstorePlan, type WriteTarget } from './statement-plans.js';
import { CompressionRequests } from './compression-requests.js';
import { FactsCache } from './facts.js';
import { CREATING } from './pending-objects.js';
import type { InternalRunner } from '../internal-sql.js';

export type { InternalRunner };

/** Statement types after which the set of columnstore hypertables, compressed chunks or views may differ. */
const CHANGES = new Set([
  'CreateExtensionStmt',
  'AlterExtensionStmt',
  'DropStmt',
  'RenameStmt',
  'AlterObjectSchemaStmt',
  'AlterTableStmt',
  'ViewStmt',
  'CreateTableAsStmt',
  'TruncateStmt',
  'DiscardStmt',
  'DoStmt',
  // The user's functions and triggers (session/columnstore/function-guard.ts).
  'CreateFunctionStmt',
  'AlterFunctionStmt',
  'CreateTrigStmt',
]);
/** Functions whose calls change them. */
const CHANGING_FUNCTIONS = ['compress_chunk', 'decompress_chunk', 'drop_chunks', 'create_hypertable', 'set_chunk_time_interval', 'run_job', 'add_job', 'delete_job'];
/** Calls that queue conversions. */
const CONVERTING = ['compress_chunk', 'decompress_chunk', 'convert_to_columnstore', 'convert_to_rowstore', 'run_job'];

/** A CALL's text: its procedure is not among s.functions (run_job may drop chunks or queue conversions). */
function calledProcedure(s: ClassifiedStatement): string {
  return s.type === 'CallStmt' ? s.text.toLowerCase() : '';
}

/**
 * Whether, after `s`, the hypertables with the columnstore, their compressed chunks or views may
 * differ: what was planned before it (the later statements of its query string too) may be stale.
 */
export function changesColumnstore(s: ClassifiedStatement): boolean {
  const called = calledProcedure(s);
  return CHANGES.has(s.type) || CHANGING_FUNCTIONS.some((f) => s.functions.includes(f) || called.includes(f));
}

/**
 * A transaction statement after which what was read may be wrong: one ending or rolling back the
 * transaction (or to a savepoint) after a change in it, and COMMIT / ROLLBACK PREPARED (another
 * transaction's changes) always.
 */
function endsOrUndoes(s: ClassifiedStatement, changed: boolean): boolean {
  const kind = s.node.kind as string | undefined;
  if (kind === 'TRANS_STMT_COMMIT_PREPARED' || kind === 'TRANS_STMT_ROLLBACK_PREPARED') return true;
  return changed && (kind === 'TRANS_STMT_COMMIT' || kind === 'TRANS_STMT_ROLLBACK' || kind === 'TRANS_STMT_ROLLBACK_TO' || kind === 'TRANS_STMT_PREPARE');
}

export class Columnstore {
  /** Which hypertables have the columnstore, and what statements need (session/columnstore/statement-plans.ts). */
  private readonly planner = new StatementPlanner();
  /** The cache tables of the general read path (session/columnstore/cache-tables.ts). */
  private readonly cacheTables: CacheTables;
  /** Requests may be waiting (a statement called compress_chunk & co.). */
  private requestsPending = true;
  /** compress_chunk & co. carried out (session/columnstore/compression-requests.ts). */
  private readonly conversions: CompressionRequests;
  /** Runs statements' fast paths (session/columnstore/fast-path-runner.ts). */
  private readonly fastPaths: FastPathRunner;
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
    kernels: KernelBackend,
    /** The row store's request count (rowstore/counted.ts), if it is counted. */
    requests?: () => number,
  ) {
    this.reuse = new ResultReuse(store, kernels);
    this.cacheTables = new CacheTables(store, store.cacheTableBytes);
    this.conversions = new CompressionRequests(store);
    this.facts = new FactsCache(requests);
    this.fastPaths = new FastPathRunner(store, kernels, this.facts, this.reuse);
  }

  /**
   * Something changed (DDL, conversions, a direct COPY in a transaction block) since the backend was
   * last free: what was read after it (metadata, function definitions, cache tables) may describe
   * what the transaction's end undoes (ROLLBACK, ROLLBACK TO SAVEPOINT, a COMMIT that fails, an
   * implicit transaction that fails).
   */
  private changedInTransaction = false;

  /** Catalog and rowstore facts of the fast path's internal statements (session/columnstore/facts.ts). */
  private readonly facts: FactsCache;

  /** A direct COPY (session/direct-ingest/copy.ts) is about to write to the columnstore. */
  noteDirectWrite(inTransactionBlock: boolean): void {
    this.invalidate();
    if (inTransactionBlock) this.changedInTransaction = true;
  }

  /** The backend is free again (Backend.release): any transaction has ended, committed or not. */
  transactionEnded(): void {
    if (!this.changedInTransaction) return;
    this.changedInTransaction = false;
    this.invalidate();
  }

  /** Records what statements about to run may change. */
  note(statements: readonly ClassifiedStatement[]): void {
    this.planner.note(statements);
    for (const s of statements) {
      if (s.kind === 'ddl' || s.kind === 'utility') this.descriptions.clear();
      if (s.type === 'TransactionStmt' && endsOrUndoes(s, this.changedInTransaction)) this.invalidate();
      // Objects running user functions for statements not naming them matter only while the guard
      // is (some hypertable has compressed chunks: session/columnstore/pending-objects.ts).
      const guarded = this.planner.guarding && CREATING.has(s.type);
      const called = calledProcedure(s);
      if (changesColumnstore(s) || guarded) {
        this.invalidate();
        this.changedInTransaction = true;
      }
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
    this.fastPaths.forget();
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
  load(run: InternalRunner, statements?: readonly ClassifiedStatement[]): Promise<void> {
    return this.planner.load(run, statements);
  }

  /** See StatementPlanner.namesHypertable. */
  namesHypertable(name: string): boolean {
    return this.planner.namesHypertable(name);
  }

  /** Some hypertable has chunks in the columnstore (as the catalog last said). */
  get anyCompressed(): boolean {
    return this.planner.guarding;
  }

  /** See StatementPlanner.mayConcern. */
  mayConcern(statements: readonly ClassifiedStatement[]): boolean {
    return this.planner.mayConcern(statements);
  }

  /** See StatementPlanner.plan. */
  plan(statement: ClassifiedStatement, fastPath = false): ColumnstorePlan {
    return this.planner.plan(statement, fastPath);
  }
  /** See StatementPlanner.uniqueIndexTarget. */
  uniqueIndexTarget(statement: ClassifiedStatement): { readonly schema: string; readonly name: string } | undefined {
    return this.planner.uniqueIndexTarget(statement);
  }

  /** See StatementPlanner.validatedConstraintTarget. */
  validatedConstraintTarget(statement: ClassifiedStatement): { readonly id: number; readonly schema: string; readonly name: string } | undefined {
    return this.planner.validatedConstraintTarget(statement);
  }


  /** See FastPathRunner.runPlanned (session/columnstore/fast-path-runner.ts). */
  runPlanned(run: InternalRunner, plan: ColumnstorePlan, idle: boolean, onRows?: (rows: DirectRows) => void, values?: (oid: number) => ValueOf, guarded = false): Promise<string | null | undefined> {
    return this.fastPaths.runPlanned(run, plan, idle, onRows, values, guarded);
  }

  /** See ResultReuse.retryStale. */
  retryStale(message: () => string | undefined): boolean {
    return this.reuse.retryStale(message);
  }

  // ---- conversions ----------------------------------------------------------------------------

  /** See CompressionRequests.process (session/columnstore/compression-requests.ts). */
  processRequests(run: InternalRunner): Promise<OrbitError[]> {
    this.requestsPending = false;
    return this.conversions.process(run, () => this.invalidate());
  }

  // ---- writes ---------------------------------------------------------------------------------

  /** See decompressForWrite (session/columnstore/dml.ts). */
  decompressForWrite(run: InternalRunner, tables: readonly WriteTarget[], checked: boolean): Promise<void> {
    // Inside a transaction block a ROLLBACK puts the batches back: the metadata read after the
    // decompression (chunks without batches) must not outlive it, or the next write skips them.
    return decompressForWrite(this.store, run, tables, () => {
      this.invalidate();
      this.changedInTransaction = true;
    }, checked);
  }

  /**
   * Aggregates in the kernels (session/columnstore/fast-path.ts), as a simple query's (`aggregate`:
   * ORDER BY the bucket LIMIT n bounds the buckets read); `idle`: outside a transaction block (kept
   * facts may spare the round trip). `onRows`: rows made from the partials go there.
   */
  runAggregate(run: InternalRunner, plan: AggregatePlan, idle: boolean, onRows?: (rows: PrintedRows) => void): Promise<string | undefined> {
    return this.fastPaths.aggregate(run, plan, undefined, onRows && { onRows }, idle ? run.settingsKey : undefined);
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
