/**
 * @module edge/aggregates
 * Aggregates of the edge profile behind one small interface, `AggregateEngine`: given the rows of a
 * scan, the group each row belongs to and the argument expressions, it returns one value per group.
 * `JsAggregates` computes them in TypeScript; a WASM kernel engine (src/columnstore/kernels, being
 * built separately) can implement the same interface over decoded typed arrays and be passed in.
 *
 * Result types and values follow PostgreSQL: count → bigint; sum(int2/int4) → bigint,
 * sum(int8/numeric) → numeric; avg of integers and numeric → numeric with numeric_div's scale
 * (select_div_scale); float sums add in scan order, as PostgreSQL's do.
 */
import { orbitError } from '../errors.js';
import { compareValues, type Columns, type Expr } from './expr.js';
import { formatDecimal, INTEGER_TYPES, parseDecimal, typeLabel, type Decimal, type EdgeType, type Value } from './values.js';

export type AggregateName = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'first' | 'last';

export interface AggregateSpec {
  readonly name: AggregateName;
  /** count(*) */
  readonly star: boolean;
  /** Argument expressions: one, or (value, time) for first/last. */
  readonly args: readonly Expr[];
  readonly resultType: EdgeType;
}

export interface AggregateEngine {
  /**
   * One result per group. `rows[k]` is a row index into `cols` that belongs to group `groupOf[k]`;
   * rows are in scan order (the order float sums and first/last ties depend on).
   */
  compute(spec: AggregateSpec, cols: Columns, rows: ArrayLike<number>, groupOf: ArrayLike<number>, groupCount: number): Value[];
}

/** The result type of an aggregate over an argument of type `arg` (PostgreSQL's pg_aggregate entries). */
export function aggregateType(name: AggregateName, arg: EdgeType | undefined): EdgeType {
  if (name === 'count') return 'int8';
  const t = arg === undefined || arg === 'unknown' ? 'text' : arg;
  if (name === 'sum') {
    if (t === 'int2' || t === 'int4') return 'int8';
    if (t === 'int8' || t === 'numeric') return 'numeric';
    if (t === 'float4' || t === 'float8' || t === 'interval') return t;
    throw orbitError('undefined_function', `function sum(${typeLabel(t)}) does not exist`);
  }
  if (name === 'avg') {
    if (INTEGER_TYPES.has(t) || t === 'numeric') return 'numeric';
    if (t === 'float4' || t === 'float8') return 'float8';
    throw orbitError('undefined_function', `function avg(${typeLabel(t)}) does not exist`);
  }
  return t;
}

export class JsAggregates implements AggregateEngine {
  compute(spec: AggregateSpec, cols: Columns, rows: ArrayLike<number>, groupOf: ArrayLike<number>, groupCount: number): Value[] {
    const arg = spec.args[0];
    const argType = arg?.type;
    switch (spec.name) {
      case 'count': {
        const n = new Array<bigint>(groupCount).fill(0n);
        for (let k = 0; k < rows.length; k++) if (spec.star || arg!.eval(cols, rows[k]!) !== null) n[groupOf[k]!]! += 1n;
        return n;
      }
      case 'sum':
      case 'avg': {
        const count = new Array<number>(groupCount).fill(0);
        if (argType === 'float4' || argType === 'float8') {
          const sum = new Array<number>(groupCount).fill(0);
          for (let k = 0; k < rows.length; k++) {
            const v = arg!.eval(cols, rows[k]!);
            if (v === null) continue;
            sum[groupOf[k]!] += v as number;
            count[groupOf[k]!]++;
          }
          return sum.map((s, g) => (count[g] === 0 ? null : spec.name === 'avg' ? s / count[g]! : argType === 'float4' ? Math.fround(s) : s));
        }
        const sum: Decimal[] = Array.from({ length: groupCount }, () => ({ n: 0n, scale: 0 }));
        for (let k = 0; k < rows.length; k++) {
          const v = arg!.eval(cols, rows[k]!);
          if (v === null) continue;
          const g = groupOf[k]!;
          sum[g] = addDecimal(sum[g]!, typeof v === 'string' ? parseDecimal(v) : { n: BigInt(v as number | bigint), scale: 0 });
          count[g]++;
        }
        return sum.map((s, g) => {
          if (count[g] === 0) return null;
          if (spec.name === 'avg') return divideDecimal(s, { n: BigInt(count[g]!), scale: 0 });
          return spec.resultType === 'int8' ? s.n : formatDecimal(s.n, s.scale);
        });
      }
      case 'min':
      case 'max': {
        const best = new Array<Value>(groupCount).fill(null);
        const sign = spec.name === 'min' ? -1 : 1;
        for (let k = 0; k < rows.length; k++) {
          const v = arg!.eval(cols, rows[k]!);
          if (v === null) continue;
          const g = groupOf[k]!;
          if (best[g] === null || Math.sign(compareValues(v, best[g]!)) === sign) best[g] = v;
        }
        return best;
      }
      case 'first':
      case 'last': {
        const time = spec.args[1]!;
        const value = new Array<Value>(groupCount).fill(null);
        const at = new Array<Value>(groupCount).fill(null);
        const sign = spec.name === 'first' ? -1 : 1;
        for (let k = 0; k < rows.length; k++) {
          const t = time.eval(cols, rows[k]!);
          if (t === null) continue;
          const g = groupOf[k]!;
          // Strictly earlier/later only, so the first row seen wins a tie, as TimescaleDB's bookend_sfunc.
          if (at[g] === null || Math.sign(compareValues(t, at[g]!)) === sign) {
            at[g] = t;
            value[g] = arg!.eval(cols, rows[k]!);
          }
        }
        return value;
      }
    }
  }
}

function addDecimal(a: Decimal, b: Decimal): Decimal {
  const scale = Math.max(a.scale, b.scale);
  return { n: a.n * 10n ** BigInt(scale - a.scale) + b.n * 10n ** BigInt(scale - b.scale), scale };
}

/** Weight (base-10000 digit position) and first base-10000 digit of a decimal, as numeric's NumericVar holds them. */
function nbaseLead(d: Decimal): { weight: number; first: bigint } {
  const abs = d.n < 0n ? -d.n : d.n;
  if (abs === 0n) return { weight: 0, first: 0n };
  const e = abs.toString().length - 1 - d.scale;
  const weight = Math.floor(e / 4);
  const shift = d.scale + 4 * weight;
  const first = shift >= 0 ? abs / 10n ** BigInt(shift) : abs * 10n ** BigInt(-shift);
  return { weight, first };
}

/** numeric_div: the result scale of select_div_scale (at least 16 significant digits), rounded half away from zero. */
export function divideDecimal(a: Decimal, b: Decimal): string {
  if (b.n === 0n) throw orbitError('division_by_zero', 'division by zero');
  const x = nbaseLead(a);
  const y = nbaseLead(b);
  let qweight = x.weight - y.weight;
  if (x.first <= y.first) qweight--;
  let rscale = 16 - qweight * 4;
  rscale = Math.min(1000, Math.max(rscale, a.scale, b.scale, 0));
  const negative = (a.n < 0n) !== (b.n < 0n);
  const num = (a.n < 0n ? -a.n : a.n) * 10n ** BigInt(rscale + b.scale);
  const den = (b.n < 0n ? -b.n : b.n) * 10n ** BigInt(a.scale);
  let q = num / den;
  if ((num % den) * 2n >= den) q += 1n;
  return formatDecimal(negative ? -q : q, rscale);
}
