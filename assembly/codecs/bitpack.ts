/**
 * @module bitpack
 * Shared bit-level primitives: zig-zag, LEB128 varints, LSB-first bit-packing of up to 128 values
 * per block, and a 64-bit-accumulator bit writer/reader (used by Gorilla).
 *
 * Readers load 8 bytes at a time and may touch up to 9 bytes past the last encoded byte: the host
 * keeps at least 16 bytes of slack after every input it places in memory.
 */

/** Values per bit-packed block: 128 measured best for both timestamps and floats (codec_anchors.md §1). */
export const BLOCK: i32 = 128;

@inline export function zigzag(v: i64): u64 {
  return <u64>((v << 1) ^ (v >> 63));
}

@inline export function unzigzag(u: u64): i64 {
  return <i64>(u >>> 1) ^ -(<i64>(u & 1));
}

/** Bits needed for `x` (0 for 0, 64 for values with the top bit set). */
@inline export function bitWidth(x: u64): i32 {
  return 64 - <i32>clz<u64>(x);
}

/** Writes `v` as an unsigned LEB128 varint at `p`; returns the pointer after it. */
export function writeVarint(p: usize, v: u64): usize {
  while (v >= 0x80) {
    store<u8>(p++, <u8>(v | 0x80));
    v >>>= 7;
  }
  store<u8>(p++, <u8>v);
  return p;
}

/** Pointer after the varint read by the last `readVarint` call. */
export let varintEnd: usize = 0;

/** Reads an unsigned LEB128 varint at `p` (sets `varintEnd`). */
export function readVarint(p: usize): u64 {
  let v: u64 = 0;
  let shift: u64 = 0;
  while (true) {
    const b = <u64>load<u8>(p++);
    v |= (b & 0x7f) << shift;
    if (b < 0x80 || shift >= 63) break;
    shift += 7;
  }
  varintEnd = p;
  return v;
}

export function varintLength(v: u64): i32 {
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}

@inline function lowMask(width: i32): u64 {
  return width >= 64 ? <u64>-1 : ((<u64>1 << <u64>width) - 1);
}

/** Packed size in bytes of `n` values of `width` bits. */
@inline export function packedBytes(n: i32, width: i32): i32 {
  return (n * width + 7) >> 3;
}

/**
 * Packs `n` u64 values at `src` (8-byte stride), `width` bits each, LSB-first, to `dst`.
 * Returns the pointer after the last byte; writes exactly `packedBytes(n, width)` bytes.
 */
export function packBits(src: usize, n: i32, width: i32, dst: usize): usize {
  if (width == 0) return dst;
  const mask = lowMask(width);
  bitWriterStart(dst);
  for (let i = 0; i < n; i++) writeBits(load<u64>(src + (<usize>i << 3)) & mask, width);
  return bitWriterEnd();
}

// Bit writer state (module globals: one writer at a time, no allocation).
let wAcc: u64 = 0;
let wUsed: i32 = 0;
let wOut: usize = 0;

export function bitWriterStart(dst: usize): void {
  wAcc = 0;
  wUsed = 0;
  wOut = dst;
}

/** Appends the low `width` (1..64) bits of `v`; bits above `width` must be zero. */
@inline export function writeBits(v: u64, width: i32): void {
  wAcc |= v << <u64>wUsed;
  wUsed += width;
  if (wUsed >= 64) {
    store<u64>(wOut, wAcc);
    wOut += 8;
    wUsed -= 64;
    wAcc = wUsed != 0 ? v >>> <u64>(width - wUsed) : 0;
  }
}

/** Flushes the last partial word; returns the pointer after the last written byte. */
export function bitWriterEnd(): usize {
  while (wUsed > 0) {
    store<u8>(wOut++, <u8>wAcc);
    wAcc >>>= 8;
    wUsed -= 8;
  }
  return wOut;
}

/** Reads `width` (1..64) bits at bit offset `bit` from `base`. */
@inline export function readBits(base: usize, bit: usize, width: i32): u64 {
  const p = base + (bit >> 3);
  const s = <u64>(bit & 7);
  let v = load<u64>(p) >>> s;
  if (<i32>s + width > 64) v |= <u64>load<u8>(p + 8) << (64 - s);
  return v & lowMask(width);
}
