/**
 * @module sql/rewrite/gapfill
 * `time_bucket_gapfill` queries rewritten into plain PostgreSQL (design: docs/design/gapfill.md).
 *
 * TimescaleDB adds a GapFill executor node above the aggregation of a `SELECT … GROUP BY` whose
 * target list calls `time_bucket_gapfill` (`plan_add_gapfill`). PostgreSQL has no such node, so the
 * SELECT is replaced by one that computes the same rows:
 *
 *     WITH <the query's own CTEs>,
 *          __gf_agg AS (<the aggregation, plus hidden columns: bucket, group keys, aggregates, …>),
 *          __gf_b   AS (<bucket width, start and finish, checked and aligned once>)
 *     SELECT <the target list over the filled rows>
 *     FROM (SELECT …, <window functions for locf/interpolate>
 *           FROM (<aggregated rows> UNION ALL <every bucket × every group>) …) AS __gf_w
 *     WHERE <not a generated row where an aggregated row exists>
 *     ORDER BY <the query's, else group keys then bucket, as TimescaleDB returns them>
 *
 * Window functions, DISTINCT, ORDER BY and LIMIT of the query apply to the filled rows, as they do
 * above TimescaleDB's node. Errors TimescaleDB raises while planning are raised here; those it
 * raises while running come from the extension's helpers (src/catalog/extension/gapfill.ts).
 */
import { OrbitError } from '../../errors.js';
import { SqlState } from '../../sqlstate.js';
import { FUNCTIONS_SCHEMA as F } from '../../catalog/extension/schemas.js';
import { as, clone, colNames, colRef, columnName, fingerprint, funcName, kind, resTarget, Template, transform, walk, type Fields, type Node } from './ast.js';
import { checkConstantTimezone, dependsOnRows, fromNames, gapfillArgs, gapfillBound, type Bound } from './gapfill-bounds.js';
import { isAggregateCall, parseMarker, type Marker } from './gapfill-markers.js';

/** Rewrites every gap-filling SELECT in a statement; undefined when there is none. */
export function rewriteGapfill(type: string, node: Fields): Node | undefined {
  const root: Node = { [type]: clone(node) };
  let changed = false;
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit);
    if (value === null || typeof value !== 'object') return value;
    const t = kind(value);
    const fields = (t ? (value as Node)[t] : value) as Fields;
    for (const key of Object.keys(fields)) fields[key] = visit(fields[key]);
    if (t === 'SelectStmt' && gapfillCall(fields)) {
      changed = true;
      return { SelectStmt: rewriteSelect(fields) };
    }
    return value;
  };
  const out = visit(root) as Node;
  return changed ? out : undefined;
}

/** The time_bucket_gapfill call of a SELECT that TimescaleDB would gap-fill, if any. */
function gapfillCall(select: Fields): Node | undefined {
  if ((select.op && select.op !== 'SETOP_NONE') || !(select.groupClause as Node[] | undefined)?.length) return undefined;
  let call: Node | undefined;
  walk(select.targetList, (n, type) => {
    if (type === 'FuncCall' && funcName(n) === 'time_bucket_gapfill') call ??= n;
  });
  return call;
}

const isGroupingSet = (n: Node) => kind(n) === 'GroupingSet';

function rewriteSelect(select: Fields): Fields {
  const targets = (select.targetList as Node[]).map((t) => as<{ name?: string; val: Node }>(t, 'ResTarget')!);
  // Every call in the target list counts; a window's ORDER BY naming the call again does not (in
  // PostgreSQL it refers to the target list entry).
  const calls: Node[] = [];
  for (const t of targets) {
    walk(t.val, (n, type) => {
      if (type === 'FuncCall' && funcName(n) === 'time_bucket_gapfill') calls.push(n);
      if (type === 'FuncCall' && as<Fields>(n, 'FuncCall')!.over) {
        walk(as<Fields>(n, 'FuncCall')!.args, (m, t2) => {
          if (t2 === 'FuncCall' && funcName(m) === 'time_bucket_gapfill') calls.push(m);
        });
        return false;
      }
    });
  }
  if (calls.length > 1) throw new OrbitError(SqlState.feature_not_supported, 'multiple time_bucket_gapfill calls not allowed');
  const call = calls[0]!;
  const callKey = fingerprint(call);

  const groups = (select.groupClause as Node[]).map((g) => {
    if (isGroupingSet(g)) throw new OrbitError(SqlState.feature_not_supported, 'time_bucket_gapfill with GROUPING SETS, ROLLUP or CUBE is not supported by Orbit');
    return resolveGroupItem(g, targets);
  });
  if (!groups.some((g) => fingerprint(g) === callKey)) {
    throw new OrbitError(SqlState.invalid_parameter_value, 'no top level time_bucket_gapfill in group by clause');
  }
  const keys: Node[] = [];
  const keyIndex = new Map<string, number>();
  for (const g of groups) {
    const fp = fingerprint(g);
    if (fp === callKey || keyIndex.has(fp)) continue;
    keyIndex.set(fp, keys.length);
    keys.push(g);
  }

  const args = gapfillArgs(as<Fields>(call, 'FuncCall')!);
  if (args.timezone) checkConstantTimezone(args.timezone);
  const names = fromNames(select.fromClause as Node[] | undefined);
  checkColumns(targets);

  const tr = new Translator(callKey, keyIndex, names);
  const outputNames = new Set(targets.map((t) => columnName(t)));
  const finalTargets = targets.map((t) => resTarget(tr.translate(t.val), columnName(t)));
  const sortClause = (select.sortClause as Node[] | undefined)?.map((s) => {
    const sort = as<Fields>(s, 'SortBy')!;
    return { SortBy: { ...sort, node: tr.translateOrderItem(sort.node as Node, outputNames) } };
  });
  const distinct = select.distinctClause as Node[] | undefined;
  const plainDistinct = distinct !== undefined && distinct.length > 0 && kind(distinct[0]) === undefined;
  const distinctClause = plainDistinct ? distinct : distinct?.map((d) => tr.translateOrderItem(d, outputNames));
  const windowClause = (select.windowClause as Node[] | undefined)?.map((w) => tr.translate(w));

  const tpl = new Template();
  const gapfill = tpl.parse(skeleton(tpl, args, select, names, keys.length, tr));
  const withClause = gapfill.withClause as Fields;
  const ctes = withClause.ctes as Node[];
  as<Fields>(ctes[0], 'CommonTableExpr')!.ctequery = { SelectStmt: aggregation(select, targets, call, keys, tr) };
  const userWith = select.withClause as Fields | undefined;
  withClause.ctes = [...((userWith?.ctes as Node[] | undefined) ?? []), ...ctes];
  if (userWith?.recursive) withClause.recursive = true;

  gapfill.targetList = finalTargets;
  if (tr.needsAliases) (gapfill.fromClause as Node[]).push(...aliasItems(keys, tr.deps, names));
  const order = [...keys.map((_, j) => colRef('__gf_w', `__gf_k${j}`)), colRef('__gf_w', '__gf_t')].map((node) => ({
    SortBy: { node, sortby_dir: 'SORTBY_DEFAULT', sortby_nulls: 'SORTBY_NULLS_DEFAULT' },
  }));
  // Without ORDER BY, rows come out as TimescaleDB's node returns them (group keys, then bucket); with
  // one, its ties do. DISTINCT limits what ORDER BY may add.
  const sorted = [...(sortClause ?? [])];
  if (!plainDistinct && (!distinct || sortClause)) sorted.push(...order);
  if (sorted.length > 0) gapfill.sortClause = sorted;
  if (distinctClause) gapfill.distinctClause = distinctClause;
  if (windowClause) gapfill.windowClause = windowClause;
  for (const key of ['limitOffset', 'limitCount', 'limitOption', 'lockingClause', 'intoClause']) {
    if (select[key] !== undefined) gapfill[key] = select[key];
  }
  return gapfill;
}

/** A GROUP BY item as the expression it stands for: `GROUP BY 1` and `GROUP BY alias` name targets. */
function resolveGroupItem(item: Node, targets: ReadonlyArray<{ name?: string; val: Node }>): Node {
  const c = as<{ ival?: { ival?: number } }>(item, 'A_Const');
  if (c?.ival !== undefined) {
    const target = targets[(c.ival.ival ?? 0) - 1];
    return target ? target.val : item;
  }
  const names = colNames(item);
  if (names?.length === 1) {
    const target = targets.find((t) => t.name === names[0]);
    if (target) return target.val;
  }
  return item;
}

/** TimescaleDB's checks on locf/interpolate placement and window functions (`gapfill_build_pathtarget`). */
function checkColumns(targets: ReadonlyArray<{ val: Node }>): void {
  for (const { val } of targets) {
    const markers: Node[] = [];
    const windows: Node[] = [];
    walk(val, (n, type) => {
      if (type !== 'FuncCall') return;
      const name = funcName(n)!;
      if (name === 'locf' || name === 'interpolate') markers.push(n);
      if (as<Fields>(n, 'FuncCall')!.over) windows.push(n);
    });
    if (markers.length > 1) throw new OrbitError(SqlState.feature_not_supported, 'multiple interpolate/locf function calls per resultset column not supported');
    if (markers.length === 1) {
      const marker = markers[0]!;
      const name = funcName(marker)!;
      if (marker !== val && windows.length === 0) throw new OrbitError(SqlState.feature_not_supported, `${name} must be toplevel function call`);
      const value = (as<{ args?: Node[] }>(marker, 'FuncCall')!.args ?? [])[0];
      if (containsAggregate(val) && !containsAggregate(value)) throw new OrbitError(SqlState.feature_not_supported, `aggregate functions must be below ${name}`);
      let windowBelow = false;
      walk(marker, (n, type) => {
        if (type === 'FuncCall' && as<Fields>(n, 'FuncCall')!.over) windowBelow = true;
      });
      if (windowBelow) throw new OrbitError(SqlState.feature_not_supported, `window functions must not be below ${name}`);
      continue;
    }
    if (windows.length > 1) throw new OrbitError(SqlState.feature_not_supported, 'multiple window function calls per column not supported');
    if (windows.length === 1) {
      const rest = (as<{ args?: Node[] }>(windows[0], 'FuncCall')!.args ?? []).slice(1);
      let columns = false;
      walk(rest, (_n, type) => {
        if (type === 'ColumnRef') columns = true;
      });
      if (columns) throw new OrbitError(SqlState.feature_not_supported, 'window functions with multiple column references not supported');
    }
  }
}

function containsAggregate(node: unknown): boolean {
  let found = false;
  walk(node, (n, type) => {
    if (type === 'FuncCall' && isAggregateCall(n)) found = true;
  });
  return found;
}

/**
 * Maps expressions of the query's target list, ORDER BY, DISTINCT ON and WINDOW onto the filled rows
 * (`__gf_w`): the bucket, group keys, aggregates (NULL in generated rows, as TimescaleDB evaluates
 * them there), other columns (constant within a group), and locf/interpolate results.
 */
class Translator {
  readonly aggs: Node[] = [];
  readonly deps: Node[] = [];
  readonly markers: Marker[] = [];
  /** A subquery is evaluated over the filled rows: its outer references need the query's names. */
  needsAliases = false;
  private readonly aggIndex = new Map<string, number>();
  private readonly depIndex = new Map<string, number>();
  private readonly markerIndex = new Map<string, number>();
  private readonly markerExpr = new Map<number, Node>();

  constructor(
    private readonly callKey: string,
    private readonly keyIndex: ReadonlyMap<string, number>,
    readonly names: Set<string>,
  ) {}

  translate(node: Node): Node {
    return transform(node, (n, type) => {
      const fp = fingerprint(n);
      if (fp === this.callKey) return colRef('__gf_w', '__gf_t');
      const key = this.keyIndex.get(fp);
      if (key !== undefined) return colRef('__gf_w', `__gf_k${key}`);
      if (type === 'FuncCall') {
        const name = funcName(n)!;
        if (name === 'locf' || name === 'interpolate') return this.marker(n, fp);
        if (isAggregateCall(n)) return colRef('__gf_w', `__gf_a${this.index(this.aggs, this.aggIndex, n, fp)}`);
      }
      if (type === 'ColumnRef') {
        if (colNames(n)!.includes('*')) throw new OrbitError(SqlState.feature_not_supported, 'a * column list in a time_bucket_gapfill query is not supported by Orbit');
        return colRef('__gf_w', `__gf_d${this.index(this.deps, this.depIndex, n, fp)}`);
      }
      if (type === 'SubLink') {
        this.needsAliases = true;
        return clone(n);
      }
      return undefined;
    }) as Node;
  }

  /** ORDER BY / DISTINCT ON items: positions and output column names stay as they are. */
  translateOrderItem(node: Node, outputNames: ReadonlySet<string>): Node {
    if (as<{ ival?: unknown }>(node, 'A_Const')?.ival !== undefined) return clone(node);
    const names = colNames(node);
    if (names?.length === 1 && outputNames.has(names[0]!)) return clone(node);
    return this.translate(node);
  }

  private index(list: Node[], index: Map<string, number>, node: Node, fp: string): number {
    let i = index.get(fp);
    if (i === undefined) {
      i = list.length;
      index.set(fp, i);
      list.push(node);
    }
    return i;
  }

  private marker(node: Node, fp: string): Node {
    let i = this.markerIndex.get(fp);
    if (i === undefined) {
      i = this.markers.length;
      this.markerIndex.set(fp, i);
      this.markers.push(parseMarker(node, i));
      const expr = finalMarkerExpr(this.markers[i]!);
      if (this.markers[i]!.prev || this.markers[i]!.next) this.needsAliases = true;
      this.markerExpr.set(i, expr);
    }
    return clone(this.markerExpr.get(i)!);
  }
}

/** The aggregation: the query without what moves above the fill, plus the hidden columns. */
function aggregation(select: Fields, targets: ReadonlyArray<{ name?: string; val: Node }>, call: Node, keys: Node[], tr: Translator): Fields {
  const agg: Fields = { ...clone(select) };
  for (const key of ['withClause', 'sortClause', 'limitOffset', 'limitCount', 'lockingClause', 'intoClause', 'distinctClause', 'windowClause']) delete agg[key];
  agg.limitOption = 'LIMIT_OPTION_DEFAULT';
  const nullConst: Node = { A_Const: { isnull: true } };
  // Columns stay in place (GROUP BY 1 and GROUP BY alias keep their meaning); locf/interpolate and
  // window functions are evaluated above the fill, never here.
  const kept = targets.map((t) => {
    let later = false;
    walk(t.val, (n, type) => {
      if (type === 'FuncCall' && (as<Fields>(n, 'FuncCall')!.over || funcName(n) === 'locf' || funcName(n) === 'interpolate')) later = true;
    });
    return resTarget(later ? clone(nullConst) : clone(t.val), t.name);
  });
  const hidden = [
    resTarget(clone(call), '__gf_t'),
    ...keys.map((k, j) => resTarget(clone(k), `__gf_k${j}`)),
    ...tr.aggs.map((a, k) => resTarget(clone(a), `__gf_a${k}`)),
    ...tr.deps.map((d, m) => resTarget(clone(d), `__gf_d${m}`)),
    ...tr.markers.map((mk, i) => resTarget({ FuncCall: { funcname: clone(mk.funcname), args: [clone(mk.value)], funcformat: 'COERCE_EXPLICIT_CALL' } }, `__gf_v${i}`)),
  ];
  agg.targetList = [...kept, ...hidden];
  return agg;
}

/** SQL of one bound: the checked candidates (the narrowest wins), or the failure TimescaleDB reports. */
function boundSql(tpl: Template, bound: Bound, which: 'start' | 'finish', witness: string): string {
  if (bound.kind === 'fail') {
    const hint = bound.hint ? `, ${literal(bound.hint)}` : '';
    return `${F}.orbit_gapfill_fail(${witness}, ${literal(bound.message)}${hint})`;
  }
  const values = bound.values.map((v) => `${F}.orbit_gapfill_bound(${witness}, ${tpl.hole(v.node)}, '${which}', ${v.succ})`);
  if (values.length === 1) return values[0]!;
  return `${which === 'start' ? 'GREATEST' : 'LEAST'}(${values.join(', ')})`;
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** The rewritten statement as SQL text with holes for the query's own expressions. */
function skeleton(tpl: Template, args: ReturnType<typeof gapfillArgs>, select: Fields, names: Set<string>, keyCount: number, tr: Translator): string {
  const witness = '(SELECT __gf_t FROM __gf_agg LIMIT 0)';
  const tz = args.timezone ? tpl.hole(args.timezone) : undefined;
  // TimescaleDB checks this first when the query starts; nothing can fail before it.
  if (dependsOnRows(args.width, names)) {
    throw new OrbitError(SqlState.invalid_parameter_value, 'invalid time_bucket_gapfill argument: bucket_width must be a simple expression');
  }
  const width = tpl.hole(args.width);
  const start = boundSql(tpl, gapfillBound('start', args, select, names), 'start', witness);
  const finish = boundSql(tpl, gapfillBound('finish', args, select, names), 'finish', witness);
  const tzArg = tz ? `, ${tz}` : '';
  const bounds = `
    SELECT __gf_w0.w AS __gf_width,
           ${F}.orbit_gapfill_start(__gf_w0.w, ${start}${tzArg}) AS __gf_start,
           ${finish} AS __gf_finish${tz ? `, ${tpl.hole(args.timezone!)} AS __gf_tz` : ''}
    FROM (SELECT ${F}.orbit_gapfill_width(${width}, ${witness}${tzArg}) AS w) AS __gf_w0`;

  const K = Array.from({ length: keyCount }, (_, j) => `__gf_k${j}`);
  const A = tr.aggs.map((_, k) => `__gf_a${k}`);
  const D = tr.deps.map((_, m) => `__gf_d${m}`);
  const V = tr.markers.map((_, i) => `__gf_v${i}`);
  const real = [`${F}.orbit_gapfill_ts(__gf_t) AS __gf_t`, ...K, ...A, ...D, ...V, 'true AS __gf_real'];
  const gap = ['__gf_s.__gf_s', ...K.map((k) => `__gf_g.${k}`), ...A.map(() => 'NULL'), ...D.map((d) => `__gf_g.${d}`), ...V.map(() => 'NULL'), 'false'];
  let gapFrom = `__gf_b CROSS JOIN LATERAL ${F}.orbit_gapfill_series(__gf_b.__gf_start, __gf_b.__gf_finish, __gf_b.__gf_width${tz ? ', __gf_b.__gf_tz' : ''}) AS __gf_s(__gf_s)`;
  if (K.length > 0) gapFrom += ` CROSS JOIN (SELECT DISTINCT ON (${K.join(', ')}) ${[...K, ...D].join(', ')} FROM __gf_agg) AS __gf_g`;
  else if (D.length > 0) gapFrom += ` LEFT JOIN (SELECT ${D.join(', ')} FROM __gf_agg LIMIT 1) AS __gf_g ON true`;

  const u = (c: string) => `__gf_u.${c}`;
  const partition = K.length > 0 ? `PARTITION BY ${K.map(u).join(', ')} ` : '';
  const windows: string[] = [`(__gf_u.__gf_real OR count(*) FILTER (WHERE __gf_u.__gf_real) OVER __gf_peer = 0) AS __gf_keep`];
  const interpolates = tr.markers.filter((m) => m.kind === 'interpolate');
  if (interpolates.length > 0) {
    windows.push(`max(__gf_u.__gf_t) FILTER (WHERE __gf_u.__gf_real) OVER __gf_asc AS __gf_rt`);
    windows.push(`min(__gf_u.__gf_t) FILTER (WHERE __gf_u.__gf_real) OVER __gf_desc AS __gf_nrt`);
  }
  if (tr.markers.some((m) => m.kind === 'locf' && m.prev)) windows.push(`bool_or(__gf_u.__gf_t = __gf_b.__gf_start) OVER __gf_part AS __gf_has_start`);
  for (const m of tr.markers) {
    const v = u(`__gf_v${m.index}`);
    const nonNull = `__gf_u.__gf_real AND ${v} IS NOT NULL`;
    if (m.kind === 'locf') {
      if (!m.treatNullAsMissing) windows.push(`max(__gf_u.__gf_t) FILTER (WHERE __gf_u.__gf_real) OVER __gf_asc AS __gf_ls${m.index}`);
      windows.push(`max(__gf_u.__gf_t) FILTER (WHERE ${nonNull}) OVER __gf_asc AS __gf_ln${m.index}`);
      windows.push(`${F}.orbit_gapfill_last(${v}) FILTER (WHERE __gf_u.__gf_real) OVER __gf_asc AS __gf_lv${m.index}`);
    } else {
      windows.push(`max(__gf_u.__gf_t) FILTER (WHERE ${nonNull}) OVER __gf_asc AS __gf_pn${m.index}`);
      windows.push(`${F}.orbit_gapfill_last(${v}) FILTER (WHERE __gf_u.__gf_real) OVER __gf_asc AS __gf_pv${m.index}`);
      windows.push(`min(__gf_u.__gf_t) FILTER (WHERE ${nonNull}) OVER __gf_desc AS __gf_nn${m.index}`);
      windows.push(`${F}.orbit_gapfill_last(${v}) FILTER (WHERE __gf_u.__gf_real) OVER __gf_desc AS __gf_nv${m.index}`);
    }
  }
  const running = 'ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW';
  return `
WITH __gf_agg AS (SELECT 1),
     __gf_b AS (${bounds})
SELECT 1
FROM (
  SELECT __gf_u.*, __gf_b.__gf_start AS __gf_start, ${windows.join(',\n         ')}
  FROM (
    SELECT ${real.join(', ')} FROM __gf_agg
    UNION ALL
    SELECT ${gap.join(', ')} FROM ${gapFrom}
  ) AS __gf_u CROSS JOIN __gf_b
  WINDOW __gf_asc AS (${partition}ORDER BY __gf_u.__gf_t ${running}),
         __gf_desc AS (${partition}ORDER BY __gf_u.__gf_t DESC ${running}),
         __gf_peer AS (${partition}ORDER BY __gf_u.__gf_t RANGE BETWEEN CURRENT ROW AND CURRENT ROW),
         __gf_part AS (${partition})
  ORDER BY ${[...K.map(u), '__gf_u.__gf_t'].join(', ')}
) AS __gf_w
WHERE __gf_w.__gf_keep`;
}

/**
 * A locf or interpolate column over the filled rows (TimescaleDB `locf.c`, `interpolate.c`).
 *
 * locf: an aggregated row shows its value unless it is NULL and NULLs count as missing; other rows
 * carry the value of the last row that set one (a NULL too, unless NULLs count as missing). `prev`
 * is used where TimescaleDB evaluates it: when nothing was carried at the first bucket of the range,
 * for that bucket and the rows after it until a row sets a value.
 *
 * interpolate: a generated row lies between the previous and the next aggregated row of its group;
 * a neighbour with a NULL value gives NULL. `prev` stands in for a missing previous row from the first
 * bucket on, `next` for a missing next row once the group has no more rows.
 */
function finalMarkerExpr(m: Marker): Node {
  const tpl = new Template();
  const w = (c: string) => `__gf_w.${c}${m.index}`;
  let sql: string;
  if (m.kind === 'locf') {
    const sets = m.treatNullAsMissing ? `(__gf_w.__gf_real AND ${w('__gf_v')} IS NOT NULL)` : '__gf_w.__gf_real';
    const state = m.treatNullAsMissing ? w('__gf_lv') : `CASE WHEN ${w('__gf_ln')} = ${w('__gf_ls')} THEN ${w('__gf_lv')} END`;
    const value = `CASE WHEN ${sets} THEN ${w('__gf_v')} ELSE ${state} END`;
    const lastSet = m.treatNullAsMissing ? w('__gf_ln') : w('__gf_ls');
    sql = m.prev
      ? `${F}.orbit_gapfill_locf(${value}, NOT ${sets} AND (${state}) IS NULL AND __gf_w.__gf_t >= __gf_w.__gf_start
           AND (${lastSet} IS NULL OR ${lastSet} < __gf_w.__gf_start) AND __gf_w.__gf_has_start, ${tpl.hole(m.prev)})`
      : value;
  } else {
    const prevNull = `(${w('__gf_pn')} IS NULL OR ${w('__gf_pn')} <> __gf_w.__gf_rt)`;
    const nextNull = `(${w('__gf_nn')} IS NULL OR ${w('__gf_nn')} <> __gf_w.__gf_nrt)`;
    const usePrev = `(NOT __gf_w.__gf_real AND ${prevNull} AND (__gf_w.__gf_rt IS NULL OR __gf_w.__gf_rt < __gf_w.__gf_start))`;
    const useNext = '(NOT __gf_w.__gf_real AND __gf_w.__gf_nrt IS NULL)';
    const side = (lookup: Node | undefined, use: string, isNull: string, time: string, value: string) => {
      const l = lookup ? sampleSql(tpl, lookup, w('__gf_v')) : undefined;
      return [
        `CASE ${l ? `WHEN ${use} THEN ${l[0]} ` : ''}WHEN NOT ${isNull} THEN ${time} END`,
        `CASE ${l ? `WHEN ${use} THEN ${l[1]} ` : ''}WHEN NOT ${isNull} THEN ${value} END`,
      ];
    };
    const [x0, y0] = side(m.prev, usePrev, prevNull, '__gf_w.__gf_rt', w('__gf_pv'));
    const [x1, y1] = side(m.next, useNext, nextNull, '__gf_w.__gf_nrt', w('__gf_nv'));
    sql = `${F}.orbit_gapfill_interpolate(__gf_w.__gf_real, ${w('__gf_v')}, __gf_w.__gf_t, ${x0}, ${y0}, ${x1}, ${y1})`;
  }
  const parsed = tpl.parse(`SELECT ${sql}`);
  return as<{ val: Node }>((parsed.targetList as Node[])[0], 'ResTarget')!.val;
}

/**
 * The time and the value of an interpolate `prev`/`next` record, type-checked against the bucket
 * and the value. A row constructor, or a subquery returning one, is split into its two fields (the
 * subquery then runs once per field); any other record is read at run time.
 */
function sampleSql(tpl: Template, lookup: Node, valueWitness: string): [string, string] {
  const witnesses = ['__gf_w.__gf_t', valueWitness];
  const row = rowFields(lookup);
  if (row) {
    if (row.length !== 2) {
      const fail = (wit: string) => `${F}.orbit_gapfill_fail(${wit}, 'interpolate RECORD arguments must have 2 elements')`;
      return [fail(witnesses[0]!), fail(witnesses[1]!)];
    }
    return [0, 1].map((i) => `${F}.orbit_gapfill_sample(${witnesses[i]}, ${tpl.hole(row[i]!)}, ${i + 1})`) as [string, string];
  }
  const sub = as<{ subLinkType: string; subselect: Node }>(lookup, 'SubLink');
  const sel = sub?.subLinkType === 'EXPR_SUBLINK' ? as<Fields>(sub.subselect, 'SelectStmt') : undefined;
  const only = sel && (sel.targetList as Node[] | undefined)?.length === 1 && (!sel.op || sel.op === 'SETOP_NONE') ? as<{ val: Node }>((sel.targetList as Node[])[0], 'ResTarget') : undefined;
  const inner = only ? rowFields(only.val) : undefined;
  if (inner) {
    if (inner.length !== 2) {
      const fail = (i: number) => `CASE WHEN ${tpl.hole(lookup)} IS NULL THEN NULL ELSE ${F}.orbit_gapfill_fail(${witnesses[i]}, 'interpolate RECORD arguments must have 2 elements') END`;
      return [fail(0), fail(1)];
    }
    return [0, 1].map((i) => {
      const field: Node = { SubLink: { ...sub, subselect: { SelectStmt: { ...clone(sel), targetList: [resTarget(clone(inner[i]!))] } } } };
      return `${F}.orbit_gapfill_sample(${witnesses[i]}, ${tpl.hole(field)}, ${i + 1})`;
    }) as [string, string];
  }
  return [0, 1].map((i) => `${F}.orbit_gapfill_field(${witnesses[i]}, ${tpl.hole(lookup)}, ${i + 1})`) as [string, string];
}

/** The fields of a row constructor (`(a, b)`, `ROW(a, b)`, optionally cast to record). */
function rowFields(node: Node): Node[] | undefined {
  const cast = as<{ arg: Node; typeName: Fields }>(node, 'TypeCast');
  if (cast) {
    const names = (cast.typeName.names as Node[]).map((n) => as<{ sval: string }>(n, 'String')?.sval);
    return names[names.length - 1] === 'record' ? rowFields(cast.arg) : undefined;
  }
  return as<{ args?: Node[] }>(node, 'RowExpr')?.args ?? (kind(node) === 'RowExpr' ? [] : undefined);
}

/**
 * Subqueries over the filled rows see the group keys and the other grouped columns under the names
 * the query used (`m1.device_id`), through one LATERAL item per table name.
 */
function aliasItems(keys: Node[], deps: Node[], names: Set<string>): Node[] {
  const single = names.size === 1 ? [...names][0]! : '__gf_cols';
  const byAlias = new Map<string, Map<string, string>>();
  const add = (node: Node, column: string) => {
    const fields = colNames(node);
    if (!fields || fields.includes('*')) return;
    const alias = fields.length >= 2 ? fields[fields.length - 2]! : single;
    const cols = byAlias.get(alias) ?? new Map<string, string>();
    byAlias.set(alias, cols);
    if (!cols.has(fields[fields.length - 1]!)) cols.set(fields[fields.length - 1]!, column);
  };
  keys.forEach((k, j) => add(k, `__gf_k${j}`));
  deps.forEach((d, m) => add(d, `__gf_d${m}`));
  return [...byAlias].map(([alias, cols]) => ({
    RangeSubselect: {
      lateral: true,
      subquery: {
        SelectStmt: {
          targetList: [...cols].map(([name, column]) => resTarget(colRef('__gf_w', column), name)),
          limitOption: 'LIMIT_OPTION_DEFAULT',
          op: 'SETOP_NONE',
        },
      },
      alias: { aliasname: alias },
    },
  }));
}
