/**
 * @module edge/copy
 * `COPY table [(columns)] FROM STDIN` at the edge, in PostgreSQL's text and CSV formats (DELIMITER,
 * NULL, HEADER, QUOTE, ESCAPE). Every field is read with its column's text input, as COPY does, and
 * the rows are written like one INSERT. Binary COPY, COPY TO and files are 0A000.
 */
import { orbitError, OrbitError } from '../errors.js';
import type { TableDef } from './catalog.js';
import { notAtEdge, type Node } from './expr.js';
import { parseText, type Value } from './values.js';

export interface CopyPlan {
  readonly table: TableDef;
  /** Table column index of each field. */
  readonly positions: readonly number[];
  readonly csv: boolean;
  readonly delimiter: string;
  readonly nullString: string;
  readonly header: boolean;
  readonly quote: string;
  readonly escape: string;
}

export function planCopy(node: Node, table: (name: string) => TableDef): CopyPlan {
  if (!node.is_from) throw notAtEdge('COPY TO');
  if (node.filename || node.is_program) throw notAtEdge('COPY from a file or program');
  if (node.query) throw notAtEdge('COPY (query)');
  if (node.whereClause) throw notAtEdge('COPY ... WHERE');
  const rel = node.relation as Node;
  if (rel.schemaname && rel.schemaname !== 'public') throw notAtEdge(`tables outside schema public ("${String(rel.schemaname)}.${String(rel.relname)}")`);
  const t = table(String(rel.relname));
  const opts = new Map<string, string>();
  for (const o of (node.options as Node[] | undefined) ?? []) {
    const d = o.DefElem as Node;
    const arg = d.arg as Node | undefined;
    opts.set(String(d.defname), arg?.String ? String((arg.String as Node).sval) : arg?.Boolean ? String(Boolean((arg.Boolean as Node).boolval)) : arg?.Integer ? String((arg.Integer as Node).ival ?? 0) : 'true');
  }
  const format = (opts.get('format') ?? 'text').toLowerCase();
  if (format === 'binary') throw notAtEdge('binary COPY');
  if (format !== 'text' && format !== 'csv') throw orbitError('invalid_parameter_value', `COPY format "${format}" not recognized`);
  for (const k of opts.keys()) if (!['format', 'delimiter', 'null', 'header', 'quote', 'escape'].includes(k)) throw notAtEdge(`COPY option ${k}`);
  const csv = format === 'csv';
  const names = ((node.attlist as Node[] | undefined) ?? []).map((a) => String((a.String as Node).sval));
  const positions = (names.length ? names : t.columns.map((c) => c.name)).map((n) => {
    const i = t.columns.findIndex((c) => c.name === n);
    if (i < 0) throw orbitError('undefined_column', `column "${n}" of relation "${t.name}" does not exist`);
    return i;
  });
  const header = opts.get('header')?.toLowerCase();
  if (header === 'match') throw notAtEdge('COPY ... HEADER MATCH');
  return {
    table: t,
    positions,
    csv,
    delimiter: opts.get('delimiter') ?? (csv ? ',' : '\t'),
    nullString: opts.get('null') ?? (csv ? '' : '\\N'),
    header: header !== undefined && ['true', 'on', '1'].includes(header),
    quote: opts.get('quote') ?? '"',
    escape: opts.get('escape') ?? opts.get('quote') ?? '"',
  };
}

/** Rows per piece of COPY data converted at once (the engine stages one piece at a time). */
export const COPY_PIECE_ROWS = 2000;

type Fields = Array<string | null>;
/** A record reader over buffered text: yields complete records, returns where the unread rest starts (-1: end marker seen). */
type Records = Generator<Fields, number>;

/**
 * COPY data arriving in chunks (CopyData messages, an HTTP body stream, or one string) read into
 * typed rows (table column order, absent columns NULL), handed out in pieces of at most `pieceRows`
 * rows. Only the unread end of the last chunk (a record cut by a chunk boundary) and the current
 * piece are held, so memory does not grow with the size of the COPY.
 */
export class CopyReader {
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  /** Text not yet read: the start of a record the next chunk completes. */
  private rest = '';
  private line = 0;
  private ended = false;
  private piece: Value[][] = [];
  rows = 0;

  constructor(
    private readonly plan: CopyPlan,
    private readonly zone: string,
    private readonly pieceRows = COPY_PIECE_ROWS,
  ) {}

  /** Reads a chunk; yields every piece it fills. */
  *push(chunk: Uint8Array | string): Generator<Value[][]> {
    if (this.ended) return;
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    yield* this.read(this.rest.length > 0 ? this.rest + text : text, false);
  }

  /** The end of the data: yields the last piece. */
  *end(): Generator<Value[][]> {
    if (!this.ended) yield* this.read(this.rest + this.decoder.decode(), true);
    this.ended = true;
    if (this.piece.length > 0) yield this.take();
  }

  private *read(data: string, final: boolean): Generator<Value[][]> {
    const records = this.plan.csv ? csvRecords(data, this.plan, final) : textRecords(data, this.plan, final);
    for (let r = records.next(); ; r = records.next()) {
      if (r.done) {
        if (r.value < 0) this.ended = true;
        // Sliced off, so the rest does not keep the whole chunk alive.
        this.rest = r.value < 0 ? '' : r.value === 0 ? data : (' ' + data.slice(r.value)).slice(1);
        return;
      }
      this.record(r.value);
      if (this.piece.length >= this.pieceRows) yield this.take();
    }
  }

  private take(): Value[][] {
    const p = this.piece;
    this.piece = [];
    this.rows += p.length;
    return p;
  }

  private record(fields: Fields): void {
    const { plan } = this;
    this.line++;
    if (this.line === 1 && plan.header) return;
    const where = `COPY ${plan.table.name}, line ${this.line}`;
    if (fields.length !== plan.positions.length) {
      throw orbitError('bad_copy_file_format', fields.length < plan.positions.length ? `missing data for column "${plan.table.columns[plan.positions[fields.length]!]!.name}"` : 'extra data after last expected column', { where });
    }
    const row: Value[] = plan.table.columns.map(() => null);
    fields.forEach((f, k) => {
      const col = plan.table.columns[plan.positions[k]!]!;
      if (f === null) return;
      try {
        row[plan.positions[k]!] = parseText(col.type, f, this.zone);
      } catch (err) {
        // PostgreSQL's context names the line, the column and the value.
        if (err instanceof OrbitError && err.where === undefined) throw new OrbitError(err.code, err.message, { detail: err.detail, hint: err.hint, where: `${where}, column ${col.name}: "${f}"`, cause: err });
        throw err;
      }
    });
    plan.table.columns.forEach((c, j) => {
      if (c.notNull && row[j] === null) throw orbitError('not_null_violation', `null value in column "${c.name}" of relation "${plan.table.name}" violates not-null constraint`, { where });
    });
    this.piece.push(row);
  }
}

/** COPY data held whole (a string), in pieces: the reader over one chunk. */
export function* copyPieces(plan: CopyPlan, data: string, zone: string, pieceRows = COPY_PIECE_ROWS): Generator<Value[][]> {
  const reader = new CopyReader(plan, zone, pieceRows);
  yield* reader.push(data);
  yield* reader.end();
}

/** Text format: one line per row, backslash escapes, the NULL string compared before unescaping. */
function* textRecords(data: string, plan: CopyPlan, final: boolean): Records {
  let at = 0;
  while (at < data.length) {
    const nl = data.indexOf('\n', at);
    if (nl < 0 && !final) return at;
    let line = data.slice(at, nl < 0 ? data.length : nl);
    at = nl < 0 ? data.length : nl + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line === '\\.') return -1;
    yield line.split(plan.delimiter).map((f) => (f === plan.nullString ? null : unescapeText(f)));
  }
  return at;
}

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

function unescapeText(f: string): string {
  if (!f.includes('\\')) return f;
  return f.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return ESCAPES[e] ?? e;
  });
}

/**
 * CSV: quoted fields may hold delimiters and newlines; an unquoted field equal to NULL is NULL. A
 * record the data ends inside is left unread unless `final` (the next chunk completes it).
 */
function* csvRecords(data: string, plan: CopyPlan, final: boolean): Records {
  let fields: Fields = [];
  let i = 0;
  let recordStart = 0;
  const n = data.length;
  while (i < n) {
    let value = '';
    let quoted = false;
    if (data[i] === plan.quote) {
      quoted = true;
      i++;
      for (;;) {
        if (i >= n) {
          if (!final) return recordStart;
          throw orbitError('bad_copy_file_format', 'unterminated CSV quoted field');
        }
        const ch = data[i]!;
        if (ch === plan.escape && data[i + 1] === plan.quote) {
          value += plan.quote;
          i += 2;
          continue;
        }
        if (ch === plan.quote) {
          i++;
          break;
        }
        value += ch;
        i++;
      }
    }
    // Sliced, not added a character at a time: one flat string per field.
    const from = i;
    while (i < n && data[i] !== plan.delimiter && data[i] !== '\n' && data[i] !== '\r') i++;
    // An unterminated record (or a CR that may be the start of CRLF) waits for the next chunk.
    if (!final && (i >= n || (data[i] === '\r' && i + 1 >= n))) return recordStart;
    value = quoted ? value + data.slice(from, i) : data.slice(from, i);
    fields.push(!quoted && value === plan.nullString ? null : value);
    if (i >= n || data[i] === '\n' || data[i] === '\r') {
      if (data[i] === '\r' && data[i + 1] === '\n') i++;
      i++;
      recordStart = i;
      if (!(fields.length === 1 && fields[0] === '\\.')) yield fields;
      fields = [];
    } else {
      i++;
      // A delimiter ending the data: the last field is empty.
      if (i >= n && final) {
        fields.push(plan.nullString === '' ? null : '');
        yield fields;
        fields = [];
        recordStart = i;
      }
    }
  }
  return recordStart;
}
