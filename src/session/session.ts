/**
 * @module session/session
 * One client session over the shared backend. It takes the backend at the first message of a batch
 * and gives it back at a ReadyForQuery that says idle; in between it keeps its own settings,
 * prepared statements (renamed per session), LISTEN channels and transaction, and cleans up after
 * itself when the client goes away. Simple queries are planned by session/simple-query.ts and run
 * here; the extended-query protocol (Parse … Sync) is session/extended-query.ts's.
 */
import { concatBytes } from '../bytes.js';
import { OrbitError, orbitError, toOrbitError } from '../errors.js';
import type { ClassifiedStatement } from '../sql/classify.js';
import { publicNames } from '../sql/rewrite/name-clashes.js';
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
import { readQuery, writeParse } from '../wire/protocol/frontend.js';
import { BackendMessage, FrontendMessage, TransactionStatus } from '../wire/protocol/message-codes.js';
import { MessageReader, type Message } from '../wire/protocol/reader.js';
import type { Backend, BackendSession } from './backend.js';
import { appendRows, type PrintedOutput } from './columnstore/scan.js';
import type { DirectRows } from './columnstore/columnstore.js';
import { retagCommands } from './command-tags.js';
import { CopyIn } from './copy-in.js';
import { CopyThrough } from './copy-through.js';
import type { DirectCopy } from './direct-ingest/copy.js';
import { ExtendedQuery } from './extended-query.js';
import { fixUpParts, mergePoints, wholeStringPosition } from './fix-up-parts.js';
import { planSimpleQuery, type SimpleQueryPlan } from './simple-query.js';
import { BOOT_ROLE, firstError, settingsKey, simpleQuery, type Snapshot } from './settings.js';
import { unsupportedClientEncoding } from './refusals.js';
import { BOOT_LOGIN, checkCopyPrivileges, loginRole, mayChangeRole, runsAsRole, type LoginRole } from './roles.js';
import { backendText } from './rewrite.js';
import { PreparedStatements } from './prepared-statements.js';
import { IdleTimer } from './idle-timer.js';
import { quoteIdent } from './internal-sql.js';
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
  /** Parse, Bind, Describe, Execute, Close, Flush and Sync (session/extended-query.ts). */
  private readonly extended: ExtendedQuery;
  private settingsDirty = false;
  roleUnread = false;

  /** See BackendSession.settingsUnread: read back at the end of the batch (endOfBatch) when idle. */
  get settingsUnread(): boolean {
    return this.settingsDirty;
  }
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
  private readonly queuedNotifications: Uint8Array[] = [];
  private readonly idle: IdleTimer;
  private closed = false;

  constructor(
    private readonly backend: Backend,
    private readonly sink: SessionSink,
    private readonly options: SessionOptions = DEFAULT_SESSION_OPTIONS,
  ) {
    this.prepared = new PreparedStatements(this.id, backend);
    this.extended = new ExtendedQuery(this, backend, sink, this.prepared, {
      ensureBackend: () => this.ensureBackend(),
      endOfBatch: () => this.endOfBatch(),
      forwardErrorsOnly: (out) => this.forwardErrorsOnly(out),
      reject: (err, simple) => this.reject(err, simple),
      restorePrepared: (statements) => this.restorePrepared(statements),
      routeInBlock: () => this.routeInBlock(),
      routePending: () => this.routePending,
    });
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
    // Checked before PGlite sees it: a converted client_encoding there hangs every session after.
    const encoding = [...startupSettings].find(([name]) => name.toLowerCase() === 'client_encoding')?.[1];
    const refused = encoding === undefined ? undefined : unsupportedClientEncoding(encoding);
    if (refused) throw refused;
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
      if (await this.extended.continueHold(msg)) return;
      switch (msg.type) {
        case FrontendMessage.Query:
          await this.extended.flushPending();
          await this.simpleQuery(readQuery(msg.body));
          break;
        case FrontendMessage.Parse:
        case FrontendMessage.Bind:
        case FrontendMessage.Describe:
        case FrontendMessage.Close:
        case FrontendMessage.Execute:
        case FrontendMessage.Flush:
        case FrontendMessage.Sync:
          await this.extended.handle(msg);
          break;
        case FrontendMessage.FunctionCall:
          // Fast-path calls (large objects) are answered at once, with a ReadyForQuery, like a Query.
          await this.ensureBackend();
          await this.extended.flushPending(msg.raw);
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
      if (runsAsRole(this)) await checkCopyPrivileges((check) => this.backend.runInternal(this, check), plan.statement);
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
      // statement that works on chunks; statements after a change of the columnstore's catalog are
      // planned once it ran.
      const wroteBefore = this.routePending && this.status === TransactionStatus.InTransaction;
      if (plan.statements.length > 1 || wroteBefore) {
        await this.backend.loadRouting(this);
        const { replans, cuts } = await this.backend.partCuts(this, plan.statements);
        const points = mergePoints(this.backend.routing.fixUpPoints(plan.statements, wroteBefore), replans);
        if (points.length > 0 || cuts.length > 0) return this.runInParts(sql, plan.statements, points, cuts);
      }
      this.forward(await this.runPlan(plan, true));
    }
    await this.endOfBatch();
  }

  /** The fix-up inside the open transaction; a failure is the client's warning. */
  private async routeInBlock(): Promise<void> {
    for (const warning of await this.backend.routeDefaultRows(this, true)) this.sink.write(errorResponse(warning, BackendMessage.NoticeResponse));
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
  private async runInParts(original: string, statements: readonly ClassifiedStatement[], points: number[], cuts: number[]): Promise<void> {
    const parsed = backendText(original);
    const parts = parsed.ok ? fixUpParts(parsed.sql, statements, points, cuts) : parsed.error;
    if (parts instanceof OrbitError) {
      await this.reject(parts, true);
      return this.endOfBatch();
    }
    const wrap = this.status === TransactionStatus.Idle;
    if (wrap) {
      await this.backend.runInternal(this, 'BEGIN');
      // The parts run inside it: Orbit's work for them must not open and commit a transaction of its own.
      this.status = TransactionStatus.InTransaction;
    }
    let failed = false;
    try {
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
    } catch (err) {
      // Orbit's own refusal or check of a later part (a constraint violated by compressed rows): the
      // string leaves nothing, and its error is then raised outside the transaction Orbit opened.
      if (wrap) {
        this.forwardErrorsOnly(await this.backend.runInternal(this, 'ROLLBACK'));
        this.status = TransactionStatus.Idle;
      }
      throw err;
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
    for (const name of this.prepared.clientNames()) await this.extended.prepareUse(name);
  }

  replayFor(clientName: string): string | undefined {
    return this.prepared.replayFor(clientName);
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
        this.extended.errorSinceSync = true;
        if (this.substitute) {
          parts.push(out.subarray(keepFrom, f.start), errorResponse(this.substitute));
          keepFrom = f.end;
          this.substitute = undefined;
        } else {
          let changed = false;
          // Backend names of prepared statements and internal aliases (sql/rewrite/name-clashes.ts) as the client named them.
          const named = (change: (text: string) => string) => (text: string) => {
            const out = change(text);
            changed ||= out !== text;
            return out;
          };
          const message = rewriteErrorField(out.subarray(f.start, f.end), 'M', named((m) => publicNames(this.prepared.clientNamesIn(m))));
          const renamed = rewriteErrorField(rewriteErrorField(message, 'D', named(publicNames)), 'H', named(publicNames));
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
      this.extended.errorSinceSync = false; // ReadyForQuery: PostgreSQL no longer skips messages
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
        this.extended.errorSinceSync = true;
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
    await this.extended.flushPending();
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
      for (const warning of await this.backend.routeDefaultRows(this)) this.sink.write(errorResponse(warning, BackendMessage.NoticeResponse));
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
    else this.extended.errorSinceSync = true;
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
    this.extended.dropQueued();
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
    const names = [...this.prepared.backendNames(), ...this.extended.fastPathNames()];
    const dropped = this.backend.unlisten(this, '*');
    const dirtyBackend = this.backend.holds(this) && (this.status !== TransactionStatus.Idle || this.extended.queued || this.copy !== undefined);
    if (!dirtyBackend && names.length === 0 && dropped.length === 0) {
      this.backend.release(this);
      return;
    }
    try {
      await this.ensureBackend();
      this.extended.dropQueued();
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
