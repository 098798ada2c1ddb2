/**
 * @module kernels/columns
 * All the value columns of one batch in one call (after `bucketize` or `uniformSlots`): the host
 * writes each column's encoded stream and NULL bitmap above the arena (`reserveColumns`) with a
 * descriptor, and reads every column's per-slot results from there, so a batch of ten aggregated
 * columns crosses between JavaScript and WebAssembly twice instead of twenty times.
 *
 * Descriptor (8 × i32 per column): stream address, stream length, kind (0 float8, 1 float4 bit
 * patterns, 2 integers as i64: also `aggregate`'s element type), non-NULL values, NULL bitmap
 * address (0: none), results address, then written here: the bytes the decoder read (−1:
 * malformed). Results per column, for k slots: count i32[k], flags i32[k], sumA [k], sumB [k],
 * minima [k], maxima [k] (8-byte elements), as `aggregate` leaves its slot regions.
 */
import { aggregate } from './aggregate';
import { decodeValuesAt } from './decode';
import { buildRuns, clearFloatSlots, decodeAggregateRuns } from './decode-aggregate';
import { count, flags, maxima, minima, nulls, sumA, sumB, values } from './memory';

export const DESCRIPTOR_BYTES: i32 = 32;

/**
 * Aggregates `ncols` columns described at `desc` over the slots of the last bucketize (n rows,
 * nslots slots). Returns ncols, or the index of the first malformed column (its descriptor's
 * bytes-read word is −1).
 */
export function aggregateColumns(desc: usize, ncols: i32, n: i32, nslots: i32): i32 {
  buildRuns(n);
  for (let c = 0; c < ncols; c++) {
    const d = desc + <usize>c * DESCRIPTOR_BYTES;
    const src = <usize>load<u32>(d);
    const length = load<i32>(d, 4);
    const kind = load<i32>(d, 8);
    const nonNull = load<i32>(d, 12);
    const bitmap = <usize>load<u32>(d, 16);
    const out = <usize>load<u32>(d, 20);
    let used = -2;
    // NULL-free DECIMAL floats: decoded and aggregated in one pass (−2: another shape).
    if (kind <= 1 && bitmap == 0 && nonNull == n) {
      clearFloatSlots(nslots);
      used = decodeAggregateRuns(src, n, kind == 1);
    }
    if (used == -2) {
      if (bitmap != 0) memory.copy(nulls, bitmap, (<usize>n + 7) >> 3);
      if (nonNull == 0) {
        memory.fill(values, 0, <usize>n << 3);
        used = length;
      } else used = decodeValuesAt(src, n, nonNull, kind, bitmap != 0);
      if (used < 0) {
        store<i32>(d, -1, 24);
        return c;
      }
      aggregate(n, nslots, kind, bitmap != 0);
    }
    store<i32>(d, used, 24);
    const k4 = <usize>nslots << 2;
    const k8 = <usize>nslots << 3;
    memory.copy(out, count, k4);
    memory.copy(out + k4, flags, k4);
    memory.copy(out + 2 * k4, sumA, k8);
    memory.copy(out + 2 * k4 + k8, sumB, k8);
    memory.copy(out + 2 * k4 + 2 * k8, minima, k8);
    memory.copy(out + 2 * k4 + 3 * k8, maxima, k8);
  }
  return ncols;
}
