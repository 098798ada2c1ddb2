/**
 * Shared pieces of the gateway tests: the device's and the remote's schema, a seeded sensor stream
 * with values that are hard to carry exactly, and a checksum computed the same way on both sides.
 */

export interface SqlRunner {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: Row[] }>;
}

/** The device: one-hour chunks (so a few thousand rows span several), segmented by sensor. */
export const DEVICE_SCHEMA = `CREATE EXTENSION IF NOT EXISTS timescaledb;
CREATE TABLE readings (
  time timestamptz NOT NULL,
  sensor text NOT NULL,
  value double precision,
  note text,
  seq bigint GENERATED ALWAYS AS IDENTITY
) WITH (tsdb.hypertable, tsdb.partition_column = 'time', tsdb.chunk_interval = '1 hour', tsdb.segmentby = 'sensor')`;

/** The remote: the same columns plus the device they came from, no sequence. */
export const REMOTE_SCHEMA = `CREATE EXTENSION IF NOT EXISTS timescaledb;
CREATE TABLE IF NOT EXISTS readings (
  time timestamptz NOT NULL,
  sensor text NOT NULL,
  value double precision,
  note text,
  device text NOT NULL
) WITH (tsdb.hypertable, tsdb.partition_column = 'time', tsdb.chunk_interval = '1 day')`;

/**
 * Appends readings numbered `from`..`to` (one every 7 s from 2024-01-01, with microseconds), with
 * NaN, ±Infinity, NULLs and text that needs quoting in array literals and CSV.
 */
export async function ingest(db: SqlRunner, from: number, to: number): Promise<void> {
  await db.query(
    `INSERT INTO readings (time, sensor, value, note)
     SELECT timestamptz '2024-01-01 00:00:00+00' + i * interval '7 seconds' + (i % 1000) * interval '1 microsecond',
            's' || (i % 5),
            CASE WHEN i % 97 = 0 THEN 'NaN'::float8 WHEN i % 89 = 0 THEN '-Infinity'::float8
                 WHEN i % 83 = 0 THEN NULL ELSE sin(i) * 1000 / 3 END,
            CASE i % 8 WHEN 0 THEN 'a,b' WHEN 1 THEN '{x}' WHEN 2 THEN '"q"' WHEN 3 THEN E'back\\\\slash\\nnew line'
                       WHEN 4 THEN 'ü€😀' WHEN 5 THEN '' WHEN 6 THEN 'NULL' ELSE NULL END
     FROM generate_series($1::int, $2::int) AS i`,
    [from, to],
  );
}

export interface Digest {
  readonly rows: number;
  readonly md5: string;
}

/** Row count and an md5 over every forwarded column's exact text, in a fixed order. */
export async function digest(db: SqlRunner, where = 'true', params: unknown[] = []): Promise<Digest> {
  const { rows } = await db.query<{ n: number | string; md5: string | null }>(
    `SELECT count(*) AS n, md5(string_agg(concat_ws('|', extract(epoch FROM time)::text, sensor,
              coalesce(value::text, '<null>'), coalesce(note, '<null>')), E'\\n' ORDER BY time, sensor)) AS md5
     FROM readings WHERE ${where}`,
    params,
  );
  return { rows: Number(rows[0]!.n), md5: rows[0]!.md5 ?? '' };
}
