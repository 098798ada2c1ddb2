/**
 * @module columnstore/text-input
 * PostgreSQL's text input, for the common canonical forms only: what direct ingest
 * (session/direct-ingest/copy.ts) reads from COPY text/CSV without handing rows to PostgreSQL.
 *
 * Each parser either stores exactly the value PostgreSQL's input function would produce, or answers
 * `false` ("not sure"): then the caller lets PostgreSQL itself read those rows, so unusual spellings
 * (`epoch`, `1e3` for numeric, `yes` for bool, time zones by name, whitespace…) and every error keep
 * PostgreSQL's exact semantics and messages. Nothing here raises an error of its own. The byte
 * parsers reading the same spellings straight from COPY bytes are in text-input-bytes.ts.
 */
import type { Column, PgType } from './columns.js';

/** What the parsers need to know of the session. */
export interface TextInputContext {
  /** The session's TimeZone is UTC, so timestamptz input without an offset is UTC. */
  readonly utc: boolean;
}

/** Stores `text` as row `row` of `column`; false when PostgreSQL must read it. */
export type FieldParser = (column: Column, row: number, text: string) => boolean;

const USECS_PER_DAY = 86_400_000_000n;
export const INT_RANGE = {
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

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

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
export function civilDays(year: number, month: number, day: number): number | undefined {
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
