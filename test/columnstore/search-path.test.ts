// An unqualified hypertable name is the relation PostgreSQL resolves under the session's
// search_path (StatementPlanner.resolve), not the first hypertable of that name in any schema:
// hypertables `a.m` and `b.m` with compressed rows, a plain table `c.m`, each answer compared with
// the same statement over the plain copy (`ra.m`, `rb.m`, `rc.m`) of the relation it resolves to.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit } from '../../src/orbit.js';
import { serverWithClient, TEMPLATE } from '../support/server.js';

/** Hypertables `a.m` (100 rows of 1) and `b.m` (30 rows of 2) with compressed chunks, a plain `c.m`, and their plain copies `ra.m`, `rb.m`, `rc.m`. */
async function createTables(exec: (sql: string) => Promise<unknown>): Promise<void> {
  await exec('CREATE EXTENSION IF NOT EXISTS timescaledb');
  for (const [schema, rows, v] of [['a', 100, 1], ['b', 30, 2]] as const) {
    await exec(`CREATE SCHEMA ${schema}; CREATE SCHEMA r${schema};
      CREATE TABLE ${schema}.m (time timestamptz NOT NULL, v float8);
      SELECT create_hypertable('${schema}.m', 'time', chunk_time_interval => INTERVAL '1 day');
      ALTER TABLE ${schema}.m SET (timescaledb.compress);
      INSERT INTO ${schema}.m SELECT '2024-01-01'::timestamptz + i * INTERVAL '1 hour', ${v} FROM generate_series(1, ${rows}) i;
      CREATE TABLE r${schema}.m AS SELECT * FROM ${schema}.m;`);
    await exec(`SELECT compress_chunk(c) FROM show_chunks('${schema}.m') c`);
  }
  await exec(`CREATE SCHEMA c; CREATE SCHEMA rc; CREATE TABLE c.m (time timestamptz NOT NULL, v float8);
    INSERT INTO c.m VALUES ('2024-01-01', 5); CREATE TABLE rc.m AS SELECT * FROM c.m;`);
}

describe.each([false, true])('unqualified hypertable names under search_path (reuse of results %s)', (reuseResults) => {
  let db: Orbit;

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, columnstore: { reuseResults } });
    await createTables((sql) => db.exec(sql));
  });
  afterAll(async () => {
    await db?.close();
  });

  /**
   * The statement (over the unqualified `m`) under search_path `path`, and the same statement over
   * the plain copy of the relation PostgreSQL resolves `m` to there, named in full (`plain`).
   */
  async function both(path: string, plain: string | undefined, sql: string, params?: unknown[]): Promise<[string, string]> {
    const run = (text: string) => db.query(text, params).then((r) => JSON.stringify(r.rows), (e: { code?: string; message: string }) => `${e.code}`);
    await db.query(`SET search_path = ${path}`);
    const got = await run(sql);
    await db.query('RESET search_path');
    return [got, plain === undefined ? '42P01' : await run(sql.replace(/\bm\b/, plain))];
  }

  it('reads the hypertable the search_path names, or the plain table before it, or none', async () => {
    for (const [path, plain] of [['b, public', 'rb.m'], ['a, b', 'ra.m'], ['b, a', 'rb.m'], ['c, a', 'rc.m'], ['public', undefined]] as const) {
      for (const [sql, params] of [
        ['SELECT count(*) AS n, sum(v) AS s FROM m', undefined],
        ['SELECT count(*) AS n, sum(v) AS s FROM m WHERE time >= $1', ['2024-01-02']],
        ['SELECT count(*) AS n FROM (SELECT * FROM m OFFSET 0) x', undefined],
        ['SELECT time, v FROM m WHERE v > 0 ORDER BY time DESC LIMIT 3', undefined],
      ] as const) {
        const [got, want] = await both(path, plain, sql, params as unknown[] | undefined);
        expect(got, `${path}: ${sql}`).toBe(want);
      }
    }
  });

  it('sees a search_path set earlier in the same text', async () => {
    // Resolutions for search_path `a` are known first; the text then moves to `b` before reading `m`.
    const underA = async () => {
      await db.query('SET search_path = a');
      expect((await db.query('SELECT count(*)::int AS n FROM m')).rows).toEqual([{ n: 100 }]);
    };
    await underA();
    for (const set of ['SET search_path = b', "SELECT set_config('search_path', 'b', false)", "SELECT set_config('search_path', 'b', true)"]) {
      // Read before and after the change, inside the one transaction the text runs in.
      const text = `SELECT count(*)::int AS before FROM m; ${set}; SELECT count(*)::int AS n FROM m; DELETE FROM m WHERE v < 0`;
      const results = await db.exec(text);
      expect(results.find((r) => r.fields[0]?.name === 'before')?.rows, text).toEqual([{ before: 100 }]);
      expect(results.find((r) => r.fields[0]?.name === 'n')?.rows, text).toEqual([{ n: 30 }]);
      await underA();
    }
    // A failure after the change leaves nothing of the text (one transaction, as PostgreSQL's).
    await expect(db.exec('DELETE FROM m WHERE v > 0; SET search_path = b; SELECT 1 / 0 FROM m')).rejects.toMatchObject({ code: '22012' });
    await underA();
    // With transaction control in the text, Orbit cannot cut it: refused, and nothing ran.
    await expect(db.exec('BEGIN; DELETE FROM m; SET LOCAL search_path = b; SELECT count(*) FROM m; COMMIT')).rejects.toMatchObject({ code: '0A000' });
    await underA();
    // Sent one by one inside a transaction block: each read resolves under the settings then.
    await db.query('BEGIN');
    await db.query('SET LOCAL search_path = b');
    expect((await db.query('SELECT count(*)::int AS n FROM m')).rows).toEqual([{ n: 30 }]);
    await db.query('COMMIT');
    expect((await db.query('SELECT count(*)::int AS n FROM m')).rows).toEqual([{ n: 100 }]);
    await db.query('RESET search_path');
  });

  it('deletes from the hypertable the search_path names', async () => {
    await db.query('SET search_path = b, public');
    await db.query('DELETE FROM m WHERE v > 0');
    await db.query('RESET search_path');
    expect((await db.query('SELECT count(*)::int AS n FROM b.m')).rows).toEqual([{ n: 0 }]);
    expect((await db.query('SELECT count(*)::int AS n FROM a.m')).rows).toEqual([{ n: 100 }]);
  });
});

describe('a search_path set earlier in the same simple query, over the wire', () => {
  const wire = serverWithClient();
  beforeAll(async () => {
    await createTables((sql) => wire.client.query(sql));
  });

  const count = async (sql = 'SELECT count(*)::int AS n FROM m') => (await wire.client.query(sql)).rows[0].n as number;

  it('reads, and rolls back, under the search_path of its place in the string', async () => {
    await wire.client.query('SET search_path = a');
    expect(await count()).toBe(100);
    const results = (await wire.client.query('SELECT count(*)::int AS n FROM m; SET search_path = b; SELECT count(*)::int AS n FROM m')) as unknown as pg.QueryResult[];
    expect(results.map((r) => r.rows[0]?.n)).toEqual([100, undefined, 30]);
    expect(await count()).toBe(30);
    await wire.client.query('SET search_path = a');
    expect(await count()).toBe(100);
    await expect(wire.client.query('DELETE FROM m WHERE v > 0; SET search_path = b; SELECT 1 / 0 FROM m')).rejects.toMatchObject({ code: '22012' });
    expect(await count()).toBe(100);
    expect((await wire.client.query('SHOW search_path')).rows[0].search_path).toBe('a');
    await expect(wire.client.query('BEGIN; DELETE FROM m; SET LOCAL search_path = b; SELECT count(*) FROM m; COMMIT')).rejects.toMatchObject({ code: '0A000' });
    expect(await count()).toBe(100);
    await wire.client.query('BEGIN');
    await wire.client.query('SET LOCAL search_path = b');
    expect(await count()).toBe(30);
    await wire.client.query('COMMIT');
    expect(await count()).toBe(100);
  });

  it('ends the transaction of the parts when a later part is refused', async () => {
    // The refusal was thrown past the ROLLBACK of the transaction Orbit opened for the parts: the
    // session stayed in it, and every later statement failed with 25P02.
    await wire.client.query('SET search_path = a');
    await expect(wire.client.query('SET search_path = b; SELECT count(*) FROM m TABLESAMPLE SYSTEM (50)')).rejects.toMatchObject({ code: '0A000' });
    expect(await count()).toBe(100);
    expect((await wire.client.query('SHOW search_path')).rows[0].search_path).toBe('a');
  });
});

// Not only the search_path: Orbit plans a statement before it runs, and settings such as TimeZone
// say what its constants mean. A WHERE bound after a SET TimeZone in the same string was evaluated
// under the TimeZone before it (for a hypertable named with its schema: 24 rows of 29).
describe('a setting changed earlier in the same query string, the hypertable named with its schema', () => {
  const wire = serverWithClient();
  beforeAll(async () => {
    await createTables((sql) => wire.client.query(sql));
  });
  const text = (x: string) =>
    `SET TimeZone = 'Asia/Kathmandu'; SELECT count(*)::int AS n, min(time)::text AS first FROM ${x} WHERE time >= '2024-01-03 00:00' AND time < '2024-01-04 12:00'; RESET TimeZone`;

  it('answers as over the plain table, over the wire and in process', async () => {
    const want = ((await wire.client.query(text('ra.m'))) as unknown as pg.QueryResult[])[1]!.rows;
    expect(want).toEqual([{ n: 36, first: '2024-01-03 00:45:00+05:45' }]);
    expect(((await wire.client.query(text('a.m'))) as unknown as pg.QueryResult[])[1]!.rows).toEqual(want);
    expect((await wire.server.orbit.exec(text('a.m')))[1]!.rows).toEqual((await wire.server.orbit.exec(text('ra.m')))[1]!.rows);
    await expect(wire.client.query(`BEGIN; SET LOCAL TimeZone = 'Asia/Kathmandu'; SELECT count(*) FROM a.m WHERE time >= '2024-01-03'; COMMIT`)).rejects.toMatchObject({ code: '0A000' });
  });
});
