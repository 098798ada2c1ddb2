// The in-process API's query(sql, params) over a hypertable in the columnstore: the values are
// written out as PGlite would bind them (session/embedded-bound.ts), so the fast path takes the
// statement (no cache table is filled) and the answers are PostgreSQL's over a plain table `r` of
// the same rows, with the same parameters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit } from '../../src/orbit.js';
import { loadCompressedDays } from '../support/compressed-days.js';
import { TEMPLATE } from '../support/server.js';

const SHAPES: Array<{ sql: (x: string) => string; params: unknown[] }> = [
  {
    sql: (x) => `SELECT time_bucket('1 hour', time) AS b, max(v) AS mx, count(*) AS n FROM ${x} WHERE host = $1 AND time >= $2 AND time < $3 GROUP BY b ORDER BY b`,
    params: ['a', new Date('2024-01-02T03:00:00Z'), '2024-01-02 09:30:00.5+00'],
  },
  { sql: (x) => `SELECT host, avg(v) AS a, min(time) AS lo FROM ${x} WHERE time >= $1 AND time < $2 GROUP BY host ORDER BY host`, params: ['2024-01-01T22:00:00+02:00', new Date('2024-01-02T01:00:00Z')] },
  { sql: (x) => `SELECT time_bucket($1::interval, time) AS b, sum(v) AS s FROM ${x} WHERE host IN ($2, $3) GROUP BY b ORDER BY b`, params: ['6 hours', 'b', 'c'] },
  // A NULL; a bigint.
  { sql: (x) => `SELECT host, count(*) AS n FROM ${x} WHERE host IN ($1, $2) GROUP BY host ORDER BY host`, params: [null, 'b'] },
  { sql: (x) => `SELECT time_bucket($1::int8 * INTERVAL '1 minute', time) AS b, count(*) AS n FROM ${x} WHERE time < '2024-01-01 06:00+00' GROUP BY b ORDER BY b`, params: [90n] },
  { sql: (x) => `SELECT max(v) AS mx FROM ${x} WHERE time < $1`, params: [new Date('2024-01-01T05:00:00Z')] },
  // A last point and a scan.
  { sql: (x) => `SELECT DISTINCT ON (host) host, time, v FROM ${x} WHERE host IN ($1, $2) AND time < $3 ORDER BY host, time DESC`, params: ['a', 'c', '2024-01-02 12:00+00'] },
  { sql: (x) => `SELECT time, host, v FROM ${x} WHERE v > $1 AND time >= $2 AND time < $3 ORDER BY time, host`, params: [24.5, '2024-01-03', '2024-01-03 06:00'] },
];

describe('in-process query with parameters over the columnstore', () => {
  let db: Orbit;

  /** The temporary cache tables of the general path (session/columnstore/cache-tables.ts). */
  async function cacheTables(): Promise<number> {
    const r = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relname LIKE 'orbit\\_cs\\_%'`);
    return r.rows[0]!.n;
  }

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, columnstore: { reuseResults: false } });
    await loadCompressedDays(db);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('answers as PostgreSQL does over a plain table, without cache tables', async () => {
    for (const { sql, params } of SHAPES) {
      const want = await db.query(sql('r'), params);
      const got = await db.query(sql('t'), params);
      expect(got.rows, sql('t')).toEqual(want.rows);
      expect(got.fields).toEqual(want.fields);
      expect(want.rows.length, sql('r')).toBeGreaterThan(0);
      // Without the values written out, the general path: a cache table per compressed chunk.
      expect(await cacheTables(), sql('t')).toBe(0);
    }
  });

  it('gives PostgreSQL’s errors for values their types refuse', async () => {
    const sql = SHAPES[0]!.sql;
    for (const params of [['a', 'not a time', '2024-01-02'], ['a', '2024-02-30', '2024-03-01']]) {
      const want = await db.query(sql('r'), params).then(() => 'no error', (e: { code?: string; message: string }) => `${e.code} ${e.message}`);
      const got = await db.query(sql('t'), params).then(() => 'no error', (e: { code?: string; message: string }) => `${e.code} ${e.message}`);
      expect(want).toMatch(/^22/);
      expect(got).toBe(want);
    }
  });

  it('names columns and reports errors as the statement with its parameters does', async () => {
    // A bare parameter is `?column?`, where its literal would be named after its type.
    const named = (x: string) => `SELECT $1 AS host_param, $1, count(*) AS n FROM ${x} WHERE host = $1 GROUP BY 1`;
    const want = await db.query(named('r'), ['a']);
    const got = await db.query(named('t'), ['a']);
    expect(got.fields).toEqual(want.fields);
    expect(got.rows).toEqual(want.rows);
    // An invalid Date: PGlite's own error.
    const sql = (x: string) => `SELECT count(*) AS n FROM ${x} WHERE time > $1`;
    const error = (x: string) => db.query(sql(x), [new Date(NaN)]).then(() => 'no error', (e: { code?: string; name?: string; message: string }) => `${e.code ?? e.name} ${e.message}`);
    expect(await error('t')).toBe(await error('r'));
  });

  it('keeps the general path for values it does not write out, and inside a transaction block', async () => {
    // A backslash (its meaning in a literal depends on standard_conforming_strings).
    const sql = (x: string) => `SELECT count(*)::int AS n FROM ${x} WHERE host <> $1`;
    expect((await db.query(sql('t'), ['a\\b'])).rows).toEqual((await db.query(sql('r'), ['a\\b'])).rows);
    expect(await cacheTables()).toBeGreaterThan(0);
    // A shape the planner leaves to PostgreSQL.
    const or = (x: string) => `SELECT host, count(*) AS n FROM ${x} WHERE host = $1 OR host = $2 GROUP BY host ORDER BY host`;
    expect((await db.query(or('t'), [null, 'b'])).rows).toEqual((await db.query(or('r'), [null, 'b'])).rows);
    await db.query('BEGIN');
    try {
      expect((await db.query(sql('t'), ['b'])).rows).toEqual((await db.query(sql('r'), ['b'])).rows);
    } finally {
      await db.query('ROLLBACK');
    }
  });
});
