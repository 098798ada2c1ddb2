/**
 * @module orbit
 * The engine core: one Orbit database over a row store (PGlite) and a storage adapter. Every
 * statement goes through the SQL layer (PostgreSQL's parser and Orbit's classification) before it
 * runs; plain PostgreSQL statements then run in PGlite unchanged, so results, errors and notices are
 * PostgreSQL's. The in-process API is one session among the wire clients' sessions.
 */
import type { ReaderThread } from './session/direct-ingest/threads.js';
import { OrbitError, toOrbitError } from './errors.js';
import { publicNames } from './sql/rewrite/name-clashes.js';
import type { QueryResult, RowStore } from './rowstore/types.js';
import { CountedRowStore } from './rowstore/counted.js';
import { ColumnStore, type ColumnStoreOptions } from './columnstore/store.js';
import { ReferenceBackend, type CodecBackend } from './columnstore/codecs/index.js';
import { ReferenceKernels, type KernelBackend } from './columnstore/kernels/index.js';
import { Columnstore, type DirectRows } from './session/columnstore/columnstore.js';
import type { ClassifiedStatement } from './sql/classify.js';
import { Backend, type BackendSession } from './session/backend.js';
import { JobScheduler, mayScheduleJobs } from './session/job-scheduler.js';
import { embeddedBoundSql } from './session/embedded-bound.js';
import { copyFromSource, type CopySource } from './session/embedded-copy.js';
import { DEFAULT_SESSION_OPTIONS, type SessionOptions } from './session/session.js';
import { settingsKey } from './session/settings.js';
import { refusal } from './session/refusals.js';
import { BOOT_LOGIN, checkAuthorization, mayChangeRole } from './session/roles.js';
import { backendText } from './session/rewrite.js';
import { readTypedResult } from './rowstore/typed-query.js';
import { fixUpParts, mergePoints, type QueryPart } from './session/fix-up-parts.js';
import { loadParser, spliceSql } from './sql/parser.js';
import { rewriteEdits } from './sql/rewrite/index.js';
import { findStableBounds } from './sql/rewrite/stable-bounds.js';
import { SqlState } from './sqlstate.js';
import type { StorageAdapter } from './storage/types.js';

export interface OrbitOptions {
  readonly rowStore: RowStore;
  readonly storage: StorageAdapter;
  readonly session?: Partial<SessionOptions>;
  /** Codecs of the columnstore: the WASM build where it can be loaded, else the TypeScript reference. */
  readonly codecs?: CodecBackend;
  readonly columnstore?: ColumnStoreOptions;
  /** Aggregation kernels: the WASM build where it can be loaded, else the TypeScript reference. */
  readonly kernels?: KernelBackend;
  /**
   * Run jobs and policies when they are due (default true). Off, jobs run only through
   * `CALL run_job(id)`, as in TimescaleDB with `timescaledb.max_background_workers = 0`.
   */
  readonly jobScheduler?: boolean;
  /** Where direct-to-columnstore COPYs read their pieces besides this thread (Node: a worker thread). */
  readonly readerThread?: ReaderThread;
}

/** The query surface shared by the database and a transaction. */
export interface Queryable {
  /** Runs one statement with optional `$n` parameters; rows are typed by PGlite's parsers. */
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<Row>>;
  /** Runs a string of statements without parameters; one result per statement. */
  exec(sql: string): Promise<QueryResult[]>;
}

export type Transaction = Queryable;

/** Another in-process session (`Orbit.session()`). */
export interface OrbitSession extends Queryable {
  /** `Orbit.copyFrom` with this session's settings. */
  copyFrom(sql: string, data: CopySource): Promise<QueryResult<never>>;
  /** Rolls back a transaction the session left open. */
  close(): Promise<void>;
}

/** The in-process session: its settings survive other sessions' turns on the backend. */
class EmbeddedSession implements BackendSession {
  private static lastId = 0;
  readonly id = -++EmbeddedSession.lastId;
  settings = new Map<string, string>();
  settingsKey = settingsKey(this.settings);
  /**
   * Its settings go with its first round trip (Backend.run, runInternal) rather than one of their
   * own after another session's turn; its row store queries settle them first (withBackend).
   */
  readonly foldsSettings = true;
  /** A BEGIN through query()/exec() left a transaction open. */
  inTransaction = false;
  /** The session's calls run one after another, in call order, as a connection's statements do. */
  queue: Promise<unknown> = Promise.resolve();
  /** A transaction() callback is running: calls from it run at once, inside its transaction. */
  inCallback = 0;
  /**
   * Ran something that may have changed its settings, not read back yet (see BackendSession): they
   * are read back when no transaction is open, however many calls later that is.
   */
  settingsUnread = false;
  /** Statements wrote to a hypertable: give rows in default partitions their chunks when the transaction ends. */
  routePending = false;
  deliverNotification(): void {
    // The in-process API has no LISTEN support yet; LISTEN is refused before it runs.
  }
}

export class Orbit implements Queryable {
  readonly backend: Backend;
  readonly sessionOptions: SessionOptions;
  private readonly embedded = new EmbeddedSession();
  /** Orbit's own catalog lookups (e.g. passwords for authentication) run with default settings. */
  private readonly system = new EmbeddedSession();
  /** The job scheduler's session (session/job-scheduler.ts), with default settings like a new connection's. */
  private readonly jobSession = new EmbeddedSession();
  private readonly scheduler: JobScheduler | undefined;
  private closing = false;

  private readonly readerThread: ReaderThread | undefined;

  private constructor(
    /** Every request counted (rowstore/counted.ts): all of Orbit reaches PostgreSQL through it. */
    readonly rowStore: CountedRowStore,
    readonly storage: StorageAdapter,
    options: OrbitOptions,
  ) {
    this.readerThread = options.readerThread;
    const columnstore = new ColumnStore(storage, options.codecs ?? new ReferenceBackend(), options.columnstore);
    this.backend = new Backend(rowStore, new Columnstore(columnstore, options.kernels ?? new ReferenceKernels(), () => rowStore.requests), options.readerThread);
    this.sessionOptions = { ...DEFAULT_SESSION_OPTIONS, ...options.session };
    if (options.jobScheduler !== false) {
      const scheduler = new JobScheduler({
        query: (sql, params) => this.withBackend(this.jobSession, (run) => run.query(sql, params)),
        beforeJob: () => this.backend.columnstore?.expectChanges(),
        stop: () => this.backend.stop(this.jobSession),
      });
      this.scheduler = scheduler;
      // Statements of every session (wire clients included) that may add or reschedule a job wake it.
      this.backend.onStatements = (statements) => {
        if (mayScheduleJobs(statements)) scheduler.poke();
      };
    }
  }

  static async create(options: OrbitOptions): Promise<Orbit> {
    await loadParser();
    const orbit = new Orbit(new CountedRowStore(options.rowStore), options.storage, options);
    orbit.scheduler?.start();
    return orbit;
  }

  get closed(): boolean {
    return this.closing || this.rowStore.closed;
  }

  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<Row>> {
    return this.withBackend(this.embedded, (run) => run.query<Row>(sql, params));
  }

  exec(sql: string): Promise<QueryResult[]> {
    return this.withBackend(this.embedded, (run) => run.exec(sql));
  }

  /**
   * Runs `sql`, one `COPY table [(columns)] FROM STDIN [WITH (…)]`, reading its data from `data`:
   * a string, bytes, a Blob (a browser File), a ReadableStream or an (async) iterable of pieces (a
   * Node file stream). The same COPY as a client's over the wire (session/embedded-copy.ts): direct
   * to the columnstore for hypertables that take it, all or nothing, durable when it resolves with
   * `affectedRows`. It runs with this session's settings, in a transaction of its own.
   */
  copyFrom(sql: string, data: CopySource): Promise<QueryResult<never>> {
    return this.copyIn(this.embedded, sql, data);
  }

  /**
   * Runs `fn` inside BEGIN … COMMIT, rolling back if it throws. Other sessions wait until it ends;
   * the commit is made durable before this resolves.
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.withBackend(this.embedded, async (run) => {
      await run.exec('BEGIN');
      this.embedded.inCallback++;
      try {
        const result = await fn(run);
        await run.exec('COMMIT');
        return result;
      } catch (err) {
        await this.rowStore.exec('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        this.embedded.inCallback--;
      }
    });
  }

  /**
   * Another in-process session with its own settings and transaction state (e.g. for a second tab's
   * queries, proxied by the browser worker). `close` rolls back a transaction it left open.
   */
  session(): OrbitSession {
    const session = new EmbeddedSession();
    return {
      query: <Row>(sql: string, params?: unknown[]) => this.withBackend(session, (run) => run.query<Row>(sql, params)),
      exec: (sql: string) => this.withBackend(session, (run) => run.exec(sql)),
      copyFrom: (sql: string, data: CopySource) => this.copyIn(session, sql, data),
      close: async () => {
        if (session.inTransaction && !this.closing) await this.withBackend(session, (run) => run.exec('ROLLBACK')).catch(() => undefined);
      },
    };
  }

  /** A catalog query with default settings, for Orbit's own use. */
  systemQuery<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<Row>> {
    return this.withBackend(this.system, (run) => run.query<Row>(sql, params));
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    // A job in progress finishes (and records its outcome) first.
    await this.scheduler?.stop();
    await this.readerThread?.close();
    await this.rowStore.close();
    await this.storage.close();
  }

  /** COPY FROM STDIN with `session`'s settings, through a protocol session of its own. */
  private async copyIn(session: EmbeddedSession, sql: string, data: CopySource): Promise<QueryResult<never>> {
    if (this.closing) throw new OrbitError(SqlState.admin_shutdown, 'the database is closed');
    // Its session would wait for this one's transaction to end, which waits for the COPY.
    if (session.inTransaction) {
      throw new OrbitError(SqlState.feature_not_supported, 'copyFrom() inside a transaction block is not supported', {
        hint: "End the transaction begun with query('BEGIN') first; the COPY runs in a transaction of its own.",
      });
    }
    return copyFromSource(this.backend, this.sessionOptions, session.settings, sql, data);
  }

  /**
   * `sql` as a direct insert into a hypertable that takes it (session/direct-ingest/insert.ts: at least 100
   * rows of constants), or undefined to run it as usual.
   */
  private async directInsert(session: EmbeddedSession, sql: string): Promise<QueryResult<never> | undefined> {
    const text = backendText(sql);
    if (!text.ok || !text.analysis.ok || text.analysis.statements.length !== 1) return undefined;
    const statement = text.analysis.statements[0]!;
    if (statement.type !== 'InsertStmt' || refusal(statement, 'in-process')) return undefined;
    const out = await this.backend.directInsert(session, statement, false);
    return out && readTypedResult<never>(out);
  }

  /** The fix-up inside the open transaction (a savepoint: a failure leaves the transaction as it was). */
  private async routeInBlock(session: EmbeddedSession): Promise<void> {
    for (const warning of await this.backend.routeDefaultRows(session, true)) this.warn(warning);
  }

  /** A warning a wire client would get as a notice (the in-process API has no notice channel). */
  private warn(warning: OrbitError | undefined): void {
    if (warning) console.warn(`orbit: WARNING: ${warning.message}`);
  }

  /**
   * Runs `fn` for `session` after the session's earlier calls (Promise.all of two queries of one
   * session interleaved them on the backend the session holds: one dropped the cache tables the
   * other read, 42P01). Calls from inside a transaction() callback run at once, as before.
   */
  private withBackend<T>(session: EmbeddedSession, fn: (run: Queryable) => Promise<T>): Promise<T> {
    if (session.inCallback > 0) return this.withBackendNow(session, fn);
    const result = session.queue.then(() => this.withBackendNow(session, fn));
    session.queue = result.catch(() => undefined);
    return result;
  }

  /** Takes the backend for `session`, runs `fn` with statement-checked query functions, gives it back. */
  private async withBackendNow<T>(session: EmbeddedSession, fn: (run: Queryable) => Promise<T>): Promise<T> {
    // While closing, only a job in progress may finish (close() waits for it).
    if (this.closing && !(session === this.jobSession && this.scheduler?.busy)) throw new OrbitError(SqlState.admin_shutdown, 'the database is closed');
    await this.backend.acquire(session);
    // The row store reached directly: the session's settings first (they may still be another session's).
    const rowStore = {
      query: async <Row>(sql: string, params?: unknown[]): Promise<QueryResult<Row>> => {
        await this.backend.settle(session);
        return this.backend.runningStatement(session, () => this.rowStore.query<Row>(sql, params));
      },
      exec: async (sql: string): Promise<QueryResult[]> => {
        await this.backend.settle(session);
        return this.backend.runningStatement(session, () => this.rowStore.exec(sql));
      },
    };
    let transactionControl = false;
    /** Refuses what Orbit refuses and returns the text PostgreSQL runs (Orbit's rewrites applied). */
    let ran: ClassifiedStatement[] = [];
    const check = async (original: string, onRows?: (rows: DirectRows) => void, guarded = false): Promise<string> => {
      const text = await backendSql(original);
      const values = onRows && this.rowStore.valueReader ? (oid: number) => this.rowStore.valueReader!(oid) : undefined;
      return this.backend.prepareColumnstore(session, text, !session.inTransaction && !transactionControl, true, true, onRows, values, guarded);
    };
    const backendSql = async (original: string): Promise<string> => {
      const text = backendText(original);
      if (!text.ok) throw text.error;
      const { sql, analysis } = text;
      if (!analysis.ok) return sql; // PostgreSQL raises the same syntax error itself
      // RESET SESSION AUTHORIZATION and SET … DEFAULT return to the backend's role (session/roles.ts).
      const statements = analysis.statements.map((s) => checkAuthorization(s, BOOT_LOGIN) as ClassifiedStatement);
      ran = statements;
      for (const s of statements) {
        const refused = refusal(s, 'in-process');
        if (refused) throw refused;
        if (s.changesSettings || mayChangeRole(s)) session.settingsUnread = true;
        if (s.kind === 'transaction') transactionControl = true;
      }
      if (this.backend.routing.writes(statements)) session.routePending = true;
      const edits = rewriteEdits(statements);
      if (edits.length > 0) return spliceSql(sql, edits);
      // A lone SELECT outside a transaction: now()-style bounds made constant (sql/rewrite/stable-bounds).
      const only = analysis.statements.length === 1 ? analysis.statements[0]! : undefined;
      const bounds = only && !session.inTransaction && !transactionControl ? findStableBounds(only.type, only.node) : undefined;
      return bounds ? this.backend.withStableBounds(session, sql, analysis.statements, bounds) : sql;
    };
    /**
     * Where the hypertable fix-up must run in `sql` (session/fix-up-parts.ts): before its statements
     * that work on chunks after a write earlier in it or in the open transaction, and after its
     * statements Orbit plans only once those before them ran (Backend.partCuts). Undefined: nowhere.
     */
    const fixUps = async (sql: string): Promise<{ parts: QueryPart[]; wrap: boolean } | undefined> => {
      const text = backendText(sql);
      if (!text.ok || !text.analysis.ok) return undefined;
      const statements = text.analysis.statements;
      if (statements.length < 2 && !session.routePending) return undefined;
      await this.backend.loadRouting(session);
      const { replans, cuts } = await this.backend.partCuts(session, statements);
      let points = mergePoints(this.backend.routing.fixUpPoints(statements, session.routePending), replans);
      if (points.length === 0 && cuts.length === 0) return undefined;
      // (A write earlier in this call is pending only inside a transaction block: asked only now.)
      const inBlock = await this.backend.inTransaction(session);
      if (!inBlock) points = mergePoints(this.backend.routing.fixUpPoints(statements), replans);
      if (points.length === 0 && cuts.length === 0) return undefined;
      const parts = fixUpParts(text.sql, statements, points, cuts);
      if (parts instanceof OrbitError) throw parts;
      return { parts, wrap: !inBlock };
    };
    const execText = async (sql: string): Promise<QueryResult[]> => {
      const text = await check(sql);
      try {
        return await rowStore.exec(text);
      } catch (err) {
        throw backendError(err);
      } finally {
        this.backend.unnamedOwner = undefined;
        this.backend.noteColumnstore(ran);
      }
    };
    const run: Queryable = {
      query: async <Row>(sql: string, params?: unknown[]) => {
        // One statement: at most a fix-up before it.
        if ((await fixUps(sql))?.parts[0]?.fixUpFirst) await this.routeInBlock(session);
        // A multi-row INSERT of constants outside a transaction block: to the columnstore, as a client's.
        if (!params?.length && !session.inTransaction && !transactionControl) {
          const direct = await this.directInsert(session, sql);
          if (direct) return direct as QueryResult<Row>;
        }
        // A SELECT with parameters outside a transaction block: with its values written out, for the fast path.
        if (params?.length && !session.inTransaction) {
          const bound = await embeddedBoundSql(this.backend, session, this.rowStore, sql, params);
          if (bound !== undefined) {
            try {
              const r = await run.query<Row>(bound.sql);
              // Columns named otherwise than the statement as given names them (`SELECT $1`): run that.
              if (r.fields.length === bound.names.length && r.fields.every((f, i) => f.name === bound.names[i])) return r;
            } catch (err) {
              // An error is PostgreSQL's for the statement as given (a value its type refuses has no
              // position there): a read outside a transaction block, run again with its parameters.
              if (toOrbitError(err).code === SqlState.query_canceled) throw err;
            }
          }
        }
        // Without parameters a scan may print its compressed rows itself, added to the rowstore's.
        let printed: DirectRows | undefined;
        const text = await check(sql, params?.length || !this.rowStore.valueReader ? undefined : (rows) => (printed = rows), !params?.length);
        try {
          if (printed) {
            const objects = (printed as DirectRows).objects;
            // The statement as written gave the rowstore's rows: the compressed ones follow. A
            // statement that only describes them (an aggregate's, a last point's) may have its response kept.
            const cs = this.backend.columnstore;
            const idle = !session.inTransaction && !transactionControl;
            const r =
              cs && idle && (printed as DirectRows).describes
                ? await cs.described(`query\0${session.settingsKey}\0${text}`, () => rowStore.query<Row>(text), (kept) => kept.rows.length === 0).then((kept) => ({ ...kept, fields: kept.fields.map((f) => ({ ...f })) }))
                : await rowStore.query<Row>(text);
            const fits = objects && r.fields.length === printed.names.length && r.fields.every((f, i) => f.name === printed!.names[i] && f.dataTypeID === printed!.types[i]);
            if (fits) return { ...r, rows: r.rows.concat(objects as Row[]) };
            // A result shaped otherwise than planned: the general path.
            return await rowStore.query<Row>(await check(sql), params);
          }
          try {
            return await rowStore.query<Row>(text, params);
          } catch (err) {
            // A reused fast-path statement that failed (its inputs changed, or anything else): planned again and run once more.
            if (!this.backend.retryStale(() => (err instanceof Error ? err.message : String(err)))) throw err;
            return await rowStore.query<Row>(await check(sql), params);
          }
        } catch (err) {
          throw backendError(err);
        } finally {
          this.backend.unnamedOwner = undefined;
          this.backend.noteColumnstore(ran);
        }
      },
      exec: async (sql: string) => {
        const split = await fixUps(sql);
        if (!split) {
          // One INSERT of constants, as query() does.
          const direct = !session.inTransaction && !transactionControl ? await this.directInsert(session, sql) : undefined;
          return direct ? [direct] : execText(sql);
        }
        if (split.wrap) {
          await rowStore.exec('BEGIN');
          // The parts run inside it: Orbit's work for them must not open and commit a transaction of its own.
          session.inTransaction = true;
        }
        try {
          const results: QueryResult[] = [];
          for (const part of split.parts) {
            if (part.fixUpFirst) await this.routeInBlock(session);
            results.push(...(await execText(part.sql)));
          }
          if (split.wrap) await rowStore.exec('COMMIT');
          return results;
        } catch (err) {
          if (split.wrap) await rowStore.exec('ROLLBACK').catch(() => undefined);
          throw err;
        } finally {
          if (split.wrap) session.inTransaction = false;
        }
      },
    };
    let keep = false;
    try {
      return await fn(run);
    } finally {
      try {
        // A BEGIN through query()/exec() leaves a transaction open: keep the backend until it ends,
        // so no other session runs inside it.
        if (transactionControl || session.inTransaction) {
          session.inTransaction = await this.backend.inTransaction(session);
        }
        // A call from inside a transaction() callback leaves the backend to the transaction.
        keep = session.inTransaction || session.inCallback > 0;
        if (session.routePending && !keep) {
          session.routePending = false;
          for (const warning of await this.backend.routeDefaultRows(session)) this.warn(warning);
        }
        if (!keep) {
          const [error] = await this.backend.processColumnstoreRequests(session);
          if (error) throw error;
        }
        if (session.settingsUnread && !keep) {
          const snap = await this.backend.snapshot(session);
          session.settings = snap.session;
          session.settingsKey = settingsKey(snap.session);
          session.settingsUnread = false;
          this.backend.noteApplied(session);
        }
      } finally {
        if (!keep) this.backend.release(session);
      }
    }
  }
}

/** An error of PostgreSQL's for the caller's statement, naming tables Orbit aliased internally as it does (sql/rewrite/name-clashes.ts). */
function backendError(err: unknown): OrbitError {
  const e = toOrbitError(err);
  const [message, detail, hint] = [e.message, e.detail, e.hint].map((text) => (text === undefined ? undefined : publicNames(text)));
  if (message === e.message && detail === e.detail && hint === e.hint) return e;
  const { severity, position, where, schema, table, column, dataType, constraint } = e;
  return new OrbitError(e.code, message!, { severity, detail, hint, position, where, schema, table, column, dataType, constraint, cause: e.cause ?? err });
}
