// Statements Orbit rewrites (sql/rewrite) behave like the statement the client sent on every path:
// simple query (alone and among others), extended protocol, and the in-process API; the client sees
// the original command tag.
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let c: pg.Client;

beforeAll(async () => {
  server = await startTestServer();
  c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
  await c.connect();
  await c.query('CREATE EXTENSION timescaledb');
});
afterAll(async () => {
  await c?.end();
  await server?.close();
});

const isHypertable = async (name: string) =>
  (await c.query('SELECT count(*)::int AS n FROM timescaledb_information.hypertables WHERE hypertable_name = $1', [name])).rows[0].n === 1;

it('keeps each statement its own tag in a multi-statement simple query', async () => {
  const results = (await c.query(
    "DO $$ BEGIN END $$; CREATE TABLE rw_a (time timestamptz NOT NULL, v int) WITH (timescaledb.hypertable); DO $$ BEGIN END $$; SELECT 1 AS one",
  )) as unknown as pg.QueryResult[];
  expect(results.map((r) => r.command)).toEqual(['DO', 'CREATE', 'DO', 'SELECT']);
  expect(await isHypertable('rw_a')).toBe(true);
});

it('answers CREATE TABLE over the extended protocol (postgres.js), also after an error', async () => {
  const sql = postgres({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres', onnotice: () => undefined });
  try {
    const r = await sql.unsafe("CREATE TABLE rw_b (ts timestamptz, v int) WITH (tsdb.hypertable, tsdb.chunk_interval = '1 day')");
    expect(r.command).toBe('CREATE TABLE');
    expect(await isHypertable('rw_b')).toBe(true);
    await expect(sql.unsafe('CREATE TABLE rw_c (v int) WITH (timescaledb.hypertable)')).rejects.toMatchObject({ code: '42703' });
    const [{ n }] = await sql<{ n: number }[]>`SELECT ${41}::int + 1 AS n`;
    expect(n).toBe(42);
  } finally {
    await sql.end();
  }
});

it('rewrites for the in-process API too', async () => {
  await server.orbit.query('CREATE TABLE rw_d (time timestamptz NOT NULL) WITH (timescaledb.hypertable)');
  expect(await isHypertable('rw_d')).toBe(true);
});
