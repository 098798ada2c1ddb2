/**
 * A shared fixture of the fast-path tests: hypertable `t` (1-day chunks, segmentby host) with three
 * days of one row a minute over hosts a, b, c, every chunk compressed, and `r`, a plain table of
 * the same rows (the reference answers). The session's time zone is set to UTC.
 */
import type { Queryable } from '../../src/orbit.js';

export async function loadCompressedDays(db: Queryable): Promise<void> {
  await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb; SET timezone TO 'UTC';
    CREATE TABLE t (time timestamptz NOT NULL, host text, v float8);
    SELECT create_hypertable('t', 'time', chunk_time_interval => INTERVAL '1 day');
    ALTER TABLE t SET (timescaledb.compress, timescaledb.compress_segmentby = 'host');
    INSERT INTO t SELECT '2024-01-01 00:00+00'::timestamptz + i * INTERVAL '1 minute', (ARRAY['a', 'b', 'c'])[1 + i % 3], (i * 37 % 101)::float8 / 4
      FROM generate_series(0, 3 * 1440 - 1) i;
    CREATE TABLE r AS SELECT * FROM t;`);
  // Its own statement: the rows reach their chunks when the batch that inserted them ends.
  await db.exec("SELECT compress_chunk(c) FROM show_chunks('t') c");
}
