/**
 * @module columnstore/codecs/reference/gorilla
 * Reference Gorilla XOR stream over u64 bit patterns (mirrors assembly/codecs/gorilla.ts; float32
 * patterns are zero-extended and their first value takes 32 bits).
 */
import type { ByteReader, ByteWriter } from '../format.js';
import { BitWriter, bitWidth, readBits } from './bits.js';

function leadingZeros(x: bigint): number {
  return 64 - bitWidth(x);
}

function trailingZeros(x: bigint): number {
  let n = 0;
  while ((x & 1n) === 0n) {
    x >>= 1n;
    n++;
  }
  return n;
}

export function gorillaWrite(patterns: readonly bigint[], is32: boolean, out: ByteWriter): void {
  const w = new BitWriter(out);
  let prev = patterns[0]!;
  w.write(prev, is32 ? 32 : 64);
  let prevLz = 64;
  let prevTz = 64;
  for (let i = 1; i < patterns.length; i++) {
    const cur = patterns[i]!;
    const x = cur ^ prev;
    prev = cur;
    if (x === 0n) {
      w.write(0n, 1);
      continue;
    }
    const lz = leadingZeros(x);
    const tz = trailingZeros(x);
    if (lz >= prevLz && tz >= prevTz) {
      w.write(1n, 2);
      w.write(x >> BigInt(prevTz), 64 - prevLz - prevTz);
    } else {
      const len = 64 - lz - tz;
      w.write(3n | (BigInt(lz) << 2n) | (BigInt(len - 1) << 8n), 14);
      w.write(x >> BigInt(tz), len);
      prevLz = lz;
      prevTz = tz;
    }
  }
  w.end();
}

export function gorillaRead(r: ByteReader, n: number, is32: boolean): bigint[] {
  const buf = r.buf;
  const base = r.pos;
  let bit = is32 ? 32 : 64;
  let prev = readBits(buf, base, 0, bit);
  const out = new Array<bigint>(n);
  out[0] = prev;
  let lz = 0;
  let len = 64;
  for (let i = 1; i < n; i++) {
    if (readBits(buf, base, bit, 1) === 0n) {
      bit += 1;
    } else {
      if (readBits(buf, base, bit + 1, 1) === 0n) {
        bit += 2;
      } else {
        const head = readBits(buf, base, bit, 14);
        lz = Number((head >> 2n) & 63n);
        len = Number((head >> 8n) & 63n) + 1;
        bit += 14;
      }
      prev ^= BigInt.asUintN(64, readBits(buf, base, bit, len) << BigInt(64 - lz - len));
      bit += len;
    }
    out[i] = prev;
  }
  r.pos = base + ((bit + 7) >> 3);
  return out;
}
