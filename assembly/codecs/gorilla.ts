/**
 * @module gorilla
 * Gorilla XOR compression of float bit patterns (Pelkonen et al., VLDB 2015), bit-exact for every
 * pattern (NaN payloads, -0.0, subnormals). Bits are written LSB-first so the reader can use one
 * unaligned 64-bit load per field. float32 columns use the same stream over zero-extended 32-bit
 * patterns (their leading-zero count is then always ≥ 32).
 *
 * Per value after the first (raw 64 or 32 bits):
 *   `0`                          XOR with the previous value is zero
 *   `1 0` + bits                 meaningful bits fit the previous window (its length)
 *   `1 1` + lz:6 + (len−1):6 + bits   new window: leading zeros, length
 */
import { bitWriterEnd, bitWriterStart, readBits, writeBits } from './bitpack';

@inline function pattern(src: usize, i: i32, is32: bool): u64 {
  return is32 ? <u64>load<u32>(src + (<usize>i << 2)) : load<u64>(src + (<usize>i << 3));
}

/** Writes n ≥ 1 patterns; returns the pointer after the last byte. */
export function gorillaWrite(src: usize, n: i32, is32: bool, dst: usize): usize {
  bitWriterStart(dst);
  let prev = pattern(src, 0, is32);
  writeBits(prev, is32 ? 32 : 64);
  let prevLz = 64;
  let prevTz = 64;
  for (let i = 1; i < n; i++) {
    const cur = pattern(src, i, is32);
    const x = cur ^ prev;
    prev = cur;
    if (x == 0) {
      writeBits(0, 1);
      continue;
    }
    const lz = <i32>clz<u64>(x);
    const tz = <i32>ctz<u64>(x);
    if (lz >= prevLz && tz >= prevTz) {
      writeBits(1, 2);
      writeBits(x >>> <u64>prevTz, 64 - prevLz - prevTz);
    } else {
      const len = 64 - lz - tz;
      writeBits(3 | (<u64>lz << 2) | (<u64>(len - 1) << 8), 14);
      writeBits(x >>> <u64>tz, len);
      prevLz = lz;
      prevTz = tz;
    }
  }
  return bitWriterEnd();
}

/** Reads n patterns into dst (8- or 4-byte stride); returns the pointer after the input. */
export function gorillaRead(src: usize, n: i32, is32: bool, dst: usize): usize {
  const firstWidth = is32 ? 32 : 64;
  let prev = readBits(src, 0, firstWidth);
  let bit = <usize>firstWidth;
  let lz = 0;
  let len = 64;
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      const control = readBits(src, bit, 2);
      if ((control & 1) == 0) {
        bit += 1;
      } else {
        if ((control & 2) == 0) {
          bit += 2;
        } else {
          const head = readBits(src, bit, 14);
          lz = <i32>((head >>> 2) & 63);
          len = <i32>((head >>> 8) & 63) + 1;
          bit += 14;
        }
        // A malformed header can ask for lz + len > 64; the shift then yields garbage, never a trap.
        prev ^= readBits(src, bit, len) << <u64>(64 - lz - len);
        bit += <usize>len;
      }
    }
    if (is32) store<u32>(dst + (<usize>i << 2), <u32>prev);
    else store<u64>(dst + (<usize>i << 3), prev);
  }
  return src + ((bit + 7) >> 3);
}
