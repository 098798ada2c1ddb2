// Time constants of another type than the time column (session/columnstore/time-constants.ts):
// PostgreSQL compares a timestamp column with a timestamptz by converting every row in the session's
// time zone, so around a DST change the constant cast to timestamp is not the same bound, and a date
// column compared with a timestamp reads each date as its midnight. The kernels' filters, the chunks a
// cache table needs and the batches a DELETE decompresses must not use such a cast: every answer
// here is compared with a plain table of the same rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit } from '../../src/orbit.js';
import { TEMPLATE } from '../support/server.js';

describe('time constants of another type than the time column', () => {
  let db: Orbit;

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, columnstore: { reuseResults: false } });
    // New York springs forward on 2024-03-10: 02:00–02:59 do not exist there. Hourly chunks put the
    // 02:00 row alone in its chunk, so a bound moved past it excludes it whole.
    await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb; SET timezone TO 'America/New_York';
      CREATE TABLE tt (ts timestamp NOT NULL, h text, v float8);
      SELECT create_hypertable('tt', 'ts', chunk_time_interval => INTERVAL '1 hour');
      ALTER TABLE tt SET (timescaledb.compress, timescaledb.compress_segmentby = 'h');
      INSERT INTO tt SELECT '2024-03-10 00:00'::timestamp + i * INTERVAL '30 minutes', 'a', i FROM generate_series(0, 15) i;
      CREATE TABLE rt AS SELECT * FROM tt;
      CREATE TABLE td (d date NOT NULL, h text, v float8);
      SELECT create_hypertable('td', 'd', chunk_time_interval => INTERVAL '1 day');
      ALTER TABLE td SET (timescaledb.compress, timescaledb.compress_segmentby = 'h');
      INSERT INTO td SELECT '2024-01-01'::date + i, 'a', i FROM generate_series(0, 9) i;
      CREATE TABLE rd AS SELECT * FROM td;`);
    await db.exec("SELECT compress_chunk(c) FROM show_chunks('tt') c; SELECT compress_chunk(c) FROM show_chunks('td') c");
  });
  afterAll(async () => {
    await db?.close();
  });

  const BOUNDS: Array<[string, string, string]> = [
    ['tt', 'rt', "ts >= '2024-03-10 03:00-04'::timestamptz"],
    ['tt', 'rt', "ts < '2024-03-10 03:00-04'::timestamptz"],
    ['tt', 'rt', "ts >= '2024-03-10 02:30'::timestamp"],
    ['td', 'rd', "d < '2024-01-05 12:00'::timestamp"],
    ['td', 'rd', "d > '2024-01-05 12:00'::timestamp"],
    ['td', 'rd', "d >= '2024-01-05'"],
  ];

  // The kernels leave such a statement to the general path, whose cache tables must then hold every chunk it reads.
  it('aggregates as PostgreSQL does', async () => {
    for (const [t, r, where] of BOUNDS) {
      for (const q of [
        (x: string) => `SELECT count(*) AS n, sum(v) AS s, min(v) AS mn FROM ${x} WHERE ${where}`,
        (x: string) => `SELECT h, count(*) AS n, max(v) AS mx FROM ${x} WHERE ${where} GROUP BY h ORDER BY h`,
      ]) {
        expect((await db.query(q(t))).rows, q(t)).toEqual((await db.query(q(r))).rows);
      }
    }
  });

  it('reads the chunks PostgreSQL needs through the cache tables', async () => {
    for (const [t, r, where] of BOUNDS) {
      // A window function: the general path.
      const q = (x: string) => `SELECT v, rank() OVER (ORDER BY v DESC) AS r FROM ${x} WHERE ${where} ORDER BY v`;
      expect((await db.query(q(t))).rows, q(t)).toEqual((await db.query(q(r))).rows);
    }
  });

  it('takes a last point only with bounds it compares as PostgreSQL does', async () => {
    // 02:30 (in the gap) reads as 03:30 EDT and passes `> 03:20 EDT`; the newer 03:00 row fails it.
    for (const where of ["ts >= '2024-03-10 07:20+00'::timestamptz", "ts > '2024-03-10 07:20+00'::timestamptz AND ts < '2024-03-10 03:30'"]) {
      const q = (x: string) => `SELECT DISTINCT ON (h) * FROM ${x} WHERE ${where} ORDER BY h, ts DESC`;
      expect((await db.query(q('tt'))).rows, q('tt')).toEqual((await db.query(q('rt'))).rows);
    }
  });

  it('deletes the rows PostgreSQL deletes', async () => {
    for (const [t, r, where] of [BOUNDS[0]!, BOUNDS[3]!]) {
      await db.query(`DELETE FROM ${t} WHERE ${where}`);
      await db.query(`DELETE FROM ${r} WHERE ${where}`);
      const all = (x: string) => `SELECT * FROM ${x} ORDER BY v`;
      expect((await db.query(all(t))).rows, `${t} ${where}`).toEqual((await db.query(all(r))).rows);
    }
  });
});
