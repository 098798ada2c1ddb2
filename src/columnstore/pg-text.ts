/**
 * @module columnstore/pg-text
 * PostgreSQL's text output of decoded column values, byte for byte, so that the scan path can
 * answer plain row-returning SELECTs without handing the rows to PostgreSQL (session/
 * columnstore/scan.ts). Only what is exact is here; the caller falls back for the rest:
 *
 * - float8/float4 with extra_float_digits > 0: the shortest text that reads back as the same value
 *   (PostgreSQL 12+'s float8out/float4out), fixed notation for decimal exponents -4 ≤ X < 15
 *   (float4: < 6), otherwise `d.ddde±XX` with at least two exponent digits;
 * - timestamp, date, and timestamptz in UTC under DateStyle ISO (`YYYY-MM-DD HH:MM:SS[.ffffff]`,
 *   `+00`, ` BC` for years ≤ 0, years past 9999 in full);
 * - integers, bool, and text-held values (text, varchar, numeric as stored) unchanged.
 *
 * Hand-written: no library formats PostgreSQL's layouts; JavaScript's own shortest round-trip
 * digits (Number.prototype.toExponential) are the digits, only the layout is PostgreSQL's.
 */
import type { Column, PgType } from './columns.js';

/** Types `TextRows` can print. */
/** Type oids of the types printed here. */
export const TYPE_OIDS: Record<string, number> = { bool: 16, int8: 20, int2: 21, int4: 23, text: 25, float4: 700, float8: 701, varchar: 1043, date: 1082, timestamp: 1114, timestamptz: 1184, numeric: 1700 };

/** TimeZone settings in which timestamptz prints as UTC (`+00`). */
export const UTC_ZONES = new Set(['UTC', 'Etc/UTC', 'GMT', 'Etc/GMT', 'UCT', 'Etc/UCT', 'Universal', 'Etc/Universal', 'Zulu', 'Etc/Zulu']);

export const TEXT_OUTPUT_TYPES: ReadonlySet<PgType> = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'bool', 'text', 'varchar', 'numeric', 'timestamptz', 'timestamp', 'date']);

/** Lays out shortest round-trip digits `digits` (no point) with decimal exponent `x` as PostgreSQL does. */
function layout(negative: boolean, digits: string, x: number, fixedBelow: number): string {
  const sign = negative ? '-' : '';
  if (x < -4 || x >= fixedBelow) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(x);
    return `${sign}${mantissa}e${x < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  if (x < 0) return `${sign}0.${'0'.repeat(-x - 1)}${digits}`;
  if (digits.length <= x + 1) return `${sign}${digits}${'0'.repeat(x + 1 - digits.length)}`;
  return `${sign}${digits.slice(0, x + 1)}.${digits.slice(x + 1)}`;
}

/** Splits `d.ddde±X` into its digits and exponent. */
function split(exp: string): [string, number] {
  const e = exp.indexOf('e');
  return [exp.slice(0, e).replace('.', ''), Number(exp.slice(e + 1))];
}

function special(v: number): string | undefined {
  if (v !== v) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  return undefined;
}

/** float8out with extra_float_digits > 0. */
export function float8Text(v: number): string {
  const a = v < 0 ? -v : v;
  // Where both print fixed notation (JavaScript from 1e-7 to 1e21), JavaScript's shortest
  // round-trip text is PostgreSQL's.
  if (a >= 1e-4 && a < 1e15) return String(v);
  const s = special(v);
  if (s !== undefined) return s;
  const negative = v < 0;
  // toExponential() without an argument gives as many digits as needed to tell the value apart.
  let exp = a.toExponential();
  // JavaScript accepts a decimal exactly halfway to a neighbour that rounds (half to even) back to
  // the value; PostgreSQL's shortest output does not, and takes more digits. Halfway points of
  // doubles have at most 17 digits only from 2^54 on (they are integers there).
  if (a >= 2 ** 54 && a !== Infinity) for (let p = split(exp)[0].length; halfway(exp, a, 52) && p < 17; p++) exp = a.toExponential(p);
  const [digits, x] = split(exp);
  return layout(negative, digits.replace(/0+$/, '') || '0', x, 15);
}

/**
 * Whether the integer decimal `exp` lies exactly halfway between `a` (≥ 2^(bits + 2), a float
 * with `bits` stored mantissa bits) and a neighbour.
 */
function halfway(exp: string, a: number, bits: number): boolean {
  const [digits, x] = split(exp);
  const shift = x - (digits.length - 1);
  if (shift < 0) return false;
  const candidate = BigInt(digits) * 10n ** BigInt(shift);
  const value = BigInt(a);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  const ulp = 2n ** BigInt(e - bits);
  const diff = candidate > value ? candidate - value : value - candidate;
  // Below a power of two the neighbour is half as far.
  return diff * 2n === ulp || (candidate < value && a === 2 ** e && diff * 4n === ulp);
}

/** float4out with extra_float_digits > 0: the fewest digits that read back as the same float4. */
export function float4Text(v: number): string {
  const s = special(v);
  if (s !== undefined) return s;
  const negative = v < 0;
  const a = negative ? -v : v;
  let exp = a.toExponential(8);
  for (let p = 0; p < 8; p++) {
    const candidate = a.toExponential(p);
    // A decimal halfway to a neighbour is not taken (see float8Text); possible from 2^26 on.
    if (Math.fround(Number(candidate)) === a && !(a >= 2 ** 26 && a !== Infinity && halfway(candidate, a, 23))) {
      exp = candidate;
      break;
    }
  }
  const [digits, x] = split(exp);
  // toExponential(p) may end in zeros (1.0e+0 at p = 1 is not reached: p = 0 matched first).
  return layout(negative, digits.replace(/0+$/, '') || '0', x, 6);
}

const US_PER_DAY = 86_400_000_000;
/** Days from 1970-01-01 to 2000-01-01 (PostgreSQL's epoch). */
const EPOCH_DAYS = 10_957;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);

function pad(n: number, width: number): string {
  const s = String(n);
  return s.length >= width ? s : '0'.repeat(width - s.length) + s;
}

/** Year, month, day of a day number counted from 1970-01-01 (proleptic Gregorian, year 0 = 1 BC). */
function civil(days: number): [number, number, number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

function ymd(days2000: number): [string, boolean] {
  const [y, m, d] = civil(days2000 + EPOCH_DAYS);
  const bc = y <= 0;
  return [`${pad(bc ? 1 - y : y, 4)}-${pad(m, 2)}-${pad(d, 2)}`, bc];
}

/** date_out under DateStyle ISO. */
export function dateText(days: number): string {
  if (days === INT32_MAX) return 'infinity';
  if (days === INT32_MIN) return '-infinity';
  const [s, bc] = ymd(days);
  return bc ? `${s} BC` : s;
}

/** timestamp_out (zone: '') or timestamptz_out in UTC (zone: '+00') under DateStyle ISO. */
export function timestampText(us: bigint, zone: '' | '+00'): string {
  if (us === INT64_MAX) return 'infinity';
  if (us === INT64_MIN) return '-infinity';
  let days: number;
  let rest: number;
  if (us > -(2n ** 53n) && us < 2n ** 53n) {
    const n = Number(us);
    days = Math.floor(n / US_PER_DAY);
    rest = n - days * US_PER_DAY;
  } else {
    const day = BigInt(US_PER_DAY);
    let d = us / day;
    let r = us % day;
    if (r < 0n) {
      r += day;
      d -= 1n;
    }
    days = Number(d);
    rest = Number(r);
  }
  const [date, bc] = ymd(days);
  const secs = Math.floor(rest / 1_000_000);
  const frac = rest - secs * 1_000_000;
  let time = `${pad(Math.floor(secs / 3600), 2)}:${pad(Math.floor(secs / 60) % 60, 2)}:${pad(secs % 60, 2)}`;
  if (frac !== 0) time += `.${pad(frac, 6).replace(/0+$/, '')}`;
  return `${date} ${time}${zone}${bc ? ' BC' : ''}`;
}

/** The text of row `i` of a column (not NULL), for a type in TEXT_OUTPUT_TYPES. */
export type Formatter = (column: Column, i: number) => string;

/** The formatter of a column type, or undefined when it has none. */
export function formatterOf(type: PgType): Formatter | undefined {
  switch (type) {
    case 'int2':
    case 'int4':
    case 'int8':
      return (c, i) => String(c.values[i]);
    case 'float8':
      return (c, i) => float8Text(c.values[i] as number);
    case 'float4':
      return (c, i) => float4Text(c.values[i] as number);
    case 'bool':
      return (c, i) => (c.values[i] ? 't' : 'f');
    case 'text':
    case 'varchar':
    case 'numeric':
      return (c, i) => c.values[i] as string;
    case 'timestamptz':
      return (c, i) => timestampText(c.values[i] as bigint, '+00');
    case 'timestamp':
      return (c, i) => timestampText(c.values[i] as bigint, '');
    case 'date':
      return (c, i) => dateText(c.values[i] as number);
    default:
      return undefined;
  }
}

/**
 * How an in-process result turns a column's text into a JS value: 'number' (the parser gives the
 * stored number itself: int2/int4/float8 under PGlite's default parsers), `date` (PGlite's default
 * timestamptz/date parser: a Date of the text, ±Infinity for ±infinity; `date` is that parser), a
 * parser of the text, or undefined (the text itself).
 */
export type ValueOf = 'number' | { readonly date: (text: string) => unknown } | ((text: string) => unknown) | undefined;
