/**
 * @module columnstore/text-input
 * PostgreSQL's text input, for the common canonical forms only: what direct ingest
 * (session/direct-ingest.ts) reads from COPY text/CSV without handing rows to PostgreSQL.
 *
 * Each parser either stores exactly the value PostgreSQL's input function would produce, or answers
 * `false` ("not sure"): then the caller lets PostgreSQL itself read those rows, so unusual spellings
 * (`epoch`, `1e3` for numeric, `yes` for bool, time zones by name, whitespace…) and every error keep
 * PostgreSQL's exact semantics and messages. Nothing here raises an error of its own.
 */
import type { Column, PgType } from './columns.js';

/** What the parsers need to know of the session. */
export interface TextInputContext {
  /** The session's TimeZone is UTC, so timestamptz input without an offset is UTC. */
  readonly utc: boolean;
}

/** Stores `text` as row `row` of `column`; false when PostgreSQL must read it. */
export type FieldParser = (column: Column, row: number, text: string) => boolean;

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

const USECS_PER_DAY = 86_400_000_000n;
const INT_RANGE = {
  int2: [-32768n, 32767n],
  int4: [-2147483648n, 2147483647n],
  int8: [-(1n << 63n), (1n << 63n) - 1n],
} as const;

/** The parser for a column of `type`; undefined when Orbit never reads that type itself. */
export function fieldParser(type: PgType, ctx: TextInputContext): FieldParser | undefined {
  switch (type) {
    case 'int2':
    case 'int4':
    case 'int8':
      return integerParser(type);
    case 'float8':
      return (c, row, text) => {
        const v = parseFloat8(text);
        if (v === undefined) return false;
        (c.values as Float64Array)[row] = v;
        return true;
      };
    case 'numeric':
      return (c, row, text) => {
        const v = canonicalNumeric(text);
        if (v === undefined) return false;
        (c.values as string[])[row] = v;
        return true;
      };
    case 'text':
    case 'varchar':
      // Unbounded only (the caller sends typmod-limited columns to PostgreSQL); NUL is not text.
      return (c, row, text) => {
        if (text.includes('\0')) return false;
        (c.values as string[])[row] = text;
        return true;
      };
    case 'bool':
      return (c, row, text) => {
        const v = text === 't' || text === 'true' ? 1 : text === 'f' || text === 'false' ? 0 : -1;
        if (v < 0) return false;
        (c.values as Uint8Array)[row] = v;
        return true;
      };
    case 'timestamptz':
    case 'timestamp':
      return (c, row, text) => {
        const v = parseTimestamp(text, type === 'timestamptz', ctx.utc);
        if (v === undefined) return false;
        (c.values as BigInt64Array)[row] = v;
        return true;
      };
    case 'date':
      return (c, row, text) => {
        const d = text.length === 10 ? parseDate(text, 0) : undefined;
        if (d === undefined) return false;
        (c.values as Int32Array)[row] = d;
        return true;
      };
    case 'uuid':
      return (c, row, text) => parseUuid(text, c.values as Uint8Array, row * 16);
    default:
      return undefined;
  }
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
  (c.values as Float64Array)[row] = sign === 45 ? -v : v;
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
  const setInt64 = int64Writer();
  return (c, row, buf, start, end) => {
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
    setInt64(c.values as BigInt64Array, row, days * 86_400_000_000 + micros - offsetSeconds * 1e6);
    return i;
  };
}

/**
 * Text fields up to the delimiter or newline, as strings shared by every row with the same bytes
 * (tags repeat: no string is made for a value seen before). Empty fields (maybe NULL), the special
 * byte, CR and NUL go to the FieldParser.
 */
function textBytes(syntax: ByteSyntax, interner: TextInterner): ByteFieldParser {
  // Per byte: 0 inside a field, 1 ends it, 2 leaves it to the FieldParser.
  const stop = new Uint8Array(256);
  stop[syntax.delimiter] = 1;
  stop[10] = 1;
  stop[syntax.special] = 2;
  stop[13] = 2;
  stop[0] = 2;
  return (c, row, buf, start, end) => {
    let i = start;
    let k = 0;
    while (i < end && (k = stop[buf[i]!]!) === 0) i++;
    const len = i - start;
    if (k === 2 || len === 0) return -1;
    // A hash of the length and the first and last four bytes is enough to find the candidate; the
    // interner compares every byte.
    const a = buf[start]! | (buf[start + (len > 1 ? 1 : 0)]! << 8) | (buf[start + (len > 2 ? 2 : 0)]! << 16) | (buf[start + (len > 3 ? 3 : 0)]! << 24);
    const b = len > 4 ? buf[i - 4]! | (buf[i - 3]! << 8) | (buf[i - 2]! << 16) | (buf[i - 1]! << 24) : 0;
    let h = Math.imul(a ^ Math.imul(b, 0x85ebca6b) ^ len, 0x9e3779b1);
    h ^= h >>> 15;
    const s = interner.get(buf, start, i, h);
    if (s === undefined) return -1;
    (c.values as string[])[row] = s;
    return i;
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Strings by their UTF-8 bytes: an open-addressing table over hashes of the bytes (the caller's),
 * the bytes kept in one arena for the equality check. Bounded: past `MAX_ENTRIES` (high-cardinality text)
 * new values are decoded without being kept.
 */
export class TextInterner {
  private static readonly MAX_ENTRIES = 1 << 16;
  private static readonly MAX_ARENA = 4 << 20;
  private slots = new Int32Array(1 << 10).fill(-1);
  private hashes: number[] = [];
  private starts: number[] = [];
  private lengths: number[] = [];
  private strings: string[] = [];
  private arena = new Uint8Array(1 << 12);
  private used = 0;

  /** The string of `buf[start..end)` (hash `h` of those bytes); undefined if not valid UTF-8. */
  get(buf: Uint8Array, start: number, end: number, h: number): string | undefined {
    const mask = this.slots.length - 1;
    const len = end - start;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = this.slots[s]!;
      if (e === -1) break;
      if (this.hashes[e] === h && this.lengths[e] === len && this.same(e, buf, start, len)) return this.strings[e];
    }
    const str = decodeField(buf, start, end);
    if (str !== undefined && this.strings.length < TextInterner.MAX_ENTRIES && this.used + len <= TextInterner.MAX_ARENA) this.add(buf, start, len, h, str);
    return str;
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
    this.hashes.push(h);
    this.starts.push(this.used);
    this.lengths.push(len);
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

/** The UTF-8 text of `buf[start..end)`; undefined if not valid UTF-8. */
export function decodeField(buf: Uint8Array, start: number, end: number): string | undefined {
  let ascii = true;
  for (let k = start; k < end; k++) if (buf[k]! >= 0x80) {
    ascii = false;
    break;
  }
  // Short ASCII: one fromCharCode call beats TextDecoder's per-call cost.
  if (ascii && end - start <= 64) return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
  try {
    return utf8.decode(buf.subarray(start, end));
  } catch {
    return undefined;
  }
}

function integerParser(type: 'int2' | 'int4' | 'int8'): FieldParser {
  const [lo, hi] = INT_RANGE[type];
  return (c, row, text) => {
    const n = text.length;
    if (n === 0 || n > 20) return false;
    let i = text.charCodeAt(0) === 45 /* - */ || text.charCodeAt(0) === 43 /* + */ ? 1 : 0;
    if (i === n) return false;
    for (; i < n; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return false;
    }
    if (type === 'int8') {
      const v = BigInt(text);
      if (v < lo || v > hi) return false;
      (c.values as BigInt64Array)[row] = v;
      return true;
    }
    // Up to 15 digits are exact as a double.
    const v = n > 15 ? NaN : Number(text);
    if (!(v >= Number(lo) && v <= Number(hi))) return false;
    (c.values as Int32Array | Int16Array)[row] = v;
    return true;
  };
}

/** `[+-]digits[.digits][e[+-]digits]`, `NaN`, `Infinity`, `-Infinity`: as float8in reads them. */
export function parseFloat8(text: string): number | undefined {
  const n = text.length;
  if (n === 0 || n > 64) return undefined;
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(n - 1);
  // JavaScript's Number() reads a superset of that grammar (surrounding spaces, 0x/0b/0o prefixes,
  // "Infinity"): excluded by the first and last characters and the prefix test below.
  const digitFirst = (first >= 48 && first <= 57) || first === 46;
  if (!digitFirst && first !== 45 && first !== 43) {
    return text === 'NaN' ? NaN : text === 'Infinity' ? Infinity : undefined;
  }
  if (!((last >= 48 && last <= 57) || last === 46)) return text === '-Infinity' ? -Infinity : undefined;
  if (n > 1 && (first === 48 || ((first === 45 || first === 43) && text.charCodeAt(1) === 48))) {
    const c = text.charCodeAt(first === 48 ? 1 : 2) | 0x20;
    if (c === 0x78 || c === 0x62 || c === 0x6f) return undefined; // x b o
  }
  const v = Number(text);
  // Correctly rounded like strtod; overflow and underflow to zero are errors in PostgreSQL
  // (denormals are accepted by both).
  if (v !== v || v === Infinity || v === -Infinity) return undefined;
  if (v === 0 && /[1-9]/.test(text.replace(/[eE].*$/, ''))) return undefined;
  return v;
}

/** numeric_in's text for `[-]digits[.digits]`: leading zeros dropped, no negative zero, scale kept. */
export function canonicalNumeric(text: string): string | undefined {
  const n = text.length;
  if (n === 0 || n > 1000) return undefined;
  let i = text.charCodeAt(0) === 45 ? 1 : 0;
  const start = i;
  let point = -1;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 && point < 0) point = i;
    else if (c < 48 || c > 57) return undefined;
  }
  if (point === start || point === n - 1 || n === start) return undefined;
  let intStart = start;
  const intEnd = point < 0 ? n : point;
  while (intStart < intEnd - 1 && text.charCodeAt(intStart) === 48) intStart++;
  const body = text.slice(intStart);
  const negative = start === 1 && /[1-9]/.test(body);
  return negative ? `-${body}` : body;
}

function two(text: string, at: number): number {
  const a = text.charCodeAt(at) - 48;
  const b = text.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** Days from 2000-01-01 of `YYYY-MM-DD` at `at` (years 1–9999, valid calendar dates only). */
function parseDate(text: string, at: number): number | undefined {
  const y1 = two(text, at);
  const y2 = two(text, at + 2);
  if (y1 < 0 || y2 < 0 || text.charCodeAt(at + 4) !== 45 || text.charCodeAt(at + 7) !== 45) return undefined;
  return civilDays(y1 * 100 + y2, two(text, at + 5), two(text, at + 8));
}

/** Days from 2000-01-01 of a valid calendar date (years 1–9999); undefined otherwise. */
function civilDays(year: number, month: number, day: number): number | undefined {
  if (year < 1 || month < 1 || month > 12 || day < 1) return undefined;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const dim = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  if (day > dim) return undefined;
  return daysFromCivil(year, month, day) - 10957; // 1970-01-01 → 2000-01-01
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil-days algorithm). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * µs since 2000-01-01 of `YYYY-MM-DD[( |T)HH:MM:SS[.f…f]][Z|±HH[[:]MM]]`. timestamptz without an
 * offset needs a UTC session; timestamp (without time zone) takes no offset at all (PostgreSQL
 * ignores it there, a spelling rare enough to leave to PostgreSQL).
 */
export function parseTimestamp(text: string, withZone: boolean, utcSession: boolean): bigint | undefined {
  const n = text.length;
  if (n < 10 || n > 40) return undefined;
  const days = parseDate(text, 0);
  if (days === undefined) return undefined;
  let micros = 0;
  let i = 10;
  if (i < n && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 84 /* T */)) {
    const hh = two(text, i + 1);
    const mi = two(text, i + 4);
    const ss = two(text, i + 7);
    if (hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 59 || text.charCodeAt(i + 3) !== 58 || text.charCodeAt(i + 6) !== 58) return undefined;
    micros = ((hh * 60 + mi) * 60 + ss) * 1e6;
    i += 9;
    if (i < n && text.charCodeAt(i) === 46) {
      let scale = 100_000;
      let digits = 0;
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        if (++digits > 6) return undefined; // PostgreSQL rounds longer fractions: leave it to PostgreSQL
        micros += d * scale;
        scale /= 10;
      }
      if (digits === 0) return undefined;
    }
  }
  let offsetSeconds = 0;
  if (i === n) {
    if (withZone && !utcSession) return undefined;
  } else {
    if (!withZone) return undefined;
    const c = text.charCodeAt(i);
    if (c === 90 /* Z */ && i + 1 === n) {
      // UTC
    } else if (c === 43 || c === 45) {
      const hh = two(text, i + 1);
      let mm = 0;
      const rest = n - (i + 3);
      if (rest === 3 && text.charCodeAt(i + 3) === 58) mm = two(text, i + 4);
      else if (rest === 2) mm = two(text, i + 3);
      else if (rest !== 0) return undefined;
      if (hh < 0 || hh > 15 || mm < 0 || mm > 59) return undefined;
      offsetSeconds = (hh * 3600 + mm * 60) * (c === 45 ? -1 : 1);
    } else return undefined;
  }
  // One BigInt per value: within ±100,000 days of 2000 every partial sum is exact as a double.
  return days > -100_000 && days < 100_000 ? BigInt(days * 86_400_000_000 + micros - offsetSeconds * 1e6) : BigInt(days) * USECS_PER_DAY + BigInt(micros - offsetSeconds * 1e6);
}

/** The canonical 8-4-4-4-12 hexadecimal form (either case). */
function parseUuid(text: string, out: Uint8Array, at: number): boolean {
  if (text.length !== 36) return false;
  let k = 0;
  for (let i = 0; i < 36; i += 2) {
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (text.charCodeAt(i) !== 45) return false;
      i--;
      continue;
    }
    const hi = hex(text.charCodeAt(i));
    const lo = hex(text.charCodeAt(i + 1));
    if (hi < 0 || lo < 0) return false;
    out[at + k++] = (hi << 4) | lo;
  }
  return k === 16;
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}
