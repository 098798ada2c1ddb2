/**
 * @module edge/values
 * Values of the edge profile and their PostgreSQL text forms. In memory a value uses the
 * columnstore's domains (columnstore/columns.ts): timestamptz/timestamp are bigint µs since
 * 2000-01-01, date is days since then, int8 is bigint, int2/int4/float are numbers, numeric is its
 * exact text, intervals are {months, days, micros}. Output follows PostgreSQL's text output with
 * DateStyle ISO and IntervalStyle postgres (the only styles the edge accepts).
 */
import { orbitError } from '../errors.js';
import {
  date2j,
  isFiniteTimestamp,
  j2date,
  POSTGRES_EPOCH_JDATE,
  TIMESTAMP_INFINITY,
  TIMESTAMP_MINUS_INFINITY,
  USECS_PER_DAY,
  type Interval,
} from '../functions/calendar.js';
import { fromLocal, toLocal } from '../functions/time-zone.js';

/** The types the edge profile stores and computes with; names as pg_type.typname. */
export const EdgeType = {
  bool: 'bool',
  int2: 'int2',
  int4: 'int4',
  int8: 'int8',
  float4: 'float4',
  float8: 'float8',
  numeric: 'numeric',
  text: 'text',
  varchar: 'varchar',
  timestamptz: 'timestamptz',
  timestamp: 'timestamp',
  date: 'date',
  interval: 'interval',
  /** A composite (record) value already in its text form, e.g. create_hypertable's result. */
  record: 'record',
  regclass: 'regclass',
  /** An untyped literal or parameter, resolved by context (PostgreSQL's `unknown`). */
  unknown: 'unknown',
} as const;
export type EdgeType = (typeof EdgeType)[keyof typeof EdgeType];

/** pg_type OIDs, for RowDescription and ParameterDescription. */
export const TYPE_OID: Record<EdgeType, number> = {
  bool: 16,
  int2: 21,
  int4: 23,
  int8: 20,
  float4: 700,
  float8: 701,
  numeric: 1700,
  text: 25,
  varchar: 1043,
  timestamptz: 1184,
  timestamp: 1114,
  date: 1082,
  interval: 1186,
  record: 2249,
  regclass: 2205,
  unknown: 705,
};

export type Value = null | boolean | number | bigint | string | Interval;

/** SQL type names (as the parser gives them, schema stripped) → edge types. */
const TYPE_NAMES: Record<string, EdgeType> = {
  bool: 'bool',
  boolean: 'bool',
  int2: 'int2',
  smallint: 'int2',
  int4: 'int4',
  int: 'int4',
  integer: 'int4',
  int8: 'int8',
  bigint: 'int8',
  float4: 'float4',
  real: 'float4',
  float8: 'float8',
  'double precision': 'float8',
  numeric: 'numeric',
  decimal: 'numeric',
  text: 'text',
  varchar: 'varchar',
  timestamptz: 'timestamptz',
  timestamp: 'timestamp',
  date: 'date',
  interval: 'interval',
  regclass: 'regclass',
};

/** The edge type named `name`, or 0A000 for types the edge profile does not have. */
export function typeNamed(name: string): EdgeType {
  const t = TYPE_NAMES[name.toLowerCase()];
  if (!t) throw orbitError('feature_not_supported', `type ${name} is not supported at the edge`);
  return t;
}

export const INTEGER_TYPES: ReadonlySet<EdgeType> = new Set(['int2', 'int4', 'int8']);
export const FLOAT_TYPES: ReadonlySet<EdgeType> = new Set(['float4', 'float8']);
export const NUMERIC_TYPES: ReadonlySet<EdgeType> = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'numeric']);
export const TEXT_TYPES: ReadonlySet<EdgeType> = new Set(['text', 'varchar', 'unknown']);
export const TIME_TYPES: ReadonlySet<EdgeType> = new Set(['timestamptz', 'timestamp', 'date']);

const INT_RANGE: Record<string, readonly [bigint, bigint]> = {
  int2: [-32768n, 32767n],
  int4: [-2147483648n, 2147483647n],
  int8: [-(2n ** 63n), 2n ** 63n - 1n],
};

const TYPE_LABEL: Partial<Record<EdgeType, string>> = {
  int2: 'smallint',
  int4: 'integer',
  int8: 'bigint',
  float4: 'real',
  float8: 'double precision',
  bool: 'boolean',
  timestamptz: 'timestamp with time zone',
  timestamp: 'timestamp without time zone',
};

/** The type as PostgreSQL names it in messages (`integer`, `timestamp with time zone`). */
export function typeLabel(t: EdgeType): string {
  return TYPE_LABEL[t] ?? t;
}

/** Checks an integer against its type's range (22003 as PostgreSQL). */
export function checkInt(t: EdgeType, v: bigint): bigint {
  const [lo, hi] = INT_RANGE[t]!;
  if (v < lo || v > hi) throw orbitError('numeric_value_out_of_range', `${typeLabel(t) === 'bigint' ? 'bigint' : typeLabel(t)} out of range`);
  return v;
}

// ---- input ------------------------------------------------------------------------------------

function invalidInput(t: EdgeType, text: string): never {
  const condition = TIME_TYPES.has(t) || t === 'interval' ? 'invalid_datetime_format' : 'invalid_text_representation';
  throw orbitError(condition, `invalid input syntax for type ${typeLabel(t)}: "${text}"`);
}

/** Parses PostgreSQL's text input of type `t` (the session time zone applies to zone-less timestamptz). */
export function parseText(t: EdgeType, text: string, zone: string): Value {
  const s = text.trim();
  switch (t) {
    case 'bool': {
      const b = s.toLowerCase();
      if (['t', 'true', 'y', 'yes', 'on', '1'].includes(b)) return true;
      if (['f', 'false', 'n', 'no', 'off', '0'].includes(b)) return false;
      return invalidInput(t, text);
    }
    case 'int2':
    case 'int4':
    case 'int8': {
      if (!/^[+-]?\d+$/.test(s)) return invalidInput(t, text);
      const v = checkInt(t, BigInt(s));
      return t === 'int8' ? v : Number(v);
    }
    case 'float4':
    case 'float8': {
      const special: Record<string, number> = { nan: NaN, infinity: Infinity, '+infinity': Infinity, '-infinity': -Infinity, inf: Infinity, '-inf': -Infinity };
      const sp = special[s.toLowerCase()];
      if (sp !== undefined) return sp;
      if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) return invalidInput(t, text);
      const v = Number(s);
      if (!Number.isFinite(v)) throw orbitError('numeric_value_out_of_range', `"${s}" is out of range for type ${typeLabel(t)}`);
      return t === 'float4' ? Math.fround(v) : v;
    }
    case 'numeric':
      return normaliseNumeric(s, text);
    case 'text':
    case 'varchar':
    case 'unknown':
    case 'regclass':
      return text;
    case 'timestamptz':
      return parseTimestamp(s, text, t, zone);
    case 'timestamp':
      return parseTimestamp(s, text, t, undefined);
    case 'date': {
      const ts = parseTimestamp(s, text, 'timestamp', undefined);
      if (!isFiniteTimestamp(ts)) return ts === TIMESTAMP_INFINITY ? 2 ** 31 - 1 : -(2 ** 31);
      return Number(floorDiv(ts, USECS_PER_DAY));
    }
    case 'interval':
      return parseInterval(s, text);
    default:
      throw orbitError('feature_not_supported', `input of type ${t} is not supported at the edge`);
  }
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

/** Numeric input keeps the written scale (display scale), as PostgreSQL's numeric_in. */
function normaliseNumeric(s: string, text: string): string {
  if (/^nan$/i.test(s)) return 'NaN';
  if (/^[+]?infinity$/i.test(s)) return 'Infinity';
  if (/^-infinity$/i.test(s)) return '-Infinity';
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return invalidInput('numeric', text);
  const [, sign, int, frac = '', exp] = m;
  const d = decimalOf(`${int}${frac}`, frac.length - Number(exp ?? 0));
  return formatDecimal(sign === '-' ? -d.n : d.n, Math.max(0, d.scale));
}

/** A decimal N × 10^-scale. */
export interface Decimal {
  readonly n: bigint;
  readonly scale: number;
}

function decimalOf(digits: string, scale: number): Decimal {
  let n = BigInt(digits === '' ? '0' : digits);
  if (scale < 0) {
    n *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { n, scale };
}

/** Parses numeric text (finite values) into N × 10^-scale. */
export function parseDecimal(text: string): Decimal {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw orbitError('feature_not_supported', `numeric value ${text} is not supported in edge arithmetic`);
  const frac = m[3] ?? '';
  const n = BigInt(m[2]! + frac);
  return { n: m[1] ? -n : n, scale: frac.length };
}

export function formatDecimal(n: bigint, scale: number): string {
  const neg = n < 0n;
  let digits = (neg ? -n : n).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return neg && /[1-9]/.test(digits) ? `-${digits}` : digits;
}

const TS_RE = /^(\d{4,})-(\d{1,2})-(\d{1,2})(?:(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(z|utc|gmt|[+-]\d{1,2}(?::?\d{2}(?::?\d{2})?)?)?)?(\s+bc)?$/i;

function parseTimestamp(s: string, text: string, t: 'timestamptz' | 'timestamp', zone: string | undefined): bigint {
  const lower = s.toLowerCase();
  if (lower === 'infinity' || lower === '+infinity') return TIMESTAMP_INFINITY;
  if (lower === '-infinity') return TIMESTAMP_MINUS_INFINITY;
  // 1970-01-01 00:00 UTC (timestamptz) or wall-clock (timestamp): the same µs either way.
  if (lower === 'epoch') return -946_684_800_000_000n;
  const m = TS_RE.exec(s);
  if (!m) return invalidInput(t, text);
  const [, y, mo, d, hh = '0', mi = '0', ss = '0', frac = '', tz, bc] = m;
  let year = Number(y);
  if (bc) year = 1 - year;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(hh);
  const minute = Number(mi);
  const second = Number(ss);
  const daysInMonth = [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth[month - 1]!) {
    throw orbitError('datetime_field_overflow', `date/time field value out of range: "${text}"`);
  }
  if (hour > 24 || minute > 59 || second > 60 || (hour === 24 && (minute > 0 || second > 0))) {
    throw orbitError('datetime_field_overflow', `date/time field value out of range: "${text}"`);
  }
  // Fractions beyond microseconds round half up, as PostgreSQL's timestamp input does.
  const micros = frac === '' ? 0 : Math.round(Number(`0.${frac}`) * 1e6);
  const days = BigInt(date2j(year, month, day) - POSTGRES_EPOCH_JDATE);
  const local = days * USECS_PER_DAY + BigInt(((hour * 60 + minute) * 60 + second) * 1e6 + micros);
  if (t === 'timestamp' || zone === undefined) return local;
  if (tz === undefined) return fromLocal(zone, local);
  const z = tz.toLowerCase();
  if (z === 'z' || z === 'utc' || z === 'gmt') return local;
  const om = /^([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(z)!;
  const offset = (Number(om[2]) * 3600 + Number(om[3] ?? 0) * 60 + Number(om[4] ?? 0)) * (om[1] === '-' ? -1 : 1);
  return local - BigInt(offset) * 1_000_000n;
}

const UNIT_MICROS: Record<string, number> = {
  microsecond: 1, microseconds: 1, us: 1, usec: 1, usecs: 1,
  millisecond: 1e3, milliseconds: 1e3, ms: 1e3, msec: 1e3, msecs: 1e3,
  second: 1e6, seconds: 1e6, sec: 1e6, secs: 1e6, s: 1e6,
  minute: 6e7, minutes: 6e7, min: 6e7, mins: 6e7, m: 6e7,
  hour: 3.6e9, hours: 3.6e9, hr: 3.6e9, hrs: 3.6e9, h: 3.6e9,
};
const UNIT_DAYS: Record<string, number> = { day: 1, days: 1, d: 1, week: 7, weeks: 7, w: 7 };
const UNIT_MONTHS: Record<string, number> = { month: 1, months: 1, mon: 1, mons: 1, year: 12, years: 12, y: 12, yr: 12, yrs: 12 };

/** Interval input in PostgreSQL's verbose and time forms: '1 day 02:00', '15 minutes', '1.5 hours', '@ 1 hour ago'. */
export function parseInterval(s: string, text = s): Interval {
  let months = 0;
  let days = 0;
  let micros = 0;
  const tokens = s.toLowerCase().replace(/^@\s*/, '').match(/[+-]?\d+(?::\d+){1,2}(?:\.\d+)?|[+-]?\d*\.?\d+|[a-z]+/g);
  if (!tokens || tokens.length === 0) return invalidInput('interval', text);
  let ago = false;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok === 'ago') {
      ago = true;
      continue;
    }
    if (tok.includes(':')) {
      const neg = tok.startsWith('-');
      const [h, m, sec = '0'] = tok.replace(/^[+-]/, '').split(':');
      const v = (Number(h) * 3600 + Number(m) * 60 + Number(sec)) * 1e6;
      micros += neg ? -v : v;
      continue;
    }
    if (!/^[+-]?\d*\.?\d+$/.test(tok)) return invalidInput('interval', text);
    const n = Number(tok);
    const unit = tokens[i + 1];
    if (unit === undefined || /^[+-]?\d/.test(unit)) {
      // A bare number is seconds, as in PostgreSQL.
      micros += n * 1e6;
      continue;
    }
    i++;
    if (UNIT_MICROS[unit] !== undefined) micros += n * UNIT_MICROS[unit];
    else if (UNIT_DAYS[unit] !== undefined) {
      const whole = Math.trunc(n * UNIT_DAYS[unit]);
      days += whole;
      micros += (n * UNIT_DAYS[unit] - whole) * 86_400e6;
    } else if (UNIT_MONTHS[unit] !== undefined) {
      const whole = Math.trunc(n * UNIT_MONTHS[unit]);
      months += whole;
      // A fractional month is 30 days, as PostgreSQL's DAYS_PER_MONTH.
      const fracDays = (n * UNIT_MONTHS[unit] - whole) * 30;
      days += Math.trunc(fracDays);
      micros += (fracDays - Math.trunc(fracDays)) * 86_400e6;
    } else return invalidInput('interval', text);
  }
  const r = { months, days, micros: BigInt(Math.round(micros)) };
  return ago ? { months: -r.months, days: -r.days, micros: -r.micros } : r;
}

// ---- output -----------------------------------------------------------------------------------

const pad = (n: number | bigint, w: number) => String(n).padStart(w, '0');

/** Seconds with up to six fraction digits, trailing zeros dropped (PostgreSQL's AppendSeconds). */
function clock(micros: bigint): string {
  const h = micros / 3_600_000_000n;
  const m = (micros / 60_000_000n) % 60n;
  const sec = (micros / 1_000_000n) % 60n;
  const frac = micros % 1_000_000n;
  const f = frac === 0n ? '' : `.${pad(frac, 6).replace(/0+$/, '')}`;
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(sec, 2)}${f}`;
}

function dateParts(days: number): { text: string; bc: boolean } {
  const { year, month, day } = j2date(days + POSTGRES_EPOCH_JDATE);
  const bc = year <= 0;
  return { text: `${pad(bc ? 1 - year : year, 4)}-${pad(month, 2)}-${pad(day, 2)}`, bc };
}

function localText(local: bigint): { text: string; bc: boolean } {
  const days = floorDiv(local, USECS_PER_DAY);
  const d = dateParts(Number(days));
  return { text: `${d.text} ${clock(local - days * USECS_PER_DAY)}`, bc: d.bc };
}

export function formatTimestamp(ts: bigint): string {
  if (ts === TIMESTAMP_INFINITY) return 'infinity';
  if (ts === TIMESTAMP_MINUS_INFINITY) return '-infinity';
  const l = localText(ts);
  return l.bc ? `${l.text} BC` : l.text;
}

export function formatTimestamptz(ts: bigint, zone: string): string {
  if (!isFiniteTimestamp(ts)) return formatTimestamp(ts);
  const local = toLocal(zone, ts);
  const offset = Number((local - ts) / 1_000_000n);
  const a = Math.abs(offset);
  let tz = `${offset < 0 ? '-' : '+'}${pad(Math.floor(a / 3600), 2)}`;
  if (a % 3600 !== 0) tz += `:${pad(Math.floor((a % 3600) / 60), 2)}`;
  if (a % 60 !== 0) tz += `:${pad(a % 60, 2)}`;
  const l = localText(local);
  return `${l.text}${tz}${l.bc ? ' BC' : ''}`;
}

export function formatDate(days: number): string {
  if (days === 2 ** 31 - 1) return 'infinity';
  if (days === -(2 ** 31)) return '-infinity';
  const d = dateParts(days);
  return d.bc ? `${d.text} BC` : d.text;
}

/** IntervalStyle postgres: `1 year 2 mons 3 days 04:05:06`, `00:00:00` for zero. */
export function formatInterval(i: Interval): string {
  const parts: string[] = [];
  const years = Math.trunc(i.months / 12);
  const mons = i.months % 12;
  const unit = (n: number, one: string, many: string) => `${n} ${Math.abs(n) === 1 ? one : many}`;
  if (years !== 0) parts.push(unit(years, 'year', 'years'));
  if (mons !== 0) parts.push(unit(mons, 'mon', 'mons'));
  if (i.days !== 0) parts.push(unit(i.days, 'day', 'days'));
  if (i.micros !== 0n || parts.length === 0) {
    const neg = i.micros < 0n;
    const positiveBefore = parts.length > 0 && !neg;
    parts.push(`${neg ? '-' : positiveBefore && (years < 0 || mons < 0 || i.days < 0) ? '+' : ''}${clock(neg ? -i.micros : i.micros)}`);
  }
  return parts.join(' ');
}

/**
 * float8 output as PostgreSQL 12+ (extra_float_digits = 1): the shortest digits that read back
 * exactly, in fixed notation for decimal exponents -4..14 and `1e+15` style otherwise (printf %g
 * thresholds with DBL_DIG = 15; float4 uses FLT_DIG = 6).
 */
export function formatFloat(v: number, type: 'float4' | 'float8' = 'float8'): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  let exp: string;
  if (type === 'float4') {
    // JavaScript has no float32 shortest form: the fewest significant digits that round-trip through float32.
    let p = 1;
    while (p < 9 && Math.fround(Number(v.toPrecision(p))) !== v) p++;
    exp = Number(v.toPrecision(p)).toExponential();
  } else {
    exp = v.toExponential();
    // V8 accepts a shortest candidate that lies exactly half an ulp away (round-half-even reads it
    // back); PostgreSQL's Ryu does not, and prints the next closest candidate with more digits.
    for (let p = exp.replace(/^-|e.*$|\./g, '').length + 1; p <= 17 && (onBoundary(v, exp) || Number(exp) !== v); p++) exp = Number(v.toPrecision(p)).toExponential(p - 1);
  }
  const [mant, e] = exp.split('e');
  const x = Number(e);
  const neg = mant!.startsWith('-');
  const digits = mant!.replace('-', '').replace('.', '');
  const limit = type === 'float4' ? 6 : 15;
  let out: string;
  if (x < -4 || x >= limit) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    out = `${m}e${x < 0 ? '-' : '+'}${pad(Math.abs(x), 2)}`;
  } else if (x < 0) {
    out = `0.${'0'.repeat(-x - 1)}${digits}`;
  } else if (digits.length <= x + 1) {
    out = digits + '0'.repeat(x + 1 - digits.length);
  } else {
    out = `${digits.slice(0, x + 1)}.${digits.slice(x + 1)}`;
  }
  return neg ? `-${out}` : out;
}

/** Whether the decimal `exp` (toExponential form) is exactly half an ulp from the double `v`. */
function onBoundary(v: number, exp: string): boolean {
  const bits = new DataView(new ArrayBuffer(8));
  bits.setFloat64(0, Math.abs(v));
  const hi = bits.getUint32(0);
  const E = (hi >>> 20) & 0x7ff;
  const F = (BigInt(hi & 0xfffff) << 32n) | BigInt(bits.getUint32(4));
  const m = E === 0 ? F : F | (1n << 52n);
  const e = E === 0 ? -1074 : E - 1075;
  const [mant, x] = exp.replace('-', '').split('e');
  const digits = mant!.replace('.', '');
  const q = Number(x) - (digits.length - 1);
  // Scale so that D = d·10^q, v = m·2^e and the half-ulps 2^(e-1), 2^(e-2) are all integers.
  const s2 = Math.max(0, 2 - e);
  const s10 = Math.max(0, -q);
  const pow2 = (k: number) => 2n ** BigInt(k);
  const pow10 = (k: number) => 10n ** BigInt(k);
  const d = BigInt(digits) * pow10(q + s10) * pow2(s2);
  const w = m * pow2(e + s2) * pow10(s10);
  const halfUp = pow2(e - 1 + s2) * pow10(s10);
  // Below a power of two the next smaller double is half as far away.
  const halfDown = F === 0n && E > 1 ? pow2(e - 2 + s2) * pow10(s10) : halfUp;
  return d - w === halfUp || w - d === halfDown;
}

/** PostgreSQL's text output of `v` of type `t` (null stays null: a NULL column value). */
export function formatValue(t: EdgeType, v: Value, zone: string): string | null {
  if (v === null) return null;
  switch (t) {
    case 'bool':
      return v ? 't' : 'f';
    case 'float4':
    case 'float8':
      return formatFloat(v as number, t);
    case 'timestamptz':
      return formatTimestamptz(v as bigint, zone);
    case 'timestamp':
      return formatTimestamp(v as bigint);
    case 'date':
      return formatDate(v as number);
    case 'interval':
      return formatInterval(v as Interval);
    default:
      return String(v);
  }
}
