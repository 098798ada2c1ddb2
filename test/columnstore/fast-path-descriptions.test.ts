// An aggregate whose rows Orbit makes itself still needs the result's RowDescription, which
// PostgreSQL gives for a final statement over no partial rows: the same text for every window and
// host of a statement shape. Its response is kept (Columnstore.described) per text and session
// settings, so a fresh window of a known shape makes one round trip to the row store, not two. The
// kept response must never outlive what could change it: DDL or utility statements of any session,
// settings, the metadata; inside a transaction block nothing is kept or reused. Every answer is
// compared with PostgreSQL's over a plain table, in-process and over the wire.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { Orbit, Queryable } from '../../src/orbit.js';
import { loadCompressedDays } from '../support/compressed-days.js';
import { countRoundTrips } from '../support/round-trips.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** A dashboard query: one host's maxima per hour in a window, ordered by the bucket (rows made by Orbit). */
function dashboard(x: string, day: number, host = 'a', alias = 'b'): string {
  return `SELECT time_bucket('1 hour', time) AS ${alias}, max(v) AS mx, count(*) AS n, avg(v) AS av FROM ${x}
    WHERE host IN ('${host}') AND time >= '2024-01-0${day} 03:00+00' AND time < '2024-01-0${day} 09:00+00' GROUP BY ${alias} ORDER BY ${alias}`;
}

function text(rows: ReadonlyArray<Record<string, unknown> | unknown[]>): string[] {
  return rows.map((row) => JSON.stringify(Object.values(row).map((v) => (typeof v === 'number' ? Number(v.toPrecision(12)) : v instanceof Date ? v.toISOString() : v))));
}

describe('columnstore: kept descriptions of results made by Orbit', () => {
  let server: TestServer;
  let db: Orbit;
  let client: pg.Client;
  /** Round trips to the row store since the last `trips()` that ran a final statement over no partial rows (a description). */
  let trips: () => number;

  beforeAll(async () => {
    server = await startTestServer();
    db = server.orbit;
    const decoder = new TextDecoder('latin1');
    trips = countRoundTrips(db, (messages) => decoder.decode(messages).includes("unnest('{}'"));
    await loadCompressedDays(db);
    client = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
    await client.connect();
    await client.query("SET TimeZone = 'UTC'");
  });
  afterAll(async () => {
    await client?.end();
    await server?.close();
  });

  /** `dashboard(…)` over `t` through `on` answers as over `r`; returns the descriptions it asked PostgreSQL for. */
  async function check(on: Queryable, day: number, host = 'a', alias = 'b'): Promise<number> {
    trips();
    const got = await on.query<Record<string, unknown>>(dashboard('t', day, host, alias));
    const made = trips();
    const want = await on.query<Record<string, unknown>>(dashboard('r', day, host, alias));
    trips();
    expect(got.rows.length).toBeGreaterThan(0);
    expect(text(got.rows)).toEqual(text(want.rows));
    expect(got.fields.map((f) => [f.name, f.dataTypeID])).toEqual(want.fields.map((f) => [f.name, f.dataTypeID]));
    return made;
  }

  /** The same over the wire (the pg client's simple query). */
  async function checkWire(day: number, host = 'a', alias = 'b'): Promise<number> {
    trips();
    const got = await client.query({ text: dashboard('t', day, host, alias), rowMode: 'array' });
    const made = trips();
    const want = await client.query({ text: dashboard('r', day, host, alias), rowMode: 'array' });
    trips();
    expect(text(got.rows as unknown[][])).toEqual(text(want.rows as unknown[][]));
    expect(got.fields.map((f) => [f.name, f.dataTypeID, f.dataTypeSize, f.dataTypeModifier, f.tableID, f.columnID, f.format])).toEqual(
      want.fields.map((f) => [f.name, f.dataTypeID, f.dataTypeSize, f.dataTypeModifier, f.tableID, f.columnID, f.format]),
    );
    expect(got.command).toBe('SELECT');
    expect(got.rowCount).toBe(want.rowCount);
    return made;
  }

  it('answers a fresh window of a known shape without asking for its description, in-process and over the wire', async () => {
    expect(await check(db, 1)).toBe(1);
    expect(await check(db, 2, 'b')).toBe(0);
    expect(await check(db, 3, 'c')).toBe(0);
    // Another output name is another statement: described once, then kept.
    expect(await check(db, 2, 'a', 'bucket')).toBe(1);
    expect(await check(db, 1, 'b', 'bucket')).toBe(0);
    // The wire's simple query has its own response.
    expect(await checkWire(1)).toBe(1);
    expect(await checkWire(2, 'c')).toBe(0);
    expect(await checkWire(3, 'b')).toBe(0);
  });

  it('describes again after DDL or a utility statement of any session', async () => {
    await check(db, 1);
    expect(await check(db, 2)).toBe(0);
    await db.exec('CREATE TABLE unrelated (x int)');
    expect(await check(db, 3)).toBe(1);
    expect(await check(db, 1)).toBe(0);
    await checkWire(1);
    const s = db.session();
    try {
      await s.exec('DROP TABLE unrelated');
    } finally {
      await s.close();
    }
    expect(await checkWire(2)).toBe(1);
    expect(await check(db, 3)).toBe(1);
    expect(await check(db, 1)).toBe(0);
    await db.exec('CHECKPOINT');
    expect(await check(db, 2)).toBe(1);
    // A conversion (the metadata reloaded).
    await db.exec("SELECT decompress_chunk(c) FROM show_chunks('t') c ORDER BY c LIMIT 1");
    expect(await check(db, 3)).toBe(1);
    await db.exec("SELECT compress_chunk(c) FROM show_chunks('t') c");
    expect(await check(db, 1)).toBe(1);
    expect(await check(db, 2)).toBe(0);
  });

  it('keeps descriptions per session settings, and not inside a transaction block', async () => {
    await check(db, 1);
    expect(await check(db, 2)).toBe(0);
    await db.exec('SET search_path = public, pg_catalog');
    expect(await check(db, 3)).toBe(1);
    expect(await check(db, 1)).toBe(0);
    await db.exec('RESET search_path');
    expect(await check(db, 2)).toBe(0);
    const s = db.session();
    try {
      await s.exec("SET TimeZone = 'UTC'");
      await check(s, 1);
      expect(await check(s, 2)).toBe(0);
      await s.exec('BEGIN');
      // Inside the block: described every time (a kept response carries the idle status).
      expect(await check(s, 1)).toBe(1);
      expect(await check(s, 2)).toBe(1);
      await s.exec('COMMIT');
      expect(await check(s, 3)).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('gives PostgreSQL’s description when a type of the final statement is shadowed by a domain created later', async () => {
    // The final statement casts counts to int8, which search_path resolves: a domain of that name
    // ahead of pg_catalog changes its description (Orbit then lets PostgreSQL answer).
    await db.exec('CREATE SCHEMA shadow; SET search_path = shadow, pg_catalog, public');
    try {
      await check(db, 1);
      expect(await check(db, 2)).toBe(0);
      await db.exec('CREATE DOMAIN shadow.int8 AS bigint');
      expect(await check(db, 3)).toBe(1);
      await db.exec('DROP DOMAIN shadow.int8');
      expect(await check(db, 1)).toBe(1);
      expect(await check(db, 2)).toBe(0);
    } finally {
      await db.exec('RESET search_path; DROP SCHEMA shadow CASCADE');
    }
  });
});
