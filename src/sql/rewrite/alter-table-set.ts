/**
 * @module sql/rewrite/alter-table-set
 * `ALTER TABLE hypertable SET (timescaledb.compress, timescaledb.compress_segmentby = '…',
 * timescaledb.compress_orderby = '…', timescaledb.chunk_interval = '…')` and `RESET (…)`, with the
 * `columnstore`/`segmentby`/`orderby` names and the `tsdb.` namespace (TimescaleDB's
 * alter_table_with_clause.c). PostgreSQL rejects the namespace itself, so the statement becomes one
 * DO block; the client still sees `ALTER TABLE`. The segmentby and orderby lists are parsed here with
 * PostgreSQL's own parser, as TimescaleDB parses them (`SELECT FROM t GROUP BY <list>` /
 * `ORDER BY <list>`); the extension checks them against the table.
 */
import { deparseSync } from '../deparse.js';
import { parseSql } from '../parser.js';
import {
  dollarQuote,
  literal,
  parseOptions,
  qualifiedName,
  raiseSql,
  requireExtensionSql,
  splitOptions,
  type DefElem,
  type Failure,
  type OptionDefinition,
} from './timescaledb-options.js';
import { SqlState } from '../../sqlstate.js';
import type { StatementRewrite } from './types.js';

const OPTIONS: readonly OptionDefinition[] = [
  { names: ['chunk_interval'], bool: false },
  { names: ['compress', 'columnstore', 'enable_columnstore'], bool: true },
  { names: ['compress_segmentby', 'segmentby', 'segment_by'], bool: false },
  { names: ['compress_orderby', 'orderby', 'order_by'], bool: false },
  { names: ['compress_chunk_interval', 'compress_chunk_time_interval'], bool: false },
  { names: ['compress_index', 'compress_sparse_index', 'index', 'sparse_index'], bool: false },
  { names: ['direct_compress'], bool: true },
];

interface AlterTableCmd {
  subtype: string;
  def?: { List?: { items?: Array<{ DefElem?: DefElem }> } };
}

export function rewriteAlterTableSet(node: Record<string, unknown>): StatementRewrite | undefined {
  if (node.objtype !== 'OBJECT_TABLE') return undefined;
  const cmds = ((node.cmds as Array<{ AlterTableCmd?: AlterTableCmd }> | undefined) ?? []).map((c) => c.AlterTableCmd);
  const optionsOf = (c: AlterTableCmd | undefined) => (c?.def?.List?.items ?? []).map((i) => i.DefElem).filter((d): d is DefElem => d !== undefined);
  const isOptions = (c: AlterTableCmd | undefined) => c?.subtype === 'AT_SetRelOptions' || c?.subtype === 'AT_ResetRelOptions';
  const ourCmds = cmds.filter((c) => isOptions(c) && splitOptions(optionsOf(c)).ours.length > 0);
  if (ourCmds.length === 0) return undefined;
  const namespace = splitOptions(optionsOf(ourCmds[0])).ours[0]!.defnamespace!;

  // What is left for PostgreSQL: every other subcommand, and the other options of ours.
  const restCmds = cmds
    .map((c) => {
      if (!c || !isOptions(c)) return c;
      const rest = splitOptions(optionsOf(c)).rest;
      return rest.length === 0 ? undefined : { ...c, def: { List: { items: rest.map((d) => ({ DefElem: d })) } } };
    })
    .filter((c): c is AlterTableCmd => c !== undefined);
  const restSql = restCmds.length > 0 ? deparseSync({ AlterTableStmt: { ...node, cmds: restCmds.map((c) => ({ AlterTableCmd: c })) } } as never) : undefined;

  const set = ourCmds.filter((c) => c!.subtype === 'AT_SetRelOptions').flatMap((c) => splitOptions(optionsOf(c)).ours);
  const reset = ourCmds.filter((c) => c!.subtype === 'AT_ResetRelOptions').flatMap((c) => splitOptions(optionsOf(c)).ours);
  const parsedSet = parseOptions(set, OPTIONS);
  const parsedReset = parseOptions(reset, OPTIONS, true);
  let failure: Failure | undefined = parsedSet.failure ?? parsedReset.failure;
  const values = parsedSet.values;
  const resets = Object.keys(parsedReset.values);
  if (!failure && resets.some((r) => r !== 'compress_segmentby' && r !== 'compress_orderby')) {
    failure = { code: SqlState.feature_not_supported, message: 'only columnstore options segmentby and orderby can be reset' };
  }
  let segmentby: string[] | undefined;
  let orderby: OrderBy | undefined;
  if (!failure && values.compress_segmentby !== undefined) {
    const r = parseSegmentBy(values.compress_segmentby);
    if ('code' in r) failure = r;
    else segmentby = r;
  }
  if (!failure && values.compress_orderby !== undefined) {
    const r = parseOrderBy(values.compress_orderby);
    if ('code' in r) failure = r;
    else orderby = r;
  }
  if (!failure && values.compress_index !== undefined) {
    failure = { code: SqlState.feature_not_supported, message: 'sparse indexes are not supported by Orbit yet' };
  }

  const name = qualifiedName(node.relation as { schemaname?: string; relname: string });
  const missing = node.missing_ok === true
    ? `RAISE NOTICE 'relation "%" does not exist, skipping', ${literal((node.relation as { relname: string }).relname)}; RETURN;`
    : `RAISE EXCEPTION 'relation "%" does not exist', ${literal((node.relation as { relname: string }).relname)} USING ERRCODE = '${SqlState.undefined_table}';`;
  const body = failure
    ? `  ${raiseSql(failure)}`
    : [
        `  rel := pg_catalog.to_regclass(${literal(name)});`,
        `  IF rel IS NULL THEN ${missing} END IF;`,
        ...(restSql ? [`  EXECUTE ${literal(restSql)};`] : []),
        alterTableSetSql({
          chunkInterval: values.chunk_interval,
          columnstore: values.compress,
          segmentby,
          orderby,
          compressInterval: values.compress_chunk_interval,
          resetSegmentby: resets.includes('compress_segmentby'),
          resetOrderby: resets.includes('compress_orderby'),
          directCompress: values.direct_compress,
        }),
      ].join('\n');
  const sql = `DO ${dollarQuote(`
DECLARE
  rel pg_catalog.regclass;
BEGIN
  ${requireExtensionSql(namespace)}
${body}
END
`)}`;
  return { sql, commandTag: 'ALTER TABLE' };
}

/** What the extension's orbit_alter_table_set is asked to change (undefined: unchanged). */
export interface SettingsChange {
  readonly chunkInterval?: string;
  /** 'true' / 'false'. */
  readonly columnstore?: string;
  readonly segmentby?: readonly string[];
  readonly orderby?: OrderBy;
  readonly compressInterval?: string;
  readonly resetSegmentby?: boolean;
  readonly resetOrderby?: boolean;
  /** 'true' / 'false': COPY into the hypertable writes column batches directly (session/direct-ingest/copy.ts). */
  readonly directCompress?: string;
}

/** The PL/pgSQL statement applying `change` to the hypertable in variable `rel`. */
export function alterTableSetSql(change: SettingsChange): string {
  const text = (v: string | undefined) => (v === undefined ? 'NULL' : literal(v));
  const textArray = (items: readonly string[] | undefined) => (items === undefined ? 'NULL' : `ARRAY[${items.map(literal).join(', ')}]::pg_catalog.text[]`);
  const boolArray = (items: readonly boolean[] | undefined) => (items === undefined ? 'NULL' : `ARRAY[${items.join(', ')}]::pg_catalog.bool[]`);
  const o = change.orderby;
  return `  PERFORM _timescaledb_functions.orbit_alter_table_set(rel,
    chunk_interval => ${text(change.chunkInterval)}, columnstore => ${change.columnstore ?? 'NULL'}, segmentby => ${textArray(change.segmentby)},
    orderby => ${textArray(o?.columns)}, orderby_desc => ${boolArray(o?.desc)}, orderby_nullsfirst => ${boolArray(o?.nullsFirst)},
    compress_interval => ${change.compressInterval === undefined ? 'NULL' : `${literal(change.compressInterval)}::pg_catalog.interval`},
    reset_segmentby => ${change.resetSegmentby === true}, reset_orderby => ${change.resetOrderby === true});${
    change.directCompress === undefined ? '' : `\n  PERFORM _timescaledb_functions.orbit_set_direct_compress(rel, ${change.directCompress});`
  }`;
}

export interface OrderBy {
  readonly columns: string[];
  readonly desc: boolean[];
  readonly nullsFirst: boolean[];
}

/** `a, b` as TimescaleDB reads compress_segmentby: plain column names (empty: none). */
export function parseSegmentBy(text: string): string[] | Failure {
  const fail: Failure = {
    code: SqlState.syntax_error,
    message: `unable to parse segmenting option "${text}"`,
    hint: 'The option timescaledb.compress_segmentby must be a set of columns separated by commas.',
  };
  if (text.length === 0) return [];
  const select = parseClause(`SELECT FROM t GROUP BY ${text}`);
  if (!select || select.sortClause !== undefined) return fail;
  const columns: string[] = [];
  for (const item of (select.groupClause as Array<Record<string, unknown>> | undefined) ?? []) {
    const column = columnName(item);
    if (column === undefined) return fail;
    columns.push(column);
  }
  return columns;
}

/** `col [ASC|DESC] [NULLS FIRST|LAST], …` as TimescaleDB reads compress_orderby. */
export function parseOrderBy(text: string): OrderBy | Failure {
  const fail: Failure = {
    code: SqlState.syntax_error,
    message: `unable to parse ordering option "${text}"`,
    hint: 'The timescaledb.compress_orderby option must be a set of column names with sort options, separated by commas. It is the same format as an ORDER BY clause.',
  };
  if (text.length === 0) {
    return {
      code: SqlState.invalid_parameter_value,
      message: 'ordering column can not be empty',
      hint: 'timescaledb.compress_orderby option must reference a valid column or be removed to use default settings.',
    };
  }
  const select = parseClause(`SELECT FROM t ORDER BY ${text}`);
  if (!select || select.groupClause !== undefined) return fail;
  const out: OrderBy = { columns: [], desc: [], nullsFirst: [] };
  for (const item of (select.sortClause as Array<{ SortBy?: { node: Record<string, unknown>; sortby_dir: string; sortby_nulls: string } }> | undefined) ?? []) {
    const sort = item.SortBy;
    const column = sort ? columnName(sort.node) : undefined;
    if (!sort || column === undefined || !['SORTBY_DEFAULT', 'SORTBY_ASC', 'SORTBY_DESC'].includes(sort.sortby_dir)) return fail;
    const desc = sort.sortby_dir === 'SORTBY_DESC';
    out.columns.push(column);
    out.desc.push(desc);
    // PostgreSQL's default: NULLS LAST ascending, NULLS FIRST descending.
    out.nullsFirst.push(sort.sortby_nulls === 'SORTBY_NULLS_DEFAULT' ? desc : sort.sortby_nulls === 'SORTBY_NULLS_FIRST');
  }
  return out;
}

/** The SelectStmt of `sql` if it is exactly one plain `SELECT FROM t …` (TimescaleDB's shape check). */
function parseClause(sql: string): Record<string, unknown> | undefined {
  let parsed;
  try {
    parsed = parseSql(sql);
  } catch {
    return undefined;
  }
  if (parsed.length !== 1 || parsed[0]!.type !== 'SelectStmt') return undefined;
  const node = parsed[0]!.node;
  const allowed = new Set(['fromClause', 'groupClause', 'sortClause', 'limitOption', 'op']);
  if (Object.keys(node).some((k) => !allowed.has(k)) || node.op !== 'SETOP_NONE') return undefined;
  return node;
}

function columnName(node: Record<string, unknown>): string | undefined {
  const fields = (node.ColumnRef as { fields?: Array<{ String?: { sval: string } }> } | undefined)?.fields;
  return fields?.length === 1 ? fields[0]!.String?.sval : undefined;
}
