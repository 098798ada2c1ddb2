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
import { count, flags, maxima, minima, sumA } from './memory';

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
