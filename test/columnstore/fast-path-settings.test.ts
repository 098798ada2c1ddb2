// In-process sessions fold their settings into their first round trip after another session's turn,
// as the wire's sessions do (Backend.settle before the in-process API's own row store queries). Two
// in-process sessions and a wire client with different TimeZone and DateStyle take turns; every
// answer must be in its own session's settings (compared with PostgreSQL's over a plain table), and
// a fresh window of a known aggregate after another session's turn costs one round trip in-process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { Orbit, Queryable } from '../../src/orbit.js';
import { loadCompressedDays } from '../support/compressed-days.js';
import { countRoundTrips } from '../support/round-trips.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** One host's maxima per hour over a window (rows made by Orbit under UTC), and a scan of some rows. */
const dashboard = (x: string, day: number, host: string) =>
  `SELECT time_bucket('1 hour', time) AS b, max(v) AS mx FROM ${x} WHERE host IN ('${host}') AND time >= '2024-01-0${day} 03:00+00' AND time < '2024-01-0${day} 07:00+00' GROUP BY b ORDER BY b`;
const scan = (x: string, day: number) => `SELECT time, host, v FROM ${x} WHERE host = 'b' AND time >= '2024-01-0${day} 05:00+00' AND time < '2024-01-0${day} 05:10+00' ORDER BY time`;
/** The newest buckets before a time (session/columnstore/bucket-limit.ts). */
const newest = (x: string, day: number) => `SELECT time_bucket('1 hour', time) AS b, max(v) AS mx FROM ${x} WHERE time < '2024-01-0${day} 07:30+00' GROUP BY b ORDER BY b DESC LIMIT 3`;
/** The settings as the session's statements see them, and a timestamptz printed in them. */
const SHOW = "SELECT current_setting('TimeZone') AS tz, current_setting('DateStyle') AS ds, '2024-01-01 12:00+00'::timestamptz::text AS ts";

describe('columnstore: in-process sessions fold their settings into their first round trip', () => {
  let server: TestServer;
  let db: Orbit;
  let client: pg.Client;
  let trips: () => number;

  beforeAll(async () => {
    server = await startTestServer({ columnstore: { reuseResults: false } });
    db = server.orbit;
    trips = countRoundTrips(db);
    await loadCompressedDays(db);
    client = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
    await client.connect();
    await client.query("SET TimeZone = 'America/New_York'; SET DateStyle = 'SQL, DMY'");
  });
  afterAll(async () => {
    await client?.end();
    await server?.close();
  });

  const text = (rows: ReadonlyArray<Record<string, unknown> | unknown[]>) =>
    rows.map((row) => JSON.stringify(Object.values(row).map((v) => (v instanceof Date ? v.toISOString() : v))));

  async function same(on: Queryable, q: (x: string) => string): Promise<void> {
    const got = await on.query<Record<string, unknown>>(q('t'));
    const want = await on.query<Record<string, unknown>>(q('r'));
    expect(text(got.rows), q('t')).toEqual(text(want.rows));
  }

  it('answers every session in its own settings while they take turns', async () => {
    const other = db.session();
    await other.exec("SET TimeZone = 'Asia/Kolkata'; SET DateStyle = 'ISO, DMY'");
    for (let round = 0; round < 3; round++) {
      expect((await db.query(SHOW)).rows).toEqual([{ tz: 'UTC', ds: 'ISO, MDY', ts: '2024-01-01 12:00:00+00' }]);
      const wire = await client.query(SHOW);
      expect(wire.rows).toEqual([{ tz: 'America/New_York', ds: 'SQL, DMY', ts: '01/01/2024 07:00:00 EST' }]);
      expect((await other.query(SHOW)).rows).toEqual([{ tz: 'Asia/Kolkata', ds: 'ISO, DMY', ts: '2024-01-01 17:30:00+05:30' }]);
      for (const on of [db, other]) {
        await same(on, (x) => dashboard(x, 1 + round, 'a'));
        await client.query('SELECT 1');
        await same(on, (x) => scan(x, 1 + round));
        await client.query('SELECT 1');
        await same(on, (x) => newest(x, 1 + round));
        await client.query('SELECT 1');
      }
      // The wire client's text in its own settings after the in-process sessions' turns.
      for (const q of [(x: string) => dashboard(x, 1 + round, 'c'), (x: string) => scan(x, 1 + round), (x: string) => newest(x, 1 + round)]) {
        // As text: the wire's bytes, not pg's parse of them.
        const asText = { getTypeParser: () => (v: string) => v };
        const got = await client.query({ text: q('t'), rowMode: 'array', types: asText });
        expect(got.rows, q('t')).toEqual((await client.query({ text: q('r'), rowMode: 'array', types: asText })).rows);
        expect(String(got.rows[0]![0])).toMatch(/ EST$/);
        await db.query('SELECT 1');
      }
    }
    await other.close();
  });

  it('makes one round trip for a fresh window of a known aggregate after another session’s turn', async () => {
    await db.query(dashboard('t', 1, 'b'));
    for (let day = 1; day <= 3; day++) {
      await client.query('SELECT 1');
      trips();
      await same(db, (x) => dashboard(x, day, day === 2 ? 'a' : 'c'));
      // The aggregate (1: its inputs with the settings folded in), then the reference over r (1).
      expect(trips()).toBe(2);
    }
  });

  it('folds a wire session’s settings into the bucket limit’s first round trip', async () => {
    await client.query(newest('t', 2));
    for (let day = 1; day <= 3; day++) {
      await db.query('SELECT 1');
      trips();
      await client.query(newest('t', day));
      // Its inputs with the settings folded in, then its final statement.
      expect(trips()).toBe(2);
    }
  });
});
