// The columnstore through real clients: extended protocol with parameters and statements prepared
// before chunks change state, postgres.js, and durability of compressed chunks across SIGKILL
// (batches survive, orphans of an interrupted compression are swept).
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildServer, startTestServer, tempDir, type TestServer } from '../support/server.js';

const SETUP = `
CREATE EXTENSION IF NOT EXISTS timescaledb;
CREATE TABLE m (time timestamptz NOT NULL, dev int, v float8);
SELECT create_hypertable('m', 'time', chunk_time_interval => INTERVAL '1 day');
INSERT INTO m SELECT '2024-01-01'::timestamptz + i * INTERVAL '5 minutes', i % 5, i / 4.0 FROM generate_series(0, 2999) i;
ALTER TABLE m SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');`;

const SUMMARY = 'SELECT count(*)::int AS n, sum(v)::float8 AS s, min(time) AS lo, max(time) AS hi FROM m';

describe('columnstore over the wire', () => {
  let server: TestServer;
  let client: pg.Client;

  beforeAll(async () => {
    server = await startTestServer();
    client = new pg.Client({ connectionString: server.url });
    await client.connect();
    await client.query(SETUP);
  });
  afterAll(async () => {
    await client?.end();
    await server?.close();
  });

  it('answers parameterised and prepared statements the same before and after compression', async () => {
    const byDevice = { name: 'by-device', text: 'SELECT dev, count(*)::int AS n, sum(v)::float8 AS s FROM m WHERE time >= $1 AND dev = ANY($2) GROUP BY dev ORDER BY dev' };
    const args = ['2024-01-03T00:00:00Z', [1, 3]];
    const before = (await client.query(byDevice.text, args)).rows;
    const prepared = (await client.query({ ...byDevice, values: args })).rows;
    expect(prepared).toEqual(before);
    const summary = (await client.query(SUMMARY)).rows;

    const compressed = await client.query("SELECT compress_chunk(c) FROM show_chunks('m') c");
    expect(compressed.rowCount).toBe(11);
    expect((await client.query('SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE is_compressed')).rows[0].n).toBe(11);

    // Named statements without parameters (postgres.js prepares every query) take the kernels,
    // computed afresh at each execution: no chunk is decoded into cache tables.
    const caches = "SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'orbit\\_cs\\_%\\_v%' AND relpersistence = 't'";
    const hourly = { name: 'hourly', text: 'SELECT time_bucket(\'1 hour\', time) AS h, dev, max(v) AS mx, count(*)::int AS n FROM m GROUP BY h, dev ORDER BY h, dev' };
    const hourlyBefore = (await client.query(hourly.text)).rows;
    expect((await client.query(hourly)).rows).toEqual(hourlyBefore);
    const js = postgres(server.url, { max: 1 });
    try {
      expect((await js.unsafe(hourly.text)).map((r) => ({ ...r }))).toEqual(hourlyBefore);
      await client.query('INSERT INTO m VALUES ($1, 1, 1000)', ['2024-01-01T00:00:30Z']);
      const late = (await client.query(hourly)).rows;
      expect(late.find((r) => r.dev === 1 && r.h.getTime() === Date.parse('2024-01-01T00:00:00Z'))!.mx).toBe(1000);
      expect((await js.unsafe(hourly.text)).map((r) => ({ ...r }))).toEqual(late);
      await client.query("DELETE FROM m WHERE time = '2024-01-01T00:00:30Z'");
      await client.query("SELECT compress_chunk(c) FROM show_chunks('m') c");
    } finally {
      await js.end();
    }
    expect((await client.query(caches)).rows[0].n).toBe(0);

    // The named statement was parsed before the chunks moved: it must still see every row.
    expect((await client.query({ ...byDevice, values: args })).rows).toEqual(before);
    expect((await client.query(byDevice.text, args)).rows).toEqual(before);
    expect((await client.query(SUMMARY)).rows).toEqual(summary);

    const sql = postgres(server.url, { max: 1 });
    try {
      const rows = await sql`SELECT dev, count(*)::int AS n, sum(v)::float8 AS s FROM m WHERE time >= ${args[0] as string} AND dev = ANY(${[1, 3]}) GROUP BY dev ORDER BY dev`;
      expect(rows.map((r) => ({ ...r }))).toEqual(before);
      // An UPDATE through the extended protocol decompresses what it writes.
      await sql`UPDATE m SET v = v + 1 WHERE dev = ${2} AND time < ${'2024-01-02'}`;
    } finally {
      await sql.end();
    }
    const after = (await client.query(SUMMARY)).rows[0];
    expect(after.n).toBe(summary[0].n);
    const changed = (await client.query("SELECT count(*)::int AS n FROM m WHERE dev = 2 AND time < '2024-01-02'")).rows[0].n;
    expect(after.s).toBeCloseTo(summary[0].s + changed, 6);

    await client.query("SELECT decompress_chunk(c) FROM show_chunks('m') c");
    expect((await client.query('SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE is_compressed')).rows[0].n).toBe(0);
    expect((await client.query(SUMMARY)).rows[0]).toEqual(after);
  });

  it('decompresses before a COPY into a hypertable with a unique index, so its rows are checked against every row', async () => {
    await client.query(`CREATE TABLE k (time timestamptz NOT NULL, id int, PRIMARY KEY (id, time));
      SELECT create_hypertable('k', 'time'); ALTER TABLE k SET (timescaledb.compress);
      INSERT INTO k VALUES ('2024-01-01', 1), ('2024-01-02', 2); SELECT compress_chunk(c) FROM show_chunks('k') c`);
    const sql = postgres(server.url, { max: 1 });
    try {
      await pipeline(Readable.from(['2024-01-03 00:00:00+00\t3\n']), await sql`COPY k FROM STDIN`.writable());
    } finally {
      await sql.end();
    }
    expect((await client.query('SELECT count(*)::int AS n, sum(id)::int AS s FROM k')).rows[0]).toEqual({ n: 3, s: 6 });
    expect((await client.query("SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE hypertable_name = 'k' AND is_compressed")).rows[0].n).toBe(0);
    await expect(client.query("INSERT INTO k VALUES ('2024-01-01', 1)")).rejects.toMatchObject({ code: '23505' });
  });

  it('reports a failed conversion as an error and leaves the chunk as it was', async () => {
    await client.query("SELECT compress_chunk(c) FROM show_chunks('m') c");
    // Another session holds nothing: the conversion runs before the answer, and a second request is a notice.
    const again = await client.query("SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('m') c LIMIT 1");
    expect(again.rowCount).toBe(1);
    await expect(client.query("SELECT compress_chunk(c, if_not_compressed => false) FROM show_chunks('m') c LIMIT 1")).rejects.toMatchObject({ code: '42710' });
  });
});

describe('columnstore durability', () => {
  const dir = tempDir('orbit-cs-');
  afterAll(() => dir.remove());

  it('keeps compressed chunks across SIGKILL and sweeps objects of an interrupted compression', async () => {
    let server = await startChildServer(['--data-dir', dir.path, '--listen', '127.0.0.1:0', '--http', 'off']);
    const url = `postgres://postgres@127.0.0.1:${server.port}/postgres`;
    let client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(SETUP);
    const summary = (await client.query(SUMMARY)).rows;
    await client.query("SELECT compress_chunk(c) FROM show_chunks('m') c");
    await client.end();
    await server.stop('SIGKILL');

    // What a crash between writing batches and committing the catalog leaves: a version no chunk points at.
    const orphan = join(dir.path, 'objects', 'cs', '1', '1', '99');
    mkdirSync(orphan, { recursive: true });
    writeFileSync(join(orphan, '0'), new Uint8Array([1, 2, 3]));

    server = await startChildServer(['--data-dir', dir.path, '--listen', '127.0.0.1:0', '--http', 'off']);
    client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${server.port}/postgres` });
    await client.connect();
    try {
      expect((await client.query('SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE is_compressed')).rows[0].n).toBe(11);
      expect((await client.query(SUMMARY)).rows).toEqual(summary);
      expect(existsSync(join(orphan, '0'))).toBe(false);
      expect(readdirSync(join(dir.path, 'objects', 'cs', '1', '1', '1'))).toContain('manifest');
    } finally {
      await client.end();
      await server.stop();
    }
  });
});
