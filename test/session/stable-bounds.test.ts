// now()-style lower bounds on hypertables are made constant before planning (sql/rewrite/stable-bounds):
// the answers must be exactly those of the same query on a plain table, on every path.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let c: pg.Client;

beforeAll(async () => {
  server = await startTestServer();
  c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
  await c.connect();
  await c.query('CREATE EXTENSION timescaledb');
  await c.query('CREATE TABLE ht (time timestamptz NOT NULL, v int)');
  await c.query("SELECT create_hypertable('ht', by_range('time', INTERVAL '10 minutes'))");
  await c.query("INSERT INTO ht SELECT date_trunc('minute', now()) + i * INTERVAL '1 minute', i FROM generate_series(-300, 60) i");
  await c.query('CREATE TABLE plain AS SELECT * FROM ht');
});
afterAll(async () => {
  await c?.end();
  await server?.close();
});

const predicates = [
  "time > now() - INTERVAL '1 hour'",
  "time >= current_timestamp - '90 minutes'::interval AND v % 2 = 0",
  "INTERVAL '2 hours' + time > now()",
  "now() - INTERVAL '30 minutes' <= time",
  "time BETWEEN date_trunc('hour', now()) AND now() + INTERVAL '10 minutes'",
  'time >= current_date',
];

/**
 * Both answers, read within one wall-clock minute: the rows lie on whole minutes, so a bound of
 * now() − x passes one each minute and two statements astride a minute may rightly differ.
 */
async function withinOneMinute<T>(read: () => Promise<T>): Promise<T> {
  for (;;) {
    const minute = Math.floor(Date.now() / 60_000);
    const value = await read();
    if (Math.floor(Date.now() / 60_000) === minute) return value;
  }
}

it('gives the plain table answer through the simple protocol', async () => {
  for (const p of predicates) {
    const [a, b] = await withinOneMinute(async () => [
      await c.query(`SELECT count(*)::int AS n, sum(v)::int AS s FROM ht WHERE ${p}`),
      await c.query(`SELECT count(*)::int AS n, sum(v)::int AS s FROM plain WHERE ${p}`),
    ]);
    expect(a!.rows, p).toEqual(b!.rows);
  }
});

it('gives the plain table answer in-process and inside a transaction block', async () => {
  for (const p of predicates) {
    const [a, b] = await withinOneMinute(async () => [
      await server.orbit.query<{ n: number }>(`SELECT count(*)::int AS n FROM ht WHERE ${p}`),
      await server.orbit.query<{ n: number }>(`SELECT count(*)::int AS n FROM plain WHERE ${p}`),
    ]);
    expect(a!.rows, p).toEqual(b!.rows);
  }
  await c.query('BEGIN');
  const a = await c.query("SELECT count(*)::int AS n FROM ht WHERE time > now() - INTERVAL '1 hour'");
  const b = await c.query("SELECT count(*)::int AS n FROM plain WHERE time > now() - INTERVAL '1 hour'");
  await c.query('COMMIT');
  expect(a.rows).toEqual(b.rows);
});

it('leaves the error of a bad bound to the statement itself', async () => {
  await expect(c.query("SELECT count(*) FROM ht WHERE time > now() - INTERVAL '1 dya'")).rejects.toMatchObject({ code: '22007' });
  expect((await c.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
});
