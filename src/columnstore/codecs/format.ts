/**
 * @module columnstore/codecs/format
 * Constants and byte helpers of the encoded-column format (docs/design/columnstore-codecs.md).
 * Shared by the column layer and the reference codecs; the AssemblyScript codecs
 * (assembly/codecs/) use the same numbers.
 */
import { orbitError } from '../../errors.js';

/** Format version, in the first byte of every encoded column. */
export const FORMAT_VERSION = 1;

/** Column kinds, as stored in the header. */
export const ColumnKind = {
  int64: 1,
  timestamp: 2,
  int32: 3,
  int16: 4,
  float64: 5,
  float32: 6,
  boolean: 7,
  text: 8,
} as const;
export type ColumnKind = keyof typeof ColumnKind;

/** Codec ids: the first byte of every value stream. */
export const Codec = {
  /** Every value is NULL (or the column is empty): no stream at all. */
  allNull: 0,
  constant: 1,
  /** Differencing of order 0/1/2 + zig-zag + bit-packing in 128-value blocks. */
  pack: 2,
  rle: 3,
  dict: 4,
  decimal: 5,
  gorilla: 6,
  /** Text: a string dictionary, then an integer stream of ids. */
  textDict: 7,
} as const;
export type Codec = (typeof Codec)[keyof typeof Codec];

/** Header flag bits. */
export const Flag = {
  /** A NULL count and bitmap follow the value count. */
  nulls: 1,
} as const;

/** Text dictionary flag bits. */
export const TextFlag = {
  /** The dictionary bytes are deflated (fflate, raw deflate). */
  deflated: 1,
} as const;

/** Largest batch the format accepts: counts are varints, but ids and positions assume < 2^31. */
export const MAX_VALUES = 1 << 24;

export function corrupt(why: string): Error {
  return orbitError('data_corrupted', `encoded column is malformed: ${why}`);
}

/** Growable byte buffer with LEB128 varints. */
export class ByteWriter {
  private buf: Uint8Array;
  length = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): this {
    this.reserve(1);
    this.buf[this.length++] = b;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  /** Unsigned LEB128 of a non-negative safe integer. */
  varint(v: number): this {
    while (v >= 0x80) {
      this.byte((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    return this.byte(v);
  }

  /** Unsigned LEB128 of a u64. */
  varint64(v: bigint): this {
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    return this.byte(Number(v));
  }

  /** Little-endian u64. */
  u64(v: bigint): this {
    for (let i = 0n; i < 64n; i += 8n) this.byte(Number((v >> i) & 0xffn));
    return this;
  }

  /** Empties the writer, keeping its buffer (a writer reused for many outputs allocates once). */
  reset(): this {
    this.length = 0;
    return this;
  }

  /** The bytes written, as a view of the writer's buffer (valid until the next write or reset). */
  written(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** The bytes written, as a buffer of their own. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Cursor over encoded bytes; every read checks bounds. */
export class ByteReader {
  constructor(
    readonly buf: Uint8Array,
    public pos = 0,
  ) {}

  byte(): number {
    if (this.pos >= this.buf.length) throw corrupt('truncated');
    return this.buf[this.pos++]!;
  }

  bytes(n: number): Uint8Array {
    if (n > this.buf.length - this.pos) throw corrupt('truncated');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  varint(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      v += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
      if (scale > 2 ** 49) throw corrupt('varint too long');
    }
    return v;
  }

  varint64(): bigint {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80 || shift >= 63n) break;
      shift += 7n;
    }
    return BigInt.asUintN(64, v);
  }

  u64(): bigint {
    let v = 0n;
    for (let i = 0n; i < 64n; i += 8n) v |= BigInt(this.byte()) << i;
    return v;
  }
}
