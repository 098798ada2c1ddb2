/**
 * @module kernels/aggregate
 * One fused pass per value column: per slot, the count of non-NULL kept values, their sum, min and
 * max; and one pass per ordering column for first/last (row index of the smallest and largest
 * ordering value per slot).
 *
 * Semantics (PostgreSQL's min/max/sum, TimescaleDB's first/last):
 * - floats: NaN is greater than every other value; min/max keep the first of equal values (-0 and
 *   0 compare equal), like the manifest's statistics. Sums add in row order from -0.0, which is
 *   what PostgreSQL's strict transition (first value becomes the state) gives, -0 included; a
 *   flag records non-finite inputs so the host can tell overflow from infinite inputs.
 * - integers: sums are exact in 128 bits (low word wraps, carries go to the high word).
 * - first/last: strict comparisons, so the first occurrence wins ties (TimescaleDB's bookend).
 */
import { by, byNulls, count, firsts, flags, lasts, maxima, minima, nulls, slots, sumA, sumB, values } from './memory';

/** Element types of the values region. */
export const F64: i32 = 0;
export const F32: i32 = 1;
export const I64: i32 = 2;
export const I32: i32 = 3;
export const I16: i32 = 4;

@inline function isNull(base: usize, i: i32): bool {
  return ((load<u8>(base + (<usize>i >> 3)) >> <u8>(i & 7)) & 1) != 0;
}

/*
 * Consecutive rows of one slot (the usual case: batches are sorted by time) accumulate in locals,
 * loaded from the slot when its run starts and stored when it ends, so the result is the same
 * sequence of operations as updating the slot row by row.
 */

function floats<T>(n: i32, nslots: i32, hasNulls: bool): void {
  for (let s = 0; s < nslots; s++) {
    store<i32>(count + (<usize>s << 2), 0);
    store<f64>(sumA + (<usize>s << 3), -0.0);
    store<f64>(minima + (<usize>s << 3), NaN);
    store<f64>(maxima + (<usize>s << 3), -Infinity);
    store<i32>(flags + (<usize>s << 2), 0);
  }
  let cur = -1;
  let c = 0;
  let sum = 0.0;
  let lo = 0.0;
  let hi = 0.0;
  let nonFinite = 0;
  for (let i = 0; i < n; i++) {
    const s = load<i32>(slots + (<usize>i << 2));
    if (s < 0 || (hasNulls && isNull(nulls, i))) continue;
    if (s != cur) {
      if (cur >= 0) {
        store<i32>(count + (<usize>cur << 2), c);
        store<f64>(sumA + (<usize>cur << 3), sum);
        store<f64>(minima + (<usize>cur << 3), lo);
        store<f64>(maxima + (<usize>cur << 3), hi);
        store<i32>(flags + (<usize>cur << 2), nonFinite);
      }
      cur = s;
      c = load<i32>(count + (<usize>s << 2));
      sum = load<f64>(sumA + (<usize>s << 3));
      lo = load<f64>(minima + (<usize>s << 3));
      hi = load<f64>(maxima + (<usize>s << 3));
      nonFinite = load<i32>(flags + (<usize>s << 2));
    }
    const v = <f64>load<T>(values + (<usize>i * sizeof<T>()));
    c++;
    sum += v;
    // v − v is 0 for finite v, NaN for ±Infinity and NaN.
    nonFinite |= <i32>(v - v != 0);
    if (v < lo || (lo != lo && v == v)) lo = v;
    if (v > hi || (v != v && hi == hi)) hi = v;
  }
  if (cur >= 0) {
    store<i32>(count + (<usize>cur << 2), c);
    store<f64>(sumA + (<usize>cur << 3), sum);
    store<f64>(minima + (<usize>cur << 3), lo);
    store<f64>(maxima + (<usize>cur << 3), hi);
    store<i32>(flags + (<usize>cur << 2), nonFinite);
  }
}

function integers<T>(n: i32, nslots: i32, hasNulls: bool): void {
  for (let s = 0; s < nslots; s++) {
    store<i32>(count + (<usize>s << 2), 0);
    store<i64>(sumA + (<usize>s << 3), 0);
    store<i64>(sumB + (<usize>s << 3), 0);
    store<i64>(minima + (<usize>s << 3), i64.MAX_VALUE);
    store<i64>(maxima + (<usize>s << 3), i64.MIN_VALUE);
  }
  let cur = -1;
  let c = 0;
  let low: u64 = 0;
  let high: i64 = 0;
  let lo: i64 = 0;
  let hi: i64 = 0;
  for (let i = 0; i < n; i++) {
    const s = load<i32>(slots + (<usize>i << 2));
    if (s < 0 || (hasNulls && isNull(nulls, i))) continue;
    if (s != cur) {
      if (cur >= 0) {
        store<i32>(count + (<usize>cur << 2), c);
        store<i64>(sumA + (<usize>cur << 3), <i64>low);
        store<i64>(sumB + (<usize>cur << 3), high);
        store<i64>(minima + (<usize>cur << 3), lo);
        store<i64>(maxima + (<usize>cur << 3), hi);
      }
      cur = s;
      c = load<i32>(count + (<usize>s << 2));
      low = <u64>load<i64>(sumA + (<usize>s << 3));
      high = load<i64>(sumB + (<usize>s << 3));
      lo = load<i64>(minima + (<usize>s << 3));
      hi = load<i64>(maxima + (<usize>s << 3));
    }
    const v = <i64>load<T>(values + (<usize>i * sizeof<T>()));
    c++;
    const next = low + <u64>v;
    // Adding v < 0 as unsigned adds 2^64 too much: one less in the high word.
    high += <i64>(next < low) - <i64>(v < 0);
    low = next;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (cur >= 0) {
    store<i32>(count + (<usize>cur << 2), c);
    store<i64>(sumA + (<usize>cur << 3), <i64>low);
    store<i64>(sumB + (<usize>cur << 3), high);
    store<i64>(minima + (<usize>cur << 3), lo);
    store<i64>(maxima + (<usize>cur << 3), hi);
  }
}

/** count/sum/min/max per slot of the n values in `values` (type: F64…I16), NULLs per `nulls`. */
export function aggregate(n: i32, nslots: i32, type: i32, hasNulls: bool): void {
  if (type == F64) floats<f64>(n, nslots, hasNulls);
  else if (type == F32) floats<f32>(n, nslots, hasNulls);
  else if (type == I64) integers<i64>(n, nslots, hasNulls);
  else if (type == I32) integers<i32>(n, nslots, hasNulls);
  else integers<i16>(n, nslots, hasNulls);
}

/** Per slot, the row of the smallest (firsts) and largest (lasts) non-NULL `by` value; −1 if none. */
export function firstLast(n: i32, nslots: i32, hasNulls: bool): void {
  for (let s = 0; s < nslots; s++) {
    store<i32>(firsts + (<usize>s << 2), -1);
    store<i32>(lasts + (<usize>s << 2), -1);
  }
  for (let i = 0; i < n; i++) {
    const s = load<i32>(slots + (<usize>i << 2));
    if (s < 0 || (hasNulls && isNull(byNulls, i))) continue;
    const t = load<i64>(by + (<usize>i << 3));
    const o4 = <usize>s << 2;
    const f = load<i32>(firsts + o4);
    if (f < 0 || t < load<i64>(by + (<usize>f << 3))) store<i32>(firsts + o4, i);
    const l = load<i32>(lasts + o4);
    if (l < 0 || t > load<i64>(by + (<usize>l << 3))) store<i32>(lasts + o4, i);
  }
}
