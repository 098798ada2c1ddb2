/**
 * @module bench/suites/time-functions
 * Orbit's time-series functions against the same questions in plain PostgreSQL (issue "time-series
 * analytics"): a TSBS-style cpu table, 100 hosts every 10 s, loaded identically into
 *
 * - `orbit`: Orbit in-process on files, hypertable `cpu` with 12-hour chunks, queried with
 *   time_bucket, time_bucket_gapfill + locf, first/last and histogram;
 * - `orbit-plain`: the same Orbit database queried with the plain-SQL forms (so the ratio
 *   orbit / orbit-plain is the cost of the functions alone, orbit-plain / pglite that of the
 *   hypertable and Orbit's SQL layer);
 * - `pglite`: plain PGlite on files, an ordinary table with the same columns and the same
 *   `(time DESC)` index, queried with date_bin, generate_series and window functions.
 *
 * Orbit's in-process API has no COPY-from-Blob, so both databases get their rows from one identical
 * `INSERT … SELECT … FROM generate_series` with values from hashes of the row number. Every query
 * pair is checked to return the same rows before anything is timed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { openOrbit } from '../../src/runtime/node.js';
import { CPU_TABLE_SQL } from '../data/cpu-csv.js';

const TEMPLATE = 'dist/pgdata-template.tar.gz';
const HOSTS = 100;
const ROWS_PER_HOUR = HOSTS * 360; // one row per host every 10 s
const START_MS = Date.UTC(2024, 0, 1);
/** Hosts queried by the gap-filled query; they are also the ones with missing hours. */
const GAP_HOSTS = ['host_0', 'host_1', 'host_2', 'host_3', 'host_4'];

export type SystemName = 'orbit' | 'orbit-plain' | 'pglite';

export interface Timing {
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly minMs: number;
  readonly samplesMs: readonly number[];
}

export interface QueryResultSummary {
  readonly id: string;
  readonly title: string;
  /** Rows the query's WHERE selects (the rows its aggregates read). */
  readonly touchedRows: number;
  readonly resultRows: number;
  readonly orbitSql: string;
  readonly plainSql: string;
  readonly timings: Readonly<Record<SystemName, Timing>>;
  /** orbit median / pglite median: below 1 Orbit is faster. */
  readonly ratio: number;
  /** Other plain formulations on plain PGlite, with orbit median / their median. */
  readonly alternatives: readonly { readonly name: string; readonly sql: string; readonly timing: Timing; readonly ratio: number }[];
}

export interface TimeFunctionsResult {
  readonly generatedRows: number;
  readonly storedRows: number;
  readonly window: { readonly start: string; readonly end: string };
  readonly warmup: number;
  readonly runs: number;
  readonly loadMs: Readonly<Record<'orbit' | 'pglite', number>>;
  readonly analyzeMs: Readonly<Record<'orbit' | 'pglite', number>>;
  /** 1-minute load averages when the loads ended and when the last query ended (2 cores shared). */
  readonly loadAverage: { readonly afterLoad: number; readonly atEnd: number };
  /** Resident memory of this process (both databases) after the loads. */
  readonly rssAfterLoadMb: number;
  readonly queries: readonly QueryResultSummary[];
}

interface Db {
  query<Row = Record<string, unknown>>(sql: string): Promise<{ rows: Row[] }>;
  exec(sql: string): Promise<unknown>;
}

/** A deterministic float in [0, 100) per (row, metric): PostgreSQL's int8 hash, shifted and scaled. */
const metric = (k: number): string => `(hashint8(i * 10 + ${k})::float8 + 2147483648) / 42949672.96`;

/**
 * The load statement, identical for both databases. Hosts 0-4 skip some hours (host h skips hour n
 * when (n / (h + 1)) % 3 = 0: gaps of 1 to 5 hours) so that the gap-filled query has gaps to fill.
 */
function insertSql(rows: number): string {
  const metrics = Array.from({ length: 10 }, (_, k) => metric(k)).join(',\n    ');
  return `INSERT INTO cpu
  SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00' + (i / ${HOSTS}) * INTERVAL '10 seconds',
    'host_' || h,
    (ARRAY['us-east-1','us-west-1','eu-west-1','eu-central-1','ap-northeast-1'])[h % 5 + 1],
    (ARRAY['us-east-1','us-west-1','eu-west-1','eu-central-1','ap-northeast-1'])[h % 5 + 1] || substr('abc', h % 3 + 1, 1),
    (h % 100)::text, (ARRAY['Ubuntu16.04LTS','Ubuntu15.10','Ubuntu16.10'])[h % 3 + 1], (ARRAY['x64','x86'])[h % 2 + 1],
    'team_' || (h % 7), (h % 20)::text, (h % 2)::text,
    ${metrics}
  FROM (SELECT i, (i % ${HOSTS})::int AS h FROM generate_series(0::bigint, ${rows - 1}::bigint) i) s
  WHERE NOT (h < ${GAP_HOSTS.length} AND ((i / ${ROWS_PER_HOUR}) / (h + 1)) % 3 = 0)`;
}

/** Another plain-SQL formulation of a query, timed on plain PGlite only. */
interface Alternative {
  readonly name: string;
  readonly sql: string;
}

interface QueryPair {
  readonly id: string;
  readonly title: string;
  readonly orbit: string;
  readonly plain: string;
  /** WHERE clause selecting the rows the query reads, to count them. */
  readonly where: string;
  readonly alternatives?: readonly Alternative[];
}

/** The TSBS-like queries over `[start, end)`, in Orbit's and in plain PostgreSQL's words. */
function queryPairs(start: string, end: string): QueryPair[] {
  const s = `TIMESTAMPTZ '${start}'`;
  const e = `TIMESTAMPTZ '${end}'`;
  const window = `time >= ${s} AND time < ${e}`;
  const hosts = `hostname IN (${GAP_HOSTS.map((h) => `'${h}'`).join(', ')})`;
  // date_bin from time_bucket's default origin (a Monday) gives the same buckets.
  const bin = "date_bin('1 hour', time, TIMESTAMPTZ '2000-01-03 00:00:00+00')";
  return [
    {
      id: 'bucket-max-avg',
      title: '1. hourly max + avg per host, 12 h',
      orbit: `SELECT time_bucket('1 hour', time) AS bucket, hostname, max(usage_user) AS max_user, avg(usage_user) AS avg_user
FROM cpu WHERE ${window} GROUP BY 1, 2 ORDER BY 1, 2`,
      plain: `SELECT ${bin} AS bucket, hostname, max(usage_user) AS max_user, avg(usage_user) AS avg_user
FROM cpu WHERE ${window} GROUP BY 1, 2 ORDER BY 1, 2`,
      where: window,
    },
    {
      id: 'gapfill-locf',
      title: `2. gap-filled hourly avg + locf, ${GAP_HOSTS.length} hosts, 12 h`,
      orbit: `SELECT time_bucket_gapfill('1 hour', time, ${s}, ${e}) AS bucket, hostname, locf(avg(usage_user)) AS avg_user
FROM cpu WHERE ${hosts} AND ${window} GROUP BY 1, 2 ORDER BY 2, 1`,
      // Every bucket × every host seen, the aggregate joined on; locf by the count trick: count(v)
      // only grows on non-NULL rows, so it numbers each run of a value and the NULLs after it.
      plain: `WITH agg AS (
  SELECT ${bin} AS bucket, hostname, avg(usage_user) AS v
  FROM cpu WHERE ${hosts} AND ${window} GROUP BY 1, 2),
grid AS (
  SELECT b AS bucket, h.hostname
  FROM generate_series(${s}, ${e} - INTERVAL '1 microsecond', INTERVAL '1 hour') b
  CROSS JOIN (SELECT DISTINCT hostname FROM agg) h),
filled AS (
  SELECT g.bucket, g.hostname, a.v, count(a.v) OVER (PARTITION BY g.hostname ORDER BY g.bucket) AS run
  FROM grid g LEFT JOIN agg a ON a.bucket = g.bucket AND a.hostname = g.hostname)
SELECT bucket, hostname, first_value(v) OVER (PARTITION BY hostname, run ORDER BY bucket) AS avg_user
FROM filled ORDER BY 2, 1`,
      where: `${hosts} AND ${window}`,
    },
    {
      id: 'first-last',
      title: '3. first + last usage_user per host, 12 h',
      orbit: `SELECT hostname, first(usage_user, time) AS first_user, last(usage_user, time) AS last_user
FROM cpu WHERE ${window} GROUP BY hostname ORDER BY hostname`,
      plain: firstLastPlain(window),
      alternatives: firstLastAlternatives(window),
      where: window,
    },
    {
      id: 'histogram',
      title: '4. histogram(usage_user, 0, 100, 10) per host, 12 h',
      orbit: `SELECT hostname, histogram(usage_user, 0, 100, 10) AS hist
FROM cpu WHERE ${window} GROUP BY hostname ORDER BY hostname`,
      // width_bucket is what histogram counts by; buckets 0 and 11 hold values below/above the range.
      plain: `WITH c AS (
  SELECT hostname, width_bucket(usage_user, 0, 100, 10) AS b, count(*)::int AS n
  FROM cpu WHERE ${window} GROUP BY 1, 2)
SELECT h.hostname, array_agg(coalesce(c.n, 0) ORDER BY g.b) AS hist
FROM (SELECT DISTINCT hostname FROM c) h CROSS JOIN generate_series(0, 11) g(b)
LEFT JOIN c ON c.hostname = h.hostname AND c.b = g.b
GROUP BY h.hostname ORDER BY h.hostname`,
      where: window,
    },
  ];
}

/**
 * first/last in plain SQL. The fastest plain form measured: the hosts seen in the window, then per
 * host one probe of the `(time DESC)` index from each end of the window (`ORDER BY time LIMIT 1`),
 * which reads about one row per host per 10 s step rather than sorting the window.
 */
function firstLastPlain(window: string): string {
  return `SELECT h.hostname, f.usage_user AS first_user, l.usage_user AS last_user
FROM (SELECT DISTINCT hostname FROM cpu WHERE ${window}) h,
LATERAL (SELECT usage_user FROM cpu c WHERE c.hostname = h.hostname AND ${window} ORDER BY time LIMIT 1) f,
LATERAL (SELECT usage_user FROM cpu c WHERE c.hostname = h.hostname AND ${window} ORDER BY time DESC LIMIT 1) l
ORDER BY h.hostname`;
}

/** Other plain first/last forms, timed on plain PGlite only: the ones that do not rely on an index. */
function firstLastAlternatives(window: string): Alternative[] {
  return [
    {
      name: 'array_agg',
      sql: `SELECT hostname, (array_agg(usage_user ORDER BY time))[1] AS first_user, (array_agg(usage_user ORDER BY time DESC))[1] AS last_user
FROM cpu WHERE ${window} GROUP BY hostname ORDER BY hostname`,
    },
    {
      name: 'first_value/last_value window',
      sql: `SELECT DISTINCT hostname, first_value(usage_user) OVER w AS first_user, last_value(usage_user) OVER w AS last_user
FROM cpu WHERE ${window}
WINDOW w AS (PARTITION BY hostname ORDER BY time ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
ORDER BY hostname`,
    },
    {
      name: 'DISTINCT ON, twice',
      sql: `SELECT f.hostname, f.usage_user AS first_user, l.usage_user AS last_user
FROM (SELECT DISTINCT ON (hostname) hostname, usage_user FROM cpu WHERE ${window} ORDER BY hostname, time) f
JOIN (SELECT DISTINCT ON (hostname) hostname, usage_user FROM cpu WHERE ${window} ORDER BY hostname, time DESC) l USING (hostname)
ORDER BY f.hostname`,
    },
  ];
}

/**
 * Rows as tuples (Dates as epoch ms) sorted by everything but their fractional numbers, which
 * may differ in the last bits (an avg summed in another order) and are compared with a tolerance.
 */
function normalise(rows: Record<string, unknown>[]): unknown[][] {
  const tuples = rows.map((r) => Object.values(r).map((v) => (v instanceof Date ? v.getTime() : v)));
  const key = (t: unknown[]): string => t.map((v) => (typeof v === 'number' && !Number.isInteger(v) ? '' : JSON.stringify(v))).join('|');
  return tuples.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  return a === b;
}

/** Throws unless both results hold the same rows (order ignored, floats within 1e-9 relative). */
function assertSameRows(id: string, orbit: Record<string, unknown>[], plain: Record<string, unknown>[]): void {
  const a = normalise(orbit);
  const b = normalise(plain);
  if (a.length !== b.length) throw new Error(`${id}: Orbit returned ${a.length} rows, plain PostgreSQL ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    const ra = a[i]!;
    const rb = b[i]!;
    if (ra.length !== rb.length || !ra.every((v, j) => sameValue(v, rb[j]))) {
      throw new Error(`${id}: row ${i} differs: Orbit ${JSON.stringify(ra)} vs plain ${JSON.stringify(rb)}`);
    }
  }
}

function summarise(samples: number[]): Timing {
  const sorted = [...samples].sort((x, y) => x - y);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { medianMs: median(sorted), p90Ms: at(0.9), minMs: sorted[0]!, samplesMs: samples };
}

function median(sorted: number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await fn();
  return [value, performance.now() - t0];
}

export interface TimeFunctionsOptions {
  readonly rows: number;
  readonly warmup: number;
  readonly runs: number;
  readonly log?: (line: string) => void;
}

export async function runTimeFunctions(options: TimeFunctionsOptions): Promise<TimeFunctionsResult> {
  const { rows, warmup, runs } = options;
  const log = options.log ?? (() => undefined);
  const hours = Math.ceil(rows / ROWS_PER_HOUR);
  if (hours < 12) throw new Error(`--rows ${rows} covers under 12 hours; use at least ${12 * ROWS_PER_HOUR}`);
  // Twelve whole hours in the middle of the data.
  const startHour = Math.floor((hours - 12) / 2);
  const iso = (h: number): string => new Date(START_MS + h * 3_600_000).toISOString().replace('T', ' ').replace('.000Z', '+00');
  const window = { start: iso(startHour), end: iso(startHour + 12) };

  const orbitDir = mkdtempSync(join(tmpdir(), 'orbit-bench-tf-orbit-'));
  const pgliteDir = mkdtempSync(join(tmpdir(), 'orbit-bench-tf-pglite-'));
  const orbit = await openOrbit({ dataDir: orbitDir, templatePath: TEMPLATE });
  const pglite = await PGlite.create(pgliteDir, { loadDataDir: new Blob([readFileSync(TEMPLATE)]) });
  try {
    await orbit.exec(`SET TimeZone = 'UTC';
      CREATE EXTENSION IF NOT EXISTS timescaledb;
      ${CPU_TABLE_SQL};
      SELECT create_hypertable('cpu', by_range('time', INTERVAL '12 hours'));`);
    await orbit.query(
      `SELECT _timescaledb_functions.create_chunks_for_range('cpu', TIMESTAMPTZ '2024-01-01 00:00:00+00',
        TIMESTAMPTZ '2024-01-01 00:00:00+00' + ${Math.ceil(rows / HOSTS) - 1} * INTERVAL '10 seconds')`,
    );
    // create_hypertable's default index, made by hand for the plain table.
    await pglite.exec(`SET TimeZone = 'UTC'; ${CPU_TABLE_SQL}; CREATE INDEX cpu_time_idx ON cpu (time DESC);`);

    const dbs: Record<'orbit' | 'pglite', Db> = { orbit, pglite };
    const loadMs = { orbit: 0, pglite: 0 };
    const analyzeMs = { orbit: 0, pglite: 0 };
    for (const name of ['pglite', 'orbit'] as const) {
      loadMs[name] = (await timed(() => dbs[name].exec(insertSql(rows))))[1];
      analyzeMs[name] = (await timed(() => dbs[name].exec('ANALYZE cpu')))[1];
      log(`${name.padEnd(6)} load ${(loadMs[name] / 1000).toFixed(1)} s, ANALYZE ${(analyzeMs[name] / 1000).toFixed(1)} s`);
    }
    const storedRows: Record<string, number> = {};
    for (const name of ['pglite', 'orbit'] as const) {
      storedRows[name] = (await dbs[name].query<{ n: number }>('SELECT count(*)::int AS n FROM cpu')).rows[0]!.n;
    }
    if (storedRows.orbit !== storedRows.pglite) throw new Error(`row counts differ: ${JSON.stringify(storedRows)}`);
    const chunks = (await orbit.query<{ n: number }>("SELECT count(*)::int AS n FROM show_chunks('cpu')")).rows[0]!.n;
    const inDefault = (await orbit.query<{ n: number }>('SELECT count(*)::int AS n FROM _timescaledb_internal._hyper_1_default')).rows[0]!.n;
    if (inDefault !== 0) throw new Error(`${inDefault} rows in the default partition: the chunks were not pre-created`);
    const rssAfterLoadMb = process.memoryUsage().rss / 2 ** 20;
    const afterLoad = loadavg()[0]!;
    log(`${storedRows.orbit} rows (${rows} generated, the rest are gaps), ${chunks} chunks; window ${window.start} .. ${window.end}; RSS ${rssAfterLoadMb.toFixed(0)} MB`);

    const pairs = queryPairs(window.start, window.end);
    const systems: Record<SystemName, (q: QueryPair) => Promise<unknown[]>> = {
      orbit: async (q) => (await orbit.query(q.orbit)).rows,
      'orbit-plain': async (q) => (await orbit.query(q.plain)).rows,
      pglite: async (q) => (await pglite.query(q.plain)).rows,
    };
    const queries: QueryResultSummary[] = [];
    for (const q of pairs) {
      const touched = await Promise.all([orbit, pglite].map(async (db) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM cpu WHERE ${q.where}`)).rows[0]!.n));
      if (touched[0] !== touched[1]) throw new Error(`${q.id}: the WHERE selects ${touched[0]} rows in Orbit, ${touched[1]} in PGlite`);
      const alternatives = q.alternatives ?? [];
      // Everything timed for this query, by name: the three systems, then the alternatives.
      const runners = new Map<string, () => Promise<unknown[]>>();
      for (const name of Object.keys(systems) as SystemName[]) runners.set(name, () => systems[name](q));
      for (const alt of alternatives) runners.set(`alt:${alt.name}`, async () => (await pglite.query(alt.sql)).rows);
      // The first run of each is the correctness check, and counts as a warm-up.
      const first = new Map<string, Record<string, unknown>[]>();
      for (const [name, run] of runners) first.set(name, (await run()) as Record<string, unknown>[]);
      const reference = first.get('pglite')!;
      for (const [name, rowsOf] of first) if (name !== 'pglite') assertSameRows(`${q.id} (${name})`, rowsOf, reference);
      for (let i = 1; i < warmup; i++) for (const run of runners.values()) await run();
      const names = [...runners.keys()];
      const samples = new Map<string, number[]>(names.map((n) => [n, []]));
      for (let r = 0; r < runs; r++) {
        // Rotate who goes first, so that no one always runs right after the same neighbour.
        for (let k = 0; k < names.length; k++) {
          const name = names[(r + k) % names.length]!;
          samples.get(name)!.push((await timed(runners.get(name)!))[1]);
        }
      }
      const timing = (name: string): Timing => summarise(samples.get(name)!);
      const timings = { orbit: timing('orbit'), 'orbit-plain': timing('orbit-plain'), pglite: timing('pglite') };
      const summary: QueryResultSummary = {
        id: q.id,
        title: q.title,
        touchedRows: touched[0]!,
        resultRows: reference.length,
        orbitSql: q.orbit,
        plainSql: q.plain,
        timings,
        ratio: timings.orbit.medianMs / timings.pglite.medianMs,
        alternatives: alternatives.map((a) => {
          const t = timing(`alt:${a.name}`);
          return { name: a.name, sql: a.sql, timing: t, ratio: timings.orbit.medianMs / t.medianMs };
        }),
      };
      queries.push(summary);
      for (const line of formatRow(summary)) log(line);
    }
    const loadAverage = { afterLoad, atEnd: loadavg()[0]! };
    return { generatedRows: rows, storedRows: storedRows.orbit!, window, warmup, runs, loadMs, analyzeMs, loadAverage, rssAfterLoadMb, queries };
  } finally {
    await orbit.close();
    await pglite.close();
    rmSync(orbitDir, { recursive: true, force: true });
    rmSync(pgliteDir, { recursive: true, force: true });
  }
}

export const TABLE_HEADER =
  'query                                              touched  result   orbit med/p90 ms   orbit-plain med/p90   pglite med/p90   orbit/pglite';

/** The printed table's lines for one query: the comparison, then one per plain alternative. */
export function formatRow(q: QueryResultSummary): string[] {
  const t = (x: Timing): string => `${x.medianMs.toFixed(0).padStart(6)} / ${x.p90Ms.toFixed(0).padEnd(6)}`;
  // Within 5% is below this machine's noise.
  const verdict = (ratio: number): string => (ratio < 0.95 ? 'Orbit faster' : ratio > 1.05 ? 'plain faster' : 'even');
  const lines = [
    `${q.title.padEnd(50)} ${String(q.touchedRows).padStart(7)} ${String(q.resultRows).padStart(7)}  ${t(q.timings.orbit)}   ${t(q.timings['orbit-plain'])}   ${t(q.timings.pglite)}  ${q.ratio.toFixed(2).padStart(6)}× (${verdict(q.ratio)})`,
  ];
  for (const a of q.alternatives) {
    lines.push(`${`   plain alternative: ${a.name}`.padEnd(50)} ${''.padStart(7)} ${''.padStart(7)}  ${''.padEnd(17)}   ${''.padEnd(17)}   ${t(a.timing)}  ${a.ratio.toFixed(2).padStart(6)}× (${verdict(a.ratio)})`);
  }
  return lines;
}
