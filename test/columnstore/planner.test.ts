// Differential test of the columnstore planner: the same randomised aggregate queries answered by
// PostgreSQL over uncompressed chunks and by Orbit over chunks that are part columnstore (kernels),
// part rowstore (late rows, uncompressed chunks), in a DST time zone, with NULLs and out-of-order rows.
// Aggregates the kernels take must not fall back to decoding batches into cache tables.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit } from '../../src/orbit.js';
import { TEMPLATE } from '../support/server.js';
import { Prng } from '../support/prng.js';

const HOSTS = ['a', 'b', 'c', 'd', null];
const BUCKETS = ['5 minutes', '1 hour', '90 minutes', '1 day'];
const AGGREGATES = ['count(*)', 'count(v)', 'sum(v)', 'avg(v)', 'min(v)', 'max(v)', 'sum(n)', 'avg(n)', 'min(n)', 'max(time)', 'sum(b)', 'first(v, time)', 'last(n, time)', 'min(f)', 'sum(f)'];

/** The cache tables of the fallback path that exist now (none while the kernels answer). */
async function cacheTables(db: Orbit): Promise<number> {
  const r = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'orbit\\_cs\\_%' AND relpersistence = 't'");
  return r.rows[0]!.n;
}

/**
 * Rows as text with floats rounded, so that float sums added in another order compare equal
 * (float4 sums more coarsely: PostgreSQL adds them up in float4, the kernels in float8).
 */
function normalise(r: { rows: Array<Record<string, unknown>>; fields: Array<{ dataTypeID: number }> }): string[] {
  return r.rows.map((row) =>
    JSON.stringify(
      Object.values(row).map((v, i) =>
        typeof v === 'number' && !Number.isInteger(v)
          ? Number(v.toPrecision(r.fields[i]!.dataTypeID === 700 ? 5 : 10))
          : v instanceof Date
            ? v.toISOString()
            : typeof v === 'bigint'
              ? String(v)
              : v,
      ),
    ),
  );
}

describe('columnstore planner', () => {
  let db: Orbit;
  const random = new Prng(20261125);
  const rand = () => random.next();
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE });
    await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb;
      SET timezone TO 'Europe/Berlin';
      CREATE TABLE m (time timestamptz NOT NULL, host text, v float8, n int, b bigint, f real);
      SELECT create_hypertable('m', 'time', chunk_time_interval => INTERVAL '1 day');`);
    // Four days around the spring DST change, rows out of time order, NULLs, NaN and a few extremes.
    const values: string[] = [];
    for (let i = 0; i < 6000; i++) {
      // Distinct times (first/last ties are decided by scan order, in PostgreSQL too), out of order.
      const t = `'2024-03-29 00:00:00+00'::timestamptz + ${(i * 7919 + 13) % (4 * 86400)} * INTERVAL '1 second'`;
      const host = pick(HOSTS);
      const v = rand() < 0.05 ? 'NULL' : rand() < 0.01 ? "'NaN'" : (rand() * 200 - 50).toFixed(3);
      const n = rand() < 0.05 ? 'NULL' : String(Math.floor(rand() * 2000 - 1000));
      const b = rand() < 0.02 ? '9000000000000000000' : String(Math.floor(rand() * 1e12));
      values.push(`(${t}, ${host === null ? 'NULL' : `'${host}'`}, ${v}, ${n}, ${b}, ${(rand() * 10).toFixed(2)})`);
    }
    await db.exec(`INSERT INTO m VALUES ${values.join(', ')}`);
    // The reference: the same rows in a plain table, answered by PostgreSQL alone.
    await db.exec('CREATE TABLE ref AS SELECT * FROM m');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('answers random aggregates as PostgreSQL does, from the kernels', async () => {
    const queries: string[] = [];
    for (let i = 0; i < 60; i++) {
      const aggs = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(AGGREGATES)).filter((a) => !(a.startsWith('sum(b)') && rand() < 0.5));
      const grouping = pick(['none', 'bucket', 'host', 'both']);
      const bucket = `time_bucket('${pick(BUCKETS)}', time)`;
      const groups = grouping === 'none' ? [] : grouping === 'bucket' ? [bucket] : grouping === 'host' ? ['host'] : [bucket, 'host'];
      const where: string[] = [];
      if (rand() < 0.6) where.push(`time >= '2024-03-${30 + Math.floor(rand() * 2)} ${String(Math.floor(rand() * 24)).padStart(2, '0')}:00'`);
      if (rand() < 0.5) where.push(`time < '2024-04-01 ${String(Math.floor(rand() * 24)).padStart(2, '0')}:30'`);
      if (rand() < 0.3) where.push(`host IN ('a', 'c')`);
      if (rand() < 0.2) where.push(`host = 'b'`);
      const select = [...groups.map((g, j) => `${g} AS g${j}`), ...aggs.map((a, j) => `${a} AS a${j}`)];
      const order = groups.length ? ` ORDER BY ${groups.map((_, j) => `g${j}`).join(', ')} NULLS FIRST` : '';
      const limit = groups.length && rand() < 0.3 ? ` LIMIT ${1 + Math.floor(rand() * 10)}` : '';
      queries.push(
        `SELECT ${select.join(', ')} FROM m${where.length ? ` WHERE ${where.join(' AND ')}` : ''}${groups.length ? ` GROUP BY ${groups.map((_, j) => `g${j}`).join(', ')}` : ''}${order}${limit}`,
      );
    }
    // The text standing for the kernels' rows while the final statement is deparsed, as a constant.
    queries.push("SELECT host, count(*) AS n, max(v) AS v FROM m WHERE host IN ('a', 'SELECT * FROM __orbit_kernel_rows') GROUP BY host ORDER BY host");
    await db.exec(`ALTER TABLE m SET (timescaledb.compress, timescaledb.compress_segmentby = 'host');
      SELECT compress_chunk(c) FROM show_chunks('m', older_than => '2024-04-01 00:00+00'::timestamptz) c`);
    // Late rows into compressed chunks: those chunks are then part columnstore, part rowstore.
    const late = "('2024-03-30 12:00+00', 'a', 1.5, 7, 7, 1), ('2024-03-29 23:59:59+00', NULL, NULL, NULL, 1, NULL), ('2024-03-31 01:30+00', 'c', -3, 3, 3, 3)";
    await db.exec(`INSERT INTO m VALUES ${late}; INSERT INTO ref VALUES ${late}`);
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE is_compressed')).rows[0]!.n).toBeGreaterThanOrEqual(3);

    let checked = 0;
    const answer = (q: string) => db.query(q).then((r) => normalise(r), (e: { code?: string }) => `ERROR ${e.code}`);
    for (const q of queries) {
      expect(await answer(q), q).toEqual(await answer(q.replace(' FROM m', ' FROM ref')));
      expect(await cacheTables(db), `fell back: ${q}`).toBe(0);
      checked++;
    }
    expect(checked).toBe(queries.length);
  });

  it('answers last-point queries from the newest batches', async () => {
    for (const q of [
      'SELECT DISTINCT ON (host) * FROM m ORDER BY host, time DESC',
      'SELECT DISTINCT ON (host) host, time, v FROM m ORDER BY host, time DESC',
      'SELECT DISTINCT ON (x.host) x.time, x.n FROM m AS x ORDER BY x.host, x.time DESC LIMIT 3',
    ]) {
      const answer = (sql: string) => db.query(sql).then((r) => normalise(r));
      expect(await answer(q), q).toEqual(await answer(q.replace(' FROM m', ' FROM ref')));
      expect(await cacheTables(db), `fell back: ${q}`).toBe(0);
    }
  });

  it('falls back for shapes the kernels do not take, decoding only the chunks the time bounds reach', async () => {
    const answer = (sql: string) => db.query(sql).then((r) => normalise(r));
    // One day: one cache table (plus the parent) for the one compressed chunk it reaches.
    const day = "SELECT host, percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS p, count(*) FROM m WHERE time >= '2024-03-30 00:00+00' AND time < '2024-03-31 00:00+00' GROUP BY host ORDER BY host NULLS FIRST";
    expect(await answer(day)).toEqual(await answer(day.replace(' FROM m', ' FROM ref')));
    expect(await cacheTables(db)).toBe(2);
    // Without bounds every compressed chunk is decoded; the answers stay PostgreSQL's.
    const all = 'SELECT host, percentile_cont(0.5) WITHIN GROUP (ORDER BY n) AS p, count(*) FROM m GROUP BY host ORDER BY host NULLS FIRST';
    expect(await answer(all)).toEqual(await answer(all.replace(' FROM m', ' FROM ref')));
    const compressed = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE is_compressed');
    expect(await cacheTables(db)).toBe(compressed.rows[0]!.n + 1);
    expect(await answer(day)).toEqual(await answer(day.replace(' FROM m', ' FROM ref')));
  });
});
