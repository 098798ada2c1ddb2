/**
 * @module functions/calendar
 * PostgreSQL's date/time representation and calendar arithmetic, ported from `src/backend/utils/adt/
 * {datetime,timestamp,date}.c` so that results match PostgreSQL to the microsecond.
 *
 * Representation (as in PostgreSQL): a timestamp or timestamptz is a bigint of microseconds since
 * 2000-01-01 00:00:00 (UTC for timestamptz), ±infinity being the int64 extremes; a date is a number
 * of days since 2000-01-01, ±infinity being the int32 extremes; an interval has separate month, day
 * and microsecond fields.
 */
import { orbitError } from '../errors.js';

export const USECS_PER_DAY = 86_400_000_000n;
export const USECS_PER_SEC = 1_000_000n;
/** Julian day number of 2000-01-01. */
export const POSTGRES_EPOCH_JDATE = 2_451_545;

/** `DT_NOBEGIN` / `DT_NOEND`: -infinity and infinity for timestamp and timestamptz. */
export const TIMESTAMP_MINUS_INFINITY = -(2n ** 63n);
export const TIMESTAMP_INFINITY = 2n ** 63n - 1n;
/** `DATEVAL_NOBEGIN` / `DATEVAL_NOEND`. */
export const DATE_MINUS_INFINITY = -(2 ** 31);
export const DATE_INFINITY = 2 ** 31 - 1;

/** `MIN_TIMESTAMP` (4714-11-24 00:00 BC) and `END_TIMESTAMP` (294277-01-01 00:00, exclusive). */
export const MIN_TIMESTAMP = -211_813_488_000_000_000n;
export const END_TIMESTAMP = 9_223_371_331_200_000_000n;

/** A PostgreSQL interval: the three fields are independent (1 month is not 30 days). */
export interface Interval {
  readonly months: number;
  readonly days: number;
  readonly micros: bigint;
}

export function interval(months: number, days: number, micros: bigint | number): Interval {
  return { months, days, micros: BigInt(micros) };
}

export function negateInterval(i: Interval): Interval {
  return { months: -i.months, days: -i.days, micros: -i.micros };
}

export function isFiniteTimestamp(ts: bigint): boolean {
  return ts !== TIMESTAMP_INFINITY && ts !== TIMESTAMP_MINUS_INFINITY;
}

export function isFiniteDate(d: number): boolean {
  return d !== DATE_INFINITY && d !== DATE_MINUS_INFINITY;
}

/** Floor division and the matching non-negative remainder (C's `/` and `%` truncate instead). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

export function floorMod(a: bigint, b: bigint): bigint {
  return a - floorDiv(a, b) * b;
}

/** Julian day number of a proleptic Gregorian date (`date2j`; astronomical years, 1 BC = 0). */
export function date2j(year: number, month: number, day: number): number {
  let y = year;
  let m = month;
  if (m > 2) {
    m += 1;
    y += 4800;
  } else {
    m += 13;
    y += 4799;
  }
  const century = Math.trunc(y / 100);
  let julian = y * 365 - 32167;
  julian += Math.trunc(y / 4) - century + Math.trunc(century / 4);
  julian += Math.trunc((7834 * m) / 256) + day;
  return julian;
}

/** `j2date`: the inverse of date2j, for Julian days ≥ 0 (the whole range PostgreSQL accepts). */
export function j2date(jd: number): { year: number; month: number; day: number } {
  let julian = jd + 32044;
  let quad = Math.floor(julian / 146097);
  const extra = (julian - quad * 146097) * 4 + 3;
  julian += 60 + quad * 3 + Math.floor(extra / 146097);
  quad = Math.floor(julian / 1461);
  julian -= quad * 1461;
  let y = Math.floor((julian * 4) / 1461);
  julian = (y !== 0 ? (julian + 305) % 365 : (julian + 306) % 366) + 123;
  y += quad * 4;
  const q = Math.floor((julian * 2141) / 65536);
  return { year: y - 4800, month: ((q + 10) % 12) + 1, day: julian - Math.floor((7834 * q) / 256) };
}

function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

function daysInMonth(y: number, m: number): number {
  return [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
}

/** The date of a finite timestamp (`timestamp_date`: the day it falls in). */
export function timestampToDate(ts: bigint): number {
  return Number(floorDiv(ts, USECS_PER_DAY));
}

export function dateToTimestamp(d: number): bigint {
  return BigInt(d) * USECS_PER_DAY;
}

/** Year and month of a date (days since 2000-01-01). */
export function dateToYearMonth(d: number): { year: number; month: number } {
  const { year, month } = j2date(d + POSTGRES_EPOCH_JDATE);
  return { year, month };
}

export function checkTimestampRange(ts: bigint): bigint {
  if (ts < MIN_TIMESTAMP || ts >= END_TIMESTAMP) throw orbitError('datetime_field_overflow', 'timestamp out of range');
  return ts;
}

/** Adds whole months to a timestamp's calendar date, clamping the day (`timestamp_pl_interval`). */
export function addMonths(ts: bigint, months: number): bigint {
  const days = floorDiv(ts, USECS_PER_DAY);
  const timeOfDay = ts - days * USECS_PER_DAY;
  const { year, month, day } = j2date(Number(days) + POSTGRES_EPOCH_JDATE);
  let y = year;
  let m = month + months;
  if (m > 12) {
    y += Math.trunc((m - 1) / 12);
    m = ((m - 1) % 12) + 1;
  } else if (m < 1) {
    y += Math.trunc(m / 12) - 1;
    m = (m % 12) + 12;
  }
  const d = Math.min(day, daysInMonth(y, m));
  return checkTimestampRange(BigInt(date2j(y, m, d) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY + timeOfDay);
}

/** `timestamp + interval` for timestamp without time zone (infinity stays infinity). */
export function timestampPlusInterval(ts: bigint, span: Interval): bigint {
  if (!isFiniteTimestamp(ts)) return ts;
  let t = ts;
  if (span.months !== 0) t = addMonths(t, span.months);
  if (span.days !== 0) t = checkTimestampRange(t + BigInt(span.days) * USECS_PER_DAY);
  return checkTimestampRange(t + span.micros);
}
