/**
 * @module rowstore/typed-query
 * `RowStore.query` without parameters over the raw protocol. PGlite's own `query` reads its result
 * through its JavaScript protocol parser, which copies every field into an ArrayBuffer of its own
 * and decodes it with a TextDecoder call: for 43 K rows of 20 columns that took several seconds,
 * where PostgreSQL produced them in a fraction of one (docs/benchmarks.md, high-cpu-all). Here
 * the extended-protocol messages PGlite's `query` sends (Parse, Bind, Describe, Execute, Sync; text
 * results) run as one raw call, and the result is read in place, converted by PGlite's own type
 * parsers (`types.parseType`), so rows, fields and affected-row counts are those of PGlite's
 * `query`. Statements with parameters keep PGlite's `query` (its serializers choose the text of
 * each value by the parameter types PostgreSQL describes).
 */
import { types, type ParserOptions } from '@electric-sql/pglite';
import { concatBytes } from '../bytes.js';
import { OrbitError, type Severity } from '../errors.js';
import { SqlState } from '../sqlstate.js';
import { readErrorFields } from '../wire/protocol/backend.js';
import { simpleMessage, writeBind, writeParse, writeTarget } from '../wire/protocol/frontend.js';
import { BackendMessage, FrontendMessage } from '../wire/protocol/message-codes.js';
import { MessageWriter } from '../wire/protocol/writer.js';
import type { FieldInfo, QueryResult } from './types.js';
import type { ValueOf } from '../columnstore/pg-text.js';

/** Parse, Bind (no parameters, text results), Describe portal, Execute (all rows), Sync. */
export function typedQueryMessages(sql: string): Uint8Array {
  return concatBytes([
    writeParse({ name: '', query: sql, paramTypes: [] }),
    // Parameter formats, parameter values, result formats: none of each.
    writeBind({ portal: '', statement: '', rest: new Uint8Array(6) }),
    writeTarget(FrontendMessage.Describe, { target: 'P', name: '' }),
    new MessageWriter(10).begin(FrontendMessage.Execute).cstring('').int32(0).end().flush(),
    simpleMessage(FrontendMessage.Sync),
  ]);
}

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
/**
 * One character per byte (WHATWG "latin1" is windows-1252: still one code unit per byte), so the
 * offsets of a decoded output are its byte offsets, and an ASCII field is a substring of it.
 */
const bytewise = ((): TextDecoder | undefined => {
  try {
    return new TextDecoder('latin1');
  } catch {
    return undefined;
  }
})();

/**
 * A field's text. Most fields of a result are short ASCII (numbers, times, names): a substring of
 * the whole output decoded once byte for byte is far cheaper than a TextDecoder call per field
 * (measured: about half the time of building each string from its bytes). A longer substring
 * would keep the whole decoded output alive while the caller keeps it (V8 copies those under 13
 * characters), so `all` is passed only for columns whose parser turns the text into something else.
 */
function text(b: Uint8Array, all: string | undefined, start: number, end: number): string {
  for (let i = start; i < end; i++) if (b[i]! >= 0x80) return decoder.decode(b.subarray(start, end));
  if (all !== undefined) return all.substring(start, end);
  if (end - start >= 13) return decoder.decode(b.subarray(start, end));
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** Types whose PGlite parser makes a number, boolean, Date or JSON value of the text (none keeps it). */
const CONSUMED = new Set<number>([types.INT2, types.INT4, types.OID, types.FLOAT4, types.FLOAT8, types.INT8, types.BOOL, types.JSON, types.JSONB, types.DATE, types.TIMESTAMP, types.TIMESTAMPTZ]);

/**
 * The result of `typedQueryMessages`' output as PGlite's `query` gives it (rows keyed by column
 * name, a later column of the same name winning), or throws the statement's error.
 */
export function readTypedResult<Row>(out: Uint8Array, parsers: ParserOptions = types.parsers): QueryResult<Row> {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let fields: FieldInfo[] = [];
  let parse: Array<(x: string) => unknown> = [];
  let consumed: boolean[] = [];
  // Rows are copies of an object JSON.parse made with the column names: such objects keep V8's fast
  // properties, where adding 20 names one by one to {} gives dictionary-mode objects, slower to
  // build and to read (measured: Object.values over 43 K rows several times slower).
  let template: Record<string, unknown> = {};
  const rows: Row[] = [];
  let affectedRows: number | undefined;
  let all: string | undefined;
  let pos = 0;
  while (pos + 5 <= out.length) {
    const type = out[pos]!;
    const end = pos + 1 + view.getInt32(pos + 1);
    const body = pos + 5;
    if (type === BackendMessage.DataRow) {
      all ??= bytewise?.decode(out);
      const n = view.getInt16(body);
      const row: Record<string, unknown> = { ...template };
      let p = body + 2;
      for (let i = 0; i < n; i++) {
        const len = view.getInt32(p);
        p += 4;
        if (len < 0) row[fields[i]!.name] = null;
        else {
          row[fields[i]!.name] = parse[i]!(text(out, consumed[i] ? all : undefined, p, p + len));
          p += len;
        }
      }
      rows.push(row as Row);
    } else if (type === BackendMessage.RowDescription) {
      fields = readRowDescription(out.subarray(body, end));
      template = JSON.parse(JSON.stringify(Object.fromEntries(fields.map((f) => [f.name, null])))) as Record<string, unknown>;
      consumed = fields.map((f) => CONSUMED.has(f.dataTypeID) && parsers[f.dataTypeID] === types.parsers[f.dataTypeID]);
      parse = fields.map((f) => {
        // PGlite calls a parser with the value and its type oid (array parsers use the oid).
        const parser = (parsers[f.dataTypeID] ?? types.parsers[f.dataTypeID]) as ((x: string, typeId: number) => unknown) | undefined;
        return parser ? (x: string) => parser(x, f.dataTypeID) : (x: string) => x;
      });
    } else if (type === BackendMessage.CommandComplete) {
      const tag = decoder.decode(out.subarray(body, end - 1)).split(' ');
      const count = parseInt(tag[tag.length - 1]!, 10);
      affectedRows = ['INSERT', 'UPDATE', 'DELETE', 'COPY', 'MERGE'].includes(tag[0]!) ? count : 0;
    } else if (type === BackendMessage.ErrorResponse) {
      throw errorFromFields(readErrorFields(out.subarray(body, end)));
    }
    pos = end;
  }
  if (affectedRows === undefined) return { rows: [], fields: [], affectedRows: 0 };
  return { rows, fields, affectedRows };
}

/** RowStore.valueReader for these parsers. */
/**
 * The texts PGlite's `query` binds for `params` of parameter types `paramTypes` with its default
 * serializers (NULL for null and undefined, the type's serializer, else `toString()`); undefined
 * for a byte array, which it would bind in binary.
 */
export function paramTexts(paramTypes: readonly number[], params: readonly unknown[], serializers: Record<number, ((x: unknown) => string) | undefined> = types.serializers as Record<number, (x: unknown) => string>): Array<string | null> | undefined {
  if (params.length !== paramTypes.length) return undefined;
  const out: Array<string | null> = [];
  for (const [i, value] of params.entries()) {
    if (value === null || value === undefined) {
      out.push(null);
      continue;
    }
    const serialize = serializers[paramTypes[i]!];
    let text: unknown;
    try {
      text = serialize ? serialize(value) : (value as { toString(): string }).toString();
    } catch {
      // (An invalid Date): PGlite's own query gives its error.
      return undefined;
    }
    if (typeof text !== 'string') return undefined;
    out.push(text);
  }
  return out;
}

export function valueOfType(oid: number, parsers: ParserOptions = types.parsers): ValueOf {
  const parser = (parsers[oid] ?? types.parsers[oid]) as ((x: string, typeId: number) => unknown) | undefined;
  // PGlite's own parsers of these types read the text as a JS number: the stored value itself.
  if ((oid === types.INT2 || oid === types.INT4 || oid === types.FLOAT8) && parser === types.parsers[oid]) return 'number';
  // Its own date parser makes a Date of the text (or ±Infinity): one may be built from the value.
  if ((oid === types.TIMESTAMPTZ || oid === types.DATE) && parser === types.parsers[oid]) return { date: (x: string) => parser(x, oid) };
  return parser ? (x: string) => parser(x, oid) : undefined;
}

function readRowDescription(body: Uint8Array): FieldInfo[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const n = view.getInt16(0);
  const out: FieldInfo[] = [];
  let p = 2;
  for (let i = 0; i < n; i++) {
    const zero = body.indexOf(0, p);
    const name = decoder.decode(body.subarray(p, zero));
    // Table oid (4), column number (2), type oid (4), type size (2), modifier (4), format (2).
    const dataTypeID = view.getInt32(zero + 1 + 6);
    out.push({ name, dataTypeID });
    p = zero + 1 + 18;
  }
  return out;
}

function errorFromFields(e: Record<string, string>): OrbitError {
  return new OrbitError(e.C ?? SqlState.internal_error, e.M ?? 'statement failed', {
    severity: (e.S as Severity | undefined) ?? 'ERROR',
    detail: e.D,
    hint: e.H,
    position: e.P === undefined ? undefined : Number(e.P),
    where: e.W,
    schema: e.s,
    table: e.t,
    column: e.c,
    dataType: e.d,
    constraint: e.n,
  });
}
