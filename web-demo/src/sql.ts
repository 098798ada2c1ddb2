/**
 * @module web-demo/sql
 * Every statement the dashboard sends, in one place, so the README and the console examples can
 * point at them. Values always travel as `$n` parameters, never spliced into the text.
 */

export const TABLE = 'readings';

/** Creates the hypertable (6-hour chunks, so a day of history makes several). Safe to run again. */
export const CREATE_SCHEMA = `
CREATE EXTENSION IF NOT EXISTS timescaledb;
CREATE TABLE IF NOT EXISTS readings (time timestamptz NOT NULL, sensor text NOT NULL, value double precision);
SELECT create_hypertable('readings', by_range('time', INTERVAL '6 hours'), if_not_exists => true);
`;

export const TABLE_EXISTS = `SELECT to_regclass('public.readings') IS NOT NULL AS exists`;

/** One multi-row INSERT per batch: the arrays travel as three parameters. */
export const INSERT_READINGS = `
INSERT INTO readings (time, sensor, value)
SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::float8[])`;

/**
 * A CSV import is one statement (so one transaction: all rows or none). The text columns are cast
 * by PostgreSQL, so a bad timestamp is PostgreSQL's own error (22007 and friends).
 */
export const INSERT_CSV = `
INSERT INTO readings (time, sensor, value)
SELECT t::timestamptz, s, nullif(v, '')::float8 FROM unnest($1::text[], $2::text[], $3::text[]) AS u(t, s, v)`;

export const STATS = `
SELECT (SELECT count(*) FROM readings)::int8 AS rows,
       (SELECT count(*) FROM show_chunks('readings'))::int AS chunks,
       hypertable_size('readings') AS bytes,
       (SELECT max(time) FROM readings) AS latest`;

/** time_bucket averages per sensor over the window ending now. $1 bucket width, $2 window. */
export const BUCKETS = `
SELECT time_bucket($1::interval, time) AS bucket, sensor, avg(value) AS avg, min(value) AS min, max(value) AS max
FROM readings
WHERE time > now() - $2::interval
GROUP BY 1, 2
ORDER BY 1, 2`;

/**
 * One sensor, gap-filled: the plain average is NULL in empty buckets, locf carries the last value
 * forward, interpolate draws a straight line across. $1 width, $2 start, $3 finish, $4 sensor.
 */
export const GAPFILL = `
SELECT time_bucket_gapfill($1::interval, time, $2::timestamptz, $3::timestamptz) AS bucket,
       avg(value) AS avg, locf(avg(value)) AS locf, interpolate(avg(value)) AS interpolate
FROM readings
WHERE sensor = $4 AND time >= $2 AND time < $3
GROUP BY 1
ORDER BY 1`;

/** Which of TimescaleDB's information views and functions this build has (compression is in progress). */
export const FEATURES = `
SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'timescaledb_information'
UNION
SELECT DISTINCT p.proname FROM pg_proc p
WHERE p.proname IN ('show_chunks', 'hypertable_detailed_size', 'chunks_detailed_size', 'compress_chunk',
                    'hypertable_compression_stats', 'chunk_compression_stats')`;

export const CHUNKS = `
SELECT c.chunk_name, c.range_start, c.range_end, c.is_compressed
FROM timescaledb_information.chunks c
WHERE c.hypertable_schema = 'public' AND c.hypertable_name = 'readings'
ORDER BY c.range_start DESC`;

export const CHUNK_SIZES = `SELECT chunk_name, table_bytes, index_bytes, toast_bytes, total_bytes FROM chunks_detailed_size('readings')`;

export const HYPERTABLE_SIZE = `SELECT table_bytes, index_bytes, toast_bytes, total_bytes FROM hypertable_detailed_size('readings')`;

export const COMPRESSION_ENABLED = `
SELECT compression_enabled FROM timescaledb_information.hypertables
WHERE hypertable_schema = 'public' AND hypertable_name = 'readings'`;

export const COMPRESSION_SETTINGS = `
SELECT segmentby, orderby FROM timescaledb_information.hypertable_compression_settings
WHERE hypertable = 'readings'::regclass`;

export const COMPRESSION_STATS = `SELECT * FROM hypertable_compression_stats('readings')`;

/** Console examples: the buttons of the compression panel load these too, so the user sees the SQL. */
export const EXAMPLES: Readonly<Record<string, string>> = {
  'Latest reading per sensor': `SELECT sensor, last(value, time) AS value, max(time) AS at
FROM readings GROUP BY sensor ORDER BY sensor;`,
  'Hourly averages (time_bucket)': `SELECT time_bucket('1 hour', time) AS hour, sensor, round(avg(value)::numeric, 2) AS avg
FROM readings WHERE time > now() - INTERVAL '6 hours'
GROUP BY 1, 2 ORDER BY 1 DESC, 2;`,
  'Gap-filled greenhouse (locf, interpolate)': `SELECT time_bucket_gapfill('15 minutes', time) AS bucket,
       avg(value) AS avg, locf(avg(value)), interpolate(avg(value))
FROM readings
WHERE sensor = 'greenhouse' AND time > now() - INTERVAL '4 hours' AND time <= now()
GROUP BY 1 ORDER BY 1;`,
  'Chunks and their sizes': `SELECT c.chunk_name, c.range_start, c.range_end, c.is_compressed, s.total_bytes
FROM timescaledb_information.chunks c
JOIN chunks_detailed_size('readings') s USING (chunk_name)
ORDER BY c.range_start;`,
  'Enable the columnstore': `ALTER TABLE readings SET (
  timescaledb.compress,
  timescaledb.compress_segmentby = 'sensor',
  timescaledb.compress_orderby = 'time DESC'
);`,
  'Compress chunks older than 12 hours': `SELECT compress_chunk(c) FROM show_chunks('readings', older_than => INTERVAL '12 hours') c;`,
  'Row count': `SELECT count(*) FROM readings;`,
  'An error (SQLSTATE 22012)': `SELECT 1 / 0;`,
};
