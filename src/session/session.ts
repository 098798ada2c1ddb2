/**
 * @module session/session
 * One client session over the shared backend. It takes the backend at the first message of a batch
 * and gives it back at a ReadyForQuery that says idle; in between it keeps its own settings,
 * prepared statements (renamed per session), LISTEN channels and transaction, and cleans up after
 * itself when the client goes away.
 */
import { concatBytes } from '../bytes.js';
import { OrbitError, orbitError, toOrbitError } from '../errors.js';
import type { ClassifiedStatement } from '../sql/classify.js';
import { SqlState } from '../sqlstate.js';
import {
  errorResponse,
  lastReadyStatus,
  notificationResponse,
  parameterStatus,
  readyForQuery,
  rewriteErrorField,
  scanBackend,
} from '../wire/protocol/backend.js';
import { readBind, readBindParams, readExecute, readParse, readQuery, readTarget, writeBind, writeParse, writeTarget } from '../wire/protocol/frontend.js';
import { BackendMessage, FrontendMessage, TransactionStatus } from '../wire/protocol/message-codes.js';
import { MessageReader, type Message } from '../wire/protocol/reader.js';
import type { Backend, BackendSession } from './backend.js';
import { appendRows, type PrintedOutput } from './columnstore/scan.js';
import type { DirectRows } from './columnstore/columnstore.js';
import { PendingCommandTags, retagCommands } from './command-tags.js';
import { CopyIn } from './copy-in.js';
import { CopyThrough } from './copy-through.js';
import type { DirectCopy } from './direct-ingest/copy.js';
import { mayInsertDirectly, type InsertParams } from './direct-ingest/insert.js';
import { HeldInsert } from './direct-ingest/held-insert.js';
import { fixUpParts, wholeStringPosition } from './fix-up-parts.js';
import { planSimpleQuery, rewriteStatementNames, type SimpleQueryPlan } from './simple-query.js';
import { BOOT_ROLE, firstError, settingsKey, simpleQuery, type Snapshot } from './settings.js';
import { BOOT_LOGIN, checkAuthorization, loginRole, mayChangeRole, type LoginRole } from './roles.js';
import { backendText } from './rewrite.js';
import { PreparedStatements, type PreparedEntry } from './prepared-statements.js';
import { IdleTimer } from './idle-timer.js';
import { refusal } from './refusals.js';
import { preparedStatementsSql, readsPreparedStatements } from './prepared-view.js';

/** What `forward` looks for in backend output: notifications to fan out, errors to note. */
const FORWARD_FRAMES = [BackendMessage.NotificationResponse, BackendMessage.ErrorResponse];

export interface SessionOptions {
  /** Ends a session that holds the backend inside a transaction and sends nothing for this long; 0 = never. */
  readonly idleInTransactionTimeoutMs: number;
  /** COPY FROM STDIN is handed to PostgreSQL in pieces of about this many bytes. */
  readonly copyChunkBytes: number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = { idleInTransactionTimeoutMs: 60_000, copyChunkBytes: 4 << 20 };

/** Where a session's backend messages go. */
export interface SessionSink {
  write(bytes: Uint8Array): void;
  /** Ends the connection (after a FATAL error has been written). */
  terminate(): void;
}

let lastSessionId = 0;
/** Extended-protocol messages are handed to PGlite in runs of at most this many bytes. */
const MAX_PENDING_BYTES = 1 << 20;
/** A Parse that PostgreSQL rejects with a syntax error: used to put PostgreSQL into its error state. */
const REJECTED_QUERY = 'ORBIT REJECTED';

export class Session implements BackendSession {
  readonly id = ++lastSessionId;
  readonly secretKey: number;
  settings = new Map<string, string>();
  settingsKey = settingsKey(this.settings);
  /** The role the client logged in as; the session runs as it (session/roles.ts). */
  login: LoginRole = BOOT_LOGIN;
  /** Reaches the row store only through the backend's `run` and `runInternal` (see BackendSession). */
  readonly foldsSettings = true;
  /** Values of the reported parameters the client has been told. */
  private readonly reported = new Map<string, string>();
  private readonly prepared: PreparedStatements;
  private status: TransactionStatus = TransactionStatus.Idle;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Command tags to restore in the output of the queued batch (statements Orbit rewrote). */
  private readonly pendingTags = new PendingCommandTags();
  /** PostgreSQL skips extended messages after an error until Sync; so do we. */
  private errorSinceSync = false;
  private settingsDirty = false;
  roleUnread = false;
  /** The batch ran DISCARD ALL (the session authorization goes back to the login role after it). */
  private discardedAll = false;
  /** A batch wrote to a hypertable: give rows in default partitions their chunks at its end. */
  private routePending = false;
  private relisten = false;
  /** Error to put in place of the next ErrorResponse PostgreSQL sends (see REJECTED_QUERY). */
  private substitute: OrbitError | undefined;
  private copy: CopyIn | DirectCopy | CopyThrough | undefined;
  /** The batch's ReadyForQuery, written by endOfBatch after any ParameterStatus. */
  private pendingReady: Uint8Array | undefined;
  /** A Bind that may be a direct insert, with the Describe/Execute of its portal, held until Sync. */
  private held: HeldInsert | undefined;
  /** A Bind or Execute was queued since the last Sync (a later INSERT would share its implicit transaction). */
  private boundSinceSync = false;
  private readonly queuedNotifications: Uint8Array[] = [];
  private readonly idle: IdleTimer;
  private closed = false;
  /** The backend statement a named statement's fast path runs as (parsed afresh at each Bind). */
  private readonly fastPathName = `orbit_fast_path_${this.id}`;
  private fastPathUsed = false;

  constructor(
    private readonly backend: Backend,
    private readonly sink: SessionSink,
    private readonly options: SessionOptions = DEFAULT_SESSION_OPTIONS,
  ) {
    this.prepared = new PreparedStatements(this.id, backend);
    this.idle = new IdleTimer(options.idleInTransactionTimeoutMs, {
      holding: () => !this.closed && this.backend.holds(this),
      running: () => this.backend.isRunning(this),
      expired: () => void this.idleTimeout(),
    });
    this.secretKey = crypto.getRandomValues(new Int32Array(1))[0]!;
  }

  /**
   * Every session reports the backend's own process id, so `pg_backend_pid()` agrees with
   * BackendKeyData; the secret key alone tells sessions apart in a CancelRequest.
   */
  get processId(): number {
    return this.backend.processId;
  }

  get transactionStatus(): TransactionStatus {
    return this.status;
  }

  /**
   * Applies the StartupMessage's settings and returns the ParameterStatus values to report.
   * Throws the backend's error for an invalid setting or role (the connection then fails with FATAL).
   * `role`: the user name the client logged in with; the session runs as that role.
   */
  async start(startupSettings: ReadonlyMap<string, string>, role = BOOT_ROLE): Promise<Map<string, string>> {
    this.settings = new Map(startupSettings);
    this.settingsKey = settingsKey(this.settings);
    // A client that starts exactly like an earlier one need not wait for a backend held by another
    // session's transaction: those settings were applied and checked already. (Not for other roles:
    // the role is checked at every login, as it may have been dropped or lost LOGIN since.)
    const known = role === BOOT_ROLE ? this.backend.startups.get(this.settingsKey) : undefined;
    if (known && this.backend.busy) {
      this.settings = new Map(known.session);
      this.settingsKey = settingsKey(known.session);
      for (const [k, v] of known.reported) this.reported.set(k, v);
      return new Map(this.reported);
    }
    const startupKey = this.settingsKey;
    await this.backend.acquire(this);
    try {
      if (role !== BOOT_ROLE) {
        this.login = await loginRole((sql) => this.backend.runInternal(this, sql), role);
        this.settings = new Map([['session_authorization', role], ...startupSettings]);
        this.settingsKey = settingsKey(this.settings);
        await this.backend.applyNow(this);
      }
      const snap = await this.backend.snapshot(this);
      this.adopt(snap);
      for (const [k, v] of snap.reported) this.reported.set(k, v);
      if (role === BOOT_ROLE) this.backend.startups.set(startupKey, snap);
      return new Map(this.reported);
    } finally {
      this.backend.release(this);
    }
  }

  /** Handles one frontend message after authentication. */
  async handle(msg: Message): Promise<void> {
    if (this.closed) return;
    this.idle.touch();
    try {
      if (this.copy) {
        await this.handleCopyMessage(msg);
        return;
      }
      if (this.held) {
        if (this.held.keep(msg)) return;
        if (msg.type === FrontendMessage.Sync && this.held.executed) {
          await this.syncHeld(msg);
          return;
        }
        await this.releaseHeld();
      }
      switch (msg.type) {
        case FrontendMessage.Query:
          await this.flushPending();
          await this.simpleQuery(readQuery(msg.body));
          break;
        case FrontendMessage.Parse:
          if (this.deferParse(msg)) break;
          await this.extended(msg);
          break;
        case FrontendMessage.Bind:
        case FrontendMessage.Describe:
        case FrontendMessage.Close:
        case FrontendMessage.Execute:
          await this.extended(msg);
          break;
        case FrontendMessage.FunctionCall:
          // Fast-path calls (large objects) are answered at once, with a ReadyForQuery, like a Query.
          await this.ensureBackend();
          await this.flushPending(msg.raw);
          await this.endOfBatch();
          break;
        case FrontendMessage.Flush:
          await this.ensureBackend();
          await this.flushPending(msg.raw);
          break;
        case FrontendMessage.Sync:
          if (!this.backend.holds(this) && this.pending.length === 0) {
            // Nothing reached the backend since the last Sync (deferred Parses, skipped messages).
            this.errorSinceSync = false;
            this.boundSinceSync = false;
            this.sink.write(readyForQuery(this.status));
            break;
          }
          await this.ensureBackend();
          await this.flushPending(msg.raw);
          this.errorSinceSync = false;
          this.boundSinceSync = false;
          await this.endOfBatch();
          break;
        case FrontendMessage.CopyData:
        case FrontendMessage.CopyDone:
        case FrontendMessage.CopyFail:
          // Outside COPY these are ignored, as PostgreSQL does (it discards them after a failed COPY).
          break;
        default:
          throw orbitError('protocol_violation', `invalid frontend message type ${msg.type}`, { severity: 'FATAL' });
      }
    } catch (err) {
      await this.fail(err, msg.type === FrontendMessage.Query);
    } finally {
      // Idle time counts from the end of the work a message caused, not from its arrival.
      this.idle.touch();
      this.idle.arm();
    }
  }

  // ---- simple query ---------------------------------------------------------------------------

  private async simpleQuery(sql: string): Promise<void> {
    await this.ensureBackend();
    const store = this.backend.rowStore;
    // A row store that parses large texts a piece at a time (the edge) gets them unparsed: a whole
    // parse tree is what it must not hold.
    if (store.unparsedQueryChars !== undefined && sql.length > store.unparsedQueryChars) return this.runUnplanned(sql);
    const plan = planSimpleQuery(sql, this);
    if (plan.kind === 'reject') {
      await this.reject(plan.error, true);
    } else if (plan.kind === 'copy-in') {
      if (store.streamsCopyIn) return this.runUnplanned(sql);
      const direct = await this.backend.directCopy(this, plan.statement, this.status !== TransactionStatus.Idle);
      if (direct) {
        this.copy = direct;
        this.sink.write(direct.copyInResponse());
        return;
      }
      // Into a hypertable with a unique index and compressed chunks: those are decompressed first.
      await this.backend.prepareColumnstoreStatement(this, plan.statement, this.status === TransactionStatus.Idle);
      const hypertable = this.backend.routing.writes([plan.statement]);
      if (hypertable) this.routePending = true;
      const copy = new CopyIn(plan.statement, this.options.copyChunkBytes, this.status !== TransactionStatus.Idle, hypertable);
      this.copy = copy;
      this.sink.write(copy.copyInResponse());
      return;
    } else {
      const only = plan.statements.length === 1 && plan.prelude.length === 0 ? plan.statements[0]! : undefined;
      const direct = only?.type === 'InsertStmt' ? await this.backend.directInsert(this, only, this.status !== TransactionStatus.Idle) : undefined;
      if (direct) {
        this.forward(direct);
        await this.endOfBatch();
        return;
      }
      // Rows written earlier in the string (or the open transaction) get their chunks before a
      // statement that works on chunks.
      const wroteBefore = this.routePending && this.status === TransactionStatus.InTransaction;
      if (plan.statements.length > 1 || wroteBefore) {
        await this.backend.loadRouting(this);
        const points = this.backend.routing.fixUpPoints(plan.statements, wroteBefore);
        if (points.length > 0) return this.runInParts(sql, plan.statements, points);
      }
      this.forward(await this.runPlan(plan, true));
    }
    await this.endOfBatch();
  }

  /**
   * Inside a transaction block after a write to a hypertable, a statement that works on chunks
   * gets the fix-up first (in a savepoint), so it sees the written rows' chunks. (In a pipeline
   * without BEGIN the write's implicit transaction is still open: no savepoint there, so not then.)
   */
  private async fixUpBefore(statement: ClassifiedStatement | undefined): Promise<void> {
    if (!statement || !this.routePending || this.status !== TransactionStatus.InTransaction || !this.backend.routing.usesChunks(statement)) return;
    await this.flushPending();
    await this.routeInBlock();
  }

  /** The fix-up inside the open transaction; a failure is the client's warning. */
  private async routeInBlock(): Promise<void> {
    const warning = await this.backend.routeDefaultRows(this, true);
    if (warning) this.sink.write(errorResponse(warning, BackendMessage.NoticeResponse));
  }

  /**
   * Runs a planned simple query; its output, command tags restored. `guarded`: a query string run
   * whole (not a part inside the transaction Orbit opens for parts), so a reused fast-path statement
   * may run guarded and, when it fails, be planned and run again.
   */
  private async runPlan(plan: Extract<SimpleQueryPlan, { kind: 'run' }>, guarded = false): Promise<Uint8Array | PrintedOutput> {
    for (const replay of plan.prelude) await this.backend.runInternal(this, replay);
    await this.restorePrepared(plan.statements);
    this.noteEffects(plan.statements);
    const idle = this.status === TransactionStatus.Idle;
    const bounded = plan.bounds && idle ? await this.backend.withStableBounds(this, plan.sql, plan.statements, plan.bounds) : plan.sql;
    // A scan may print its compressed rows itself (appended to the rowstore's, below).
    let printed: DirectRows | undefined;
    const sql = await this.backend.prepareColumnstore(this, bounded, idle, true, true, (rows) => (printed = rows), undefined, guarded);
    // A statement that only describes the result Orbit made: its response may be one kept.
    let out = idle && (printed as DirectRows | undefined)?.describes ? await this.backend.describe(this, sql) : await this.backend.run(this, simpleQuery(sql));
    // A reused fast-path statement that failed (its inputs changed, or anything else): planned again and run once more.
    if (this.backend.retryStale(() => firstError(out)?.M)) out = await this.backend.run(this, simpleQuery(await this.backend.prepareColumnstore(this, bounded, idle, true, true, (rows) => (printed = rows))));
    let merged: Uint8Array | PrintedOutput | undefined = out;
    if (printed) {
      merged = appendRows(out, printed);
      // A result shaped otherwise than planned (a domain type, …): the general path instead.
      merged ??= await this.backend.run(this, simpleQuery(await this.backend.prepareColumnstore(this, bounded, idle)));
    }
    this.backend.unnamedOwner = undefined;
    this.backend.noteColumnstore(plan.statements);
    if (merged instanceof Uint8Array) return retagCommands(merged, plan.tags);
    // The printed rows' parts are sent as they are, unless a command tag must be rewritten.
    return plan.tags && plan.tags.size > 0 ? retagCommands(concatBytes([merged.head, ...merged.rows, merged.tail]), plan.tags) : merged;
  }

  /**
   * Runs a query string in parts with the hypertable fix-up between them (session/fix-up-parts.ts).
   * Outside a transaction block the parts share one transaction Orbit opens and ends, so an error
   * in any part leaves nothing of the string, as PostgreSQL's implicit transaction would.
   */
  private async runInParts(original: string, statements: readonly ClassifiedStatement[], points: number[]): Promise<void> {
    const parsed = backendText(original);
    const parts = parsed.ok ? fixUpParts(parsed.sql, statements, points) : parsed.error;
    if (parts instanceof OrbitError) {
      await this.reject(parts, true);
      return this.endOfBatch();
    }
    const wrap = this.status === TransactionStatus.Idle;
    if (wrap) await this.backend.runInternal(this, 'BEGIN');
    let failed = false;
    for (const part of parts) {
      if (part.fixUpFirst) await this.routeInBlock();
      const plan = planSimpleQuery(part.sql, this);
      if (plan.kind !== 'run') throw new OrbitError(SqlState.internal_error, 'a part of a query string planned otherwise than the whole');
      const out = await this.runPlan(plan);
      // Printed rows are only ever a result without an error.
      const error = out instanceof Uint8Array ? scanBackend(out, [BackendMessage.ErrorResponse])[0] : undefined;
      if (!error || !(out instanceof Uint8Array)) {
        this.forward(out);
        continue;
      }
      this.forward(concatBytes([out.subarray(0, error.start), wholeStringPosition(out.subarray(error.start, error.end), part), out.subarray(error.end)]));
      failed = true;
      break;
    }
    if (wrap) {
      const end = await this.backend.runInternal(this, failed ? 'ROLLBACK' : 'COMMIT');
      this.forwardErrorsOnly(end);
      this.status = TransactionStatus.Idle;
      this.pendingReady = readyForQuery(TransactionStatus.Idle);
    }
    await this.endOfBatch();
  }

  /**
   * Runs a simple query the row store plans itself (large texts at the edge, COPY FROM STDIN into a
   * row store that reads the stream); a COPY it starts passes through (session/copy-through.ts).
   */
  private async runUnplanned(sql: string): Promise<void> {
    // Whatever the text did to settings is read back at the end of the batch.
    this.settingsDirty = true;
    const out = await this.backend.run(this, simpleQuery(sql));
    this.forward(out);
    this.copy = CopyThrough.startedBy(out);
    if (!this.copy) await this.endOfBatch();
  }

  /** Records what statements about to run do to session state. */
  noteEffects(statements: readonly ClassifiedStatement[]): void {
    if (this.backend.routing.writes(statements)) this.routePending = true;
    for (const s of statements) {
      if (s.changesSettings || mayChangeRole(s)) this.settingsDirty = true;
      if (mayChangeRole(s)) this.roleUnread = true;
      if (s.kind === 'listen' && s.channel) this.backend.listen(this, s.channel);
      if (s.kind === 'unlisten' && s.channel) {
        this.backend.unlisten(this, s.channel);
        this.relisten = true;
      }
      if (s.type === 'DiscardStmt' && (s.node.target as string | undefined) === 'DISCARD_ALL') {
        this.backend.unlisten(this, '*');
        this.relisten = true;
        this.prepared.forgetAll();
        this.discardedAll = true;
      }
      if (s.kind === 'deallocate') {
        if (s.preparedName === undefined) this.prepared.forgetAll();
        else this.prepared.delete(s.preparedName);
      }
    }
  }

  /** Maps a client's statement name to this session's backend name (creating one for PREPARE). */
  backendStatementName(clientName: string, create: boolean, prepareSql?: (backendName: string) => string, clientText?: string): string {
    return this.prepared.backendName(clientName, create, undefined, undefined, true, prepareSql, clientText);
  }

  preparedStatementsSql(): string {
    return preparedStatementsSql(this.prepared.listed());
  }

  /** Before a statement reads pg_prepared_statements: the session's statements dropped from the backend are put back. */
  private async restorePrepared(statements: readonly ClassifiedStatement[]): Promise<void> {
    if (!statements.some(readsPreparedStatements)) return;
    for (const name of this.prepared.clientNames()) await this.prepareUse(name);
  }

  replayFor(clientName: string): string | undefined {
    return this.prepared.replayFor(clientName);
  }

  // ---- extended query -------------------------------------------------------------------------

  /**
   * A named Parse that arrives while another session holds the backend in a transaction is
   * acknowledged at once (after PostgreSQL's parser accepted the text) and sent to the backend when
   * the statement is first used. libpq's PQprepare waits synchronously, so a client thread that
   * prepares on one connection while its other connection is inside a transaction (pgbench
   * -M prepared with several clients per thread) would otherwise wait for itself. Errors PostgreSQL
   * finds only on the backend (unknown tables, types) are then reported at first use.
   */
  private deferParse(msg: Message): boolean {
    if (this.backend.holds(this) || !this.backend.busy || this.status !== TransactionStatus.Idle || this.pending.length > 0 || this.errorSinceSync) {
      return false;
    }
    const parsed = readParse(msg.body);
    if (parsed.name === '' || this.prepared.has(parsed.name)) return false;
    const text = backendText(parsed.query);
    const analysis = text.ok ? text.analysis : undefined;
    if (!text.ok || !analysis?.ok || analysis.statements.length !== 1 || refusal(analysis.statements[0]!, 'extended')) return false;
    if (checkAuthorization(analysis.statements[0]!, this.login) !== analysis.statements[0]) return false;
    // Statements the columnstore rewrites are parsed when the backend is free.
    if (this.backend.columnstore?.mayConcern(analysis.statements)) return false;
    const query = analysis.statements[0]!.rewrite?.sql ?? rewriteStatementNames(text.sql, analysis.statements, this);
    this.prepared.backendName(parsed.name, true, { ...parsed, query }, analysis.statements[0], false, undefined, parsed.query);
    this.sink.write(PARSE_COMPLETE);
    return true;
  }

  private async extended(msg: Message, mayHold = true): Promise<void> {
    await this.ensureBackend();
    if (this.errorSinceSync) return; // PostgreSQL would skip it until Sync.
    await this.queueExtended(msg, mayHold);
    // Long pipelines (executemany) go to PGlite in runs, so memory stays bounded.
    if (this.pendingBytes >= MAX_PENDING_BYTES) await this.flushPending();
  }

  private async queueExtended(msg: Message, mayHold: boolean): Promise<void> {
    switch (msg.type) {
      case FrontendMessage.Parse: {
        const parsed = readParse(msg.body);
        const text = backendText(parsed.query);
        if (!text.ok) return this.reject(text.error, false);
        const analysis = text.analysis;
        const checked = analysis.ok ? analysis.statements.map((s) => checkAuthorization(s, this.login)) : [];
        const denied = checked.find((c) => c instanceof OrbitError);
        if (denied) return this.reject(denied, false);
        const statements = checked as ClassifiedStatement[];
        // A statement rewritten whole (sql/rewrite: CREATE TABLE … WITH, ALTER TABLE … SET) replaces the text.
        const rewritten = statements.length === 1 ? statements[0]!.rewrite?.sql : undefined;
        let parse = analysis.ok ? { ...parsed, query: rewritten ?? rewriteStatementNames(text.sql, statements, this) } : parsed;
        const stmt = statements[0];
        if (analysis.ok) {
          const problem = statements.map((s) => refusal(s, 'extended')).find((e) => e !== undefined);
          if (problem) return this.reject(problem, false);
          await this.restorePrepared(statements);
          if (this.backend.columnstore?.mayConcern(analysis.statements)) {
            await this.flushPending();
            // Aggregates computed now are only right for a statement run now: the unnamed one. A named
            // one gets its fast path or its cache tables at each Bind (prepareColumnstoreUse).
            const unnamed = parse.name === '';
            parse = { ...parse, query: await this.backend.prepareColumnstore(this, parse.query, this.status === TransactionStatus.Idle, unnamed, unnamed) };
          }
        }
        if (parse.name === '') {
          this.prepared.setUnnamed(parse, stmt);
          this.backend.unnamedOwner = this;
          this.queue(parse === parsed ? msg.raw : writeParse(parse));
        } else {
          if (this.prepared.has(parse.name)) {
            return this.reject(new OrbitError(SqlState.duplicate_prepared_statement, `prepared statement "${parse.name}" already exists`), false);
          }
          const name = this.prepared.backendName(parse.name, true, parse, stmt, true, undefined, parsed.query);
          this.queue(writeParse({ ...parse, name }));
        }
        return;
      }
      case FrontendMessage.Bind: {
        const bind = readBind(msg.body);
        if (mayHold && this.holdInsert(msg, bind.portal, bind.statement, bind.rest)) return;
        this.boundSinceSync = true;
        await this.fixUpBefore(this.prepared.lookup(bind.statement)?.statement);
        const fast = await this.prepareColumnstoreUse(bind.statement);
        if (fast) {
          this.prepared.portals.set(bind.portal, fast.statement);
          this.queue(writeBind({ ...bind, statement: fast.backendName }));
          return;
        }
        const statement = await this.prepareUse(bind.statement);
        this.prepared.portals.set(bind.portal, statement?.statement);
        this.queue(statement && bind.statement !== '' ? writeBind({ ...bind, statement: statement.backendName }) : msg.raw);
        return;
      }
      case FrontendMessage.Describe:
      case FrontendMessage.Close: {
        const t = readTarget(msg.body);
        if (t.target === 'P') {
          if (msg.type === FrontendMessage.Close) this.prepared.portals.delete(t.name);
          this.queue(msg.raw);
          return;
        }
        const entry = msg.type === FrontendMessage.Describe ? await this.prepareUse(t.name) : this.prepared.lookup(t.name);
        if (msg.type === FrontendMessage.Close) this.prepared.delete(t.name);
        this.queue(entry && t.name !== '' ? writeTarget(msg.type, { target: 'S', name: entry.backendName }) : msg.raw);
        return;
      }
      case FrontendMessage.Execute: {
        const { portal } = readExecute(msg.body);
        this.boundSinceSync = true;
        const stmt = this.prepared.portals.get(portal);
        if (stmt) {
          this.noteEffects([stmt]);
          this.backend.noteColumnstore([stmt]);
        }
        this.pendingTags.note(stmt?.rewrite?.commandTag);
        this.queue(msg.raw);
        return;
      }
      default:
        this.queue(msg.raw);
    }
  }

  // ---- direct INSERT over the extended protocol --------------------------------------------------

  /**
   * Holds a Bind of a multi-row INSERT … VALUES with text parameters into a hypertable
   * (session/direct-ingest/insert.ts) instead of sending it on. It runs directly only if it runs alone
   * before Sync: nothing bound or executed before it since the last Sync (that would share its
   * implicit transaction) and only Describe/Execute of its portal after it.
   */
  private holdInsert(msg: Message, portal: string, statementName: string, rest: Uint8Array): boolean {
    if (this.boundSinceSync || this.status === TransactionStatus.Failed || !this.backend.columnstore) return false;
    const entry = this.prepared.lookup(statementName);
    const statement = entry?.statement;
    if (!entry || statement?.type !== 'InsertStmt' || !this.backend.routing.writes([statement])) return false;
    const bound = readBindParams(rest);
    if (!bound) return false;
    const params: InsertParams = { values: bound.values, types: entry.parse.paramTypes };
    if (!mayInsertDirectly(statement, params, bound.formats)) return false;
    this.held = new HeldInsert(msg, portal, statement, params);
    return true;
  }

  /** The held messages go the ordinary way, in order. */
  private async releaseHeld(): Promise<void> {
    const held = this.held!;
    this.held = undefined;
    for (const m of held.messages) await this.extended(m, false);
  }

  /**
   * Sync after a held Bind and Execute: what was queued before them (Parse, Describe of the
   * statement) runs with its own Sync, whose ReadyForQuery is kept back, then the INSERT runs
   * directly and answers BindComplete, NoData if described, and its CommandComplete or error.
   */
  private async syncHeld(sync: Message): Promise<void> {
    const held = this.held!;
    await this.ensureBackend();
    if (this.pending.length > 0) {
      const out = await this.backend.run(this, concatBytes([...this.pending, sync.raw]));
      this.pending = [];
      this.pendingBytes = 0;
      if (scanBackend(out).some((f) => f.type === BackendMessage.ErrorResponse)) {
        // PostgreSQL skips the Bind and Execute after an error.
        this.held = undefined;
        this.forward(retagCommands(out, this.pendingTags.take()));
        this.boundSinceSync = false;
        await this.endOfBatch();
        return;
      }
      this.forward(out.subarray(0, out.length - 6));
    }
    this.held = undefined;
    const out = await this.backend.directInsert(this, held.statement, this.status !== TransactionStatus.Idle, held.params);
    if (!out) {
      for (const m of held.messages) await this.extended(m, false);
      await this.flushPending(sync.raw);
      this.errorSinceSync = false;
    } else {
      this.sink.write(held.described ? BIND_COMPLETE_NO_DATA : BIND_COMPLETE);
      this.forward(out);
    }
    this.boundSinceSync = false;
    await this.endOfBatch();
  }

  /**
   * Before a Bind of a named statement over a hypertable with the columnstore enabled: a statement
   * the planner's fast path takes is computed now and parsed under this session's fast-path name
   * (the Bind then goes there); otherwise its cache tables or DML decompression are brought up to
   * date, since chunks may have changed since it was parsed. The unnamed statement was prepared by
   * its own Parse.
   */
  private async prepareColumnstoreUse(name: string): Promise<{ backendName: string; statement: ClassifiedStatement } | undefined> {
    const entry = this.prepared.lookup(name);
    if (name === '' || !entry?.statement || !this.backend.columnstore?.mayConcern([entry.statement])) return undefined;
    await this.flushPending();
    const idle = this.status === TransactionStatus.Idle;
    const sql = await this.backend.fastPathSql(this, entry.statement, idle);
    if (sql !== undefined) {
      const backendName = this.fastPathName;
      const out = await this.backend.run(this, concatBytes([writeTarget(FrontendMessage.Close, { target: 'S', name: backendName }), writeParse({ name: backendName, query: sql, paramTypes: [] })]));
      // Deallocated at disconnect only if it exists (a failed DEALLOCATE would stop the clean-up).
      this.fastPathUsed = !scanBackend(out).some((f) => f.type === BackendMessage.ErrorResponse);
      this.forwardErrorsOnly(out);
      return { backendName, statement: entry.statement };
    }
    await this.backend.prepareColumnstoreStatement(this, entry.statement, idle);
    return undefined;
  }

  /**
   * Makes sure the statement a Bind/Describe names is this session's on the backend: another
   * session may have replaced the unnamed statement, or a DEALLOCATE ALL / DISCARD ALL may have
   * dropped named ones. Re-parses from the kept Parse message when needed.
   */
  private async prepareUse(name: string): Promise<PreparedEntry | undefined> {
    const entry = this.prepared.lookup(name);
    if (name === '') {
      if (this.backend.unnamedOwner === this) return entry;
      await this.flushPending();
      // Either restore our unnamed statement or make sure nobody else's answers for it.
      const out = await this.backend.run(this, entry ? writeParse(entry.parse) : writeTarget(FrontendMessage.Close, { target: 'S', name: '' }));
      this.backend.unnamedOwner = this;
      this.forwardErrorsOnly(out);
      return entry;
    }
    const replay = name === '' ? undefined : this.prepared.replayFor(name);
    if (replay) {
      await this.flushPending();
      await this.backend.runInternal(this, replay);
    }
    if (entry && this.prepared.stale(entry)) {
      await this.flushPending();
      const out = await this.backend.run(this, writeParse(entry.parse));
      entry.epoch = this.backend.deallocEpoch;
      entry.onBackend = true;
      this.forwardErrorsOnly(out);
    }
    return entry;
  }

  private queue(raw: Uint8Array): void {
    this.pending.push(raw);
    this.pendingBytes += raw.length;
  }

  /** Sends the queued extended messages (plus `tail`) to the backend and their output to the client. */
  private async flushPending(tail?: Uint8Array): Promise<void> {
    if (tail) this.queue(tail);
    if (this.pending.length === 0) return;
    const batch = this.pending.length === 1 ? this.pending[0]! : concatBytes(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    const out = await this.backend.run(this, batch);
    this.forward(retagCommands(out, this.pendingTags.take()));
  }

  // ---- output ---------------------------------------------------------------------------------

  /** Passes backend output to the client: notifications fan out, rejected statements get Orbit's error. */
  forward(out: Uint8Array | PrintedOutput): void {
    if (!(out instanceof Uint8Array)) {
      // Orbit's own DataRows (and the CommandComplete it made for them) go as they are; what
      // PostgreSQL sent around them is looked at as usual.
      this.forward(out.head);
      for (const part of out.rows) if (part.length > 0) this.sink.write(part);
      return this.forward(out.tail);
    }
    const frames = scanBackend(out, FORWARD_FRAMES);
    let keepFrom = 0;
    const parts: Uint8Array[] = [];
    for (const f of frames) {
      if (f.type === BackendMessage.NotificationResponse) {
        parts.push(out.subarray(keepFrom, f.start));
        keepFrom = f.end;
        const r = new MessageReader(out.subarray(f.start + 5, f.end));
        r.int32();
        this.backend.notify(this, r.cstring(), r.cstring());
      } else if (f.type === BackendMessage.ErrorResponse) {
        this.errorSinceSync = true;
        if (this.substitute) {
          parts.push(out.subarray(keepFrom, f.start), errorResponse(this.substitute));
          keepFrom = f.end;
          this.substitute = undefined;
        } else {
          let changed = false;
          const renamed = rewriteErrorField(out.subarray(f.start, f.end), 'M', (m) => {
            const named = this.prepared.clientNamesIn(m);
            changed = named !== m;
            return named;
          });
          if (changed) {
            parts.push(out.subarray(keepFrom, f.start), renamed);
            keepFrom = f.end;
          }
        }
      }
    }
    const status = lastReadyStatus(out);
    if (status !== undefined) {
      this.status = status;
      this.errorSinceSync = false; // ReadyForQuery: PostgreSQL no longer skips messages
      // Held back: changed settings are reported with ParameterStatus before it (endOfBatch).
      this.pendingReady = out.subarray(out.length - 6);
      parts.push(out.subarray(keepFrom, out.length - 6));
    } else {
      parts.push(out.subarray(keepFrom));
    }
    for (const p of parts) if (p.length > 0) this.sink.write(p);
  }

  /** Output of Orbit's own housekeeping messages: only errors concern the client. */
  private forwardErrorsOnly(out: Uint8Array): void {
    for (const f of scanBackend(out)) {
      if (f.type === BackendMessage.ErrorResponse) {
        this.errorSinceSync = true;
        this.sink.write(out.subarray(f.start, f.end));
      }
    }
  }

  /**
   * Answers a statement Orbit refuses with `err`, leaving PostgreSQL in exactly the state its own
   * error would (transaction aborted, extended messages skipped until Sync): a statement that fails
   * to parse is sent in its place and its error is replaced by ours.
   */
  private async reject(err: OrbitError, simple: boolean): Promise<void> {
    await this.flushPending();
    this.substitute = err;
    const msg = simple ? simpleQuery(REJECTED_QUERY) : writeParse({ name: '', query: REJECTED_QUERY, paramTypes: [] });
    const out = await this.backend.run(this, msg);
    this.backend.unnamedOwner = undefined;
    if (!simple) this.prepared.delete('');
    this.forward(out);
    this.substitute = undefined;
  }

  // ---- COPY FROM STDIN ------------------------------------------------------------------------

  private async handleCopyMessage(msg: Message): Promise<void> {
    const copy = this.copy!;
    switch (msg.type) {
      case FrontendMessage.CopyData:
        await copy.data(msg.body, this.copyRunner);
        return;
      case FrontendMessage.CopyDone:
      case FrontendMessage.CopyFail: {
        this.copy = undefined;
        const failMessage = msg.type === FrontendMessage.CopyFail ? new MessageReader(msg.body).cstring() : undefined;
        const out = await copy.finish(this.copyRunner, failMessage);
        this.forward(out);
        await this.endOfBatch();
        return;
      }
      case FrontendMessage.Flush:
      case FrontendMessage.Sync:
        return; // ignored during COPY, as PostgreSQL does
      default:
        this.copy = undefined;
        await copy.finish(this.copyRunner, 'unexpected message type during COPY');
        throw orbitError('protocol_violation', `unexpected message type 0x${msg.type.toString(16)} during COPY from stdin`, { severity: 'FATAL' });
    }
  }

  private readonly copyRunner = (messages: Uint8Array): Promise<Uint8Array> => this.backend.run(this, messages);

  // ---- batch boundaries -----------------------------------------------------------------------

  private async ensureBackend(): Promise<void> {
    if (!this.backend.holds(this)) await this.backend.acquire(this);
  }

  /** After a ReadyForQuery: report changed parameters, send the ReadyForQuery, give the backend back if idle. */
  private async endOfBatch(): Promise<void> {
    const idle = this.backend.holds(this) && this.status === TransactionStatus.Idle;
    if (idle && this.relisten) {
      this.relisten = false;
      const channels = this.backend.allChannels();
      if (channels.length > 0) await this.backend.runInternal(this, channels.map((c) => `LISTEN ${quoteIdent(c)}`).join('; '));
    }
    if (idle && this.routePending) {
      this.routePending = false;
      const warning = await this.backend.routeDefaultRows(this);
      if (warning) this.sink.write(errorResponse(warning, BackendMessage.NoticeResponse));
    }
    if (idle) {
      for (const error of await this.backend.processColumnstoreRequests(this)) this.sink.write(errorResponse(error));
    }
    if (idle && this.settingsDirty) {
      this.settingsDirty = false;
      this.roleUnread = false;
      // DISCARD ALL returns to the login role in PostgreSQL; PGlite's backend keeps the current one.
      if (this.discardedAll && this.login.name !== BOOT_ROLE) await this.backend.runInternal(this, `SET SESSION AUTHORIZATION ${quoteIdent(this.login.name)}`);
      this.discardedAll = false;
      const snap = await this.backend.snapshot(this);
      this.adopt(snap);
      this.reportChanges(snap);
    }
    if (this.pendingReady) {
      this.sink.write(this.pendingReady);
      this.pendingReady = undefined;
    }
    if (idle) {
      this.backend.release(this);
      for (const n of this.queuedNotifications.splice(0)) this.sink.write(n);
    }
  }

  private adopt(snap: Snapshot): void {
    this.settings = snap.session;
    this.settingsKey = settingsKey(snap.session);
    this.backend.noteApplied(this);
  }

  private reportChanges(snap: Snapshot): void {
    for (const [name, value] of snap.reported) {
      if (this.reported.get(name) !== value) {
        this.reported.set(name, value);
        this.sink.write(parameterStatus(name, value));
      }
    }
  }

  deliverNotification(processId: number, channel: string, payload: string): void {
    const msg = notificationResponse(processId, channel, payload);
    if (this.backend.holds(this) && this.status !== TransactionStatus.Idle) this.queuedNotifications.push(msg);
    else this.sink.write(msg);
  }

  // ---- errors, timeouts, cancel, close --------------------------------------------------------

  /**
   * Answers an error raised by Orbit itself while handling a message. Unexpected exceptions (the
   * backend failing) end the session; an Orbit error leaves PostgreSQL in the state its own error
   * would (simple query: ErrorResponse + ReadyForQuery; extended: skip until Sync).
   */
  private async fail(err: unknown, simple: boolean): Promise<void> {
    const e = err instanceof OrbitError ? err : new OrbitError(SqlState.internal_error, toOrbitError(err).message, { severity: 'FATAL', cause: err });
    if (e.severity === 'FATAL' || e.severity === 'PANIC') {
      this.sink.write(errorResponse(e));
      await this.close();
      this.sink.terminate();
      return;
    }
    if (this.backend.holds(this)) {
      if (this.backend.takeRestart(this)) await this.afterRestart();
      await this.reject(e, simple || this.copy !== undefined);
      if (simple || this.copy !== undefined) {
        this.copy = undefined;
        await this.endOfBatch();
      }
      return;
    }
    // Not holding the backend (e.g. cancelled while waiting for it): the backend state is untouched.
    this.sink.write(errorResponse(e));
    if (simple) this.sink.write(readyForQuery(this.status));
    else this.errorSinceSync = true;
  }

  private async idleTimeout(): Promise<void> {
    if (this.closed || !this.backend.holds(this)) return;
    this.sink.write(
      errorResponse(new OrbitError(SqlState.idle_in_transaction_session_timeout, 'terminating connection due to idle-in-transaction timeout', { severity: 'FATAL' })),
    );
    await this.close();
    this.sink.terminate();
  }

  /**
   * The backend was restarted to stop this session's statement: restore the other sessions'
   * channels, and if the client was inside a transaction block, leave it in an aborted one, as
   * PostgreSQL does after a cancel.
   */
  private async afterRestart(): Promise<void> {
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingTags.take();
    const channels = this.backend.allChannels();
    if (channels.length > 0) await this.backend.runInternal(this, channels.map((c) => `LISTEN ${quoteIdent(c)}`).join('; '));
    if (this.status !== TransactionStatus.Idle) {
      await this.backend.runInternal(this, 'BEGIN');
      this.status = TransactionStatus.InTransaction;
    }
  }

  /**
   * CancelRequest: a statement waiting for the backend is dropped from the queue; a running one is
   * stopped if the row store can restart (files), otherwise it runs to its end.
   */
  cancel(): void {
    const canceled = new OrbitError(SqlState.query_canceled, 'canceling statement due to user request');
    if (this.backend.abandon(this, canceled)) return;
    void this.backend.interrupt(this);
  }

  /** Disconnect: roll back, drop this session's statements and channels, give the backend back. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.idle.stop();
    this.backend.abandon(this, new OrbitError(SqlState.admin_shutdown, 'session closed'));
    const names = [...this.prepared.backendNames(), ...(this.fastPathUsed ? [this.fastPathName] : [])];
    const dropped = this.backend.unlisten(this, '*');
    const dirtyBackend = this.backend.holds(this) && (this.status !== TransactionStatus.Idle || this.pending.length > 0 || this.copy !== undefined);
    if (!dirtyBackend && names.length === 0 && dropped.length === 0) {
      this.backend.release(this);
      return;
    }
    try {
      await this.ensureBackend();
      this.pending = [];
      const copy = this.copy;
      this.copy = undefined;
      // A COPY the row store is reading is cancelled there (it ignores a Sync until the COPY ends).
      if (copy instanceof CopyThrough) await copy.finish(this.copyRunner, 'session closed');
      const sql = ['ROLLBACK', ...names.map((n) => `DEALLOCATE ${quoteIdent(n)}`), ...dropped.map((c) => `UNLISTEN ${quoteIdent(c)}`)];
      // Sync first: ends an extended-query sequence the client left half-way.
      await this.backend.run(this, SYNC);
      await this.backend.runInternal(this, sql.join('; '));
    } catch {
      // The backend is going away or already clean; nothing more to undo.
    } finally {
      this.backend.release(this);
    }
  }
}

const SYNC = new Uint8Array([FrontendMessage.Sync, 0, 0, 0, 4]);
const PARSE_COMPLETE = new Uint8Array([BackendMessage.ParseComplete, 0, 0, 0, 4]);
const BIND_COMPLETE = new Uint8Array([BackendMessage.BindComplete, 0, 0, 0, 4]);
const BIND_COMPLETE_NO_DATA = concatBytes([BIND_COMPLETE, new Uint8Array([BackendMessage.NoData, 0, 0, 0, 4])]);

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
