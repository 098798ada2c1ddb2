/**
 * The kernel backends on seeded random batches: WebAssembly and the TypeScript reference must agree
 * bit for bit, and both must match a row-by-row oracle built on functions/time-bucket.ts (time_bucket
 * as the SQL extension computes it). Data: NULLs, NaN, ±Infinity, -0, INT64 extremes, ±infinity
 * times, out-of-order and pre-2000 times, bucket boundaries, selections, empty ranges.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { compareFloat } from '../../src/columnstore/compare.js';
import { isNull } from '../../src/columnstore/codecs/values.js';
import type { BucketParams, KernelBackend, KernelValues, TimeRange } from '../../src/columnstore/kernels/index.js';
import { ReferenceKernels } from '../../src/columnstore/kernels/index.js';
import { loadKernelsNode } from '../../src/columnstore/kernels/load-node.js';
import { interval } from '../../src/functions/calendar.js';
import { timeBucketTimestamp } from '../../src/functions/time-bucket.js';
import { Prng, fromBits } from '../support/prng.js';

let wasm: KernelBackend;
const ref = new ReferenceKernels();
beforeAll(async () => {
  wasm = await loadKernelsNode();
});

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const HOUR = 3_600_000_000n;
const WIDTHS = [1n, 7n, 1_000_000n, HOUR, 24n * HOUR, 7n * 24n * HOUR];
const FLOATS = [0, -0, 1.5, -1.5, NaN, -NaN, Infinity, -Infinity, 1e-310, 0.1, 100, 3.25, 1e300, -1e300];
const TYPES = ['f64', 'f32', 'i64', 'i32', 'i16'] as const;

function bits(n: number, p: Prng, rate: number): Uint8Array | null {
  if (rate === 0) return null;
  const b = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (p.chance(rate)) b[i >> 3]! |= 1 << (i & 7);
  return b;
}

/** Times of one batch: sorted descending (the usual layout), ascending or shuffled, with awkward values. */
function randomTimes(p: Prng, n: number): BigInt64Array {
  const base = p.pick([757_382_400_000_000n, -3_155_760_000_000_000n, 0n, -1n]);
  const step = p.pick([1n, 10_000_000n, HOUR / 4n, 1_000n]);
  const t = BigInt64Array.from({ length: n }, (_, i) => base + BigInt(i) * step + (p.chance(0.1) ? BigInt(p.int(3) - 1) : 0n));
  for (let i = 0; i < n; i++) {
    if (p.chance(0.02)) t[i] = p.pick([INT64_MIN, INT64_MAX]);
    else if (p.chance(0.05)) t[i] = p.pick(WIDTHS) * BigInt(p.int(2000) - 1000) + BigInt(p.int(3) - 1);
  }
  const order = p.int(3);
  if (order === 0) t.reverse();
  else if (order === 2) for (let i = n - 1; i > 0; i--) {
    const j = p.int(i + 1);
    [t[i], t[j]] = [t[j]!, t[i]!];
  }
  return t;
}

function randomValues(p: Prng, type: (typeof TYPES)[number], n: number): KernelValues {
  switch (type) {
    case 'f64':
    case 'f32': {
      const a = type === 'f64' ? new Float64Array(n) : new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = p.chance(0.3) ? p.pick(FLOATS) : p.chance(0.5) ? p.int(1000) / 8 - 60 : fromBits(p.u64());
      return a;
    }
    case 'i64':
      return BigInt64Array.from({ length: n }, () => (p.chance(0.1) ? p.pick([INT64_MIN, INT64_MAX, -1n]) : p.i64() >> BigInt(p.int(64))));
    case 'i32':
      return Int32Array.from({ length: n }, () => (p.chance(0.1) ? p.pick([-2147483648, 2147483647]) : p.int(2000) - 1000));
    default:
      return Int16Array.from({ length: n }, () => (p.chance(0.1) ? p.pick([-32768, 32767]) : p.int(200) - 100));
  }
}

function randomRange(p: Prng, times: BigInt64Array): TimeRange {
  const pick = (): bigint => BigInt.asIntN(64, times.length && p.chance(0.8) ? times[p.int(times.length)]! + BigInt(p.int(3) - 1) : p.i64());
  switch (p.int(4)) {
    case 0:
      return { lo: INT64_MIN, hi: INT64_MAX };
    case 1:
      return { lo: pick(), hi: INT64_MAX };
    default: {
      const a = pick();
      const b = pick();
      return a <= b || p.chance(0.1) ? { lo: a, hi: b } : { lo: b, hi: a };
    }
  }
}

interface OracleSlot {
  bucket: bigint;
  rows: number;
  count: number;
  sum: number | bigint;
  nonFinite: boolean;
  /** A finite value above 1e130 in magnitude (FloatFlags.largeFinite). */
  large: boolean;
  min: number | bigint | null;
  max: number | bigint | null;
  first: number;
  last: number;
}

/** Row by row, the obvious way: slots in order of first appearance. */
function oracle(times: BigInt64Array, range: TimeRange, bucket: BucketParams | null, selection: Uint8Array | null, values: KernelValues, nulls: Uint8Array | null, by: BigInt64Array, byNulls: Uint8Array | null): OracleSlot[] {
  const slots: OracleSlot[] = [];
  const index = new Map<bigint, OracleSlot>();
  const float = values instanceof Float64Array || values instanceof Float32Array;
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (t < range.lo || t > range.hi || (selection && !isNull(selection, i))) continue;
    const b = bucket ? timeBucketTimestamp(interval(0, 0, bucket.width), t, { origin: bucket.origin }) : 0n;
    let s = index.get(b);
    if (!s) {
      s = { bucket: b, rows: 0, count: 0, sum: float ? -0 : 0n, nonFinite: false, large: false, min: null, max: null, first: -1, last: -1 };
      index.set(b, s);
      slots.push(s);
    }
    s.rows++;
    if (!(byNulls && isNull(byNulls, i))) {
      if (s.first < 0 || by[i]! < by[s.first]!) s.first = i;
      if (s.last < 0 || by[i]! > by[s.last]!) s.last = i;
    }
    if (nulls && isNull(nulls, i)) continue;
    s.count++;
    if (float) {
      const v = values[i] as number;
      s.sum = (s.sum as number) + v;
      if (!Number.isFinite(v)) s.nonFinite = true;
      else if (Math.abs(v) > 1e130) s.large = true;
      if (s.min === null || compareFloat(v, s.min as number) < 0) s.min = v;
      if (s.max === null || compareFloat(v, s.max as number) > 0) s.max = v;
    } else {
      const v = BigInt(values[i]!);
      s.sum = (s.sum as bigint) + v;
      if (s.min === null || v < (s.min as bigint)) s.min = v;
      if (s.max === null || v > (s.max as bigint)) s.max = v;
    }
  }
  return slots;
}

function run(k: KernelBackend, times: BigInt64Array, range: TimeRange, bucket: BucketParams | null, selection: Uint8Array | null, values: KernelValues, nulls: Uint8Array | null, by: BigInt64Array, byNulls: Uint8Array | null) {
  const table = k.bucketize(times, range, bucket, selection);
  return { table, agg: k.aggregate(values, nulls), fl: k.firstLast(by, byNulls) };
}

/** Float arrays compared with Object.is per element (-0 ≠ 0, NaN = NaN). */
function same(a: ArrayLike<unknown>, b: ArrayLike<unknown>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

describe('kernel backends', () => {
  it('agree with each other and with the row-by-row oracle on random batches', () => {
    const p = new Prng(20261125);
    let checked = 0;
    for (let round = 0; round < 400; round++) {
      const n = p.pick([0, 1, 2, 7, 129, 1000, 1000, 1500]);
      const times = randomTimes(p, n);
      const range = randomRange(p, times);
      const bucket = p.chance(0.75) ? { width: p.pick(WIDTHS), origin: p.chance(0.5) ? 2n * 24n * HOUR : p.i64() >> BigInt(p.int(64)) } : null;
      const selection = p.chance(0.3) ? bits(n, p, 0.7) : null;
      const type = p.pick(TYPES);
      const values = randomValues(p, type, n);
      const nulls = bits(n, p, p.pick([0, 0.1, 1]));
      const by = p.chance(0.5) ? times : randomTimes(p, n);
      const byNulls = p.chance(0.2) ? bits(n, p, 0.2) : null;

      const w = run(wasm, times, range, bucket, selection, values, nulls, by, byNulls);
      const r = run(ref, times, range, bucket, selection, values, nulls, by, byNulls);
      expect(w.table).toEqual(r.table);
      expect(w.fl).toEqual(r.fl);
      expect(w.agg.count).toEqual(r.agg.count);
      expect(w.agg.sumInt).toEqual(r.agg.sumInt);
      expect(w.agg.floatFlags).toEqual(r.agg.floatFlags);
      for (const key of ['sumFloat', 'min', 'max'] as const) {
        const a = w.agg[key];
        const b = r.agg[key];
        expect(a === null ? null : a.constructor).toBe(b === null ? null : b.constructor);
        if (a && b) expect(same(a, b), key).toBe(true);
      }

      const o = oracle(times, range, bucket, selection, values, nulls, by, byNulls);
      expect(Array.from(w.table.buckets)).toEqual(o.map((s) => s.bucket));
      expect(Array.from(w.table.rows)).toEqual(o.map((s) => s.rows));
      expect(Array.from(w.agg.count)).toEqual(o.map((s) => s.count));
      expect(Array.from(w.fl.first)).toEqual(o.map((s) => s.first));
      expect(Array.from(w.fl.last)).toEqual(o.map((s) => s.last));
      o.forEach((s, i) => {
        if (s.count === 0) return;
        const sum = w.agg.sumFloat ? w.agg.sumFloat[i] : w.agg.sumInt![i];
        expect(Object.is(sum, s.sum), `sum ${sum} vs ${s.sum}`).toBe(true);
        expect(Object.is(w.agg.min[i], type.startsWith('f') ? s.min : s.min)).toBe(true);
        expect(Object.is(w.agg.max[i], s.max)).toBe(true);
        if (w.agg.floatFlags) expect([(w.agg.floatFlags[i]! & 1) === 1, (w.agg.floatFlags[i]! & 2) === 2]).toEqual([s.nonFinite, s.large]);
      });
      checked += o.length;
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('keep the first of equal values: -0 and 0, NaNs, first/last ties', () => {
    const times = BigInt64Array.from([5n, 3n, 3n, 5n, 4n]);
    const values = Float64Array.from([-0, 0, NaN, 0, -0]);
    for (const k of [wasm, ref]) {
      k.bucketize(times, { lo: INT64_MIN, hi: INT64_MAX }, null, null);
      const a = k.aggregate(values, null);
      expect(Object.is(a.min[0], -0)).toBe(true);
      expect(Number.isNaN(a.max[0])).toBe(true);
      expect(Number.isNaN(a.sumFloat![0])).toBe(true);
      expect(a.floatFlags![0]).toBe(1);
      expect(k.firstLast(times, null)).toEqual({ first: Int32Array.from([1]), last: Int32Array.from([0]) });
      // A sum of -0 alone stays -0 (PostgreSQL's first value becomes the state).
      k.bucketize(times.subarray(0, 1), { lo: INT64_MIN, hi: INT64_MAX }, null, null);
      expect(Object.is(k.aggregate(values.subarray(0, 1), null).sumFloat![0], -0)).toBe(true);
    }
  });

  it('sum int64 exactly beyond 64 bits', () => {
    const n = 1000;
    const values = new BigInt64Array(n).fill(INT64_MAX);
    values[7] = INT64_MIN;
    const times = new BigInt64Array(n);
    for (const k of [wasm, ref]) {
      k.bucketize(times, { lo: INT64_MIN, hi: INT64_MAX }, null, null);
      expect(k.aggregate(values, null).sumInt).toEqual([999n * INT64_MAX + INT64_MIN]);
    }
  });

  it('raise time_bucket range errors only for kept rows, as TimescaleDB', () => {
    const min = -211_813_488_000_000_000n; // 4714-11-24 BC, PostgreSQL's first timestamp
    const times = BigInt64Array.from([min + 5n, 0n]);
    const bucket = { width: HOUR, origin: 10n };
    for (const k of [wasm, ref]) {
      expect(() => k.bucketize(times, { lo: INT64_MIN, hi: INT64_MAX }, bucket, null)).toThrow(expect.objectContaining({ code: '22008' }));
      expect(k.bucketize(times, { lo: 0n, hi: INT64_MAX }, bucket, null).slots).toBe(1);
      const shifted = BigInt64Array.from([INT64_MIN + 10n]);
      expect(() => k.bucketize(shifted, { lo: INT64_MIN + 1n, hi: INT64_MAX }, { width: HOUR, origin: 1000n }, null)).toThrow(expect.objectContaining({ code: '22003' }));
      // ±infinity come back unchanged.
      expect(Array.from(k.bucketize(BigInt64Array.from([INT64_MIN, INT64_MAX]), { lo: INT64_MIN, hi: INT64_MAX }, bucket, null).buckets)).toEqual([INT64_MIN, INT64_MAX]);
    }
  });
});
