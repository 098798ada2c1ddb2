/**
 * @module int-stream
 * Integer streams: one codec byte, then CONSTANT, PACK, RLE or DICT (format in
 * docs/design/columnstore-codecs.md). Every integer-like column (timestamps, int64/32/16, booleans,
 * dictionary ids, decimal mantissas) ends up here as i64 values.
 *
 * PACK = differencing of order 0 (frame of reference: v − min), 1 (delta) or 2 (delta-of-delta),
 * zig-zag for orders 1–2, then bit-packing in 128-value blocks with one width byte per block.
 * The encoder picks the order with the smallest size (ties go to the lower order).
 * Arithmetic wraps modulo 2^64, so INT64_MIN/MAX and any delta round-trip exactly.
 */
import {
  BLOCK, bitWidth, packBits, packedBytes, readBits, readVarint, unzigzag, varintEnd, varintLength, writeVarint,
  zigzag,
} from './bitpack';
import { scratch1, scratch2, scratch3, table } from './memory';

export const CODEC_CONSTANT: u8 = 1;
export const CODEC_PACK: u8 = 2;
export const CODEC_RLE: u8 = 3;
export const CODEC_DICT: u8 = 4;

/** DICT is tried only on streams of at least this many values with at most DICT_MAX distinct ones. */
const DICT_MIN_VALUES: i32 = 16;
const DICT_MAX: i32 = 256;
const TABLE_BITS: u64 = 10;
const TABLE_SLOTS: i32 = 1 << <i32>TABLE_BITS;

@inline function at(p: usize, i: i32): i64 {
  return load<i64>(p + (<usize>i << 3));
}

/** The i-th residual of order `order` (i counts residuals, not values). */
@inline function residual(src: usize, i: i32, order: i32, base: i64): u64 {
  if (order == 0) return <u64>(at(src, i) - base);
  if (order == 1) return zigzag(at(src, i + 1) - at(src, i));
  return zigzag(at(src, i + 2) - 2 * at(src, i + 1) + at(src, i));
}

function minOf(src: usize, n: i32): i64 {
  let m = at(src, 0);
  for (let i = 1; i < n; i++) {
    const v = at(src, i);
    if (v < m) m = v;
  }
  return m;
}

function headerBytes(src: usize, n: i32, order: i32): i32 {
  if (order < 2 || n < 2) return 1 + 8;
  return 1 + 8 + varintLength(zigzag(at(src, 1) - at(src, 0)));
}

/** Size in bytes of PACK with the given order (without the codec byte). */
function orderSize(src: usize, n: i32, order: i32, base: i64): i32 {
  const count = n > order ? n - order : 0;
  let size = headerBytes(src, n, order);
  for (let b = 0; b < count; b += BLOCK) {
    const end = min(b + BLOCK, count);
    let bits: u64 = 0;
    for (let i = b; i < end; i++) bits |= residual(src, i, order, base);
    size += 1 + packedBytes(end - b, bitWidth(bits));
  }
  return size;
}

/** Order chosen by the last `packSize` call. */
let bestOrder: i32 = 0;

/** Smallest PACK size over orders 0–2 (sets `bestOrder`). */
export function packSize(src: usize, n: i32): i32 {
  const base = minOf(src, n);
  let best = orderSize(src, n, 0, base);
  bestOrder = 0;
  for (let order = 1; order <= 2; order++) {
    const size = orderSize(src, n, order, base);
    if (size < best) {
      best = size;
      bestOrder = order;
    }
  }
  return best;
}

/**
 * Writes PACK (no codec byte) for n ≥ 1 values; returns the pointer after it. `order` is the one
 * `packSize` chose for these values, or −1 to choose it here.
 */
export function packWrite(src: usize, n: i32, dst: usize, order: i32 = -1): usize {
  if (order < 0) {
    packSize(src, n);
    order = bestOrder;
  }
  const base = minOf(src, n);
  store<u8>(dst++, <u8>order);
  store<i64>(dst, order == 0 ? base : at(src, 0));
  dst += 8;
  if (order == 2 && n >= 2) dst = writeVarint(dst, zigzag(at(src, 1) - at(src, 0)));
  const count = n > order ? n - order : 0;
  const res = scratch1;
  for (let i = 0; i < count; i++) store<u64>(res + (<usize>i << 3), residual(src, i, order, base));
  for (let b = 0; b < count; b += BLOCK) {
    const len = min(BLOCK, count - b);
    const p = res + (<usize>b << 3);
    let bits: u64 = 0;
    for (let i = 0; i < len; i++) bits |= load<u64>(p + (<usize>i << 3));
    const width = bitWidth(bits);
    store<u8>(dst++, <u8>width);
    dst = packBits(p, len, width, dst);
  }
  return dst;
}

/** Output of the readers: i64 slots, or m / scale as f64 slots or f32 slots (decimal floats). */
export const OUT_I64: i32 = 0;
export const OUT_F64: i32 = 1;
export const OUT_F32: i32 = 2;

@inline function emit(dst: usize, i: i32, v: i64, mode: i32, scale: f64): void {
  if (mode == OUT_I64) store<i64>(dst + (<usize>i << 3), v);
  else if (mode == OUT_F64) store<f64>(dst + (<usize>i << 3), <f64>v / scale);
  else store<f32>(dst + (<usize>i << 2), <f32>(<f64>v / scale));
}

/** Converts n i64 slots in place per `mode` (f32 slots never overtake the i64 slot being read). */
export function convert(dst: usize, n: i32, mode: i32, scale: f64): void {
  if (mode == OUT_I64) return;
  for (let i = 0; i < n; i++) emit(dst, i, load<i64>(dst + (<usize>i << 3)), mode, scale);
}

/**
 * Reads PACK (no codec byte) into n values at dst; returns the pointer after it, or 0 if malformed.
 * One pass per block: unpack, undo the differencing and convert without intermediate stores.
 */
export function packRead(src: usize, n: i32, dst: usize, mode: i32 = OUT_I64, scale: f64 = 1): usize {
  const order = <i32>load<u8>(src++);
  if (order > 2) return 0;
  const first = load<i64>(src);
  src += 8;
  let prev = first;
  let delta: i64 = 0;
  if (order == 2 && n >= 2) {
    delta = unzigzag(readVarint(src));
    src = varintEnd;
  }
  if (order >= 1 && n >= 1) emit(dst, 0, prev, mode, scale);
  if (order == 2 && n >= 2) emit(dst, 1, (prev += delta), mode, scale);
  const count = n > order ? n - order : 0;
  for (let b = 0; b < count; b += BLOCK) {
    const width = <i32>load<u8>(src++);
    if (width > 64) return 0;
    const len = min(BLOCK, count - b);
    const mask = width >= 64 ? <u64>-1 : ((<u64>1 << <u64>width) - 1);
    let bit: usize = 0;
    let i = b + order;
    const end = i + len;
    if (width > 56) {
      for (; i < end; i++) {
        const r = readBits(src, bit, width);
        bit += <usize>width;
        if (order == 0) emit(dst, i, first + <i64>r, mode, scale);
        else {
          if (order == 2) delta += unzigzag(r);
          else delta = unzigzag(r);
          emit(dst, i, (prev += delta), mode, scale);
        }
      }
    } else if (order == 0) {
      for (; i < end; i++) {
        const r = (load<u64>(src + (bit >> 3)) >>> <u64>(bit & 7)) & mask;
        bit += <usize>width;
        emit(dst, i, first + <i64>r, mode, scale);
      }
    } else if (order == 1) {
      for (; i < end; i++) {
        const r = (load<u64>(src + (bit >> 3)) >>> <u64>(bit & 7)) & mask;
        bit += <usize>width;
        emit(dst, i, (prev += unzigzag(r)), mode, scale);
      }
    } else {
      for (; i < end; i++) {
        const r = (load<u64>(src + (bit >> 3)) >>> <u64>(bit & 7)) & mask;
        bit += <usize>width;
        delta += unzigzag(r);
        emit(dst, i, (prev += delta), mode, scale);
      }
    }
    src += <usize>packedBytes(len, width);
  }
  return src;
}

/** Splits into runs: values to `vals`, lengths − 1 to `lens`; returns the run count. */
function runs(src: usize, n: i32, vals: usize, lens: usize): i32 {
  let r = 0;
  let start = 0;
  for (let i = 1; i <= n; i++) {
    if (i == n || at(src, i) != at(src, start)) {
      store<i64>(vals + (<usize>r << 3), at(src, start));
      store<i64>(lens + (<usize>r << 3), i - start - 1);
      r++;
      start = i;
    }
  }
  return r;
}

function countRuns(src: usize, n: i32): i32 {
  let r = 1;
  for (let i = 1; i < n; i++) if (at(src, i) != at(src, i - 1)) r++;
  return r;
}

/**
 * Builds a dictionary in first-occurrence order: values to `vals`, ids to `ids`.
 * Returns the number of distinct values, or −1 past DICT_MAX.
 */
function buildDict(src: usize, n: i32, vals: usize, ids: usize): i32 {
  const keys = table;
  const slots = table + (<usize>TABLE_SLOTS << 3);
  memory.fill(slots, 0xff, <usize>TABLE_SLOTS << 2);
  let d = 0;
  for (let i = 0; i < n; i++) {
    const v = at(src, i);
    let h = <i32>((<u64>v * 0x9e3779b97f4a7c15) >>> (64 - TABLE_BITS));
    let id = -1;
    while (true) {
      const s = load<i32>(slots + (<usize>h << 2));
      if (s < 0) break;
      if (load<i64>(keys + (<usize>h << 3)) == v) {
        id = s;
        break;
      }
      h = (h + 1) & (TABLE_SLOTS - 1);
    }
    if (id < 0) {
      if (d == DICT_MAX) return -1;
      id = d++;
      store<i32>(slots + (<usize>h << 2), id);
      store<i64>(keys + (<usize>h << 3), v);
      store<i64>(vals + (<usize>id << 3), v);
    }
    store<i64>(ids + (<usize>i << 3), id);
  }
  return d;
}

/** Encodes n ≥ 1 i64s at src as an integer stream (codec byte first); returns the pointer after it. */
export function writeIntStream(src: usize, n: i32, dst: usize): usize {
  const nRuns = countRuns(src, n);
  if (nRuns == 1) {
    store<u8>(dst, CODEC_CONSTANT);
    return writeVarint(dst + 1, zigzag(at(src, 0)));
  }
  let codec = CODEC_PACK;
  let best = packSize(src, n);
  const order = bestOrder;
  if (nRuns * 2 <= n) {
    runs(src, n, scratch2, scratch3);
    const size = varintLength(nRuns) + packSize(scratch2, nRuns) + packSize(scratch3, nRuns);
    if (size < best) {
      best = size;
      codec = CODEC_RLE;
    }
  }
  let d = -1;
  if (n >= DICT_MIN_VALUES) {
    d = buildDict(src, n, scratch2, scratch3);
    if (d > 0) {
      const size = varintLength(d) + packSize(scratch2, d) + packSize(scratch3, n);
      if (size < best) {
        best = size;
        codec = CODEC_DICT;
      }
    }
  }
  store<u8>(dst++, codec);
  if (codec == CODEC_PACK) return packWrite(src, n, dst, order);
  if (codec == CODEC_RLE) {
    runs(src, n, scratch2, scratch3);
    dst = writeVarint(dst, nRuns);
    dst = packWrite(scratch2, nRuns, dst);
    return packWrite(scratch3, nRuns, dst);
  }
  // DICT: scratch2/scratch3 still hold the dictionary from buildDict (RLE was not chosen after it).
  dst = writeVarint(dst, d);
  dst = packWrite(scratch2, d, dst);
  return packWrite(scratch3, n, dst);
}

/**
 * Decodes an integer stream of n values to dst (i64 slots, or scaled floats per `mode`); returns the
 * pointer after it, or 0 if malformed.
 */
export function readIntStream(src: usize, n: i32, dst: usize, mode: i32 = OUT_I64, scale: f64 = 1): usize {
  const codec = load<u8>(src++);
  if (codec == CODEC_PACK) return packRead(src, n, dst, mode, scale);
  const end = readRepeated(codec, src, n, dst);
  if (end != 0) convert(dst, n, mode, scale);
  return end;
}

/**
 * `readIntStream` keeping only the rows `sel` (count u32 row numbers < n, ascending), compacted:
 * slot j of dst holds row sel[j], converted per `mode`. PACK of order 0 (frame of
 * reference: each value stands alone) reads just those values; other streams are decoded whole.
 */
export function readIntStreamAt(src: usize, n: i32, dst: usize, sel: usize, count: i32, mode: i32, scale: f64, full: usize): usize {
  if (load<u8>(src) == CODEC_PACK && load<u8>(src + 1) == 0) return packReadAt0(src + 2, n, dst, sel, count, mode, scale);
  // Other streams are decoded whole into `full` (n slots; dst itself when it has room: in place,
  // slot j is written after row sel[j] ≥ j is read, and later rows lie further on).
  const end = readIntStream(src, n, full);
  if (end == 0) return 0;
  for (let j = 0; j < count; j++) emit(dst, j, at(full, <i32>load<u32>(sel + (<usize>j << 2))), mode, scale);
  return end;
}

/** PACK of order 0 after its order byte, at the rows `sel` only (see readIntStreamAt). */
function packReadAt0(src: usize, n: i32, dst: usize, sel: usize, count: i32, mode: i32, scale: f64): usize {
  const first = load<i64>(src);
  src += 8;
  let j = 0;
  for (let b = 0; b < n; b += BLOCK) {
    const width = <i32>load<u8>(src++);
    if (width > 64) return 0;
    const end = min(b + BLOCK, n);
    const mask = width >= 64 ? <u64>-1 : ((<u64>1 << <u64>width) - 1);
    for (; j < count; j++) {
      const i = <i32>load<u32>(sel + (<usize>j << 2));
      if (i >= end) break;
      const bit = <usize>(i - b) * <usize>width;
      const r = width > 56 ? readBits(src, bit, width) : (load<u64>(src + (bit >> 3)) >>> <u64>(bit & 7)) & mask;
      emit(dst, j, first + <i64>r, mode, scale);
    }
    src += <usize>packedBytes(end - b, width);
  }
  return src;
}

/** CONSTANT, RLE and DICT streams (after the codec byte), as i64 slots. */
function readRepeated(codec: u8, src: usize, n: i32, dst: usize): usize {
  if (codec == CODEC_CONSTANT) {
    const v = unzigzag(readVarint(src));
    for (let i = 0; i < n; i++) store<i64>(dst + (<usize>i << 3), v);
    return varintEnd;
  }
  if (codec == CODEC_RLE) {
    const r64 = readVarint(src);
    if (r64 < 1 || r64 > <u64>n) return 0;
    const r = <i32>r64;
    src = packRead(varintEnd, r, scratch2);
    if (src == 0) return 0;
    src = packRead(src, r, scratch3);
    if (src == 0) return 0;
    let o = 0;
    for (let j = 0; j < r; j++) {
      const len = <u64>at(scratch3, j) + 1;
      if (len > <u64>(n - o)) return 0;
      const v = at(scratch2, j);
      const end = o + <i32>len;
      for (; o < end; o++) store<i64>(dst + (<usize>o << 3), v);
    }
    return o == n ? src : 0;
  }
  if (codec == CODEC_DICT) {
    const d64 = readVarint(src);
    if (d64 < 1 || d64 > <u64>DICT_MAX) return 0;
    const d = <i32>d64;
    src = packRead(varintEnd, d, scratch2);
    if (src == 0) return 0;
    src = packRead(src, n, dst);
    if (src == 0) return 0;
    for (let i = 0; i < n; i++) {
      const id = <u64>at(dst, i);
      if (id >= <u64>d) return 0;
      store<i64>(dst + (<usize>i << 3), at(scratch2, <i32>id));
    }
    return src;
  }
  return 0;
}
