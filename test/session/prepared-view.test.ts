// pg_prepared_statements per session (src/session/prepared-view.ts): node-postgres clients prepare
// statements with the same names, by Parse and by SQL PREPARE; each sees only its own, under the
// names and with the text it gave them, as PostgreSQL shows a session its own.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
const opened: pg.Client[] = [];

async function connect(): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
  await c.connect();
  opened.push(c);
  return c;
}

const LIST = 'SELECT name, statement, from_sql, parameter_types::text AS types FROM pg_prepared_statements ORDER BY name';

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const c of opened) await c.end().catch(() => undefined);
  await server?.close();
});

it('lists only the session\'s own statements, under its names, with its text', async () => {
  const a = await connect();
  const b = await connect();
  await a.query({ name: 'shared', text: 'SELECT $1::int + 1 AS v', values: [1] });
  await b.query({ name: 'shared', text: "SELECT $1::text || 'b' AS v", values: ['x'] });
  await a.query("PREPARE q (int) AS SELECT $1 * 2; SELECT 1");
  expect((await a.query(LIST)).rows).toEqual([
    { name: 'q', statement: 'PREPARE q (int) AS SELECT $1 * 2', from_sql: true, types: '{integer}' },
    { name: 'shared', statement: 'SELECT $1::int + 1 AS v', from_sql: false, types: '{integer}' },
  ]);
  expect((await b.query(LIST)).rows).toEqual([{ name: 'shared', statement: "SELECT $1::text || 'b' AS v", from_sql: false, types: '{text}' }]);
  // Qualified, aliased, in a subquery and through the extended protocol alike.
  expect((await b.query("SELECT count(*)::int AS n FROM pg_catalog.pg_prepared_statements p WHERE p.name = 'shared'")).rows).toEqual([{ n: 1 }]);
  expect((await a.query({ text: 'SELECT (SELECT count(*) FROM pg_prepared_statements WHERE pg_prepared_statements.name = $1)::int AS n', values: ['q'] })).rows).toEqual([{ n: 1 }]);
  const c = await connect();
  expect((await c.query('SELECT count(*)::int AS n FROM pg_prepared_statements')).rows).toEqual([{ n: 0 }]);
});

it('keeps the list right across DEALLOCATE, another session\'s DEALLOCATE ALL and name clashes', async () => {
  const a = await connect();
  const b = await connect();
  await a.query('PREPARE one AS SELECT 1; PREPARE two AS SELECT 2');
  await b.query('PREPARE one AS SELECT 11');
  await a.query('DEALLOCATE one');
  expect((await a.query('SELECT array_agg(name ORDER BY name)::text AS names FROM pg_prepared_statements')).rows).toEqual([{ names: '{two}' }]);
  // Another session's DEALLOCATE ALL drops every statement on the backend: this session's come back.
  await b.query('DEALLOCATE ALL');
  expect((await a.query('SELECT array_agg(name ORDER BY name)::text AS names FROM pg_prepared_statements')).rows).toEqual([{ names: '{two}' }]);
  expect((await b.query('SELECT count(*)::int AS n FROM pg_prepared_statements')).rows).toEqual([{ n: 0 }]);
  await expect(a.query('PREPARE two AS SELECT 22')).rejects.toMatchObject({ code: '42P05', message: 'prepared statement "two" already exists' });
  await expect(b.query('DEALLOCATE two')).rejects.toMatchObject({ code: '26000', message: 'prepared statement "two" does not exist' });
});
