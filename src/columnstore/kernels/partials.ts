/**
 * @module columnstore/kernels/partials
 * Mergeable partial aggregates per group, and their final values with PostgreSQL's result types.
 *
 * Merging is exact for counts and integer sums (bigint) and for min/max/first/last; float sums add
 * in merge order, as PostgreSQL's own sums depend on scan order. Result types (PostgreSQL 18):
 * count → int8 (bigint); sum(int2|int4) → int8 (bigint, 22003 outside int8); sum(int8) → numeric
 * (bigint); sum(float4) → float4; sum(float8) → float8; avg(int*) → numeric (text, PostgreSQL's
 * division scale); avg(float*) → float8; min/max → the column's type; first/last → the column's type.
 */
import { orbitError } from '../../errors.js';
import type { PgType, Scalar } from '../columns.js';
import { numericKey } from '../numeric-text.js';
import { LARGE_FLOAT } from './backend.js';
import type { AggregateFn, ResolvedAggregate } from './spec.js';

/** One aggregate's partial state. */
export interface AggState {
  /** count(*) / count(col): rows counted; sum/avg/min/max: non-NULL inputs. */
  count: number;
  /** sum/avg: exact bigint over integer columns, number over float columns (starting at -0). */
  sum: bigint | number;
  /** Float sums: some input was ±Infinity or NaN, so a non-finite sum is not an overflow. */
  nonFinite: boolean;
  /** Float sums: a bound on the magnitude of the finite inputs (Infinity: some may exceed LARGE_FLOAT). */
  maxAbs: number;
  /** min/max: the value where count > 0; first/last: the chosen value (null = NULL). */
  value: Scalar;
  /** first/last: the `by` value of `value`; null while no row was seen. */
  time: bigint | null;
}

export interface GroupPartial {
  /** The groupBy values, in groupBy order. */
  readonly key: readonly Scalar[];
  /** time_bucket start, or null without bucketing. */
  readonly bucket: bigint | null;
  readonly states: AggState[];
}

export interface PartialStats {
  /** Batches in the manifests. */
  batches: number;
  /** Skipped by the manifests' segment values and min/max. */
  skipped: number;
  /** Answered from manifest statistics, with no decoding. */
  fromManifest: number;
  /** Decoded and run through the kernels. */
  decoded: number;
}

/** Partial results of one or more chunks, keyed by group (`keyPrefix` of the groupBy values, then `@bucket`). */
export interface Partials {
  readonly aggregates: readonly ResolvedAggregate[];
  readonly groupBy: readonly string[];
  readonly bucketed: boolean;
  readonly groups: Map<string, GroupPartial>;
  readonly stats: PartialStats;
}

export function emptyState(a: ResolvedAggregate): AggState {
  const float = a.type === 'float4' || a.type === 'float8';
  return { count: 0, sum: float ? -0 : 0n, nonFinite: false, maxAbs: 0, value: null, time: null };
}

export function emptyPartials(aggregates: readonly ResolvedAggregate[], groupBy: readonly string[], bucketed: boolean): Partials {
  return { aggregates, groupBy, bucketed, groups: new Map(), stats: { batches: 0, skipped: 0, fromManifest: 0, decoded: 0 } };
}

/** PostgreSQL's float order: NaN above everything. */
function less(a: number | bigint, b: number | bigint): boolean {
  return a < b || (b !== b && a === a);
}

function greater(a: number | bigint, b: number | bigint): boolean {
  return a > b || (a !== a && b === b);
}

/** Folds `from` into `into` (same aggregate); on ties the state already in `into` is kept. */
export function mergeState(fn: AggregateFn, into: AggState, from: AggState): void {
  switch (fn) {
    case 'count':
      into.count += from.count;
      return;
    case 'sum':
    case 'avg':
      into.count += from.count;
      into.sum = typeof into.sum === 'bigint' ? into.sum + (from.sum as bigint) : into.sum + (from.sum as number);
      into.nonFinite ||= from.nonFinite;
      if (from.maxAbs > into.maxAbs) into.maxAbs = from.maxAbs;
      return;
    case 'min':
    case 'max':
      if (from.count > 0) {
        const better = fn === 'min' ? less : greater;
        if (into.count === 0 || better(from.value as number | bigint, into.value as number | bigint)) into.value = from.value;
        into.count += from.count;
      }
      return;
    case 'first':
    case 'last':
      if (from.time !== null && (into.time === null || (fn === 'first' ? from.time < into.time : from.time > into.time))) {
        into.time = from.time;
        into.value = from.value;
      }
      return;
  }
}

/** A string equal for two values exactly when PostgreSQL's `=` holds (NULLs together). */
export function scalarKey(type: PgType, v: Scalar): string {
  if (v === null) return '\u0001';
  let s: string;
  if (typeof v === 'number') s = v !== v ? 'NaN' : v === 0 ? '0' : String(v);
  else if (v instanceof Uint8Array) s = Array.from(v, (b) => b.toString(16).padStart(2, '0')).join('');
  else if (type === 'numeric') s = numericKey(String(v));
  else s = String(v);
  return `${s.length}:${s}`;
}

/** The part of a group's map key made of its groupBy values (PostgreSQL equality). */
export function keyPrefix(types: readonly PgType[], key: readonly Scalar[]): string {
  return key.map((v, i) => scalarKey(types[i]!, v)).join('');
}

/** The group of `key`/`bucket` (`prefix` = keyPrefix(key)), created empty if new. */
export function groupOf(p: Partials, prefix: string, key: readonly Scalar[], bucket: bigint | null): GroupPartial {
  const k = bucket === null ? prefix : `${prefix}@${bucket}`;
  let g = p.groups.get(k);
  if (!g) p.groups.set(k, (g = { key, bucket, states: p.aggregates.map(emptyState) }));
  return g;
}

/** Folds `from` into `into` (partials of the same spec, e.g. of two chunks) and returns `into`. */
export function mergePartials(into: Partials, from: Partials): Partials {
  if (
    into.bucketed !== from.bucketed ||
    into.groupBy.join('\u0000') !== from.groupBy.join('\u0000') ||
    into.aggregates.length !== from.aggregates.length ||
    into.aggregates.some((a, i) => a.fn !== from.aggregates[i]!.fn || a.type !== from.aggregates[i]!.type)
  ) {
    throw orbitError('invalid_parameter_value', 'partial aggregates of different queries cannot be merged');
  }
  for (const [k, g] of from.groups) {
    const mine = into.groups.get(k);
    if (!mine) into.groups.set(k, { key: g.key, bucket: g.bucket, states: g.states.map((s) => ({ ...s })) });
    else g.states.forEach((s, i) => mergeState(into.aggregates[i]!.fn, mine.states[i]!, s));
  }
  into.stats.batches += from.stats.batches;
  into.stats.skipped += from.stats.skipped;
  into.stats.fromManifest += from.stats.fromManifest;
  into.stats.decoded += from.stats.decoded;
  return into;
}

const FLOAT4_MAX = 3.4028234663852886e38;

/**
 * Whether PostgreSQL's overflow checks (22003) could fire for this float sum or average in some row
 * order: its answer then depends on the order (float8pl and float8_accum raise only while every
 * operand is finite), which the kernels' order cannot stand for. With finite inputs of at most
 * LARGE_FLOAT in magnitude they cannot, and ±Infinity/NaN inputs give the same non-finite result in
 * any order. sum(real) adds in float4 (float4pl), each step rounding up by at most 2^-24.
 */
export function mayOverflow(a: ResolvedAggregate, s: AggState): boolean {
  if ((a.fn !== 'sum' && a.fn !== 'avg') || (a.type !== 'float4' && a.type !== 'float8') || s.count === 0) return false;
  if (!(s.maxAbs <= LARGE_FLOAT)) return true;
  return a.fn === 'sum' && a.type === 'float4' && s.count * s.maxAbs * Math.exp(s.count * 2 ** -23) >= FLOAT4_MAX / 2;
}

/** Whether any group's float sum or average may overflow (mayOverflow). */
export function anyMayOverflow(p: Partials): boolean {
  for (const g of p.groups.values()) if (p.aggregates.some((a, i) => mayOverflow(a, g.states[i]!))) return true;
  return false;
}

export interface ResultRow {
  readonly key: readonly Scalar[];
  readonly bucket: bigint | null;
  /** One per aggregate, in PostgreSQL's result type (module comment); NULL as null. */
  readonly values: readonly Scalar[];
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function floatOverflow(): Error {
  return orbitError('numeric_value_out_of_range', 'value out of range: overflow');
}

function finalValue(a: ResolvedAggregate, s: AggState): Scalar {
  switch (a.fn) {
    case 'count':
      return BigInt(s.count);
    case 'min':
    case 'max':
      return s.count > 0 ? s.value : null;
    case 'first':
    case 'last':
      return s.time === null ? null : s.value;
    default:
  }
  if (s.count === 0) return null;
  if (typeof s.sum === 'bigint') {
    if (a.fn === 'avg') return numericDivide(s.sum, BigInt(s.count));
    if (a.type !== 'int8' && (s.sum < INT64_MIN || s.sum > INT64_MAX)) throw orbitError('numeric_value_out_of_range', 'bigint out of range');
    return s.sum;
  }
  // An infinite result from finite inputs is float8pl's / float8_accum's overflow error.
  if (a.fn === 'avg') {
    if (!Number.isFinite(s.sum) && !s.nonFinite) throw floatOverflow();
    // float8_accum starts its sum at +0, so an all -0 input averages to 0.
    return (s.sum + 0) / s.count;
  }
  const sum = a.type === 'float4' ? Math.fround(s.sum) : s.sum;
  if (!Number.isFinite(sum) && !s.nonFinite) throw floatOverflow();
  return sum;
}

/**
 * Final rows, one per group (in first-seen order). With neither groupBy nor bucket there is always
 * one row, as PostgreSQL's plain aggregate over no rows gives (count 0, the rest NULL).
 */
export function finalize(p: Partials): ResultRow[] {
  const groups = [...p.groups.values()];
  if (groups.length === 0 && p.groupBy.length === 0 && !p.bucketed) groups.push({ key: [], bucket: null, states: p.aggregates.map(emptyState) });
  return groups.map((g) => ({ key: g.key, bucket: g.bucket, values: p.aggregates.map((a, i) => finalValue(a, g.states[i]!)) }));
}

/** Weight (base-10000 digit position) and leading base-10000 digit of |x|, as PostgreSQL's NumericVar. */
function numericWeight(x: bigint): [number, number] {
  if (x === 0n) return [0, 0];
  const digits = (x < 0n ? -x : x).toString();
  const weight = Math.floor((digits.length - 1) / 4);
  return [weight, Number(digits.slice(0, digits.length - weight * 4))];
}

/**
 * sum / count as PostgreSQL's numeric_div prints it (`select_div_scale`: at least 16 significant
 * digits, NUMERIC_MIN_SIG_DIGITS; integer inputs have display scale 0), rounded half away from zero.
 */
export function numericDivide(sum: bigint, count: bigint): string {
  const [w1, d1] = numericWeight(sum);
  const [w2, d2] = numericWeight(count);
  const qweight = w1 - w2 - (d1 <= d2 ? 1 : 0);
  const scale = Math.min(Math.max(16 - qweight * 4, 0), 1000);
  const negative = sum < 0n !== count < 0n && sum !== 0n;
  const n = (sum < 0n ? -sum : sum) * 10n ** BigInt(scale);
  const d = count < 0n ? -count : count;
  let q = n / d;
  if ((n % d) * 2n >= d) q++;
  const digits = q.toString().padStart(scale + 1, '0');
  const text = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return negative && q !== 0n ? `-${text}` : text;
}
