// Gap-filling queries through the extended query protocol and the in-process API: the rewrite
// (session/rewrite.ts) runs on Parse, `$n` in the bounds reach the bucket series, and TimescaleDB's
// planning errors come back as ErrorResponses that leave the session usable.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let c: pg.Client;
const text = { getTypeParser: () => (value: string) => value };

beforeAll(async () => {
  server = await startTestServer();
  c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
  await c.connect();
  await c.query('CREATE EXTENSION timescaledb');
  await c.query('CREATE TABLE m (time int NOT NULL, device int, value float8)');
  await c.query('INSERT INTO m VALUES (0, 1, 5), (5, 1, 10), (100, 1, 0), (2, 2, 7)');
});
afterAll(async () => {
  await c?.end();
  await server?.close();
});

const query = (sql: string, values: unknown[]) => c.query({ text: sql, values, rowMode: 'array', types: text as never });

it('fills bounds inferred from parameters in WHERE', async () => {
  const sql = 'SELECT time_bucket_gapfill($1, time) AS b, device, locf(min(value)) FROM m WHERE time >= $2 AND time < $3 GROUP BY 1, 2';
  expect((await query(sql, [5, 0, 15])).rows).toEqual([
    ['0', '1', '5'],
    ['5', '1', '10'],
    ['10', '1', '10'],
    ['0', '2', '7'],
    ['5', '2', '7'],
    ['10', '2', '7'],
  ]);
  // The same text again (a cached rewrite, an unnamed statement re-parsed) with other values.
  expect((await query(sql, [50, 0, 200])).rows).toEqual([
    ['0', '1', '5'],
    ['50', '1', '5'],
    ['100', '1', '0'],
    ['150', '1', '0'],
    ['0', '2', '7'],
    ['50', '2', '7'],
    ['100', '2', '7'],
    ['150', '2', '7'],
  ]);
});

it('fills explicit parameter bounds of a named prepared statement', async () => {
  const sql = 'SELECT time_bucket_gapfill($1::int, time, $2, $3) AS b, interpolate(avg(value)) FROM m WHERE device = 1 AND time < 50 GROUP BY 1';
  for (const [from, to] of [
    [0, 10],
    [0, 6],
  ]) {
    const r = await c.query({ name: 'gapfill', text: sql, values: [1, from, to], rowMode: 'array', types: text as never });
    expect(r.rows.length).toBe(to! - from!);
  }
  const r = await c.query({ name: 'gapfill', text: sql, values: [1, 0, 6], rowMode: 'array', types: text as never });
  expect(r.rows.map((row) => row[1])).toEqual(['5', '6', '7', '8', '9', '10']);
});

it('answers TimescaleDB’s planning errors on Parse and keeps the session', async () => {
  await expect(query('SELECT time_bucket_gapfill($1, time, 0, 5), 1 + locf(min(value)) FROM m GROUP BY 1', [1])).rejects.toMatchObject({
    code: '0A000',
    message: 'locf must be toplevel function call',
  });
  await expect(query('SELECT time_bucket_gapfill($1, time) FROM m WHERE time = $2 GROUP BY 1', [1, 0])).rejects.toMatchObject({
    code: '22023',
    message: 'missing time_bucket_gapfill argument: could not infer start from WHERE clause',
    hint: 'Specify start and finish as arguments or in the WHERE clause.',
  });
  expect((await query('SELECT $1::int + 1', [1])).rows).toEqual([['2']]);
});

it('rewrites in-process queries too', async () => {
  const r = await server.orbit.query<{ b: number; v: number | null }>(
    'SELECT time_bucket_gapfill(5, time) AS b, sum(value) AS v FROM m WHERE time >= $1 AND time < $2 AND device = 2 GROUP BY 1',
    [0, 15],
  );
  expect(r.rows).toEqual([
    { b: 0, v: 7 },
    { b: 5, v: null },
    { b: 10, v: null },
  ]);
});
