// After a write to a hypertable, rows that landed in its default partition get their chunks at
// the end of the batch (docs/design/hypertables-rowstore.md), whatever the client and statement.
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
  await c.query('CREATE TABLE cond (time timestamptz NOT NULL, device int, temp float8)');
  await c.query("SELECT create_hypertable('cond', by_range('time', INTERVAL '1 day'))");
});
afterAll(async () => {
  await c?.end();
  await server?.close();
});

async function placement(): Promise<Array<{ part: string; n: number }>> {
  const r = await c.query("SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM cond GROUP BY 1 ORDER BY 1");
  return r.rows;
}

it('gives rows from INSERT their chunks, in and outside transactions', async () => {
  await c.query("INSERT INTO cond VALUES ('2024-01-01 10:00+00', 1, 20), ('2024-01-02 10:00+00', 1, 21)");
  await c.query('BEGIN');
  await c.query("INSERT INTO cond VALUES ($1, 2, 22)", ['2024-01-03 10:00+00']);
  await c.query('COMMIT');
  const parts = await placement();
  expect(parts.map((p) => p.n)).toEqual([1, 1, 1]);
  expect(parts.every((p) => /^_timescaledb_internal\._hyper_\d+_\d+_chunk$/.test(p.part))).toBe(true);
  expect((await c.query("SELECT count(*)::int AS n FROM show_chunks('cond')")).rows).toEqual([{ n: 3 }]);
});

it('gives rows from the in-process API their chunks', async () => {
  await server.orbit.query("INSERT INTO cond VALUES ('2024-01-04 10:00+00', 3, 23)");
  const parts = await placement();
  expect(parts).toHaveLength(4);
  expect(parts.some((p) => p.part.endsWith('_default'))).toBe(false);
});

it('gives rows from COPY FROM STDIN their chunks', async () => {
  const { execFile } = await import('node:child_process');
  const csv = Array.from({ length: 48 }, (_, h) => `2024-02-0${1 + Math.floor(h / 24)} ${String(h % 24).padStart(2, '0')}:00+00,9,${h}`).join('\n') + '\n';
  // Asynchronously: the server runs in this process.
  const out = await new Promise<string>((resolve, reject) => {
    const child = execFile('psql', ['-X', '-h', '127.0.0.1', '-p', String(server.port), '-U', 'postgres', '-d', 'postgres', '-c', '\\copy cond from stdin csv'], (err, stdout) => (err ? reject(err) : resolve(stdout)));
    child.stdin!.end(csv);
  });
  expect(out.trim()).toBe('COPY 48');
  const r = await c.query("SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM cond WHERE device = 9 GROUP BY 1 ORDER BY 1");
  expect(r.rows.map((x) => x.n)).toEqual([24, 24]);
  expect(r.rows.some((x) => x.part.endsWith('_default'))).toBe(false);
});

it('drops the chunks of a truncated hypertable, as TimescaleDB does', async () => {
  await c.query('CREATE TABLE trunc (time timestamptz NOT NULL, v int)');
  await c.query("SELECT create_hypertable('trunc', by_range('time', INTERVAL '1 day'))");
  await c.query("INSERT INTO trunc VALUES ('2024-01-01', 1), ('2024-01-02', 2), ('2024-01-03', 3)");
  const chunks = async () => (await c.query("SELECT count(*)::int AS n FROM show_chunks('trunc')")).rows[0].n;
  expect(await chunks()).toBe(3);
  await c.query('TRUNCATE trunc');
  expect(await chunks()).toBe(0);
  expect((await c.query("SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE '\\_hyper\\_%\\_chunk' AND relnamespace = '_timescaledb_internal'::regnamespace AND oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'trunc'::regclass)")).rows[0].n).toBe(0);
  // Rolled back: the rows and their chunks stay.
  await c.query("INSERT INTO trunc VALUES ('2024-01-01', 1), ('2024-01-02', 2)");
  await c.query('BEGIN');
  await c.query('TRUNCATE trunc');
  await c.query('ROLLBACK');
  expect(await chunks()).toBe(2);
  // Rows written after the TRUNCATE in the same transaction keep their chunk; the others go.
  await c.query("BEGIN; TRUNCATE trunc; INSERT INTO trunc VALUES ('2024-01-02', 5); COMMIT");
  expect(await chunks()).toBe(1);
  expect((await c.query('SELECT v FROM trunc')).rows).toEqual([{ v: 5 }]);
  // A chunk truncated on its own stays, empty (TimescaleDB's behaviour too).
  const [{ chunk }] = (await c.query("SELECT c::text AS chunk FROM show_chunks('trunc') c")).rows;
  await c.query(`TRUNCATE ${chunk}`);
  expect(await chunks()).toBe(1);
});

it('warns when rows could not be given their chunks, and keeps them visible', async () => {
  await c.query('CREATE TABLE warn_ht (time timestamptz NOT NULL, v int)');
  await c.query("SELECT create_hypertable('warn_ht', by_range('time', INTERVAL '1 day'))");
  const [{ def }] = (await c.query("SELECT format('%I.%I', associated_schema_name, associated_table_prefix || '_default') AS def FROM _timescaledb_catalog.hypertable WHERE table_name = 'warn_ht'")).rows;
  // A default partition the fix-up cannot find makes it fail.
  await c.query(`ALTER TABLE ${def} RENAME TO warn_ht_moved_default`);
  const notices: Array<{ severity?: string; message?: string; code?: string }> = [];
  const onNotice = (n: { severity?: string; message?: string; code?: string }) => notices.push(n);
  c.on('notice', onNotice);
  try {
    await c.query("INSERT INTO warn_ht VALUES ('2024-06-01', 1)");
  } finally {
    c.off('notice', onNotice);
  }
  expect(notices.some((n) => n.severity === 'WARNING' && /rows were left in the default partition/.test(n.message ?? ''))).toBe(true);
  expect((await c.query('SELECT count(*)::int AS n FROM warn_ht')).rows[0].n).toBe(1);
  await c.query(`ALTER TABLE _timescaledb_internal.warn_ht_moved_default RENAME TO ${def.split('.')[1]}`);
  await c.query("INSERT INTO warn_ht VALUES ('2024-06-02', 2)");
  expect((await c.query("SELECT count(*)::int AS n FROM show_chunks('warn_ht')")).rows[0].n).toBe(2);
});

it('refuses a statement on chunks after a write to a hypertable in the same query string, running neither', async () => {
  // The written rows would get their chunks only after the whole string: compress_chunk or
  // show_chunks later in it would not see them. TimescaleDB would; Orbit says so instead (0A000).
  const before = (await c.query('SELECT count(*)::int AS n FROM cond')).rows[0].n as number;
  for (const later of ["SELECT show_chunks('cond')", "SELECT compress_chunk(c) FROM show_chunks('cond') c", 'SELECT count(*) FROM timescaledb_information.chunks']) {
    const err = await c.query(`INSERT INTO cond VALUES ('2024-02-01 10:00+00', 9, 1); ${later}`).catch((e: unknown) => e as { code: string; detail: string });
    expect(err).toMatchObject({ code: '0A000', detail: expect.stringContaining('statement 2') });
  }
  expect((await c.query('SELECT count(*)::int AS n FROM cond')).rows[0].n).toBe(before);
  // Reads of the rows themselves, and chunk statements before the write, are fine.
  const [, count] = (await c.query("INSERT INTO cond VALUES ('2024-02-01 10:00+00', 9, 1); SELECT count(*)::int AS n FROM cond")) as unknown as pg.QueryResult[];
  expect(count!.rows).toEqual([{ n: before + 1 }]);
  const [chunks] = (await c.query("SELECT count(*)::int AS n FROM show_chunks('cond'); INSERT INTO cond VALUES ('2031-05-05 10:00+00', 9, 1)")) as unknown as pg.QueryResult[];
  expect(chunks!.rows[0].n).toBeGreaterThan(0);
  expect((await c.query("SELECT count(*)::int AS n FROM show_chunks('cond', newer_than => '2031-05-05'::timestamptz)")).rows).toEqual([{ n: 1 }]);
});
