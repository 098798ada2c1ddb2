/**
 * @module kernels/aggregate
 * One fused pass per value column: per slot, the count of non-NULL kept values, their sum, min and
 * max; and one pass per ordering column for first/last (row index of the smallest and largest
 * ordering value per slot).
 *
 * Semantics (PostgreSQL's min/max/sum, TimescaleDB's first/last):
 * - floats: NaN is greater than every other value; min/max keep the first of equal values (-0 and
 *   0 compare equal), like the manifest's statistics. Sums add in row order from -0.0, which is
 *   what PostgreSQL's strict transition (first value becomes the state) gives, -0 included; per
 *   slot, flags record non-finite inputs (NON_FINITE) and finite ones above LARGE in magnitude
 *   (LARGE_FINITE), so the host knows whether PostgreSQL's overflow checks could fire.
 * - integers: sums are exact in 128 bits (low word wraps, carries go to the high word).
 * - first/last: strict comparisons, so the first occurrence wins ties (TimescaleDB's bookend).
 */
import { by, byNulls, count, firsts, flags, lasts, maxima, minima, nulls, slotBucket, slotRows, slots, sumA, sumB, values } from './memory';

/** Float flags, per slot: some input is ±Infinity or NaN; some finite input's magnitude exceeds LARGE. */
export const NON_FINITE: i32 = 1;
export const LARGE_FINITE: i32 = 2;
/** src/columnstore/kernels/backend.ts LARGE_FLOAT: below it no sum of < 2^53 values overflows. */
export const LARGE: f64 = 1e130;

/** The flags one float input sets. */
@inline export function floatFlags(v: f64): i32 {
  const a = abs<f64>(v);
  return <i32>(v - v != 0) | (<i32>(a > LARGE && a != Infinity) << 1);
}

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
    nonFinite |= floatFlags(v);
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

/** The end of the run of rows from i that share row i's slot. */
@inline function runEnd(i: i32, n: i32): i32 {
  const s = load<i32>(slots + (<usize>i << 2));
  let j = i + 1;
  while (j < n && load<i32>(slots + (<usize>j << 2)) == s) j++;
  return j;
}

/*
 * Without NULLs, by runs of one slot: a tight loop per run. Min/max there compare only with < and
 * >, which is exact when every value of the run is finite (the slot's NaN "no value yet" minimum
 * becomes +Infinity, which any finite value replaces); a run with a non-finite value is redone
 * from the slot's state by the general loop. Same operations in the same order as `floats`.
 */
function floatRuns<T>(n: i32, nslots: i32): void {
  for (let s = 0; s < nslots; s++) {
    store<i32>(count + (<usize>s << 2), 0);
    store<f64>(sumA + (<usize>s << 3), -0.0);
    store<f64>(minima + (<usize>s << 3), NaN);
    store<f64>(maxima + (<usize>s << 3), -Infinity);
    store<i32>(flags + (<usize>s << 2), 0);
  }
  let i = 0;
  while (i < n) {
    const s = load<i32>(slots + (<usize>i << 2));
    const end = runEnd(i, n);
    if (s >= 0) {
      const o8 = <usize>s << 3;
      let sum = load<f64>(sumA + o8);
      // The run's own min/max (its magnitude decides LARGE_FINITE), folded into the slot's after.
      let lo = Infinity;
      let hi = -Infinity;
      let finite: f64 = 0;
      for (let k = i; k < end; k++) {
        const v = <f64>load<T>(values + (<usize>k * sizeof<T>()));
        sum += v;
        // v − v is 0 for finite v, NaN for ±Infinity and NaN; the sum of them stays 0 only if all are finite.
        finite += v - v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (finite == 0) {
        store<i32>(count + (<usize>s << 2), load<i32>(count + (<usize>s << 2)) + end - i);
        store<f64>(sumA + o8, sum);
        // Strict comparisons keep the slot's earlier equal value (-0 vs 0); its NaN minimum means none yet.
        const lo0 = load<f64>(minima + o8);
        if (lo < lo0 || lo0 != lo0) store<f64>(minima + o8, lo);
        if (hi > load<f64>(maxima + o8)) store<f64>(maxima + o8, hi);
        if (lo < -LARGE || hi > LARGE) store<i32>(flags + (<usize>s << 2), load<i32>(flags + (<usize>s << 2)) | LARGE_FINITE);
      } else {
        exactRun<T>(s, i, end);
      }
    }
    i = end;
  }
}

/** Rows i..end−1 (one slot, no NULLs) into slot s, as `floats` does row by row. */
function exactRun<T>(s: i32, i: i32, end: i32): void {
  const o8 = <usize>s << 3;
  let sum = load<f64>(sumA + o8);
  let lo = load<f64>(minima + o8);
  let hi = load<f64>(maxima + o8);
  let nonFinite = load<i32>(flags + (<usize>s << 2));
  for (let k = i; k < end; k++) {
    const v = <f64>load<T>(values + (<usize>k * sizeof<T>()));
    sum += v;
    nonFinite |= floatFlags(v);
    if (v < lo || (lo != lo && v == v)) lo = v;
    if (v > hi || (v != v && hi == hi)) hi = v;
  }
  store<i32>(count + (<usize>s << 2), load<i32>(count + (<usize>s << 2)) + end - i);
  store<f64>(sumA + o8, sum);
  store<f64>(minima + o8, lo);
  store<f64>(maxima + o8, hi);
  store<i32>(flags + (<usize>s << 2), nonFinite);
}

/** Without NULLs, by runs of one slot (see floatRuns); integer min/max and sums need no special cases. */
function integerRuns<T>(n: i32, nslots: i32): void {
  for (let s = 0; s < nslots; s++) {
    store<i32>(count + (<usize>s << 2), 0);
    store<i64>(sumA + (<usize>s << 3), 0);
    store<i64>(sumB + (<usize>s << 3), 0);
    store<i64>(minima + (<usize>s << 3), i64.MAX_VALUE);
    store<i64>(maxima + (<usize>s << 3), i64.MIN_VALUE);
  }
  let i = 0;
  while (i < n) {
    const s = load<i32>(slots + (<usize>i << 2));
    const end = runEnd(i, n);
    if (s >= 0) {
      const o8 = <usize>s << 3;
      let low = <u64>load<i64>(sumA + o8);
      let high = load<i64>(sumB + o8);
      let lo = load<i64>(minima + o8);
      let hi = load<i64>(maxima + o8);
      for (let k = i; k < end; k++) {
        const v = <i64>load<T>(values + (<usize>k * sizeof<T>()));
        const next = low + <u64>v;
        high += <i64>(next < low) - <i64>(v < 0);
        low = next;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      store<i32>(count + (<usize>s << 2), load<i32>(count + (<usize>s << 2)) + end - i);
      store<i64>(sumA + o8, <i64>low);
      store<i64>(sumB + o8, high);
      store<i64>(minima + o8, lo);
      store<i64>(maxima + o8, hi);
    }
    i = end;
  }
}

/** count/sum/min/max per slot of the n values in `values` (type: F64…I16), NULLs per `nulls`. */
export function aggregate(n: i32, nslots: i32, type: i32, hasNulls: bool): void {
  if (!hasNulls) {
    if (type == F64) floatRuns<f64>(n, nslots);
    else if (type == F32) floatRuns<f32>(n, nslots);
    else if (type == I64) integerRuns<i64>(n, nslots);
    else if (type == I32) integerRuns<i32>(n, nslots);
    else integerRuns<i16>(n, nslots);
    return;
  }
  if (type == F64) floats<f64>(n, nslots, hasNulls);
  else if (type == F32) floats<f32>(n, nslots, hasNulls);
  else if (type == I64) integers<i64>(n, nslots, hasNulls);
  else if (type == I32) integers<i32>(n, nslots, hasNulls);
  else integers<i16>(n, nslots, hasNulls);
}

/** Slots for n rows all kept in one slot (bucket 0): what `bucketize` gives for zero times over the full range, without reading times. */
export function uniformSlots(n: i32): i32 {
  for (let i = 0; i < n; i++) store<i32>(slots + (<usize>i << 2), 0);
  store<i64>(slotBucket, 0);
  store<i32>(slotRows, n);
  return n > 0 ? 1 : 0;
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
