/**
 * @module edge/gapfill
 * `time_bucket_gapfill` with `locf` and `interpolate` at the edge, as TimescaleDB's GapFill node
 * does it (tsl/src/nodes/gapfill/): the aggregated groups are completed with one row per missing
 * bucket between start and finish for every combination of the other group keys (aggregates NULL
 * there), then `locf` carries the last non-NULL value forward and `interpolate` fills NULLs linearly
 * between the neighbouring non-NULL points of the same series. start/finish come from the call or,
 * when missing or NULL, from the WHERE clause (`>`/`<=` move the bound by one unit: 1 µs, 1 day or
 * 1), as the Node
 * profile's rewrite (src/sql/rewrite/gapfill-bounds.ts) infers them.
 */
import { orbitError } from '../errors.js';
import type { Interval } from '../functions/calendar.js';
import { callArgs, compile, constant, funcName, notAtEdge, timeBucket, type Expr, type Node, type Scope } from './expr.js';
import type { TimeBound } from './select.js';
import { FLOAT_TYPES, INTEGER_TYPES, type EdgeType, type Value } from './values.js';

const HINT = 'Specify start and finish as arguments or in the WHERE clause.';

export interface GapfillKey {
  /** The bucket expression (time_bucket of the same width, time and zone). */
  readonly bucket: Expr;
  /** Every bucket start in [start, finish), ascending. */
  readonly buckets: Value[];
}

/** Splits time_bucket_gapfill(bucket_width, ts, [timezone,] start, finish) into a bucket expression and its range. */
export function gapfillKey(call: Node, scope: Scope, timeColumn: string | undefined, bounds: readonly TimeBound[]): GapfillKey {
  const { positional, named } = callArgs(call);
  const five = positional.length === 5 || (named.has('timezone') && positional.length < 3);
  const arg = (i: number, name: string) => named.get(name) ?? positional[i];
  const width = arg(0, 'bucket_width');
  const ts = arg(1, 'ts');
  if (!width || !ts) throw orbitError('undefined_function', 'function time_bucket_gapfill() does not exist');
  const zone = five ? arg(2, 'timezone') : named.get('timezone');
  const bucketCall: Node = { funcname: [{ String: { sval: 'time_bucket' } }], args: [width, ts, ...(zone ? [{ NamedArgExpr: { name: 'timezone', arg: zone } }] : [])] };
  const bucket = timeBucket(bucketCall, scope);
  const type = bucket.type;
  const widthValue = compile(width, scope);
  const step = INTEGER_TYPES.has(type) ? BigInt(widthValue.eval([], 0) as number) : stepOf(widthValue.type === 'unknown' ? parseIntervalExpr(widthValue, scope) : (widthValue.eval([], 0) as Interval));
  const tsColumn = (ts.ColumnRef as Node | undefined)?.fields as Node[] | undefined;
  const isTimeColumn = tsColumn?.length === 1 && String((tsColumn[0]!.String as Node | undefined)?.sval) === timeColumn;
  const bound = (which: 'start' | 'finish', node: Node | undefined): bigint => {
    if (node) {
      const e = compile(node, scope);
      const v = (e.type === 'unknown' && e.text !== undefined ? compile({ TypeCast: { arg: node, typeName: { names: [{ String: { sval: type } }] } } }, scope) : e).eval([], 0);
      if (v !== null) return BigInt(v as number | bigint);
    }
    const usable = isTimeColumn ? bounds.filter((b) => (which === 'start' ? b.op === '>=' || b.op === '>' : b.op === '<' || b.op === '<=')) : [];
    if (usable.length === 0) throw orbitError('invalid_parameter_value', `missing time_bucket_gapfill argument: could not infer ${which} from WHERE clause`, { hint: HINT });
    const values = usable.map((b) => BigInt(b.value) + (b.op === '>' || b.op === '<=' ? 1n : 0n));
    return which === 'start' ? values.reduce((a, b) => (b > a ? b : a)) : values.reduce((a, b) => (b < a ? b : a));
  };
  const start = bound('start', five ? arg(3, 'start') : arg(2, 'start'));
  const finish = bound('finish', five ? arg(4, 'finish') : arg(3, 'finish'));
  const wrap = (v: bigint): Value => (type === 'int8' || type === 'timestamptz' || type === 'timestamp' ? v : Number(v));
  const buckets: Value[] = [];
  let b = BigInt(timeBucket(bucketCall, scope, constant(type, wrap(start))).eval([], 0) as number | bigint);
  for (; b < finish; b += step) {
    buckets.push(wrap(b));
    if (buckets.length > 1_000_000) throw orbitError('program_limit_exceeded', 'time_bucket_gapfill would produce more than 1,000,000 buckets per series');
  }
  return { bucket, buckets };
}

function parseIntervalExpr(e: Expr, scope: Scope): Interval {
  return compile({ TypeCast: { arg: { A_Const: { sval: { sval: e.text } } }, typeName: { names: [{ String: { sval: 'interval' } }] } } }, scope).eval([], 0) as Interval;
}

function stepOf(i: Interval): bigint {
  if (i.months !== 0) throw notAtEdge('time_bucket_gapfill with month widths');
  return i.micros + BigInt(i.days) * 86_400_000_000n;
}

/** A locf/interpolate call at the top of a select-list item, if it is one. */
export function fillMarker(node: Node): { kind: 'locf' | 'interpolate'; value: Node } | undefined {
  const call = node.FuncCall as Node | undefined;
  if (!call) return undefined;
  const name = funcName(call);
  if (name !== 'locf' && name !== 'interpolate') return undefined;
  const { positional, named } = callArgs(call);
  if (positional.length !== 1 || named.size > 0) throw notAtEdge(`${name}() with more than one argument`);
  return { kind: name, value: positional[0]! };
}

/**
 * Fills one column over rows ordered by (series, bucket): `series[k]` tells rows of different series
 * apart, `times[k]` is the bucket (as internal number) for interpolation.
 */
export function fillColumn(kind: 'locf' | 'interpolate', type: EdgeType, values: Value[], series: readonly string[], times: readonly number[]): Value[] {
  const out = values.slice();
  if (kind === 'locf') {
    for (let k = 1; k < out.length; k++) if (out[k] === null && series[k] === series[k - 1]) out[k] = out[k - 1]!;
    return out;
  }
  if (!FLOAT_TYPES.has(type)) throw notAtEdge(`interpolate() of ${type} values`);
  for (let k = 0; k < out.length; k++) {
    if (values[k] !== null) continue;
    let p = k - 1;
    while (p >= 0 && series[p] === series[k] && values[p] === null) p--;
    let n = k + 1;
    while (n < out.length && series[n] === series[k] && values[n] === null) n++;
    if (p < 0 || n >= out.length || series[p] !== series[k] || series[n] !== series[k]) continue;
    const y0 = values[p] as number;
    const y1 = values[n] as number;
    const [x0, x, x1] = [times[p]!, times[k]!, times[n]!];
    // TimescaleDB's gapfill_interpolate_calculate for floats; y0 when both ends agree.
    out[k] = y0 === y1 ? y0 : (y0 * (x1 - x) + y1 * (x - x0)) / (x1 - x0);
  }
  return out;
}

