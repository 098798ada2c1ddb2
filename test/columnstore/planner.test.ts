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

  it('limits the kernels to the first buckets for ORDER BY bucket LIMIT n', async () => {
    const answer = (sql: string) => db.query(sql).then((r) => normalise(r), (e: { code?: string }) => `ERROR ${e.code}`);
    let bounded = 0;
    for (let i = 0; i < 40; i++) {
      const bucket = `time_bucket('${pick(BUCKETS)}', time)`;
      const where: string[] = [];
      if (rand() < 0.5) where.push(`time < '2024-03-${28 + Math.floor(rand() * 4)} ${String(Math.floor(rand() * 24)).padStart(2, '0')}:00'`);
      if (rand() < 0.3) where.push(`time >= '2024-03-30 ${String(Math.floor(rand() * 24)).padStart(2, '0')}:00'`);
      if (rand() < 0.3) where.push(pick([`host = 'b'`, `host IN ('a', 'd')`, 'host IS NULL']));
      const key = pick(['1', 'bk', bucket]);
      const q = `SELECT ${bucket} AS bk, ${pick(AGGREGATES)} AS a, count(*) AS c FROM m${where.length ? ` WHERE ${where.join(' AND ')}` : ''} GROUP BY bk ORDER BY ${key} ${pick(['DESC', 'ASC', ''])} LIMIT ${1 + Math.floor(rand() * 8)}${rand() < 0.2 ? ' OFFSET 2' : ''}`;
      expect(await answer(q), q).toEqual(await answer(q.replace(' FROM m', ' FROM ref')));
      expect(await cacheTables(db), `fell back: ${q}`).toBe(0);
      const plan = (await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) ${q}`)).rows.map((r) => r['QUERY PLAN']);
      if (plan.some((l) => l.includes('Ordered Append: buckets'))) bounded++;
    }
    expect(bounded).toBeGreaterThan(20);
    // Limits that give no bucket count to bound by (the rowstore's rows are then asked for apart)
    // or none at all; the rowstore holds rows the WHERE keeps (late rows, uncompressed chunks).
    for (const limit of ['0', 'NULL', 'ALL', '0 OFFSET 1', '(SELECT 2)', '3 OFFSET 0']) {
      for (const where of ['', " WHERE time < '2024-03-31 12:00'", " WHERE time >= '2024-03-31 00:00'"]) {
        const q = `SELECT time_bucket('1 hour', time) AS bk, max(v) AS a, count(*) AS c FROM m${where} GROUP BY bk ORDER BY bk DESC LIMIT ${limit}`;
        expect(await answer(q), q).toEqual(await answer(q.replace(' FROM m', ' FROM ref')));
      }
    }
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
    // (greatest() and least() are no constants the scan path evaluates itself: the cache tables serve this one.)
    const day = "SELECT host, percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS p, count(*) FROM m WHERE time >= greatest('2024-03-30 00:00+00'::timestamptz, '2000-01-01') AND time < least('2024-03-31 00:00+00'::timestamptz, 'infinity') GROUP BY host ORDER BY host NULLS FIRST";
    expect(await answer(day)).toEqual(await answer(day.replace(' FROM m', ' FROM ref')));
    expect(await cacheTables(db)).toBe(2);
    // Without bounds every compressed chunk is decoded; the answers stay PostgreSQL's.
    const all = 'SELECT host, percentile_cont(0.5) WITHIN GROUP (ORDER BY n) AS p, count(*) FROM m GROUP BY host ORDER BY host NULLS FIRST';
    expect(await answer(all)).toEqual(await answer(all.replace(' FROM m', ' FROM ref')));
    const compressed = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE is_compressed');
    expect(await cacheTables(db)).toBe(compressed.rows[0]!.n + 1);
    expect(await answer(day)).toEqual(await answer(day.replace(' FROM m', ' FROM ref')));
    // Bounds that make no internal time (infinite ones) or that PostgreSQL rejects: the answer, or
    // PostgreSQL's own error — never an aborted transaction of Orbit's.
    for (const q of ["SELECT count(*), max(v) FROM m WHERE time >= '-infinity'", "SELECT count(*) FROM m WHERE time < 'infinity' AND time > '-infinity'", "SELECT host, v FROM m WHERE time <= '-infinity'"]) {
      expect(await answer(q), q).toEqual(await answer(q.replace(' FROM m', ' FROM ref')));
    }
    await expect(db.query("SELECT count(*) FROM m WHERE time >= '2024-13-45'")).rejects.toMatchObject({ code: '22008' });
    await expect(db.query("SELECT * FROM m WHERE time >= '2024-13-45'")).rejects.toMatchObject({ code: '22008' });
  });
});

/**
 * Inserts `values` into hypertable `table`, copies them to the plain table `<table>ref` (the
 * reference answers), then compresses every chunk of `table` segmented by host.
 */
async function loadCompressed(db: Orbit, table: string, values: readonly string[]): Promise<void> {
  await db.exec(`INSERT INTO ${table} VALUES ${values.join(', ')}`);
  await db.exec(`CREATE TABLE ${table}ref AS SELECT * FROM ${table}`);
  await db.exec(`ALTER TABLE ${table} SET (timescaledb.compress, timescaledb.compress_segmentby = 'host')`);
  await db.exec(`SELECT compress_chunk(c) FROM show_chunks('${table}') c`);
}

// Last points of every column type the path hands over as text, values that need quoting in an
// array constant, and batch-constant columns taken from the manifest, under another DateStyle.
describe('columnstore planner: last point values', () => {
  let db: Orbit;
  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE });
    await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb;
      SET timezone TO 'Australia/Lord_Howe'; SET DateStyle TO 'SQL, DMY';
      CREATE TABLE lp (time timestamptz NOT NULL, host text, tag text, v float8, r real, n numeric(10,3), d date, ts timestamp, ok bool, vc varchar(6), i int2, b bigint);
      SELECT create_hypertable('lp', 'time', chunk_time_interval => INTERVAL '1 day');`);
    const tags = [`a,"b"\\c`, 'NULL', '', null, ' sp ', '{x}'];
    const floats = ["'NaN'", "'Infinity'", "'-Infinity'", "'-0'", '1.5e300', '0.1', 'NULL'];
    const values: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const host = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', null][i % 7];
      const q = (x: string | null) => (x === null ? 'NULL' : `'${x.replace(/'/g, "''")}'`);
      const k = (i * 31) % 97;
      values.push(`('2024-04-06 00:00:00+00'::timestamptz + ${(i * 7919) % (3 * 86400)} * INTERVAL '1 second', ${q(host)}, ${q(tags[(i % 7) % tags.length]!)},
        ${floats[k % floats.length]}, ${k % 5 === 0 ? "'NaN'" : `${k}.25`}, ${k % 3 === 0 ? 'NULL' : `${k}.125`}, '2024-01-01'::date + ${k}, '2024-04-06 02:30'::timestamp + ${k} * INTERVAL '1 minute',
        ${k % 4 === 0 ? 'NULL' : k % 2 === 0}, ${q(['x"y', 'NULL', 'ab,c', null][k % 4]!)}, ${k - 40}, ${k * 1e15})`);
    }
    await loadCompressed(db, 'lp', values);
  });
  afterAll(async () => {
    await db?.close();
  });

  it("returns PostgreSQL's last points", async () => {
    const text = async (sql: string) => (await db.query(`SELECT row_to_json(x)::text AS j FROM (${sql}) x`)).rows.map((r) => (r as { j: string }).j);
    for (const q of ['SELECT DISTINCT ON (host) * FROM lp ORDER BY host, time DESC', 'SELECT DISTINCT ON (host) tag, v, vc, host FROM lp ORDER BY host, time DESC']) {
      const plan = (await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) ${q}`)).rows.map((r) => r['QUERY PLAN']);
      expect(plan[0], q).toContain('Last Point');
      const got = (await db.query(q)).rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
      const want = (await db.query(q.replace(' FROM lp', ' FROM lpref'))).rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
      expect(got, q).toEqual(want);
      expect(got.length).toBe(7);
    }
    // The text PostgreSQL prints, compared as such (float output, -0, DateStyle, time zone).
    const all = 'SELECT DISTINCT ON (host) * FROM lp ORDER BY host, time DESC';
    expect(await text(all)).toEqual(await text(all.replace(' FROM lp', ' FROM lpref')));
  });
});

/** Scan-path tables of this session (one per hypertable scanned). */
async function scanTables(db: Orbit): Promise<number> {
  const r = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'orbit\\_scan\\_%' AND relpersistence = 't'");
  return r.rows[0]!.n;
}

// Row-returning reads: only the batches the WHERE can match are decoded and only the rows its
// pushed-down comparisons accept reach PostgreSQL; ORDER BY time LIMIT reads the newest batches.
describe('columnstore planner: scans', () => {
  let db: Orbit;
  const random = new Prng(20261126);
  const rand = () => random.next();
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE });
    await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb;
      SET timezone TO 'America/New_York';
      CREATE TABLE s (time timestamptz NOT NULL, host text, v float8, n int, b bigint, f real, d date, ok bool, tag varchar(8));
      SELECT create_hypertable('s', 'time', chunk_time_interval => INTERVAL '1 day');`);
    const values: string[] = [];
    const specials = ["'NaN'", "'Infinity'", "'-Infinity'", "'-0'", '0', 'NULL'];
    for (let i = 0; i < 5000; i++) {
      // Some equal times (ties), out of order.
      const t = `'2024-11-01 00:00:00+00'::timestamptz + ${(i * 7919 + 13) % (3 * 86400 - 1) - ((i * 7919 + 13) % 3)} * INTERVAL '1 second'`;
      const host = pick(['a', 'b', 'c', null]);
      const v = rand() < 0.08 ? pick(specials) : (rand() * 200 - 50).toFixed(3);
      const n = rand() < 0.05 ? 'NULL' : String(Math.floor(rand() * 200 - 100));
      const b = rand() < 0.05 ? 'NULL' : String(Math.floor(rand() * 1e12) - 5e11);
      const f = rand() < 0.05 ? "'NaN'" : (rand() * 10).toFixed(2);
      const d = rand() < 0.05 ? "'infinity'" : `'2024-10-${String(1 + Math.floor(rand() * 28)).padStart(2, '0')}'`;
      const ok = pick(['true', 'false', 'NULL']);
      const tag = pick(["'x'", "'y'", "'Y'", 'NULL']);
      values.push(`(${t}, ${host === null ? 'NULL' : `'${host}'`}, ${v}, ${n}, ${b}, ${f}, ${d}, ${ok}, ${tag})`);
    }
    await db.exec(`INSERT INTO s VALUES ${values.join(', ')}`);
    await db.exec('CREATE TABLE sref AS SELECT * FROM s');
    await db.exec(`ALTER TABLE s SET (timescaledb.compress, timescaledb.compress_segmentby = 'host', timescaledb.compress_orderby = 'time DESC');
      SELECT compress_chunk(c) FROM show_chunks('s', older_than => '2024-11-03 00:00+00'::timestamptz) c`);
    // Late rows: the first chunk is then part columnstore, part rowstore.
    const late = "('2024-11-01 12:00+00', 'a', 95.5, 7, 7, 1, '2024-10-02', true, 'x'), ('2024-11-01 23:59:59+00', NULL, 'NaN', NULL, 1, NULL, NULL, NULL, NULL)";
    await db.exec(`INSERT INTO s VALUES ${late}; INSERT INTO sref VALUES ${late}`);
  });
  afterAll(async () => {
    await db?.close();
  });

  const PREDICATES = [
    () => `v > ${(rand() * 150 - 20).toFixed(1)}`,
    () => `v <= ${(rand() * 150 - 20).toFixed(1)}`,
    () => pick(["v = 'NaN'", "v >= 'NaN'", "v < 'NaN'", "v = 'Infinity'", "v > '-Infinity'", "v < 'Infinity'", 'v = 0', 'v = -0.0', 'v <> 0', 'v IS NULL', 'v IS NOT NULL']),
    () => `n ${pick(['<', '<=', '>', '>=', '=', '<>'])} ${Math.floor(rand() * 200 - 100)}`,
    () => `n IN (${Math.floor(rand() * 20)}, ${Math.floor(rand() * 20)}, NULL)`,
    () => `${Math.floor(rand() * 100)} > n`,
    () => `b > ${Math.floor(rand() * 1e12) - 5e11}`,
    () => `b BETWEEN -100000000000 AND ${Math.floor(rand() * 1e12)}`,
    () => `f ${pick(['<', '>='])} ${pick(['5', '5.5', "'NaN'::real", '2.5::float8'])}`,
    () => pick(["d = 'infinity'", "d < '2024-10-10'", "d >= '2024-10-20'::date", "d > now()::date - 100000"]),
    () => pick(['ok = false', 'ok = true', 'ok <> false', 'ok IS NULL']),
    () => pick(["tag = 'y'", "tag IN ('x', 'Y')", "tag <> 'x'", 'tag IS NULL', "tag = 'y'::text"]),
    () => pick(["host = 'a'", "host IN ('b', 'c')", "host <> 'b'", 'host IS NULL', "host = 'zz'"]),
    () => `time >= '2024-11-0${1 + Math.floor(rand() * 3)} ${String(Math.floor(rand() * 24)).padStart(2, '0')}:00'`,
    () => `time < '2024-11-0${2 + Math.floor(rand() * 2)} ${String(Math.floor(rand() * 24)).padStart(2, '0')}:00'::timestamp`,
    () => `time BETWEEN '2024-11-01'::date AND now() - INTERVAL '1 day'`,
    // Conjuncts only PostgreSQL evaluates.
    () => pick(['(v > 50 OR n < 0)', 'NOT ok', 'ok', "tag > 'x'", 'f > 5.5']),
  ];

  it('answers random row-returning queries as PostgreSQL does, from the batches', async () => {
    const answer = (q: string, sorted: boolean) =>
      db.query(q).then(
        (r) => (sorted ? normalise(r).sort() : normalise(r)),
        (e: { code?: string }) => `ERROR ${e.code}`,
      );
    let scanned = 0;
    for (let i = 0; i < 120; i++) {
      // At least one comparison Orbit evaluates (with none, the cache tables serve the statement).
      const where = [pick(PREDICATES.slice(0, -1))(), ...Array.from({ length: Math.floor(rand() * 3) }, () => pick(PREDICATES)())];
      const ordered = rand() < 0.4;
      const order = ordered ? ` ORDER BY time ${pick(['DESC', 'ASC'])}, v, n, b, tag LIMIT ${Math.floor(rand() * 30)}${rand() < 0.3 ? ' OFFSET 3' : ''}` : '';
      const select = pick(['*', 'time, host, v', 'count(*)', 'host, count(*), max(v)']);
      const group = select.startsWith('host,') ? ' GROUP BY host ORDER BY host' : '';
      const q = `SELECT ${ordered ? '*' : select} FROM s WHERE ${where.join(' AND ')}${ordered ? order : group}`;
      expect(await answer(q, !ordered), q).toEqual(await answer(q.replace(' FROM s', ' FROM sref'), !ordered));
      expect(await cacheTables(db), `fell back: ${q}`).toBe(0);
      scanned++;
    }
    expect(scanned).toBe(120);
    expect(await scanTables(db)).toBe(1);
  });

  it('reads only the newest batches for ORDER BY time DESC LIMIT, as EXPLAIN shows', async () => {
    const q = "SELECT time, host, v FROM s WHERE v > 10 ORDER BY time DESC LIMIT 5";
    const plan = (await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) ${q}`)).rows.map((r) => r['QUERY PLAN']);
    expect(plan[0]).toBe('Orbit Columnstore Scan on s');
    expect(plan).toContain('  Orbit Filter: (v > 10)');
    const batches = /Batches: (\d+) \((\d+) excluded by metadata, (\d+) decoded, (\d+) not needed\)/.exec(plan.find((l) => l.includes('Batches:'))!)!;
    expect(Number(batches[3])).toBeGreaterThan(0);
    expect(Number(batches[4])).toBeGreaterThan(Number(batches[3]));
    expect(plan).toContain('PostgreSQL Plan:');
    const answer = (sql: string) => db.query(sql).then((r) => normalise(r));
    expect(await answer(q)).toEqual(await answer(q.replace(' FROM s', ' FROM sref')));
  });

  it('EXPLAIN ANALYZE shows what was read and PostgreSQL\'s run of the rest', async () => {
    const rows = (await db.query<{ 'QUERY PLAN': string }>("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT * FROM s WHERE host = 'a' AND time < '2024-11-01 20:00'")).rows.map((r) => r['QUERY PLAN']);
    expect(rows[0]).toBe('Orbit Columnstore Scan on s');
    expect(rows.some((l) => /Compressed Chunks: 2 \(1 excluded by metadata\)/.test(l))).toBe(true);
    expect(rows.some((l) => /actual rows=/.test(l))).toBe(true);
    const agg = (await db.query<{ 'QUERY PLAN': string }>("EXPLAIN (COSTS OFF) SELECT host, max(v) FROM s WHERE time >= '2024-11-01' GROUP BY host")).rows.map((r) => r['QUERY PLAN']);
    expect(agg[0]).toBe('Orbit Columnstore Aggregate on s');
    // JSON format: PostgreSQL's plan of the general path.
    const json = await db.query("EXPLAIN (FORMAT JSON) SELECT * FROM s WHERE v > 1");
    expect(JSON.stringify(json.rows[0])).not.toContain('Orbit');
  });

  it('leaves statements reading another compressed hypertable in a subquery to the general path', async () => {
    await db.exec(`CREATE TABLE o (time timestamptz NOT NULL, host text);
      SELECT create_hypertable('o', 'time');
      INSERT INTO o VALUES ('2024-01-01', 'a'), ('2024-01-02', 'b');
      ALTER TABLE o SET (timescaledb.compress);`);
    await db.exec("SELECT compress_chunk(c) FROM show_chunks('o') c");
    const q = 'SELECT count(*)::int AS n FROM s WHERE v > 10 AND host IN (SELECT host FROM o)';
    const expected = await db.query("SELECT count(*)::int AS n FROM sref WHERE v > 10 AND host IN ('a', 'b')");
    expect((await db.query(q)).rows).toEqual(expected.rows);
    expect(expected.rows[0]).not.toEqual({ n: 0 });
  });

  it('hands over only the columns a statement names, without running their defaults', async () => {
    await db.exec(`CREATE TABLE q (time timestamptz NOT NULL, id serial, v float8, w float8);
      SELECT create_hypertable('q', 'time');
      INSERT INTO q (time, v, w) SELECT '2024-01-01'::timestamptz + i * INTERVAL '1 minute', i, -i FROM generate_series(1, 3000) i;
      ALTER TABLE q SET (timescaledb.compress);`);
    await db.exec("SELECT compress_chunk(c) FROM show_chunks('q') c");
    const seq = async () => (await db.query<{ v: string }>("SELECT last_value::text AS v FROM q_id_seq")).rows[0]!.v;
    const before = await seq();
    expect((await db.query('SELECT time, v FROM q WHERE v > 2990 ORDER BY time')).rows).toHaveLength(10);
    expect((await db.query('SELECT sum(w)::int AS s FROM q WHERE v <= 10')).rows).toEqual([{ s: -55 }]);
    expect((await db.query('SELECT q.id FROM q WHERE v = 7')).rows).toEqual([{ id: 7 }]);
    expect((await db.query('SELECT q FROM q WHERE v = 7')).rows).toHaveLength(1);
    expect(await seq()).toBe(before);
    // A column added since compression: its default shows, through the general path.
    await db.exec('ALTER TABLE q ADD COLUMN extra int DEFAULT 5');
    expect((await db.query('SELECT extra, v FROM q WHERE v > 2998 ORDER BY v')).rows).toEqual([
      { extra: 5, v: 2999 },
      { extra: 5, v: 3000 },
    ]);
  });

  it('keeps PostgreSQL\'s answers inside transaction blocks and for errors', async () => {
    await db.exec('BEGIN');
    const q = "SELECT count(*)::int AS n FROM s WHERE v > 20 AND n < 0";
    const r1 = await db.query<{ n: number }>(q);
    const r2 = await db.query<{ n: number }>(q.replace(' FROM s', ' FROM sref'));
    expect(r1.rows).toEqual(r2.rows);
    await db.exec('ROLLBACK');
    await expect(db.query("SELECT * FROM s WHERE time > 'not a time'")).rejects.toMatchObject({ code: '22007' });
    expect((await db.query<{ n: number }>(q)).rows).toEqual(r2.rows);
  });
});

describe('columnstore planner: aggregates over compressed chunks alone', () => {
  let db: Orbit;

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE });
    await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb;
      CREATE TABLE w (time timestamptz NOT NULL, host text, v float8, f real, n int);
      SELECT create_hypertable('w', 'time', chunk_time_interval => INTERVAL '1 day');`);
    // Three days of rows; floats with NULLs, NaN, ±Infinity and -0 in a few hosts' batches.
    const random = new Prng(7);
    const special = ["'NaN'", "'Infinity'", "'-Infinity'", "'-0'", 'NULL'];
    const values: string[] = [];
    for (let i = 0; i < 4000; i++) {
      const host = ['a', 'b', 'c', 'd', null][i % 5];
      const odd = host === 'd' && random.next() < 0.02;
      // Three decimals: sums added in another order still round to the same 10 digits (normalise).
      const v = odd ? special[Math.floor(random.next() * special.length)]! : (random.next() * 100).toFixed(3);
      values.push(`('2024-06-01 00:00+00'::timestamptz + ${i * 60} * INTERVAL '1 second', ${host === null ? 'NULL' : `'${host}'`}, ${v}, ${(random.next() * 10).toFixed(2)}, ${Math.floor(random.next() * 100)})`);
    }
    await loadCompressed(db, 'w', values);
  });
  afterAll(async () => {
    await db?.close();
  });

  const queries = [
    "SELECT time_bucket('1 hour', time) AS hour, host, avg(v) AS mean_v, avg(f) AS mean_f, avg(n) AS mean_n FROM w WHERE time >= '2024-06-01 08:00+00' AND time < '2024-06-02 20:00+00' GROUP BY hour, host ORDER BY hour, host",
    'SELECT max(v), avg(v), min(f), avg(f), sum(n), count(*) FROM w',
    "SELECT host, avg(v), count(v), sum(v) FROM w WHERE host IN ('c', 'd') GROUP BY host ORDER BY host",
    "SELECT time_bucket('1 day', time) AS day, avg(v) FROM w GROUP BY day HAVING avg(v) > 0 ORDER BY day DESC LIMIT 2",
    // Expressions around aggregates, ORDER BY an aggregate, HAVING on count, every aggregate kind, NULL hosts.
    "SELECT host, round(avg(n), 3) AS r, max(f) - min(f) AS spread, count(*) * 2 AS twice, sum(n) AS sn, min(f) AS sf, avg(n) AS an, first(v, time) AS fv, last(n, time) AS ln, max(time) AS mt FROM w GROUP BY host HAVING count(*) > 10 ORDER BY avg(n) DESC, host NULLS FIRST",
    "SELECT host, time_bucket('6 hours', time) AS b, count(v), min(v), max(v) FROM w GROUP BY 1, 2 ORDER BY 2, 1 LIMIT 5 OFFSET 3",
    "SELECT time_bucket('30 minutes', time) AS b, host, sum(v) FROM w WHERE time BETWEEN '2024-06-02 00:00+00' AND '2024-06-02 01:00+00' AND host IN ('a', 'b') GROUP BY b, host HAVING sum(v) IS NOT NULL ORDER BY b, host",
  ];
  const answer = (q: string) => db.query(q).then((r) => normalise(r), (e: { code?: string }) => `ERROR ${e.code}`);
  const plan = async (q: string) => (await db.query<Record<string, string>>(`EXPLAIN (COSTS OFF) ${q}`)).rows.map((r) => Object.values(r)[0]!).join('\n');

  it('leave the rowstore out of the final statement while it has no rows the WHERE keeps, and answer as PostgreSQL', async () => {
    for (const q of queries) {
      expect(await answer(q), q).toEqual(await answer(q.replace(' FROM w', ' FROM wref')));
      expect(await cacheTables(db), `fell back: ${q}`).toBe(0);
      const p = await plan(q);
      expect(p, q).toContain('Function Scan on unnest');
      expect(p, q).not.toMatch(/_hyper_\d+_\d+_chunk/);
      // One partial row per group (text keys under the default, deterministic collation): no aggregation left.
      if (/GROUP BY/.test(q)) expect(p, q).not.toMatch(/Aggregate\n/);
    }
  });

  it('send equal partial columns once (the counts of two averages over the same rows)', async () => {
    const q = "SELECT time_bucket('1 hour', time) AS hour, host, avg(v) AS av, avg(f) AS af FROM w WHERE host IN ('a', 'b') GROUP BY hour, host ORDER BY hour, host";
    expect(await answer(q), q).toEqual(await answer(q.replace(' FROM w', ' FROM wref')));
    const verbose = (await db.query<Record<string, string>>(`EXPLAIN (VERBOSE, COSTS OFF) ${q}`)).rows.map((r) => Object.values(r)[0]!).join('\n');
    // Six partial columns (hour, host, two sums, two counts): five arrays.
    expect(verbose.match(/unnest\('/g)?.length, verbose).toBe(5);
  });

  it('keep the rowstore in the statement for group columns of another collation (a nondeterministic one here)', async () => {
    await db.exec(`CREATE COLLATION ci (provider = icu, locale = '@colStrength=secondary', deterministic = false);
      CREATE TABLE wc (time timestamptz NOT NULL, host text COLLATE ci, v float8);
      SELECT create_hypertable('wc', 'time', chunk_time_interval => INTERVAL '1 day');`);
    const rows = `SELECT '2024-06-01 00:00+00'::timestamptz + i * INTERVAL '1 minute', CASE i % 3 WHEN 0 THEN 'A' WHEN 1 THEN 'a' ELSE 'b' END, i FROM generate_series(0, 2999) i`;
    await db.exec(`INSERT INTO wc ${rows}`);
    await db.exec(`CREATE TABLE wcref (time timestamptz NOT NULL, host text COLLATE ci, v float8); INSERT INTO wcref ${rows}`);
    await db.exec(`ALTER TABLE wc SET (timescaledb.compress, timescaledb.compress_segmentby = 'host');
      SELECT compress_chunk(c) FROM show_chunks('wc') c`);
    const q = 'SELECT lower(host) AS h, count(*), avg(v) FROM wc GROUP BY host ORDER BY 1';
    const got = await answer(q);
    expect(got).toEqual(await answer(q.replace(' FROM wc', ' FROM wcref')));
    // 'A' and 'a' are one group (2,000 rows); the kernels see them as two segments.
    expect(got).toEqual(['["a",2000,1499]', '["b",1000,1500.5]']);
    // The kernels answered, merged with the rowstore's partials (whose column brings the collation).
    expect(await cacheTables(db)).toBe(0);
    expect(await plan(q)).toMatch(/_hyper_\d+_\d+_chunk/);
  });

  it('merge the rowstore again once it has such rows, in a transaction block too', async () => {
    // Rows every query's WHERE keeps.
    const late = "('2024-06-01 09:30+00', 'c', 1000.5, 1, 1), ('2024-06-02 10:00+00', 'd', NULL, NULL, NULL), ('2024-06-02 00:30+00', 'a', 5.5, 2, 2)";
    await db.exec('BEGIN');
    await db.exec(`INSERT INTO w VALUES ${late}; INSERT INTO wref VALUES ${late}`);
    for (const q of queries) {
      expect(await answer(q), q).toEqual(await answer(q.replace(' FROM w', ' FROM wref')));
      expect(await plan(q), q).toMatch(/_hyper_\d+_\d+_chunk/);
    }
    await db.exec('ROLLBACK');
    for (const q of queries) {
      expect(await answer(q), q).toEqual(await answer(q.replace(' FROM w', ' FROM wref')));
      expect(await plan(q), q).not.toMatch(/_hyper_\d+_\d+_chunk/);
    }
  });
});
