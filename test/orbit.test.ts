// The in-process API shares the backend with wire clients as one more session.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

it('keeps a transaction opened with query("BEGIN") to itself until it ends', async () => {
  const db = server.orbit;
  await db.query('CREATE TABLE inproc (v int)');
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
  await c.connect();
  await db.query('BEGIN');
  await db.query('INSERT INTO inproc VALUES (1), (2)');
  let seen: number | undefined;
  const waiting = c.query('SELECT count(*)::int AS n FROM inproc').then((r) => (seen = r.rows[0].n));
  await new Promise((r) => setTimeout(r, 150));
  expect(seen).toBeUndefined(); // the client waits: it must not run inside the open transaction
  expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM inproc')).rows).toEqual([{ n: 2 }]);
  await db.query('COMMIT');
  await waiting;
  expect(seen).toBe(2);
  await c.end();
});

it('rolls back a failed transaction() and reports the SQLSTATE', async () => {
  const db = server.orbit;
  await expect(
    db.transaction(async (tx) => {
      await tx.query('INSERT INTO inproc VALUES (3)');
      await tx.query('SELECT 1/0');
    }),
  ).rejects.toMatchObject({ code: '22012' });
  expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM inproc')).rows).toEqual([{ n: 2 }]);
  await expect(db.query('CREATE TEMP TABLE nope (a int)')).rejects.toMatchObject({ code: '0A000' });
});
