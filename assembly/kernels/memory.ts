/**
 * @module kernels/memory
 * The kernels' arena (kernels.wasm has its own memory, separate from codecs.wasm; the codecs'
 * arena is compiled in for the fused decoders and laid out first, below this one): laid out once per
 * capacity and reused by every batch, growing only in `layout`, so the host refreshes its views
 * only after calling it. Row regions hold one batch's decoded columns, slot regions the per-slot
 * (bucket) results; a batch of n rows has at most n slots.
 */

import * as codecs from '../codecs/memory';

export let capacity: i32 = 0;
/** i64 parameters of `bucketize` (lo, hi, width, origin): i64 cannot cross the JS boundary as a number. */
export let params: usize = 0;
/** Row regions. */
export let times: usize = 0;
export let by: usize = 0;
export let values: usize = 0;
export let nulls: usize = 0;
export let byNulls: usize = 0;
export let selection: usize = 0;
export let slots: usize = 0;
/** Slot regions. */
export let slotBucket: usize = 0;
export let slotRows: usize = 0;
export let count: usize = 0;
export let sumA: usize = 0;
export let sumB: usize = 0;
export let minima: usize = 0;
export let maxima: usize = 0;
export let flags: usize = 0;
export let firsts: usize = 0;
export let lasts: usize = 0;
/** Runs of consecutive rows of one slot (`buildRuns`): end row (exclusive) and slot (−1: not kept). */
export let runEnds: usize = 0;
export let runSlots: usize = 0;
/** Bucket → slot hash table: `tableSize` i64 keys, i32 slots, i32 generation stamps. */
export let tableKeys: usize = 0;
export let tableSlots: usize = 0;
export let tableStamps: usize = 0;
export let tableBits: i32 = 0;

@inline function align(p: usize): usize {
  return (p + 15) & ~15;
}

/**
 * Lays out the arena for batches of up to n rows, growing memory if needed: first the codecs'
 * arena (the decoders are compiled into this module, see decode.ts), then the kernels' regions.
 */
export function layout(n: i32): void {
  if (n <= capacity) return;
  codecs.layout(n);
  const rows8 = <usize>n << 3;
  const rows4 = <usize>n << 2;
  const bits = (<usize>(n + 7) >> 3) + 8;
  params = align(codecs.end);
  times = align(params + 64);
  by = align(times + rows8);
  values = align(by + rows8);
  nulls = align(values + rows8);
  byNulls = align(nulls + bits);
  selection = align(byNulls + bits);
  slots = align(selection + bits);
  slotBucket = align(slots + rows4);
  slotRows = align(slotBucket + rows8);
  count = align(slotRows + rows4);
  sumA = align(count + rows4);
  sumB = align(sumA + rows8);
  minima = align(sumB + rows8);
  maxima = align(minima + rows8);
  flags = align(maxima + rows8);
  firsts = align(flags + rows4);
  lasts = align(firsts + rows4);
  // At least twice as many entries as slots keeps probe chains short.
  let b = 4;
  while ((1 << b) < n * 2) b++;
  tableBits = b;
  const size = <usize>1 << b;
  runEnds = align(lasts + rows4);
  runSlots = align(runEnds + rows4);
  tableKeys = align(runSlots + rows4);
  tableSlots = align(tableKeys + (size << 3));
  tableStamps = align(tableSlots + (size << 2));
  const top = tableStamps + (size << 2) + 64;
  grow(top);
  // Fresh pages are zero, so generation 0 never matches a stamp once `generation` starts at 1.
  memory.fill(tableStamps, 0, size << 2);
  capacity = n;
  columns = align(top);
}

function grow(top: usize): void {
  const pages = <i32>((top + 0xffff) >> 16);
  const have = memory.size();
  if (pages > have && memory.grow(pages - have) < 0) unreachable();
}

/**
 * Where the host lays out one batch's value columns for `aggregateColumns` (descriptors, streams,
 * NULL bitmaps, per-column results): above the arena, moved only by `layout`.
 */
export let columns: usize = 0;

/** Makes room for `bytes` at `columns` (growing memory: the host refreshes its views after it). */
export function reserveColumns(bytes: i32): usize {
  grow(columns + <usize>bytes + 64);
  return columns;
}
