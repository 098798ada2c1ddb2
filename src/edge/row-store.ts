/**
 * @module edge/row-store
 * The `RowStore` contract (src/rowstore/types.ts) over the edge engine, so the session and wire
 * layers (src/session/, src/wire/) serve the edge unchanged: `execProtocolRaw` answers Query and
 * Parse/Bind/Describe/Execute/Sync/Close with RowDescription, DataRow, CommandComplete,
 * ErrorResponse and ReadyForQuery, all in text format.
 *
 * The session layer asks the backend a few catalog questions of its own (its settings snapshot,
 * whether timescaledb is installed, which tables are hypertables). They are PostgreSQL catalog
 * queries the edge engine does not plan, so they are recognised by their exact text (the session
 * layer's own constants) and answered from the engine's settings and catalog.
 *
 * Transaction blocks are the engine's (writes staged until COMMIT); ReadyForQuery reports its
 * status. COPY FROM STDIN reads each CopyData as it arrives (src/edge/copy-in.ts stages the rows) and
 * writes them as one statement at CopyDone; an error is answered at CopyDone (or CopyFail), as the
 * session layer's COPY does, and the data after it is discarded.
 */
import { concatBytes } from '../bytes.js';
import type { EdgeCopyIn } from './copy-in.js';
import { orbitError, toOrbitError } from '../errors.js';
import type { QueryResult, RowStore } from '../rowstore/types.js';
import { parseSql, scanSql } from '../sql/parser.js';
import { edgeStatements, SPLIT_CHARS } from './statements.js';
import { HYPERTABLES_SQL, INSTALLED_SQL } from '../session/hypertable-routing.js';
import { SNAPSHOT_SQL } from '../session/settings.js';
import { commandComplete, emptyMessage, errorResponse, readyForQuery } from '../wire/protocol/backend.js';
import { readParse, readQuery, readTarget } from '../wire/protocol/frontend.js';
import { BackendMessage, FrontendMessage, TransactionStatus } from '../wire/protocol/message-codes.js';
import { MessageFramer, MessageReader } from '../wire/protocol/reader.js';
import { MessageWriter } from '../wire/protocol/writer.js';
import type { EdgeEngine, StatementResult } from './engine.js';
import type { ResultField } from './select.js';
import { formatValue, TYPE_OID, type EdgeType } from './values.js';

/** The process id the edge backend reports (pg_backend_pid()); there is no process. */
const EDGE_PROCESS_ID = 1;

const TYPE_LENGTH: Partial<Record<EdgeType, number>> = { bool: 1, int2: 2, int4: 4, int8: 8, float4: 4, float8: 8, timestamptz: 8, timestamp: 8, date: 4, interval: 16, regclass: 4 };

interface Prepared {
  readonly query: string;
  readonly paramTypes: number[];
}

interface Portal {
  readonly statement: Prepared;
  readonly params: (string | null)[];
  /** Set once Describe ran the statement (its rows are sent by Execute). */
  result?: StatementResult;
}

/** A statement result with its values in PostgreSQL's text format. */
export interface TextResult {
  readonly command: string;
  readonly fields: Array<{ name: string; dataTypeID: number }>;
  readonly rows: Array<Array<string | null>>;
}

export function textResult(r: StatementResult, zone: string): TextResult {
  const fields = r.fields ?? [];
  return {
    command: r.command,
    fields: fields.map((f) => ({ name: f.name, dataTypeID: TYPE_OID[f.type] })),
    rows: r.rows.map((row) => row.map((v, i) => formatValue(fields[i]!.type, v, zone))),
  };
}

export class EdgeRowStore implements RowStore {
  /** COPY data is read as each CopyData arrives (the session passes them through). */
  readonly streamsCopyIn = true;
  /** Large texts are parsed a piece at a time here (edgeStatements), so the session must not parse them whole. */
  readonly unparsedQueryChars = SPLIT_CHARS;
  private readonly statements = new Map<string, Prepared>();
  private readonly portals = new Map<string, Portal>();
  private skipToSync = false;
  /** A COPY FROM STDIN taking its CopyData until CopyDone (the Query's ReadyForQuery comes after them); `error` ends it. */
  private copy: { copy: EdgeCopyIn; error?: unknown } | undefined;
  closed = false;

  constructor(
    readonly engine: EdgeEngine,
    /** Makes acknowledged writes durable (DO storage sync); DO SQLite commits each statement anyway. */
    private readonly flush: () => Promise<void> = async () => undefined,
  ) {}

  async execProtocolRaw(messages: Uint8Array): Promise<Uint8Array> {
    const framer = new MessageFramer();
    framer.push(messages);
    const out: Uint8Array[] = [];
    for (let msg = framer.next(true); msg; msg = framer.next(true)) {
      if (this.copy) {
        await this.copyMessage(msg.type, msg.body, out);
        continue;
      }
      if (msg.type === FrontendMessage.Sync) {
        this.skipToSync = false;
        this.portals.delete('');
        out.push(readyForQuery(this.status()));
        continue;
      }
      if (msg.type === FrontendMessage.Query) {
        this.skipToSync = false;
        await this.simpleQuery(readQuery(msg.body), out);
        if (!this.copy) out.push(readyForQuery(this.status()));
        continue;
      }
      if (this.skipToSync) continue;
      try {
        await this.extended(msg.type, msg.body, out);
      } catch (err) {
        out.push(errorResponse(toOrbitError(err)));
        this.skipToSync = true;
      }
    }
    return concatBytes(out);
  }

  private status(): TransactionStatus {
    const s = this.engine.transactionStatus;
    return s === 'I' ? TransactionStatus.Idle : s === 'T' ? TransactionStatus.InTransaction : TransactionStatus.Failed;
  }

  /** CopyData is read as it arrives; CopyDone writes the rows as one statement; CopyFail cancels (57014). */
  private async copyMessage(type: number, body: Uint8Array, out: Uint8Array[]): Promise<void> {
    const state = this.copy!;
    if (type === FrontendMessage.CopyData) {
      if (state.error !== undefined) return; // discarded after an error, until CopyDone
      try {
        state.copy.push(body);
      } catch (err) {
        state.error = err;
      }
      return;
    }
    // PostgreSQL ignores Flush and Sync during COPY IN.
    if (type === FrontendMessage.Flush || type === FrontendMessage.Sync) return;
    this.copy = undefined;
    try {
      if (type === FrontendMessage.CopyDone && state.error === undefined) {
        this.writeResult({ command: `COPY ${await state.copy.finish()}`, rows: [] }, out, true);
        await this.flush();
        out.push(readyForQuery(this.status()));
        return;
      }
      state.copy.abort();
      this.engine.failTransaction();
      if (state.error !== undefined) throw state.error;
      if (type === FrontendMessage.CopyFail) throw orbitError('query_canceled', `COPY from stdin failed: ${new MessageReader(body).cstring()}`);
      throw orbitError('protocol_violation', `unexpected message type 0x${type.toString(16)} during COPY from stdin`);
    } catch (err) {
      this.engine.failTransaction();
      out.push(errorResponse(toOrbitError(err)));
    }
    out.push(readyForQuery(this.status()));
  }

  private async simpleQuery(sql: string, out: Uint8Array[]): Promise<void> {
    try {
      const internal = this.internalAnswer(sql);
      if (internal) {
        this.writeResult(internal, out, true);
        return;
      }
      if (sql.trim() === '' || /^[\s;]*$/.test(sql)) {
        out.push(emptyMessage(BackendMessage.EmptyQueryResponse));
        return;
      }
      // Statements run one by one so a failure still reports the results before it.
      const { count, statements } = edgeStatements(sql);
      if (count === 0) {
        out.push(emptyMessage(BackendMessage.EmptyQueryResponse));
        return;
      }
      let i = -1;
      for (const s of statements) {
        i++;
        if (s.type === 'CopyStmt' && s.node.is_from && !s.node.filename) {
          if (i !== count - 1) throw orbitError('feature_not_supported', 'COPY FROM STDIN followed by other statements in one query is not supported at the edge');
          const copy = this.engine.startCopy(s.node);
          const w = new MessageWriter().begin(BackendMessage.CopyInResponse).byte(0).int16(copy.plan.positions.length);
          for (let k = 0; k < copy.plan.positions.length; k++) w.int16(0);
          out.push(w.end().flush());
          this.copy = { copy };
          break;
        }
        this.writeResult(await this.engine.run(s, []), out, true);
      }
      await this.flush();
    } catch (err) {
      out.push(errorResponse(toOrbitError(err)));
    }
  }

  private async extended(type: number, body: Uint8Array, out: Uint8Array[]): Promise<void> {
    switch (type) {
      case FrontendMessage.Parse: {
        const p = readParse(body);
        if (p.name !== '' && this.statements.has(p.name)) throw orbitError('duplicate_prepared_statement', `prepared statement "${p.name}" already exists`);
        // Syntax errors belong to Parse, as in PostgreSQL.
        if (!this.internalAnswer(p.query)) {
              if (parseSql(p.query).length > 1) throw orbitError('syntax_error', 'cannot insert multiple commands into a prepared statement');
        }
        this.statements.set(p.name, { query: p.query, paramTypes: p.paramTypes });
        out.push(emptyMessage(BackendMessage.ParseComplete));
        return;
      }
      case FrontendMessage.Bind: {
        const r = new MessageReader(body);
        const portal = r.cstring();
        const name = r.cstring();
        const statement = this.statements.get(name);
        if (!statement) throw orbitError('invalid_sql_statement_name', `prepared statement "${name}" does not exist`);
        const formats = Array.from({ length: r.int16() }, () => r.int16());
        const params = Array.from({ length: r.int16() }, (_, i) => {
          const len = r.int32();
          if (len < 0) return null;
          if ((formats.length === 1 ? formats[0] : formats[i] ?? 0) === 1) throw orbitError('feature_not_supported', 'binary parameters are not supported at the edge');
          return new TextDecoder('utf-8', { ignoreBOM: true }).decode(r.bytes(len));
        });
        const resultFormats = Array.from({ length: r.int16() }, () => r.int16());
        if (resultFormats.some((f) => f === 1)) throw orbitError('feature_not_supported', 'binary results are not supported at the edge');
        this.portals.set(portal, { statement, params });
        out.push(emptyMessage(BackendMessage.BindComplete));
        return;
      }
      case FrontendMessage.Describe: {
        const t = readTarget(body);
        if (t.target === 'S') {
          const s = this.statements.get(t.name);
          if (!s) throw orbitError('invalid_sql_statement_name', `prepared statement "${t.name}" does not exist`);
          const n = countParams(s.query);
          const w = new MessageWriter().begin(BackendMessage.ParameterDescription).int16(n);
          // Undeclared parameters are sent as text; the engine reads them as their context's type.
          for (let i = 0; i < n; i++) w.int32(s.paramTypes[i] || TYPE_OID.text);
          out.push(w.end().flush());
          out.push(await this.describeStatement(s, n));
          return;
        }
        const p = this.portals.get(t.name);
        if (!p) throw orbitError('undefined_cursor', `portal "${t.name}" does not exist`);
        p.result ??= await this.run(p);
        out.push(p.result.fields ? rowDescription(p.result.fields) : emptyMessage(BackendMessage.NoData));
        return;
      }
      case FrontendMessage.Execute: {
        const r = new MessageReader(body);
        const name = r.cstring();
        const p = this.portals.get(name);
        if (!p) throw orbitError('undefined_cursor', `portal "${name}" does not exist`);
        const result = p.result ?? (await this.run(p));
        p.result = undefined;
        this.writeResult(result, out, false);
        return;
      }
      case FrontendMessage.Close: {
        const t = readTarget(body);
        if (t.target === 'S') this.statements.delete(t.name);
        else this.portals.delete(t.name);
        out.push(emptyMessage(BackendMessage.CloseComplete));
        return;
      }
      case FrontendMessage.Flush:
      case FrontendMessage.Terminate:
        return;
      default:
        throw orbitError('feature_not_supported', `protocol message '${String.fromCharCode(type)}' is not supported at the edge`);
    }
  }

  private async run(p: Portal): Promise<StatementResult> {
    const internal = this.internalAnswer(p.statement.query);
    if (internal) return internal;
    const [s] = parseSql(p.statement.query);
    if (!s) return { command: '', rows: [] };
    const r = await this.engine.statement(s.type, s.node, p.params);
    await this.flush();
    return r;
  }

  /** RowDescription of a prepared SELECT, found by running it with NULL parameters (reads have no side effects). */
  private async describeStatement(s: Prepared, params: number): Promise<Uint8Array> {
    const internal = this.internalAnswer(s.query);
    if (internal?.fields) return rowDescription(internal.fields);
    const [stmt] = parseSql(s.query);
    if (stmt?.type !== 'SelectStmt') return emptyMessage(BackendMessage.NoData);
    try {
      const dry = await this.engine.describeSelect(stmt.node, new Array<null>(params).fill(null));
      return dry ? rowDescription(dry) : emptyMessage(BackendMessage.NoData);
    } catch {
      return emptyMessage(BackendMessage.NoData);
    }
  }

  private writeResult(r: StatementResult, out: Uint8Array[], withDescription: boolean): void {
    const zone = this.engine.settings.timeZone;
    if (r.fields && withDescription) out.push(rowDescription(r.fields));
    if (r.fields) {
      const text = textResult(r, zone);
      for (const row of text.rows) out.push(dataRow(row));
    }
    out.push(commandComplete(r.command));
  }

  /** The session layer's own catalog queries (see the module comment), answered from the engine. */
  private internalAnswer(sql: string): StatementResult | undefined {
    if (sql === SNAPSHOT_SQL) {
      const rows = this.engine.settings.all().map((s) => [s.name, s.value, s.session] as [string, string, boolean]);
      rows.push(['', String(EDGE_PROCESS_ID), false]);
      return { command: `SELECT ${rows.length}`, fields: [{ name: 'name', type: 'text' }, { name: 'setting', type: 'text' }, { name: '?column?', type: 'bool' }], rows };
    }
    if (sql === INSTALLED_SQL) {
      const rows = this.engine.catalog.meta('extension') ? [[1]] : [];
      return { command: `SELECT ${rows.length}`, fields: [{ name: '?column?', type: 'int4' }], rows };
    }
    if (sql === HYPERTABLES_SQL) {
      const rows = this.engine.catalog.hypertableNames().map((n) => [n]);
      return { command: `SELECT ${rows.length}`, fields: [{ name: 'relname', type: 'text' }], rows };
    }
    return undefined;
  }

  // ---- the typed API (RowStore.query / exec) -----------------------------------------------------

  async query<Row = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<QueryResult<Row>> {
    const results = await this.engine.execute(sql, params.map((p) => (p === null || p === undefined ? null : String(p))));
    await this.flush();
    return toQueryResult<Row>(results[results.length - 1] ?? { command: '', rows: [] }, this.engine.settings.timeZone);
  }

  async exec(sql: string): Promise<QueryResult[]> {
    const results = await this.engine.execute(sql);
    await this.flush();
    return results.map((r) => toQueryResult(r, this.engine.settings.timeZone));
  }

  async sync(): Promise<void> {
    await this.flush();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function toQueryResult<Row>(r: StatementResult, zone: string): QueryResult<Row> {
  const t = textResult(r, zone);
  const rows = t.rows.map((row) => Object.fromEntries(t.fields.map((f, i) => [f.name, row[i]])) as Row);
  const m = /^(?:INSERT \d+|UPDATE|DELETE|COPY|MERGE) (\d+)$/.exec(r.command);
  return { rows, fields: t.fields, ...(m ? { affectedRows: Number(m[1]) } : {}) };
}

/** The highest $n among the statement's PARAM tokens: PostgreSQL infers the parameter count the same way. */
function countParams(sql: string): number {
  let max = 0;
  for (const t of scanSql(sql)) if (t.tokenName === 'PARAM') max = Math.max(max, Number(t.text.slice(1)));
  return max;
}

export function rowDescription(fields: readonly ResultField[]): Uint8Array {
  const w = new MessageWriter().begin(BackendMessage.RowDescription).int16(fields.length);
  for (const f of fields) {
    w.cstring(f.name).int32(0).int16(0).int32(TYPE_OID[f.type]).int16(TYPE_LENGTH[f.type] ?? -1).int32(-1).int16(0);
  }
  return w.end().flush();
}

function dataRow(values: ReadonlyArray<string | null>): Uint8Array {
  const w = new MessageWriter().begin(BackendMessage.DataRow).int16(values.length);
  const enc = new TextEncoder();
  for (const v of values) {
    if (v === null) w.int32(-1);
    else {
      const b = enc.encode(v);
      w.int32(b.length).bytes(b);
    }
  }
  return w.end().flush();
}
