/**
 * @module catalog/extension/time-bucket
 * `time_bucket`, every overload of TimescaleDB 2.29 except the UUIDv7 ones (timescale_api.md §1.2,
 * errors §3.3), as SQL functions that PostgreSQL inlines into the calling query.
 *
 * Semantics follow TimescaleDB's `src/time_bucket.c`:
 * - Sub-month widths bucket the raw microseconds, aligned to the origin (default Monday 2000-01-03,
 *   UTC for timestamptz), rounding toward -infinity. `date_bin` computes exactly that.
 * - Month widths count whole months from the origin's month (default 2000-01); days are ignored.
 *   Timestamptz month buckets use the UTC date.
 * - ±infinity comes back unchanged, before the width is checked.
 * - The timezone variant buckets local wall-clock time and, after a DST fall-back made the bucket
 *   start later than the input, walks it back by whole periods (TimescaleDB PR #9129, issue #9136);
 *   its offset is applied to the instant, not to local time (#7059).
 *
 * Deviation, on purpose: the functions are not declared STRICT (TimescaleDB's are). PostgreSQL
 * refuses to inline a STRICT SQL function whose body holds a CASE, so they test NULLs themselves and
 * return NULL exactly where a STRICT function would. Results and errors are the same; only
 * `pg_proc.proisstrict` differs.
 */
import { SqlState } from '../../sqlstate.js';
import { EXTENSION_SCHEMA as EXT, FUNCTIONS_SCHEMA as F } from './schemas.js';


/** PostgreSQL's epoch-relative default origins (TimescaleDB `DEFAULT_ORIGIN`, month origin). */
const DEFAULT_ORIGIN = "TIMESTAMP '2000-01-03 00:00:00'";
const DEFAULT_ORIGIN_TZ = "TIMESTAMPTZ '2000-01-03 00:00:00+00'";
const MONTH_ORIGIN = "TIMESTAMP '2000-01-01 00:00:00'";

const PERIOD_NOT_POSITIVE = 'period must be greater than 0';
const OUT_OF_RANGE = 'timestamp out of range';

function raise(cond: string, code: string, message: string, value: string): string {
  return `${F}.orbit_raise_if(${cond}, '${code}', '${message}', ${value})`;
}

function fn(signature: string, returns: string, body: string): string {
  return `CREATE FUNCTION ${signature}\nRETURNS ${returns} LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $body$\n${body.trim()}\n$body$;\n`;
}

const months = (w: string) => `${F}.orbit_interval_months(${w})`;
const nonPositive = (w: string) => `${w} <= INTERVAL '0'`;

/** Month buckets of a timestamp (TimescaleDB `bucket_month`), with the width checks of that path. */
function monthBucketHelper(): string {
  const dayOrTime = `(extract(day FROM bucket_width) <> 0 OR ${F}.orbit_interval_time_us(bucket_width) <> 0)`;
  const p = `${months('bucket_width')}::bigint`;
  const idx = `${F}.orbit_month_index(ts)`;
  return fn(
    `${F}.orbit_time_bucket_months(bucket_width interval, ts timestamp, origin timestamp)`,
    'timestamp',
    `
SELECT CASE
  WHEN ${dayOrTime}
    THEN ${raise(dayOrTime, SqlState.feature_not_supported, 'month intervals cannot have day or time component', 'ts')}
  WHEN ${months('bucket_width')} <= 0
    THEN ${raise(`${months('bucket_width')} <= 0`, SqlState.invalid_parameter_value, PERIOD_NOT_POSITIVE, 'ts')}
  WHEN ${months('bucket_width')} = 1 THEN date_trunc('month', ts)
  ELSE date_trunc('month', ts) - make_interval(months => (((${idx} - ${F}.orbit_month_index(origin)) % ${p} + ${p}) % ${p})::int)
END`,
  );
}

/** time_bucket(interval, timestamp [, origin timestamp]). */
function timestampBucket(withOrigin: boolean): string {
  const origin = withOrigin ? 'origin' : DEFAULT_ORIGIN;
  return fn(
    `${EXT}.time_bucket(bucket_width interval, ts timestamp${withOrigin ? ', origin timestamp' : ''})`,
    'timestamp',
    `
SELECT CASE
  WHEN bucket_width IS NULL OR ts IS NULL${withOrigin ? ' OR origin IS NULL' : ''} THEN NULL
  WHEN NOT isfinite(ts) THEN ts
  WHEN ${months('bucket_width')} <> 0 THEN ${F}.orbit_time_bucket_months(bucket_width, ts, ${withOrigin ? 'origin' : MONTH_ORIGIN})
  WHEN ${nonPositive('bucket_width')}
    THEN ${raise(nonPositive('bucket_width'), SqlState.invalid_parameter_value, PERIOD_NOT_POSITIVE, 'ts')}
  ELSE date_bin(bucket_width, ts, ${origin})
END`,
  );
}

/** time_bucket(interval, timestamptz [, origin timestamptz]): buckets in UTC. */
function timestamptzBucket(withOrigin: boolean): string {
  const origin = withOrigin ? 'origin' : DEFAULT_ORIGIN_TZ;
  const monthOrigin = withOrigin ? "origin AT TIME ZONE 'UTC'" : MONTH_ORIGIN;
  return fn(
    `${EXT}.time_bucket(bucket_width interval, ts timestamptz${withOrigin ? ', origin timestamptz' : ''})`,
    'timestamptz',
    `
SELECT CASE
  WHEN bucket_width IS NULL OR ts IS NULL${withOrigin ? ' OR origin IS NULL' : ''} THEN NULL
  WHEN NOT isfinite(ts) THEN ts
  WHEN ${months('bucket_width')} <> 0
    THEN ${F}.orbit_time_bucket_months(bucket_width, ts AT TIME ZONE 'UTC', ${monthOrigin}) AT TIME ZONE 'UTC'
  WHEN ${nonPositive('bucket_width')}
    THEN ${raise(nonPositive('bucket_width'), SqlState.invalid_parameter_value, PERIOD_NOT_POSITIVE, 'ts')}
  ELSE date_bin(bucket_width, ts, ${origin})
END`,
  );
}

/** time_bucket(interval, date [, origin date]): whole days or whole months only. */
function dateBucket(withOrigin: boolean): string {
  const origin = withOrigin ? 'origin::timestamp' : DEFAULT_ORIGIN;
  const subDay = "bucket_width < INTERVAL '1 day'";
  const notWholeDays = 'extract(epoch FROM bucket_width) % 86400 <> 0';
  return fn(
    `${EXT}.time_bucket(bucket_width interval, ts date${withOrigin ? ', origin date' : ''})`,
    'date',
    `
SELECT CASE
  WHEN bucket_width IS NULL OR ts IS NULL${withOrigin ? ' OR origin IS NULL' : ''} THEN NULL
  WHEN NOT isfinite(ts) THEN ts
  WHEN ${months('bucket_width')} <> 0
    THEN ${F}.orbit_time_bucket_months(bucket_width, ts::timestamp, ${withOrigin ? 'origin::timestamp' : MONTH_ORIGIN})::date
  WHEN ${subDay} THEN ${raise(subDay, SqlState.feature_not_supported, 'interval must not have sub-day precision', 'ts')}
  WHEN ${notWholeDays} THEN ${raise(notWholeDays, SqlState.feature_not_supported, 'interval must be a multiple of a day', 'ts')}
  ELSE date_bin(bucket_width, ts::timestamp, ${origin})::date
END`,
  );
}

/** time_bucket(interval, timestamp, "offset" interval) = time_bucket(width, ts - offset) + offset. */
function timestampOffsetBucket(): string {
  return fn(
    `${EXT}.time_bucket(bucket_width interval, ts timestamp, "offset" interval)`,
    'timestamp',
    `
SELECT CASE
  WHEN bucket_width IS NULL OR ts IS NULL OR "offset" IS NULL THEN NULL
  WHEN NOT isfinite(ts) THEN ts
  ELSE ${EXT}.time_bucket(bucket_width, ts - "offset") + "offset"
END`,
  );
}

/**
 * time_bucket(interval, timestamptz, "offset" interval). TimescaleDB subtracts and adds the offset
 * with `timestamptz_mi_interval`, which uses the session TimeZone for its day and month parts. Offsets
 * without days or months (the usual case) are plain microseconds and take an immutable path that
 * inlines; the rest go through a helper that does exactly what TimescaleDB does.
 */
function timestamptzOffsetBucket(): string {
  const calendar = fn(
    `${F}.orbit_time_bucket_calendar_offset(bucket_width interval, ts timestamptz, "offset" interval)`,
    'timestamptz',
    `SELECT ${EXT}.time_bucket(bucket_width, ts - "offset") + "offset"`,
  );
  const bucket = fn(
    `${EXT}.time_bucket(bucket_width interval, ts timestamptz, "offset" interval)`,
    'timestamptz',
    `
SELECT CASE
  WHEN bucket_width IS NULL OR ts IS NULL OR "offset" IS NULL THEN NULL
  WHEN NOT isfinite(ts) THEN ts
  WHEN ${months('"offset"')} = 0 AND extract(day FROM "offset") = 0
    THEN ((${EXT}.time_bucket(bucket_width, ((ts AT TIME ZONE 'UTC') - "offset") AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') + "offset") AT TIME ZONE 'UTC'
  ELSE ${F}.orbit_time_bucket_calendar_offset(bucket_width, ts, "offset")
END`,
  );
  return calendar + '\n' + bucket;
}

/**
 * time_bucket(interval, date, "offset" interval). TimescaleDB 2.27 rejects offsets finer than a day
 * on dates (PR #9479); the SQLSTATE it uses could not be confirmed, 0A000 matches the width checks.
 */
function dateOffsetBucket(): string {
  const subDay = `${F}.orbit_interval_time_us("offset") % 86400000000 <> 0`;
  return fn(
    `${EXT}.time_bucket(bucket_width interval, ts date, "offset" interval)`,
    'date',
    `
SELECT CASE
  WHEN bucket_width IS NULL OR ts IS NULL OR "offset" IS NULL THEN NULL
  WHEN NOT isfinite(ts) THEN ts
  WHEN ${subDay} THEN ${raise(subDay, SqlState.feature_not_supported, 'offset must not have sub-day precision', 'ts')}
  ELSE (${EXT}.time_bucket(bucket_width, (ts - "offset")::date) + "offset")::date
END`,
  );
}

/**
 * time_bucket(interval, timestamptz, timezone text, origin timestamptz = NULL, "offset" interval = NULL).
 * `orbit_time_bucket_local` buckets the (finite) instant's wall-clock time in `tz` like the timestamp
 * overloads do and converts back. Where the bucket start is ambiguous (DST fall-back) PostgreSQL
 * picks the later instant, which can lie after the input; whole periods are then subtracted until it
 * does not (month widths excepted). The bucket expression is repeated rather than passed to another
 * function so that the whole body still inlines.
 */
function timezoneBucket(): string {
  const local = '(ts AT TIME ZONE tz)';
  const originLocal = (fallback: string) => `COALESCE(origin AT TIME ZONE tz, ${fallback})`;
  const b = `((CASE
      WHEN ${months('bucket_width')} <> 0 THEN ${F}.orbit_time_bucket_months(bucket_width, ${local}, ${originLocal(MONTH_ORIGIN)})
      WHEN ${nonPositive('bucket_width')}
        THEN ${raise(nonPositive('bucket_width'), SqlState.invalid_parameter_value, PERIOD_NOT_POSITIVE, local)}
      ELSE date_bin(bucket_width, ${local}, ${originLocal(DEFAULT_ORIGIN)})
    END) AT TIME ZONE tz)`;
  const helper = fn(
    `${F}.orbit_time_bucket_local(bucket_width interval, ts timestamptz, tz text, origin timestamptz)`,
    'timestamptz',
    `
SELECT CASE
  WHEN ${months('bucket_width')} <> 0 OR ${b} <= ts THEN ${b}
  ELSE ((${b} AT TIME ZONE 'UTC')
        - bucket_width * ceil(extract(epoch FROM (${b} - ts)) / extract(epoch FROM bucket_width))::float8) AT TIME ZONE 'UTC'
END`,
  );
  const calendar = fn(
    `${F}.orbit_time_bucket_local_calendar_offset(bucket_width interval, ts timestamptz, tz text, origin timestamptz, "offset" interval)`,
    'timestamptz',
    `SELECT ${F}.orbit_time_bucket_local(bucket_width, ts - "offset", tz, origin) + "offset"`,
  );
  const bucket = fn(
    `${EXT}.time_bucket(bucket_width interval, ts timestamptz, timezone text, origin timestamptz DEFAULT NULL, "offset" interval DEFAULT NULL)`,
    'timestamptz',
    `
SELECT CASE
  WHEN bucket_width IS NULL OR ts IS NULL OR timezone IS NULL THEN NULL
  WHEN NOT isfinite(ts) THEN ts
  WHEN "offset" IS NULL THEN ${F}.orbit_time_bucket_local(bucket_width, ts, timezone, origin)
  WHEN ${months('"offset"')} = 0 AND extract(day FROM "offset") = 0
    THEN ((${F}.orbit_time_bucket_local(bucket_width, ((ts AT TIME ZONE 'UTC') - "offset") AT TIME ZONE 'UTC', timezone, origin)
           AT TIME ZONE 'UTC') + "offset") AT TIME ZONE 'UTC'
  ELSE ${F}.orbit_time_bucket_local_calendar_offset(bucket_width, ts, timezone, origin, "offset")
END`,
  );
  return [helper, calendar, bucket].join('\n');
}

const INTEGER_TYPES = [
  { type: 'smallint', min: '(-32768)::smallint', max: '(32767)::smallint' },
  { type: 'integer', min: '(-2147483648)::integer', max: '(2147483647)::integer' },
  { type: 'bigint', min: '(-9223372036854775808)::bigint', max: '(9223372036854775807)::bigint' },
] as const;

/**
 * time_bucket(int, int [, "offset" int]) for smallint, integer and bigint: floor(ts / width) * width,
 * with TimescaleDB's range checks (`TIME_BUCKET` macro) and the offset taken modulo the width.
 */
function integerBuckets(): string {
  return INTEGER_TYPES.map(({ type, min, max }) => {
    const floorUnderflow = `ts - ts % bucket_width < ${min} + bucket_width`;
    const o = '"offset" % bucket_width';
    const offsetOutOfRange = `((${o} > 0 AND ts < ${min} + ${o}) OR (${o} < 0 AND ts > ${max} + ${o}))`;
    const plain = fn(
      `${EXT}.time_bucket(bucket_width ${type}, ts ${type})`,
      type,
      `
SELECT CASE
  WHEN bucket_width IS NULL OR ts IS NULL THEN NULL
  WHEN bucket_width <= 0 THEN ${raise('bucket_width <= 0', SqlState.invalid_parameter_value, PERIOD_NOT_POSITIVE, 'ts')}
  WHEN ts >= 0 OR ts % bucket_width = 0 THEN ts - ts % bucket_width
  WHEN ${floorUnderflow} THEN ${raise(floorUnderflow, SqlState.numeric_value_out_of_range, OUT_OF_RANGE, 'ts')}
  ELSE ts - ts % bucket_width - bucket_width
END`,
    );
    const offset = fn(
      `${EXT}.time_bucket(bucket_width ${type}, ts ${type}, "offset" ${type})`,
      type,
      `
SELECT CASE
  WHEN bucket_width IS NULL OR ts IS NULL OR "offset" IS NULL THEN NULL
  WHEN bucket_width <= 0 THEN ${raise('bucket_width <= 0', SqlState.invalid_parameter_value, PERIOD_NOT_POSITIVE, 'ts')}
  WHEN ${offsetOutOfRange} THEN ${raise(offsetOutOfRange, SqlState.numeric_value_out_of_range, OUT_OF_RANGE, 'ts')}
  ELSE ${EXT}.time_bucket(bucket_width, ts - ${o}) + ${o}
END`,
    );
    return plain + '\n' + offset;
  }).join('\n');
}

export function timeBucketSql(): string {
  return [
    monthBucketHelper(),
    timestampBucket(false),
    timestampBucket(true),
    timestamptzBucket(false),
    timestamptzBucket(true),
    dateBucket(false),
    dateBucket(true),
    timestampOffsetBucket(),
    timestamptzOffsetBucket(),
    dateOffsetBucket(),
    timezoneBucket(),
    integerBuckets(),
  ].join('\n');
}
