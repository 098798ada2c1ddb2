/**
 * @module session/direct-insert
 * Direct-to-columnstore multi-row INSERT (`timescaledb.enable_direct_compress_insert`; on by default
 * for hypertables created WITH (timescaledb.hypertable), like COPY): an `INSERT INTO ht [(cols)]
 * VALUES …` of at least `MIN_ROWS` rows of plain constants goes the way of a direct COPY
 * (session/direct-ingest.ts): its values become text-format COPY rows, read by Orbit's exact
 * parsers, routed and written as batches in the statement's transaction.
 *
 * Anything else runs as the INSERT it is, through PostgreSQL: RETURNING, ON CONFLICT, WITH,
 * INSERT … SELECT, DEFAULT, expressions, parameters, and any value Orbit's parsers are not sure of
 * (PostgreSQL then gives its own error for a bad one). Smaller INSERTs stay in the row store too:
 * batches of a few rows would cost more than they save; compress_chunk merges those rows later.
 */
import type { ColumnStore } from '../columnstore/store.js';
import type { ClassifiedStatement } from '../sql/classify.js';
import type { Fields, Node } from '../sql/rewrite/ast.js';
import { DirectCopy } from './direct-ingest.js';
import { directTarget } from './direct-target.js';
import type { InternalRunner } from './internal-sql.js';

/** INSERTs with fewer rows go to the row store. */
export const MIN_ROWS = 100;

/**
 * Runs `statement` as a direct insert and returns the client's answer (CommandComplete or the
 * error, then ReadyForQuery), or undefined when it must run as an ordinary INSERT.
 */
export async function directInsert(
  run: InternalRunner,
  store: ColumnStore,
  statement: ClassifiedStatement,
  inTransactionBlock: boolean,
): Promise<Uint8Array | undefined> {
  const node = statement.node;
  if (statement.type !== 'InsertStmt' || node.returningList || node.onConflictClause || node.withClause || (node.override && node.override !== 'OVERRIDING_NOT_SET')) return undefined;
  const select = (node.selectStmt as Node | undefined)?.SelectStmt as Fields | undefined;
  const lists = select?.valuesLists as Node[] | undefined;
  if (!lists || lists.length < MIN_ROWS || select!.withClause || select!.sortClause || select!.limitCount) return undefined;
  const relation = node.relation as { schemaname?: string; relname?: string } | undefined;
  const width = ((lists[0]!.List as Fields | undefined)?.items as Node[] | undefined)?.length ?? 0;
  if (!lists.every((row) => ((row.List as Fields | undefined)?.items as Node[] | undefined)?.every((i) => i.A_Const !== undefined))) return undefined;
  const target = await directTarget(run, relation, 'timescaledb.enable_direct_compress_insert');
  if (!target) return undefined;
  const names = (node.cols as Node[] | undefined)?.map((c) => (c.ResTarget as Fields).name as string);
  // Without a column list the values fill the leading columns in order.
  const columns = names ? names.map((n) => target.columns.find((c) => c.name === n)) : target.columns.slice(0, width);
  if (columns.length !== width || columns.some((c) => c === undefined)) return undefined;
  const lines: string[] = [];
  for (const row of lists) {
    const items = (row.List as Fields).items as Node[];
    if (items.length !== width) return undefined;
    const fields: string[] = [];
    for (let i = 0; i < width; i++) {
      const text = constantText(items[i]!.A_Const as Fields, columns[i]!.type === 'bool');
      if (text === undefined) return undefined;
      fields.push(text);
    }
    lines.push(fields.join('\t'));
  }
  const attlist = columns.map((c) => ({ String: { sval: c!.name } }));
  const copy: ClassifiedStatement = { ...statement, type: 'CopyStmt', node: { relation, attlist, is_from: true } };
  const direct = new DirectCopy(copy, target, store, run, inTransactionBlock);
  return direct.insert(new TextEncoder().encode(lines.join('\n') + '\n'));
}

/**
 * The COPY text field of a constant: a string, number, boolean or NULL literal, which the column's
 * parser reads as PostgreSQL reads an untyped literal (numbers keep their spelling: numeric constants
 * reach float and numeric columns through their text). Values needing escapes are left to PostgreSQL.
 */
function constantText(c: Fields, boolColumn: boolean): string | undefined {
  if (c.isnull) return '\\N';
  let text: string | undefined;
  if (c.sval) text = String((c.sval as Fields).sval ?? '');
  else if (c.ival) text = String((c.ival as Fields).ival ?? 0);
  else if (c.fval) text = String((c.fval as Fields).fval);
  // TRUE/FALSE read as a bool column's 't'/'f' (into text PostgreSQL would write 'true'/'false').
  else if (c.boolval && boolColumn) text = (c.boolval as Fields).boolval ? 't' : 'f';
  else return undefined;
  return /[\\\t\n\r]/.test(text) ? undefined : text;
}
