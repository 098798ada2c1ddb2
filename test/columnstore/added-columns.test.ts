// Columns added to a hypertable after chunks were compressed. PostgreSQL gives the rows that existed
// at ADD COLUMN the value it stored then (pg_attribute.attmissingval; NULL without a default), and a
// later SET DEFAULT changes only rows inserted afterwards. The compressed rows — read by the fast
// path's shapes, the general path's cache tables, and after decompress_chunk, DML decompression and
// recompression — must show what they would have shown had they never been compressed: every answer
// over `t` is compared with PostgreSQL's over `r`, a plain table given the same statements.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit, Queryable } from '../../src/orbit.js';
import { loadCompressedDays } from '../support/compressed-days.js';
import { startTestServer, TEMPLATE, utcClient, type TestServer } from '../support/server.js';

/** Reads of the added columns: kernels' aggregate, a scan, a last point, a self-join (cache tables). */
const QUERIES = [
  (x: string) => `SELECT host, count(*) AS n, count(x) AS nx, sum(x) AS sx, min(y) AS my, sum(z) AS sz FROM ${x} GROUP BY host ORDER BY host`,
  (x: string) => `SELECT time, host, x, y, z FROM ${x} WHERE time >= '2024-01-02 23:58+00' AND time < '2024-01-03 00:02+00' ORDER BY time`,
  (x: string) => `SELECT DISTINCT ON (host) host, time, x, y, z FROM ${x} ORDER BY host, time DESC`,
  (x: string) => `SELECT a.x, a.y, a.z, count(*) AS n FROM ${x} a JOIN ${x} b USING (time, host) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
];

function text(rows: Array<Record<string, unknown>>): string[] {
  return rows.map((row) => JSON.stringify(Object.values(row).map((v) => (v instanceof Date ? v.toISOString() : v))));
}

/** Every query over `t` answers as PostgreSQL over `r`. */
async function check(db: Queryable): Promise<void> {
  for (const q of QUERIES) {
    const got = await db.query<Record<string, unknown>>(q('t'));
    const want = await db.query<Record<string, unknown>>(q('r'));
    expect(text(got.rows), q('t')).toEqual(text(want.rows));
  }
}

/** The same statement on both tables. */
async function both(db: Queryable, sql: (x: string) => string): Promise<void> {
  await db.exec(sql('t'));
  await db.exec(sql('r'));
}

/**
 * Columns added after compression with constant defaults (and none), then given other defaults,
 * and rows inserted since; the compressed rows must keep the values of ADD COLUMN.
 */
async function addColumns(db: Queryable): Promise<void> {
  await both(db, (x) => `ALTER TABLE ${x} ADD COLUMN x int DEFAULT 7`);
  await both(db, (x) => `ALTER TABLE ${x} ADD COLUMN y text`);
  await both(db, (x) => `ALTER TABLE ${x} ADD COLUMN z numeric NOT NULL DEFAULT 1.5`);
  await both(db, (x) => `ALTER TABLE ${x} ALTER COLUMN x SET DEFAULT 9, ALTER COLUMN y SET DEFAULT 'later', ALTER COLUMN z SET DEFAULT 2`);
  await both(db, (x) => `INSERT INTO ${x} (time, host, v) VALUES ('2024-01-03 00:00:30+00', 'b', 1), ('2024-01-05 00:00+00', 'a', 2)`);
}

describe('columns added after compression', () => {
  let db: Orbit;

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE });
    await loadCompressedDays(db);
    await addColumns(db);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('read with the values of ADD COLUMN, not the current defaults', async () => {
    // The compressed rows of host a: 7, NULL and 1.5 each, as PostgreSQL keeps them.
    expect((await db.query('SELECT x, y, z::text AS z, count(*)::int AS n FROM t WHERE host = $1 AND time < $2 GROUP BY 1, 2, 3', ['a', '2024-01-04'])).rows).toEqual([{ x: 7, y: null, z: '1.5', n: 1440 }]);
    await check(db);
  });

  it('take direct COPYs into compressed chunks whose batches lack them', async () => {
    await db.exec('SET timescaledb.enable_direct_compress_copy = on');
    await db.copyFrom('COPY t (time, host, v, x) FROM STDIN', '2024-01-02 23:59:30+00\ta\t1\t5\n');
    await db.exec('RESET timescaledb.enable_direct_compress_copy');
    await db.exec("INSERT INTO r (time, host, v, x) VALUES ('2024-01-02 23:59:30+00', 'a', 1, 5)");
    await check(db);
  });

  it('keep those values through DML decompression, decompress_chunk and recompression', async () => {
    await both(db, (x) => `UPDATE ${x} SET v = v + 1 WHERE host = 'c' AND time < '2024-01-02'`);
    await check(db);
    await db.exec("SELECT decompress_chunk(c) FROM show_chunks('t') c WHERE c::text LIKE '%_1_chunk'");
    await check(db);
    await db.exec("CALL convert_to_rowstore('_timescaledb_internal._hyper_1_2_chunk')");
    await check(db);
    await db.exec("CALL convert_to_columnstore('_timescaledb_internal._hyper_1_2_chunk')");
    await check(db);
    await db.exec("SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('t') c");
    await check(db);
    await db.exec("SELECT decompress_chunk(c) FROM show_chunks('t') c");
    await check(db);
    // Decompressed, the rows hold the values themselves: another default changes nothing.
    await both(db, (x) => `ALTER TABLE ${x} ALTER COLUMN x SET DEFAULT 11`);
    await db.exec("SELECT compress_chunk(c) FROM show_chunks('t') c");
    await check(db);
  });
});

// Without reuse of results, last points are printed by Orbit from the batches (last-point-rows.ts).
describe.each([true, false])('a column dropped and added again under its name after compression (reuse of results: %s)', (reuseResults) => {
  let db: Orbit;
  /** The same reads of `v`: kernels, a scan, a last point, a self-join. */
  const reads = [
    (x: string) => `SELECT host, count(v) AS n, sum(v) AS s, max(v) AS mx FROM ${x} GROUP BY host ORDER BY host`,
    (x: string) => `SELECT time, host, v FROM ${x} WHERE time < '2024-01-01 00:03+00' ORDER BY time`,
    (x: string) => `SELECT DISTINCT ON (host) host, time, v FROM ${x} ORDER BY host, time DESC`,
    (x: string) => `SELECT count(*) AS n, sum(a.v) AS s FROM ${x} a JOIN ${x} b USING (time, host)`,
    (x: string) => `SELECT time_bucket('1 hour', time) AS b, max(v) AS mx, count(v) AS n FROM ${x} GROUP BY b ORDER BY b LIMIT 3`,
  ];
  async function same(): Promise<void> {
    for (const q of reads) expect(text((await db.query<Record<string, unknown>>(q('t'))).rows), q('t')).toEqual(text((await db.query<Record<string, unknown>>(q('r'))).rows));
  }

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, columnstore: { reuseResults } });
    await loadCompressedDays(db);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('reads the new column, not what the batches kept of the dropped one', async () => {
    await both(db, (x) => `ALTER TABLE ${x} DROP COLUMN v`);
    await both(db, (x) => `ALTER TABLE ${x} ADD COLUMN v float8 DEFAULT 1`);
    await same();
    // Another type under the same name.
    await both(db, (x) => `ALTER TABLE ${x} DROP COLUMN v`);
    await both(db, (x) => `ALTER TABLE ${x} ADD COLUMN v int DEFAULT 2`);
    await same();
    await both(db, (x) => `INSERT INTO ${x} (time, host, v) VALUES ('2024-01-02 12:00:30+00', 'a', 5)`);
    await both(db, (x) => `UPDATE ${x} SET v = v + 10 WHERE host = 'b' AND time < '2024-01-02'`);
    await same();
    // Recompressed, the batches hold the new column; dropped and added again once more.
    await db.exec("SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('t') c");
    await db.exec("SELECT decompress_chunk(c) FROM show_chunks('t') c WHERE c::text LIKE '%_2_chunk'");
    await db.exec("SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('t') c");
    await same();
    await both(db, (x) => `ALTER TABLE ${x} DROP COLUMN v`);
    await both(db, (x) => `ALTER TABLE ${x} ADD COLUMN v int`);
    await same();
    await db.exec("SELECT decompress_chunk(c) FROM show_chunks('t') c");
    await same();
  });

  it('takes direct COPYs and INSERTs into compressed chunks whose batches hold the dropped column', async () => {
    // Batches holding a float8 v, then another float8 v.
    await both(db, (x) => `ALTER TABLE ${x} DROP COLUMN v`);
    await both(db, (x) => `ALTER TABLE ${x} ADD COLUMN v float8 DEFAULT 2`);
    await db.exec("SELECT decompress_chunk(c, if_compressed => true) FROM show_chunks('t') c");
    await db.exec("SELECT compress_chunk(c) FROM show_chunks('t') c");
    await both(db, (x) => `ALTER TABLE ${x} DROP COLUMN v`);
    await both(db, (x) => `ALTER TABLE ${x} ADD COLUMN v float8 DEFAULT 3`);
    // The rows go to the chunks' rowstore (appended batches could not share the old ones' manifest,
    // whose v is not this v); a chunk the old batches do not cover still takes batches.
    await db.exec('SET timescaledb.enable_direct_compress_copy = on; SET timescaledb.enable_direct_compress_insert = on');
    await db.copyFrom('COPY t (time, host, v) FROM STDIN', '2024-01-02 12:00:40+00\tc\t4\n2024-01-07 00:00+00\ta\t5\n');
    await db.exec("INSERT INTO r (time, host, v) VALUES ('2024-01-02 12:00:40+00', 'c', 4), ('2024-01-07 00:00+00', 'a', 5)");
    const values = (v: number) => Array.from({ length: 100 }, (_, i) => `('2024-01-01 12:00:${String(i % 60).padStart(2, '0')}.${i}+00', 'b', ${v})`).join(', ');
    await db.exec(`INSERT INTO t (time, host, v) VALUES ${values(6)}`);
    await db.exec(`INSERT INTO r (time, host, v) VALUES ${values(6)}`);
    await db.exec('RESET timescaledb.enable_direct_compress_copy; RESET timescaledb.enable_direct_compress_insert');
    await same();
    await db.exec("SELECT compress_chunk(c, recompress => true) FROM show_chunks('t') c");
    await same();
  });
});

/** ADD COLUMNs TimescaleDB refuses on a hypertable with the columnstore enabled, and its messages. */
const REFUSED: ReadonlyArray<readonly [string, string]> = [
  ['ADD COLUMN r float8 DEFAULT random()', 'non-constant default expression'],
  ['ADD COLUMN s0 timestamptz DEFAULT now()', 'non-constant default expression'],
  ["ADD COLUMN s timestamptz DEFAULT '2024-01-01'::timestamptz", 'non-constant default expression'],
  ['ADD COLUMN n int NOT NULL', 'NOT NULL constraint without default'],
  ['ADD COLUMN g float8 GENERATED ALWAYS AS (v * 2) STORED', 'constraints'],
  ['ADD COLUMN i int GENERATED ALWAYS AS IDENTITY', 'constraints'],
  ['ADD COLUMN c int CHECK (c > 0)', 'constraints'],
  ['ADD COLUMN ok int DEFAULT 1, ADD COLUMN bad timestamptz DEFAULT clock_timestamp()', 'non-constant default expression'],
];

describe('ADD COLUMN on a hypertable with the columnstore enabled', () => {
  let db: Orbit;

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE });
    await loadCompressedDays(db);
    // The columnstore enabled, no chunk compressed yet: refused all the same, as TimescaleDB does.
    await db.exec(`CREATE TABLE e (time timestamptz NOT NULL, v float8); SELECT create_hypertable('e', 'time');
      ALTER TABLE e SET (timescaledb.compress); INSERT INTO e VALUES ('2024-01-01', 1)`);
  });
  afterAll(async () => {
    await db?.close();
  });

  it("refuses what TimescaleDB refuses, with its SQLSTATE and message, and changes nothing", async () => {
    const columns = async (x: string) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = '${x}'::regclass AND attnum > 0 AND NOT attisdropped`)).rows[0]!.n;
    for (const x of ['t', 'e']) {
      const before = await columns(x);
      for (const [add, what] of REFUSED) {
        await expect(db.exec(`ALTER TABLE ${x} ${add}`), add).rejects.toMatchObject({ code: '0A000', message: `cannot add column with ${what} to a hypertable that has columnstore enabled` });
      }
      expect(await columns(x)).toBe(before);
    }
    // The same on a plain table: PostgreSQL adds them.
    await db.exec('CREATE TABLE plain (time timestamptz NOT NULL, v float8)');
    for (const [add] of REFUSED) await db.exec(`ALTER TABLE plain ${add.replace(' NOT NULL', ' NOT NULL DEFAULT 0')}`);
  });

  it('refuses to drop a segmentby or orderby column, as TimescaleDB does', async () => {
    await db.exec(`CREATE TABLE o (time timestamptz NOT NULL, k int, v float8, w float8); SELECT create_hypertable('o', 'time');
      ALTER TABLE o SET (timescaledb.compress, timescaledb.compress_orderby = 'v DESC, time')`);
    for (const [x, column] of [['t', 'host'], ['o', 'v']]) {
      await expect(db.exec(`ALTER TABLE ${x} DROP COLUMN ${column}`), `${x}.${column}`).rejects.toMatchObject({
        code: '0A000',
        message: 'cannot drop orderby or segmentby column from a hypertable with columnstore enabled',
      });
      expect((await db.query(`SELECT ${column} FROM ${x} LIMIT 1`)).fields).toHaveLength(1);
    }
    // Other columns may go; the time column is PostgreSQL's partition key (42P16).
    await db.exec('ALTER TABLE o DROP COLUMN w');
    await expect(db.exec('ALTER TABLE t DROP COLUMN time')).rejects.toMatchObject({ code: '42P16' });
    // Compressing still works (it failed with 42703 once the segmentby column was gone).
    for (const x of ['t', 'r']) await db.exec(`INSERT INTO ${x} VALUES ('2024-01-02 00:00:30+00', 'a', 1)`);
    await db.exec("SELECT compress_chunk(c, recompress => true) FROM show_chunks('t') c");
  });

  it('allows literal defaults (a boolean cast too), NULL and NOT NULL with a default', async () => {
    for (const x of ['t', 'r']) {
      await db.exec(`ALTER TABLE ${x} ADD COLUMN b bool DEFAULT 'true'::boolean, ADD COLUMN q int NULL DEFAULT NULL, ADD COLUMN k int DEFAULT -3 NOT NULL, ADD COLUMN w text DEFAULT 'it''s'`);
      await db.exec(`ALTER TABLE ${x} ALTER COLUMN b SET DEFAULT false, ALTER COLUMN k SET DEFAULT 4, ALTER COLUMN w DROP DEFAULT`);
    }
    const q = (x: string) => `SELECT b, q, k, w, count(*)::int AS n FROM ${x} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`;
    expect((await db.query(q('t'))).rows).toEqual([{ b: true, q: null, k: -3, w: "it's", n: 3 * 1440 + 1 }]);
    expect((await db.query(q('t'))).rows).toEqual((await db.query(q('r'))).rows);
  });
});

describe('columns added after compression, through the server', () => {
  let server: TestServer;
  let client: pg.Client;
  /** The pg client as a Queryable (the extended protocol: the fast path is tried at Bind). */
  let db: Queryable;

  beforeAll(async () => {
    server = await startTestServer();
    client = await utcClient(server);
    db = {
      query: async (sql: string, params?: unknown[]) => client.query(sql, params),
      exec: async (sql: string) => {
        await client.query(sql);
      },
    } as unknown as Queryable;
    await loadCompressedDays(db);
    await addColumns(db);
  });
  afterAll(async () => {
    await client?.end();
    await server?.close();
  });

  it('read with the values of ADD COLUMN', async () => {
    await check(db);
    await db.exec("SELECT decompress_chunk(c) FROM show_chunks('t') c");
    await check(db);
  });

  it('refuses a volatile default as TimescaleDB does', async () => {
    await expect(client.query('ALTER TABLE t ADD COLUMN r float8 DEFAULT random()')).rejects.toMatchObject({
      code: '0A000',
      message: 'cannot add column with non-constant default expression to a hypertable that has columnstore enabled',
    });
    await expect(client.query('SELECT r FROM t LIMIT 1')).rejects.toMatchObject({ code: '42703' });
  });
});
