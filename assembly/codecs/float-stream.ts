/**
 * @module float-stream
 * Float streams (float64, or float32 bit patterns): one codec byte, then CONSTANT (raw bits),
 * DECIMAL or GORILLA.
 *
 * DECIMAL recognises values with k fixed decimals as integers m = v·10^k, stored as an integer
 * stream; it decodes as m / 10^k (division is correctly rounded, multiplying by 10^-k is not).
 * A value is accepted only if that decode gives back its exact bit pattern, so -0.0, NaN, ±Inf and
 * |m| ≥ 2^53 never pass; up to n/16 such values are kept as exceptions (position + raw bits, the
 * mantissa slot repeating its neighbour), more send the batch to Gorilla.
 * k is picked on a sample of ≤ ~64 values: the smallest k at which ≥ 15/16 of them pass, if ≥ 7/8
 * of them pass at some k ≤ 18. A DECIMAL stream above 4 B/value is compared with Gorilla and the
 * smaller one kept (full-precision values below ~90 fit 2^53 at k = 14 and pack worse than XOR).
 */
import { readVarint, varintEnd, writeVarint } from './bitpack';
import { gorillaRead, gorillaWrite } from './gorilla';
import { CODEC_CONSTANT, OUT_F32, OUT_F64, readIntStream, readIntStreamAt, writeIntStream } from './int-stream';
import { exceptions, mantissas, scratch1 } from './memory';

export const CODEC_DECIMAL: u8 = 5;
export const CODEC_GORILLA: u8 = 6;

export const MAX_K: i32 = 18;
const TWO_53: f64 = 9007199254740992.0;
const POW10 = memory.data<f64>([
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
]);

/** 10^k for 0 ≤ k ≤ MAX_K (exact in f64). */
@inline export function pow10(k: i32): f64 {
  return load<f64>(POW10 + (<usize>k << 3));
}

@inline function bitsAt(src: usize, i: i32, is32: bool): u64 {
  return is32 ? <u64>load<u32>(src + (<usize>i << 2)) : load<u64>(src + (<usize>i << 3));
}

@inline function valueAt(src: usize, i: i32, is32: bool): f64 {
  return is32 ? <f64>load<f32>(src + (<usize>i << 2)) : load<f64>(src + (<usize>i << 3));
}

/** m / 10^k in the column's precision, as a bit pattern. */
@inline function scaledBits(m: i64, p: f64, is32: bool): u64 {
  const x = <f64>m / p;
  return is32 ? <u64>reinterpret<u32>(<f32>x) : reinterpret<u64>(x);
}

/** Mantissa of value i at scale p if it round-trips bit-exactly, else `NONE`. */
const NONE: i64 = i64.MIN_VALUE;
@inline function mantissa(src: usize, i: i32, p: f64, is32: bool): i64 {
  const m = nearest<f64>(valueAt(src, i, is32) * p);
  if (!(abs<f64>(m) < TWO_53)) return NONE;
  const mi = <i64>m;
  return scaledBits(mi, p, is32) == bitsAt(src, i, is32) ? mi : NONE;
}

/** The scale for n ≥ 1 values, or −1 when the batch does not look decimal. */
function chooseK(src: usize, n: i32, is32: bool): i32 {
  const counts = memory.data(4 * (MAX_K + 2));
  memory.fill(counts, 0, 4 * (MAX_K + 2));
  const stride = max(1, n >> 6);
  let samples = 0;
  for (let i = 0; i < n; i += stride) {
    let k = 0;
    while (k <= MAX_K && mantissa(src, i, pow10(k), is32) == NONE) k++;
    store<i32>(counts + (<usize>k << 2), load<i32>(counts + (<usize>k << 2)) + 1);
    samples++;
  }
  if (load<i32>(counts + (<usize>(MAX_K + 1) << 2)) * 8 > samples) return -1;
  let passed = 0;
  for (let k = 0; k <= MAX_K; k++) {
    passed += load<i32>(counts + (<usize>k << 2));
    if ((samples - passed) * 16 <= samples) return k;
  }
  return -1;
}

/**
 * Writes exceptions then the mantissa stream, or returns 0 if there are more than n/16 exceptions.
 */
function decimalWrite(src: usize, n: i32, is32: bool, k: i32, dst: usize): usize {
  const p = pow10(k);
  let fill: i64 = NONE;
  for (let i = 0; i < n && fill == NONE; i++) fill = mantissa(src, i, p, is32);
  if (fill == NONE) return 0;
  let e = 0;
  for (let i = 0; i < n; i++) {
    const m = mantissa(src, i, p, is32);
    if (m == NONE) {
      if ((e + 1) * 16 > n) return 0;
      store<u32>(exceptions + (<usize>e << 2), i);
      e++;
    } else {
      fill = m;
    }
    store<i64>(mantissas + (<usize>i << 3), fill);
  }
  store<u8>(dst++, <u8>k);
  dst = writeVarint(dst, e);
  let prev = -1;
  for (let j = 0; j < e; j++) {
    const i = <i32>load<u32>(exceptions + (<usize>j << 2));
    dst = writeVarint(dst, i - prev - 1);
    prev = i;
    if (is32) {
      store<u32>(dst, load<u32>(src + (<usize>i << 2)));
      dst += 4;
    } else {
      store<u64>(dst, load<u64>(src + (<usize>i << 3)));
      dst += 8;
    }
  }
  return writeIntStream(mantissas, n, dst);
}

/** Encodes n ≥ 1 floats (f64, or f32 when is32) at src; returns the pointer after the stream. */
export function writeFloatStream(src: usize, n: i32, is32: bool, dst: usize): usize {
  const first = bitsAt(src, 0, is32);
  let constant = true;
  for (let i = 1; i < n && constant; i++) constant = bitsAt(src, i, is32) == first;
  if (constant) {
    store<u8>(dst++, CODEC_CONSTANT);
    if (is32) store<u32>(dst, <u32>first);
    else store<u64>(dst, first);
    return dst + (is32 ? 4 : 8);
  }
  const k = chooseK(src, n, is32);
  if (k >= 0) {
    const end = decimalWrite(src, n, is32, k, dst + 1);
    if (end != 0) {
      // Above 4 B/value the digits are probably noise (full-precision values that happen to fit
      // 2^53 at a large k): keep whichever of DECIMAL and Gorilla is smaller. Gorilla goes to the
      // scratch regions (16n contiguous bytes ≥ its worst case) so the DECIMAL bytes survive.
      if (end - dst > <usize>n * 4) {
        const gorillaLength = gorillaWrite(src, n, is32, scratch1) - scratch1;
        if (gorillaLength < end - dst - 1) {
          store<u8>(dst, CODEC_GORILLA);
          memory.copy(dst + 1, scratch1, gorillaLength);
          return dst + 1 + gorillaLength;
        }
      }
      store<u8>(dst, CODEC_DECIMAL);
      return end;
    }
  }
  store<u8>(dst, CODEC_GORILLA);
  return gorillaWrite(src, n, is32, dst + 1);
}

/** Set by `decimalHead`: the scale and the exception count and list of a DECIMAL stream. */
let headK: i32 = 0;
let headE: i32 = 0;
let headList: usize = 0;

/** Reads a DECIMAL stream's head (after the codec byte); returns where its mantissas start, 0 if malformed. */
function decimalHead(src: usize, n: i32, is32: bool): usize {
  const k = <i32>load<u8>(src++);
  if (k > MAX_K) return 0;
  const e64 = readVarint(src);
  if (e64 > <u64>n) return 0;
  const e = <i32>e64;
  const list = varintEnd;
  // Skip the exception list; it is applied after the mantissas are scaled.
  src = list;
  for (let j = 0; j < e; j++) {
    readVarint(src);
    src = varintEnd + (is32 ? 4 : 8);
  }
  headK = k;
  headE = e;
  headList = list;
  return src;
}

/**
 * Writes a DECIMAL stream's exceptions (raw bits) over the scaled mantissas at dst: at their rows,
 * or with `count` ≥ 0 at the slots of the rows kept (`sel`, ascending; slot j holds row sel[j]).
 * False if the list is malformed.
 */
function applyExceptions(n: i32, is32: bool, dst: usize, sel: usize, count: i32): bool {
  let q = headList;
  let i = -1;
  let j = 0;
  for (let x = 0; x < headE; x++) {
    const gap = readVarint(q);
    q = varintEnd;
    if (gap >= <u64>n) return false;
    i += <i32>gap + 1;
    if (i >= n) return false;
    let slot = i;
    if (count >= 0) {
      while (j < count && <i32>load<u32>(sel + (<usize>j << 2)) < i) j++;
      slot = j < count && <i32>load<u32>(sel + (<usize>j << 2)) == i ? j : -1;
    }
    if (slot >= 0) {
      if (is32) store<u32>(dst + (<usize>slot << 2), load<u32>(q));
      else store<u64>(dst + (<usize>slot << 3), load<u64>(q));
    }
    q += is32 ? 4 : 8;
  }
  return true;
}

/** Decodes n floats into dst (8- or 4-byte stride); returns the pointer after the stream, 0 if malformed. */
export function readFloatStream(src: usize, n: i32, is32: bool, dst: usize): usize {
  const codec = load<u8>(src++);
  if (codec == CODEC_CONSTANT) {
    if (is32) {
      const v = load<u32>(src);
      for (let i = 0; i < n; i++) store<u32>(dst + (<usize>i << 2), v);
      return src + 4;
    }
    const v = load<u64>(src);
    for (let i = 0; i < n; i++) store<u64>(dst + (<usize>i << 3), v);
    return src + 8;
  }
  if (codec == CODEC_GORILLA) return gorillaRead(src, n, is32, dst);
  if (codec != CODEC_DECIMAL) return 0;
  src = decimalHead(src, n, is32);
  if (src == 0) return 0;
  src = readIntStream(src, n, dst, is32 ? OUT_F32 : OUT_F64, pow10(headK));
  if (src == 0 || !applyExceptions(n, is32, dst, 0, -1)) return 0;
  return src;
}

/**
 * `readFloatStream` keeping only the rows `sel` (count u32 row numbers < n, ascending), compacted:
 * slot j of dst holds row sel[j]. A DECIMAL stream reads and divides only the kept mantissas when
 * they are packed by frame of reference (readIntStreamAt); other streams are decoded whole into
 * `full` (n 8-byte slots; dst itself when it has that room) first.
 */
export function readFloatStreamAt(src: usize, n: i32, is32: bool, dst: usize, sel: usize, count: i32, full: usize): usize {
  if (load<u8>(src) != CODEC_DECIMAL) {
    const end = readFloatStream(src, n, is32, full);
    if (end != 0) gatherSlots(dst, full, sel, count, is32 ? 2 : 3);
    return end;
  }
  src = decimalHead(src + 1, n, is32);
  if (src == 0) return 0;
  src = readIntStreamAt(src, n, dst, sel, count, is32 ? OUT_F32 : OUT_F64, pow10(headK), full);
  if (src == 0) return 0;
  return applyExceptions(n, is32, dst, sel, count) ? src : 0;
}

/** Slot j of dst = slot sel[j] of src for j < count (slots of 2^shift bytes; in place when dst = src, sel ascending). */
export function gatherSlots(dst: usize, src: usize, sel: usize, count: i32, shift: i32): void {
  if (shift == 3) {
    for (let j = 0; j < count; j++) store<u64>(dst + (<usize>j << 3), load<u64>(src + (<usize>load<u32>(sel + (<usize>j << 2)) << 3)));
  } else {
    for (let j = 0; j < count; j++) store<u32>(dst + (<usize>j << 2), load<u32>(src + (<usize>load<u32>(sel + (<usize>j << 2)) << 2)));
  }
}
