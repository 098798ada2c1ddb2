// A hypertable with the columnstore enabled is read through a subquery named like the table
// (sql/rewrite/columnstore-reads.ts), so `schema.table.column` no longer resolved (42P01), with
// or without compressed chunks. Each statement must answer as it does over the rowstore alone.
import { describe, expect, it } from 'vitest';
import type { Orbit } from '../../src/orbit.js';
import { inProcessOrbit } from '../support/in-process.js';
import { rolledBack } from '../support/sqlstate.js';

const SETUP = `CREATE SCHEMA other;
  CREATE TABLE other.t (time bigint, a int);
  INSERT INTO other.t VALUES (100, 100);
  CREATE TABLE t (time bigint NOT NULL, a int);
  SELECT create_hypertable('t', 'time', chunk_time_interval => 1000);
  ALTER TABLE t SET (timescaledb.compress);
  INSERT INTO t VALUES (1, 10), (2, 20), (3000, 30);
  CREATE FUNCTION ff(r t) RETURNS int LANGUAGE sql AS 'SELECT r.a';`;

const STATEMENTS = [
  'SELECT public.t.a FROM public.t ORDER BY 1',
  'SELECT public.t.a FROM t ORDER BY 1',
  'SELECT count(*) FROM public.t WHERE public.t.time > 0',
  'SELECT ff(public.t.*), public.t.ff FROM public.t ORDER BY 1',
  'SELECT public.t.* FROM public.t ORDER BY 1',
  'SELECT postgres.public.t.a FROM public.t ORDER BY 1',
  'SELECT (SELECT max(public.t.a) FROM t) FROM other.t',
  'SELECT a FROM public.t WHERE public.t.a IN (SELECT public.t.a FROM public.t WHERE public.t.time < 3) ORDER BY 1',
  'SELECT x.a FROM public.t x JOIN LATERAL (SELECT public.t.a AS b FROM public.t WHERE public.t.time = x.time) s ON true ORDER BY 1',
  'UPDATE other.t o SET a = public.t.a FROM public.t WHERE public.t.time = 2 RETURNING o.a',
  // A FROM item of the same name hides the hypertable from its bare name: the subquery goes by an internal alias.
  'SELECT (SELECT max(public.t.a) FROM other.t) AS m FROM public.t ORDER BY 1',
  'SELECT t.a, (SELECT count(*) FROM other.t WHERE other.t.a > public.t.a) AS n FROM public.t ORDER BY 1',
  // Only as PostgreSQL resolves them: an aliased table is not its name, another schema's is another table.
  'SELECT public.t.a FROM public.t x',
  'SELECT other.t.a FROM public.t',
  'SELECT nope.public.t.a FROM public.t',
  'SELECT public.t.a FROM ONLY public.t',
];

type Answer = { rows: unknown[] } | { code: string };

async function answers(db: Orbit): Promise<Answer[]> {
  const out: Answer[] = [];
  for (const sql of STATEMENTS) out.push(await rolledBack(db, sql, (r) => ({ rows: r.rows })));
  return out;
}

describe('schema-qualified column references to a hypertable with the columnstore', () => {
  const fixture = inProcessOrbit(SETUP);

  it('answer as over the rowstore, before and after compress_chunk', async () => {
    const db = fixture.db;
    const rowstore = await answers(db);
    expect(rowstore[0]).toEqual({ rows: [{ a: 10 }, { a: 20 }, { a: 30 }] });
    expect(rowstore.slice(-4)).toEqual([{ code: '42P01' }, { code: '42P01' }, { code: '0A000' }, { rows: [] }]);
    await db.exec("SELECT compress_chunk(c) FROM show_chunks('t') c");
    const compressed = await answers(db);
    for (const [i, sql] of STATEMENTS.entries()) expect(compressed[i], sql).toEqual(rowstore[i]);
  });

});

describe('schema-qualified column references to a hypertable read under an alias', () => {
  const fixture = inProcessOrbit(SETUP, ['t']);

  it("point at the alias a hypertable is read under, as PostgreSQL's error does", async () => {
    await expect(fixture.db.query('SELECT (SELECT public.t.a) FROM public.t x')).rejects.toMatchObject({
      code: '42P01',
      message: 'invalid reference to FROM-clause entry for table "t"',
      hint: 'Perhaps you meant to reference the table alias "x".',
    });
  });
});
