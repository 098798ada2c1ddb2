// Differential test of last points whose rows Orbit makes from the candidate batches
// (session/columnstore/last-point-rows.ts; without reuse of results): the same statement over a
// hypertable with compressed chunks and over a plain table with the same rows, compared as values
// in-process and as text and descriptions over the wire, for text and integer segments (NULL, '',
// case and non-ASCII values ordered by bytes), NULL, NaN and ±Infinity values, other target lists,
// and the cases PostgreSQL answers instead: rows in the rowstore, several rows at a segment's newest
// time, a non-UTC TimeZone, DateStyle, extra_float_digits 0, LIMIT.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import type { Orbit, Queryable } from '../../src/orbit.js';
import * as lastPointRows from '../../src/session/columnstore/last-point-rows.js';
import { startTestServer, type TestServer } from '../support/server.js';

const HOSTS = ["'a'", "'B'", "'b'", "''", "'é'", "'z'", "'\u{1F600}'", "'_x'", 'NULL'];

function text(rows: ReadonlyArray<Record<string, unknown> | unknown[]>): string[] {
  return rows.map((row) => JSON.stringify(Object.values(row).map((v) => (v instanceof Date ? (Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString()) : typeof v === 'bigint' ? `${v}n` : typeof v === 'number' && !Number.isFinite(v) ? String(v) : Object.is(v, -0) ? '-0' : v))));
}

describe('columnstore: last points made by Orbit', () => {
  let server: TestServer;
  let db: Orbit;
  let client: pg.Client;

  beforeAll(async () => {
    server = await startTestServer({ columnstore: { reuseResults: false } });
    db = server.orbit;
    const values = ["'NaN'", "'Infinity'", "'-Infinity'", 'NULL', '-0', '0.1', '1e300'];
    await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb; SET TimeZone = 'UTC';
      CREATE TABLE t (time timestamptz NOT NULL, host text, n int, v float8, f real, b bigint, ok bool, d date, ts timestamp, note varchar(20));
      SELECT create_hypertable('t', 'time', chunk_time_interval => INTERVAL '1 day');
      CREATE TABLE i (time timestamptz NOT NULL, dev int, v float8);
      SELECT create_hypertable('i', 'time', chunk_time_interval => INTERVAL '1 day');`);
    const rows: string[] = [];
    for (let k = 0; k < 3000; k++) {
      // Distinct times per host (no ties), the newest of some hosts in an older chunk.
      const host = HOSTS[k % HOSTS.length]!;
      const minutes = (k * 7) % (3 * 1440) + (host === "'z'" ? -2000 : 0);
      const v = k % 11 === 0 ? values[(k / 11) % values.length]! : String((k * 37) % 101 / 4);
      rows.push(`('2024-01-01 00:00+00'::timestamptz + ${minutes} * INTERVAL '1 minute' + ${k} * INTERVAL '1 ms', ${host}, ${k % 5 === 0 ? 'NULL' : k}, ${v}, ${k % 7}::real / 3, ${k % 3 === 0 ? '9223372036854775807' : -k}, ${k % 2 === 0}, '2024-02-29'::date + ${k}, '2000-01-01 12:34:56.5'::timestamp + ${k} * INTERVAL '1 hour', 'n${k % 4}')`);
    }
    await db.exec(`INSERT INTO t VALUES ${rows.join(', ')}; CREATE TABLE r AS SELECT * FROM t;
      INSERT INTO i SELECT '2024-01-01 00:00+00'::timestamptz + k * INTERVAL '1 minute' + k * INTERVAL '1 ms', CASE WHEN k % 13 = 0 THEN NULL ELSE (k % 9) - 4 END, k FROM generate_series(0, 2999) k;
      CREATE TABLE ri AS SELECT * FROM i;`);
    await db.exec(`ALTER TABLE t SET (timescaledb.compress, timescaledb.compress_segmentby = 'host');
      ALTER TABLE i SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');
      SELECT compress_chunk(c) FROM show_chunks('t') c; SELECT compress_chunk(c) FROM show_chunks('i') c`);
    client = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
    await client.connect();
    await client.query("SET TimeZone = 'UTC'");
  });
  afterAll(async () => {
    await client?.end();
    await server?.close();
  });

  const QUERIES = [
    (x: string) => `SELECT DISTINCT ON (host) * FROM ${x} ORDER BY host, time DESC`,
    (x: string) => `SELECT DISTINCT ON (host) host, time, v AS value, note, host AS h2 FROM ${x} ORDER BY host, time DESC`,
    (x: string) => `SELECT DISTINCT ON (${x}.host) ${x}.* FROM ${x} ORDER BY ${x}.host ASC, ${x}.time DESC`,
    (x: string) => `SELECT DISTINCT ON (host) * FROM ${x} ORDER BY host, time DESC LIMIT 3`,
  ];
  const INT = (x: string) => `SELECT DISTINCT ON (dev) * FROM ${x} ORDER BY dev, time DESC`;

  /** Runs `q` (in-process and over the wire) and its reference; returns how many of the two had their rows made by Orbit. */
  async function compare(q: string, ref: string, on: Queryable = db): Promise<number> {
    const spy = vi.spyOn(lastPointRows, 'lastPointRows');
    try {
      const got = await on.query<Record<string, unknown>>(q);
      const want = await on.query<Record<string, unknown>>(ref);
      expect(text(got.rows), q).toEqual(text(want.rows));
      expect(got.fields.map((f) => [f.name, f.dataTypeID]), q).toEqual(want.fields.map((f) => [f.name, f.dataTypeID]));
      const wire = await client.query({ text: q, rowMode: 'array' });
      const wireWant = await client.query({ text: ref, rowMode: 'array' });
      expect(text(wire.rows as unknown[][]), q).toEqual(text(wireWant.rows as unknown[][]));
      expect(wire.fields.map((f) => [f.name, f.dataTypeID, f.format]), q).toEqual(wireWant.fields.map((f) => [f.name, f.dataTypeID, f.format]));
      expect(wire.rowCount, q).toBe(wireWant.rowCount);
      const results = await Promise.all(spy.mock.results.map((r) => r.value as ReturnType<typeof lastPointRows.lastPointRows>));
      return results.filter((r) => r?.rows !== undefined).length;
    } finally {
      spy.mockRestore();
    }
  }

  /** Every statement compared; the number of them (in-process and wire) whose rows Orbit made. */
  async function check(): Promise<number> {
    let made = 0;
    for (const q of QUERIES) made += await compare(q('t'), q('r'));
    made += await compare(INT('i'), INT('ri'));
    return made;
  }

  it('answers as PostgreSQL does, under the settings it prints in and those it leaves to PostgreSQL', async () => {
    // Every statement but the one with LIMIT, in-process and over the wire.
    expect(await check()).toBe(8);
    for (const setting of ["SET TimeZone = 'America/New_York'", "SET DateStyle = 'SQL, DMY'", 'SET extra_float_digits = 0']) {
      await db.exec(setting);
      await client.query(setting);
      // Every output has a timestamptz or timestamp column: nothing printed here.
      expect(await check()).toBe(0);
      await db.exec('RESET ALL; SET TimeZone = \'UTC\'');
      await client.query("RESET ALL; SET TimeZone = 'UTC'");
    }
  });

  it('leaves rows in the rowstore and ties at the newest time to PostgreSQL', async () => {
    await db.exec(`INSERT INTO t (time, host, v) VALUES ('2024-01-02 10:00+00', 'b', 42); INSERT INTO r (time, host, v) VALUES ('2024-01-02 10:00+00', 'b', 42)`);
    // Only the integer segments' table (no rowstore rows) is made here.
    expect(await check()).toBe(2);
    // The DELETE decompresses the batches its WHERE reaches: rows in the rowstore still.
    await db.exec(`DELETE FROM t WHERE time = '2024-01-02 10:00+00' AND v = 42; DELETE FROM r WHERE time = '2024-01-02 10:00+00' AND v = 42`);
    expect(await check()).toBe(2);
    await db.exec("SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('t') c");
    expect(await check()).toBe(8);
    // Two rows of a segment at its newest time, in two batches (two chunks' worth of compression) and in one.
    await db.exec(`CREATE TABLE ties (time timestamptz NOT NULL, host text, v float8);
      SELECT create_hypertable('ties', 'time', chunk_time_interval => INTERVAL '1 day');
      INSERT INTO ties VALUES ('2024-01-01 10:00+00', 'a', 1), ('2024-01-01 10:00+00', 'a', 2), ('2024-01-01 09:00+00', 'b', 3);
      CREATE TABLE rties AS SELECT * FROM ties;
      ALTER TABLE ties SET (timescaledb.compress, timescaledb.compress_segmentby = 'host');
      SELECT compress_chunk(c) FROM show_chunks('ties') c`);
    const q = (x: string) => `SELECT DISTINCT ON (host) host, time FROM ${x} ORDER BY host, time DESC`;
    expect(await compare(q('ties'), q('rties'))).toBe(0);
  });
});
