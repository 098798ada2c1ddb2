/**
 * @module kernels/bucketize
 * The first pass over a batch: which rows the query keeps (time range, optional selection bitmap)
 * and which slot each kept row aggregates into. A slot is one distinct time_bucket value of the
 * batch, numbered in order of first appearance; without bucketing every kept row goes to slot 0.
 * Batches are sorted by time in nearly every layout, so the previous row's bucket is tried before
 * the hash table.
 *
 * time_bucket follows TimescaleDB's `TIME_BUCKET_TS` (src/time_bucket.c) for fixed widths:
 * ±infinity come back unchanged; otherwise floor(ts − shift, width) + shift with
 * shift = origin % width, raising "timestamp out of range" as TimescaleDB does.
 */
import {
  params, selection, slotBucket, slotRows, slots, tableBits, tableKeys, tableSlots, tableStamps, times,
} from './memory';

const INT64_MIN: i64 = i64.MIN_VALUE;
const INT64_MAX: i64 = i64.MAX_VALUE;
/** PostgreSQL's valid timestamp range: [MIN_TIMESTAMP, END_TIMESTAMP). */
const MIN_TIMESTAMP: i64 = -211_813_488_000_000_000;
const END_TIMESTAMP: i64 = 9_223_371_331_200_000_000;

/** `bucketize` results below zero: the SQLSTATE the host raises. */
export const SHIFT_OUT_OF_RANGE: i32 = -1; // 22003, time_bucket's "timestamp out of range"
export const RESULT_OUT_OF_RANGE: i32 = -2; // 22008, checkTimestampRange

let generation: i32 = 0;

@inline function bit(base: usize, i: i32): bool {
  return ((load<u8>(base + (<usize>i >> 3)) >> <u8>(i & 7)) & 1) != 0;
}

@inline function hash(key: i64): usize {
  return <usize>((<u64>key * 0x9E3779B97F4A7C15) >> <u64>(64 - tableBits));
}

/** The slot of `bucket`, creating it if new. */
function slotOf(bucket: i64, next: i32): i32 {
  const mask = (<usize>1 << tableBits) - 1;
  let h = hash(bucket);
  while (true) {
    if (load<i32>(tableStamps + (h << 2)) != generation) {
      store<i32>(tableStamps + (h << 2), generation);
      store<i64>(tableKeys + (h << 3), bucket);
      store<i32>(tableSlots + (h << 2), next);
      store<i64>(slotBucket + (<usize>next << 3), bucket);
      store<i32>(slotRows + (<usize>next << 2), 0);
      return next;
    }
    if (load<i64>(tableKeys + (h << 3)) == bucket) return load<i32>(tableSlots + (h << 2));
    h = (h + 1) & mask;
  }
}

/**
 * Rows 0..n−1 of `times`; kept when lo ≤ t ≤ hi (params[0], params[1]) and, if hasSelection, their
 * bit in `selection` is set. With hasBucket, width = params[2] > 0 and origin = params[3].
 * Writes `slots` (−1 = not kept), `slotBucket` and `slotRows` (rows per slot); returns the number of
 * slots, or SHIFT_OUT_OF_RANGE / RESULT_OUT_OF_RANGE.
 */
export function bucketize(n: i32, hasSelection: bool, hasBucket: bool): i32 {
  const lo = load<i64>(params);
  const hi = load<i64>(params, 8);
  const width = load<i64>(params, 16);
  const shift = hasBucket ? load<i64>(params, 24) % width : 0;
  // Stamps of an older generation mark free entries; after 2^32 batches the counter comes back to
  // 0, the value of never-used entries, so the table is cleared then.
  generation++;
  if (generation == 0) {
    memory.fill(tableStamps, 0, (<usize>1 << tableBits) << 2);
    generation = 1;
  }
  let next = 0;
  let lastBucket: i64 = 0;
  let lastSlot = -1;
  let lastFinite = false;
  for (let i = 0; i < n; i++) {
    const t = load<i64>(times + (<usize>i << 3));
    if (t < lo || t > hi || (hasSelection && !bit(selection, i))) {
      store<i32>(slots + (<usize>i << 2), -1);
      continue;
    }
    // Sorted batches put runs of rows in one bucket: a row within [lastBucket, lastBucket + width)
    // of a finite last bucket is in it (unsigned difference: no overflow), without a division.
    if (
      lastFinite && t >= lastBucket && <u64>(t - lastBucket) < <u64>width && t != INT64_MAX &&
      !(shift < 0 && t > INT64_MAX + shift)
    ) {
      store<i32>(slots + (<usize>i << 2), lastSlot);
      const p = slotRows + (<usize>lastSlot << 2);
      store<i32>(p, load<i32>(p) + 1);
      continue;
    }
    let b: i64 = 0;
    if (hasBucket && t != INT64_MIN && t != INT64_MAX) {
      if ((shift > 0 && t < INT64_MIN + shift) || (shift < 0 && t > INT64_MAX + shift)) return SHIFT_OUT_OF_RANGE;
      const u = t - shift;
      const q = (u / width) * width;
      b = (u - q < 0 ? q - width : q) + shift;
      if (b < MIN_TIMESTAMP || b >= END_TIMESTAMP) return RESULT_OUT_OF_RANGE;
    } else if (hasBucket) b = t;
    let s = lastSlot;
    if (s < 0 || b != lastBucket) {
      s = slotOf(b, next);
      if (s == next) next++;
      lastBucket = b;
      lastSlot = s;
      lastFinite = hasBucket && b != INT64_MIN && b != INT64_MAX;
    }
    store<i32>(slots + (<usize>i << 2), s);
    const p = slotRows + (<usize>s << 2);
    store<i32>(p, load<i32>(p) + 1);
  }
  return next;
}
