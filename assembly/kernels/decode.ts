/**
 * @module kernels/decode
 * Fused decoding: the codecs' stream readers are compiled into kernels.wasm, so an encoded column
 * body written to the codecs' `bytes` region is decoded straight into the kernels' `times` or
 * `values` region and aggregated there. Decoded values never cross into JavaScript; the host copies
 * only the encoded bytes in (about a third of the decoded size for decimal floats) and the
 * per-slot results out.
 */
import { readFloatStream } from '../codecs/float-stream';
import { readIntStream } from '../codecs/int-stream';
import { bytes } from '../codecs/memory';
import { nulls, times, values } from './memory';

/** Stream kinds of `decodeValues`: float64, float32 bit patterns, integers as i64. */
export const STREAM_F64: i32 = 0;
export const STREAM_F32: i32 = 1;
export const STREAM_I64: i32 = 2;

@inline function isNull(i: i32): bool {
  return ((load<u8>(nulls + (<usize>i >> 3)) >> <u8>(i & 7)) & 1) != 0;
}

/** Decodes the integer stream in `bytes` (n values, no NULLs) into `times`; bytes read, or −1. */
export function decodeTimes(n: i32): i32 {
  const end = readIntStream(bytes, n, times);
  return end == 0 ? -1 : <i32>(end - bytes);
}

/**
 * Decodes the stream in `bytes` (its `nonNull` values) into `values` as elements of `kind`; with
 * NULLs (bitmap in `nulls`) spreads them to their rows, NULL rows holding 0 as the host's scatter
 * does. Returns bytes read, or −1 if the stream is malformed.
 */
export function decodeValues(rows: i32, nonNull: i32, kind: i32, hasNulls: bool): i32 {
  return decodeValuesAt(bytes, rows, nonNull, kind, hasNulls);
}

/** `decodeValues` of the stream at `src`. */
export function decodeValuesAt(src: usize, rows: i32, nonNull: i32, kind: i32, hasNulls: bool): i32 {
  const end = kind == STREAM_I64 ? readIntStream(src, nonNull, values) : readFloatStream(src, nonNull, kind == STREAM_F32, values);
  if (end == 0) return -1;
  if (hasNulls) {
    // Backwards: row i ≥ its compact position j, so nothing is overwritten before it is moved.
    let j = nonNull - 1;
    const shift: usize = kind == STREAM_F32 ? 2 : 3;
    for (let i = rows - 1; i >= 0; i--) {
      const at = values + (<usize>i << shift);
      if (isNull(i)) {
        if (shift == 2) store<u32>(at, 0);
        else store<u64>(at, 0);
        continue;
      }
      const from = values + (<usize>j << shift);
      j--;
      if (shift == 2) store<u32>(at, load<u32>(from));
      else store<u64>(at, load<u64>(from));
    }
  }
  return <i32>(end - src);
}
