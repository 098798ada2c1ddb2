/**
 * @module columnstore/data-rows
 * DataRow messages (text format) built from decoded columns, byte for byte what PostgreSQL sends
 * (pg-text.ts holds the formats). The common values are written straight into the buffer with
 * no string in between (a query of 40 K rows × 21 columns prints 900 K fields):
 *
 * - a batch's constant columns are encoded once and copied into every row, side by side ones as
 *   one block;
 * - float8 values with at most 15 significant decimal digits (m / 10^k, as decimal data is), from
 *   1e-4 to 1e15: their digits are those of m. At most 15 significant digits make the decimal the
 *   only one of ≤ 15 digits that reads back as the value (any two such decimals are different
 *   doubles), hence the shortest round-trip text float8Text prints;
 * - integers, and times from 1715 to 2285 (|µs| < 2^53: exact as a double), the date part kept
 *   from the row before when it is the same day.
 *
 * Everything else is printed by its formatter and written as text (ASCII byte by byte, anything
 * else through TextEncoder), a value repeated from the row before printed once.
 */
import type { Column } from './columns.js';
import { isNull } from './codecs/values.js';
import { dateText, type Formatter } from './pg-text.js';

const encoder = new TextEncoder();

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const US_PER_DAY = 86_400_000_000;
/** |hi| below this: an int64 hi·2^32 + lo is exact as a double. */
const SAFE_HI = 2 ** 21;

/** How a column is written: constant fields (encoded once), float8, int2/int4, int8 and times (as int32 pairs), or printed by the formatter. */
const Op = { Block: 0, Float8: 1, Int: 2, Int8: 3, Time: 4, Text: 5 } as const;
type Op = (typeof Op)[keyof typeof Op];

/** Upper bounds of a field's bytes (length word included): float8 written as digits, int2/int4/int8 within 2^53, times. */
const MAX_DIGITS_FIELD = 4 + 1 + 15 + 1 + 10;
const MAX_TIME_FIELD = 4 + 10 + 9 + 7 + 3;

/** How one column (or a run of constant ones) of a batch is written. */
class Step {
  /** Float8: the decimal scale the last value was written at. */
  scale = 0;

  constructor(
    readonly op: Op,
    readonly column: number,
    readonly values: Column['values'] | undefined,
    readonly nulls: Uint8Array | null,
    /** Constant fields (Block). */
    readonly block: Uint8Array | undefined,
    /** The int64 values as int32 pairs (Int8, Time). */
    readonly words: Int32Array | undefined,
    /** '+00' or '' (Time). */
    readonly zone: string,
  ) {}
}

/** Blocks of constant fields kept per writer (a statement's distinct series, bounded). */
const MAX_BLOCKS = 4096;

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/** Digits of 0 ≤ n < 10^8. */
function digitCount(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10_000 ? 4 : n < 100_000 ? 5 : n < 1_000_000 ? 6 : n < 10_000_000 ? 7 : 8;
}

export class DataRowWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;
  /** Where the row being written starts in `buf`. */
  private rowStart = 0;
  /** Full buffers, in order: rows are never split between two. */
  private readonly done: Uint8Array[] = [];
  rows = 0;
  /** The date part of the last time written, and its day. */
  private lastDay = NaN;
  private lastDate = new Uint8Array(0);
  /** Blocks of constant fields by their texts (only read, never written to: shared by batches). */
  private readonly blocks = new Map<string, Uint8Array>();

  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    // A new buffer (not a bigger copy of this one: 40 K rows are megabytes): the row being written
    // moves over to it.
    const partial = this.buf.subarray(this.rowStart, this.pos);
    if (this.rowStart > 0) this.done.push(this.buf.subarray(0, this.rowStart));
    const next = new Uint8Array(Math.max(this.buf.length, 2 * (partial.length + n)));
    next.set(partial);
    this.buf = next;
    this.view = new DataView(next.buffer);
    this.pos = partial.length;
    this.rowStart = 0;
  }

  /**
   * Appends the rows `rows` (undefined: all `count`) of `columns`, printed by `formats`; columns
   * marked `constant` hold one value in every row.
   */
  append(columns: readonly Column[], formats: readonly Formatter[], rows: Uint32Array | undefined, count: number, constant: readonly boolean[]): void {
    if (count === 0) return;
    const n = columns.length;
    const steps = this.plan(columns, formats, constant);
    // Room for every field but printed text, reserved once per row.
    let fixed = 7;
    for (const step of steps) fixed += step.op === Op.Block ? step.block!.length : step.op === Op.Time ? MAX_TIME_FIELD : step.op === Op.Text ? 0 : MAX_DIGITS_FIELD;
    // Consecutive rows often repeat a value (times shared by many series): printed once.
    const last: Array<string | undefined> = new Array<string | undefined>(n);
    const lastKey: unknown[] = new Array<unknown>(n);
    for (let x = 0; x < count; x++) {
      const i = rows === undefined ? x : rows[x]!;
      this.rowStart = this.pos;
      this.reserve(fixed);
      this.buf[this.pos] = 0x44; // 'D'
      this.pos += 5;
      this.view.setInt16(this.pos, n);
      this.pos += 2;
      for (let t = 0; t < steps.length; t++) {
        const step = steps[t]!;
        if (step.op === Op.Block) {
          this.copy(step.block!);
          continue;
        }
        const nulls = step.nulls;
        if (nulls !== null && (nulls[i >> 3]! & (1 << (i & 7))) !== 0) {
          this.reserve(4);
          this.view.setInt32(this.pos, -1);
          this.pos += 4;
          continue;
        }
        switch (step.op) {
          case Op.Float8: {
            const v = step.values![i] as number;
            if (!this.float8(v, step)) this.text(formats[step.column]!(columns[step.column]!, i));
            break;
          }
          case Op.Int: {
            const v = step.values![i] as number;
            this.decimal(v < 0, v < 0 ? -v : v, 0);
            break;
          }
          case Op.Int8: {
            const w = step.words!;
            const hi = w[2 * i + 1]!;
            if (hi < SAFE_HI && hi >= -SAFE_HI) {
              const v = hi * 4_294_967_296 + (w[2 * i]! >>> 0);
              this.decimal(v < 0, v < 0 ? -v : v, 0);
            } else this.text(formats[step.column]!(columns[step.column]!, i));
            break;
          }
          case Op.Time: {
            const w = step.words!;
            const hi = w[2 * i + 1]!;
            if (hi < SAFE_HI && hi >= -SAFE_HI) this.time(hi * 4_294_967_296 + (w[2 * i]! >>> 0), step.zone);
            else this.text(formats[step.column]!(columns[step.column]!, i));
            break;
          }
          default: {
            const j = step.column;
            const c = columns[j]!;
            const key = c.values[i];
            let s: string;
            if (key === lastKey[j] && last[j] !== undefined && typeof key !== 'number') s = last[j]!;
            else {
              s = formats[j]!(c, i);
              last[j] = s;
              lastKey[j] = key;
            }
            this.text(s);
          }
        }
      }
      this.view.setInt32(this.rowStart + 1, this.pos - this.rowStart - 1);
      this.rows++;
    }
  }

  /** How each column of a batch is written. */
  private plan(columns: readonly Column[], formats: readonly Formatter[], constant: readonly boolean[]): Step[] {
    const steps: Step[] = [];
    // Runs of constant columns: their fields (length word and text) as one block.
    let block: Array<string | null> | undefined;
    const flush = (): void => {
      if (!block) return;
      // The same constants recur batch after batch (a series' tags): their block is made once.
      // The key separates fields by NUL, which no text value holds, and marks NULLs apart.
      const cacheKey = block.map((t) => (t === null ? '\u0001' : `\u0002${t}`)).join('\u0000');
      const cached = this.blocks.get(cacheKey);
      if (cached) {
        steps.push(new Step(Op.Block, -1, undefined, null, cached, undefined, ''));
        block = undefined;
        return;
      }
      const texts = block.map((t) => (t === null ? null : encoder.encode(t)));
      const bytes = new Uint8Array(texts.reduce((n, t) => n + 4 + (t?.length ?? 0), 0));
      const view = new DataView(bytes.buffer);
      let p = 0;
      for (const t of texts) {
        view.setInt32(p, t === null ? -1 : t.length);
        if (t) bytes.set(t, p + 4);
        p += 4 + (t?.length ?? 0);
      }
      if (this.blocks.size >= MAX_BLOCKS) this.blocks.clear();
      this.blocks.set(cacheKey, bytes);
      steps.push(new Step(Op.Block, -1, undefined, null, bytes, undefined, ''));
      block = undefined;
    };
    for (let j = 0; j < columns.length; j++) {
      const c = columns[j]!;
      if (constant[j]) {
        (block ??= []).push(c.nulls !== null && isNull(c.nulls, 0) ? null : formats[j]!(c, 0));
        continue;
      }
      flush();
      const t = c.type;
      const op = t === 'float8' ? Op.Float8 : t === 'int2' || t === 'int4' ? Op.Int : !LITTLE_ENDIAN ? Op.Text : t === 'int8' ? Op.Int8 : t === 'timestamptz' || t === 'timestamp' ? Op.Time : Op.Text;
      const int64 = c.values as BigInt64Array;
      const words = op === Op.Int8 || op === Op.Time ? new Int32Array(int64.buffer, int64.byteOffset, int64.length * 2) : undefined;
      steps.push(new Step(op, j, c.values, c.nulls, undefined, words, t === 'timestamptz' ? '+00' : ''));
    }
    flush();
    return steps;
  }

  private copy(block: Uint8Array): void {
    const n = block.length;
    if (n >= 32) this.buf.set(block, this.pos);
    else for (let b = 0; b < n; b++) this.buf[this.pos + b] = block[b]!;
    this.pos += n;
  }

  /**
   * Writes a float8 of at most 15 significant digits from 1e-4 to 1e15 (see the module comment);
   * false for any other value.
   */
  private float8(v: number, step: Step): boolean {
    const a = v < 0 ? -v : v;
    if (!(a >= 1e-4 && a < 1e15)) return false;
    // Any scale at which the value is m / 10^k (m < 10^15) gives the same decimal once trailing
    // zeros go: the column's last scale first (one try for data of fixed decimals), then 0 … 9.
    let k = step.scale;
    let m = Math.round(a * POW10[k]!);
    if (!(m < 1e15 && m / POW10[k]! === a)) {
      for (k = 0; k <= 9; k++) {
        m = Math.round(a * POW10[k]!);
        if (m >= 1e15) return false;
        if (m / POW10[k]! === a) break;
      }
      if (k > 9) return false;
      step.scale = k;
    }
    this.decimal(v < 0, m, k);
    return true;
  }

  /**
   * Writes the integer m < 10^15 with a point before its last k digits (and a 0 before the point),
   * without the fraction's trailing zeros.
   */
  private decimal(negative: boolean, m: number, k: number): void {
    // Two int32 halves of at most 7 and 8 digits: integer arithmetic, no floating-point remainders,
    // and no division at all below 10^8 (decimal data of a few places).
    let high = 0;
    let low = m | 0;
    if (m >= 1e8) {
      high = Math.floor(m / 1e8) | 0;
      low = (m - high * 1e8) | 0;
    }
    while (k > 0 && low % 10 === 0) {
      // m / 10: the high half's last digit moves down to the low half's first.
      const h = (high / 10) | 0;
      low = ((low / 10) | 0) + (high - h * 10) * 10_000_000;
      high = h;
      k--;
    }
    const digits = high > 0 ? 8 + digitCount(high) : digitCount(low);
    const width = digits > k ? digits : k + 1;
    const len = (negative ? 1 : 0) + width + (k > 0 ? 1 : 0);
    this.view.setInt32(this.pos, len);
    const buf = this.buf;
    let q = this.pos + 4 + len;
    for (let d = 0; d < width; d++) {
      if (d === k && k > 0) buf[--q] = 0x2e; // '.'
      let digit: number;
      if (d < 8) {
        digit = low % 10;
        low = (low / 10) | 0;
      } else {
        digit = high % 10;
        high = (high / 10) | 0;
      }
      buf[--q] = 0x30 + digit;
    }
    if (negative) buf[--q] = 0x2d; // '-'
    this.pos += 4 + len;
  }

  /** Writes a time of |us| < 2^53 (µs from 2000-01-01) as `YYYY-MM-DD HH:MM:SS[.ffffff]` and `zone`. */
  private time(us: number, zone: string): void {
    // The quotient may round across a day boundary: the remainder (exact) sets it right.
    let day = Math.floor(us / US_PER_DAY);
    let rest = us - day * US_PER_DAY;
    if (rest < 0) {
      day--;
      rest += US_PER_DAY;
    } else if (rest >= US_PER_DAY) {
      day++;
      rest -= US_PER_DAY;
    }
    if (day !== this.lastDay) {
      this.lastDate = encoder.encode(dateText(day));
      this.lastDay = day;
    }
    // rest < 8.64e10: its quotient by 10^6 is far from rounding up to the next integer.
    const secs = Math.floor(rest / 1_000_000) | 0;
    let f = (rest - secs * 1_000_000) | 0;
    let fracDigits = 0;
    if (f !== 0) {
      fracDigits = 6;
      while (f % 10 === 0) {
        f = (f / 10) | 0;
        fracDigits--;
      }
    }
    const date = this.lastDate;
    const len = date.length + 9 + (fracDigits > 0 ? 1 + fracDigits : 0) + zone.length;
    this.view.setInt32(this.pos, len);
    const buf = this.buf;
    let p = this.pos + 4;
    for (let b = 0; b < date.length; b++) buf[p++] = date[b]!;
    const h = (secs / 3600) | 0;
    const mi = ((secs / 60) | 0) % 60;
    const s = secs % 60;
    buf[p++] = 0x20;
    buf[p++] = 0x30 + ((h / 10) | 0);
    buf[p++] = 0x30 + (h % 10);
    buf[p++] = 0x3a;
    buf[p++] = 0x30 + ((mi / 10) | 0);
    buf[p++] = 0x30 + (mi % 10);
    buf[p++] = 0x3a;
    buf[p++] = 0x30 + ((s / 10) | 0);
    buf[p++] = 0x30 + (s % 10);
    if (fracDigits > 0) {
      buf[p++] = 0x2e;
      for (let d = fracDigits - 1; d >= 0; d--) {
        buf[p + d] = 0x30 + (f % 10);
        f = (f / 10) | 0;
      }
      p += fracDigits;
    }
    for (let b = 0; b < zone.length; b++) buf[p++] = zone.charCodeAt(b);
    this.pos = p;
  }

  /** Writes a printed value (reserving its room). */
  private text(s: string): void {
    const len = s.length;
    this.reserve(4 + len);
    let p = this.pos + 4;
    let i = 0;
    for (; i < len; i++) {
      const ch = s.charCodeAt(i);
      if (ch >= 0x80) break;
      this.buf[p++] = ch;
    }
    if (i < len) {
      const bytes = encoder.encode(s);
      this.reserve(4 + bytes.length);
      this.buf.set(bytes, this.pos + 4);
      p = this.pos + 4 + bytes.length;
    }
    this.view.setInt32(this.pos, p - this.pos - 4);
    this.pos = p;
  }

  /** The messages written so far. */
  bytes(): Uint8Array[] {
    return [...this.done, this.buf.subarray(0, this.pos)];
  }
}
