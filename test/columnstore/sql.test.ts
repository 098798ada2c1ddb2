// The columnstore through real clients: extended protocol with parameters and statements prepared
// before chunks change state, postgres.js, and durability of compressed chunks across SIGKILL
// (batches survive, orphans of an interrupted compression are swept).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverWithClient, startChildServer, startTestServer, tempDir, type TestServer } from '../support/server.js';

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

  it('decompresses only the batches a write can touch, with the same results as a plain table', async () => {
    // One chunk of 60,000 rows over 4 hosts: at a limit of 20,000, one host's 15,000 rows fit, the whole chunk does not.
    await client.query(`CREATE TABLE d (time timestamptz NOT NULL, host text, v int);
      SELECT create_hypertable('d', 'time', chunk_time_interval => INTERVAL '7 days');
      ALTER TABLE d SET (timescaledb.compress, timescaledb.compress_segmentby = 'host', timescaledb.compress_orderby = 'time');
      INSERT INTO d SELECT '2024-01-01'::timestamptz + i * INTERVAL '1 second', 'h' || (i % 4), i FROM generate_series(0, 59999) i;
      CREATE TABLE plain AS SELECT * FROM d`);
    await client.query("SELECT compress_chunk(c) FROM show_chunks('d') c");
    const stats = "SELECT row_count::int AS rows, batch_count AS batches FROM _timescaledb_catalog.orbit_columnstore_chunk";
    const compressed = "SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE hypertable_name = 'd' AND is_compressed";
    const same = async () => {
      const q = 'SELECT host, count(*)::int AS n, sum(v)::int8 AS s, min(time) AS lo, max(time) AS hi FROM TABLE GROUP BY host ORDER BY host';
      expect((await client.query(q.replace('TABLE', 'd'))).rows).toEqual((await client.query(q.replace('TABLE', 'plain'))).rows);
    };
    const before = (await client.query(stats)).rows[0];
    expect(before.rows).toBe(60000);
    await client.query('SET timescaledb.max_tuples_decompressed_per_dml_transaction = 20000');
    try {
      // Whole chunk: over the limit.
      await expect(client.query('DELETE FROM d WHERE v = 7')).rejects.toMatchObject({ code: '53400', detail: 'current limit: 20000, tuples decompressed: 60000' });
      // One host: its 15 batches only; the chunk keeps the other 45.
      for (const t of ['d', 'plain']) await client.query(`DELETE FROM ${t} WHERE host = 'h1'`);
      expect((await client.query(stats)).rows[0]).toEqual({ rows: 45000, batches: before.batches - 15 });
      expect((await client.query(compressed)).rows[0].n).toBe(1);
      await same();
      // A time range: the batches whose min/max reach it (segment batches cut by time order).
      for (const t of ['d', 'plain']) await client.query(`UPDATE ${t} SET v = -v WHERE time >= '2024-01-01 00:10' AND time < '2024-01-01 00:20' AND host <> 'h0'`);
      const after = (await client.query(stats)).rows[0];
      expect(after.rows).toBeLessThan(45000);
      expect(after.rows).toBeGreaterThan(40000);
      await same();
      // Prepared with parameters: the parameter cannot be read, the constant time bound can.
      const upd = { name: 'upd', text: "UPDATE d SET v = v + 1 WHERE host = $1 AND time < '2024-01-01 00:05'" };
      await client.query({ ...upd, values: ['h2'] });
      await client.query({ ...upd, values: ['h3'] });
      await client.query("UPDATE plain SET v = v + 1 WHERE host IN ('h2', 'h3') AND time < '2024-01-01 00:05'");
      await same();
      // A rollback points the chunk back at the batches it had.
      const kept = (await client.query(stats)).rows[0];
      await client.query('BEGIN');
      await client.query("DELETE FROM d WHERE host = 'h0' AND time >= '2024-01-01 03:00' AND time < '2024-01-01 04:00'");
      expect((await client.query(stats)).rows[0].rows).toBeLessThan(kept.rows);
      await client.query('ROLLBACK');
      expect((await client.query(stats)).rows[0]).toEqual(kept);
      await same();
      // MERGE by its join condition's constants.
      await client.query(`MERGE INTO d USING (VALUES (5)) s(x) ON d.host = 'h0' AND d.time < '2024-01-01 00:01' WHEN MATCHED THEN UPDATE SET v = s.x`);
      await client.query(`UPDATE plain SET v = 5 WHERE host = 'h0' AND time < '2024-01-01 00:01'`);
      await same();
      expect((await client.query(compressed)).rows[0].n).toBe(1);
    } finally {
      await client.query('RESET timescaledb.max_tuples_decompressed_per_dml_transaction');
    }
  });

  it('checks inserts with known times against the batches holding those times only', async () => {
    await client.query(`CREATE TABLE ku (time timestamptz NOT NULL, id int, v int, PRIMARY KEY (id, time));
      SELECT create_hypertable('ku', 'time', chunk_time_interval => INTERVAL '7 days');
      ALTER TABLE ku SET (timescaledb.compress, timescaledb.compress_segmentby = 'id', timescaledb.compress_orderby = 'time');
      INSERT INTO ku SELECT '2024-01-01'::timestamptz + i * INTERVAL '1 minute', i % 3, i FROM generate_series(0, 5999) i`);
    await client.query("SELECT compress_chunk(c) FROM show_chunks('ku') c");
    const stats = "SELECT sum(row_count)::int AS rows FROM _timescaledb_catalog.orbit_columnstore_chunk cc JOIN _timescaledb_catalog.chunk ch ON ch.compressed_chunk_id = cc.id JOIN _timescaledb_catalog.hypertable h ON h.id = ch.hypertable_id WHERE h.table_name = 'ku'";
    await client.query('SET timescaledb.enable_dml_decompression = off');
    await expect(client.query("INSERT INTO ku VALUES ('2024-01-01 00:03', 0, 1) ON CONFLICT DO NOTHING")).rejects.toMatchObject({
      code: '0A000',
      message: 'inserting into compressed chunk with unique constraints disabled',
    });
    await expect(client.query("DELETE FROM ku WHERE id = 0")).rejects.toMatchObject({ code: '0A000', message: 'UPDATE/DELETE is disabled on compressed chunks' });
    await client.query('RESET timescaledb.enable_dml_decompression');
    const r = await client.query("INSERT INTO ku VALUES ('2024-01-01 00:03', 0, 1), ('2024-01-01 00:04', 5, 1) ON CONFLICT (id, time) DO UPDATE SET v = excluded.v + 100 RETURNING id, v");
    expect(r.rows).toEqual([{ id: 0, v: 101 }, { id: 5, v: 1 }]);
    // Only the batches whose time range holds 00:03 or 00:04 (the first of each segment) were decompressed.
    const left = (await client.query(stats)).rows[0].rows;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(6000);
    await expect(client.query("INSERT INTO ku VALUES ('2024-01-01 00:04', 1, 0)")).rejects.toMatchObject({ code: '23505' });
    expect((await client.query('SELECT count(*)::int AS n, sum(v)::int8 AS s FROM ku')).rows[0]).toEqual({ n: 6001, s: String((5999 * 6000) / 2 + 101 - 3 + 1) });
  });

  it('reports a failed conversion as an error and leaves the chunk as it was', async () => {
    await client.query("SELECT compress_chunk(c) FROM show_chunks('m') c");
    // Another session holds nothing: the conversion runs before the answer, and a second request is a notice.
    const again = await client.query("SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('m') c LIMIT 1");
    expect(again.rowCount).toBe(1);
    await expect(client.query("SELECT compress_chunk(c, if_not_compressed => false) FROM show_chunks('m') c LIMIT 1")).rejects.toMatchObject({ code: '42710' });
  });

  it('answers simple queries reusing fast-path statements as PostgreSQL, whatever changed in between', async () => {
    await client.query(`CREATE TABLE g (time timestamptz NOT NULL, dev int, v float8);
      SELECT create_hypertable('g', 'time', chunk_time_interval => INTERVAL '1 day');
      INSERT INTO g SELECT '2024-01-01'::timestamptz + i * INTERVAL '5 minutes', i % 5, i / 4.0 FROM generate_series(0, 2999) i;
      ALTER TABLE g SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');
      CREATE TABLE g_ref AS SELECT * FROM g`);
    await client.query("SELECT compress_chunk(c) FROM show_chunks('g') c");
    const queries = (x: string) => [
      `SELECT dev, count(*)::int AS n, max(v) AS mx FROM ${x} WHERE time < '2024-01-05' GROUP BY dev ORDER BY dev`,
      `SELECT time_bucket('1 hour', time) AS h, max(v) AS mx FROM ${x} WHERE dev IN (1, 2) GROUP BY h ORDER BY h DESC LIMIT 3`,
      `SELECT DISTINCT ON (dev) dev, time, v FROM ${x} ORDER BY dev, time DESC`,
    ];
    const same = async () => {
      for (const [i, q] of queries('g').entries()) expect((await client.query(q)).rows, q).toEqual((await client.query(queries('g_ref')[i]!)).rows);
    };
    const both = async (sql: (x: string) => string) => {
      await client.query(sql('g'));
      await client.query(sql('g_ref'));
    };
    await same();
    await same();
    // Rows reaching the rowstore (no plan is remade): the statements reused are planned again.
    await both((x) => `INSERT INTO ${x} VALUES ('2024-01-04 23:59:00+00', 1, 5000), ('2024-01-11 10:00+00', 2, -1)`);
    await same();
    await same();
    // Inside a transaction block, and after its ROLLBACK.
    await client.query('BEGIN');
    await both((x) => `DELETE FROM ${x} WHERE dev = 1 AND time > '2024-01-04'`);
    await same();
    await client.query('ROLLBACK');
    await same();
    await both((x) => `UPDATE ${x} SET v = v + 1 WHERE dev = 2`);
    await same();
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

describe('COPY out of a hypertable with compressed chunks', () => {
  const wire = serverWithClient();

  it('copies out the compressed rows with COPY (query) TO as with COPY hypertable TO', async () => {
    await wire.client.query(`CREATE EXTENSION IF NOT EXISTS timescaledb; CREATE TABLE cq (time timestamptz NOT NULL, dev int, v float8);
      SELECT create_hypertable('cq', 'time', chunk_time_interval => INTERVAL '1 day');
      ALTER TABLE cq SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');
      INSERT INTO cq SELECT '2024-01-01'::timestamptz + i * INTERVAL '1 hour', i % 3, i FROM generate_series(1, 72) i;
      CREATE TABLE cq_plain AS SELECT * FROM cq;
      SELECT compress_chunk(c) FROM show_chunks('cq') c;
      INSERT INTO cq VALUES ('2024-01-02 00:30', 9, 0.5); INSERT INTO cq_plain VALUES ('2024-01-02 00:30', 9, 0.5);`);
    const copyOut = (sql: string) =>
      new Promise<string>((resolve, reject) => {
        let out = '';
        const p = spawn('psql', ['-X', '-q', '-d', wire.server.url, '-c', `SET timezone = 'UTC'`, '-c', sql]);
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.on('error', reject);
        p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`psql exited ${code}`))));
      });
    for (const query of [
      'SELECT count(*), sum(v) FROM cq',
      'SELECT * FROM cq WHERE dev = 1 ORDER BY time',
      'SELECT dev, max(v) FROM cq GROUP BY dev ORDER BY dev',
      'WITH x AS (SELECT * FROM cq WHERE v > 60) SELECT time, v FROM x ORDER BY time',
    ]) {
      const want = await copyOut(`COPY (${query.replace(/\bcq\b/, 'cq_plain')}) TO STDOUT WITH (FORMAT csv)`);
      expect(want.split('\n').length, query).toBeGreaterThan(1);
      expect(await copyOut(`COPY (${query}) TO STDOUT WITH (FORMAT csv)`), query).toBe(want);
    }
    const sorted = (text: string) => text.split('\n').sort();
    expect(sorted(await copyOut('COPY cq TO STDOUT'))).toEqual(sorted(await copyOut('COPY cq_plain TO STDOUT')));
  });
});
