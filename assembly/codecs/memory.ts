/**
 * @module memory
 * One arena above the static data, laid out once per capacity and reused by every call (the stub
 * runtime never frees, and growing memory detaches the host's views, so growth happens only here).
 * The host writes inputs to `bytes` (encoded) or `values` (8-byte slots) and reads results from the
 * same places; the other regions are private scratch.
 */

export let capacity: i32 = 0;
/** Encoded bytes in and out: up to 10 bytes per value (Gorilla's worst case) plus headers and read slack. */
export let bytes: usize = 0;
/** Values, one 8-byte slot each (narrower kinds are packed at the start). */
export let values: usize = 0;
/** Residuals while packing; with scratch2 after it, 16n contiguous bytes for a trial Gorilla stream. */
export let scratch1: usize = 0;
/** RLE run values / dictionary values. */
export let scratch2: usize = 0;
/** RLE run lengths / dictionary ids. */
export let scratch3: usize = 0;
/** Decimal mantissas. */
export let mantissas: usize = 0;
/** Decimal exception positions (u32). */
export let exceptions: usize = 0;
/** Dictionary hash table: 1024 i64 keys, then 1024 i32 ids. */
export let table: usize = 0;
/** Row numbers (u32, ascending) for the decoders that keep only some rows (`decodeFloatsAt`). */
export let selection: usize = 0;
/** First address past the arena (kernels.wasm, which compiles the decoders in, lays its own arena out from here). */
export let end: usize = 0;

@inline function align(p: usize): usize {
  return (p + 15) & ~15;
}

export function bytesCapacity(n: i32): usize {
  return <usize>n * 10 + 1024;
}

/** Lays out the arena for batches of up to n values, growing memory if needed. */
export function layout(n: i32): void {
  if (n <= capacity) return;
  const slots = <usize>n << 3;
  bytes = align(__heap_base);
  values = align(bytes + bytesCapacity(n));
  scratch1 = align(values + slots);
  scratch2 = align(scratch1 + slots);
  scratch3 = align(scratch2 + slots);
  mantissas = align(scratch3 + slots);
  exceptions = align(mantissas + slots);
  table = align(exceptions + (<usize>n << 2));
  selection = align(table + 1024 * 12 + 64);
  end = selection + (<usize>n << 2);
  const pages = <i32>((end + 0xffff) >> 16);
  const have = memory.size();
  if (pages > have && memory.grow(pages - have) < 0) unreachable();
  capacity = n;
}
