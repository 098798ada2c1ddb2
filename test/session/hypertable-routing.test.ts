// After a write to a hypertable, rows that landed in its default partition get their chunks at
// the end of the batch (docs/design/hypertables-rowstore.md), whatever the client and statement.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('statements on chunks after a write, in one query string or one transaction', () => {
  // TimescaleDB gives each row its chunk as it is written; Orbit's fix-up runs before the statement
  // that works on chunks (show_chunks, compress_chunk, the chunk views), so it sees the new ones.
  const chunkCount = async (q: pg.Client | { query: (sql: string) => Promise<{ rows: Array<Record<string, unknown>> }> }, ht: string) =>
    Number((await q.query(`SELECT count(*)::int AS n FROM show_chunks('${ht}')`)).rows[0]!.n);

  beforeAll(async () => {
    await c.query('CREATE TABLE qs (time timestamptz NOT NULL, device int, v float8)');
    await c.query("SELECT create_hypertable('qs', by_range('time', INTERVAL '1 day'))");
    await c.query("ALTER TABLE qs SET (timescaledb.compress, timescaledb.compress_segmentby = 'device')");
  });

  it('sees the chunks of rows written earlier in the string and compresses them', async () => {
    const results = (await c.query(
      "INSERT INTO qs VALUES ('2025-01-01 10:00+00', 1, 1); SELECT count(*)::int AS n FROM show_chunks('qs'); " +
        "INSERT INTO qs VALUES ('2025-01-02 10:00+00', 1, 2), ('2025-01-03 10:00+00', 2, 3); SELECT count(compress_chunk(c))::int AS n FROM show_chunks('qs') c",
    )) as unknown as pg.QueryResult[];
    expect(results.map((r) => r.command)).toEqual(['INSERT', 'SELECT', 'INSERT', 'SELECT']);
    expect(results.map((r) => r.rows[0]?.n)).toEqual([undefined, 1, undefined, 3]);
    const compressed = await c.query("SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE hypertable_name = 'qs' AND is_compressed");
    expect(compressed.rows).toEqual([{ n: 3 }]);
    expect((await c.query('SELECT sum(v)::int AS s FROM qs')).rows).toEqual([{ s: 6 }]);
  });

  it('keeps the string atomic: an error in a later part leaves nothing of it, at the position in the whole string', async () => {
    const before = await chunkCount(c, 'qs');
    const sql = "INSERT INTO qs VALUES ('2025-02-01 10:00+00', 1, 1); SELECT show_chunks('qs'); SELECT no_such_column FROM qs";
    const err = await c.query(sql).catch((e: unknown) => e as { code: string; position: string });
    expect(err).toMatchObject({ code: '42703', position: String(sql.indexOf('no_such_column') + 1) });
    expect(await chunkCount(c, 'qs')).toBe(before);
    expect((await c.query("SELECT count(*)::int AS n FROM qs WHERE time >= '2025-02-01'")).rows).toEqual([{ n: 0 }]);
    // The session is usable and outside any transaction afterwards.
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await expect(c.query('COMMIT')).resolves.toBeDefined();
  });

  it('runs the fix-up inside an open transaction, and ROLLBACK takes the rows and chunks away', async () => {
    const before = await chunkCount(c, 'qs');
    await c.query('BEGIN');
    await c.query("INSERT INTO qs VALUES ('2025-03-01 10:00+00', 1, 1)");
    expect(await chunkCount(c, 'qs')).toBe(before + 1);
    await c.query("INSERT INTO qs VALUES ('2025-03-02 10:00+00', 1, 1); SELECT show_chunks('qs')");
    expect(await chunkCount(c, 'qs')).toBe(before + 2);
    await c.query('ROLLBACK');
    expect(await chunkCount(c, 'qs')).toBe(before);
    // A user savepoint rolled back over the fix-up: the rows it moved are back where they were, and
    // still get their chunk at COMMIT.
    await c.query('BEGIN');
    await c.query("INSERT INTO qs VALUES ('2025-03-03 10:00+00', 1, 1)");
    await c.query('SAVEPOINT a');
    expect(await chunkCount(c, 'qs')).toBe(before + 1);
    await c.query('ROLLBACK TO SAVEPOINT a');
    await c.query('COMMIT');
    expect(await chunkCount(c, 'qs')).toBe(before + 1);
    expect((await c.query("SELECT count(*)::int AS n FROM qs WHERE time >= '2025-03-03'")).rows).toEqual([{ n: 1 }]);
  });

  it('runs it before a prepared statement on chunks inside a transaction (extended protocol)', async () => {
    const before = await chunkCount(c, 'qs');
    await c.query('BEGIN');
    await c.query('INSERT INTO qs VALUES ($1, 1, 1)', ['2025-03-10 10:00+00']);
    const shown = await c.query({ text: 'SELECT count(*)::int AS n FROM show_chunks($1::regclass)', values: ['qs'] });
    expect(shown.rows).toEqual([{ n: before + 1 }]);
    await c.query({ name: 'chunks_of', text: 'SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE hypertable_name = $1', values: ['qs'] });
    await c.query('INSERT INTO qs VALUES ($1, 1, 1)', ['2025-03-11 10:00+00']);
    expect((await c.query({ name: 'chunks_of', text: 'SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE hypertable_name = $1', values: ['qs'] })).rows).toEqual([{ n: before + 2 }]);
    await c.query('ROLLBACK');
    expect(await chunkCount(c, 'qs')).toBe(before);
  });

  it('refuses such a string when it has its own transaction control, running none of it', async () => {
    const before = await chunkCount(c, 'qs');
    const err = await c
      .query("BEGIN; INSERT INTO qs VALUES ('2025-04-01 10:00+00', 9, 1); SELECT show_chunks('qs'); COMMIT")
      .catch((e: unknown) => e as { code: string });
    expect(err).toMatchObject({ code: '0A000' });
    expect(await chunkCount(c, 'qs')).toBe(before);
    // Reads of the rows themselves, and chunk statements before the write, run as one string.
    const [, count] = (await c.query("INSERT INTO qs VALUES ('2025-04-02 10:00+00', 9, 1); SELECT count(*)::int AS n FROM qs WHERE device = 9")) as unknown as pg.QueryResult[];
    expect(count!.rows).toEqual([{ n: 1 }]);
  });

  it('does the same for the in-process API: query() inside a transaction, exec() strings, transaction()', async () => {
    const db = server.orbit;
    const before = await chunkCount(c, 'qs');
    await db.query('BEGIN');
    await db.query("INSERT INTO qs VALUES ('2025-05-01 10:00+00', 1, 1)");
    expect(await chunkCount(db, 'qs')).toBe(before + 1);
    await db.query('COMMIT');
    // After COMMIT the rows have their chunk (they stayed in the default partition before).
    const [{ def }] = (await c.query("SELECT format('%I.%I', associated_schema_name, associated_table_prefix || '_default') AS def FROM _timescaledb_catalog.hypertable WHERE table_name = 'qs'")).rows;
    expect((await c.query(`SELECT count(*)::int AS n FROM ${def}`)).rows).toEqual([{ n: 0 }]);
    const [, shown] = await db.exec("INSERT INTO qs VALUES ('2025-05-02 10:00+00', 1, 1); SELECT count(*)::int AS n FROM show_chunks('qs')");
    expect(shown!.rows).toEqual([{ n: before + 2 }]);
    await expect(db.exec("INSERT INTO qs VALUES ('2025-05-03 10:00+00', 1, 1); SELECT show_chunks('qs'); SELECT 1/0")).rejects.toMatchObject({ code: '22012' });
    expect(await chunkCount(db, 'qs')).toBe(before + 2);
    const inside = await db.transaction(async (tx) => {
      await tx.query("INSERT INTO qs VALUES ('2025-05-04 10:00+00', 1, 1)");
      return chunkCount(tx, 'qs');
    });
    expect(inside).toBe(before + 3);
  });
});
