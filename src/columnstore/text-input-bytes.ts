/**
 * @module columnstore/text-input-bytes
 * Byte parsers for direct ingest (session/direct-ingest/read.ts): the common canonical spellings of
 * integers, floats, dates, timestamps and text read straight from COPY bytes, with no JS string per
 * number or time and one shared string per distinct text value. Each reads only what the string
 * parser of its type (columnstore/text-input.ts) accepts, with the same value, and stops where it is
 * not sure; text-input.test.ts checks both agree.
 */
import type { Column, PgType } from './columns.js';
import { civilDays, decodeField, INT_RANGE, type TextInputContext } from './text-input.js';

/**
 * Reads the field starting at `buf[start]` (the data ends at `end`) into row `row` of `column`, with
 * no JS string for numbers and times. Returns the index of the first byte not read: the caller
 * checks that it ends the field (delimiter, newline or the end) and otherwise reads the field with
 * the FieldParser, which overwrites the row. -1: not sure, use the FieldParser. Answers only what
 * the FieldParser of the same type answers, with the same value (text-input.test.ts checks it).
 */
export type ByteFieldParser = (column: Column, row: number, buf: Uint8Array, start: number, end: number) => number;

/** What ends a field in the COPY data the byte parsers read. */
export interface ByteSyntax {
  readonly delimiter: number;
  /** A byte with a meaning of its own in fields (the CSV quote, the text format's backslash). */
  readonly special: number;
}

/** The byte parser for a column of `type`; undefined when only the FieldParser reads it. */
export function byteFieldParser(type: PgType, ctx: TextInputContext, syntax: ByteSyntax): ByteFieldParser | undefined {
  switch (type) {
    case 'int2':
    case 'int4':
      return integerBytes(type);
    case 'int8':
      return LITTLE_ENDIAN ? int8Bytes() : undefined;
    case 'float8':
      return float8Bytes;
    case 'timestamptz':
    case 'timestamp':
      return LITTLE_ENDIAN ? timestampBytes(type === 'timestamptz', ctx.utc) : undefined;
    case 'date':
      return (c, row, buf, start, end) => {
        const d = end - start >= 10 ? dateBytes(buf, start) : NO_DATE;
        if (d === NO_DATE) return -1;
        (c.values as Int32Array)[row] = d;
        return start + 10;
      };
    case 'text':
    case 'varchar':
      return textBytes(syntax, new TextInterner());
    default:
      return undefined;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const TWO_32 = 4294967296;
/** Exact powers of ten as doubles (10^22 is the largest). */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/**
 * Stores safe integers into int64 slots through their two 32-bit lanes (little-endian only), so no
 * BigInt is made per value. One per parser: the lanes view is made once per column.
 */
function int64Writer(): (values: BigInt64Array, row: number, v: number) => void {
  let of: BigInt64Array | undefined;
  let lanes: Int32Array = new Int32Array(0);
  return (values, row, v) => {
    if (values !== of) {
      of = values;
      lanes = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
    }
    const hi = Math.floor(v / TWO_32);
    lanes[row * 2] = (v - hi * TWO_32) | 0;
    lanes[row * 2 + 1] = hi;
  };
}

function integerBytes(type: 'int2' | 'int4'): ByteFieldParser {
  const [lo, hi] = INT_RANGE[type];
  const min = Number(lo);
  const max = Number(hi);
  return (c, row, buf, start, end) => {
    const i = signedDigits(buf, start, end);
    if (i < 0 || scanned < min || scanned > max) return -1;
    (c.values as Int32Array | Int16Array)[row] = scanned;
    return i;
  };
}

/** The value read by the last signedDigits call. */
let scanned = 0;

/**
 * `[+-]digits` at `start`: the end offset (value in `scanned`), or -1 without digits or with more
 * than 15 (exact as a double up to there; longer ones go to the FieldParser).
 */
function signedDigits(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  const sign = i < end ? buf[i]! : 0;
  if (sign === 45 || sign === 43) i++;
  const first = i;
  let v = 0;
  for (let d: number; i < end && (d = buf[i]! - 48) >= 0 && d <= 9; i++) v = v * 10 + d;
  if (i === first || i - first > 15) return -1;
  scanned = sign === 45 ? -v : v;
  return i;
}

function int8Bytes(): ByteFieldParser {
  const setInt64 = int64Writer();
  return (c, row, buf, start, end) => {
    const i = signedDigits(buf, start, end);
    if (i < 0) return -1;
    setInt64(c.values as BigInt64Array, row, scanned);
    return i;
  };
}

/**
 * `[+-]digits[.digits]` with at most 15 digits: the mantissa m is exact and so is 10^k, so the one
 * division m / 10^k is the correctly rounded value strtod (float8in) gives. Anything else
 * (exponents, longer mantissas, NaN/Infinity) stops early and goes to the FieldParser.
 */
function float8Bytes(c: Column, row: number, buf: Uint8Array, start: number, end: number): number {
  return float8Into(c.values as Float64Array, row, buf, start, end);
}

/**
 * float8Bytes on the column's array itself: a monomorphic call for a reader that keeps its columns'
 * arrays by kind (session/direct-ingest/read.ts), not one through a closure per field.
 */
export function float8Into(values: Float64Array, row: number, buf: Uint8Array, start: number, end: number): number {
  let i = start;
  const sign = i < end ? buf[i]! : 0;
  if (sign === 45 || sign === 43) i++;
  let m = 0;
  let digits = 0;
  let scale = 0;
  for (let d: number; i < end && (d = buf[i]! - 48) >= 0 && d <= 9; i++, digits++) m = m * 10 + d;
  if (i < end && buf[i] === 46) {
    for (i++; i < end; i++, digits++, scale++) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) break;
      m = m * 10 + d;
    }
  }
  if (digits === 0 || digits > 15) return -1;
  const v = scale === 0 ? m : m / POW10[scale]!;
  values[row] = sign === 45 ? -v : v;
  return i;
}

function twoBytes(buf: Uint8Array, at: number): number {
  const a = buf[at]! - 48;
  const b = buf[at + 1]! - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** Not a day number of any valid date. */
const NO_DATE = -0x80000000;

/** parseDate on bytes (the caller made sure 10 bytes are there); NO_DATE when not a valid date. */
function dateBytes(buf: Uint8Array, at: number): number {
  const y1 = twoBytes(buf, at);
  const y2 = twoBytes(buf, at + 2);
  if (y1 < 0 || y2 < 0 || buf[at + 4] !== 45 || buf[at + 7] !== 45) return NO_DATE;
  return civilDays(y1 * 100 + y2, twoBytes(buf, at + 5), twoBytes(buf, at + 8)) ?? NO_DATE;
}

/**
 * parseTimestamp on bytes, for `YYYY-MM-DD[( |T)HH:MM:SS[.f…f]][Z|±HH[[:]MM]]`, the value stored
 * through int64 lanes. Where parseTimestamp would look further (a time zone name, a lone hour) this
 * stops, and the FieldParser decides.
 */
function timestampBytes(withZone: boolean, utcSession: boolean): ByteFieldParser {
  let of: BigInt64Array | undefined;
  let lanes: Int32Array = new Int32Array(0);
  return (c, row, buf, start, end) => {
    const values = c.values as BigInt64Array;
    if (values !== of) {
      of = values;
      lanes = int64Lanes(values);
    }
    return timestampInto(lanes, row, buf, start, end, withZone, utcSession);
  };
}

/** The two 32-bit lanes of each slot of an int64 array (little-endian only: see int64Writer). */
export function int64Lanes(values: BigInt64Array): Int32Array {
  return new Int32Array(values.buffer, values.byteOffset, values.length * 2);
}

/**
 * timestampBytes into the 32-bit lanes (`int64Lanes`) of the column's array: a monomorphic call for
 * a reader that keeps its columns' arrays by kind (session/direct-ingest/read.ts).
 */
export function timestampInto(lanes: Int32Array, row: number, buf: Uint8Array, start: number, end: number, withZone: boolean, utcSession: boolean): number {
  if (end - start < 10) return -1;
  const days = dateBytes(buf, start);
  if (days === NO_DATE) return -1;
  let micros = 0;
  let i = start + 10;
  if (i < end && (buf[i] === 32 || buf[i] === 84)) {
    if (end - i < 9 || buf[i + 3] !== 58 || buf[i + 6] !== 58) return -1;
    const hh = twoBytes(buf, i + 1);
    const mi = twoBytes(buf, i + 4);
    const ss = twoBytes(buf, i + 7);
    if (hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 59) return -1;
    micros = ((hh * 60 + mi) * 60 + ss) * 1e6;
    i += 9;
    if (i < end && buf[i] === 46) {
      let scale = 100_000;
      let digits = 0;
      for (i++; i < end; i++) {
        const d = buf[i]! - 48;
        if (d < 0 || d > 9) break;
        if (++digits > 6) return -1;
        micros += d * scale;
        scale /= 10;
      }
      if (digits === 0) return -1;
    }
  }
  let offsetSeconds = 0;
  const z = i < end ? buf[i]! : -1;
  if (z === 90) {
    if (!withZone) return -1;
    i++;
  } else if (z === 43 || z === 45) {
    if (!withZone || end - i < 3) return -1;
    const hh = twoBytes(buf, i + 1);
    let mm = 0;
    i += 3;
    if (i < end && buf[i] === 58) {
      if (end - i < 3) return -1;
      mm = twoBytes(buf, i + 1);
      i += 3;
    } else if (end - i >= 2 && buf[i]! >= 48 && buf[i]! <= 57) {
      mm = twoBytes(buf, i);
      i += 2;
    }
    if (hh < 0 || hh > 15 || mm < 0 || mm > 59) return -1;
    offsetSeconds = (hh * 3600 + mm * 60) * (z === 45 ? -1 : 1);
  } else if (withZone && !utcSession) return -1;
  // Within ±100,000 days of 2000 every partial sum is exact as a double (below 2^53).
  if (!(days > -100_000 && days < 100_000)) return -1;
  const v = days * 86_400_000_000 + micros - offsetSeconds * 1e6;
  const hi = Math.floor(v / TWO_32);
  lanes[row * 2] = (v - hi * TWO_32) | 0;
  lanes[row * 2 + 1] = hi;
  return i;
}

/**
 * Text fields up to the delimiter or newline, as strings shared by every row with the same bytes
 * (tags repeat: no string is made for a value seen before). Empty fields (maybe NULL), the special
 * byte, CR and NUL go to the FieldParser.
 */
function textBytes(syntax: ByteSyntax, interner: TextInterner): ByteFieldParser {
  const stop = textStops(syntax);
  return (c, row, buf, start, end) => {
    const i = scanText(stop, buf, start, end);
    if (i < 0) return -1;
    const s = interner.get(buf, start, i, scannedHash);
    if (s === undefined) return -1;
    (c.values as string[])[row] = s;
    return i;
  };
}

/**
 * textBytes storing the interner's entry number + 1 in an Int32Array column instead of the string
 * (a parser on another thread sends numbers, not strings: session/direct-ingest/read.ts); -1 where textBytes
 * would go to the FieldParser, or once the interner is full.
 */
export function textIdBytes(syntax: ByteSyntax, interner: TextInterner): ByteFieldParser {
  const stop = textStops(syntax);
  return (c, row, buf, start, end) => textIdInto(c.values as Int32Array, row, buf, start, end, stop, interner);
}

/**
 * textIdBytes into the column's array itself (`stop`: textStops of the syntax): a monomorphic call
 * for a reader that keeps its columns' arrays by kind (session/direct-ingest/read.ts).
 */
export function textIdInto(ids: Int32Array, row: number, buf: Uint8Array, start: number, end: number, stop: Uint8Array, interner: TextInterner): number {
  const i = scanText(stop, buf, start, end);
  if (i < 0) return -1;
  const e = interner.id(buf, start, i, scannedHash);
  if (e < 0) return -1;
  ids[row] = e + 1;
  return i;
}

/** The hash of the field the last textScanner call read. */
let scannedHash = 0;

/** Per byte, for scanText: 0 inside a field, 1 ends it, 2 leaves it to the FieldParser. */
export function textStops(syntax: ByteSyntax): Uint8Array {
  const stop = new Uint8Array(256);
  stop[syntax.delimiter] = 1;
  stop[10] = 1;
  stop[syntax.special] = 2;
  stop[13] = 2;
  stop[0] = 2;
  return stop;
}

/**
 * Text fields up to the delimiter or newline: the end offset (hash in `scannedHash`), or -1 for what
 * goes to the FieldParser (empty fields, which may be NULL; the special byte, CR, NUL).
 */
function scanText(stop: Uint8Array, buf: Uint8Array, start: number, end: number): number {
  let i = start;
  let k = 0;
  while (i < end && (k = stop[buf[i]!]!) === 0) i++;
  if (k === 2 || i === start) return -1;
  scannedHash = bytesHash(buf, start, i);
  return i;
}

/**
 * The TextInterner hash of `buf[start..end)`: the length and the first and last four bytes are
 * enough to find the candidate; the interner compares every byte.
 */
export function bytesHash(buf: Uint8Array, start: number, end: number): number {
  const len = end - start;
  if (len === 0) return 0;
  const a = buf[start]! | (buf[start + (len > 1 ? 1 : 0)]! << 8) | (buf[start + (len > 2 ? 2 : 0)]! << 16) | (buf[start + (len > 3 ? 3 : 0)]! << 24);
  const b = len > 4 ? buf[end - 4]! | (buf[end - 3]! << 8) | (buf[end - 2]! << 16) | (buf[end - 1]! << 24) : 0;
  const h = Math.imul(a ^ Math.imul(b, 0x85ebca6b) ^ len, 0x9e3779b1);
  return h ^ (h >>> 15);
}

/**
 * Strings by their UTF-8 bytes: an open-addressing table over hashes of the bytes (the caller's),
 * the bytes kept in one arena for the equality check. Bounded: past `MAX_ENTRIES` (high-cardinality text)
 * new values are decoded without being kept.
 */
export class TextInterner {
  private static readonly MAX_ENTRIES = 1 << 16;
  private static readonly MAX_ARENA = 4 << 20;
  private slots = new Int32Array(1 << 10).fill(-1);
  // Per entry (typed, so the probe compares int32s): its hash, and where its bytes are in the arena.
  private hashes = new Int32Array(1 << 9);
  private starts = new Int32Array(1 << 9);
  private lengths = new Int32Array(1 << 9);
  private strings: string[] = [];
  private arena = new Uint8Array(1 << 12);
  private used = 0;

  /** The string of `buf[start..end)` (hash `h` of those bytes); undefined if not valid UTF-8. */
  get(buf: Uint8Array, start: number, end: number, h: number): string | undefined {
    const e = this.find(buf, start, end, h);
    if (e >= 0) return this.strings[e];
    const str = decodeField(buf, start, end);
    if (str !== undefined && this.hasRoom(end - start)) this.add(buf, start, end - start, h, str);
    return str;
  }

  /**
   * The entry number of `buf[start..end)` (hash `h`), added if new: numbers count up from 0 in the
   * order values are first seen (`strings(from)`). -1 if not valid UTF-8 or the interner is full.
   */
  id(buf: Uint8Array, start: number, end: number, h: number): number {
    const e = this.find(buf, start, end, h);
    if (e >= 0) return e;
    if (!this.hasRoom(end - start)) return -1;
    const str = decodeField(buf, start, end);
    if (str === undefined) return -1;
    this.add(buf, start, end - start, h, str);
    return this.strings.length - 1;
  }

  /**
   * Whether the field at `buf[start]` is exactly entry `e`'s bytes: they are there, and a byte that
   * ends a field (`stop` 1: delimiter or newline) or the end of the data follows. The entry's bytes
   * hold no stop byte, so that is the whole field. The end of the field, or -1.
   */
  matchAt(e: number, buf: Uint8Array, start: number, end: number, stop: Uint8Array): number {
    const len = this.lengths[e]!;
    const after = start + len;
    if (after > end || (after < end && stop[buf[after]!] !== 1)) return -1;
    const arena = this.arena;
    const at = this.starts[e]!;
    for (let k = 0; k < len; k++) if (arena[at + k] !== buf[start + k]) return -1;
    return after;
  }

  /** Entry `e`'s string. */
  stringOf(e: number): string {
    return this.strings[e]!;
  }

  /** Entries `from` and later, in number order. */
  stringsFrom(from: number): string[] {
    return this.strings.slice(from);
  }

  get size(): number {
    return this.strings.length;
  }

  private find(buf: Uint8Array, start: number, end: number, h: number): number {
    const mask = this.slots.length - 1;
    const len = end - start;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = this.slots[s]!;
      if (e === -1) return -1;
      if (this.hashes[e] === h && this.lengths[e] === len && this.same(e, buf, start, len)) return e;
    }
  }

  private hasRoom(len: number): boolean {
    return this.strings.length < TextInterner.MAX_ENTRIES && this.used + len <= TextInterner.MAX_ARENA;
  }

  private same(e: number, buf: Uint8Array, start: number, len: number): boolean {
    const arena = this.arena;
    const at = this.starts[e]!;
    for (let k = 0; k < len; k++) if (arena[at + k] !== buf[start + k]) return false;
    return true;
  }

  private add(buf: Uint8Array, start: number, len: number, h: number, str: string): void {
    if (this.used + len > this.arena.length) {
      const grown = new Uint8Array(Math.max(this.arena.length * 2, this.used + len));
      grown.set(this.arena.subarray(0, this.used));
      this.arena = grown;
    }
    this.arena.set(buf.subarray(start, start + len), this.used);
    const e = this.strings.length;
    if (e === this.hashes.length) {
      this.hashes = grow(this.hashes);
      this.starts = grow(this.starts);
      this.lengths = grow(this.lengths);
    }
    this.hashes[e] = h;
    this.starts[e] = this.used;
    this.lengths[e] = len;
    this.strings.push(str);
    this.used += len;
    if (this.strings.length * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(e);
  }

  private place(e: number): void {
    const mask = this.slots.length - 1;
    let s = this.hashes[e]! & mask;
    while (this.slots[s] !== -1) s = (s + 1) & mask;
    this.slots[s] = e;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size).fill(-1);
    for (let e = 0; e < this.strings.length; e++) this.place(e);
  }
}

/** `a` in an array twice as long. */
function grow(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const out = new Int32Array(a.length * 2);
  out.set(a);
  return out;
}
