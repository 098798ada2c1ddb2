// FROM-clause names around a hypertable read through the general path's subquery
// (sql/rewrite/columnstore-reads.ts): each statement must answer over compressed chunks what
// PostgreSQL answers over the same tables without the columnstore — rows, column names and types,
// or the error (SQLSTATE and message).
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Orbit } from '../../src/orbit.js';
import { inProcessOrbit } from '../support/in-process.js';
import { clientAs, startTestServer, type TestServer } from '../support/server.js';
import { rolledBack } from '../support/sqlstate.js';

const setup = (columnstore: boolean) => {
  const compress = (t: string) => (columnstore ? `ALTER TABLE ${t} SET (timescaledb.compress);` : '');
  return `CREATE SCHEMA other;
  CREATE TABLE other.t (time bigint, a int, b text);
  INSERT INTO other.t VALUES (1, 100, 'o1'), (2, 200, 'o2'), (5, 500, 'o5');
  CREATE TABLE t (time bigint NOT NULL, a int, t int);
  SELECT create_hypertable('t', 'time', chunk_time_interval => 1000);
  ${compress('t')}
  INSERT INTO t VALUES (1, 10, 1), (2, 20, 2), (3000, 30, 3);
  CREATE SCHEMA s2;
  CREATE TABLE s2.t (time bigint NOT NULL, a int, c int);
  SELECT create_hypertable('s2.t', 'time', chunk_time_interval => 1000);
  ${compress('s2.t')}
  INSERT INTO s2.t VALUES (1, 1000, 7), (2, 2000, 8);
  CREATE FUNCTION ff(r t) RETURNS int LANGUAGE sql AS 'SELECT r.a';
  CREATE FUNCTION off(r other.t) RETURNS int LANGUAGE sql AS 'SELECT r.a';`;
};

const STATEMENTS = [
  // Two relations named without an alias may share their bare name (42712 before); the hypertable's
  // subquery goes by an internal alias, which no message or column name shows.
  'SELECT public.t.a AS pa, other.t.a AS oa FROM public.t, other.t WHERE public.t.time = other.t.time ORDER BY 1',
  'SELECT count(*) FROM public.t, other.t',
  'SELECT b, t FROM public.t, other.t ORDER BY 1, 2',
  'SELECT public.t.*, other.t.b FROM public.t, other.t ORDER BY 1, 2, 3, 4',
  'SELECT ff(public.t.*), off(other.t.*), public.t.ff FROM public.t, other.t ORDER BY 1, 2',
  'SELECT to_jsonb(public.t.*) AS j, pg_typeof(public.t.*)::text AS ty FROM public.t, other.t WHERE other.t.time = public.t.time ORDER BY 1',
  'SELECT public.t.a, s2.t.c FROM public.t, s2.t WHERE public.t.time = s2.t.time ORDER BY 1',
  'SELECT time, public.t.a, s2.t.c FROM public.t JOIN s2.t USING (time) ORDER BY 1',
  'SELECT * FROM public.t JOIN other.t USING (time) ORDER BY 1',
  'SELECT public.t.time AS pt, other.t.time AS ot FROM public.t NATURAL JOIN other.t ORDER BY 1',
  'SELECT j.time FROM (public.t JOIN other.t USING (time)) AS j ORDER BY 1',
  'SELECT s.m FROM public.t, LATERAL (SELECT max(other.t.a) AS m FROM other.t WHERE other.t.time <= public.t.time) s ORDER BY 1',
  'SELECT count(*) FROM ONLY public.t, s2.t',
  // … and as PostgreSQL refuses them: unqualified or bare-qualified names that two items have, the same table twice.
  'SELECT a FROM public.t, other.t',
  'SELECT aa FROM public.t, other.t',
  'SELECT t.a FROM public.t, other.t',
  'SELECT nope, t.a FROM public.t, other.t',
  'SELECT s2.t.c FROM public.t, s2.t WHERE t.a > 0 AND nope',
  'SELECT t.* FROM public.t, s2.t',
  'SELECT public.t FROM public.t, other.t',
  'SELECT count(*) FROM public.t, other.t, (SELECT 1) t',
  'SELECT count(*) FROM public.t, s2.t, (SELECT 1) t',
  'SELECT count(*) FROM ONLY public.t, public.t',
  'SELECT j.a FROM (public.t JOIN other.t USING (time)) AS j',
  // Writes reading the hypertable next to a target of its name.
  'UPDATE other.t SET a = public.t.a FROM public.t WHERE public.t.time = other.t.time RETURNING other.t.a, public.t.time',
  'UPDATE other.t SET a = t.a FROM public.t WHERE public.t.time = other.t.time',
  'DELETE FROM other.t USING public.t WHERE public.t.time = other.t.time RETURNING other.t.*, public.t.a AS pa',
  'UPDATE public.t SET a = s2.t.c FROM s2.t WHERE public.t.time = s2.t.time RETURNING public.t.a, s2.t.c',
  'MERGE INTO other.t USING public.t ON other.t.time = public.t.time WHEN MATCHED THEN DELETE',
  // System columns of the other relation (the subquery has none: refused only for the hypertable).
  'SELECT other.t.xmin IS NOT NULL AS c FROM public.t, other.t WHERE other.t.time = 1 AND public.t.time = 1',
  'UPDATE other.t SET a = 1 FROM public.t WHERE other.t.time = public.t.time RETURNING other.t.ctid IS NOT NULL AS c',
  // The same hypertable at two levels; a name another FROM item hides.
  'SELECT (SELECT max(public.t.a) FROM other.t) AS m, count(*) FROM public.t',
  'SELECT t.a, (SELECT count(*) FROM public.t x WHERE x.a < t.a) AS n FROM public.t ORDER BY 1',
  // A CTE of the hypertable's name is in scope only in its WITH's statement (and the CTEs after it).
  'SELECT count(*) FROM t, (WITH t AS (SELECT 1 AS z) SELECT * FROM t) s',
  'SELECT (WITH t AS (SELECT 5 AS z) SELECT z FROM t) AS z, count(*) FROM t',
  'WITH x AS (WITH t AS (SELECT 1 AS a) SELECT * FROM t) SELECT count(*) FROM x, t',
  'WITH t AS (SELECT 1 AS a) SELECT * FROM t',
  'WITH c AS (SELECT count(*) AS n FROM t), t AS (SELECT 7 AS n) SELECT c.n, t.n AS m FROM c, t',
];

type Answer = { rows: unknown[]; fields: string[] } | { code: string; message: string };

async function answers(db: Orbit): Promise<Answer[]> {
  const out: Answer[] = [];
  for (const sql of STATEMENTS) {
    const answer = await rolledBack(db, sql, (r) => ({ rows: r.rows, fields: r.fields.map((f) => `${f.name}:${f.dataTypeID}`) }));
    // The message too (the rolled-back answer keeps the SQLSTATE only).
    out.push('code' in answer ? { code: answer.code, message: await message(db, sql) } : answer);
  }
  return out;
}

async function message(db: Orbit, sql: string): Promise<string> {
  await db.exec('BEGIN');
  try {
    await db.query(sql);
    return '';
  } catch (e) {
    const { message, detail, hint } = e as { message: string; detail?: string; hint?: string };
    return JSON.stringify({ message, detail, hint });
  } finally {
    await db.exec('ROLLBACK');
  }
}

describe('FROM-clause names around a hypertable with compressed chunks', () => {
  const columnstore = inProcessOrbit(setup(true), ['t', 's2.t']);
  const rowstore = inProcessOrbit(setup(false));

  it('answer as PostgreSQL does over the same tables without the columnstore', async () => {
    const expected = await answers(rowstore.db);
    expect(expected[0]).toMatchObject({ rows: [{ pa: 10, oa: 100 }, { pa: 20, oa: 200 }] });
    expect(expected[STATEMENTS.indexOf('SELECT aa FROM public.t, other.t')]).toMatchObject({ code: '42703', message: expect.stringContaining('Perhaps you meant to reference the column \\"t.a\\"') });
    const actual = await answers(columnstore.db);
    for (const [i, sql] of STATEMENTS.entries()) expect(actual[i], sql).toEqual(expected[i]);
  });

  it('refuse FOR UPDATE OF the hypertable as PostgreSQL refuses it over the subquery, and its system columns (0A000)', async () => {
    for (const sql of ['SELECT a FROM public.t FOR UPDATE OF t', 'SELECT public.t.a FROM public.t, other.t FOR UPDATE OF t', 'SELECT public.t.ctid FROM public.t, other.t']) {
      await expect(columnstore.db.query(sql), sql).rejects.toMatchObject({ code: '0A000' });
    }
  });
});

describe('FROM-clause names over the wire', () => {
  let server: TestServer;
  let client: pg.Client;
  beforeAll(async () => {
    server = await startTestServer();
    client = await clientAs(server, 'postgres');
    await client.query(`CREATE EXTENSION IF NOT EXISTS timescaledb; ${setup(true)}`);
    await client.query("SELECT compress_chunk(c) FROM show_chunks('t') c");
  });
  afterAll(async () => {
    await client?.end();
    await server?.close();
  });

  it("name the hypertable in PostgreSQL's messages, not its internal alias", async () => {
    await expect(client.query('SELECT aa FROM public.t, other.t')).rejects.toMatchObject({
      code: '42703',
      message: 'column "aa" does not exist',
      hint: 'Perhaps you meant to reference the column "t.a" or the column "t.a".',
    });
    expect((await client.query('SELECT public.t.a AS pa, other.t.b FROM public.t, other.t WHERE public.t.time = other.t.time ORDER BY 1')).rows).toEqual([
      { pa: 10, b: 'o1' },
      { pa: 20, b: 'o2' },
    ]);
  });
});
