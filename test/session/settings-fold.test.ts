// A wire session taking the backend after another session applies its settings with its first
// round trip: folded into the fast path's internal statement when that comes first (one round trip
// where a switch took two). Every answer must be formatted under its own session's settings, also
// when the folded statement fails (its settings are undone with it and applied again) and when the
// sessions alternate statement by statement.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { Orbit } from '../../src/orbit.js';
import { countRoundTrips } from '../support/round-trips.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('session settings folded into the first round trip', () => {
  let server: TestServer;
  let db: Orbit;
  let ny: pg.Client;
  let utc: pg.Client;
  let trips: () => number;

  const q = (x: string, day: number) =>
    `SELECT time_bucket('1 hour', time) AS b, max(v) AS mx, count(*) AS n FROM ${x} WHERE host IN ('a') AND time >= '2024-01-0${day} 03:00+00' AND time < '2024-01-0${day} 06:00+00' GROUP BY b ORDER BY b`;

  beforeAll(async () => {
    server = await startTestServer();
    db = server.orbit;
    trips = countRoundTrips(db);
    await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb;
      CREATE TABLE t (time timestamptz NOT NULL, host text, v float8);
      SELECT create_hypertable('t', 'time', chunk_time_interval => INTERVAL '1 day');
      ALTER TABLE t SET (timescaledb.compress, timescaledb.compress_segmentby = 'host');
      INSERT INTO t SELECT '2024-01-01 00:00+00'::timestamptz + i * INTERVAL '1 minute', (ARRAY['a', 'b'])[1 + i % 2], i / 7.0 FROM generate_series(0, 3 * 1440 - 1) i;
      CREATE TABLE r AS SELECT * FROM t;`);
    await db.exec("SELECT compress_chunk(c) FROM show_chunks('t') c");
    ny = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
    utc = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
    await ny.connect();
    await utc.connect();
    await ny.query("SET TimeZone = 'America/New_York'; SET DateStyle = 'SQL, DMY'; SET extra_float_digits = 0");
    await utc.query("SET TimeZone = 'UTC'");
  });
  afterAll(async () => {
    await ny?.end();
    await utc?.end();
    await server?.close();
  });

  const text = { types: { getTypeParser: () => (v: string) => v } };
  const wire = async (c: pg.Client, sql: string) => (await c.query({ text: sql, rowMode: 'array', ...text })).rows;

  it('answers under each session’s settings when sessions alternate, in one round trip for the wire’s fast path', async () => {
    for (let day = 1; day <= 3; day++) {
      for (const c of [ny, utc]) {
        const want = await wire(c, q('r', day));
        await db.query('SELECT 1');
        trips();
        const got = await wire(c, q('t', day));
        expect(got).toEqual(want);
        // The fast path's internal statement carries the settings; the rows (UTC; described once, day 1) or the final statement (New York) follow.
        if (day > 1) expect(trips()).toBe(c === utc ? 1 : 2);
        expect(await wire(c, 'SHOW TimeZone')).toEqual([[c === utc ? 'UTC' : 'America/New_York']]);
      }
    }
    expect((await wire(ny, q('t', 2)))[0]![0]).toMatch(/^\d\d\/01\/2024 \d\d:00:00 EST$/);
    expect((await wire(utc, q('t', 2)))[0]![0]).toMatch(/^2024-01-02 03:00:00\+00$/);
  });

  it('undoes the folded settings with a failing statement and applies them again', async () => {
    // The internal statement fails on a bound PostgreSQL cannot read; so does the statement.
    const failing = (x: string) => q(x, 1).replace("time >= '2024-01-01 03:00+00'", "time >= '2024-13-45 03:00+00'");
    for (const c of [ny, utc, ny]) {
      await expect(wire(c, failing('r'))).rejects.toThrow(/out of range/);
      await db.query('SELECT 1');
      // The same error from the hypertable (its general path evaluates the bound in a savepoint).
      await expect(wire(c, failing('t'))).rejects.toThrow(/out of range/);
      expect(await wire(c, 'SHOW DateStyle')).toEqual([[c === ny ? 'SQL, DMY' : 'ISO, MDY']]);
      expect(await wire(c, q('t', 3))).toEqual(await wire(c, q('r', 3)));
    }
  });
});
