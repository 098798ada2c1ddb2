/**
 * @module session/embedded-bound
 * The in-process API's `query(sql, params)` of a SELECT over a columnstore hypertable: the statement
 * with each `$n` written out as the text PGlite would bind for it, cast to the type PostgreSQL
 * describes (session/bound-literals.ts, as a wire client's Bind gets it), so that the planner's fast
 * path sees constants. Without this, every parameterised read from the in-process API took the
 * general path (cache tables of whole chunks). Undefined when the values cannot be written out
 * exactly: the statement then runs with its parameters as before.
 */
import { concatBytes } from '../bytes.js';
import type { RowStore } from '../rowstore/types.js';
import { simpleMessage, writeParse, writeTarget } from '../wire/protocol/frontend.js';
import { FrontendMessage } from '../wire/protocol/message-codes.js';
import type { Backend, BackendSession } from './backend.js';
import { hasParameters, parameterTypes, rowDescription, textsLiteralSql } from './bound-literals.js';
import { backendText } from './rewrite.js';

/**
 * `sql` with `params` written out, for a lone SELECT with parameters that the columnstore may
 * concern, outside a transaction block (the caller checks that); undefined otherwise.
 */
export async function embeddedBoundSql(backend: Backend, session: BackendSession & { readonly settingsKey: string }, rowStore: RowStore, sql: string, params: readonly unknown[]): Promise<{ sql: string; names: string[] } | undefined> {
  const cs = backend.columnstore;
  if (!cs || !rowStore.paramTexts) return undefined;
  const text = backendText(sql);
  if (!text.ok || !text.analysis.ok || text.analysis.statements.length !== 1) return undefined;
  const statement = text.analysis.statements[0]!;
  if (statement.type !== 'SelectStmt' || !hasParameters(statement) || !cs.mayConcern([statement])) return undefined;
  // The parameter types PostgreSQL gives the statement as written (kept per text and settings like
  // a wire client's Describe, under a key of their own: this response holds ParseComplete and ReadyForQuery too).
  const describe = async (): Promise<Uint8Array> => {
    await backend.settle(session);
    return backend.run(session, concatBytes([writeParse({ name: '', query: text.sql, paramTypes: [] }), writeTarget(FrontendMessage.Describe, { target: 'S', name: '' }), simpleMessage(FrontendMessage.Sync)]));
  };
  const out = await cs.described(`embedded parameters\0${session.settingsKey}\0\0${text.sql}`, describe, (o) => parameterTypes(o) !== undefined);
  const types = parameterTypes(out);
  const texts = types && rowStore.paramTexts(types, params);
  const bound = types && texts ? textsLiteralSql(statement, types, texts) : undefined;
  const description = rowDescription(out);
  return bound === undefined || !description ? undefined : { sql: bound, names: fieldNames(description) };
}

/**
 * The column names of a RowDescription message (type byte and length first): a literal takes its
 * type's name where the parameter was `?column?` (`SELECT $1`), so the caller compares them.
 */
function fieldNames(message: Uint8Array): string[] {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const names: string[] = [];
  let p = 7;
  for (let n = view.getInt16(5); n > 0; n--) {
    const end = message.indexOf(0, p);
    names.push(decoder.decode(message.subarray(p, end)));
    // Table oid, column number, type oid, type size, modifier, format.
    p = end + 1 + 18;
  }
  return names;
}

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
