/**
 * @module sql/planner/aggregates
 * Aggregate pushdown for hypertables with chunks in the columnstore (ARCHITECTURE.md, "Planner").
 *
 * A SELECT that aggregates one hypertable by `time_bucket(fixed width, time)` and segmentby columns,
 * filtered by comparisons on the time column, `=`/`IN` on segmentby columns and comparisons of other
 * columns with constants (row predicates, predicates.ts), is split in two:
 * the compressed chunks' partial aggregates are computed by the kernels over the batches
 * (columnstore/kernels), the rowstore rows' partials by PostgreSQL with the same GROUP BY, and the
 * query itself then runs in PostgreSQL over the union of both partial sets:
 *
 *     SELECT <targets, aggregates replaced by merges> FROM (
 *         SELECT <group exprs> AS g1…, <partials> AS a1… FROM <hypertable> WHERE <where> GROUP BY 1…
 *       UNION ALL
 *         SELECT * FROM unnest('{<kernel partials of g1>}'::type[], …)
 *     ) AS __orbit_partials GROUP BY g1… HAVING … ORDER BY … LIMIT …
 *
 * so projection, HAVING, ORDER BY, LIMIT, result types and output formats are PostgreSQL's own.
 * Merges are exact for counts, integer sums, min/max and first/last; float sums add in a different
 * order than a scan would (as PostgreSQL's own parallel plans do). Anything else: undefined, and the
 * statement takes the general path (session/columnstore/cache-tables.ts).
 *
 * This file reads the statement (FROM, WHERE, GROUP BY, the aggregate calls, ORDER BY … LIMIT) and
 * builds the final statement; beside it: the plan it returns (aggregate-plan.ts), the aggregate
 * calls the kernels take (aggregate-calls.ts), their partial columns and merges
 * (aggregate-merges.ts), and the output the session can make itself (direct-shape.ts).
 */
import { deparseSync } from '../deparse.js';
import type { AggregateCall, AggregateFn } from '../../columnstore/kernels/index.js';
import { parseSql } from '../parser.js';
import { canFilter, FILTER_TYPES } from '../../columnstore/row-filter.js';
import type { PgType } from '../../columnstore/columns.js';
import { clone, colNames, colRef, columnName, fingerprint, funcName, ident as quote, kind, type Fields, type Node } from '../rewrite/ast.js';
import { predicateOf, type ColumnPredicate } from './predicates.js';
import { conjuncts, deparseExpr, isConstant, visit } from './expressions.js';
import { filterOf, type ConstantFilter } from './filters.js';
import type { PlannerColumn, PlannerTable } from './table.js';
import type { AggregatePlan, FinalMode } from './aggregate-plan.js';
import { AGGREGATES, aggregateOf, kernelPrintable } from './aggregate-calls.js';
import { mergeExpr, partialNames, partialSql, remember } from './aggregate-merges.js';
import { directShape } from './direct-shape.js';

/** Stands for the kernels' rows in the final statement until it is deparsed (see finalSql). */
const KERNEL_ROWS = '__orbit_kernel_rows';
/** Segmentby types whose `=` / IN values the kernels take as batch filters (fast-path.ts scalarOf); others are row predicates. */
const SEGMENT_KEYS = new Set(['int2', 'int4', 'int8', 'text', 'varchar', 'bpchar', 'name', 'bool']);

const deparse = (node: Node): string => deparseSync(node as never, { pretty: false });

/** The plan for a statement, or undefined when it is not an aggregate the kernels can take. */
export function planAggregate(type: string, node: Fields, lookup: (schema: string | undefined, name: string) => PlannerTable | undefined): AggregatePlan | undefined {
  if (type !== 'SelectStmt') return undefined;
  const s = node;
  if ((s.op && s.op !== 'SETOP_NONE') || s.withClause || s.distinctClause || s.windowClause || s.lockingClause || s.intoClause || s.valuesLists) return undefined;
  const from = s.fromClause as Node[] | undefined;
  if (from?.length !== 1 || kind(from[0]) !== 'RangeVar') return undefined;
  const rv = from[0]!.RangeVar as Fields;
  if (rv.inh === false) return undefined;
  const table = lookup(rv.schemaname as string | undefined, rv.relname as string);
  if (!table) return undefined;
  const alias = ((rv.alias as Fields | undefined)?.aliasname as string | undefined) ?? table.name;
  if ((rv.alias as Fields | undefined)?.colnames) return undefined;
  const columnOf = (n: unknown): PlannerColumn | undefined => {
    const names = colNames(n);
    if (!names || names.length > 2 || (names.length === 2 && names[0] !== alias)) return undefined;
    return table.columns.find((c) => c.name === names[names.length - 1]);
  };

  // WHERE: ANDed comparisons of the time column with constants, = / IN on segmentby columns (both
  // pick batches from the manifest), and comparisons of other columns with constants that the
  // kernels evaluate row by row (columnstore/row-filter.ts).
  const filters: ConstantFilter[] = [];
  const predicates: ColumnPredicate[] = [];
  for (const conjunct of conjuncts(s.whereClause as Node | undefined)) {
    const f = filterOf(conjunct, columnOf, table);
    if (f?.every((x) => x.column === table.timeColumn || SEGMENT_KEYS.has(table.columns.find((c) => c.name === x.column)!.typname))) {
      filters.push(...f);
      continue;
    }
    const p = predicateOf(conjunct, columnOf);
    if (!p?.every(rowFilterable)) return undefined;
    predicates.push(...p);
  }

  // GROUP BY: ordinals and output names resolve to the target list, as PostgreSQL resolves them.
  const targets = (s.targetList as Node[]).map((t) => t.ResTarget as Fields);
  if (targets.some((t) => kind(t.val) === 'ColumnRef' && (t.val as Node).ColumnRef && (((t.val as Node).ColumnRef as Fields).fields as Node[]).some((f) => kind(f) === 'A_Star'))) return undefined;
  const groupExprs: Node[] = [];
  for (const g of (s.groupClause as Node[] | undefined) ?? []) {
    const ordinal = (g as Node).A_Const ? Number(((g.A_Const as Fields).ival as Fields | undefined)?.ival ?? NaN) : NaN;
    if (!Number.isNaN(ordinal)) {
      const t = targets[ordinal - 1];
      if (!t) return undefined;
      groupExprs.push(t.val as Node);
      continue;
    }
    const names = colNames(g);
    if (names?.length === 1 && !table.columns.some((c) => c.name === names[0])) {
      const t = targets.find((x) => x.name === names[0]);
      if (!t) return undefined;
      groupExprs.push(t.val as Node);
      continue;
    }
    groupExprs.push(g);
  }
  let bucketWidthSql: string | undefined;
  const groups: Array<{ kind: 'bucket' } | { kind: 'column'; column: PlannerColumn }> = [];
  for (const g of groupExprs) {
    const column = columnOf(g);
    if (column && table.segmentBy.includes(column.name)) {
      if (!kernelPrintable(column)) return undefined;
      groups.push({ kind: 'column', column });
      continue;
    }
    if (funcName(g) === 'time_bucket' && bucketWidthSql === undefined) {
      const call = g.FuncCall as Fields;
      const args = call.args as Node[];
      if (args.length !== 2 || call.agg_star || call.agg_distinct || columnOf(args[1])?.name !== table.timeColumn || !isConstant(args[0]!)) return undefined;
      bucketWidthSql = deparseExpr(args[0]!);
      groups.push({ kind: 'bucket' });
      continue;
    }
    return undefined;
  }
  if (new Set(groupExprs.map(fingerprint)).size !== groupExprs.length) return undefined;

  // Aggregates in the target list, HAVING and ORDER BY.
  const aggregates: Array<AggregateCall & { resultType: string; partialTypes: string[]; node: Node }> = [];
  const timeType = table.columns.find((c) => c.name === table.timeColumn)!.type;
  const findAggregates = (n: unknown): boolean => {
    let ok = true;
    visit(n, (x) => {
      if (kind(x) === 'SubLink' || kind(x) === 'WindowDef') ok = false;
      const name = funcName(x);
      if (!name || !AGGREGATES.has(name)) return true;
      const call = x.FuncCall as Fields;
      if (call.over || call.agg_distinct || call.agg_filter || call.agg_order || call.agg_within_group || (call.funcname as Node[]).length > 1) {
        ok = false;
        return false;
      }
      const a = aggregateOf(name as AggregateFn, call, columnOf, table, timeType);
      if (!a) ok = false;
      else if (!aggregates.some((y) => fingerprint(y.node) === fingerprint(x))) aggregates.push({ ...a, node: x });
      return false;
    });
    return ok;
  };
  const sortBy = (s.sortClause as Node[] | undefined) ?? [];
  if (!targets.every((t) => findAggregates(t.val)) || !findAggregates(s.havingClause) || !sortBy.every((o) => findAggregates(o))) return undefined;
  if (aggregates.length === 0 && groups.length === 0) return undefined;

  // The final statement over the partials: group expressions and aggregates replaced.
  const groupFps = groupExprs.map(fingerprint);
  const aggFps = aggregates.map((a) => fingerprint(a.node));
  const aggColumns = aggregates.map((_, i) => partialNames(aggregates[i]!.fn, i));
  let leftover = false;
  // `rowwise`: each group has one partial row (the kernels' alone), so the merges need no aggregation.
  const replacer = (rowwise: boolean) => (n: unknown): unknown =>
    rewriteNode(n, (x) => {
      const g = groupFps.indexOf(fingerprint(x));
      if (g >= 0) return colRef(`g${g + 1}`);
      const a = aggFps.indexOf(fingerprint(x));
      if (a >= 0) return mergeExpr(aggregates[a]!, aggColumns[a]!, rowwise);
      if (kind(x) === 'ColumnRef') {
        // An output name in ORDER BY stays; a column that is not grouped would be an error in PostgreSQL.
        leftover = true;
      }
      return undefined;
    });
  const replace = replacer(false);
  const finalTargets = targets.map((t) => ({ ResTarget: { ...t, name: columnName(t as { name?: string; val: Node }), val: replace(t.val) } }));
  if (leftover) return undefined;
  const sortWith = (replace: (n: unknown) => unknown) => sortBy.map((o) => {
    const by = (o.SortBy as Fields).node as Node;
    const names = colNames(by);
    // ORDER BY an output name (before any input column of that name: PostgreSQL's rule, and its
    // 42702 when two differ) or ordinal refers to the final target list: keep it.
    if ((names?.length === 1 && targets.some((t) => (columnName(t as { name?: string; val: Node })) === names[0])) || kind(by) === 'A_Const') {
      return clone(o);
    }
    // A partial column left bare would mean an output column of the same name (`count(*) AS g1`).
    const node = replace(by) as Node;
    const partial = colNames(node);
    return { SortBy: { ...(o.SortBy as Fields), node: partial?.length === 1 ? { ColumnRef: { fields: [{ String: { sval: PARTIALS } }, { String: { sval: partial[0] } }] } } : node } };
  });
  const finalSort = sortWith(replace);
  const finalHaving = s.havingClause ? replace(s.havingClause) : undefined;
  if (leftover) return undefined;
  const replaceRow = replacer(true);
  const rowTargets = targets.map((t) => ({ ResTarget: { ...t, name: columnName(t as { name?: string; val: Node }), val: replaceRow(t.val) } }));
  const rowSort = sortWith(replaceRow);
  const rowFilter = s.havingClause ? replaceRow(s.havingClause) : undefined;

  const partialColumnNames = [...groups.map((_, i) => `g${i + 1}`), ...aggColumns.flat()];
  const rowstoreTargets = [
    ...groupExprs.map((g, i) => `${deparseExpr(g)} AS g${i + 1}`),
    ...aggregates.flatMap((a, i) => partialSql(a, aggColumns[i]!, alias)),
  ];
  const whereSql = s.whereClause ? ` WHERE ${deparseExpr(s.whereClause as Node)}` : '';
  const groupBySql = groups.length > 0 ? ` GROUP BY ${groups.map((_, i) => i + 1).join(', ')}` : '';
  const source = `${quote(table.schema)}.${quote(table.name)} AS ${quote(alias)}`;
  const rowstoreExistsSql = `EXISTS (SELECT 1 FROM ${source}${whereSql})`;
  // The kernels' side of the same bound is partials.ts mayOverflow (LARGE_FLOAT); NaN is above
  // 'Infinity' in PostgreSQL's order, so neither counts.
  // A real column is never above 1e130 (float4's range ends at 3.4e38): no rows to look for.
  const risky = [...new Set(aggregates.filter((a) => (a.fn === 'sum' || a.fn === 'avg') && a.partialTypes[0] !== 'int8' && a.partialTypes[0] !== 'numeric').map((a) => a.column!))]
    .filter((c) => table.columns.find((x) => x.name === c)?.type !== 'float4')
    .map((c) => `abs(${quote(alias)}.${quote(c)}) > 1e130 AND abs(${quote(alias)}.${quote(c)}) < 'Infinity'`);
  const rowstoreRiskSql = risky.length === 0 ? 'false' : `EXISTS (SELECT 1 FROM ${source} WHERE ${whereSql ? `(${whereSql.slice(7)}) AND ` : ''}(${risky.join(' OR ')}))`;
  const rowstore = `SELECT ${rowstoreTargets.join(', ')} FROM ${quote(table.schema)}.${quote(table.name)} AS ${quote(alias)}${whereSql}${groupBySql}`;

  // ORDER BY the bucket LIMIT n (no HAVING): only the newest (oldest) buckets reach the result.
  let bucketOrder: AggregatePlan['bucketOrder'];
  const firstSort = sortBy[0]?.SortBy as Fields | undefined;
  if (groups.length === 1 && groups[0]!.kind === 'bucket' && !s.havingClause && s.limitCount && isConstant(s.limitCount as Node) && (!s.limitOffset || isConstant(s.limitOffset as Node))) {
    const by = firstSort?.node as Node | undefined;
    const ordinal = by?.A_Const ? Number(((by.A_Const as Fields).ival as Fields | undefined)?.ival ?? NaN) : NaN;
    const names = colNames(by);
    const target = !Number.isNaN(ordinal)
      ? targets[ordinal - 1]
      : names?.length === 1 && !table.columns.some((c) => c.name === names[0])
        ? targets.find((t) => (columnName(t as { name?: string; val: Node })) === names[0])
        : undefined;
    const key = target ? (target.val as Node) : by;
    const plainLimit = !s.limitOption || s.limitOption === 'LIMIT_OPTION_COUNT' || s.limitOption === 'LIMIT_OPTION_DEFAULT';
    if (key && plainLimit && firstSort!.sortby_dir !== 'SORTBY_USING' && fingerprint(key) === groupFps[0]) {
      const bucket = deparseExpr(groupExprs[0]!);
      bucketOrder = {
        desc: firstSort!.sortby_dir === 'SORTBY_DESC',
        limitSql: deparseExpr(s.limitCount as Node),
        ...(s.limitOffset ? { offsetSql: deparseExpr(s.limitOffset as Node) } : {}),
        rowstoreSql: (n) =>
          `SELECT ${bucket} AS b FROM ${quote(table.schema)}.${quote(table.name)} AS ${quote(alias)}${whereSql} GROUP BY 1 ORDER BY 1 ${firstSort!.sortby_dir === 'SORTBY_DESC' ? 'DESC' : 'ASC'} LIMIT ${n}`,
      };
    }
  }

  const build = (rows: string | undefined, mode: FinalMode = 'union'): string => {
    const union = rows === undefined ? rowstore : mode === 'union' ? `${rowstore} UNION ALL ${rows}` : rows;
    // One partial row per group: no GROUP BY, HAVING becomes WHERE, merges read the row's values.
    const rowwise = mode === 'rowwise' && rows !== undefined;
    const having = rowwise ? rowFilter : finalHaving;
    const sort = rowwise ? rowSort : finalSort;
    const targetList = rowwise ? rowTargets : finalTargets;
    const make = (): string => {
      const template = parseSql(`SELECT 1 FROM (${union}) AS ${PARTIALS} (${partialColumnNames.map(quote).join(', ')})`)[0]!.node;
      const final: Fields = {
        ...template,
        targetList,
        ...(groups.length > 0 && !rowwise ? { groupClause: groups.map((_, i) => colRef(`g${i + 1}`)) } : {}),
        ...(having ? { [rowwise ? 'whereClause' : 'havingClause']: having } : {}),
        ...(sort.length > 0 ? { sortClause: sort } : {}),
        ...(s.limitCount ? { limitCount: clone(s.limitCount), limitOption: s.limitOption } : {}),
        ...(s.limitOffset ? { limitOffset: clone(s.limitOffset) } : {}),
      };
      return deparse({ SelectStmt: final });
    };
    // The kernels' rows themselves (the slow way, see finalSql): not kept.
    if (rows !== undefined && rows !== `SELECT * FROM ${KERNEL_ROWS}`) return make();
    // The text depends only on these (no locations): kept for the next statement of the shape (another window or host).
    const key = fingerprint([union, partialColumnNames, targetList, groups.length, rowwise, having ?? null, sort, s.limitCount ?? null, s.limitOffset ?? null, s.limitOption ?? null]);
    return remember(finalTemplates, key, make);
  };
  // Cut at the LIMIT by Orbit only where the bucket limit's statement evaluates it (no OFFSET).
  const direct = directShape(s, targets, groupFps, aggFps, bucketOrder !== undefined && bucketOrder.offsetSql === undefined);
  const templates = new Map<FinalMode, string>();
  let withoutRows: string | undefined;
  return {
    table,
    rowstoreExistsSql: rowstoreRiskSql === 'false' ? rowstoreExistsSql : `CASE WHEN ${rowstoreRiskSql} THEN NULL ELSE ${rowstoreExistsSql} END`,
    rowstoreRiskSql,
    ...(bucketOrder ? { bucketOrder } : {}),
    ...(direct ? { direct } : {}),
    ...(bucketWidthSql !== undefined ? { bucketWidthSql } : {}),
    groups,
    filters,
    predicates,
    aggregates: aggregates.map(({ node: _node, ...a }) => a),
    finalSql(kernelRows, mode = 'union') {
      // The statement around the kernels' rows is the same at every run of a (cached) plan.
      if (kernelRows === undefined) return (withoutRows ??= build(undefined));
      const marker = `SELECT * FROM ${KERNEL_ROWS}`;
      let template = templates.get(mode);
      if (template === undefined) templates.set(mode, (template = build(marker, mode)));
      const at = template.indexOf(marker);
      // The kernels' rows (array constants, ~300 KB for 1,200 groups) are spliced in after
      // deparsing: parsing and deparsing them took longer than PostgreSQL's work on them.
      // The marker's text elsewhere in the statement (a string constant): the slow way.
      if (at < 0 || template.includes(marker, at + 1)) return build(kernelRows, mode);
      return `${template.slice(0, at)}${kernelRows}${template.slice(at + marker.length)}`;
    },
  };
}

/** Whether the kernels' row filter evaluates `p` on its column's type. */
function rowFilterable(p: ColumnPredicate): boolean {
  const type = p.column.typname as PgType;
  // Constants the kernels' inputs would refuse when the statement runs (session/columnstore/
  // predicate-values.ts) are not planned, so that the scan path takes the statement rather than
  // the cache tables: an integer against a fractional literal (compared as numeric), a real IN a
  // list with numeric or integer literals (cast to real), a timestamp or date column against
  // anything but a literal (now() is a timestamptz).
  const number = (c: string) => /^[-+]?[0-9.eE+-]+$/.test(c);
  if ((type === 'int2' || type === 'int4' || type === 'int8') && p.sql.some((c) => number(c) && /[.eE]/.test(c))) return false;
  if (type === 'float4' && p.op === 'in' && p.sql.length > 1 && p.sql.some(number)) return false;
  const casts = type === 'date' ? '::date' : '::(?:date|timestamp|timestamp without time zone)';
  if ((type === 'timestamp' || type === 'date') && !p.sql.every((c) => c === 'NULL' || new RegExp(`^'(?:[^']|'')*'(?:${casts})?$`).test(c))) return false;
  return FILTER_TYPES.has(type) && canFilter(type, p.op === 'is null' || p.op === 'is not null' ? { op: p.op } : { op: p.op, values: [] });
}

/** The final statement's name for the partial rows (their columns g1…, then the aggregates' partials). */
const PARTIALS = '__orbit_partials';

/** Final statements around the kernels' rows by their inputs (see finalSql): the same for every window and host of a shape. */
const finalTemplates = new Map<string, string>();

/** Copies `n`, replacing nodes for which `fn` returns a value. */
function rewriteNode(n: unknown, fn: (x: Node) => unknown): unknown {
  if (Array.isArray(n)) return n.map((x) => rewriteNode(x, fn));
  if (n === null || typeof n !== 'object') return n;
  const k = kind(n);
  if (k !== undefined) {
    const r = fn(n as Node);
    if (r !== undefined) return r;
    return { [k]: rewriteNode((n as Node)[k], fn) };
  }
  const out: Fields = {};
  for (const [key, v] of Object.entries(n as Fields)) out[key] = rewriteNode(v, fn);
  return out;
}
