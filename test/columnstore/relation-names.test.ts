// FROM-clause names around a hypertable read through the general path's subquery
// (sql/rewrite/columnstore-reads.ts): each statement must answer over compressed chunks what
// PostgreSQL answers over the same tables without the columnstore — rows, column names and types,
// or the error (SQLSTATE and message).
import { describe, expect, it } from 'vitest';
import type { Orbit } from '../../src/orbit.js';
import { inProcessOrbit } from '../support/in-process.js';
import { rolledBack } from '../support/sqlstate.js';

const setup = (columnstore: boolean) => {
  const compress = (t: string) => (columnstore ? `ALTER TABLE ${t} SET (timescaledb.compress);` : '');
  return `CREATE SCHEMA other;
  CREATE TABLE other.t (time bigint, a int, b text);
  INSERT INTO other.t VALUES (1, 100, 'o1'), (2, 200, 'o2'), (5, 500, 'o5');
  CREATE TABLE t (time bigint NOT NULL, a int, t int);
  SELECT create_hypertable('t', 'time', chunk_time_interval => 1000);
  ${compress('t')}
  INSERT INTO t VALUES (1, 10, 1), (2, 20, 2), (3000, 30, 3);`;
};

const STATEMENTS = [
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
    return (e as Error).message;
  } finally {
    await db.exec('ROLLBACK');
  }
}

describe('FROM-clause names around a hypertable with compressed chunks', () => {
  const columnstore = inProcessOrbit(setup(true), ['t']);
  const rowstore = inProcessOrbit(setup(false));

  it('answer as PostgreSQL does over the same tables without the columnstore', async () => {
    const expected = await answers(rowstore.db);
    const actual = await answers(columnstore.db);
    for (const [i, sql] of STATEMENTS.entries()) expect(actual[i], sql).toEqual(expected[i]);
  });
});
