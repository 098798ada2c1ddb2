/**
 * @module session/columnstore-binds
 * The extended protocol's columnstore work (session/extended-query.ts): Orbit's work for a statement
 * at its Parse or Bind, run where the pipeline's transaction allows (session/pipeline-transaction.ts);
 * the fast path at a Bind with text parameters, its values written out (session/bound-literals.ts),
 * parsed as the session's fast-path statement or answered by Orbit (session/local-portal.ts); a
 * named statement's fast path or cache tables at each Bind; and the Describe of such statements,
 * kept outside a transaction.
 */
import { concatBytes } from '../bytes.js';
import type { ClassifiedStatement } from '../sql/classify.js';
import { scanBackend } from '../wire/protocol/backend.js';
import { readBindParams, writeParse, writeTarget, type BindHead } from '../wire/protocol/frontend.js';
import { BackendMessage, FrontendMessage } from '../wire/protocol/message-codes.js';
import type { Backend } from './backend.js';
import { boundLiteralSql, hasParameters, parameterTypes, rowDescription } from './bound-literals.js';
import type { PrintedRows } from './columnstore/scan.js';
import { describes } from './columnstore/scan-printed-rows.js';
import type { ExtendedQueryHooks, ExtendedQuerySession } from './extended-query.js';
import { LocalPortal } from './local-portal.js';
import { PipelineRefusal, type PipelineState } from './pipeline-transaction.js';
import type { PreparedEntry, PreparedStatements } from './prepared-statements.js';
import { backendText } from './rewrite.js';
import { analyse } from './statement-cache.js';
import { addsUniqueIndex } from './columnstore/unique-indexes.js';
import { validatedConstraint } from './columnstore/validated-constraints.js';
import { mayCheckRows } from './columnstore/unchecked-rows.js';

/** What of the extended protocol's state the columnstore's work reads (session/extended-query.ts). */
export interface BindsHost {
  errorSinceSync(): boolean;
  /** Only Parses are queued for the backend. */
  onlyParsesQueued(): boolean;
  flushPending(): Promise<void>;
  prepareUse(name: string): Promise<PreparedEntry | undefined>;
  /** Where the backend's transaction stands now. */
  state(): PipelineState;
}

export class ColumnstoreBinds {
  /**
   * The unnamed statement's columnstore work waits for its Bind (`bound`, `prepareStatement`): it has
   * parameters, or its role could not read the hypertable at its Parse.
   */
  unnamedAtBind = false;
  /** The backend statement a named statement's fast path runs as (parsed afresh at each Bind). */
  private readonly fastPathName: string;
  private fastPathUsed = false;

  constructor(
    private readonly session: ExtendedQuerySession,
    private readonly backend: Backend,
    private readonly prepared: PreparedStatements,
    private readonly hooks: ExtendedQueryHooks,
    private readonly host: BindsHost,
  ) {
    this.fastPathName = `orbit_fast_path_${session.id}`;
  }

  /** The backend statements of the session's fast path, to deallocate at disconnect. */
  fastPathNames(): string[] {
    return this.fastPathUsed ? [this.fastPathName] : [];
  }

  /**
   * Orbit's columnstore work for a statement: `work(idle)`, idle when the session is outside any
   * transaction (the work then runs in a transaction of its own). Inside the pipeline's implicit
   * transaction it runs as inside a block, its statements sent without ending the transaction
   * (session/pipeline-transaction.ts); `fallback`, a way that may need fewer, follows a refusal
   * (PipelineRefusal: a statement that would begin or end a transaction).
   */
  work<T>(work: (idle: boolean) => Promise<T>, fallback?: () => Promise<T>): Promise<T> {
    const state = this.host.state();
    return this.backend.sealed(this.session, state === 'implicit', async () => {
      try {
        return await work(state === 'idle');
      } catch (err) {
        if (!(err instanceof PipelineRefusal) || !fallback) throw err;
        return fallback();
      }
    });
  }

  /** Parses `sql` (with the client's `paramTypes`) as this session's fast-path statement on the backend; returns its name. */
  async parseFastPath(sql: string, paramTypes: number[] = []): Promise<string> {
    const backendName = this.fastPathName;
    const out = await this.backend.run(this.session, concatBytes([writeTarget(FrontendMessage.Close, { target: 'S', name: backendName }), writeParse({ name: backendName, query: sql, paramTypes })]));
    // Deallocated at disconnect only if it exists (a failed DEALLOCATE would stop the clean-up).
    this.fastPathUsed = !scanBackend(out).some((f) => f.type === BackendMessage.ErrorResponse);
    this.hooks.forwardErrorsOnly(out);
    return backendName;
  }

  /**
   * A Bind with text parameters of a SELECT over a hypertable with the columnstore enabled: the
   * statement with its values written out (session/bound-literals.ts), when the planner's fast path
   * takes it, is computed now and parsed as this session's fast-path statement; the Bind then goes
   * there without its parameters. When the rows are made from the kernels' partials (the unnamed
   * portal, text results, outside a transaction block, `mayAnswer`), they are the portal (`local`):
   * PostgreSQL is not asked. Undefined otherwise (the ordinary way follows). The parameters' types are
   * PostgreSQL's (`describeStatement`).
   */
  private async bound(bind: BindHead, mayAnswer: boolean): Promise<{ backendName: string; statement: ClassifiedStatement } | { local: LocalPortal } | undefined> {
    const entry = this.prepared.lookup(bind.statement);
    const statement = entry?.statement;
    const cs = this.backend.columnstore;
    if (!entry || !cs || statement?.type !== 'SelectStmt' || !cs.mayConcern([statement]) || !hasParameters(statement)) return undefined;
    const params = readBindParams(bind.rest);
    if (!params || params.formats.some((f) => f !== 0)) return undefined;
    // The values are read as UTF-8 text (another client encoding would give their bytes another meaning).
    const encoding = this.session.settings.get('client_encoding');
    if (encoding !== undefined && !/^utf-?8$/i.test(encoding)) return undefined;
    // The unnamed statement may not be on the backend (parseOnce): put there only when it is used there.
    const onBackend = bind.statement === '' ? entry : await this.host.prepareUse(bind.statement);
    // Parses only (the client's Parse of this statement): nothing PostgreSQL ran changes the kept facts.
    if (this.host.onlyParsesQueued()) await cs.readOnly(() => this.host.flushPending());
    else await this.host.flushPending();
    // After an error PostgreSQL skips the Bind, in a failed block it refuses it: nothing of Orbit's to do.
    if (!onBackend || this.host.errorSinceSync() || this.host.state() === 'failed') return undefined;
    const idle = this.host.state() === 'idle';
    const out = await this.describeStatement(bind.statement, entry, idle);
    const types = parameterTypes(out);
    if (!types) {
      this.hooks.forwardErrorsOnly(out);
      return undefined;
    }
    const sql = boundLiteralSql(statement, types, params);
    const text = sql === undefined ? undefined : backendText(sql);
    const literal = text?.ok && text.analysis.ok && text.analysis.statements.length === 1 ? text.analysis.statements[0]! : undefined;
    if (!literal) return undefined;
    // Text results only (binary ones would need PostgreSQL's binary forms), with as many format
    // codes as PostgreSQL takes (none, one for all, one per column; else its error).
    const described = idle && mayAnswer && bind.portal === '' && params.results.every((f) => f === 0) ? rowDescription(out) : undefined;
    const description = described && (params.results.length <= 1 || params.results.length === ((described[5]! << 8) | described[6]!)) ? described : undefined;
    let made: PrintedRows | undefined;
    let final = await this.work((idle) => this.backend.fastPathSql(this.session, literal, idle, description ? (rows) => (made = rows) : undefined), NONE_FOUND);
    if (made && description && describes(description.subarray(5), made)) return { local: new LocalPortal(statement, description, made) };
    // Rows not for this description (a domain, …): the statement that computes them instead.
    if (made) final = await this.backend.fastPathSql(this.session, literal, idle);
    return final === undefined ? undefined : { backendName: await this.parseFastPath(final), statement };
  }

  /**
   * The columnstore's work at a Bind: a statement with text parameters on the fast path with its
   * values written out (`literal`: bound without them) or answered by Orbit (`local`), or a named
   * statement's fast path or cache tables (`prepareStatement`). SKIPPED: PostgreSQL skips the Bind (an
   * error since Sync). Throws PrivilegeDenied before any work for a role that may not read the
   * statement's tables.
   */
  async atBind(bind: BindHead, first: boolean): Promise<{ backendName: string; statement: ClassifiedStatement; literal?: boolean } | { local: LocalPortal } | typeof SKIPPED | undefined> {
    const bound = await this.bound(bind, first);
    if (bound) return 'local' in bound ? bound : { ...bound, literal: true };
    if (this.host.errorSinceSync()) return SKIPPED;
    await this.checkNewConstraints(bind.statement);
    return this.prepareStatement(bind.statement);
  }

  /**
   * Before a Bind of a named statement over a hypertable with the columnstore enabled: a statement
   * the planner's fast path takes is computed now and parsed under this session's fast-path name
   * (the Bind then goes there); otherwise its cache tables or DML decompression are brought up to
   * date, since chunks may have changed since it was parsed. The unnamed statement was prepared by
   * its own Parse, unless `unnamedAtBind`.
   */
  private async prepareStatement(name: string): Promise<{ backendName: string; statement: ClassifiedStatement } | undefined> {
    const entry = this.prepared.lookup(name);
    if (!entry?.statement || (name === '' && !this.unnamedAtBind) || !this.backend.columnstore?.mayConcern([entry.statement])) return undefined;
    await this.host.flushPending();
    // After an error PostgreSQL skips the Bind; in a failed block it refuses it (25P02): no work of Orbit's either way.
    if (this.host.errorSinceSync() || this.host.state() === 'failed') return undefined;
    if (name === '') {
      // The unnamed query with parameters the fast path did not take (or one whose role could not
      // read the hypertable at its Parse): its text rewritten and its cache tables filled now, as
      // others get at their Parse.
      const query = await this.work((idle) => this.backend.prepareColumnstore(this.session, entry.parse.query, idle, false, true));
      this.unnamedAtBind = false;
      if (query !== entry.parse.query) {
        const parse = { ...entry.parse, query };
        this.prepared.setUnnamed(parse, entry.statement);
        this.backend.unnamedOwner = this.session;
        this.hooks.forwardErrorsOnly(await this.backend.run(this.session, writeParse(parse)));
      }
      return undefined;
    }
    // A statement that EXECUTEs another names it as the backend knows it (the client's name is this session's).
    const backend = entry.statement.preparedName === undefined ? undefined : analyse(entry.parse.query);
    const statement = backend?.ok && backend.statements.length === 1 ? backend.statements[0]! : entry.statement;
    const sql = await this.work((idle) => this.backend.fastPathSql(this.session, statement, idle), NONE_FOUND);
    if (sql !== undefined) return { backendName: await this.parseFastPath(sql), statement: entry.statement };
    if (entry.atBind) {
      // Parsed as written (its role could not read the hypertable then): its text rewritten for the
      // cache tables now, bound as the session's fast-path statement; the check is made at each Bind.
      const query = await this.work((idle) => this.backend.prepareColumnstore(this.session, entry.parse.query, idle, false, true));
      return query === entry.parse.query ? undefined : { backendName: await this.parseFastPath(query, entry.parse.paramTypes), statement: entry.statement };
    }
    await this.work((idle) => this.backend.prepareColumnstoreStatement(this.session, statement, idle));
    return undefined;
  }

  /**
   * A Bind of a statement adding a unique index or a constraint checked against the existing rows
   * (named or not, bound again or not): the rows of the hypertable's batches are checked now, as
   * chunks may have been compressed since its Parse (unique-indexes.ts, validated-constraints.ts). A
   * violation is the Bind's error (23505, 23514, 23502, 23503).
   */
  private async checkNewConstraints(name: string): Promise<void> {
    const entry = this.prepared.lookup(name);
    if (!entry?.statement || (!addsUniqueIndex(entry.statement) && !validatedConstraint(entry.statement) && !mayCheckRows(entry.statement))) return;
    await this.host.flushPending();
    if (this.host.errorSinceSync() || this.host.state() === 'failed') return;
    const statement = entry.statement;
    await this.work((idle) => this.backend.checkNewConstraints(this.session, statement, entry.parse.query, idle));
  }

  /**
   * PostgreSQL's Describe of a statement (ParameterDescription, then RowDescription or NoData), kept
   * outside a transaction block like results' descriptions (Columnstore.described: per text, its
   * parameter types as parsed and the session's settings; dropped on DDL).
   */
  private async describeStatement(name: string, entry: PreparedEntry, idle: boolean): Promise<Uint8Array> {
    const describe = async () => {
      const onBackend = name === '' ? await this.host.prepareUse(name) : entry;
      return this.backend.run(this.session, concatBytes([writeTarget(FrontendMessage.Describe, { target: 'S', name: name === '' ? '' : onBackend!.backendName }), FLUSH]));
    };
    const cs = this.backend.columnstore;
    if (!idle || !cs) return describe();
    return cs.described(`parameters\0${this.session.settingsKey}\0${entry.parse.paramTypes.join(',')}\0${entry.parse.query}`, describe, (o) => parameterTypes(o) !== undefined);
  }

  /**
   * A Describe of a statement with parameters over the columnstore outside a transaction block: the
   * answer, kept (describeStatement), so that a statement parsed once (parseOnce) needs no round
   * trip for it; undefined for other statements (and after an error, when PostgreSQL skips it).
   */
  async keptDescription(name: string): Promise<Uint8Array | undefined> {
    const entry = this.prepared.lookup(name);
    const statement = entry?.statement;
    if (!entry || statement?.type !== 'SelectStmt' || this.host.state() !== 'idle' || !this.backend.columnstore?.mayConcern([statement]) || !hasParameters(statement)) return undefined;
    await this.host.flushPending();
    if (this.host.errorSinceSync() || (name !== '' && !(await this.host.prepareUse(name)))) return undefined;
    // The client's own Describe: its answer, or PostgreSQL's error.
    return this.describeStatement(name, entry, true);
  }
}

/** ColumnstoreBinds.atBind: PostgreSQL skips the Bind. */
export const SKIPPED = 'skipped';

/** No fast path (after a PipelineRefusal: the general way follows). */
export const NONE_FOUND = async (): Promise<undefined> => undefined;
const FLUSH = new Uint8Array([FrontendMessage.Flush, 0, 0, 0, 4]);
