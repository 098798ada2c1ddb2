/**
 * @module columnstore/codecs/reference/bits
 * Reference bit-level primitives (mirrors assembly/codecs/bitpack.ts): values are BigInts holding
 * u64 or i64, and every operation wraps modulo 2^64 exactly as the WebAssembly does.
 */
import { corrupt, type ByteReader, type ByteWriter } from '../format.js';

export const BLOCK = 128;

export const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
export const i64 = (v: bigint): bigint => BigInt.asIntN(64, v);

export function zigzag(v: bigint): bigint {
  return u64((v << 1n) ^ (v >> 63n));
}

export function unzigzag(u: bigint): bigint {
  return i64((u >> 1n) ^ -(u & 1n));
}

export function bitWidth(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

export function varintLength(v: bigint): number {
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

export function packedBytes(n: number, width: number): number {
  return (n * width + 7) >> 3;
}

/** LSB-first bit writer appending whole bytes to a ByteWriter. */
export class BitWriter {
  private acc = 0n;
  private used = 0;

  constructor(private readonly out: ByteWriter) {}

  /** Appends the low `width` bits of `v` (bits above `width` must be zero). */
  write(v: bigint, width: number): void {
    this.acc |= v << BigInt(this.used);
    this.used += width;
    while (this.used >= 8) {
      this.out.byte(Number(this.acc & 0xffn));
      this.acc >>= 8n;
      this.used -= 8;
    }
  }

  /** Writes the last partial byte. */
  end(): void {
    if (this.used > 0) this.out.byte(Number(this.acc));
    this.acc = 0n;
    this.used = 0;
  }
}

/** Reads `width` bits at bit offset `bit` from `buf` starting at byte `base`. */
export function readBits(buf: Uint8Array, base: number, bit: number, width: number): bigint {
  const first = base + (bit >> 3);
  const last = base + ((bit + width - 1) >> 3);
  if (last >= buf.length) throw corrupt('truncated bit stream');
  let v = 0n;
  for (let p = last; p >= first; p--) v = (v << 8n) | BigInt(buf[p]!);
  return (v >> BigInt(bit & 7)) & ((1n << BigInt(width)) - 1n);
}

/** Packs u64 values with `width` bits each, LSB-first. */
export function packBits(values: readonly bigint[], width: number, out: ByteWriter): void {
  if (width === 0) return;
  const w = new BitWriter(out);
  const mask = (1n << BigInt(width)) - 1n;
  for (const v of values) w.write(v & mask, width);
  w.end();
}

/** Unpacks `n` values of `width` bits at the reader's position. */
export function unpackBits(r: ByteReader, n: number, width: number): bigint[] {
  if (width === 0) return new Array<bigint>(n).fill(0n);
  const len = packedBytes(n, width);
  const bytes = r.bytes(len);
  const out = new Array<bigint>(n);
  for (let i = 0; i < n; i++) out[i] = readBits(bytes, 0, i * width, width);
  return out;
}
