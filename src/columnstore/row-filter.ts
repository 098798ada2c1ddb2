/**
 * @module columnstore/row-filter
 * Comparisons of decoded columns with constants, with PostgreSQL's semantics, for the scan path
 * (sql/planner/scan.ts) and the aggregate kernels' row filters (kernels/aggregate.ts; `verdictOf`
 * reads a batch's statistics first, so that batches no row or every row passes are not tested row
 * by row): a comparison with NULL (either side) is never true; floats order NaN above
 * everything and equal to itself, -0 equal to 0 (float8_cmp); integers, dates and timestamps compare
 * as signed integers (±infinity are the extremes); text only by equality (byte equality, which is
 * the column's equality under a deterministic collation); bool by equality.
 * The result is a selection vector (row numbers kept, ascending), TypeScript rather than a kernel:
 * it runs once per decoded batch over at most a batch's rows.
 */
import { compareFloat, compareValues } from './compare.js';
import type { Column, Scalar } from './columns.js';
import { isNull } from './codecs/values.js';
import type { RangeOp } from './codecs/index.js';

export type FilterOp = '<' | '<=' | '>' | '>=' | '=' | '<>';

/** A predicate on one decoded column; constants in the column's representation (see columns.ts). */
export type RowPredicate =
  | { readonly op: FilterOp | 'in'; readonly values: ReadonlyArray<number | bigint | string | boolean | null> }
  | { readonly op: 'is null' | 'is not null' };

function test(op: FilterOp, c: number): boolean {
  switch (op) {
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '=':
      return c === 0;
    default:
      return c !== 0;
  }
}

/** A comparator of row `i`'s value with constant `v` (−1/0/1), for non-NULL rows. */
function comparator(column: Column, v: number | bigint | string | boolean): ((i: number) => number) | undefined {
  switch (column.type) {
    case 'float4':
    case 'float8': {
      const values = column.values;
      const x = Number(v);
      return (i) => compareFloat(values[i]!, x);
    }
    case 'int2':
    case 'int4':
    case 'date': {
      const values = column.values;
      // Beyond these types' range a bigint constant compares the same as its rounded number.
      const x = Number(v);
      return (i) => (values[i]! < x ? -1 : values[i]! > x ? 1 : 0);
    }
    case 'int8':
    case 'timestamp':
    case 'timestamptz': {
      const values = column.values;
      const x = BigInt(v as bigint);
      return (i) => (values[i]! < x ? -1 : values[i]! > x ? 1 : 0);
    }
    case 'bool': {
      const values = column.values;
      const x = v ? 1 : 0;
      return (i) => values[i]! - x;
    }
    case 'text':
    case 'varchar': {
      const values = column.values;
      // Only equality is meaningful: any difference is "not equal".
      return (i) => (values[i] === v ? 0 : 1);
    }
    default:
      return undefined;
  }
}

/** Whether `filterRows` can evaluate `p` on a column of this type. */
export function canFilter(column: Column['type'], p: RowPredicate): boolean {
  if (p.op === 'is null' || p.op === 'is not null') return true;
  if (column === 'text' || column === 'varchar' || column === 'bool') return p.op === '=' || p.op === '<>' || p.op === 'in';
  return ORDERED.has(column);
}

/** Types `filterRows` orders (ranges as well as equality). */
const ORDERED: ReadonlySet<Column['type']> = new Set(['float4', 'float8', 'int2', 'int4', 'int8', 'date', 'timestamp', 'timestamptz']);

/** Types `filterRows` takes at all (text types and bool by equality only, see canFilter). */
export const FILTER_TYPES: ReadonlySet<Column['type']> = new Set([...ORDERED, 'bool', 'text', 'varchar']);

/** What a batch's statistics show of a predicate: no row passes, every row does, or some may. */
export type Verdict = 'none' | 'all' | 'some';

/**
 * `p` (which canFilter accepts for `type`) against a batch's statistics of its column: `rows` rows,
 * `nulls` of them NULL, `min`/`max` its smallest and largest non-NULL value in PostgreSQL's order
 * (manifest.ts; text in byte order, so only equality is read from it; null: unknown).
 */
export function verdictOf(type: Column['type'], p: RowPredicate, rows: number, nulls: number, min: Scalar, max: Scalar): Verdict {
  if (!('values' in p)) {
    const none = p.op === 'is null' ? nulls === 0 : nulls === rows;
    const all = p.op === 'is null' ? nulls === rows : nulls === 0;
    return none ? 'none' : all ? 'all' : 'some';
  }
  const constants = p.values.filter((v): v is number | bigint | string | boolean => v !== null);
  // A comparison with NULL, or of NULLs only, holds for no row.
  if ((p.op !== 'in' && constants.length < p.values.length) || constants.length === 0 || nulls === rows) return 'none';
  if (min === null || max === null || min === undefined || max === undefined) return 'some';
  const one = (op: FilterOp, v: Exclude<Scalar, null>): Verdict => {
    const lo = compareValues(type, min, v);
    const hi = compareValues(type, max, v);
    const same = lo === 0 && hi === 0;
    let none: boolean;
    let all: boolean;
    switch (op) {
      case '=':
        none = lo > 0 || hi < 0;
        all = same;
        break;
      case '<>':
        none = same;
        all = lo > 0 || hi < 0;
        break;
      case '<':
        none = lo >= 0;
        all = hi < 0;
        break;
      case '<=':
        none = lo > 0;
        all = hi <= 0;
        break;
      case '>':
        none = hi <= 0;
        all = lo > 0;
        break;
      default:
        none = hi < 0;
        all = lo >= 0;
    }
    // NULLs pass no comparison.
    return none ? 'none' : all && nulls === 0 ? 'all' : 'some';
  };
  if (p.op !== 'in') return one(p.op, constants[0]!);
  const each = constants.map((v) => one('=', v));
  return each.includes('all') ? 'all' : each.every((v) => v === 'none') ? 'none' : 'some';
}

/**
 * Narrows `selection` (row numbers, ascending; undefined = all `rows`) to the rows of `column`
 * satisfying `p`. Throws for a predicate `canFilter` refuses.
 */
export function filterRows(column: Column, rows: number, p: RowPredicate, selection?: Uint32Array): Uint32Array {
  const out = new Uint32Array(selection ? selection.length : rows);
  let n = 0;
  const nulls = column.nulls;
  const count = selection ? selection.length : rows;
  if (p.op === 'is null' || p.op === 'is not null') {
    const want = p.op === 'is null';
    for (let k = 0; k < count; k++) {
      const i = selection ? selection[k]! : k;
      if ((nulls !== null && isNull(nulls, i)) === want) out[n++] = i;
    }
    return out.subarray(0, n);
  }
  if (!canFilter(column.type, p)) throw new Error(`no row filter for ${column.type} ${p.op}`);
  const all = (p as Extract<RowPredicate, { values: unknown }>).values;
  const constants = all.filter((v): v is number | bigint | string | boolean => v !== null);
  // Any comparison with NULL is NULL (not true); IN is true when one item is equal.
  if (constants.length < all.length && p.op !== 'in') return out.subarray(0, 0);
  if ((column.type === 'float8' || column.type === 'float4') && constants.length === 1 && p.op !== 'in' && p.op !== '=' && p.op !== '<>') {
    const x = Number(constants[0]);
    // A range against a number: JavaScript's comparison is PostgreSQL's (-0 = 0) but for NaN
    // values, which PostgreSQL orders above everything. One tight loop instead of a comparator call per row.
    if (!Number.isNaN(x)) return floatRange(column.values, nulls, selection, count, p.op, x, out);
  }
  if ((column.type === 'int8' || column.type === 'timestamp' || column.type === 'timestamptz') && constants.length === 1 && p.op !== 'in' && p.op !== '=' && p.op !== '<>') {
    return int64Range(column.values, nulls, selection, count, p.op, BigInt(constants[0] as bigint), out);
  }
  const compares = constants.map((v) => comparator(column, v)!);
  const op: FilterOp = p.op === 'in' ? '=' : p.op;
  for (let k = 0; k < count; k++) {
    const i = selection ? selection[k]! : k;
    if (nulls !== null && isNull(nulls, i)) continue;
    for (const cmp of compares) {
      if (test(op, cmp(i))) {
        out[n++] = i;
        break;
      }
    }
  }
  return out.subarray(0, n);
}

/**
 * `filterRows` of a float column against a non-NaN number with `<`, `<=`, `>` or `>=`: one loop
 * per operator, NULLs and the selection handled outside the common case (no NULLs, all rows).
 */
function floatRange(values: Float64Array | Float32Array, nulls: Uint8Array | null, selection: Uint32Array | undefined, count: number, op: '<' | '<=' | '>' | '>=', x: number, out: Uint32Array): Uint32Array {
  let n = 0;
  if (nulls === null && selection === undefined) {
    // NaN (v !== v) is greater than x.
    switch (op) {
      case '>':
        for (let i = 0; i < count; i++) {
          const v = values[i]!;
          if (v > x || v !== v) out[n++] = i;
        }
        break;
      case '>=':
        for (let i = 0; i < count; i++) {
          const v = values[i]!;
          if (v >= x || v !== v) out[n++] = i;
        }
        break;
      case '<':
        for (let i = 0; i < count; i++) if (values[i]! < x) out[n++] = i;
        break;
      default:
        for (let i = 0; i < count; i++) if (values[i]! <= x) out[n++] = i;
    }
    return out.subarray(0, n);
  }
  for (let k = 0; k < count; k++) {
    const i = selection ? selection[k]! : k;
    if (nulls !== null && isNull(nulls, i)) continue;
    const v = values[i]!;
    const keep = op === '>' ? v > x || v !== v : op === '>=' ? v >= x || v !== v : op === '<' ? v < x : v <= x;
    if (keep) out[n++] = i;
  }
  return out.subarray(0, n);
}

/** `filterRows` of an int64 column (int8, timestamps) against a constant with `<`, `<=`, `>` or `>=`. */
function int64Range(values: BigInt64Array, nulls: Uint8Array | null, selection: Uint32Array | undefined, count: number, op: '<' | '<=' | '>' | '>=', x: bigint, out: Uint32Array): Uint32Array {
  let n = 0;
  for (let k = 0; k < count; k++) {
    const i = selection ? selection[k]! : k;
    if (nulls !== null && isNull(nulls, i)) continue;
    const v = values[i]!;
    if (op === '>' ? v > x : op === '>=' ? v >= x : op === '<' ? v < x : v <= x) out[n++] = i;
  }
  return out.subarray(0, n);
}

/** A comparison of a float column with a number (not NaN) that BatchColumns.filterAt evaluates while decoding. */
export function floatRangeOf(p: RowPredicate): { op: RangeOp; x: number } | undefined {
  if (!('values' in p) || p.values.length !== 1 || typeof p.values[0] !== 'number' || Number.isNaN(p.values[0])) return undefined;
  return p.op === '<' || p.op === '<=' || p.op === '>' || p.op === '>=' ? { op: p.op, x: p.values[0] } : undefined;
}
