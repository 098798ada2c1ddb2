/**
 * @module kernels/decode-aggregate
 * One pass instead of two for the commonest column of a time-series aggregate: a NULL-free float
 * column whose rows all fall in slot 0 (a batch wholly inside the range and one bucket), stored as
 * DECIMAL mantissas in a PACK stream with no exceptions. Each mantissa is scaled and added to the
 * slot's count/sum/min/max as it is unpacked, so the decoder's and the sum's dependency chains
 * overlap instead of running one after the other.
 *
 * Same operations in the same order as `readFloatStream` then `aggregate` (floatRuns): the value
 * is m / 10^k (rounded to f32 for float4 columns), the sum adds in row order from -0.0, min/max
 * compare with < and >. Without exceptions every value is finite and no zero is -0 (m / 10^k of
 * m = 0 is +0), so those comparisons are PostgreSQL's order exactly.
 */
import { BLOCK, packedBytes, readBits, readVarint, unzigzag, varintEnd } from '../codecs/bitpack';
import { CODEC_DECIMAL, MAX_K, pow10 } from '../codecs/float-stream';
import { CODEC_PACK } from '../codecs/int-stream';
import { bytes } from '../codecs/memory';
import { count, flags, maxima, minima, slots, sumA } from './memory';

@inline function scaled(m: i64, scale: f64, is32: bool): f64 {
  const x = <f64>m / scale;
  return is32 ? <f64><f32>x : x;
}

/**
 * Decodes the n-value float stream in `bytes` and writes slot 0's count, sum, min, max and flags as
 * `aggregate` would. Returns the bytes read; −2 when the stream has another shape or looks
 * malformed (nothing is written: the caller decodes and aggregates separately, which reports it).
 */
export function decodeAggregateUniform(n: i32, is32: bool): i32 {
  let src = bytes;
  if (n < 1 || load<u8>(src++) != CODEC_DECIMAL) return -2;
  const k = <i32>load<u8>(src++);
  if (k > MAX_K) return -2;
  if (readVarint(src) != 0) return -2;
  src = varintEnd;
  if (load<u8>(src++) != CODEC_PACK) return -2;
  const scale = pow10(k);
  const order = <i32>load<u8>(src++);
  if (order > 2) return -2;
  const first = load<i64>(src);
  src += 8;
  let prev = first;
  let delta: i64 = 0;
  let sum: f64 = -0.0;
  let lo: f64 = Infinity;
  let hi: f64 = -Infinity;
  if (order == 2 && n >= 2) {
    delta = unzigzag(readVarint(src));
    src = varintEnd;
  }
  if (order >= 1) {
    const x = scaled(prev, scale, is32);
    sum += x;
    lo = x;
    hi = x;
  }
  if (order == 2 && n >= 2) {
    const x = scaled((prev += delta), scale, is32);
    sum += x;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  const residuals = n > order ? n - order : 0;
  for (let b = 0; b < residuals; b += BLOCK) {
    const width = <i32>load<u8>(src++);
    if (width > 64) return -2;
    const len = min(BLOCK, residuals - b);
    const mask = width >= 64 ? <u64>-1 : ((<u64>1 << <u64>width) - 1);
    let bit: usize = 0;
    if (width > 56) {
      for (let i = 0; i < len; i++) {
        const r = readBits(src, bit, width);
        bit += <usize>width;
        let m: i64;
        if (order == 0) m = first + <i64>r;
        else {
          if (order == 2) delta += unzigzag(r);
          else delta = unzigzag(r);
          m = prev += delta;
        }
        const x = scaled(m, scale, is32);
        sum += x;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    } else if (order == 0) {
      for (let i = 0; i < len; i++) {
        const r = (load<u64>(src + (bit >> 3)) >>> <u64>(bit & 7)) & mask;
        bit += <usize>width;
        const x = scaled(first + <i64>r, scale, is32);
        sum += x;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    } else if (order == 1) {
      for (let i = 0; i < len; i++) {
        const r = (load<u64>(src + (bit >> 3)) >>> <u64>(bit & 7)) & mask;
        bit += <usize>width;
        const x = scaled((prev += unzigzag(r)), scale, is32);
        sum += x;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    } else {
      for (let i = 0; i < len; i++) {
        const r = (load<u64>(src + (bit >> 3)) >>> <u64>(bit & 7)) & mask;
        bit += <usize>width;
        delta += unzigzag(r);
        const x = scaled((prev += delta), scale, is32);
        sum += x;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    }
    src += <usize>packedBytes(len, width);
  }
  store<i32>(count, n);
  store<f64>(sumA, sum);
  store<f64>(minima, lo);
  store<f64>(maxima, hi);
  store<i32>(flags, 0);
  return <i32>(src - bytes);
}

/** The end of the run of rows from i that share row i's slot (as `aggregate`'s runs). */
@inline function runEndAt(i: i32, n: i32): i32 {
  const s = load<i32>(slots + (<usize>i << 2));
  let j = i + 1;
  while (j < n && load<i32>(slots + (<usize>j << 2)) == s) j++;
  return j;
}

/** Adds a run's rows and its sum/min/max (kept in locals while it lasted) to slot s; rows of no slot (s < 0) are dropped. */
function flushRun(s: i32, rows: i32, sum: f64, lo: f64, hi: f64): void {
  if (s < 0) return;
  const o8 = <usize>s << 3;
  store<i32>(count + (<usize>s << 2), load<i32>(count + (<usize>s << 2)) + rows);
  store<f64>(sumA + o8, sum);
  store<f64>(minima + o8, lo);
  store<f64>(maxima + o8, hi);
}

/** A slot's running sum, minimum (+Infinity before any value, as floatRuns) and maximum; a dropped run starts from nothing. */
@inline function slotSum(s: i32): f64 {
  return s < 0 ? -0.0 : load<f64>(sumA + (<usize>s << 3));
}
@inline function slotMin(s: i32): f64 {
  if (s < 0) return Infinity;
  const lo = load<f64>(minima + (<usize>s << 3));
  return lo != lo ? Infinity : lo;
}
@inline function slotMax(s: i32): f64 {
  return s < 0 ? -Infinity : load<f64>(maxima + (<usize>s << 3));
}

/**
 * decodeAggregateUniform for a batch over several slots (`slots` as bucketize left it, kept rows
 * in runs of one slot, rows of no slot −1): the same per-order loops, cut at the ends of runs, each
 * run's sum/min/max in locals and stored when it ends. Same operations in the same order as
 * `readFloatStream` then `aggregate` (floatRuns). −2 for another shape: the slot regions may then
 * be half written, and `aggregate` (which the caller runs instead) starts them afresh.
 */
export function decodeAggregateRuns(n: i32, nslots: i32, is32: bool): i32 {
  let src = bytes;
  if (n < 1 || load<u8>(src++) != CODEC_DECIMAL) return -2;
  const k = <i32>load<u8>(src++);
  if (k > MAX_K) return -2;
  if (readVarint(src) != 0) return -2;
  src = varintEnd;
  if (load<u8>(src++) != CODEC_PACK) return -2;
  const scale = pow10(k);
  const order = <i32>load<u8>(src++);
  if (order > 2) return -2;
  for (let s = 0; s < nslots; s++) {
    store<i32>(count + (<usize>s << 2), 0);
    store<f64>(sumA + (<usize>s << 3), -0.0);
    store<f64>(minima + (<usize>s << 3), NaN);
    store<f64>(maxima + (<usize>s << 3), -Infinity);
    store<i32>(flags + (<usize>s << 2), 0);
  }
  const first = load<i64>(src);
  src += 8;
  let prev = first;
  let delta: i64 = 0;
  let slot = load<i32>(slots);
  let start = 0;
  let end = runEndAt(0, n);
  let sum = slotSum(slot);
  let lo = slotMin(slot);
  let hi = slotMax(slot);
  if (order == 2 && n >= 2) {
    delta = unzigzag(readVarint(src));
    src = varintEnd;
  }
  if (order >= 1) {
    const x = scaled(prev, scale, is32);
    sum += x;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (order == 2 && n >= 2) {
    if (end == 1) {
      flushRun(slot, end - start, sum, lo, hi);
      slot = load<i32>(slots + 4);
      start = 1;
      end = runEndAt(1, n);
      sum = slotSum(slot);
      lo = slotMin(slot);
      hi = slotMax(slot);
    }
    const x = scaled((prev += delta), scale, is32);
    sum += x;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  const residuals = n > order ? n - order : 0;
  let row = order < n ? order : n;
  for (let b = 0; b < residuals; b += BLOCK) {
    const width = <i32>load<u8>(src++);
    if (width > 64) return -2;
    const len = min(BLOCK, residuals - b);
    const mask = width >= 64 ? <u64>-1 : ((<u64>1 << <u64>width) - 1);
    let bit: usize = 0;
    let i = 0;
    while (i < len) {
      if (row == end) {
        flushRun(slot, end - start, sum, lo, hi);
        slot = load<i32>(slots + (<usize>row << 2));
        start = row;
        end = runEndAt(row, n);
        sum = slotSum(slot);
        lo = slotMin(slot);
        hi = slotMax(slot);
      }
      const stop = i + min(len - i, end - row);
      row += stop - i;
      if (width > 56) {
        for (; i < stop; i++) {
          const r = readBits(src, bit, width);
          bit += <usize>width;
          let m: i64;
          if (order == 0) m = first + <i64>r;
          else {
            if (order == 2) delta += unzigzag(r);
            else delta = unzigzag(r);
            m = prev += delta;
          }
          const x = scaled(m, scale, is32);
          sum += x;
          if (x < lo) lo = x;
          if (x > hi) hi = x;
        }
      } else if (order == 0) {
        for (; i < stop; i++) {
          const r = (load<u64>(src + (bit >> 3)) >>> <u64>(bit & 7)) & mask;
          bit += <usize>width;
          const x = scaled(first + <i64>r, scale, is32);
          sum += x;
          if (x < lo) lo = x;
          if (x > hi) hi = x;
        }
      } else if (order == 1) {
        for (; i < stop; i++) {
          const r = (load<u64>(src + (bit >> 3)) >>> <u64>(bit & 7)) & mask;
          bit += <usize>width;
          const x = scaled((prev += unzigzag(r)), scale, is32);
          sum += x;
          if (x < lo) lo = x;
          if (x > hi) hi = x;
        }
      } else {
        for (; i < stop; i++) {
          const r = (load<u64>(src + (bit >> 3)) >>> <u64>(bit & 7)) & mask;
          bit += <usize>width;
          delta += unzigzag(r);
          const x = scaled((prev += delta), scale, is32);
          sum += x;
          if (x < lo) lo = x;
          if (x > hi) hi = x;
        }
      }
    }
    src += <usize>packedBytes(len, width);
  }
  flushRun(slot, end - start, sum, lo, hi);
  return <i32>(src - bytes);
}
