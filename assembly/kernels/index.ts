/**
 * @module kernels
 * Entry point of kernels.wasm: aggregation over one decoded batch at a time. Exports take and
 * return i32 only; columns and i64 parameters travel through the arena (memory.ts).
 *
 * Protocol per batch: `layout(rows)` (then refresh views if it grew), write the time column to
 * `times` and the range/bucket to `params`, call `bucketize`; then, for each value column, write
 * it to `values`/`nulls` and call `aggregate`, reading the slot regions; for first/last write the
 * ordering column to `by`/`byNulls` and call `firstLast`.
 * Fused alternative for encoded columns: write the stream to `bytesPtr()` and call `decodeTimes`
 * (before `bucketize`) or `decodeValues` (before `aggregate`), which fill `times` / `values`; or,
 * after `bucketize`, every value column at once: streams and descriptors at `reserveColumns()`,
 * then `aggregateColumns` (columns.ts).
 */
import { aggregate as aggregateColumn, firstLast as firstLastColumn, uniformSlots as uniformSlotsOf } from './aggregate';
import { bucketize as bucketizeRows } from './bucketize';
import { decodeTimes as decodeTimesStream, decodeValues as decodeValuesStream } from './decode';
import { aggregateColumns as aggregateColumnsOf } from './columns';
import { clearFloatSlots, decodeAggregateRuns } from './decode-aggregate';
import * as codecsArena from '../codecs/memory';
import * as arena from './memory';

export function layout(n: i32): i32 {
  arena.layout(n);
  return arena.capacity;
}

/**
 * Addresses of the arena's regions, in this order: params, times, by, values, nulls, byNulls,
 * selection, slots, slotBucket, slotRows, count, sumA, sumB, minima, maxima, flags, firsts, lasts.
 */
export function region(i: i32): usize {
  switch (i) {
    case 0: return arena.params;
    case 1: return arena.times;
    case 2: return arena.by;
    case 3: return arena.values;
    case 4: return arena.nulls;
    case 5: return arena.byNulls;
    case 6: return arena.selection;
    case 7: return arena.slots;
    case 8: return arena.slotBucket;
    case 9: return arena.slotRows;
    case 10: return arena.count;
    case 11: return arena.sumA;
    case 12: return arena.sumB;
    case 13: return arena.minima;
    case 14: return arena.maxima;
    case 15: return arena.flags;
    case 16: return arena.firsts;
    case 17: return arena.lasts;
    default: return 0;
  }
}

export function bucketize(n: i32, hasSelection: i32, hasBucket: i32): i32 {
  return bucketizeRows(n, hasSelection != 0, hasBucket != 0);
}

export function aggregate(n: i32, nslots: i32, type: i32, hasNulls: i32): void {
  aggregateColumn(n, nslots, type, hasNulls != 0);
}

export function firstLast(n: i32, nslots: i32, hasNulls: i32): void {
  firstLastColumn(n, nslots, hasNulls != 0);
}

/** Where the host writes an encoded stream for `decodeTimes` / `decodeValues` (changes only in `layout`). */
export function bytesPtr(): usize {
  return codecsArena.bytes;
}

/** Room in the bytes region for a stream (the rest is the decoders' read slack). */
export function bytesRoom(): i32 {
  return <i32>codecsArena.bytesCapacity(arena.capacity) - 16;
}

export function decodeTimes(n: i32): i32 {
  return decodeTimesStream(n);
}

export function decodeValues(rows: i32, nonNull: i32, kind: i32, hasNulls: i32): i32 {
  return decodeValuesStream(rows, nonNull, kind, hasNulls != 0);
}

/** Instead of `bucketize` when every row is kept in one slot (bucket 0); returns the slot count. */
export function uniformSlots(n: i32): i32 {
  return uniformSlotsOf(n);
}

/**
 * Instead of `decodeValues` + `aggregate` for a NULL-free float column (kind 0 or 1) whose rows are
 * all in slot 0: one pass; −2 when the stream is not DECIMAL over PACK without exceptions.
 */
export function decodeAggregateUniform(n: i32, kind: i32): i32 {
  if (n < 1) return -2;
  store<i32>(arena.runEnds, n);
  store<i32>(arena.runSlots, 0);
  clearFloatSlots(1);
  return decodeAggregateRuns(codecsArena.bytes, n, kind == 1);
}

/** Where the host lays out `aggregateColumns`' input (at least `bytes`); moved only by `layout`. */
export function reserveColumns(bytes: i32): usize {
  return arena.reserveColumns(bytes);
}

/**
 * Every value column of the batch in one call (kernels/columns.ts): `ncols` descriptors at `desc`.
 * Returns ncols, or the index of the first malformed column.
 */
export function aggregateColumns(desc: usize, ncols: i32, n: i32, nslots: i32): i32 {
  return aggregateColumnsOf(desc, ncols, n, nslots);
}
