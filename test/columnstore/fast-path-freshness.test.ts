// The fast path keeps plans (by parse tree) and manifests (by versioned key) between statements, and
// runs outside a transaction without BEGIN/ROLLBACK. Every change to the chunks must still be seen
// at once, by the same statement text: writes, DML on compressed chunks, compress/decompress,
// drop_chunks, columns added, and transaction blocks (seen inside, not by others before COMMIT,
// undone by ROLLBACK). Each answer is compared with PostgreSQL's over a plain table given the same changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit, Queryable } from '../../src/orbit.js';
import { loadCompressedDays } from '../support/compressed-days.js';
import { TEMPLATE } from '../support/server.js';

/** One aggregate per fast-path shape (kernels, bucket LIMIT, last point), for `t` or the reference `r`. */
const QUERIES = [
  (x: string) => `SELECT host, count(*) AS n, sum(v) AS s, max(v) AS mx, min(time) AS lo FROM ${x} GROUP BY host ORDER BY host`,
  (x: string) => `SELECT time_bucket('1 hour', time) AS b, max(v) AS mx, count(*) AS n FROM ${x} WHERE host IN ('a', 'b') AND time < '2024-01-03 05:00+00' GROUP BY b ORDER BY b DESC LIMIT 3`,
  (x: string) => `SELECT DISTINCT ON (host) host, time, v FROM ${x} ORDER BY host, time DESC`,
];

/** A read the planner does not accelerate (a self-join): PostgreSQL reads cache tables of the decoded batches. */
const JOIN = (x: string) => `SELECT count(*) AS n, sum(a.v) AS s FROM ${x} a JOIN ${x} b USING (time, host)`;

function text(rows: Array<Record<string, unknown>>): string[] {
  return rows.map((row) => JSON.stringify(Object.values(row).map((v) => (typeof v === 'number' ? Number(v.toPrecision(10)) : v instanceof Date ? v.toISOString() : v))));
}

describe('columnstore fast path freshness', () => {
  let db: Orbit;

  /** Every query over `t` through `on` answers as PostgreSQL over `r`, through `ref`. */
  async function check(on: Queryable = db, ref: Queryable = on): Promise<void> {
    for (const q of QUERIES) {
      const got = await on.query<Record<string, unknown>>(q('t'));
      const want = await ref.query<Record<string, unknown>>(q('r'));
      expect(text(got.rows), q('t')).toEqual(text(want.rows));
      expect(got.fields.map((f) => f.dataTypeID), q('t')).toEqual(want.fields.map((f) => f.dataTypeID));
    }
  }

  /** The general path's self-join over `t` answers as PostgreSQL over `r`. */
  async function checkJoin(): Promise<void> {
    expect(text((await db.query<Record<string, unknown>>(JOIN('t'))).rows)).toEqual(text((await db.query<Record<string, unknown>>(JOIN('r'))).rows));
  }

  /** The statement takes the fast path (EXPLAIN names Orbit's node). */
  async function fast(i: number): Promise<boolean> {
    const r = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${QUERIES[i]!('t')}`);
    return r.rows.some((x) => x['QUERY PLAN'].startsWith('Orbit Columnstore'));
  }

  /** The same statement on both tables. */
  async function both(on: Queryable, sql: (x: string) => string): Promise<void> {
    await on.exec(sql('t'));
    await on.exec(sql('r'));
  }

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE });
    await loadCompressedDays(db);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('takes the fast path over compressed chunks, and answers as PostgreSQL', async () => {
    for (let i = 0; i < QUERIES.length; i++) expect(await fast(i), QUERIES[i]!('t')).toBe(true);
    await check();
    await check(); // the cached plans
  });

  it('sees rows inserted into compressed chunks, UPDATE and DELETE at once', async () => {
    await both(db, (x) => `INSERT INTO ${x} VALUES ('2024-01-03 04:30+00', 'a', 1000), ('2024-01-03 23:59:30+00', 'c', -5), ('2024-01-02 12:00:30+00', 'd', 7)`);
    await check();
    await both(db, (x) => `UPDATE ${x} SET v = v + 1 WHERE host = 'b' AND time < '2024-01-02'`);
    await check();
    await both(db, (x) => `DELETE FROM ${x} WHERE host = 'a' AND time >= '2024-01-03 02:00+00'`);
    await check();
  });

  it('sees a transaction block’s writes inside it, not from another session before COMMIT, and not after ROLLBACK', async () => {
    const s = db.session();
    try {
      await s.exec('BEGIN');
      await both(s, (x) => `INSERT INTO ${x} VALUES ('2024-01-03 04:59+00', 'b', 5000), ('2024-01-03 23:59:59+00', 'a', 1)`);
      await both(s, (x) => `DELETE FROM ${x} WHERE host = 'c' AND time < '2024-01-01 06:00+00'`);
      await check(s);
      // Another session waits for the backend until the block ends; after ROLLBACK it sees none of it.
      const before = db.query<Record<string, unknown>>(QUERIES[0]!('t'));
      await s.exec('ROLLBACK');
      const other = await before;
      const want = await db.query<Record<string, unknown>>(QUERIES[0]!('r'));
      expect(text(other.rows)).toEqual(text(want.rows));
      expect(JSON.stringify(other.rows)).not.toContain('5000');
      await check();
      // COMMIT: everyone sees it.
      await s.exec('BEGIN');
      await both(s, (x) => `UPDATE ${x} SET v = -v WHERE host = 'b' AND time >= '2024-01-03'`);
      await check(s);
      await s.exec('COMMIT');
      await check();
    } finally {
      await s.close();
    }
  });

  it('reads the last points kept in a temporary table only while it holds those of the current manifests', async () => {
    await check();
    const kept = async () => (await db.query<{ relname: string }>("SELECT relname FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relname LIKE 'orbit\\_last\\_%'")).rows.map((r) => r.relname);
    const [name] = await kept();
    expect(name).toMatch(/^orbit_last_\d+$/);
    // Its rows changed, dropped, or every temporary table discarded: refilled.
    await db.exec(`DELETE FROM pg_temp.${name}`);
    await check();
    await db.exec(`UPDATE pg_temp.${name} SET v = v + 1000`);
    await check();
    await db.exec(`DROP TABLE pg_temp.${name}`);
    await check();
    expect(await kept()).toEqual([name]);
    await db.exec('DISCARD TEMP');
    await check();
    // Another session (the same backend) reads it too; a write seen by the manifests refills it.
    const s = db.session();
    try {
      await check(s);
      await both(s, (x) => `INSERT INTO ${x} VALUES ('2024-01-03 23:59:59.5+00', 'b', 77)`);
      await s.exec("SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('t') c");
      await check(s);
      await check();
    } finally {
      await s.close();
    }
  });

  it('sees a chunk compressed again under the same manifest key after its rows changed', async () => {
    const manifests = async () => (await db.query<{ m: string }>('SELECT manifest AS m FROM _timescaledb_catalog.orbit_columnstore_chunk ORDER BY manifest')).rows.map((r) => r.m);
    // Decompressed (its objects swept), changed, compressed again: the version number comes back.
    const again = async (change: string) => {
      await db.exec("SELECT decompress_chunk(c) FROM show_chunks('t') c ORDER BY c DESC LIMIT 1");
      await both(db, (x) => `UPDATE ${x} SET v = ${change} WHERE time >= '2024-01-03'`);
      await db.exec("SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('t') c");
    };
    // The self-join's cache tables are made before each change and read only after it: made anew
    // though the chunk's version number is the one they were made for.
    await checkJoin();
    await again('v + 1');
    await check();
    await checkJoin();
    const before = await manifests();
    await again('v * 3');
    expect(await manifests()).toEqual(before);
    await check();
    await checkJoin();
  });

  it('sees decompress_chunk, compress_chunk, drop_chunks and added columns', async () => {
    await db.exec("SELECT decompress_chunk(c) FROM show_chunks('t') c ORDER BY c LIMIT 1");
    await check();
    await both(db, (x) => `INSERT INTO ${x} VALUES ('2024-01-01 00:00:30+00', 'a', 123)`);
    await db.exec("SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('t') c");
    await check();
    // Recompressing a chunk with rows inserted since (a new manifest version).
    await both(db, (x) => `INSERT INTO ${x} VALUES ('2024-01-02 00:00:30+00', 'b', 321)`);
    await db.exec("SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('t') c");
    await check();
    await db.exec("SELECT drop_chunks('t', older_than => '2024-01-02 00:00+00'::timestamptz)");
    await db.exec("DELETE FROM r WHERE time < '2024-01-02 00:00+00'");
    await check();
    // A column's type changed (all chunks back in the rowstore first): plans made before would give
    // float8 sums where PostgreSQL now gives int8 ones.
    await db.exec("SELECT decompress_chunk(c) FROM show_chunks('t') c");
    await both(db, (x) => `ALTER TABLE ${x} ALTER COLUMN v TYPE int USING round(v)::int`);
    await db.exec("SELECT compress_chunk(c) FROM show_chunks('t') c");
    await check();
    await both(db, (x) => `ALTER TABLE ${x} ADD COLUMN w int`);
    await both(db, (x) => `INSERT INTO ${x} VALUES ('2024-01-03 03:00:30+00', 'b', 2, 9)`);
    await check();
    // The aggregates stay on the fast path (the last point needs the manifests' columns to match).
    for (const i of [0, 1]) expect(await fast(i), QUERIES[i]!('t')).toBe(true);
    // A column the compressed chunks lack: the plan made after ADD COLUMN knows it.
    const q = (x: string) => `SELECT host, count(w) AS n, sum(w) AS s FROM ${x} GROUP BY host ORDER BY host`;
    expect(text((await db.query<Record<string, unknown>>(q('t'))).rows)).toEqual(text((await db.query<Record<string, unknown>>(q('r'))).rows));
  });

  it('sees DML on compressed chunks rolled back as undone', async () => {
    const s = db.session();
    try {
      await s.exec('BEGIN');
      await s.exec("UPDATE t SET v = v * 100 WHERE host = 'c'");
      await s.exec("DELETE FROM t WHERE host = 'a'");
      const inside = await s.query<Record<string, unknown>>(QUERIES[0]!('t'));
      expect(text(inside.rows).some((r) => r.startsWith('["a"'))).toBe(false);
      await s.exec('ROLLBACK');
    } finally {
      await s.close();
    }
    await check();
  });

  it('writes to the batches a rolled-back DML put back', async () => {
    // The rolled-back DELETE decompressed every batch; the metadata read after it (no batches) was
    // kept past the ROLLBACK, and the DELETE after it touched the empty chunk tables only.
    await db.exec('BEGIN');
    await db.exec('DELETE FROM t WHERE v > 0');
    await db.exec('ROLLBACK');
    await both(db, (x) => `DELETE FROM ${x} WHERE host = 'b'`);
    await check();
  });
});

describe('without reuse of results (ColumnStoreOptions.reuseResults false)', () => {
  it('answers every shape from the batches again, keeping no last points', async () => {
    const db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, columnstore: { reuseResults: false } });
    try {
      await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb; SET timezone TO 'UTC';
        CREATE TABLE t (time timestamptz NOT NULL, host text, v float8);
        SELECT create_hypertable('t', 'time', chunk_time_interval => INTERVAL '1 day');
        ALTER TABLE t SET (timescaledb.compress, timescaledb.compress_segmentby = 'host');
        INSERT INTO t SELECT '2024-01-01 00:00+00'::timestamptz + i * INTERVAL '1 minute', (ARRAY['a', 'b', 'c'])[1 + i % 3], i FROM generate_series(0, 2 * 1440 - 1) i;
        CREATE TABLE r AS SELECT * FROM t;`);
      await db.exec("SELECT compress_chunk(c) FROM show_chunks('t') c");
      for (let round = 0; round < 2; round++) {
        for (const q of QUERIES) expect(text((await db.query<Record<string, unknown>>(q('t'))).rows), q('t')).toEqual(text((await db.query<Record<string, unknown>>(q('r'))).rows));
      }
      const kept = await db.query("SELECT relname FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relname LIKE 'orbit\\_last\\_%'");
      expect(kept.rows).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
