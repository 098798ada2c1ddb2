// An unqualified hypertable name is the relation PostgreSQL resolves under the session's
// search_path (StatementPlanner.resolve), not the first hypertable of that name in any schema:
// hypertables `a.m` and `b.m` with compressed rows, a plain table `c.m`, each answer compared with
// the same statement over the plain copy (`ra.m`, `rb.m`, `rc.m`) of the relation it resolves to.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit } from '../../src/orbit.js';
import { TEMPLATE } from '../support/server.js';

describe.each([false, true])('unqualified hypertable names under search_path (reuse of results %s)', (reuseResults) => {
  let db: Orbit;

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, columnstore: { reuseResults } });
    await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb');
    for (const [schema, rows, v] of [['a', 100, 1], ['b', 30, 2]] as const) {
      await db.exec(`CREATE SCHEMA ${schema}; CREATE SCHEMA r${schema};
        CREATE TABLE ${schema}.m (time timestamptz NOT NULL, v float8);
        SELECT create_hypertable('${schema}.m', 'time', chunk_time_interval => INTERVAL '1 day');
        ALTER TABLE ${schema}.m SET (timescaledb.compress);
        INSERT INTO ${schema}.m SELECT '2024-01-01'::timestamptz + i * INTERVAL '1 hour', ${v} FROM generate_series(1, ${rows}) i;
        CREATE TABLE r${schema}.m AS SELECT * FROM ${schema}.m;`);
      await db.exec(`SELECT compress_chunk(c) FROM show_chunks('${schema}.m') c`);
    }
    await db.exec(`CREATE SCHEMA c; CREATE SCHEMA rc; CREATE TABLE c.m (time timestamptz NOT NULL, v float8);
      INSERT INTO c.m VALUES ('2024-01-01', 5); CREATE TABLE rc.m AS SELECT * FROM c.m;`);
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

  it('deletes from the hypertable the search_path names', async () => {
    await db.query('SET search_path = b, public');
    await db.query('DELETE FROM m WHERE v > 0');
    await db.query('RESET search_path');
    expect((await db.query('SELECT count(*)::int AS n FROM b.m')).rows).toEqual([{ n: 0 }]);
    expect((await db.query('SELECT count(*)::int AS n FROM a.m')).rows).toEqual([{ n: 100 }]);
  });
});
