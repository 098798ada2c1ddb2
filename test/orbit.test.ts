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

it('keeps settings a transaction of several calls set, after other sessions ran', async () => {
  const db = server.orbit;
  const other = db.session();
  for (const [begin, set] of [
    ['BEGIN', 'SET search_path = pg_catalog'],
    ['BEGIN', "SELECT set_config('search_path', 'pg_catalog', false)"],
  ]) {
    await db.query('RESET search_path');
    await db.query(begin!);
    await db.query(set!);
    await db.query('COMMIT');
    // The other session takes the backend with its own settings; this one's come back after.
    await other.query('SET search_path = information_schema');
    expect((await other.query('SHOW search_path')).rows).toEqual([{ search_path: 'information_schema' }]);
    expect((await db.query('SHOW search_path')).rows, set).toEqual([{ search_path: 'pg_catalog' }]);
  }
  await db.query('RESET search_path');
  await other.close();
});

it('runs concurrent calls of one session one after another, and calls from a transaction() callback inside it', async () => {
  const db = server.orbit;
  await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb; CREATE TABLE conc (time bigint NOT NULL, v int);
    SELECT create_hypertable('conc', 'time', chunk_time_interval => 1000); ALTER TABLE conc SET (timescaledb.compress);
    INSERT INTO conc SELECT g, g FROM generate_series(1, 10) g;`);
  await db.exec("SELECT compress_chunk(x) FROM show_chunks('conc') x");
  // Each reads the compressed rows through its own cache tables, dropped at its end.
  const results = await Promise.all([
    db.query('SELECT count(*)::int AS n FROM conc WHERE v > 0 OFFSET 0'),
    db.query('SELECT sum(v)::int AS n FROM (SELECT * FROM conc OFFSET 0) x'),
    db.query('INSERT INTO conc VALUES (11, 11)'),
    db.query('SELECT max(v)::int AS n FROM conc WHERE v < 100 OFFSET 0'),
  ]);
  expect(results.map((r) => r.rows[0])).toEqual([{ n: 10 }, { n: 55 }, undefined, { n: 11 }]);
  const inside = await db.transaction(async (tx) => {
    await tx.query('INSERT INTO conc VALUES (12, 12)');
    return (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM conc')).rows[0]!.n;
  });
  expect(inside).toBe(12);
});
