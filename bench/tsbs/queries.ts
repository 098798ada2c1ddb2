/**
 * @module bench/tsbs/queries
 * The nine TSBS "cpu-only" query types, over the generated data (bench/data/cpu-csv.ts: 100 hosts,
 * one row per host every 10 s from CPU_START), in three dialects: TimescaleDB (Orbit, a TimescaleDB
 * URL), plain PostgreSQL (plain PGlite: `date_bin`/`date_trunc` for `time_bucket`, same results since
 * widths under a month align to 2000-01-03 either way) and DuckDB (native `time_bucket` on a TIMESTAMP
 * column: DuckDB-WASM cannot load ICU offline, research/perf_anchors.md pitfall 1; all data is UTC).
 * Windows and hosts are fixed by a seed, so every engine runs exactly the same queries; other seeds
 * give other instances of each query (TSBS draws a new window and hosts for every query it sends).
 */
import { CPU_START, rng } from '../data/cpu-csv.js';

export type Dialect = 'timescaledb' | 'postgres' | 'duckdb';

export interface TsbsQuery {
  readonly name: string;
  /** The SQL in each dialect. */
  readonly sql: Readonly<Record<Dialect, string>>;
  /** The result has no total order: compare as sorted rows. */
  readonly unordered?: boolean;
}

const METRICS = ['usage_user', 'usage_system', 'usage_idle', 'usage_nice', 'usage_iowait', 'usage_irq', 'usage_softirq', 'usage_steal', 'usage_guest', 'usage_guest_nice'];
const HOUR = 3_600_000;

/** The seed of the query set a bench compares rows on (the one every earlier figure was measured on). */
export const TSBS_QUERY_SEED = 7;

/**
 * The query set for a data set of `hours` hours (at least 24: the windows fall inside it); another
 * `seed` gives other windows and hosts (lastpoint and full-scan-agg have none: always the same).
 */
export function tsbsQueries(hours: number, seed = TSBS_QUERY_SEED): TsbsQuery[] {
  const rand = rng(seed);
  const host = () => `host_${Math.floor(rand() * 100)}`;
  const hosts = (n: number) => {
    const set = new Set<string>();
    while (set.size < n) set.add(host());
    return [...set].map((h) => `'${h}'`).join(', ');
  };
  // A window of `h` hours starting at a whole hour inside the data.
  const window = (h: number) => {
    const start = CPU_START + Math.floor(rand() * Math.max(1, hours - h)) * HOUR;
    return { from: iso(start), to: iso(start + h * HOUR) };
  };
  const minute = {
    timescaledb: "time_bucket('1 minute', time)",
    postgres: "date_bin('1 minute', time, TIMESTAMPTZ '2000-01-03 00:00:00+00')",
    duckdb: "time_bucket(INTERVAL '1 minute', time)",
  };
  const hour = { timescaledb: "time_bucket('1 hour', time)", postgres: "date_trunc('hour', time)", duckdb: "time_bucket(INTERVAL '1 hour', time)" };
  const ts = { timescaledb: (t: string) => `'${t}'`, postgres: (t: string) => `'${t}'`, duckdb: (t: string) => `TIMESTAMP '${t.replace('T', ' ').replace('Z', '')}'` };
  const each = (f: (d: Dialect) => string): Record<Dialect, string> => ({ timescaledb: f('timescaledb'), postgres: f('postgres'), duckdb: f('duckdb') });

  const w1 = window(1);
  const h1 = hosts(1);
  const w2 = window(1);
  const h8a = hosts(8);
  const w8 = window(8);
  const h8b = hosts(8);
  const w12a = window(12);
  const w12b = window(12);
  const w12c = window(12);
  // The default set ends groupby-orderby-limit mid-data; other seeds anywhere in its later three quarters.
  const limitEnd = iso(CPU_START + (seed === TSBS_QUERY_SEED ? Math.floor(hours / 2) : Math.floor(hours / 4 + (rand() * hours * 3) / 4)) * HOUR);
  return [
    {
      name: 'single-groupby-1-1-1',
      sql: each((d) => `SELECT ${minute[d]} AS minute, max(usage_user) AS max_usage_user FROM cpu
        WHERE hostname IN (${h1}) AND time >= ${ts[d](w1.from)} AND time < ${ts[d](w1.to)} GROUP BY minute ORDER BY minute`),
    },
    {
      name: 'single-groupby-5-8-1',
      sql: each((d) => `SELECT ${minute[d]} AS minute, ${METRICS.slice(0, 5).map((m) => `max(${m}) AS max_${m}`).join(', ')} FROM cpu
        WHERE hostname IN (${h8a}) AND time >= ${ts[d](w2.from)} AND time < ${ts[d](w2.to)} GROUP BY minute ORDER BY minute`),
    },
    {
      name: 'cpu-max-all-8',
      sql: each((d) => `SELECT ${hour[d]} AS hour, ${METRICS.map((m) => `max(${m}) AS max_${m}`).join(', ')} FROM cpu
        WHERE hostname IN (${h8b}) AND time >= ${ts[d](w8.from)} AND time < ${ts[d](w8.to)} GROUP BY hour ORDER BY hour`),
    },
    {
      name: 'double-groupby-1',
      sql: each((d) => `SELECT ${hour[d]} AS hour, hostname, avg(usage_user) AS mean_usage_user FROM cpu
        WHERE time >= ${ts[d](w12a.from)} AND time < ${ts[d](w12a.to)} GROUP BY hour, hostname ORDER BY hour, hostname`),
    },
    {
      name: 'double-groupby-all',
      sql: each((d) => `SELECT ${hour[d]} AS hour, hostname, ${METRICS.map((m) => `avg(${m}) AS mean_${m}`).join(', ')} FROM cpu
        WHERE time >= ${ts[d](w12b.from)} AND time < ${ts[d](w12b.to)} GROUP BY hour, hostname ORDER BY hour, hostname`),
    },
    {
      name: 'high-cpu-all',
      sql: each((d) => `SELECT * FROM cpu WHERE usage_user > 90.0 AND time >= ${ts[d](w12c.from)} AND time < ${ts[d](w12c.to)}`),
      unordered: true,
    },
    {
      name: 'lastpoint',
      sql: each(() => 'SELECT DISTINCT ON (hostname) * FROM cpu ORDER BY hostname, time DESC'),
    },
    {
      name: 'groupby-orderby-limit',
      sql: each((d) => `SELECT ${minute[d]} AS minute, max(usage_user) AS max_usage_user FROM cpu
        WHERE time < ${ts[d](limitEnd)} GROUP BY minute ORDER BY minute DESC LIMIT 5`),
    },
    {
      name: 'full-scan-agg',
      sql: each(() => `SELECT ${METRICS.map((m) => `max(${m}) AS max_${m}, avg(${m}) AS avg_${m}`).join(', ')}, count(*) AS n FROM cpu`),
    },
  ];
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
