/**
 * RowStore.query without parameters reads the raw protocol itself (rowstore/typed-query.ts): its
 * rows, fields, affected-row counts and errors must be those of PGlite's own `query`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PGliteRowStore } from '../../src/rowstore/pglite.js';
import { OrbitError } from '../../src/errors.js';
import { toOrbitError } from '../../src/errors.js';
import { openTestRowStore } from '../support/row-store.js';

let store: PGliteRowStore;

beforeAll(async () => {
  store = await openTestRowStore();
  await store.exec(`SET TIME ZONE 'Europe/Paris';
    CREATE TABLE t (i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, n numeric, b bool, s text, v varchar(40), c char(3),
      ts timestamp, tz timestamptz, d date, iv interval, j json, jb jsonb, by bytea, a int4[], ta text[], u uuid);
    INSERT INTO t VALUES
      (1, -2, 9007199254740993, 1.5, 'NaN', 123.456789012345678901, true, 'ascii', 'été ☃', 'ab', '2024-01-01 10:00:00.123456',
       '2024-06-01 00:00:00+02', '2024-02-29', '1 day 02:03:04', '{"a": [1, 2]}', '{"b": null}', '\\x00ff10', '{1,NULL,3}',
       '{"x y",z,NULL}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
      (NULL, NULL, NULL, '-Infinity', '-0', 'NaN', false, repeat('long text ', 20), repeat('ü', 40), NULL, 'infinity',
       '-infinity', 'infinity', NULL, 'null', '[]', '\\x', '{}', '{}', NULL),
      (32767, 2147483647, -9223372036854775808, 'Infinity', 1e-310, '-0.0', NULL, '😀 emoji', '', 'x', NULL, NULL, NULL,
       '-1 mons', '"s"', '1', NULL, NULL, '{"\\\\"}', NULL)`);
});

afterAll(async () => {
  await store.close();
});

/** Runs `sql` both ways; a statement that writes runs first in a transaction rolled back. */
async function both(sql: string, writes = false): Promise<void> {
  if (writes) await store.exec('BEGIN');
  const mine = await store.query(sql);
  if (writes) await store.exec('ROLLBACK');
  const theirs = await store.db.query(sql);
  expect(mine.fields).toEqual(theirs.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })));
  expect(mine.rows).toEqual(theirs.rows);
  expect(mine.affectedRows).toBe(theirs.affectedRows);
}

describe('RowStore.query without parameters', () => {
  it('returns the values of PGlite’s query for every type, NULLs and non-ASCII text included', async () => {
    await both('SELECT * FROM t ORDER BY i4 NULLS LAST');
    await both('SELECT i4 AS x, s AS x, 1 AS "ünïcode", NULL AS n FROM t ORDER BY 1');
    await both('SELECT 1 AS "__proto__", 2 AS "1", 3 AS "constructor", 4 AS "a""b", 5 AS "1"');
    const wide = Array.from({ length: 40 }, (_, i) => `i2::int8 + ${i} AS c${i}`).join(', ');
    await both(`SELECT ${wide} FROM t ORDER BY i4`);
    await both("SELECT '' AS empty, E'tab\\there' AS t, 'NaN'::float8 > 1e308 AS nan_greater");
    await both('SELECT generate_series(1, 5000) AS g, md5(random()::text) IS NOT NULL AS h');
  });

  it('reports affected rows and empty results as PGlite’s query does', async () => {
    await store.exec('CREATE TABLE w (x int)');
    await both('INSERT INTO w SELECT generate_series(1, 7)', true);
    await both('UPDATE w SET x = x + 1 WHERE x > 3', true);
    await both('DELETE FROM w WHERE x < 3', true);
    await both('INSERT INTO w VALUES (1) RETURNING x, x * 2 AS y', true);
    await both('SELECT * FROM w WHERE false');
    await both('CREATE TABLE w2 (y int)', true);
    await both('');
  });

  it('throws the statement’s error with its fields', async () => {
    const failure = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (err) {
        return toOrbitError(err);
      }
      throw new Error('expected an error');
    };
    for (const sql of ['SELECT 1/0', 'SELECT * FROM nowhere', 'SELECT 1; SELECT 2', 'INSERT INTO t (i2) VALUES (99999)', 'SELECT $1']) {
      const mine = await failure(store.query(sql));
      const theirs = await failure(store.db.query(sql));
      expect(mine).toBeInstanceOf(OrbitError);
      expect({ code: mine.code, message: mine.message, position: mine.position, detail: mine.detail, severity: mine.severity }).toEqual({
        code: theirs.code,
        message: theirs.message,
        position: theirs.position,
        detail: theirs.detail,
        severity: theirs.severity,
      });
    }
    // The session is usable after an error.
    await both('SELECT 1 AS one');
  });
});
