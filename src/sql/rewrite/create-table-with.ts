/**
 * @module sql/rewrite/create-table-with
 * `CREATE TABLE … WITH (timescaledb.hypertable, …)` (TimescaleDB 2.20+; `tsdb.` is an alias of the
 * `timescaledb.` namespace). PostgreSQL itself rejects storage options of an unknown namespace, so
 * Orbit turns the statement into one DO block that creates the table without those options and makes
 * it a hypertable, in one transaction; the client still sees the command tag `CREATE TABLE`.
 * Option names, aliases, defaults and errors follow TimescaleDB's `create_table_with_clause.c` and
 * `with_clause_parser.c`.
 */
import { deparseSync } from '../deparse.js';
import { literal, parseOptions, qualifiedName, raiseSql, requireExtensionSql, splitOptions, dollarQuote, type DefElem, type OptionDefinition } from './timescaledb-options.js';
import { SqlState } from '../../sqlstate.js';
import { alterTableSetSql, parseOrderBy, parseSegmentBy, type SettingsChange } from './alter-table-set.js';
import type { StatementRewrite } from './types.js';

/** TimescaleDB's CREATE TABLE options (create_table_with_clause.c). */
const OPTIONS: readonly OptionDefinition[] = [
  { names: ['hypertable'], bool: true },
  { names: ['columnstore', 'enable_columnstore', 'compress'], bool: true },
  { names: ['partition_column', 'partitioning_column'], bool: false },
  { names: ['chunk_interval'], bool: false },
  { names: ['create_default_indexes'], bool: true },
  { names: ['associated_schema'], bool: false },
  { names: ['associated_table_prefix'], bool: false },
  { names: ['segmentby', 'segment_by', 'compress_segmentby'], bool: false },
  { names: ['orderby', 'order_by', 'compress_orderby'], bool: false },
  { names: ['compress_index', 'compress_sparse_index', 'index', 'sparse_index'], bool: false },
  { names: ['chunk_origin', 'partition_origin', 'partitioning_origin', 'origin'], bool: false },
  { names: ['direct_compress'], bool: true },
];

export function rewriteCreateTableWith(node: Record<string, unknown>): StatementRewrite | undefined {
  const all = ((node.options as Array<{ DefElem?: DefElem }> | undefined) ?? []).map((o) => o.DefElem).filter((d): d is DefElem => d !== undefined);
  const { ours, rest } = splitOptions(all);
  if (ours.length === 0) return undefined;
  const namespace = ours[0]!.defnamespace!;
  const { values, failure } = parseOptions(ours, OPTIONS);
  const partitionSpec = node.partspec as { strategy?: string; partParams?: Array<{ PartitionElem?: { name?: string } }> } | undefined;
  let createNode: Record<string, unknown> = { ...node, options: rest.map((d) => ({ DefElem: d })) };
  if (rest.length === 0) delete createNode.options;
  let problem = failure;
  let partitionColumn = values.partition_column;
  if (!problem && values.hypertable === undefined) {
    problem = { code: SqlState.invalid_parameter_value, message: 'timescaledb options requires hypertable option' };
  }
  if (!problem && values.hypertable === 'true' && partitionSpec) {
    // TimescaleDB accepts PARTITION BY RANGE on one column as another way to name the partition column.
    const column = partitionSpec.partParams?.length === 1 ? partitionSpec.partParams[0]?.PartitionElem?.name : undefined;
    if (partitionSpec.strategy !== 'PARTITION_STRATEGY_RANGE' || column === undefined) {
      problem = { code: SqlState.feature_not_supported, message: 'hypertables support only single-column RANGE partitioning' };
    } else {
      partitionColumn ??= column;
      createNode = { ...createNode };
      delete createNode.partspec;
    }
  }
  // The columnstore is on by default, as in TimescaleDB; its settings are parsed as ALTER TABLE's.
  let settings: SettingsChange | undefined;
  if (!problem && values.hypertable === 'true' && values.columnstore !== 'false') {
    const segmentby = values.segmentby === undefined ? undefined : parseSegmentBy(values.segmentby);
    const orderby = values.orderby === undefined ? undefined : parseOrderBy(values.orderby);
    if (segmentby && 'code' in segmentby) problem = segmentby;
    else if (orderby && 'code' in orderby) problem = orderby;
    else if (values.compress_index !== undefined) problem = { code: SqlState.feature_not_supported, message: 'sparse indexes are not supported by Orbit yet' };
    // Direct ingest is on unless switched off (TimescaleDB's default is off: a documented difference).
    else settings = { columnstore: 'true', ...(segmentby ? { segmentby } : {}), ...(orderby ? { orderby } : {}), directCompress: values.direct_compress ?? 'true' };
  }
  if (!problem && values.chunk_origin !== undefined) {
    problem = { code: SqlState.feature_not_supported, message: 'chunk origins are not supported by Orbit yet' };
  }
  const create = deparseSync({ CreateStmt: createNode } as never);
  const name = qualifiedName(node.relation as { schemaname?: string; relname: string });
  const body = values.hypertable === 'false' && !problem
    ? // hypertable = false: an ordinary table (TimescaleDB ignores the other options then).
      `  EXECUTE ${literal(create)};`
    : problem
      ? `  ${raiseSql(problem)}`
      : hypertableBody(create, name, node.if_not_exists === true, partitionColumn, values, settings);
  const sql = `DO ${dollarQuote(`
DECLARE
  rel pg_catalog.regclass;
  col pg_catalog.name := ${partitionColumn === undefined ? 'NULL' : literal(partitionColumn)};
  typ pg_catalog.regtype;
BEGIN
  ${requireExtensionSql(namespace)}
${body}
END
`)}`;
  return { sql, commandTag: 'CREATE TABLE' };
}

function hypertableBody(
  create: string,
  name: string,
  ifNotExists: boolean,
  partitionColumn: string | undefined,
  values: Record<string, string>,
  settings: SettingsChange | undefined,
): string {
  const lines: string[] = [];
  if (ifNotExists) {
    // PostgreSQL's own NOTICE for an existing relation, and nothing converted.
    lines.push(`  IF pg_catalog.to_regclass(${literal(name)}) IS NOT NULL THEN EXECUTE ${literal(create)}; RETURN; END IF;`);
  }
  lines.push(`  EXECUTE ${literal(create)};`, `  rel := pg_catalog.to_regclass(${literal(name)});`);
  if (partitionColumn === undefined) {
    lines.push(
      `  SELECT a.attname INTO col FROM pg_catalog.pg_attribute a
    WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
      AND a.atttypid IN ('pg_catalog.timestamptz'::pg_catalog.regtype, 'pg_catalog.timestamp'::pg_catalog.regtype, 'pg_catalog.date'::pg_catalog.regtype)
    ORDER BY a.attnum LIMIT 1;`,
      `  IF col IS NULL THEN RAISE EXCEPTION 'partition column could not be determined' USING ERRCODE = '${SqlState.undefined_column}'; END IF;`,
      `  RAISE NOTICE 'using column "%" as partitioning column', col
    USING HINT = 'Use "timescaledb.partition_column" to specify a different column to use as partitioning column.';`,
    );
  }
  const interval = values.chunk_interval;
  if (interval !== undefined) {
    // As TimescaleDB: an integer for integer columns, an interval otherwise.
    lines.push(`  SELECT a.atttypid INTO typ FROM pg_catalog.pg_attribute a WHERE a.attrelid = rel AND a.attname = col AND NOT a.attisdropped;
  IF typ NOT IN ('pg_catalog.int2'::pg_catalog.regtype, 'pg_catalog.int4'::pg_catalog.regtype, 'pg_catalog.int8'::pg_catalog.regtype) THEN
    typ := 'pg_catalog.interval';
  END IF;`);
  }
  lines.push(`  PERFORM _timescaledb_functions.orbit_create_hypertable(rel,
    ROW(col, true, typ, ${interval === undefined ? 'NULL' : literal(interval)}, NULL, NULL)::_timescaledb_internal.dimension_info,
    ${values.create_default_indexes ?? 'true'}, false, false, ${optionalName(values.associated_schema)}, ${optionalName(values.associated_table_prefix)});`);
  // The conversion rebuilt the table: look it up again.
  if (settings) {
    lines.push(`  rel := pg_catalog.to_regclass(${literal(name)});`, alterTableSetSql(settings));
    // TimescaleDB 2.23+: the columnstore enabled this way comes with a columnstore policy.
    lines.push('  PERFORM _timescaledb_functions.orbit_add_default_columnstore_policy(rel);');
  }
  return lines.join('\n');
}

function optionalName(value: string | undefined): string {
  return value === undefined ? 'NULL' : `${literal(value)}::pg_catalog.name`;
}
