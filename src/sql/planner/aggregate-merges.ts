/**
 * @module sql/planner/aggregate-merges
 * The partial aggregates of the kernels' rewrite (aggregates.ts): the partial columns of each
 * aggregate (their names, and the rowstore side's SQL computing them), and the expressions that
 * merge them back into the aggregate's result in the final statement, over many partial rows per
 * group or over one. Exact for counts, integer sums, min/max and first/last; float sums add in
 * another order than a scan would.
 */
import type { AggregateCall, AggregateFn } from '../../columnstore/kernels/index.js';
import { parseSql } from '../parser.js';
import { clone, ident as quote, type Fields, type Node } from '../rewrite/ast.js';

export function partialNames(fn: AggregateFn, i: number): string[] {
  return fn === 'avg' ? [`a${i + 1}_s`, `a${i + 1}_c`] : fn === 'first' || fn === 'last' ? [`a${i + 1}_v`, `a${i + 1}_t`] : [`a${i + 1}`];
}

/** The rowstore side's partial columns of one aggregate. */
export function partialSql(a: AggregateCall & { readonly partialTypes: readonly string[] }, names: string[], alias: string): string[] {
  const col = a.column ? `${quote(alias)}.${quote(a.column)}` : '';
  switch (a.fn) {
    case 'count':
      return [`count(${col || '*'}) AS ${names[0]}`];
    case 'sum':
    case 'min':
    case 'max':
      return [`${a.fn}(${col}) AS ${names[0]}`];
    case 'avg':
      // avg(real) adds in float8 (float4_accum), where sum(real) would add, and overflow, in float4.
      return [`sum(${col}${a.partialTypes[0] === 'float8' ? '::float8' : ''}) AS ${names[0]}`, `count(${col})${a.partialTypes[1] === 'float8' ? '::float8' : ''} AS ${names[1]}`];
    case 'first':
    case 'last': {
      const by = `${quote(alias)}.${quote(a.by!)}`;
      return [`${a.fn}(${col}, ${by}) AS ${names[0]}`, `${a.fn === 'first' ? 'min' : 'max'}(${by}) AS ${names[1]}`];
    }
  }
}

/**
 * What replaces an aggregate call in the final statement. `rowwise`: over the one partial row of a
 * group, where each merge is the expression of that row's values (the same types and values as
 * the aggregate over one row).
 */
export function mergeExpr(a: AggregateCall & { resultType: string }, names: string[], rowwise = false): Node {
  const [x, y] = names.map(quote);
  const sql = rowwise ? rowExpr(a, x!, y) : (() => {
    switch (a.fn) {
      case 'count':
        return `coalesce(sum(${x}), 0)::int8`;
      case 'sum':
        return `sum(${x})::${a.resultType}`;
      case 'min':
      case 'max':
        return `${a.fn}(${x})`;
      case 'avg':
        return a.resultType === 'float8' ? floatAvg(`sum(${y})`, `sum(${x})`) : `sum(${x})::numeric / nullif(sum(${y}), 0)::numeric`;
      case 'first':
      case 'last':
        return `${a.fn}(${x}, ${y})`;
    }
  })();
  return clone(remember(mergeExprs, sql, () => ((parseSql(`SELECT ${sql}`)[0]!.node.targetList as Node[])[0]!.ResTarget as Fields).val as Node));
}

/** mergeExpr over one partial row: sum, min, max, first and last of one value are that value. */
function rowExpr(a: AggregateCall & { resultType: string }, x: string, y: string | undefined): string {
  switch (a.fn) {
    case 'count':
      return `(${x})::int8`;
    case 'sum':
      return `(${x})::${a.resultType}`;
    case 'min':
    case 'max':
      return `(${x})`;
    case 'avg':
      return a.resultType === 'float8' ? floatAvg(y!, x) : `${x}::numeric / nullif(${y}, 0)::numeric`;
    case 'first':
    case 'last':
      return `(${x})`;
  }
}

/**
 * A float average from its count and sum, as avg() finishes it (float8_avg: NULL for no rows, else
 * the sum divided by the count without the `/` operator's underflow check). The sum is NULL only
 * when the count is 0 (float8_avg refuses NULL elements). `+ 0`: float8_accum's sum starts at +0,
 * where sum() starts at the first value, so a sum of -0 inputs alone is 0 there.
 */
function floatAvg(count: string, sum: string): string {
  return `float8_avg(ARRAY[${count}, coalesce(${sum}, 0) + 0, 0])`;
}

/** Parsed merge expressions by text (the same few for every statement of a shape); copies are handed out. */
const mergeExprs = new Map<string, Node>();

/** Bound of each memo of parsed or deparsed text (here and aggregates.ts; entries of a few hundred bytes; statement shapes, not values, fill them). */
const MEMO_ENTRIES = 512;

/** The memo's value for `key`, made on a miss (a full memo is emptied first). */
export function remember<V>(memo: Map<string, V>, key: string, make: () => V): V {
  let v = memo.get(key);
  if (v === undefined) {
    if (memo.size >= MEMO_ENTRIES) memo.clear();
    memo.set(key, (v = make()));
  }
  return v;
}
