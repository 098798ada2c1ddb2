// CancelRequest stops a statement that is already running (PGlite in a worker thread on files is
// restarted on the same data): the client gets 57014, committed data and other sessions survive.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, tempDir, type TestServer } from '../support/server.js';

const dir = tempDir('orbit-cancel-');
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ dataDir: dir.path });
});
afterAll(async () => {
  await server?.close();
  dir.remove();
});

function client(): pg.Client {
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
  c.on('error', () => undefined);
  return c;
}

async function cancel(c: pg.Client): Promise<void> {
  const { processID, secretKey } = c as unknown as { processID: number; secretKey: number };
  const { connect } = await import('node:net');
  const s = connect(server.port, '127.0.0.1');
  const b = Buffer.alloc(16);
  b.writeInt32BE(16, 0);
  b.writeInt32BE(80877102, 4);
  b.writeInt32BE(processID, 8);
  b.writeInt32BE(secretKey, 12);
  await new Promise<void>((r) => s.on('connect', () => s.end(b, r)));
}

it('stops a running statement with 57014 and keeps committed data and other sessions', async () => {
  const a = client();
  const other = client();
  await a.connect();
  await other.connect();
  await a.query('CREATE TABLE kept (v int)');
  await a.query('INSERT INTO kept VALUES (1), (2)');
  await other.query("SET TimeZone = 'Asia/Tokyo'");
  await other.query({ name: 'mine', text: 'SELECT count(*)::int AS n FROM kept' });
  await other.query('LISTEN ch');

  const started = Date.now();
  const sleeping = a.query('SELECT pg_sleep(60)');
  await new Promise((r) => setTimeout(r, 300));
  await cancel(a);
  await expect(sleeping).rejects.toMatchObject({ code: '57014' });
  expect(Date.now() - started).toBeLessThan(30_000);

  expect((await a.query('SELECT sum(v)::int AS s FROM kept')).rows).toEqual([{ s: 3 }]);
  // The other session's settings, named statement and LISTEN survive the restart.
  expect((await other.query('SHOW TimeZone')).rows).toEqual([{ TimeZone: 'Asia/Tokyo' }]);
  expect((await other.query({ name: 'mine', text: 'SELECT count(*)::int AS n FROM kept' })).rows).toEqual([{ n: 2 }]);
  const got: string[] = [];
  other.on('notification', (n) => got.push(`${n.channel}:${n.payload}`));
  await a.query("NOTIFY ch, 'after restart'");
  await new Promise((r) => setTimeout(r, 100));
  await other.query('SELECT 1');
  expect(got).toEqual(['ch:after restart']);
  await a.end();
  await other.end();
});

it('leaves a cancelled transaction block aborted, as PostgreSQL does', async () => {
  const a = client();
  await a.connect();
  await a.query('BEGIN');
  await a.query('INSERT INTO kept VALUES (100)');
  const sleeping = a.query('SELECT pg_sleep(60)');
  await new Promise((r) => setTimeout(r, 300));
  await cancel(a);
  await expect(sleeping).rejects.toMatchObject({ code: '57014' });
  await expect(a.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
  await a.query('ROLLBACK');
  expect((await a.query('SELECT count(*)::int AS n FROM kept WHERE v = 100')).rows).toEqual([{ n: 0 }]);
  await a.end();
});

it('ignores a cancel when nothing is running', async () => {
  const a = client();
  await a.connect();
  await cancel(a);
  await new Promise((r) => setTimeout(r, 100));
  expect((await a.query('SELECT 5 AS five')).rows).toEqual([{ five: 5 }]);
  await a.end();
});
