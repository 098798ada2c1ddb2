/**
 * @module sql/planner/last-point
 * The last point per segment (`SELECT DISTINCT ON (device) … FROM hypertable ORDER BY device, time
 * DESC`), the query TimescaleDB answers with SkipScan. Over compressed chunks the candidates are
 * known from the manifests alone: for each segment, the batch(es) with the greatest time maximum.
 * Only those batches are decoded; their newest rows, plus the rowstore rows' own last points, are
 * handed to PostgreSQL, which runs the original statement over them:
 *
 *     SELECT DISTINCT ON (device) … FROM (
 *         SELECT DISTINCT ON (device) * FROM hypertable WHERE … ORDER BY device, time DESC   -- rowstore rows
 *       UNION ALL SELECT * FROM unnest(<one array per column of the batches' candidate rows>)
 *     ) AS hypertable (col1, …) WHERE … ORDER BY device, time DESC
 *
 * A WHERE clause is taken when each conjunct compares the time column with a constant or is `=`/IN
 * on a segmentby column (`filters`, as the kernels take them): the candidates are then each
 * segment's newest rows inside the time bounds among the batches the segment filters and time
 * ranges leave (session/columnstore/last-point-window.ts). PostgreSQL applies the whole WHERE
 * again to the candidates; the rowstore's side has it too.
 */
import { deparseSync } from '../deparse.js';
import { parseSql } from '../parser.js';
import { colNames, columnName, ident as quote, kind, walk, type Fields, type Node } from '../rewrite/ast.js';
import type { ConstantFilter } from './filters.js';
import type { PlannerTable } from './table.js';
import { filterOf } from './filters.js';
import { conjuncts, deparseExpr } from './expressions.js';

export interface LastPointPlan {
  readonly table: PlannerTable;
  /** The segmentby column whose last points are asked for. */
  readonly segment: string;
  /**
   * The WHERE clause's conjuncts (all of them): time bounds and `=`/IN on segmentby columns, whose
   * constants PostgreSQL evaluates before the candidates are chosen. Empty without a WHERE.
   */
  readonly filters: readonly ConstantFilter[];
  /**
   * The statement to run, given the candidate rows as a query of every column in table order
   * (`SELECT * FROM unnest(…)`), or none.
   */
  finalSql(candidates: string | undefined): string;
  /**
   * When the statement outputs only columns of the table (`*` or column references, any names),
   * without LIMIT or OFFSET: those columns and the output names. Its rows can then be made from
   * the candidates alone while the rowstore holds none (session/columnstore/last-point-rows.ts).
   */
  readonly output?: { readonly columns: readonly string[]; readonly names: readonly string[] };
}

export function planLastPoint(type: string, node: Fields, lookup: (schema: string | undefined, name: string) => PlannerTable | undefined): LastPointPlan | undefined {
  if (type !== 'SelectStmt') return undefined;
  const s = node;
  if ((s.op && s.op !== 'SETOP_NONE') || s.withClause || s.groupClause || s.havingClause || s.windowClause || s.lockingClause || s.intoClause) return undefined;
  const from = s.fromClause as Node[] | undefined;
  if (from?.length !== 1 || kind(from[0]) !== 'RangeVar') return undefined;
  const rv = from[0]!.RangeVar as Fields;
  const alias = rv.alias as Fields | undefined;
  if (rv.inh === false || alias?.colnames) return undefined;
  const table = lookup(rv.schemaname as string | undefined, rv.relname as string);
  if (!table) return undefined;
  const name = (alias?.aliasname as string | undefined) ?? table.name;
  const columnOf = (n: unknown): string | undefined => {
    const names = colNames(n);
    if (!names || names.length > 2 || (names.length === 2 && names[0] !== name)) return undefined;
    return table.columns.some((c) => c.name === names[names.length - 1]) ? names[names.length - 1] : undefined;
  };
  // Every conjunct a filter; no parameter (a Bind writes values in first), no explicit COLLATE
  // (it would change what text equality means), no subquery.
  const where = s.whereClause as Node | undefined;
  let opaque = false;
  walk(where, (_n, t) => {
    if (t === 'ParamRef' || t === 'CollateClause' || t === 'SubLink') opaque = true;
    return !opaque;
  }, true);
  if (opaque) return undefined;
  const filters: ConstantFilter[] = [];
  for (const conjunct of conjuncts(where)) {
    const f = filterOf(conjunct, (n) => table.columns.find((c) => c.name === columnOf(n)), table);
    if (!f) return undefined;
    filters.push(...f);
  }
  // DISTINCT ON (segment) … ORDER BY segment [ASC], time DESC
  const distinct = s.distinctClause as Node[] | undefined;
  const sort = s.sortClause as Node[] | undefined;
  if (distinct?.length !== 1 || sort?.length !== 2) return undefined;
  const segment = columnOf(distinct[0]);
  if (!segment || !table.segmentBy.includes(segment)) return undefined;
  const [bySegment, byTime] = sort.map((o) => o.SortBy as Fields);
  if (columnOf(bySegment!.node) !== segment || (bySegment!.sortby_dir !== 'SORTBY_DEFAULT' && bySegment!.sortby_dir !== 'SORTBY_ASC')) return undefined;
  if (bySegment!.sortby_nulls !== 'SORTBY_NULLS_DEFAULT' || byTime!.sortby_nulls !== 'SORTBY_NULLS_DEFAULT') return undefined;
  if (columnOf(byTime!.node) !== table.timeColumn || byTime!.sortby_dir !== 'SORTBY_DESC') return undefined;
  // DISTINCT ON and ORDER BY names mean output columns first: `time AS dev` makes them other keys.
  const targets = ((s.targetList as Node[] | undefined) ?? []).map((t) => t.ResTarget as { name?: string; val: Node });
  if (targets.some((t) => (columnName(t) === segment || columnName(t) === table.timeColumn) && columnOf(t.val) !== columnName(t))) return undefined;
  // The target list may only read columns: no function, operator or cast that could fail on rows
  // never reached (PostgreSQL evaluates it for every row its sort reads: `s::int` fails on an older
  // row's 'abc' there, while the candidates alone may all cast).
  let plain = true;
  const visit = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(visit);
    if (n === null || typeof n !== 'object') return;
    const k = kind(n);
    if (k === 'FuncCall' || k === 'SubLink' || k === 'A_Expr' || k === 'TypeCast' || k === 'XmlExpr' || k === 'XmlSerialize' || k?.startsWith('Json')) plain = false;
    for (const v of Object.values(k ? ((n as Node)[k] as Fields) : (n as Fields))) visit(v);
  };
  visit(s.targetList);
  if (!plain) return undefined;

  // Output of plain columns only: `*` (every column in table order) or column references.
  let output: { columns: string[]; names: string[] } | undefined = s.limitCount || s.limitOffset ? undefined : { columns: [], names: [] };
  for (const t of (s.targetList as Node[] | undefined) ?? []) {
    if (!output) break;
    const target = t.ResTarget as Fields;
    const ref = (target.val as Node | undefined)?.ColumnRef as Fields | undefined;
    const fields = (ref?.fields as Node[] | undefined) ?? [];
    const star = fields.length > 0 && kind(fields[fields.length - 1]) === 'A_Star' && (fields.length === 1 || (fields.length === 2 && (fields[0]!.String as Fields | undefined)?.sval === name));
    if (star && target.name === undefined) {
      for (const c of table.columns) {
        output.columns.push(c.name);
        output.names.push(c.name);
      }
      continue;
    }
    const column = ref ? columnOf(target.val) : undefined;
    if (!column) output = undefined;
    else {
      output.columns.push(column);
      output.names.push((target.name as string | undefined) ?? column);
    }
  }
  if (output?.columns.length === 0) output = undefined;

  const columns = table.columns.map((c) => quote(c.name));
  const q = `${quote(table.schema)}.${quote(table.name)}`;
  // Under the statement's name for the table, which its WHERE may qualify columns with.
  const whereSql = where ? ` AS ${quote(name)} WHERE ${deparseExpr(where)}` : '';
  const rowstore = `SELECT DISTINCT ON (${quote(segment)}) ${columns.join(', ')} FROM ${q}${whereSql} ORDER BY ${quote(segment)}, ${quote(table.timeColumn)} DESC`;
  const build = (candidates: string | undefined): string => {
    const union = candidates !== undefined ? `(${rowstore}) UNION ALL ${candidates}` : rowstore;
    const sub = parseSql(`SELECT * FROM (${union}) AS ${quote(name)} (${columns.join(', ')})`)[0]!.node;
    return deparseSync({ SelectStmt: { ...s, fromClause: sub.fromClause } } as never, { pretty: false });
  };
  let template: string | undefined;
  return {
    table,
    segment,
    filters,
    ...(output ? { output } : {}),
    finalSql(candidates) {
      if (candidates === undefined) return build(undefined);
      // The candidates (array constants of every column, ~100 KB for 100 segments) are spliced into
      // a statement deparsed once: parsing and deparsing them took longer than building them.
      const marker = `SELECT * FROM ${CANDIDATES}`;
      template ??= build(marker);
      const at = template.indexOf(marker);
      // The marker's text elsewhere in the statement (a string constant): the slow way.
      if (at < 0 || template.includes(marker, at + 1)) return build(candidates);
      return `${template.slice(0, at)}${candidates}${template.slice(at + marker.length)}`;
    },
  };
}

/** Stands for the candidate rows in the final statement until it is deparsed (see finalSql). */
const CANDIDATES = '__orbit_last_point_candidates';

