/**
 * @module kernels/decode-aggregate
 * One pass instead of two for the commonest columns of a time-series aggregate: NULL-free float
 * columns stored as DECIMAL mantissas in a PACK stream with no exceptions. Each mantissa is scaled
 * and added to its slot's count/sum/min/max as it is unpacked, so the decoder's and the sum's
 * dependency chains overlap instead of running one after the other. Rows go to slots by runs
 * (`buildRuns`: batches are sorted by time, so a batch of a few hours is a few runs of 1-hour
 * buckets); the unpacking loops run over the part of a 128-value block inside one run, keeping the
 * run's state in locals.
 *
 * Same operations in the same order as `readFloatStream` then `aggregate` (floatRuns): the value
 * is m / 10^k (rounded to f32 for float4 columns), each slot's sum adds in row order from its state
 * (-0.0 at first), min/max compare with < and >. Without exceptions every value is finite and no
 * zero is -0 (m / 10^k of m = 0 is +0), so those comparisons are PostgreSQL's order exactly.
 */
import { BLOCK, packedBytes, readBits, readVarint, unzigzag, varintEnd } from '../codecs/bitpack';
import { CODEC_DECIMAL, MAX_K, pow10 } from '../codecs/float-stream';
import { CODEC_PACK } from '../codecs/int-stream';
import { LARGE, LARGE_FINITE } from './aggregate';
import { count, flags, maxima, minima, runEnds, runSlots, slots, sumA } from './memory';

@inline function scaled(m: i64, scale: f64, is32: bool): f64 {
  const x = <f64>m / scale;
  return is32 ? <f64><f32>x : x;
}

/** Splits rows 0..n−1 into runs of one slot (from `slots`, as bucketize wrote it); returns how many. */
export function buildRuns(n: i32): i32 {
  let r = 0;
  let i = 0;
  while (i < n) {
    const s = load<i32>(slots + (<usize>i << 2));
    let j = i + 1;
    while (j < n && load<i32>(slots + (<usize>j << 2)) == s) j++;
    store<i32>(runEnds + (<usize>r << 2), j);
    store<i32>(runSlots + (<usize>r << 2), s);
    r++;
    i = j;
  }
  return r;
}

/** Slots 0..nslots−1 empty, as `aggregate` starts a float column. */
export function clearFloatSlots(nslots: i32): void {
  for (let s = 0; s < nslots; s++) {
    store<i32>(count + (<usize>s << 2), 0);
    store<f64>(sumA + (<usize>s << 3), -0.0);
    store<f64>(minima + (<usize>s << 3), NaN);
    store<f64>(maxima + (<usize>s << 3), -Infinity);
    store<i32>(flags + (<usize>s << 2), 0);
  }
}

/*
 * A run's state: loaded from its slot when the run starts (an empty slot's NaN minimum becomes
 * +Infinity, which any finite value replaces, as in floatRuns), stored when it ends. Rows of no
 * slot (−1) are decoded (later values depend on them) into a state that is dropped.
 */
@inline function countOf(s: i32): i32 {
  return s < 0 ? 0 : load<i32>(count + (<usize>s << 2));
}
@inline function sumOf(s: i32): f64 {
  return s < 0 ? -0.0 : load<f64>(sumA + (<usize>s << 3));
}
@inline function minOf(s: i32): f64 {
  if (s < 0) return Infinity;
  const v = load<f64>(minima + (<usize>s << 3));
  return v != v ? Infinity : v;
}
@inline function maxOf(s: i32): f64 {
  return s < 0 ? -Infinity : load<f64>(maxima + (<usize>s << 3));
}
@inline function keep(s: i32, c: i32, sum: f64, lo: f64, hi: f64): void {
  if (s < 0) return;
  store<i32>(count + (<usize>s << 2), c);
  store<f64>(sumA + (<usize>s << 3), sum);
  store<f64>(minima + (<usize>s << 3), lo);
  store<f64>(maxima + (<usize>s << 3), hi);
  // Every value here is finite: the slot's min/max say whether one is LARGE.
  if (lo < -LARGE || hi > LARGE) store<i32>(flags + (<usize>s << 2), load<i32>(flags + (<usize>s << 2)) | LARGE_FINITE);
}

/**
 * Decodes the n-value float stream at `src` and adds its rows to their slots (runs from
 * `buildRuns`, slots cleared by `clearFloatSlots` or holding earlier rows) as `aggregate` would.
 * Returns the bytes read; −2 when the stream has another shape or looks malformed (the slots may
 * then hold part of the rows: the caller decodes and aggregates separately, which clears them and
 * reports a malformed stream).
 */
export function decodeAggregateRuns(src0: usize, n: i32, is32: bool): i32 {
  let src = src0;
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
  if (order == 2 && n >= 2) {
    delta = unzigzag(readVarint(src));
    src = varintEnd;
  }
  let run = 0;
  let stop = load<i32>(runEnds);
  let cur = load<i32>(runSlots);
  let c = countOf(cur);
  let sum = sumOf(cur);
  let lo = minOf(cur);
  let hi = maxOf(cur);
  let row = 0;
  // The values stored whole before the residuals: row 0 (order ≥ 1) and row 1 (order 2).
  const heads = order < n ? order : n;
  for (let h = 0; h < heads; h++) {
    if (row == stop) {
      keep(cur, c, sum, lo, hi);
      run++;
      stop = load<i32>(runEnds + (<usize>run << 2));
      cur = load<i32>(runSlots + (<usize>run << 2));
      c = countOf(cur);
      sum = sumOf(cur);
      lo = minOf(cur);
      hi = maxOf(cur);
    }
    const x = scaled(h == 0 ? prev : (prev += delta), scale, is32);
    c++;
    sum += x;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
    row++;
  }
  const residuals = n > order ? n - order : 0;
  for (let b = 0; b < residuals; b += BLOCK) {
    const width = <i32>load<u8>(src++);
    if (width > 64) return -2;
    const len = min(BLOCK, residuals - b);
    const mask = width >= 64 ? <u64>-1 : ((<u64>1 << <u64>width) - 1);
    let bit: usize = 0;
    let i = 0;
    while (i < len) {
      if (row == stop) {
        keep(cur, c, sum, lo, hi);
        run++;
        stop = load<i32>(runEnds + (<usize>run << 2));
        cur = load<i32>(runSlots + (<usize>run << 2));
        c = countOf(cur);
        sum = sumOf(cur);
        lo = minOf(cur);
        hi = maxOf(cur);
      }
      // The part of this block inside the current run.
      let end = i + (stop - row);
      if (end > len) end = len;
      row += end - i;
      c += end - i;
      if (width > 56) {
        for (; i < end; i++) {
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
        for (; i < end; i++) {
          const r = (load<u64>(src + (bit >> 3)) >>> <u64>(bit & 7)) & mask;
          bit += <usize>width;
          const x = scaled(first + <i64>r, scale, is32);
          sum += x;
          if (x < lo) lo = x;
          if (x > hi) hi = x;
        }
      } else if (order == 1) {
        for (; i < end; i++) {
          const r = (load<u64>(src + (bit >> 3)) >>> <u64>(bit & 7)) & mask;
          bit += <usize>width;
          const x = scaled((prev += unzigzag(r)), scale, is32);
          sum += x;
          if (x < lo) lo = x;
          if (x > hi) hi = x;
        }
      } else {
        for (; i < end; i++) {
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
  keep(cur, c, sum, lo, hi);
  return <i32>(src - src0);
}
