// Differential test of the aggregate kernels' row filters (WHERE conjuncts on value columns, such as
// `usage > 90`): random aggregates by bucket and segment under random predicates on int2/int4/int8,
// real, float8, bool, text and date columns holding NULLs, NaN, ±Infinity and -0, answered by
// Orbit over compressed chunks (plus rowstore rows) and by PostgreSQL over the same rows in a plain
// table. Predicates the kernels evaluate must be evaluated there (no fallback); the others (whose
// constants compare otherwise, e.g. an integer against 2.5, a real IN a numeric list) must still
// give PostgreSQL's answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit } from '../../src/orbit.js';
import { pathTracker } from '../support/fast-paths.js';
import { Prng } from '../support/prng.js';
import { TEMPLATE } from '../support/server.js';

const HOSTS = ['h1', 'h2', 'h3', null];
const REALS = ['0.1', '0.5', '0.25', '-0', '0', 'NaN', 'Infinity', '3.3', '16777217', '-2.75'];
const FLOATS = ['NaN', 'Infinity', '-Infinity', '-0', '0', '2.5'];

/** Rows as JSON text (non-finite numbers as their names: JSON would print NaN as null). */
function rowsOf(r: { rows: Array<Record<string, unknown>> }): string[] {
  return r.rows.map((row) => JSON.stringify(Object.values(row), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v instanceof Date ? v.toISOString() : v)));
}

describe('aggregate kernels with row filters', () => {
  let db: Orbit;
  const random = new Prng(20261127);
  const rand = () => random.next();
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const int = (a: number, b: number) => a + Math.floor(rand() * (b - a + 1));
  const maybe = (p: number, v: () => string) => (rand() < p ? 'NULL' : v());

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, jobScheduler: false });
    await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb; SET timezone TO 'Europe/Berlin';
      CREATE TABLE m (time timestamptz NOT NULL, host text, i2 int2, i4 int4, i8 int8, f4 real, f8 float8, ok bool, tag text, d date);
      SELECT create_hypertable('m', 'time', chunk_time_interval => INTERVAL '1 day');`);
    const row = (i: number) =>
      `('2024-03-29 00:00:00+00'::timestamptz + ${(i * 7919 + 13) % (4 * 86400)} * INTERVAL '1 second', ${pick(HOSTS.map((h) => (h ? `'${h}'` : 'NULL')))}, ` +
      `${maybe(0.05, () => String(int(-20, 20)))}, ${maybe(0.05, () => String(int(-1000, 1000)))}, ` +
      `${maybe(0.05, () => (rand() < 0.02 ? pick(['9223372036854775807', '-9223372036854775808']) : String(int(0, 2e12))))}, ` +
      `${maybe(0.05, () => `'${rand() < 0.5 ? pick(REALS) : String(int(-40, 40) / 4)}'`)}, ` +
      `${maybe(0.05, () => `'${rand() < 0.05 ? pick(FLOATS) : String(int(-80, 320) / 8)}'`)}, ` +
      `${maybe(0.1, () => pick(['true', 'false']))}, ${maybe(0.1, () => pick(["'a'", "'b'", "'c'", "''"]))}, ${maybe(0.05, () => `'2024-01-01'::date + ${int(0, 9)}`)})`;
    await db.exec(`INSERT INTO m VALUES ${Array.from({ length: 6000 }, (_, i) => row(i)).join(', ')}`);
    await db.exec('CREATE TABLE ref AS SELECT * FROM m');
    await db.exec(`ALTER TABLE m SET (timescaledb.compress, timescaledb.compress_segmentby = 'host');
      SELECT compress_chunk(c) FROM show_chunks('m', older_than => '2024-04-01 00:00+00'::timestamptz) c`);
    // Late rows: chunks part columnstore, part rowstore.
    const late = Array.from({ length: 40 }, (_, i) => row(6000 + i)).join(', ');
    await db.exec(`INSERT INTO m VALUES ${late}; INSERT INTO ref VALUES ${late}`);
  }, 120_000);
  afterAll(async () => {
    await db?.close();
  });

  /** A predicate, and whether the kernels evaluate it. */
  const predicate = (): [string, boolean] => {
    const k = pick([
      (): [string, boolean] => [`i2 ${pick(['<', '<=', '>', '>=', '=', '<>'])} ${int(-22, 22)}`, true],
      (): [string, boolean] => [`i2 IN (${int(-20, 20)}, ${int(-20, 20)}, NULL)`, true],
      (): [string, boolean] => [`i2 BETWEEN ${int(-20, 0)} AND ${int(0, 20)}`, true],
      (): [string, boolean] => [`i2 = '${int(-5, 5)}'`, true],
      (): [string, boolean] => [`i2 < ${int(-5, 5)}::int8`, true],
      (): [string, boolean] => [`${int(-900, 900)} < i4`, true],
      (): [string, boolean] => [`i4 ${pick(['<', '>=', '='])} ${int(-900, 900)}`, true],
      (): [string, boolean] => ['i4 = NULL', true],
      (): [string, boolean] => [`i8 ${pick(['>', '<=', '='])} ${pick(['1000000000000', '9223372036854775807', '-9223372036854775808', String(int(0, 2e12))])}`, true],
      (): [string, boolean] => [`f8 ${pick(['<', '<=', '>', '>=', '=', '<>'])} ${pick([`${int(-10, 40)}.5`, String(int(-10, 40)), "'NaN'", "'Infinity'", "'-Infinity'", "'-0'", '0'])}`, true],
      (): [string, boolean] => [`f8 BETWEEN ${int(-10, 10)} AND ${int(10, 40)}`, true],
      (): [string, boolean] => [`f8 IN (0, 'NaN', 2.5, ${int(-10, 40)})`, true],
      (): [string, boolean] => [`f4 ${pick(['<', '<=', '>', '>=', '=', '<>'])} ${pick(['0.1', "'0.1'", '0.1::real', '0.1::float8', '16777217', "'NaN'", "'-0'", '3.3', "'3.3'", String(int(-10, 10))])}`, true],
      (): [string, boolean] => [`f4 IN ('0.1', '0.5', '-0')`, true],
      (): [string, boolean] => [`f4 IN (0.1::real, 3.3::float8)`, true],
      (): [string, boolean] => [`${pick(['f8', 'f4', 'i2', 'i8', 'ok', 'tag', 'd'])} IS ${pick(['', 'NOT '])}NULL`, true],
      (): [string, boolean] => [pick(['ok', 'NOT ok', 'ok = false', 'ok <> true']), true],
      (): [string, boolean] => [`tag ${pick(['=', '<>'])} '${pick(['a', 'b', ''])}'`, true],
      (): [string, boolean] => [`tag IN ('a', 'c')`, true],
      (): [string, boolean] => [`d ${pick(['>=', '<', '='])} '2024-01-0${int(1, 9)}'${pick(['', '::date'])}`, true],
      (): [string, boolean] => [`host <> 'h${int(1, 3)}'`, true],
      (): [string, boolean] => [`time ${pick(['>=', '<'])} '2024-03-${int(29, 31)} ${String(int(0, 23)).padStart(2, '0')}:00'`, true],
      (): [string, boolean] => [`host ${pick(["= 'h1'", "IN ('h2', 'h3')"])}`, true],
      // PostgreSQL compares these otherwise (numeric; a real list cast to float4) or Orbit cannot.
      (): [string, boolean] => [`i4 > ${int(-900, 900)}.5`, false],
      (): [string, boolean] => [`i2 = 1.0::float8`, false],
      (): [string, boolean] => [`f4 IN (0.1, 0.5)`, false],
      (): [string, boolean] => [`tag > 'a'`, false],
      (): [string, boolean] => [`d < now()::date + ${int(-5, 5)}`, false],
      (): [string, boolean] => [`f4 IN (0.5, 3)`, false],
    ]);
    return k();
  };
  const AGGREGATES = ['count(*)', 'count(f4)', 'sum(i2)', 'avg(i4)', 'sum(i8)', 'min(f4)', 'max(f4)', 'sum(f8)', 'avg(f8)', 'min(f8)', 'max(f8)', 'max(d)', 'min(time)', 'first(f8, time)', 'last(i2, time)', 'count(tag)'];

  it('answers as PostgreSQL does, evaluating the predicates in the kernels', async () => {
    const tracker = pathTracker();
    let kernels = 0;
    let nonEmpty = 0;
    try {
      for (let q = 0; q < 160; q++) {
        const where = Array.from({ length: int(1, 3) }, predicate);
        const aggs = Array.from({ length: int(1, 3) }, () => pick(AGGREGATES));
        const grouping = pick(['none', 'bucket', 'host', 'both']);
        const bucket = `time_bucket('${pick(['1 hour', '6 hours', '1 day'])}', time)`;
        const groups = grouping === 'none' ? [] : grouping === 'bucket' ? [bucket] : grouping === 'host' ? ['host'] : [bucket, 'host'];
        const select = [...groups.map((g, j) => `${g} AS g${j}`), ...aggs.map((a, j) => `${a} AS a${j}`)];
        const sql = `SELECT ${select.join(', ')} FROM m WHERE ${where.map(([w]) => w).join(' AND ')}${groups.length ? ` GROUP BY ${groups.map((_, j) => `g${j}`).join(', ')} ORDER BY ${groups.map((_, j) => `g${j}`).join(', ')}` : ''}`;
        const want = await db.query(sql.replace(' FROM m', ' FROM ref')).then(rowsOf, (e: { code?: string }) => `ERROR ${e.code}`);
        tracker.take();
        const got = await db.query(sql).then(rowsOf, (e: { code?: string }) => `ERROR ${e.code}`);
        expect(got, sql).toEqual(want);
        const took = tracker.take();
        if (where.every(([, k]) => k)) {
          expect(took, `path of ${sql}`).toBe('aggregate');
          kernels++;
        }
        if (typeof want !== 'string' && want.length > 0 && want[0] !== '[0]') nonEmpty++;
      }
    } finally {
      tracker.restore();
    }
    expect(kernels).toBeGreaterThan(80);
    expect(nonEmpty).toBeGreaterThan(100);
  }, 300_000);

  it('scans compare a real column with a float8 constant as float8 (float48 operators)', async () => {
    // The scan path evaluates the same constants (session/columnstore/predicate-values.ts): 0.1::float8
    // is not rounded to real, or the rows holding real 0.1 (0.100000001…) would be dropped.
    for (const w of ['f4 > 0.1::float8', 'f4 >= 0.1', "f4 = '0.1'", 'f4 < 16777217', 'f4 IN (0.1::real, 3.3::float8)']) {
      const sql = `SELECT time, f4 FROM m WHERE ${w} ORDER BY time`;
      const tracker = pathTracker();
      try {
        const got = rowsOf(await db.query(sql));
        expect(tracker.take(), sql).toBe('scan');
        expect(got, sql).toEqual(rowsOf(await db.query(sql.replace(' FROM m', ' FROM ref'))));
      } finally {
        tracker.restore();
      }
    }
  });

  it('compares a segmentby column with a constant of another type as PostgreSQL does', async () => {
    await db.exec(`CREATE TABLE s (time timestamptz NOT NULL, dev int, v float8);
      SELECT create_hypertable('s', 'time', chunk_time_interval => INTERVAL '1 day');
      INSERT INTO s SELECT '2024-03-29 00:00+00'::timestamptz + i * INTERVAL '1 minute', i % 4, i FROM generate_series(1, 500) i;
      CREATE TABLE sref AS SELECT * FROM s;
      ALTER TABLE s SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');
      SELECT compress_chunk(c) FROM show_chunks('s') c;`);
    // `dev = 1.5` is numeric equality (no row), not dev = 2; `dev = 2` and `dev IN (1, '3')` the kernels take.
    for (const [w, kernels] of [['dev = 1.5', false], ['dev IN (1.5, 2)', false], ['dev = 2', true], ["dev IN (1, '3')", true], ['dev = 2::int8', true]] as const) {
      const sql = `SELECT dev, count(*), sum(v) FROM s WHERE ${w} GROUP BY dev ORDER BY dev`;
      const tracker = pathTracker();
      try {
        expect(rowsOf(await db.query(sql)), sql).toEqual(rowsOf(await db.query(sql.replace(' FROM s', ' FROM sref'))));
        if (kernels) expect(tracker.take(), sql).toBe('aggregate');
      } finally {
        tracker.restore();
      }
    }
  });

  it('limits the kernels to the first buckets the row predicates leave for ORDER BY bucket LIMIT n', async () => {
    let bounded = 0;
    for (let q = 0; q < 30; q++) {
      const where = Array.from({ length: int(1, 2) }, () => pick([`f8 > ${int(0, 39)}.5`, `i2 = ${int(-20, 20)}`, `tag = '${pick(['a', 'b'])}'`, 'ok', `i4 < ${int(-1000, 1000)}`]));
      const sql = `SELECT time_bucket('${pick(['1 hour', '15 minutes', '1 day'])}', time) AS b, count(*) AS n, max(f8) AS mx FROM m WHERE ${where.join(' AND ')} GROUP BY b ORDER BY b ${pick(['DESC', 'ASC'])} LIMIT ${int(1, 12)}`;
      const tracker = pathTracker();
      try {
        expect(rowsOf(await db.query(sql)), sql).toEqual(rowsOf(await db.query(sql.replace(' FROM m', ' FROM ref'))));
        expect(tracker.take(), sql).toBe('aggregate');
      } finally {
        tracker.restore();
      }
      const plan = (await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) ${sql}`)).rows.map((r) => r['QUERY PLAN']);
      if (plan.some((l) => l.includes('Ordered Append: buckets'))) bounded++;
    }
    expect(bounded).toBeGreaterThan(15);
  });

  it('shows the row filter in EXPLAIN and does not answer partly passing batches from the manifest', async () => {
    const plan = (await db.query<{ 'QUERY PLAN': string }>("EXPLAIN (COSTS OFF) SELECT host, count(*) FROM m WHERE f8 > 20 AND tag <> 'a' GROUP BY host")).rows.map((r) => r['QUERY PLAN']);
    expect(plan[0]).toBe('Orbit Columnstore Aggregate on m');
    expect(plan).toContain("  Orbit Row Filter: (f8 > 20) AND (tag <> 'a')");
    // count(*), min and max of whole batches come from the manifest unless a filter drops rows.
    for (const sql of ['SELECT count(*), max(i4), min(i2) FROM m WHERE i4 < 100', 'SELECT count(*), max(f8) FROM m WHERE ok', 'SELECT count(*) FROM m WHERE i8 >= 0']) {
      expect(rowsOf(await db.query(sql)), sql).toEqual(rowsOf(await db.query(sql.replace(' FROM m', ' FROM ref'))));
    }
  });
});
