/**
 * @module session/extended-query
 * A session's side of the extended-query protocol: Parse, Bind, Describe, Execute, Close, Flush and
 * Sync. Statement names are put in as the backend knows them (session/prepared-statements.ts), and
 * portals are noted for their effects at Execute. The messages are queued and handed to the backend in
 * runs (each Flush/Sync, or every MAX_PENDING_BYTES). After an error they are skipped until Sync, as
 * PostgreSQL does. A named Parse may be answered before it reaches the backend (`deferParse`). A Bind
 * of a multi-row INSERT into a hypertable may be held until Sync and written directly
 * (session/direct-ingest/held-insert.ts). A Bind of a query over the columnstore may go to the
 * statement its fast path computed, with the bound values written out (session/columnstore-binds.ts).
 * Where the backend's transaction stands between Syncs decides how the columnstore's work for a
 * statement runs (session/pipeline-transaction.ts).
 */
import { concatBytes } from '../bytes.js';
import { OrbitError } from '../errors.js';
import type { ClassifiedStatement } from '../sql/classify.js';
import { SqlState } from '../sqlstate.js';
import { readyForQuery, scanBackend } from '../wire/protocol/backend.js';
import { readBind, readBindParams, readExecute, readParse, readTarget, writeBind, writeParse, writeTarget, type ParseMessage } from '../wire/protocol/frontend.js';
import { BackendMessage, FrontendMessage, TransactionStatus } from '../wire/protocol/message-codes.js';
import type { Message } from '../wire/protocol/reader.js';
import type { Backend, BackendSession } from './backend.js';
import type { PrintedOutput } from './columnstore/scan.js';
import type { LocalPortal } from './local-portal.js';
import { PendingCommandTags, retagCommands } from './command-tags.js';
import { mayInsertDirectly, type InsertParams } from './direct-ingest/insert.js';
import { HeldInsert } from './direct-ingest/held-insert.js';
import type { PreparedEntry, PreparedStatements } from './prepared-statements.js';
import { refusal } from './refusals.js';
import { backendText } from './rewrite.js';
import { hasParameters, withoutParameters } from './bound-literals.js';
import { PipelineStatementFailed, PipelineTransaction } from './pipeline-transaction.js';
import { ColumnstoreBinds, SKIPPED } from './columnstore-binds.js';
import { checkAuthorization, PrivilegeDenied, type LoginRole } from './roles.js';
import type { SessionSink } from './session.js';
import { rewriteStatementNames, type PlanningSession } from './simple-query.js';

/** Extended-protocol messages are handed to PGlite in runs of at most this many bytes. */
const MAX_PENDING_BYTES = 1 << 20;

/** What the extended protocol uses of its session's public side (session/session.ts). */
export interface ExtendedQuerySession extends BackendSession, PlanningSession {
  readonly login: LoginRole;
  readonly transactionStatus: TransactionStatus;
  /** Records what statements about to run do to session state. */
  noteEffects(statements: readonly ClassifiedStatement[]): void;
  /** Passes backend output to the client. */
  forward(out: Uint8Array | PrintedOutput): void;
}

/** The session's own steps the extended protocol takes part in (session/session.ts gives them). */
export interface ExtendedQueryHooks {
  /** Takes the backend if the session does not hold it. */
  ensureBackend(): Promise<void>;
  /** After a ReadyForQuery: changed parameters, the ReadyForQuery, the backend given back if idle. */
  endOfBatch(): Promise<void>;
  /** Output of Orbit's own housekeeping messages: only errors concern the client. */
  forwardErrorsOnly(out: Uint8Array): void;
  /** Answers a statement Orbit refuses, leaving PostgreSQL in the state its own error would. */
  reject(err: OrbitError, simple: boolean): Promise<void>;
  /** Before a statement reads pg_prepared_statements: the session's dropped statements put back. */
  restorePrepared(statements: readonly ClassifiedStatement[]): Promise<void>;
  /** The hypertable fix-up inside the open transaction. */
  routeInBlock(): Promise<void>;
  /** A batch wrote to a hypertable: rows in default partitions get their chunks at its end. */
  routePending(): boolean;
}

export class ExtendedQuery {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Command tags to restore in the output of the queued batch (statements Orbit rewrote). */
  private readonly pendingTags = new PendingCommandTags();
  /** PostgreSQL skips extended messages after an error until Sync; so do we. */
  errorSinceSync = false;
  /** A Bind that may be a direct insert, with the Describe/Execute of its portal, held until Sync. */
  private held: HeldInsert | undefined;
  /** A Bind or Execute was queued since the last Sync (a later INSERT would share its implicit transaction). */
  private boundSinceSync = false;
  /** Where the backend's transaction stands since the last Sync (its implicit transaction, a pipelined BEGIN). */
  private readonly pipeline = new PipelineTransaction();
  /** The columnstore's work at Parse and Bind, and its fast path at Bind. */
  private readonly binds: ColumnstoreBinds;
  /** The unnamed portal, when Orbit made its rows (session/local-portal.ts). */
  private local: LocalPortal | undefined;
  /** Portals bound without Orbit's work, their role denied the statement (checkDenied at Execute), with the Bind sent and its statement's client name. */
  private readonly denied = new Map<string, { readonly bind: Uint8Array; readonly statement: string }>();

  constructor(
    private readonly session: ExtendedQuerySession,
    private readonly backend: Backend,
    private readonly sink: SessionSink,
    private readonly prepared: PreparedStatements,
    private readonly hooks: ExtendedQueryHooks,
  ) {
    this.binds = new ColumnstoreBinds(session, backend, prepared, hooks, {
      errorSinceSync: () => this.errorSinceSync,
      onlyParsesQueued: () => this.pending.every((m) => m[0] === FrontendMessage.Parse),
      flushPending: () => this.flushPending(),
      prepareUse: (name) => this.prepareUse(name),
      state: () => this.pipeline.current(this.session.transactionStatus),
    });
  }

  /** Messages queued for the backend and not sent yet. */
  get queued(): boolean {
    return this.pending.length > 0;
  }

  /** The backend statements of the session's fast path, to deallocate at disconnect. */
  fastPathNames(): string[] {
    return this.binds.fastPathNames();
  }

  /** The queued messages and their command tags are dropped (the backend restarted, or the session closes). */
  dropQueued(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingTags.take();
  }

  /**
   * While a Bind is held (holdInsert): `msg` is kept with it, or is the Sync that runs it (true:
   * `msg` is handled), or releases it down the ordinary path (false: `msg` is still to handle).
   */
  async continueHold(msg: Message): Promise<boolean> {
    if (!this.held) return false;
    if (this.held.keep(msg)) return true;
    if (msg.type === FrontendMessage.Sync && this.held.executed) {
      await this.syncHeld(msg);
      return true;
    }
    await this.releaseHeld();
    return false;
  }

  /** Handles a Parse, Bind, Describe, Close, Execute, Flush or Sync. */
  async handle(msg: Message): Promise<void> {
    switch (msg.type) {
      case FrontendMessage.Parse:
        if (this.deferParse(msg)) break;
        await this.receive(msg);
        break;
      case FrontendMessage.Bind:
      case FrontendMessage.Describe:
      case FrontendMessage.Close:
      case FrontendMessage.Execute:
        await this.receive(msg);
        break;
      case FrontendMessage.Flush:
        // Nothing queued: PostgreSQL has nothing to send (Orbit's own answers are written at once).
        if (this.pending.length === 0) break;
        await this.hooks.ensureBackend();
        await this.flushPending(msg.raw);
        break;
      case FrontendMessage.Sync:
        // The implicit transaction ends: so do its portals.
        this.local = undefined;
        // Nothing reached the backend since the last Sync or ReadyForQuery (deferred Parses, skipped
        // messages, Orbit's own answers): PostgreSQL would only repeat its ReadyForQuery.
        const ready = this.backend.holds(this.session) ? this.backend.readyStatus : this.session.transactionStatus;
        if (this.pending.length === 0 && ready !== undefined) {
          this.errorSinceSync = false;
          this.boundSinceSync = false;
          this.pipeline.reset();
          if (!this.backend.holds(this.session)) {
            this.sink.write(readyForQuery(ready));
            break;
          }
          this.session.forward(readyForQuery(ready));
          await this.hooks.endOfBatch();
          break;
        }
        await this.hooks.ensureBackend();
        await this.flushPending(msg.raw);
        this.errorSinceSync = false;
        this.boundSinceSync = false;
        this.pipeline.reset();
        await this.hooks.endOfBatch();
        // Outside a transaction block the portals are gone.
        if (this.session.transactionStatus === TransactionStatus.Idle) this.denied.clear();
        break;
    }
  }

  /**
   * A named Parse that arrives while another session holds the backend in a transaction is
   * acknowledged at once (after PostgreSQL's parser accepted the text) and sent to the backend when
   * the statement is first used. libpq's PQprepare waits synchronously, so a client thread that
   * prepares on one connection while its other connection is inside a transaction (pgbench
   * -M prepared with several clients per thread) would otherwise wait for itself. Errors PostgreSQL
   * finds only on the backend (unknown tables, types) are then reported at first use.
   */
  private deferParse(msg: Message): boolean {
    if (this.backend.holds(this.session) || !this.backend.busy || this.session.transactionStatus !== TransactionStatus.Idle || this.pending.length > 0 || this.errorSinceSync) {
      return false;
    }
    const parsed = readParse(msg.body);
    if (parsed.name === '' || this.prepared.has(parsed.name)) return false;
    const text = backendText(parsed.query);
    const analysis = text.ok ? text.analysis : undefined;
    if (!text.ok || !analysis?.ok || analysis.statements.length !== 1 || refusal(analysis.statements[0]!, 'extended')) return false;
    if (checkAuthorization(analysis.statements[0]!, this.session.login) !== analysis.statements[0]) return false;
    // Statements the columnstore rewrites are parsed when the backend is free.
    if (this.backend.columnstore?.mayConcern(analysis.statements)) return false;
    const query = analysis.statements[0]!.rewrite?.sql ?? rewriteStatementNames(text.sql, analysis.statements, this.session);
    this.prepared.backendName(parsed.name, true, { ...parsed, query }, analysis.statements[0], false, undefined, parsed.query);
    this.sink.write(PARSE_COMPLETE);
    return true;
  }

  private async receive(msg: Message, mayHold = true): Promise<void> {
    await this.hooks.ensureBackend();
    if (this.errorSinceSync) return; // PostgreSQL would skip it until Sync.
    try {
      // Inside the pipeline's implicit transaction none of Orbit's own simple queries may end it
      // (session/pipeline-transaction.ts): the columnstore's, and any other (a SQL PREPARE replayed).
      const implicit = this.pipeline.current(this.session.transactionStatus) === 'implicit';
      await this.backend.sealed(this.session, implicit, () => this.queueExtended(msg, mayHold));
    } catch (err) {
      if (!(err instanceof PipelineStatementFailed)) throw err;
      // PostgreSQL skips to the Sync already: the client gets its error, and the rest is skipped.
      this.hooks.forwardErrorsOnly(err.out);
    }
    // Long pipelines (executemany) go to PGlite in runs, so memory stays bounded.
    if (this.pendingBytes >= MAX_PENDING_BYTES) await this.flushPending();
  }

  private async queueExtended(msg: Message, mayHold: boolean): Promise<void> {
    switch (msg.type) {
      case FrontendMessage.Parse: {
        const parsed = readParse(msg.body);
        const text = backendText(parsed.query);
        if (!text.ok) return this.hooks.reject(text.error, false);
        const analysis = text.analysis;
        const checked = analysis.ok ? analysis.statements.map((s) => checkAuthorization(s, this.session.login)) : [];
        const denied = checked.find((c) => c instanceof OrbitError);
        if (denied) return this.hooks.reject(denied, false);
        const statements = checked as ClassifiedStatement[];
        // A statement rewritten whole (sql/rewrite: CREATE TABLE … WITH, ALTER TABLE … SET) replaces the text.
        const rewritten = statements.length === 1 ? statements[0]!.rewrite?.sql : undefined;
        let parse = analysis.ok ? { ...parsed, query: rewritten ?? rewriteStatementNames(text.sql, statements, this.session) } : parsed;
        const stmt = statements[0];
        let atBind = false;
        if (analysis.ok) {
          const problem = statements.map((s) => refusal(s, 'extended')).find((e) => e !== undefined);
          if (problem) return this.hooks.reject(problem, false);
          await this.hooks.restorePrepared(statements);
          if (parse.name === '') this.binds.unnamedAtBind = false;
          if (this.backend.columnstore?.mayConcern(analysis.statements)) {
            await this.flushPending();
            // PostgreSQL now skips to the Sync: so does Orbit's work (and the message).
            if (this.errorSinceSync) return;
            if (this.failedBlock()) {
              // PostgreSQL refuses the statement itself (25P02): nothing to prepare.
            } else if (parse.name === '' && statements.length === 1 && stmt?.type === 'SelectStmt' && hasParameters(stmt)) {
              // A query with parameters: parsed as written (for its Describe); at its Bind it gets the
              // fast path with its values written out (session/bound-literals.ts), or its rewritten
              // text and cache tables then (ColumnstoreBinds.atBind).
              this.binds.unnamedAtBind = true;
            } else {
              // Aggregates computed now are only right for a statement run now: the unnamed one. A
              // named one gets its fast path or its cache tables at each Bind (ColumnstoreBinds.atBind).
              // A unique index or validated constraint it adds is checked at each Bind (ColumnstoreBinds.atBind), not here.
              const unnamed = parse.name === '';
              const query = parse.query;
              const prepare = (idle: boolean, fastPath: boolean) => this.backend.prepareColumnstore(this.session, query, idle, fastPath, unnamed, undefined, undefined, false, false);
              try {
                parse = { ...parse, query: await this.binds.work((idle) => prepare(idle, unnamed), () => prepare(false, false)) };
              } catch (err) {
                if (!(err instanceof PrivilegeDenied)) throw err;
                // PostgreSQL checks privileges at Bind, not Parse: parsed as written, the statement
                // gets Orbit's work (and the check) at each Bind (ColumnstoreBinds.atBind).
                atBind = true;
                if (unnamed) this.binds.unnamedAtBind = true;
              }
            }
          }
        }
        if (parse.name === '' && this.binds.unnamedAtBind && this.pipeline.current(this.session.transactionStatus) === 'idle') {
          return this.parseOnce(parse, stmt!, parse === parsed ? msg.raw : writeParse(parse));
        }
        if (parse.name === '') {
          this.prepared.setUnnamed(parse, stmt);
          this.backend.unnamedOwner = this.session;
          this.queue(parse === parsed ? msg.raw : writeParse(parse));
        } else {
          if (this.prepared.has(parse.name)) {
            return this.hooks.reject(new OrbitError(SqlState.duplicate_prepared_statement, `prepared statement "${parse.name}" already exists`), false);
          }
          const name = this.prepared.backendName(parse.name, true, parse, stmt, true, undefined, parsed.query);
          if (atBind) this.prepared.lookup(parse.name)!.atBind = true;
          this.queue(writeParse({ ...parse, name }));
        }
        return;
      }
      case FrontendMessage.Bind: {
        const bind = readBind(msg.body);
        if (mayHold && this.holdInsert(msg, bind.portal, bind.statement, bind.rest)) return;
        // The first Bind since Sync: PostgreSQL holds no unnamed portal that Orbit's would have to hide.
        const first = !this.boundSinceSync;
        this.boundSinceSync = true;
        if (bind.portal === '') this.local = undefined;
        this.denied.delete(bind.portal);
        await this.fixUpBefore(this.prepared.lookup(bind.statement)?.statement);
        let bound: Awaited<ReturnType<ColumnstoreBinds['atBind']>>;
        let denied = false;
        try {
          bound = await this.binds.atBind(bind, first);
        } catch (err) {
          if (!(err instanceof PrivilegeDenied)) throw err;
          // The role may not read what the statement reads: PostgreSQL refuses the Bind itself
          // (PortalStart checks privileges), bound the ordinary way, with nothing of Orbit's done.
          // A write is checked at its Execute instead (checkDenied).
          bound = undefined;
          denied = true;
        }
        if (bound === SKIPPED) return;
        if (bound && 'local' in bound) {
          this.local = bound.local;
          return this.answer([BIND_COMPLETE]);
        }
        if (bound) {
          this.prepared.portals.set(bind.portal, bound.statement);
          this.queue(writeBind({ portal: bind.portal, statement: bound.backendName, rest: bound.literal ? withoutParameters(bind.rest) : bind.rest }));
          return;
        }
        const statement = await this.prepareUse(bind.statement);
        this.prepared.portals.set(bind.portal, statement?.statement);
        const sent = statement && bind.statement !== '' ? writeBind({ ...bind, statement: statement.backendName }) : msg.raw;
        if (denied) this.denied.set(bind.portal, { bind: sent, statement: bind.statement });
        this.queue(sent);
        return;
      }
      case FrontendMessage.Describe:
      case FrontendMessage.Close: {
        const t = readTarget(msg.body);
        if (t.target === 'P') {
          if (msg.type === FrontendMessage.Close) {
            this.prepared.portals.delete(t.name);
            this.denied.delete(t.name);
          }
          if (t.name === '' && this.local) {
            const description = this.local.description;
            if (msg.type === FrontendMessage.Close) this.local = undefined;
            return this.answer([msg.type === FrontendMessage.Close ? CLOSE_COMPLETE : description]);
          }
          this.queue(msg.raw);
          return;
        }
        if (msg.type === FrontendMessage.Describe) {
          const kept = await this.binds.keptDescription(t.name);
          if (kept) return this.session.forward(kept);
        }
        const entry = msg.type === FrontendMessage.Describe ? await this.prepareUse(t.name) : this.prepared.lookup(t.name);
        if (msg.type === FrontendMessage.Close) this.prepared.delete(t.name);
        // The backend's unnamed statement is another's, or none (parseOnce answered ours): not ours to close.
        if (msg.type === FrontendMessage.Close && t.name === '' && this.backend.unnamedOwner !== this.session) return this.answer([CLOSE_COMPLETE]);
        this.queue(entry && t.name !== '' ? writeTarget(msg.type, { target: 'S', name: entry.backendName }) : msg.raw);
        return;
      }
      case FrontendMessage.Execute: {
        const { portal, maxRows } = readExecute(msg.body);
        this.boundSinceSync = true;
        const local = portal === '' ? this.local : undefined;
        const stmt = local ? local.statement : this.prepared.portals.get(portal);
        const deniedBind = local ? undefined : this.denied.get(portal);
        if (deniedBind) {
          await this.checkDenied(stmt, portal, deniedBind);
          if (this.errorSinceSync) return;
        }
        if (stmt) {
          this.session.noteEffects([stmt]);
          this.backend.noteColumnstore([stmt]);
        }
        if (local) return this.answer(local.execute(maxRows));
        this.pendingTags.note(stmt?.rewrite?.commandTag);
        this.queue(msg.raw, stmt);
        return;
      }
      default:
        this.queue(msg.raw);
    }
  }

  /**
   * Inside a transaction block after a write to a hypertable, a statement that works on chunks
   * gets the fix-up first (in a savepoint), so it sees the written rows' chunks. (In a pipeline
   * without BEGIN the write's implicit transaction is still open: no savepoint there, so not then.)
   */
  private async fixUpBefore(statement: ClassifiedStatement | undefined): Promise<void> {
    if (!statement || !this.hooks.routePending() || this.session.transactionStatus !== TransactionStatus.InTransaction || this.pipeline.current(this.session.transactionStatus) !== 'block' || !this.backend.routing.usesChunks(statement)) return;
    await this.flushPending();
    await this.hooks.routeInBlock();
  }

  // ---- direct INSERT over the extended protocol --------------------------------------------------

  /**
   * Holds a Bind of a multi-row INSERT … VALUES with text parameters into a hypertable
   * (session/direct-ingest/insert.ts) instead of sending it on. It runs directly only if it runs alone
   * before Sync: nothing bound or executed before it since the last Sync (that would share its
   * implicit transaction) and only Describe/Execute of its portal after it.
   */
  private holdInsert(msg: Message, portal: string, statementName: string, rest: Uint8Array): boolean {
    if (this.boundSinceSync || this.session.transactionStatus === TransactionStatus.Failed || !this.backend.columnstore) return false;
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
    for (const m of held.messages) await this.receive(m, false);
  }

  /**
   * Sync after a held Bind and Execute: what was queued before them (Parse, Describe of the
   * statement) runs with its own Sync, whose ReadyForQuery is kept back, then the INSERT runs
   * directly and answers BindComplete, NoData if described, and its CommandComplete or error.
   */
  private async syncHeld(sync: Message): Promise<void> {
    const held = this.held!;
    await this.hooks.ensureBackend();
    if (this.pending.length > 0) {
      const out = await this.backend.run(this.session, concatBytes([...this.pending, sync.raw]));
      this.pending = [];
      this.pendingBytes = 0;
      if (scanBackend(out).some((f) => f.type === BackendMessage.ErrorResponse)) {
        // PostgreSQL skips the Bind and Execute after an error.
        this.held = undefined;
        this.session.forward(retagCommands(out, this.pendingTags.take()));
        this.boundSinceSync = false;
        this.pipeline.reset();
        await this.hooks.endOfBatch();
        return;
      }
      this.session.forward(out.subarray(0, out.length - 6));
    }
    this.held = undefined;
    const out = await this.backend.directInsert(this.session, held.statement, this.session.transactionStatus !== TransactionStatus.Idle, held.params);
    if (!out) {
      for (const m of held.messages) await this.receive(m, false);
      await this.flushPending(sync.raw);
      this.errorSinceSync = false;
    } else {
      this.sink.write(held.described ? BIND_COMPLETE_NO_DATA : BIND_COMPLETE);
      this.session.forward(out);
    }
    this.boundSinceSync = false;
    this.pipeline.reset();
    await this.hooks.endOfBatch();
  }

  /**
   * Execute of a portal whose Bind found its role denied the statement, so that Orbit did none of its
   * work for it (decompressing what a write touches): PostgreSQL checks a write's privileges now,
   * with the role now in effect. Still denied (or not over the columnstore), PostgreSQL answers;
   * allowed now (the role changed since the Bind, in the same pipeline), the write would miss the
   * rows in the columnstore: refused with 0A000.
   */
  private async checkDenied(statement: ClassifiedStatement | undefined, portal: string, bound: { readonly bind: Uint8Array; readonly statement: string }): Promise<void> {
    await this.flushPending();
    // A SELECT's Bind failed (PostgreSQL skips to the Sync): nothing to check.
    if (this.errorSinceSync || !statement) return;
    if (!(await this.binds.work(() => this.backend.missesWork(this.session, statement)))) {
      // The check's queries (simple Query messages) dropped the unnamed portal (and the unnamed
      // statement): made again, so that PostgreSQL answers the Execute (its 42501) rather than 34000.
      if (portal === '') {
        if (bound.statement === '') {
          this.backend.unnamedOwner = undefined;
          await this.prepareUse('');
        }
        this.hooks.forwardErrorsOnly(await this.backend.run(this.session, bound.bind));
      }
      return;
    }
    throw new OrbitError(SqlState.feature_not_supported, 'running a portal bound while its role could not run the statement, after a change of role, is not supported by Orbit', {
      hint: 'Bind the statement again after changing the role.',
    });
  }

  /** Inside a failed transaction block (as of the last Sync and what the pipeline ran since). */
  private failedBlock(): boolean {
    return this.pipeline.current(this.session.transactionStatus) === 'failed';
  }

  /**
   * The unnamed Parse of a query with parameters over the columnstore, outside a transaction block:
   * PostgreSQL parses a text once per parameter types and session settings (its ParseComplete kept
   * like descriptions, Columnstore.described), after which the Parse is answered here and the
   * statement reaches the backend only when a message needs it there (prepareUse), so that a Bind
   * Orbit answers itself needs no round trip. Its errors are PostgreSQL's, as before.
   */
  private async parseOnce(parse: ParseMessage, statement: ClassifiedStatement, raw: Uint8Array): Promise<void> {
    let ran = false;
    const run = () => {
      ran = true;
      return this.backend.run(this.session, raw);
    };
    const out = await this.backend.columnstore!.described(`parse\0${this.session.settingsKey}\0${parse.paramTypes.join(',')}\0${parse.query}`, run, (o) => !scanBackend(o).some((f) => f.type === BackendMessage.ErrorResponse));
    this.prepared.setUnnamed(parse, statement);
    if (ran) this.backend.unnamedOwner = this.session;
    else if (this.backend.unnamedOwner === this.session) this.backend.unnamedOwner = undefined;
    this.session.forward(out);
  }

  /** Writes Orbit's own answer to a message, after the output of those queued before it. */
  private async answer(messages: readonly Uint8Array[]): Promise<void> {
    await this.flushPending();
    // After an error PostgreSQL skips every message up to Sync: so does Orbit.
    if (this.errorSinceSync) return;
    for (const m of messages) this.sink.write(m);
  }

  /**
   * Makes sure the statement a Bind/Describe names is this session's on the backend: another
   * session may have replaced the unnamed statement, or a DEALLOCATE ALL / DISCARD ALL may have
   * dropped named ones. Re-parses from the kept Parse message when needed.
   */
  async prepareUse(name: string): Promise<PreparedEntry | undefined> {
    const entry = this.prepared.lookup(name);
    if (name === '') {
      if (this.backend.unnamedOwner === this.session) return entry;
      await this.flushPending();
      // Either restore our unnamed statement or make sure nobody else's answers for it.
      const out = await this.backend.run(this.session, entry ? writeParse(entry.parse) : writeTarget(FrontendMessage.Close, { target: 'S', name: '' }));
      this.backend.unnamedOwner = this.session;
      this.hooks.forwardErrorsOnly(out);
      return entry;
    }
    const replay = name === '' ? undefined : this.prepared.replayFor(name);
    if (replay) {
      await this.flushPending();
      await this.backend.runInternal(this.session, replay);
    }
    if (entry && this.prepared.stale(entry)) {
      await this.flushPending();
      const out = await this.backend.run(this.session, writeParse(entry.parse));
      entry.epoch = this.backend.deallocEpoch;
      entry.onBackend = true;
      this.hooks.forwardErrorsOnly(out);
    }
    return entry;
  }

  private queue(raw: Uint8Array, executed?: ClassifiedStatement): void {
    if (raw[0] === FrontendMessage.Bind || raw[0] === FrontendMessage.Execute) this.pipeline.ran(raw[0], executed, this.session.transactionStatus);
    this.pending.push(raw);
    this.pendingBytes += raw.length;
  }

  /** Sends the queued extended messages (plus `tail`) to the backend and their output to the client. */
  async flushPending(tail?: Uint8Array): Promise<void> {
    if (tail) this.queue(tail);
    if (this.pending.length === 0) return;
    const batch = this.pending.length === 1 ? this.pending[0]! : concatBytes(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    const out = await this.backend.run(this.session, batch);
    this.session.forward(retagCommands(out, this.pendingTags.take()));
  }
}

const PARSE_COMPLETE = new Uint8Array([BackendMessage.ParseComplete, 0, 0, 0, 4]);
const BIND_COMPLETE = new Uint8Array([BackendMessage.BindComplete, 0, 0, 0, 4]);
const CLOSE_COMPLETE = new Uint8Array([BackendMessage.CloseComplete, 0, 0, 0, 4]);
const BIND_COMPLETE_NO_DATA = concatBytes([BIND_COMPLETE, new Uint8Array([BackendMessage.NoData, 0, 0, 0, 4])]);
