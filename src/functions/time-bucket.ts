/**
 * @module functions/time-bucket
 * TimescaleDB's `time_bucket` in TypeScript, for the planner and the edge profile (which has no
 * PGlite). It computes exactly what the SQL functions of the extension script compute
 * (src/catalog/extension/time-bucket.ts), which follow TimescaleDB's `src/time_bucket.c`; the unit
 * tests compare the two on seeded random inputs.
 *
 * Values use PostgreSQL's representation (see ./calendar.ts): timestamps and timestamptz are bigint
 * microseconds since 2000-01-01, dates are days since then, ±infinity are the type's extremes and
 * come back unchanged. Errors carry TimescaleDB's SQLSTATEs (timescale_api.md §3.3).
 *
 * Known limit shared with the SQL functions: month buckets before 1 BC use the proleptic calendar,
 * where TimescaleDB's C code truncates year/month arithmetic differently.
 */
import { orbitError } from '../errors.js';
import {
  checkTimestampRange,
  date2j,
  dateToTimestamp,
  dateToYearMonth,
  floorDiv,
  isFiniteDate,
  isFiniteTimestamp,
  negateInterval,
  POSTGRES_EPOCH_JDATE,
  timestampPlusInterval,
  timestampToDate,
  USECS_PER_DAY,
  type Interval,
} from './calendar.js';
import { fromLocal, timestamptzPlusInterval, toLocal } from './time-zone.js';

/** TimescaleDB's `DEFAULT_ORIGIN`: Monday 2000-01-03 00:00 (UTC for timestamptz). */
export const DEFAULT_ORIGIN = 2n * USECS_PER_DAY;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export const IntegerType = {
  smallint: 'smallint',
  integer: 'integer',
  bigint: 'bigint',
} as const;
export type IntegerType = (typeof IntegerType)[keyof typeof IntegerType];

const INTEGER_RANGE: Record<IntegerType, readonly [bigint, bigint]> = {
  smallint: [-32768n, 32767n],
  integer: [-2147483648n, 2147483647n],
  bigint: [INT64_MIN, INT64_MAX],
};

export interface TimestampBucketOptions {
  /** Some bucket starts here. Default 2000-01-03 00:00; month widths use only its year and month. */
  readonly origin?: bigint;
  /** Shifts the buckets: `time_bucket(width, ts - offset) + offset`. */
  readonly offset?: Interval;
}

export interface TimestamptzBucketOptions extends TimestampBucketOptions {
  /** Bucket the wall-clock time in this IANA zone (the `timezone` overload) instead of UTC. */
  readonly timezone?: string;
  /**
   * The session TimeZone. It matters only for offsets with days or months, which PostgreSQL adds to a
   * timestamptz in the session's calendar. Default `UTC`.
   */
  readonly sessionTimeZone?: string;
}

export interface DateBucketOptions {
  /** Days since 2000-01-01 (default 2000-01-03; month widths use only its year and month). */
  readonly origin?: number;
  /** Whole days and months only (TimescaleDB 2.27+ rejects a sub-day offset on dates). */
  readonly offset?: Interval;
}

export interface IntegerBucketOptions {
  /** The SQL type, for its range checks. Default bigint. */
  readonly type?: IntegerType;
  /** Taken modulo the width. */
  readonly offset?: bigint;
}

function periodNotPositive(): Error {
  return orbitError('invalid_parameter_value', 'period must be greater than 0');
}

function outOfRange(): Error {
  return orbitError('numeric_value_out_of_range', 'timestamp out of range');
}

/** time_bucket(smallint|integer|bigint width, ts [, offset]): TimescaleDB's `TIME_BUCKET` macro. */
export function timeBucketInteger(width: bigint, ts: bigint, options: IntegerBucketOptions = {}): bigint {
  const [min, max] = INTEGER_RANGE[options.type ?? IntegerType.bigint];
  if (width <= 0n) throw periodNotPositive();
  let t = ts;
  let offset = options.offset ?? 0n;
  if (offset !== 0n) {
    offset %= width;
    if ((offset > 0n && t < min + offset) || (offset < 0n && t > max + offset)) throw outOfRange();
    t -= offset;
  }
  let result = (t / width) * width;
  if (t < 0n && t % width !== 0n) {
    if (result < min + width) throw outOfRange();
    result -= width;
  }
  // With a width near the type's maximum and a negative offset the sum can leave the type's range;
  // TimescaleDB's C code then wraps around, PostgreSQL arithmetic (and so Orbit) raises 22003.
  result += offset;
  if (result < min || result > max) throw orbitError('numeric_value_out_of_range', `${options.type ?? IntegerType.bigint} out of range`);
  return result;
}

/** TimescaleDB's `TIME_BUCKET_TS`: floor to `period`, aligned so that some bucket starts at `origin`. */
function bucketMicros(period: bigint, ts: bigint, origin: bigint): bigint {
  if (period <= 0n) throw periodNotPositive();
  const shift = origin % period;
  if ((shift > 0n && ts < INT64_MIN + shift) || (shift < 0n && ts > INT64_MAX + shift)) throw outOfRange();
  const t = ts - shift;
  const q = t / period;
  const result = t - q * period < 0n ? q * period - period : q * period;
  return checkTimestampRange(result + shift);
}

function checkMonthWidth(width: Interval): void {
  if (width.days !== 0 || width.micros !== 0n) {
    throw orbitError('feature_not_supported', 'month intervals cannot have day or time component');
  }
}

/** TimescaleDB's `bucket_month`: whole months counted from the origin's month. */
function bucketMonth(months: number, date: number, originDate: number): number {
  if (months <= 0) throw periodNotPositive();
  const d = dateToYearMonth(date);
  const o = dateToYearMonth(originDate);
  const index = BigInt(d.year * 12 + d.month - 1);
  const originIndex = BigInt(o.year * 12 + o.month - 1);
  const p = BigInt(months);
  const bucket = floorDiv(index - originIndex, p) * p + originIndex;
  const year = floorDiv(bucket, 12n);
  return date2j(Number(year), Number(bucket - year * 12n) + 1, 1) - POSTGRES_EPOCH_JDATE;
}

function fixedPeriod(width: Interval): bigint {
  return width.micros + BigInt(width.days) * USECS_PER_DAY;
}

/** The two-/three-argument timestamp path (`ts_timestamp_bucket`), shared by timestamptz. */
function bucketTimestamp(width: Interval, ts: bigint, origin: bigint | undefined): bigint {
  if (!isFiniteTimestamp(ts)) return ts;
  if (width.months !== 0) {
    checkMonthWidth(width);
    const originDate = origin === undefined || origin === DEFAULT_ORIGIN ? 0 : timestampToDate(origin);
    return dateToTimestamp(bucketMonth(width.months, timestampToDate(ts), originDate));
  }
  return bucketMicros(fixedPeriod(width), ts, origin ?? DEFAULT_ORIGIN);
}

/** time_bucket(interval, timestamp [, origin | "offset"]). */
export function timeBucketTimestamp(width: Interval, ts: bigint, options: TimestampBucketOptions = {}): bigint {
  const { origin, offset } = options;
  if (offset === undefined) return bucketTimestamp(width, ts, origin);
  if (!isFiniteTimestamp(ts)) return ts;
  const shifted = bucketTimestamp(width, timestampPlusInterval(ts, negateInterval(offset)), origin);
  return timestampPlusInterval(shifted, offset);
}

/**
 * time_bucket(interval, timestamptz [, origin | "offset"]) buckets in UTC; with `timezone`, the
 * timezone overload (origin and offset may then be combined).
 */
export function timeBucketTimestamptz(width: Interval, ts: bigint, options: TimestamptzBucketOptions = {}): bigint {
  const { origin, offset, timezone } = options;
  const session = options.sessionTimeZone ?? 'UTC';
  if (!isFiniteTimestamp(ts)) return ts;
  const adjusted = offset === undefined ? ts : timestamptzPlusInterval(ts, negateInterval(offset), session);
  let result: bigint;
  if (timezone === undefined) {
    result = bucketTimestamp(width, adjusted, origin);
  } else {
    const local = bucketTimestamp(width, toLocal(timezone, adjusted), origin === undefined ? undefined : toLocal(timezone, origin));
    result = fromLocal(timezone, local);
    // A fall-back transition made the bucket's wall-clock start ambiguous and PostgreSQL chose the
    // later instant: step back whole periods until the bucket starts at or before the input.
    if (width.months === 0 && result > adjusted) {
      const period = fixedPeriod(width);
      result -= -floorDiv(adjusted - result, period) * period;
    }
  }
  return offset === undefined ? result : timestamptzPlusInterval(result, offset, session);
}

/** time_bucket(interval, date [, origin | "offset"]): whole days or whole months. */
export function timeBucketDate(width: Interval, date: number, options: DateBucketOptions = {}): number {
  const { origin, offset } = options;
  if (!isFiniteDate(date)) return date;
  if (offset !== undefined) {
    if (offset.micros % USECS_PER_DAY !== 0n) {
      throw orbitError('feature_not_supported', 'offset must not have sub-day precision');
    }
    const shifted = timestampToDate(timestampPlusInterval(dateToTimestamp(date), negateInterval(offset)));
    const bucket = timeBucketDate(width, shifted, { origin });
    return timestampToDate(timestampPlusInterval(dateToTimestamp(bucket), offset));
  }
  if (width.months !== 0) {
    checkMonthWidth(width);
    return bucketMonth(width.months, date, origin ?? 0);
  }
  const period = fixedPeriod(width);
  if (period < USECS_PER_DAY) throw orbitError('feature_not_supported', 'interval must not have sub-day precision');
  if (period % USECS_PER_DAY !== 0n) throw orbitError('feature_not_supported', 'interval must be a multiple of a day');
  const originTs = origin === undefined ? DEFAULT_ORIGIN : dateToTimestamp(origin);
  return timestampToDate(bucketMicros(period, dateToTimestamp(date), originTs));
}
