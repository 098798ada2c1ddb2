/**
 * @module session/backend
 * One PGlite backend shared by many sessions. A session owns the backend from the first message of
 * a batch until a ReadyForQuery says idle, so one client's transaction or extended-query sequence
 * never interleaves with another's. Ownership is handed over first-come first-served; on a hand-over
 * the next session's settings are put in place.
 */
import { concatBytes } from '../bytes.js';
import { OrbitError } from '../errors.js';
import { RowStoreInterrupted, type RowStore } from '../rowstore/types.js';
import type { ClassifiedStatement } from '../sql/classify.js';
import { spliceSql } from '../sql/parser.js';
import type { StableBounds } from '../sql/rewrite/stable-bounds.js';
import { SqlState } from '../sqlstate.js';
import { lastReadyStatus, readDataRow, readErrorFields, scanBackend } from '../wire/protocol/backend.js';
import { BackendMessage, TransactionStatus } from '../wire/protocol/message-codes.js';
import { changesColumnstore, type Columnstore, type DirectRows, type InternalRunner } from './columnstore/columnstore.js';
import { StatementPreparation } from './columnstore/statement-preparation.js';
import { validatedConstraint } from './columnstore/validated-constraints.js';
import type { ValueOf } from '../columnstore/pg-text.js';
import type { PrintedRows } from './columnstore/scan.js';
import { DirectCopy } from './direct-ingest/copy.js';
import type { ReaderThread } from './direct-ingest/threads.js';
import { directCopyTarget } from './direct-ingest/target.js';
import { directInsert, type InsertParams } from './direct-ingest/insert.js';
import { HYPERTABLES_SQL, HypertableRouting, INSTALLED_SQL, ROUTE_SQL } from './hypertable-routing.js';
import { mergePoints, settingsCuts } from './fix-up-parts.js';
import { holdsSimpleQuery, pipelineMessages, PipelineStatementFailed, simpleOutput } from './pipeline-transaction.js';
import { asBackendRole, FROM_BACKEND_ROLE, mayChangeRole, runsAsRole, TO_BACKEND_ROLE, withoutRoleSwitch, withoutRoleSwitchQueries } from './roles.js';
import { applySettingsSql, carriesRole, firstError, readSnapshot, settingsKey, SNAPSHOT_SQL, simpleQuery, type Snapshot } from './settings.js';

/** What the backend needs from a session. */
export interface BackendSession {
  readonly id: number;
  /** Session-level settings to restore when this session takes the backend. */
  readonly settingsKey: string;
  readonly settings: ReadonlyMap<string, string>;
  /**
   * The session reaches the row store only through `run` and `runInternal` (the wire's sessions),
   * or calls `settle` before it does otherwise (the in-process API's): its settings, once known to
   * apply, are applied when it first runs something, folded into an internal statement's round trip
   * where one comes first.
   */
  readonly foldsSettings?: boolean;
  /**
   * The session ran something that may have changed its role (SET LOCAL ROLE, set_config …) and its
   * settings were not read back since: it may run as a role other than its settings say.
   */
  readonly roleUnread?: boolean;
  /**
   * The session ran something that may have changed its settings (SET, set_config, SET ROLE, a DO
   * block …) and they were not read back since: its search_path and role may not be what its
   * settings say, so where its unqualified names resolve is not known by them.
   */
  readonly settingsUnread?: boolean;
  /** Called for every NOTIFY on a channel the session listens to. */
  deliverNotification(processId: number, channel: string, payload: string): void;
}

/**
 * Internal statements a session's settings may be folded into (one SELECT Orbit built: no `;` outside
 * literals): the fast paths' inputs, and the bucket limit's (columnstore/bucket-limit.ts).
 */
const FOLDABLE = /^(?:SELECT json_build_array\(|WITH rowstore_buckets AS \()/;

/** Most settings keys remembered as applying (distinct sets of session settings in use). */
const GOOD_KEYS_KEPT = 1024;

/** Process ids reported for notifications from other sessions start here (never the backend's own). */
const NOTIFIER_PID_BASE = 1_000_000;

interface Waiter {
  readonly session: BackendSession;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export class Backend {
  private owner: BackendSession | undefined;
  private readonly waiters: Waiter[] = [];
  /** Settings key currently applied on the backend (initially the boot state: no session settings). */
  private appliedKey = settingsKey(new Map());
  /**
   * Some session has run as a role other than the backend's (roles.ts): hand-overs then put the
   * backend's role back first, which RESET ALL does not. Never cleared, so a role set where Orbit
   * does not read it back (inside a DO block) cannot outlive its session's turn once roles are used.
   */
  private rolesUsed = false;
  /** Settings keys applied without error before (a session's own SETs, startup settings that applied). */
  private readonly goodKeys = new Set<string>();
  /** What each distinct set of startup settings became (settings and reported values), by key. */
  readonly startups = new Map<string, Snapshot>();
  /** Which tables are hypertables, for the chunk fix-up after writes. */
  readonly routing = new HypertableRouting();
  /** The backend's pg_backend_pid(), learned from the first snapshot (every session starts with one). */
  processId = 0;
  /** The session whose statement is executing in the row store right now. */
  private running: BackendSession | undefined;
  private restartedUnder: BackendSession | undefined;
  /** The session whose Parse is the backend's unnamed statement (undefined: nobody's, or unknown). */
  unnamedOwner: BackendSession | undefined;
  /**
   * The transaction status of the ReadyForQuery that ended the last exchange: a Sync now would only
   * repeat it (a simple query ends the implicit transaction as a Sync does). Undefined when the
   * exchange did not end with one (extended-protocol messages, or an error skipping them, wait for a
   * Sync), and while or after the row store is reached otherwise (the in-process API).
   */
  readyStatus: TransactionStatus | undefined;
  /**
   * Bumped whenever a DEALLOCATE ALL or DISCARD ALL drops every prepared statement on the backend;
   * sessions re-parse their statements parsed in an earlier epoch before using them.
   */
  deallocEpoch = 0;
  /** LISTEN registry: channel → listening sessions. The backend itself LISTENs while the set is non-empty. */
  private readonly listeners = new Map<string, Set<BackendSession>>();

  constructor(
    readonly rowStore: RowStore,
    /** Compressed chunks (undefined: a row store without Orbit's columnstore, e.g. in tests). */
    readonly columnstore?: Columnstore,
    /** Where direct COPYs read pieces off this thread (Node), if anywhere. */
    private readonly readerThread?: ReaderThread,
  ) {
    this.preparation = new StatementPreparation(columnstore, (s) => this.internalRunner(s), (s, sql) => this.runInternal(s, sql));
  }

  /** Statements made ready for the columnstore (session/columnstore/statement-preparation.ts). */
  private readonly preparation: StatementPreparation;

  /** Orbit's own SQL for `session`, as the columnstore runs it. */
  internalRunner(session: BackendSession): InternalRunner {
    const searchKey = session.settingsUnread ? undefined : ['search_path', 'role', 'session_authorization'].map((n) => session.settings.get(n) ?? '').join('\0');
    const run = { sql: (sql: string) => this.runInternal(session, sql), raw: (messages: Uint8Array) => this.run(session, messages), ...(searchKey === undefined ? {} : { searchKey }), ...(this.sealedFor === session ? { pipeline: true } : {}) };
    if (!runsAsRole(session)) return session.foldsSettings ? { ...run, settingsKey: session.settingsKey } : run;
    return {
      ...run,
      owner: {
        sql: async (sql) => withoutRoleSwitch(await this.runInternal(session, asBackendRole(sql))),
        raw: async (messages) => withoutRoleSwitchQueries(await this.run(session, concatBytes([simpleQuery(TO_BACKEND_ROLE), messages, simpleQuery(FROM_BACKEND_ROLE)]))),
      },
    };
  }

  /** See StatementPreparation.prepareColumnstore (session/columnstore/statement-preparation.ts). */
  prepareColumnstore(session: BackendSession, sql: string, idle: boolean, fastPath = true, fill = true, onRows?: (rows: DirectRows) => void, values?: (oid: number) => ValueOf, guarded = false, checkBatches = true): Promise<string> {
    return this.preparation.prepareColumnstore(session, sql, idle, fastPath, fill, onRows, values, guarded, checkBatches);
  }

  /**
   * Where a query string is cut into parts (session/fix-up-parts.ts) so that Orbit plans statements
   * once those before them ran, when the string concerns the columnstore:
   * - `replans`: after each statement that may change the columnstore's catalog (DROP, RENAME,
   *   TRUNCATE, drop_chunks, …) where a later one names a relation or runs a prepared one (planned
   *   with the string, it would read the batches of what was dropped or renamed); the fix-up runs
   *   there first (a TRUNCATE's chunks are dropped by it);
   *   and before each ALTER TABLE validating a constraint after other statements (its trial run
   *   must see what they made);
   * - `cuts`: after each statement that may change a setting where a later one names a columnstore
   *   hypertable or runs a prepared statement (settingsCuts).
   * Parts share one transaction only when Orbit opens it: with the string's own transaction control
   * such a string is refused (0A000).
   */
  async partCuts(session: BackendSession, statements: readonly ClassifiedStatement[]): Promise<{ replans: number[]; cuts: number[] }> {
    const none = { replans: [], cuts: [] };
    const cs = this.columnstore;
    if (!cs || statements.length < 2) return none;
    // Only where a later statement names a relation (or runs a prepared one): others plan nothing.
    const plans = (s: ClassifiedStatement) => s.relations.length > 0 || s.preparedName !== undefined;
    // And before a statement whose compressed rows are checked against a constraint by running it
    // once first (validated-constraints.ts): what it names may come from the statements before it.
    const tried = statements.flatMap((s, i) => (i > 0 && validatedConstraint(s) && statements.slice(0, i).some((p) => p.kind !== 'transaction') ? [i] : []));
    let replans = mergePoints(
      statements.flatMap((s, i) => (changesColumnstore(s) && statements.slice(i + 1).some(plans) ? [i + 1] : [])),
      tried,
    );
    const changesSettings = (s: ClassifiedStatement) => s.changesSettings || mayChangeRole(s);
    const settings = statements.slice(0, -1).some(changesSettings);
    if ((replans.length === 0 || !cs.mayConcern(statements)) && !settings) return none;
    await cs.load(this.internalRunner(session), statements);
    if (!cs.mayConcern(statements)) replans = [];
    const cuts = settings ? settingsCuts(statements, changesSettings, (name) => cs.namesHypertable(name)) : [];
    if ((replans.length > 0 || cuts.length > 0) && statements.some((s) => s.kind === 'transaction')) {
      if (replans.length > 0) {
        throw new OrbitError(SqlState.feature_not_supported, 'a statement after a change of a hypertable with the columnstore (DROP, RENAME, ALTER, TRUNCATE, drop_chunks, …) in a query string with transaction control is not supported by Orbit', {
          hint: 'Send the statements separately.',
        });
      }
      const at = statements.findIndex((x, i) => i >= cuts[0]! && x.relations.some((r) => cs.namesHypertable(r.name)));
      const name = at < 0 ? undefined : statements[at]!.relations.find((r) => cs.namesHypertable(r.name))!.name;
      throw new OrbitError(SqlState.feature_not_supported, `${name === undefined ? 'a prepared statement' : `a statement over hypertable "${name}"`} cannot follow a change of settings (SET, set_config, SET ROLE, …) in a query string with transaction control in Orbit`, {
        detail: `Orbit plans statement ${(at < 0 ? cuts[0]! : at) + 1} once the statements before it ran (names and constants depend on the settings), which it does inside one transaction of its own.`,
        hint: 'Send the statements separately.',
      });
    }
    return { replans, cuts };
  }

  /** See StatementPreparation.checkNewConstraints. */
  checkNewConstraints(session: BackendSession, statement: ClassifiedStatement, sql: string, idle: boolean): Promise<void> {
    return this.preparation.checkNewConstraints(session, statement, sql, idle);
  }

  /**
   * After a statement prepared with `guarded` ran (`message`: its error, if any): whether it was a
   * reused fast-path statement that failed (prepare it again, unguarded, and run that).
   */
  retryStale(message: () => string | undefined): boolean {
    return this.columnstore?.retryStale(message) ?? false;
  }

  /** See StatementPreparation.prepareColumnstoreStatement. */
  prepareColumnstoreStatement(session: BackendSession, statement: ClassifiedStatement, idle: boolean): Promise<void> {
    return this.preparation.prepareColumnstoreStatement(session, statement, idle);
  }

  /** See StatementPreparation.missesWork. */
  missesWork(session: BackendSession, statement: ClassifiedStatement): Promise<boolean> {
    return this.preparation.missesWork(session, statement);
  }

  /** See StatementPreparation.fastPathSql. */
  fastPathSql(session: BackendSession, statement: ClassifiedStatement, idle: boolean, onRows?: (rows: PrintedRows) => void): Promise<string | undefined> {
    return this.preparation.fastPathSql(session, statement, idle, onRows);
  }

  /**
   * The direct-to-columnstore COPY for a \`COPY … FROM STDIN\` into a hypertable that takes it
   * (session/direct-ingest/copy.ts), or undefined for the row store path.
   */
  async directCopy(session: BackendSession, statement: ClassifiedStatement, inTransactionBlock: boolean): Promise<DirectCopy | undefined> {
    const cs = this.columnstore;
    if (!cs || !this.routing.writes([statement])) return undefined;
    const run = this.internalRunner(session);
    const target = await directCopyTarget(run, statement);
    if (!target) return undefined;
    cs.noteDirectWrite(inTransactionBlock);
    return new DirectCopy(statement, target, cs.store, run, inTransactionBlock, this.readerThread);
  }

  /**
   * Runs an INSERT … VALUES directly into the columnstore when it qualifies (session/direct-ingest/insert.ts):
   * the client's answer, or undefined to run it as usual.
   */
  async directInsert(session: BackendSession, statement: ClassifiedStatement, inTransactionBlock: boolean, params?: InsertParams): Promise<Uint8Array | undefined> {
    const cs = this.columnstore;
    if (!cs || !this.routing.writes([statement])) return undefined;
    const out = await directInsert(this.internalRunner(session), cs.store, statement, inTransactionBlock, params);
    if (out) cs.noteDirectWrite(inTransactionBlock);
    return out;
  }

  /** Told of every statement run (the job scheduler listens for job changes). */
  onStatements: ((statements: readonly ClassifiedStatement[]) => void) | undefined;

  /** After statements ran: what they changed for the columnstore (and for the job scheduler). */
  noteColumnstore(statements: readonly ClassifiedStatement[]): void {
    this.columnstore?.note(statements);
    this.onStatements?.(statements);
  }

  /** Carries out compress_chunk/decompress_chunk requests (the session is outside a transaction block). */
  async processColumnstoreRequests(session: BackendSession): Promise<OrbitError[]> {
    if (!this.columnstore?.hasRequests) return [];
    return this.columnstore.processRequests(this.internalRunner(session));
  }

  get ownerId(): number | undefined {
    return this.owner?.id;
  }

  /** Some session holds the backend now. */
  get busy(): boolean {
    return this.owner !== undefined;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Takes the backend for `session` (immediately if it already holds it) and puts its settings in place. */
  async acquire(session: BackendSession): Promise<void> {
    if (this.owner === session) return;
    if (this.owner !== undefined) {
      await new Promise<void>((resolve, reject) => this.waiters.push({ session, resolve, reject }));
    } else {
      this.owner = session;
    }
    // Settings applied without error before: applied with the session's first round trip (`run`).
    if (session.foldsSettings && this.goodKeys.has(session.settingsKey)) return;
    try {
      await this.applySettings(session);
    } catch (err) {
      this.release(session);
      throw err;
    }
  }

  /** Gives the backend to the next waiting session. */
  release(session: BackendSession): void {
    if (this.owner !== session) return;
    // Free only outside a transaction: whatever the session's last one did is committed or undone.
    this.columnstore?.transactionEnded();
    const next = this.waiters.shift();
    this.owner = next?.session;
    next?.resolve();
  }

  /** Removes a session from the queue (disconnect or cancel while waiting). Returns whether it was queued. */
  abandon(session: BackendSession, reason: Error): boolean {
    const i = this.waiters.findIndex((w) => w.session === session);
    if (i < 0) return false;
    const [w] = this.waiters.splice(i, 1);
    w!.reject(reason);
    return true;
  }

  holds(session: BackendSession): boolean {
    return this.owner === session;
  }

  /**
   * Runs `sql`, a statement that only describes a result (`DirectRows.describes`), as a simple query
   * for `session` outside a transaction block; its response is kept (Columnstore.described) and
   * given again for the same text and settings without a round trip.
   */
  async describe(session: BackendSession, sql: string): Promise<Uint8Array> {
    const run = () => this.run(session, simpleQuery(sql));
    const cs = this.columnstore;
    if (!cs) return run();
    return cs.described(`simple\0${session.settingsKey}\0${sql}`, run, (out) => firstError(out) === undefined && lastReadyStatus(out) === TransactionStatus.Idle);
  }

  isRunning(session: BackendSession): boolean {
    return this.running === session;
  }

  /**
   * Puts the owning session's settings in place, if they are not, before a statement that reaches
   * the row store other than through `run` (the in-process API's own queries).
   */
  async settle(session: BackendSession): Promise<void> {
    if (session.foldsSettings && this.owner === session && this.appliedKey !== session.settingsKey) await this.applySettings(session);
  }

  /** The session whose implicit transaction Orbit's simple queries must not end (`sealed`). */
  private sealedFor: BackendSession | undefined;
  /**
   * The output of a statement of Orbit's own that failed inside the sealed pipeline: PostgreSQL
   * skips everything up to the Sync, so any further exchange fails the same way (PipelineStatementFailed).
   */
  private pipelineFailure: Uint8Array | undefined;

  /**
   * Runs `fn` (Orbit's work for a message of `session`) with Orbit's simple queries sent as
   * extended-protocol messages without a Sync when `seal`: inside a pipeline's implicit
   * transaction, which a simple query would end (session/pipeline-transaction.ts).
   */
  async sealed<T>(session: BackendSession, seal: boolean, fn: () => Promise<T>): Promise<T> {
    if (!seal) return fn();
    const before = this.sealedFor;
    this.sealedFor = session;
    try {
      return await fn();
    } finally {
      this.sealedFor = before;
    }
  }

  /** Runs raw protocol messages for the owning session (its settings applied first, if they are not). */
  async run(session: BackendSession, messages: Uint8Array): Promise<Uint8Array> {
    if (session.foldsSettings && this.owner === session && this.appliedKey !== session.settingsKey) await this.applySettings(session);
    return this.exchange(session, messages);
  }

  /** `outsidePipeline`: `messages` reach the backend before anything of the session's pipeline (applySettings). */
  private async exchange(session: BackendSession, messages: Uint8Array, outsidePipeline = false): Promise<Uint8Array> {
    if (this.owner !== session) {
      throw new OrbitError(SqlState.internal_error, `session ${session.id} used the backend without holding it`);
    }
    if (this.sealedFor === session && !outsidePipeline) {
      if (this.pipelineFailure) throw new PipelineStatementFailed(this.pipelineFailure);
      if (holdsSimpleQuery(messages)) return this.inPipeline(session, messages);
    }
    const out = await this.runningStatement(session, () => this.rowStore.execProtocolRaw(messages));
    this.readyStatus = lastReadyStatus(out);
    // A Sync (or a simple query) ended the transaction an own statement failed in.
    if (this.readyStatus !== undefined) this.pipelineFailure = undefined;
    return out;
  }

  /**
   * `messages` holding Orbit's own simple queries, run inside the pipeline's implicit transaction
   * (pipelineMessages): their output as a simple query's, without a ReadyForQuery. What they change
   * (cache tables, decompressed batches, the catalog's manifests) is the transaction's, undone with
   * it as inside a transaction block. A failure fails the client's statement.
   */
  private async inPipeline(session: BackendSession, messages: Uint8Array): Promise<Uint8Array> {
    const extended = pipelineMessages(messages);
    if (extended.length === 0) return extended;
    const out = simpleOutput(await this.runningStatement(session, () => this.rowStore.execProtocolRaw(extended)));
    if (firstError(out) === undefined) return out;
    this.pipelineFailure = out;
    throw new PipelineStatementFailed(out);
  }

  /**
   * `fn`, a request of `session` to the row store (the in-process API reaches it directly too), as
   * the statement `interrupt` stops: stopped, it fails with 57014 and the backend's state is reset.
   */
  async runningStatement<T>(session: BackendSession, fn: () => Promise<T>): Promise<T> {
    this.running = session;
    this.readyStatus = undefined;
    try {
      return await fn();
    } catch (err) {
      if (err instanceof RowStoreInterrupted) {
        this.restarted(session);
        throw new OrbitError(SqlState.query_canceled, 'canceling statement due to user request');
      }
      throw err;
    } finally {
      this.running = undefined;
    }
  }

  /**
   * CancelRequest for a statement that is running: the row store restarts on the same data (when
   * it can), which ends the statement. Returns whether a statement was stopped.
   */
  async interrupt(session: BackendSession): Promise<boolean> {
    if (this.running !== session || !this.rowStore.interruptible || !this.rowStore.interrupt) return false;
    await this.rowStore.interrupt();
    return true;
  }

  /**
   * Stops what `session` is doing: its running statement (as `interrupt`), or its wait for the
   * backend (which then fails with 57014). Returns whether something was stopped.
   */
  async stop(session: BackendSession): Promise<boolean> {
    if (this.abandon(session, new OrbitError(SqlState.query_canceled, 'canceling statement due to user request'))) return true;
    return this.interrupt(session);
  }

  /** The backend restarted under `session`: everything sessions left on it is gone. */
  private restarted(session: BackendSession): void {
    this.columnstore?.invalidate();
    this.deallocEpoch++;
    this.routing.invalidate();
    this.appliedKey = settingsKey(new Map());
    this.unnamedOwner = undefined;
    this.restartedUnder = session;
  }

  /** True once for the session whose statement was stopped by a restart (it restores channels). */
  takeRestart(session: BackendSession): boolean {
    if (this.restartedUnder !== session) return false;
    this.restartedUnder = undefined;
    return true;
  }

  /** Runs a simple query of Orbit's own (output not for the client). Clears the unnamed statement, as PostgreSQL does. */
  async runInternal(session: BackendSession, sql: string): Promise<Uint8Array> {
    // Inside a pipeline it runs through a named statement: the client's unnamed one stays.
    if (this.sealedFor === session) return this.run(session, simpleQuery(sql));
    const fold = session.foldsSettings && this.owner === session && this.appliedKey !== session.settingsKey && this.goodKeys.has(session.settingsKey) && FOLDABLE.test(sql);
    const out = fold ? await this.folded(session, sql) : await this.run(session, simpleQuery(sql));
    this.unnamedOwner = undefined;
    return out;
  }

  /**
   * `sql` (one SELECT) run after the session's settings in one simple query: one round trip where
   * switching sessions took two. Its response is the statement's alone. The settings and the
   * statement share an implicit transaction: when the statement fails, the settings are undone
   * with it (the ones applied before stand); when the settings fail (they applied before), nothing
   * after them ran and the usual way follows.
   */
  private async folded(session: BackendSession, sql: string): Promise<Uint8Array> {
    const apply = this.settingsSql(session);
    const out = await this.exchange(session, simpleQuery(`${apply.sql}; ${sql}`));
    let parts = apply.statements;
    let cut = -1;
    for (const f of scanBackend(out)) {
      if (f.type === BackendMessage.ErrorResponse) break;
      if (f.type === BackendMessage.CommandComplete && --parts === 0) {
        cut = f.end;
        break;
      }
    }
    if (cut < 0) return this.run(session, simpleQuery(sql));
    const rest = out.subarray(cut);
    if (firstError(rest) === undefined) this.appliedKey = session.settingsKey;
    return rest;
  }

  /**
   * Gives rows that landed in hypertables' default partitions their chunks (after a batch that wrote
   * to a hypertable, or inside a transaction block before a statement that works on chunks). Safe
   * to skip or fail: such rows stay visible through the hypertable. Inside a transaction block it
   * runs in a savepoint, so a failure leaves the client's transaction as it was. As the backend's
   * role: the extension's functions that create chunks are Orbit's alone (catalog/extension/privileges.ts).
   */
  async routeDefaultRows(session: BackendSession, inBlock = false): Promise<OrbitError[]> {
    await this.loadRouting(session);
    if (this.routing.empty) return [];
    const truncated = this.routing.takeTruncated();
    const sql = truncated ? `${ROUTE_SQL}; ${truncated}` : ROUTE_SQL;
    const fixUp = runsAsRole(session) ? asBackendRole(sql) : sql;
    const out = await this.runInternal(session, inBlock ? `SAVEPOINT orbit_route; ${fixUp}; RELEASE SAVEPOINT orbit_route` : fixUp);
    const error = firstError(out);
    if (error && inBlock) await this.runInternal(session, 'ROLLBACK TO SAVEPOINT orbit_route; RELEASE SAVEPOINT orbit_route');
    // The rows stay visible in the default partition, so the statement stands; but say why they
    // did not get their chunks.
    if (error) {
      return [
        new OrbitError(error.C ?? SqlState.internal_error, `rows were left in the default partition: ${error.M ?? 'unknown error'}`, {
          severity: 'WARNING',
          hint: 'They stay visible through the hypertable; the next write retries moving them into chunks.',
        }),
      ];
    }
    // route_default_rows' own warnings: a hypertable it could not route (the others were).
    return scanBackend(out)
      .filter((f) => f.type === BackendMessage.NoticeResponse)
      .map((f) => readErrorFields(out.subarray(f.start + 5, f.end)))
      .filter((n) => n.V === 'WARNING')
      .map((n) => new OrbitError(n.C ?? SqlState.warning, n.M ?? '', { severity: 'WARNING', ...(n.H ? { hint: n.H } : {}) }));
  }

  /** Reads the hypertable names when the cache is stale (outside a transaction block, or harmless in one). */
  async loadRouting(session: BackendSession): Promise<void> {
    if (this.routing.needsReload) {
      const installed = await this.runInternal(session, INSTALLED_SQL);
      if (!scanBackend(installed).some((f) => f.type === BackendMessage.DataRow)) {
        this.routing.reload([]);
        return;
      }
      const out = await this.runInternal(session, HYPERTABLES_SQL);
      if (firstError(out)) {
        this.routing.reload([]);
        return;
      }
      this.routing.reload(
        scanBackend(out)
          .filter((f) => f.type === BackendMessage.DataRow)
          .map((f) => readDataRow(out.subarray(f.start + 5, f.end))[0] ?? ''),
      );
    }
  }

  /**
   * `sql` (one SELECT) with its now()-style lower bounds made constant (sql/rewrite/stable-bounds.ts)
   * when it reads a hypertable; `sql` itself otherwise. Only for a session outside a transaction
   * block: the probe is a statement of its own, and a failing one must not abort the client's block.
   */
  async withStableBounds(session: BackendSession, sql: string, statements: readonly ClassifiedStatement[], bounds: StableBounds): Promise<string> {
    await this.loadRouting(session);
    if (!this.routing.reads(statements)) return sql;
    const out = await this.runInternal(session, bounds.probeSql);
    const row = scanBackend(out).find((f) => f.type === BackendMessage.DataRow);
    if (!row || firstError(out)) return sql;
    const edits = bounds.edits(readDataRow(out.subarray(row.start + 5, row.end)));
    return edits.length > 0 ? spliceSql(sql, edits) : sql;
  }

  /** Whether the backend is inside a transaction block (asked with an empty query). */
  async inTransaction(session: BackendSession): Promise<boolean> {
    const out = await this.run(session, simpleQuery(''));
    return (lastReadyStatus(out) ?? TransactionStatus.Idle) !== TransactionStatus.Idle;
  }

  /** Reads the owning session's settings after it may have changed them. */
  async snapshot(session: BackendSession): Promise<Snapshot> {
    const out = await this.runInternal(session, SNAPSHOT_SQL);
    const snap = readSnapshot(out);
    if (snap.processId) this.processId = snap.processId;
    return snap;
  }

  /** Records that the backend now carries `session`'s settings (after a snapshot). */
  noteApplied(session: BackendSession): void {
    if (this.owner !== session) return;
    if (carriesRole(session.settings)) this.rolesUsed = true;
    this.appliedKey = session.settingsKey;
    if (this.goodKeys.size >= GOOD_KEYS_KEPT) this.goodKeys.clear();
    this.goodKeys.add(session.settingsKey);
  }

  private settingsSql(session: BackendSession): { sql: string; statements: number } {
    if (carriesRole(session.settings)) this.rolesUsed = true;
    return applySettingsSql(session.settings, this.rolesUsed);
  }

  /** Puts `session`'s settings in place now (after they changed outside a batch: its login role). */
  async applyNow(session: BackendSession): Promise<void> {
    await this.applySettings(session);
  }

  private async applySettings(session: BackendSession): Promise<void> {
    if (this.appliedKey === session.settingsKey) return;
    // A session's turn begins with its settings, before anything of its pipeline reached the
    // backend (a pipeline's messages wait for this round trip): as a simple query, which ends no
    // transaction of the session's, they are not undone with the pipeline's.
    const out = await this.exchange(session, simpleQuery(this.settingsSql(session).sql), true);
    this.unnamedOwner = undefined;
    const err = firstError(out);
    if (err) {
      // Only a session's startup settings (or its login role, since dropped) can fail here: settings
      // it SET itself applied once already.
      await this.exchange(session, simpleQuery(applySettingsSql(new Map(), this.rolesUsed).sql), true);
      this.appliedKey = settingsKey(new Map());
      throw new OrbitError(err.C ?? SqlState.internal_error, err.M ?? 'invalid setting', { detail: err.D, hint: err.H });
    }
    this.appliedKey = session.settingsKey;
    if (this.goodKeys.size >= GOOD_KEYS_KEPT) this.goodKeys.clear();
    this.goodKeys.add(session.settingsKey);
  }

  // ---- LISTEN / NOTIFY fan-out ------------------------------------------------------------------

  /** Registers a listener; returns true if the backend itself must start listening. */
  listen(session: BackendSession, channel: string): boolean {
    let set = this.listeners.get(channel);
    const first = !set || set.size === 0;
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(session);
    return first;
  }

  /** Removes listeners; returns the channels nobody listens to any more (the backend must UNLISTEN them). */
  unlisten(session: BackendSession, channel: string | '*'): string[] {
    const dropped: string[] = [];
    for (const [ch, set] of this.listeners) {
      if (channel !== '*' && ch !== channel) continue;
      if (set.delete(session) && set.size === 0) {
        this.listeners.delete(ch);
        dropped.push(ch);
      }
    }
    return dropped;
  }

  allChannels(): string[] {
    return [...this.listeners.keys()];
  }

  channelsOf(session: BackendSession): string[] {
    return [...this.listeners].filter(([, set]) => set.has(session)).map(([ch]) => ch);
  }

  /**
   * Delivers a NotificationResponse PostgreSQL produced to every session listening on its channel.
   * Its process id is the receiver's own (pg_backend_pid()) when the receiver sent it, and a
   * per-session stand-in otherwise, so clients still tell their own notifications from others'.
   */
  notify(sender: BackendSession, channel: string, payload: string): void {
    for (const s of this.listeners.get(channel) ?? []) {
      const pid = s === sender ? this.processId : NOTIFIER_PID_BASE + Math.abs(sender.id);
      s.deliverNotification(pid, channel, payload);
    }
  }
}
