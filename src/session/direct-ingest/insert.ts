/**
 * @module session/direct-ingest/insert
 * Direct-to-columnstore multi-row INSERT (`timescaledb.enable_direct_compress_insert`; on by default
 * for hypertables created WITH (timescaledb.hypertable), like COPY): an `INSERT INTO ht [(cols)]
 * VALUES …` of at least `MIN_ROWS` rows of plain constants goes the way of a direct COPY
 * (session/direct-ingest/copy.ts): its values become CSV-format COPY rows, read by Orbit's exact
 * parsers, routed and written as batches in the statement's transaction. Over the extended
 * protocol the same holds for `$n` parameters bound in text format (session/extended-query.ts holds
 * such a Bind until Sync shows the INSERT runs alone in its implicit transaction).
 *
 * Anything else runs as the INSERT it is, through PostgreSQL: RETURNING, ON CONFLICT, WITH,
 * INSERT … SELECT, DEFAULT, expressions, binary or typed parameters, columns the role may not insert
 * into, and any value Orbit's parsers are not sure of (PostgreSQL then gives its own error).
 * Smaller INSERTs, and INSERTs spread thinly over many segments, stay in the row store too: batches
 * of a few rows would cost more than they save; compress_chunk merges those rows later.
 */
import type { ColumnStore } from '../../columnstore/store.js';
import type { ClassifiedStatement } from '../../sql/classify.js';
import type { Fields, Node } from '../../sql/rewrite/ast.js';
import { DirectCopy } from './copy.js';
import { directTarget, mayInsert } from './target.js';
import type { InternalRunner } from '../internal-sql.js';

/** INSERTs with fewer rows go to the row store. */
export const MIN_ROWS = 100;
/**
 * Nor do INSERTs averaging fewer rows per segment (segmentby value): each segment becomes at least
 * one batch, and batches of a few rows cost more to write and read than rows compressed later.
 */
export const MIN_SEGMENT_ROWS = 20;

/**
 * The values of a Bind for the extended protocol's INSERT … VALUES ($1, $2, …): text format only
 * (binary parameters go the ordinary way), with the types the Parse declared (0 = unspecified).
 */
export interface InsertParams {
  readonly values: readonly (Uint8Array | null)[];
  readonly types: readonly number[];
}

/** The VALUES rows of an INSERT that has a direct insert's shape, or undefined (no catalog lookup). */
function valuesRows(statement: ClassifiedStatement, params?: InsertParams): Node[] | undefined {
  const node = statement.node;
  if (statement.type !== 'InsertStmt' || node.returningList || node.onConflictClause || node.withClause || (node.override && node.override !== 'OVERRIDING_NOT_SET')) return undefined;
  const select = (node.selectStmt as Node | undefined)?.SelectStmt as Fields | undefined;
  const lists = select?.valuesLists as Node[] | undefined;
  if (!lists || lists.length < MIN_ROWS || select!.withClause || select!.sortClause || select!.limitCount) return undefined;
  const plain = (i: Node): boolean => i.A_Const !== undefined || (params !== undefined && i.ParamRef !== undefined);
  if (!lists.every((row) => ((row.List as Fields | undefined)?.items as Node[] | undefined)?.every(plain))) return undefined;
  return lists;
}

/**
 * Whether a Bind of `statement` with `params` could be a direct insert: the shape, text-format
 * values, and as many values as PostgreSQL will ask for (else it reports the mismatch itself).
 */
export function mayInsertDirectly(statement: ClassifiedStatement, params: InsertParams, formats: readonly number[]): boolean {
  if (formats.some((f) => f !== 0)) return false;
  const lists = valuesRows(statement, params);
  if (!lists) return false;
  let highest = params.types.length;
  for (const row of lists) {
    for (const item of (row.List as Fields).items as Node[]) {
      const ref = item.ParamRef as Fields | undefined;
      if (ref) highest = Math.max(highest, Number(ref.number ?? 0));
    }
  }
  return highest === params.values.length;
}

/**
 * Runs `statement` as a direct insert and returns the client's answer (CommandComplete or the
 * error, then ReadyForQuery), or undefined when it must run as an ordinary INSERT. `params` are a
 * Bind's values for an extended-protocol statement.
 */
export async function directInsert(
  run: InternalRunner,
  store: ColumnStore,
  statement: ClassifiedStatement,
  inTransactionBlock: boolean,
  params?: InsertParams,
): Promise<Uint8Array | undefined> {
  const lists = valuesRows(statement, params);
  if (!lists) return undefined;
  const node = statement.node;
  const relation = node.relation as { schemaname?: string; relname?: string } | undefined;
  const width = ((lists[0]!.List as Fields | undefined)?.items as Node[] | undefined)?.length ?? 0;
  const target = await directTarget(run, relation, 'timescaledb.enable_direct_compress_insert');
  if (!target) return undefined;
  const names = (node.cols as Node[] | undefined)?.map((c) => (c.ResTarget as Fields).name as string);
  // Without a column list the values fill the leading columns in order.
  const columns = names ? names.map((n) => target.columns.find((c) => c.name === n)) : target.columns.slice(0, width);
  if (columns.length !== width || !mayInsert(columns)) return undefined;
  const segmentFields = target.settings.segmentBy.map((name) => columns.findIndex((c) => c!.name === name));
  const segments = new Set<string>();
  const lines: string[] = [];
  for (const row of lists) {
    const items = (row.List as Fields).items as Node[];
    if (items.length !== width) return undefined;
    const fields: string[] = [];
    for (let i = 0; i < width; i++) {
      const item = items[i]!;
      const value = item.ParamRef ? (target.utf8 ? paramValue(item.ParamRef as Fields, columns[i]!.typeOid, params!) : undefined) : constantValue(item.A_Const as Fields, columns[i]!.type === 'bool');
      if (value === undefined) return undefined;
      fields.push(csvField(value));
    }
    lines.push(fields.join(','));
    if (segmentFields.length > 0) segments.add(segmentFields.map((f) => (f < 0 ? '' : fields[f])).join(','));
  }
  if (lines.length < segments.size * MIN_SEGMENT_ROWS) return undefined;
  const attlist = columns.map((c) => ({ String: { sval: c!.name } }));
  const options = [{ DefElem: { defname: 'format', arg: { String: { sval: 'csv' } } } }];
  const copy: ClassifiedStatement = { ...statement, type: 'CopyStmt', node: { relation, attlist, is_from: true, options } };
  const direct = new DirectCopy(copy, target, store, run, inTransactionBlock);
  return direct.insert(new TextEncoder().encode(lines.join('\n') + '\n'));
}

// Invalid UTF-8 is left to PostgreSQL's error (22021), not replaced.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The value of parameter `ref` (null for NULL): its text, which the column's input function reads
 * as PostgreSQL reads an untyped parameter assigned to the column. A parameter declared with another
 * type would go through that type and a cast: left to PostgreSQL.
 */
function paramValue(ref: Fields, columnOid: number, params: InsertParams): string | null | undefined {
  const n = Number(ref.number ?? 0);
  const declared = params.types[n - 1] ?? 0;
  if (declared !== 0 && declared !== columnOid) return undefined;
  const value = params.values[n - 1];
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (value.includes(0)) return undefined;
  try {
    return decoder.decode(value);
  } catch {
    return undefined;
  }
}

/** A CSV field: NULL unquoted and empty, any value that needs it quoted (quotes doubled). */
function csvField(value: string | null): string {
  if (value === null) return '';
  return value === '' || /[",\\\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * The value of a constant (null for NULL): a string, number or boolean literal, which the column's
 * parser reads as PostgreSQL reads an untyped literal (numbers keep their spelling: numeric constants
 * reach float and numeric columns through their text).
 */
function constantValue(c: Fields, boolColumn: boolean): string | null | undefined {
  if (c.isnull) return null;
  let text: string | undefined;
  if (c.sval) text = String((c.sval as Fields).sval ?? '');
  else if (c.ival) text = String((c.ival as Fields).ival ?? 0);
  else if (c.fval) text = String((c.fval as Fields).fval);
  // TRUE/FALSE read as a bool column's 't'/'f' (into text PostgreSQL would write 'true'/'false').
  else if (c.boolval && boolColumn) text = (c.boolval as Fields).boolval ? 't' : 'f';
  else return undefined;
  return text;
}
