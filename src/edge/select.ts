/**
 * @module edge/select
 * The edge profile's SELECT executor over decoded columns: one table (or none), WHERE, GROUP BY
 * with aggregates (through an AggregateEngine), HAVING, ORDER BY, DISTINCT [ON], LIMIT/OFFSET.
 * Time predicates of the WHERE clause are handed to the scan for chunk and batch exclusion. What
 * the subset does not cover is SQLSTATE 0A000 naming the construct.
 */
import { orbitError } from '../errors.js';
import { aggregateType, type AggregateEngine, type AggregateName, type AggregateSpec } from './aggregates.js';
import type { TableDef } from './catalog.js';
import {
  AGGREGATES,
  callArgs,
  columnName,
  comparison,
  compareValues,
  compile,
  fingerprint,
  funcName,
  notAtEdge,
  unwrap,
  type Columns,
  type Expr,
  type Node,
  type Scope,
} from './expr.js';
import { fillColumn, fillMarker, gapfillKey } from './gapfill.js';
import { planPushdown, type PushdownPlan } from './pushdown.js';
import type { EdgeType, Value } from './values.js';

export interface ResultField {
  readonly name: string;
  readonly type: EdgeType;
}

export interface SelectResult {
  readonly fields: ResultField[];
  readonly rows: Value[][];
}

/** A comparison of the table's time column with a constant, for chunk and batch exclusion. */
export interface TimeBound {
  readonly op: '>' | '>=' | '<' | '<=' | '=';
  readonly value: bigint | number;
}

/** What the executor asks of the storage: the listed columns of `table`, restricted by `bounds` where possible. */
/**
 * Decoded columns of the table's rows the bounds and equalities may match. `latestPer` (a segmentby
 * column) says only each of its values' latest rows by time are needed (DISTINCT ON (it) … ORDER BY
 * it, time DESC with no WHERE): the scan may skip batches that cannot hold them.
 */
export type ScanFn = (table: TableDef, columns: readonly string[], bounds: readonly TimeBound[], equalities: ReadonlyMap<string, Value>, latestPer?: string) => Promise<{ cols: Value[][]; length: number }>;

export interface SelectContext {
  readonly zone: string;
  readonly now: bigint;
  readonly params: readonly (string | null)[];
  readonly aggregates: AggregateEngine;
  table(name: string): TableDef;
  /** The time column of a hypertable, for exclusion. */
  timeColumn(table: string): string | undefined;
  readonly scan: ScanFn;
  /** The hypertable's segmentby columns (the kernels group and filter by them per batch). */
  segmentBy(table: string): readonly string[];
  /**
   * Runs an aggregate in the kernels over the table's chunks: the groups' key and aggregate columns,
   * or undefined to take the row path (no kernels, or the kernels refuse the query with 0A000).
   */
  readonly pushdown?: (table: TableDef, plan: PushdownPlan) => Promise<PushedGroups | undefined>;
}

/** Groups computed outside the executor: per GROUP BY key and per aggregate, one value per group. */
export interface PushedGroups {
  readonly keyCols: Value[][];
  readonly aggCols: Value[][];
  readonly groups: number;
}

const UNSUPPORTED_CLAUSES: Record<string, string> = {
  withClause: 'WITH queries',
  windowClause: 'window functions',
  lockingClause: 'SELECT FOR UPDATE/SHARE',
  intoClause: 'SELECT INTO',
  valuesLists: 'VALUES lists',
};

/** Walks a parse tree, calling `visit` on every node object; `visit` returning false stops the descent. */
function walk(node: unknown, visit: (kind: string, n: Node) => boolean | void): void {
  if (Array.isArray(node)) {
    for (const x of node) walk(x, visit);
    return;
  }
  if (!node || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node as Node)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && /^[A-Z]/.test(k)) {
      if (visit(k, v as Node) === false) continue;
    }
    walk(v, visit);
  }
}

export async function executeSelect(stmt: Node, ctx: SelectContext): Promise<SelectResult> {
  if (stmt.op && stmt.op !== 'SETOP_NONE') throw notAtEdge(`${String(stmt.op).replace('SETOP_', '')}`);
  for (const [clause, what] of Object.entries(UNSUPPORTED_CLAUSES)) if (stmt[clause]) throw notAtEdge(what);
  const from = (stmt.fromClause as Node[] | undefined) ?? [];
  if (from.length > 1) throw notAtEdge('a SELECT over several tables (joins)');
  walk(stmt, (kind) => {
    if (kind === 'SubLink') throw notAtEdge('subqueries');
  });

  let table: TableDef | undefined;
  if (from.length === 1) {
    const [kind, rv] = unwrap(from[0]!);
    if (kind !== 'RangeVar') throw notAtEdge(kind === 'JoinExpr' ? 'joins' : kind === 'RangeSubselect' ? 'subqueries in FROM' : `${kind} in FROM`);
    if (rv.schemaname && rv.schemaname !== 'public') throw notAtEdge(`tables outside schema public ("${String(rv.schemaname)}.${String(rv.relname)}")`);
    table = ctx.table(String(rv.relname));
  }
  const alias = table ? String(((unwrap(from[0]!)[1].alias as Node | undefined)?.aliasname as string | undefined) ?? table.name) : '';

  // Columns the statement reads, loaded once.
  const needed: string[] = [];
  const targetsRaw = (stmt.targetList as Node[]).map((t) => t.ResTarget as Node);
  const star = targetsRaw.some((t) => ((unwrap(t.val as Node)[1].fields as Node[] | undefined) ?? []).some((f) => f.A_Star));
  if (table) {
    const names = new Set(table.columns.map((c) => c.name));
    walk(stmt, (kind, n) => {
      if (kind !== 'ColumnRef') return;
      const fields = n.fields as Node[];
      const last = fields[fields.length - 1]!;
      if (last.String) {
        const name = String((last.String as Node).sval);
        if (names.has(name) && !needed.includes(name)) needed.push(name);
      }
    });
    if (star) for (const c of table.columns) if (!needed.includes(c.name)) needed.push(c.name);
  }
  const columnIndex = new Map(needed.map((n, i) => [n, i]));
  const typeOf = (name: string) => table!.columns.find((c) => c.name === name)!.type;

  const base = { zone: ctx.zone, now: ctx.now, params: ctx.params };
  const rowScope: Scope = {
    ...base,
    column(name, node) {
      const i = columnIndex.get(name);
      if (i === undefined) throw undefinedColumn(name, node, alias);
      return { index: i, type: typeOf(name) };
    },
  };

  // Output list: `*` expands to the table's columns in order.
  interface Target { name: string; node: Node }
  const targets: Target[] = [];
  for (const t of targetsRaw) {
    const val = t.val as Node;
    const fields = (val.ColumnRef as Node | undefined)?.fields as Node[] | undefined;
    if (fields?.[fields.length - 1]?.A_Star) {
      if (!table) throw orbitError('syntax_error', 'SELECT * with no tables specified is not valid');
      for (const c of table.columns) targets.push({ name: c.name, node: { ColumnRef: { fields: [{ String: { sval: c.name } }] } } });
    } else targets.push({ name: t.name ? String(t.name) : columnName(val), node: val });
  }

  // WHERE → bounds for exclusion, then a row filter.
  const where = stmt.whereClause as Node | undefined;
  const timeColumn = table ? ctx.timeColumn(table.name) : undefined;
  const bounds: TimeBound[] = [];
  const equalities = new Map<string, Value>();
  if (where && table) collectBounds(where, rowScope, timeColumn, bounds, equalities);

  const groupClause = (stmt.groupClause as Node[] | undefined) ?? [];
  const sortClause = ((stmt.sortClause as Node[] | undefined) ?? []).map((s) => s.SortBy as Node);
  const aggregated = groupClause.length > 0 || targets.some((t) => hasAggregate(t.node)) || (stmt.havingClause !== undefined);
  const tableColumn = (node: Node): string | undefined => {
    const f = (node.ColumnRef as Node | undefined)?.fields as Node[] | undefined;
    return f && f.length === 1 && f[0]!.String ? String((f[0]!.String as Node).sval) : undefined;
  };
  /** ORDER BY / GROUP BY items that name an output column by ordinal or alias. */
  const outputRef = (node: Node, preferInput: boolean): number | undefined => {
    const c = node.A_Const as Node | undefined;
    if (c?.ival !== undefined) {
      const k = Number((c.ival as Node).ival ?? 0);
      if (k < 1 || k > targets.length) throw orbitError('invalid_column_reference', `position ${k} is not in select list`);
      return k - 1;
    }
    const name = tableColumn(node);
    if (name === undefined || (preferInput && columnIndex.has(name))) return undefined;
    const i = targets.findIndex((t) => t.name === name);
    return i < 0 ? undefined : i;
  };

  if (where && hasAggregate(where)) throw orbitError('grouping_error', 'aggregate functions are not allowed in WHERE');
  const keyNodes = groupClause.map((g) => {
    const ref = outputRef(g, true);
    return ref === undefined ? g : targets[ref]!.node;
  });
  const aggNodes: Node[] = [];
  const aggPrints: string[] = [];
  if (aggregated) {
    const collect = (node: unknown) =>
      walk(node, (kind, n) => {
        if (kind === 'FuncCall' && AGGREGATES.has(funcName(n))) {
          const p = fingerprint(n);
          if (!aggPrints.includes(p)) {
            aggPrints.push(p);
            aggNodes.push(n);
          }
          return false;
        }
      });
    collect(targets.map((t) => t.node));
    collect(stmt.havingClause);
    collect(sortClause.map((s) => s.node));
  }
  const aggSpecs = aggNodes.map((n) => aggregateSpec(n, rowScope));

  // Aggregates the kernels take run over the sealed batches without decoding rows (src/edge/pushdown.ts).
  let pushed: PushedGroups | undefined;
  if (table && aggregated && timeColumn && ctx.pushdown && !keyNodes.some((k) => k.FuncCall !== undefined && funcName(k.FuncCall as Node) === 'time_bucket_gapfill')) {
    const plan = planPushdown({ table, timeColumn, segmentBy: ctx.segmentBy(table.name), keyNodes, aggNodes, aggTypes: aggSpecs.map((a) => a.resultType), where, scope: rowScope });
    if (plan) pushed = await ctx.pushdown(table, plan);
  }

  let cols: Value[][] = [];
  let length = 1;
  if (table && !pushed) ({ cols, length } = await ctx.scan(table, needed, bounds, equalities, !where && !aggregated && timeColumn ? lastPointColumn(stmt, sortClause, timeColumn, ctx.segmentBy(table.name), tableColumn, targets) : undefined));
  let selected: number[] = Array.from({ length: pushed ? 0 : length }, (_, i) => i);
  if (where && !pushed) {
    const cond = compile(where, rowScope);
    selected = selected.filter((i) => cond.eval(cols, i) === true);
  }

  let outScope: Scope;
  let outCols: Columns;
  let outRows: number[];
  if (aggregated) {
    const gapfillAt = keyNodes.findIndex((k) => k.FuncCall !== undefined && funcName(k.FuncCall as Node) === 'time_bucket_gapfill');
    if (keyNodes.filter((k) => k.FuncCall !== undefined && funcName(k.FuncCall as Node) === 'time_bucket_gapfill').length > 1) {
      throw orbitError('feature_not_supported', 'multiple time_bucket_gapfill calls not allowed');
    }
    const gapfill = gapfillAt >= 0 ? gapfillKey(keyNodes[gapfillAt]!.FuncCall as Node, rowScope, timeColumn, bounds) : undefined;
    const keyExprs = keyNodes.map((k, i) => (i === gapfillAt ? gapfill!.bucket : compile(k, rowScope)));
    const keyPrints = keyNodes.map(fingerprint);
    const groupIndex = new Map<string, number>();
    const groupOf = new Int32Array(selected.length);
    const keyCols: Value[][] = pushed ? pushed.keyCols : keyExprs.map(() => []);
    selected.forEach((row, k) => {
      const values = keyExprs.map((e) => e.eval(cols, row));
      const key = values.map(valueKey).join('\u0000');
      let g = groupIndex.get(key);
      if (g === undefined) {
        g = groupIndex.size;
        groupIndex.set(key, g);
        values.forEach((v, j) => keyCols[j]!.push(v));
      }
      groupOf[k] = g;
    });
    // Without GROUP BY an aggregate query has exactly one group, even over no rows.
    const groupCount = pushed ? pushed.groups : keyNodes.length === 0 ? 1 : groupIndex.size;
    let allGroups = groupCount;

    const aggCols = pushed ? pushed.aggCols : aggSpecs.map((spec) => ctx.aggregates.compute(spec, cols, selected, groupOf, groupCount));
    const aggTypes = aggSpecs.map((a) => a.resultType);
    const keyTypes = keyExprs.map((e) => e.type);
    // Gapfill: a group (aggregates NULL) for every missing bucket of every series, then rows in (series, bucket) order.
    let groupOrder: number[] | undefined;
    const seriesOf: string[] = [];
    if (gapfill) {
      const seriesKey = (g: number) => keyCols.map((c, j) => (j === gapfillAt ? '' : valueKey(c[g]!))).join('\u0000');
      const series = new Map<string, number>();
      for (let g = 0; g < groupCount; g++) if (!series.has(seriesKey(g))) series.set(seriesKey(g), g);
      if (series.size === 0 && keyNodes.length === 1) series.set('', -1);
      for (const [, first] of series) {
        for (const b of gapfill.buckets) {
          const values = keyCols.map((c, j) => (j === gapfillAt ? b : c[first]!));
          const key = values.map(valueKey).join('\u0000');
          if (groupIndex.has(key)) continue;
          groupIndex.set(key, allGroups++);
          values.forEach((v, j) => keyCols[j]!.push(v));
          for (const a of aggCols) a.push(null);
        }
      }
      const order = new Map([...series.keys()].map((k, i) => [k, i]));
      groupOrder = Array.from({ length: allGroups }, (_, g) => g).sort((a, b) => {
        const s = order.get(seriesKey(a))! - order.get(seriesKey(b))!;
        return s !== 0 ? s : compareValues(keyCols[gapfillAt]![a]!, keyCols[gapfillAt]![b]!);
      });
      for (let g = 0; g < allGroups; g++) seriesOf.push(seriesKey(g));
    }
    outCols = [...keyCols, ...aggCols];
    // locf()/interpolate() at the top of a select-list item: computed per series over the ordered groups.
    const fillPrints: string[] = [];
    const fillTypes: EdgeType[] = [];
    const markerScope = (): Scope => ({ ...base, substitute: (node) => substituteBase(node), column: () => { throw notAtEdge('locf/interpolate over plain columns'); } });
    const substituteBase = (node: Node): { index: number; type: EdgeType } | undefined => {
      const p = fingerprint(node);
      const k = keyPrints.indexOf(p);
      if (k >= 0) return { index: k, type: keyTypes[k]! };
      if (node.FuncCall) {
        const a = aggPrints.indexOf(fingerprint(node.FuncCall));
        if (a >= 0) return { index: keyNodes.length + a, type: aggTypes[a]! };
        const f = fillPrints.indexOf(p);
        if (f >= 0) return { index: keyNodes.length + aggNodes.length + f, type: fillTypes[f]! };
      }
      return undefined;
    };
    for (const t of targets) {
      const marker = fillMarker(t.node);
      if (!marker) continue;
      if (!gapfill || !groupOrder) throw notAtEdge(`${marker.kind}() outside a time_bucket_gapfill query`);
      const e = compile(marker.value, markerScope());
      const ordered = groupOrder.map((g) => e.eval(outCols, g));
      const times = groupOrder.map((g) => Number(keyCols[gapfillAt]![g]));
      const filled = fillColumn(marker.kind, e.type, ordered, groupOrder.map((g) => seriesOf[g]!), times);
      const col: Value[] = new Array(allGroups);
      groupOrder.forEach((g, k) => (col[g] = filled[k]!));
      (outCols as Value[][]).push(col);
      fillPrints.push(fingerprint(t.node));
      fillTypes.push(e.type);
    }
    outScope = {
      ...base,
      substitute: substituteBase,
      column(name, node) {
        if (!columnIndex.has(name)) throw undefinedColumn(name, node, alias);
        throw orbitError('grouping_error', `column "${alias}.${name}" must appear in the GROUP BY clause or be used in an aggregate function`);
      },
    };
    outRows = groupOrder ?? Array.from({ length: allGroups }, (_, g) => g);
    if (stmt.havingClause) {
      const having = compile(stmt.havingClause as Node, outScope);
      outRows = outRows.filter((g) => having.eval(outCols, g) === true);
    }
  } else {
    outScope = rowScope;
    outCols = cols;
    outRows = selected;
  }

  const exprs = targets.map((t) => compile(t.node, outScope));
  const fields = targets.map((t, i) => ({ name: t.name, type: exprs[i]!.type === 'unknown' ? ('text' as EdgeType) : exprs[i]!.type }));
  let rows = outRows.map((r) => exprs.map((e) => e.eval(outCols, r)));

  // ORDER BY over the output rows: output columns by ordinal/name, else expressions in the output scope.
  if (sortClause.length > 0) {
    const keys = sortClause.map((s) => {
      const ref = outputRef(s.node as Node, false);
      const desc = s.sortby_dir === 'SORTBY_DESC';
      const nullsFirst = s.sortby_nulls === 'SORTBY_NULLS_FIRST' ? true : s.sortby_nulls === 'SORTBY_NULLS_LAST' ? false : desc;
      if (s.useOp) throw notAtEdge('ORDER BY ... USING');
      const values = ref !== undefined ? rows.map((r) => r[ref]!) : (() => {
        const e = compile(s.node as Node, outScope);
        return outRows.map((r) => e.eval(outCols, r));
      })();
      return { values, desc, nullsFirst };
    });
    const order = rows.map((_, i) => i);
    order.sort((a, b) => {
      for (const k of keys) {
        const x = k.values[a]!;
        const y = k.values[b]!;
        if (x === null || y === null) {
          if (x === y) continue;
          return (x === null) === k.nullsFirst ? -1 : 1;
        }
        const c = compareValues(x, y);
        if (c !== 0) return k.desc ? -c : c;
      }
      return a - b;
    });
    // DISTINCT ON keys are evaluated per output row, before reordering.
    const distinctOn = distinctKeys(stmt, outputRef, outScope, outCols, outRows, rows);
    rows = order.map((i) => rows[i]!);
    if (distinctOn) {
      const seen = new Set<string>();
      rows = rows.filter((_, j) => {
        const key = distinctOn[order[j]!]!;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    }
  } else if (stmt.distinctClause) {
    const distinctOn = distinctKeys(stmt, outputRef, outScope, outCols, outRows, rows);
    const seen = new Set<string>();
    rows = rows.filter((_, j) => {
      const key = distinctOn![j]!;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  const offset = limitValue(stmt.limitOffset as Node | undefined, base, 'OFFSET');
  const limit = limitValue(stmt.limitCount as Node | undefined, base, 'LIMIT');
  if (offset !== undefined || limit !== undefined) rows = rows.slice(offset ?? 0, limit === undefined ? undefined : (offset ?? 0) + limit);
  return { fields, rows };
}

/** Per output row, the key of DISTINCT (all columns) or DISTINCT ON (its expressions); undefined without DISTINCT. */
function distinctKeys(
  stmt: Node,
  outputRef: (n: Node, preferInput: boolean) => number | undefined,
  scope: Scope,
  cols: Columns,
  outRows: number[],
  rows: Value[][],
): string[] | undefined {
  const clause = stmt.distinctClause as Node[] | undefined;
  if (!clause) return undefined;
  const exprs = clause.filter((n) => Object.keys(n).length > 0);
  if (exprs.length === 0) return rows.map((r) => r.map(valueKey).join('\u0000'));
  const keyFns = exprs.map((n) => {
    const ref = outputRef(n, false);
    if (ref !== undefined) return (j: number) => rows[j]![ref]!;
    const e = compile(n, scope);
    return (j: number) => e.eval(cols, outRows[j]!);
  });
  return rows.map((_, j) => keyFns.map((f) => valueKey(f(j))).join('\u0000'));
}

function limitValue(node: Node | undefined, scope: Omit<Scope, 'column'>, what: string): number | undefined {
  if (!node) return undefined;
  const e = compile(node, { ...scope, column: () => { throw notAtEdge(`column references in ${what}`); } });
  if (!e.constant) throw notAtEdge(`a non-constant ${what}`);
  const v = e.type === 'unknown' ? (e.text === undefined ? null : Number(e.text)) : e.eval([], 0);
  if (v === null) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw orbitError('invalid_text_representation', `invalid input syntax for type bigint: "${String(v)}"`);
  if (n < 0) throw orbitError(what === 'LIMIT' ? 'invalid_row_count_in_limit_clause' : 'invalid_row_count_in_result_offset_clause', `${what} must not be negative`);
  return n;
}

function undefinedColumn(name: string, _node: Node, _alias: string): Error {
  return orbitError('undefined_column', `column "${name}" does not exist`);
}

function hasAggregate(node: unknown): boolean {
  let found = false;
  walk(node, (kind, n) => {
    if (kind === 'FuncCall' && AGGREGATES.has(funcName(n))) found = true;
  });
  return found;
}

function aggregateSpec(n: Node, scope: Scope): AggregateSpec {
  const name = funcName(n) as AggregateName;
  if (n.agg_distinct) throw notAtEdge(`${name}(DISTINCT ...)`);
  if (n.agg_filter) throw notAtEdge('aggregate FILTER clauses');
  if (n.agg_order) throw notAtEdge('ordered-set aggregate arguments');
  if (n.over) throw notAtEdge('window functions');
  const star = Boolean(n.agg_star);
  const { positional } = callArgs(n);
  const want = name === 'first' || name === 'last' ? 2 : star ? 0 : 1;
  if (positional.length !== want) throw orbitError('undefined_function', `function ${name} with ${positional.length} arguments does not exist`);
  for (const a of positional) if (hasAggregate(a)) throw orbitError('grouping_error', 'aggregate function calls cannot be nested');
  const args = positional.map((a) => compile(a, scope));
  return { name, star, args, resultType: aggregateType(name, args[0]?.type) };
}

/** A key for grouping and DISTINCT: equal values (PostgreSQL equality) give equal keys. */
export function valueKey(v: Value): string {
  if (v === null) return 'N';
  if (typeof v === 'object') return `I${v.months}/${v.days}/${v.micros}`;
  if (typeof v === 'number') return Object.is(v, -0) ? 'n0' : `n${v}`;
  if (typeof v === 'string' && /^-?\d+\.\d+$/.test(v)) return `s${v.replace(/\.?0+$/, '')}`;
  return `${typeof v}${String(v)}`;
}

/** Top-level AND conjuncts comparing the time column (or a segment column with `=`) to a constant. */
function collectBounds(where: Node, scope: Scope, timeColumn: string | undefined, bounds: TimeBound[], equalities: Map<string, Value>): void {
  const conjuncts: Node[] = [];
  const flatten = (n: Node) => {
    const b = n.BoolExpr as Node | undefined;
    if (b && b.boolop === 'AND_EXPR') for (const a of b.args as Node[]) flatten(a);
    else conjuncts.push(n);
  };
  flatten(where);
  const flip: Record<string, TimeBound['op']> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '=': '=' };
  for (const c of conjuncts) {
    const e = c.A_Expr as Node | undefined;
    if (!e) continue;
    const op = String(((e.name as Node[])[0]!.String as Node).sval);
    const colOf = (n: Node | undefined) => {
      const f = (n?.ColumnRef as Node | undefined)?.fields as Node[] | undefined;
      return f?.length === 1 && f[0]!.String ? String((f[0]!.String as Node).sval) : undefined;
    };
    const constOf = (col: string, n: Node): Value | undefined => {
      try {
        const colExpr = compile({ ColumnRef: { fields: [{ String: { sval: col } }] } }, scope);
        const other = compile(n, scope);
        if (!other.constant) return undefined;
        // Coerced exactly as the filter will coerce it.
        const cmp = comparison('=', colExpr, other, scope);
        if (!cmp) return undefined;
        return other.type === 'unknown' || other.type === colExpr.type ? coerceConst(other, colExpr, scope) : undefined;
      } catch {
        return undefined;
      }
    };
    if (e.kind === 'AEXPR_OP' && op in flip) {
      const l = colOf(e.lexpr as Node);
      const r = colOf(e.rexpr as Node);
      const [col, other, o] = l !== undefined ? [l, e.rexpr as Node, op as TimeBound['op']] : r !== undefined ? [r, e.lexpr as Node, flip[op]!] : [undefined, undefined, undefined];
      if (col === undefined || other === undefined || o === undefined) continue;
      const v = constOf(col, other);
      if (v === undefined || v === null) continue;
      if (col === timeColumn && (typeof v === 'bigint' || typeof v === 'number')) bounds.push({ op: o, value: v });
      else if (o === '=') equalities.set(col, v);
    } else if (e.kind === 'AEXPR_BETWEEN' && colOf(e.lexpr as Node) === timeColumn && timeColumn !== undefined) {
      const [lo, hi] = (((e.rexpr as Node).List as Node).items as Node[]).map((x) => constOf(timeColumn, x));
      if (typeof lo === 'bigint' || typeof lo === 'number') bounds.push({ op: '>=', value: lo });
      if (typeof hi === 'bigint' || typeof hi === 'number') bounds.push({ op: '<=', value: hi });
    }
  }
}

function coerceConst(other: Expr, col: Expr, scope: Scope): Value | undefined {
  if (other.type === col.type) return other.eval([], 0);
  if (other.text === undefined) return undefined;
  // An untyped literal compared with a column is read as the column's type.
  return compile({ TypeCast: { arg: { A_Const: { sval: { sval: other.text } } }, typeName: { names: [{ String: { sval: col.type } }] } } }, scope).eval([], 0);
}

/**
 * The segmentby column of a last-point query, `DISTINCT ON (s) … ORDER BY s, <time> DESC`: only the
 * rows at each s value's latest time can be in its answer. Undefined for any other shape.
 */
function lastPointColumn(
  stmt: Node,
  sortClause: readonly Node[],
  timeColumn: string,
  segmentBy: readonly string[],
  column: (n: Node) => string | undefined,
  targets: ReadonlyArray<{ name: string; node: Node }>,
): string | undefined {
  const on = stmt.distinctClause as Node[] | undefined;
  if (!on || on.length !== 1 || !on[0] || sortClause.length < 2) return undefined;
  const s = column(on[0]);
  if (s === undefined || !segmentBy.includes(s)) return undefined;
  // An output column named like s or the time column would be what DISTINCT ON / ORDER BY mean.
  if (targets.some((x) => (x.name === s || x.name === timeColumn) && column(x.node) !== x.name)) return undefined;
  if (column(sortClause[0]!.node as Node) !== s) return undefined;
  const t = sortClause[1]!;
  return column(t.node as Node) === timeColumn && t.sortby_dir === 'SORTBY_DESC' && t.sortby_nulls !== 'SORTBY_NULLS_LAST' ? s : undefined;
}
