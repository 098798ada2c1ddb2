/**
 * @module codecs
 * Entry point of codecs.wasm. Every export takes and returns i32/usize only (i64 parameters would
 * become BigInt at the JS boundary); values travel through the arena laid out by `layout`.
 *
 * Protocol: call `layout(maxValues)`, read `bytesPtr()`/`valuesPtr()` (they change only when
 * `layout` grows the arena), put the input there, call an encode/decode export.
 */
import { readFloatStream, readFloatStreamAt, writeFloatStream } from './float-stream';
import { OUT_I64, readIntStream, readIntStreamAt, writeIntStream } from './int-stream';
import { bytes, bytesCapacity, capacity, layout as layoutArena, mantissas, selection, values } from './memory';

export function layout(n: i32): i32 {
  layoutArena(n);
  return capacity;
}

export function bytesPtr(): usize {
  return bytes;
}

export function valuesPtr(): usize {
  return values;
}

/** Where the host puts the row numbers for `decodeIntsAt` / `decodeFloatsAt` (room for capacity u32s). */
export function selectionPtr(): usize {
  return selection;
}

/** Size of the bytes region, which ends with read slack for the decoders' 8-byte loads. */
export function bytesSize(): i32 {
  return <i32>bytesCapacity(capacity);
}

/** Element types of the values region, for `widen` and `narrow`. */
const I64: i32 = 0;
const F64: i32 = 1;
const I32: i32 = 2;
const I16: i32 = 3;
const U8: i32 = 4;

/**
 * Converts n elements of `type` packed at the start of the values region to i64 slots, in place
 * (backwards, since slots are at least as wide). Returns −1, or the index of the first float64
 * that is not an integer in [−2^63, 2^63).
 */
export function widen(n: i32, type: i32): i32 {
  if (type == F64) {
    for (let i = 0; i < n; i++) {
      const v = load<f64>(values + (<usize>i << 3));
      if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0 && trunc<f64>(v) == v)) return i;
      store<i64>(values + (<usize>i << 3), <i64>v);
    }
    return -1;
  }
  for (let i = n - 1; i >= 0; i--) {
    let v: i64 = 0;
    if (type == I32) v = <i64>load<i32>(values + (<usize>i << 2));
    else if (type == I16) v = <i64>load<i16>(values + (<usize>i << 1));
    else if (type == U8) v = <i64>load<u8>(values + <usize>i);
    else return -1;
    store<i64>(values + (<usize>i << 3), v);
  }
  return -1;
}

/** Converts n i64 slots to `type` in place (forwards: narrower elements never overtake their source). */
export function narrow(n: i32, type: i32): void {
  if (type == I64) return;
  for (let i = 0; i < n; i++) {
    const v = load<i64>(values + (<usize>i << 3));
    if (type == F64) store<f64>(values + (<usize>i << 3), <f64>v);
    else if (type == I32) store<i32>(values + (<usize>i << 2), <i32>v);
    else if (type == I16) store<i16>(values + (<usize>i << 1), <i16>v);
    else if (type == U8) store<u8>(values + <usize>i, <u8>v);
  }
}

/** Encodes n ≥ 1 i64 slots as an integer stream into the bytes region; returns its length. */
export function encodeInts(n: i32): i32 {
  return <i32>(writeIntStream(values, n, bytes) - bytes);
}

/** Decodes an integer stream of n values from the bytes region; returns bytes read, or −1 if malformed. */
export function decodeInts(n: i32): i32 {
  const end = readIntStream(bytes, n, values);
  return end == 0 ? -1 : <i32>(end - bytes);
}

/** Encodes n ≥ 1 floats (f64, or f32 when is32 ≠ 0) as a float stream; returns its length. */
export function encodeFloats(n: i32, is32: i32): i32 {
  return <i32>(writeFloatStream(values, n, is32 != 0, bytes) - bytes);
}

/** Decodes a float stream of n values; returns bytes read, or −1 if malformed. */
export function decodeFloats(n: i32, is32: i32): i32 {
  const end = readFloatStream(bytes, n, is32 != 0, values);
  return end == 0 ? -1 : <i32>(end - bytes);
}

/**
 * `decodeInts` keeping only the `count` rows listed at selectionPtr (ascending, < n), compacted to
 * the first `count` i64 slots of the values region.
 */
export function decodeIntsAt(n: i32, count: i32): i32 {
  const end = readIntStreamAt(bytes, n, values, selection, count, OUT_I64, 1, values);
  return end == 0 ? -1 : <i32>(end - bytes);
}

/** `decodeFloats` keeping only the `count` rows listed at selectionPtr, compacted as `decodeIntsAt`. */
export function decodeFloatsAt(n: i32, is32: i32, count: i32): i32 {
  const end = readFloatStreamAt(bytes, n, is32 != 0, values, selection, count, values);
  return end == 0 ? -1 : <i32>(end - bytes);
}

/** Up to this many streams per decodeColumnsAt call. */
const MAX_STREAMS: i32 = 256;
/** decodeColumnsAt's table: per stream, four i32s (see there). */
const STREAMS = memory.data(MAX_STREAMS * 16);

export function streamsPtr(): usize {
  return STREAMS;
}

/**
 * Decodes `streams` value streams at the `count` rows listed at selectionPtr, in one call (a scan
 * reads a batch's other columns at the rows its filter kept). Entry i of the table at streamsPtr
 * gives stream i's offset in the bytes region, its value count n and its kind (0 int64, 1 float64,
 * 2 float32); its kept values go to slots [i·count, (i+1)·count) of the values region (float32s
 * packed at the start of theirs), and the bytes it used to the entry's fourth i32. Returns 0, or
 * −(i + 1) for the first stream found malformed. Streams decoded whole use the mantissas region.
 */
export function decodeColumnsAt(streams: i32, count: i32): i32 {
  if (streams > MAX_STREAMS) return -1;
  for (let i = 0; i < streams; i++) {
    const entry = STREAMS + (<usize>i << 4);
    const src = bytes + <usize>load<i32>(entry);
    const n = load<i32>(entry, 4);
    const kind = load<i32>(entry, 8);
    const dst = values + ((<usize>i * <usize>count) << 3);
    const end = kind == 0 ? readIntStreamAt(src, n, dst, selection, count, OUT_I64, 1, mantissas) : readFloatStreamAt(src, n, kind == 2, dst, selection, count, mantissas);
    if (end == 0) return -(i + 1);
    store<i32>(entry, <i32>(end - src), 12);
  }
  return 0;
}

/** Bytes the last `decodeFloatsWhere` read. */
let whereUsed: i32 = 0;

export function whereBytes(): i32 {
  return whereUsed;
}

/**
 * Decodes a float stream of n values and keeps the rows whose value compares with x by `op`
 * (0 <, 1 <=, 2 >, 3 >=; x not NaN) as PostgreSQL orders floats: NaN above everything. The kept
 * row numbers go to the selection region and their values to the first slots of the values region
 * (8-byte slots; float32 at a 4-byte stride). Returns how many, or −1 if the stream is malformed
 * (bytes read: whereBytes).
 */
export function decodeFloatsWhere(n: i32, is32: i32, op: i32, x: f64): i32 {
  const end = readFloatStream(bytes, n, is32 != 0, values);
  if (end == 0) return -1;
  whereUsed = <i32>(end - bytes);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const v = is32 != 0 ? <f64>load<f32>(values + (<usize>i << 2)) : load<f64>(values + (<usize>i << 3));
    const keep = op == 0 ? v < x : op == 1 ? v <= x : op == 2 ? v > x || v != v : v >= x || v != v;
    if (!keep) continue;
    store<u32>(selection + (<usize>count << 2), i);
    // In place: count ≤ i.
    if (is32 != 0) store<u32>(values + (<usize>count << 2), load<u32>(values + (<usize>i << 2)));
    else store<u64>(values + (<usize>count << 3), load<u64>(values + (<usize>i << 3)));
    count++;
  }
  return count;
}
