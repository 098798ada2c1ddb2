/**
 * @module session/bound-literals
 * A statement with parameters (`$1`, `$2`, …) and the values a Bind gives them, made into the same
 * statement with each parameter written as its value: a literal cast to the type PostgreSQL gave
 * the parameter, `('…'::timestamptz)`. The planner's fast path needs its constants written out
 * (sql/planner/expressions.ts `isConstant`); without this, every client that binds its values —
 * node-postgres with values, postgres.js, psycopg 3, JDBC, pgx — took the general path.
 *
 * Why it is the same statement: a text-format parameter is read by its type's input function under
 * the session's settings when the Bind arrives, and a literal cast to that type is read by the same
 * function under the same settings when the statement runs, which is at once (the Bind's portal is
 * the statement's only run). Binary parameters, types without a name here and values with a
 * backslash (whose meaning in a literal depends on standard_conforming_strings) are not written
 * out (undefined): the statement takes the general path.
 */
import type { BindParams } from '../wire/protocol/frontend.js';
import { BackendMessage } from '../wire/protocol/message-codes.js';
import { MessageReader } from '../wire/protocol/reader.js';
import { scanBackend } from '../wire/protocol/backend.js';
import { scanSql, spliceSql, type SqlToken } from '../sql/parser.js';

/** Parameter types written out, by OID: the fast path's constant types and their neighbours. */
const TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [16, 'bool'],
  [19, 'name'],
  [20, 'int8'],
  [21, 'int2'],
  [23, 'int4'],
  [25, 'text'],
  [700, 'float4'],
  [701, 'float8'],
  [1042, 'bpchar'],
  [1043, 'varchar'],
  [1082, 'date'],
  [1114, 'timestamp'],
  [1184, 'timestamptz'],
  [1186, 'interval'],
  [1700, 'numeric'],
]);

/** A statement's `$n` tokens, scanned once per statement (its Parse and every Bind ask). */
const parameterTokens = new WeakMap<{ readonly text: string }, SqlToken[]>();

function tokensOf(statement: { readonly text: string }): SqlToken[] {
  let tokens = parameterTokens.get(statement);
  if (!tokens) parameterTokens.set(statement, (tokens = scanSql(statement.text).filter((t) => t.tokenName === 'PARAM')));
  return tokens;
}

/** Whether `statement` has parameters. */
export function hasParameters(statement: { readonly text: string }): boolean {
  return tokensOf(statement).length > 0;
}

/** The parameter types of a ParameterDescription in backend output (undefined: none, or an error). */
export function parameterTypes(out: Uint8Array): number[] | undefined {
  let types: number[] | undefined;
  for (const f of scanBackend(out)) {
    if (f.type === BackendMessage.ErrorResponse) return undefined;
    if (f.type !== BackendMessage.ParameterDescription) continue;
    const r = new MessageReader(out.subarray(f.start + 5, f.end));
    types = [];
    for (let n = r.uint16(); n > 0; n--) types.push(r.int32() >>> 0);
  }
  return types;
}

/** The RowDescription message in backend output (undefined: none). */
export function rowDescription(out: Uint8Array): Uint8Array | undefined {
  const f = scanBackend(out, [BackendMessage.RowDescription])[0];
  return f && out.subarray(f.start, f.end);
}

/**
 * The statement's text with each `$n` replaced by the bound value of parameter n as a literal of
 * its type (`types`, from the statement's ParameterDescription); undefined when a value cannot be
 * written out exactly (see the module comment) or the Bind does not give every parameter
 * (PostgreSQL's own error then comes from the general path).
 */
export function boundLiteralSql(statement: { readonly text: string }, types: readonly number[], params: BindParams): string | undefined {
  if (params.values.length !== types.length || params.formats.some((f) => f !== 0)) return undefined;
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const texts: Array<string | null> = [];
  for (const value of params.values) {
    try {
      texts.push(value === null ? null : decoder.decode(value));
    } catch {
      return undefined;
    }
  }
  return textsLiteralSql(statement, types, texts);
}

/** boundLiteralSql of parameters given as their texts (null: NULL). */
export function textsLiteralSql(statement: { readonly text: string }, types: readonly number[], texts: ReadonlyArray<string | null>): string | undefined {
  if (texts.length !== types.length) return undefined;
  const literals: string[] = [];
  for (const [i, oid] of types.entries()) {
    const type = TYPE_NAMES.get(oid);
    if (!type) return undefined;
    const s = texts[i]!;
    if (s === null) {
      literals.push(`(NULL::${type})`);
      continue;
    }
    if (s.includes('\\') || s.includes('\u0000')) return undefined;
    literals.push(`('${s.replace(/'/g, "''")}'::${type})`);
  }
  const edits: Array<{ start: number; end: number; text: string }> = [];
  for (const t of tokensOf(statement)) {
    const literal = literals[Number(t.text.slice(1)) - 1];
    if (literal === undefined) return undefined;
    edits.push({ start: t.start, end: t.end, text: literal });
  }
  return spliceSql(statement.text, edits);
}

/** A Bind's `rest` (after portal and statement names) with no parameters, its result formats kept. */
export function withoutParameters(rest: Uint8Array): Uint8Array {
  const r = new MessageReader(rest);
  r.bytes(2 * r.uint16());
  for (let n = r.uint16(); n > 0; n--) {
    const len = r.int32();
    if (len > 0) r.bytes(len);
  }
  const results = r.rest();
  const out = new Uint8Array(4 + results.length);
  // No parameter format codes, no parameters.
  out.set(results, 4);
  return out;
}
