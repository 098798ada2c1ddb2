/**
 * @module columnstore/row-objects
 * Row objects built from decoded columns as an in-process `query()` would give them: PostgreSQL's
 * text output (pg-text.ts) read by the row store's type parsers, skipping the text where the
 * parser's value is known without it (the stored number; a Date of a time).
 *
 * Speed: 40 K rows of 21 columns are built per query on the TSBS high-cpu-all query. Where the
 * runtime compiles code from strings (Node, browsers without a CSP forbidding it; not Cloudflare
 * Workers), each batch's rows come from a function made for the output's names and column kinds,
 * one object literal per row: V8 gives every row one hidden class and builds it in one step,
 * about 3× faster than copying a template and storing each field by name (measured on 43 K rows ×
 * 21 columns), and repeated queries reuse the compiled function. Elsewhere, rows are copies of a
 * template made by JSON.parse (fast properties, see rowstore/typed-query.ts) holding the batch's
 * constant columns, with the other fields stored by name.
 */
import type { Column } from './columns.js';
import { isNull } from './codecs/values.js';
import { dateText, timestampText, type Formatter, type ValueOf } from './pg-text.js';

/** Milliseconds from 1970-01-01 to 2000-01-01 (PostgreSQL's epoch). */
const EPOCH_MS = 946_684_800_000;
/**
 * Times whose Date is built from the value: years 1000–9999, where V8's parse of PostgreSQL's ISO
 * text (`YYYY-MM-DD HH:MM:SS.ffffff+00`, `YYYY-MM-DD`) is the time truncated to milliseconds. Years
 * before 100 read as two-digit years there, BC and five-digit years as invalid dates: those go
 * through the parser.
 */
const MIN_MS = Date.UTC(1000, 0, 1);
const MAX_MS = Date.UTC(10000, 0, 1);
const MS_PER_DAY = 86_400_000;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Whether `parse` (a date parser, ValueOf's `date`) gives, for texts of times inside the window,
 * exactly the Date built from the value; probed once per parser (another engine's Date parser may
 * read PostgreSQL's layout otherwise).
 */
const agrees = new WeakMap<object, boolean>();
function dateParserAgrees(parse: (text: string) => unknown): boolean {
  let known = agrees.get(parse);
  if (known === undefined) {
    // Around 1970 and 2000, fractions below a millisecond either side of zero, the window's ends.
    const first = BigInt(MIN_MS - EPOCH_MS) * 1000n;
    const end = BigInt(MAX_MS - EPOCH_MS) * 1000n;
    const times = [0n, 1n, -1n, 999n, 1_000n, -1_001n, 86_399_999_999n, 1_000_000_123_456n, -1_000_000_123_456n, -946_684_800_000_001n, first, first + 1n, end - 1n];
    const days = [0, -1, 10_000, -10_958, (MIN_MS - EPOCH_MS) / MS_PER_DAY, (MAX_MS - EPOCH_MS) / MS_PER_DAY - 1];
    known =
      times.every((us) => {
        const d = parse(timestampText(us, '+00'));
        return d instanceof Date && d.getTime() === Number(us / 1000n - (us % 1000n < 0n ? 1n : 0n)) + EPOCH_MS;
      }) &&
      days.every((day) => {
        const d = parse(dateText(day));
        return d instanceof Date && d.getTime() === day * MS_PER_DAY + EPOCH_MS;
      });
    agrees.set(parse, known);
  }
  return known;
}

/** How one output column's value is read for a batch. */
type Access =
  /** One value for every row: read once. */
  | 'constant'
  /** The stored number itself. */
  | 'stored'
  /** A timestamptz held as int64 microseconds, read as two int32 halves (no BigInt per value). */
  | 'timestamptz'
  /** A date held as int32 days. */
  | 'date'
  /** Printed, then parsed (or the text itself). */
  | 'text';

/** Converts row `i` of a column (not NULL) to its value through the text. */
type Slow = (c: Column, i: number) => unknown;

/** A timestamptz's Date (`w`: the int64 values as int32 pairs), or `slow` outside the window. */
function timestamptzDate(w: Int32Array, i: number, slow: Slow, c: Column): unknown {
  const hi = w[2 * i + 1]!;
  // us = hi·2^32 + lo = 1000·(hi·4294967) + (hi·296 + lo): floor(us / 1000) without losing digits.
  const x = hi * 296 + (w[2 * i]! >>> 0);
  let r = x % 1000;
  if (r < 0) r += 1000;
  const ms = hi * 4_294_967 + (x - r) / 1000 + EPOCH_MS;
  return ms >= MIN_MS && ms < MAX_MS ? new Date(ms) : slow(c, i);
}

/** A date's Date (`days` since 2000-01-01), or `slow` outside the window. */
function dayDate(days: number, i: number, slow: Slow, c: Column): unknown {
  const ms = days * MS_PER_DAY + EPOCH_MS;
  return ms >= MIN_MS && ms < MAX_MS ? new Date(ms) : slow(c, i);
}

/** Builds `count` rows of a batch into `out`; see ObjectRows.append. */
type Build = (out: unknown[], rows: Uint32Array | undefined, count: number, a: readonly unknown[], n: ReadonlyArray<Uint8Array | null>, k: readonly unknown[], s: readonly Slow[], c: readonly Column[], T: typeof timestamptzDate, D: typeof dayDate) => void;

/** Compiled builders by names and column kinds (a handful per statement shape; bounded). */
const builders = new Map<string, Build>();
const MAX_BUILDERS = 256;

let compiles: boolean | undefined;
/** Whether code can be compiled from strings here (not in Cloudflare Workers, nor under a strict CSP). */
function canCompile(): boolean {
  if (compiles === undefined) {
    try {
      compiles = new Function('return 1')() === 1;
    } catch {
      compiles = false;
    }
  }
  return compiles;
}

/** Tests only: forces the builder without compiled code (true), or restores the default. */
export function useTemplateRows(on: boolean): void {
  compiles = on ? false : undefined;
}

function compile(names: readonly string[], access: readonly Access[]): Build {
  const key = JSON.stringify([names, access]);
  let build = builders.get(key);
  if (build) return build;
  const fields = names.map((name, j) => {
    const notNull = (v: string) => `(n${j} !== null && (n${j}[i >> 3] & (1 << (i & 7))) !== 0 ? null : ${v})`;
    const value =
      access[j] === 'constant'
        ? `k${j}`
        : access[j] === 'stored'
          ? notNull(`a${j}[i]`)
          : access[j] === 'timestamptz'
            ? notNull(`T(a${j}, i, s${j}, c${j})`)
            : access[j] === 'date'
              ? notNull(`D(a${j}[i], i, s${j}, c${j})`)
              : notNull(`s${j}(c${j}, i)`);
    // Names are JSON string literals: any name is a valid key ('__proto__' is kept off this path).
    return `${JSON.stringify(name)}: ${value}`;
  });
  const locals = names.map((_, j) => `const a${j} = a[${j}], n${j} = n[${j}], k${j} = k[${j}], s${j} = s[${j}], c${j} = c[${j}];`).join('\n');
  const body = `${locals}
for (let x = 0; x < count; x++) {
  const i = rows === undefined ? x : rows[x];
  out.push({ ${fields.join(', ')} });
}`;
  build = new Function('out', 'rows', 'count', 'a', 'n', 'k', 's', 'c', 'T', 'D', body) as Build;
  if (builders.size >= MAX_BUILDERS) builders.delete(builders.keys().next().value!);
  builders.set(key, build);
  return build;
}

/**
 * Row objects as PostgreSQL's text output read by the type parsers would give them, built from
 * decoded columns (rows keyed by column name, a later column of the same name winning).
 */
export class ObjectRows {
  readonly rows: Array<Record<string, unknown>> = [];
  /** Copies of one object made by JSON.parse keep V8's fast properties (see rowstore/typed-query.ts). */
  private readonly template: Record<string, unknown>;
  private readonly compiled: boolean;
  /** This statement's builders by column kinds (the shared map is keyed by names too). */
  private readonly built = new Map<string, Build>();

  constructor(private readonly names: readonly string[]) {
    this.template = JSON.parse(JSON.stringify(Object.fromEntries(names.map((n) => [n, null])))) as Record<string, unknown>;
    // An object literal's `__proto__:` sets the prototype: such a name takes the template path.
    this.compiled = canCompile() && !names.includes('__proto__');
  }

  /** Per column, its converter through the text, made once for the formatter and parser it was made for. */
  private readonly slows: Array<{ readonly v: ValueOf | undefined; readonly format: Formatter; readonly s: Slow } | undefined> = [];

  private slowOf(j: number, v: ValueOf | undefined, format: Formatter): Slow {
    const known = this.slows[j];
    if (known && known.v === v && known.format === format) return known.s;
    const s: Slow =
      v === 'number' ? (col, i) => col.values[i] : v === undefined ? format : typeof v === 'function' ? (col, i) => v(format(col, i)) : (col, i) => v.date(format(col, i));
    this.slows[j] = { v, format, s };
    return s;
  }

  /**
   * Appends the rows `rows` (undefined: all `count`) of `columns`, whose values `formats` print and
   * `values` convert; columns marked `constant` hold one value in every row.
   */
  append(columns: readonly Column[], formats: readonly Formatter[], values: readonly ValueOf[], rows: Uint32Array | undefined, count: number, constant: readonly boolean[]): void {
    if (count === 0) return;
    const n = columns.length;
    const access: Access[] = [];
    const a: unknown[] = [];
    const nulls: Array<Uint8Array | null> = [];
    const k: unknown[] = [];
    const slow: Slow[] = [];
    for (let j = 0; j < n; j++) {
      const c = columns[j]!;
      const v = values[j];
      const format = formats[j]!;
      const s = this.slowOf(j, v, format);
      const value = constant[j] ? (c.nulls !== null && isNull(c.nulls, 0) ? null : s(c, 0)) : undefined;
      if (constant[j] && typeof value === 'object' && value !== null) {
        // An object (a Date, a parsed array) is made for every row, as the parser would: rows do
        // not share it. The column holds no NULL (an all-NULL one gives null above).
        slow.push((col) => s(col, 0));
        nulls.push(null);
        access.push('text');
        a.push(undefined);
        k.push(undefined);
        continue;
      }
      slow.push(s);
      nulls.push(c.nulls);
      if (constant[j]) {
        access.push('constant');
        k.push(value);
        a.push(undefined);
      } else if (v === 'number') {
        access.push('stored');
        a.push(c.values);
        k.push(undefined);
      } else if (typeof v === 'object' && c.type === 'timestamptz' && LITTLE_ENDIAN && dateParserAgrees(v.date)) {
        access.push('timestamptz');
        a.push(new Int32Array(c.values.buffer, c.values.byteOffset, c.values.length * 2));
        k.push(undefined);
      } else if (typeof v === 'object' && c.type === 'date' && dateParserAgrees(v.date)) {
        access.push('date');
        a.push(c.values);
        k.push(undefined);
      } else {
        access.push('text');
        a.push(undefined);
        k.push(undefined);
      }
    }
    if (this.compiled) {
      const kinds = access.join();
      let build = this.built.get(kinds);
      if (!build) this.built.set(kinds, (build = compile(this.names, access)));
      build(this.rows, rows, count, a, nulls, k, slow, columns, timestamptzDate, dayDate);
      return;
    }
    // The batch's constant fields set once in a copy of the template, the others per row (all per
    // row when names repeat: the later column wins).
    const base: Record<string, unknown> = { ...this.template };
    const varying: number[] = [];
    const unique = new Set(this.names).size === n;
    for (let j = 0; j < n; j++) {
      if (access[j] === 'constant' && unique) base[this.names[j]!] = k[j];
      else varying.push(j);
    }
    for (let x = 0; x < count; x++) {
      const i = rows === undefined ? x : rows[x]!;
      const row: Record<string, unknown> = { ...base };
      for (const j of varying) {
        const c = columns[j]!;
        const name = this.names[j]!;
        if (access[j] === 'constant') row[name] = k[j];
        else if (c.nulls !== null && isNull(c.nulls, i)) row[name] = null;
        else if (access[j] === 'stored') row[name] = c.values[i];
        else if (access[j] === 'timestamptz') row[name] = timestamptzDate(a[j] as Int32Array, i, slow[j]!, c);
        else if (access[j] === 'date') row[name] = dayDate(c.values[i] as number, i, slow[j]!, c);
        else row[name] = slow[j]!(c, i);
      }
      this.rows.push(row);
    }
  }
}
