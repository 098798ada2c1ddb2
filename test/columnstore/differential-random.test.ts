// Differential test of Orbit's whole read path on random data and random queries: a hypertable
// written the way users write one (direct COPY into batches, late rows into chunks that already
// have batches, single-row INSERTs into the rowstore, sometimes compress_chunk on top, DELETE and
// UPDATE between queries) against the same rows in a plain table that PostgreSQL answers alone.
// The queries mix what the planner accelerates (aggregates by bucket and key, scans, last points,
// ordered LIMITs, bucket limits) with what it hands to PostgreSQL (joins, windows, CTEs, gapfill,
// UNION), in-process and over TCP as text under random DateStyle / TimeZone / extra_float_digits /
// IntervalStyle, with literals or bound parameters. The rows span five weeks, so every zone used
// (Berlin, New York, Lord Howe) changes its offset inside the data. Values are multiples of 1/8
// (floats) and 1/4 (reals), of 2^297 (x: large magnitudes the kernels still take) or rare specials
// (NaN, ±Infinity, -0, 1e300: PostgreSQL's overflow checks; never ±Infinity and large finite values
// in one column, where PostgreSQL's own answer depends on its row order), so sums in any order are
// exact and every answer — rows or error — must match PostgreSQL's exactly. Queries whose shape
// the planner takes (kernels, scan, last point) must take it: Columnstore's fast-path entry points
// report what ran.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit } from '../../src/orbit.js';
import { pathTracker, type Path } from '../support/fast-paths.js';
import { Prng } from '../support/prng.js';
import { startTestServer, TEMPLATE, type TestServer } from '../support/server.js';

const COLUMNS = 'time timestamptz NOT NULL, host text, dc text, v float8, n int, b bigint, f real, ok bool, x float8';
/** What takes a WHERE conjunct: the aggregate kernels, a scan (evaluates it), the last point. */
interface Flags {
  readonly agg: boolean;
  readonly scan: boolean;
  readonly last?: boolean;
}

const HOSTS = ['h0', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7', ''];
const START = Date.parse('2024-03-08T00:00:00Z');
/** Five weeks: New York's DST change (Mar 10), Berlin's (Mar 31) and Lord Howe's (Apr 7) inside. */
const SPAN_S = 35 * 86400;
/** x's step: sums of multiples of it stay exact, and its values stay below the kernels' 1e130. */
const X_STEP = 2 ** 297;

/** Runs a statement: rows as JS values (in-process) or as PostgreSQL's text (a pg client's). */
type Run = (sql: string, params?: readonly string[]) => Promise<{ rows: Array<Record<string, unknown>>; affectedRows?: number | null; rowCount?: number | null }>;

class Generator {
  private readonly random: Prng;
  private readonly usedTimes = new Set<number>();
  /** Bound parameters of the query being made (none when literals are used). */
  params: string[] = [];
  useParams = false;
  /** Aggregates with parameters take the kernels (at Bind: wire clients; not the in-process API's parameters). */
  paramsFast = false;

  constructor(
    seed: number,
    readonly zone: string,
  ) {
    this.random = new Prng(seed);
  }

  rand(): number {
    return this.random.next();
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rand() * xs.length)]!;
  }
  int(a: number, b: number): number {
    return a + Math.floor(this.rand() * (b - a + 1));
  }

  /** COPY text rows: distinct times (first/last and DISTINCT ON pick among ties by scan order), NULLs, NaN/±Infinity/-0. */
  rows(count: number): string {
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      let ms: number;
      do ms = START + this.int(0, SPAN_S) * 1000 + (this.rand() < 0.1 ? this.int(0, 999) : 0);
      while (this.usedTimes.has(ms));
      this.usedTimes.add(ms);
      const special = this.rand() < 0.01;
      out.push(
        [
          new Date(ms).toISOString(),
          this.rand() < 0.04 ? '\\N' : this.pick(HOSTS),
          this.rand() < 0.1 ? '\\N' : `dc${this.int(0, 2)}`,
          this.rand() < 0.05 ? '\\N' : special ? this.pick(['NaN', 'Infinity', '-Infinity', '-0', '1e10', '5e-324']) : String(this.int(-80, 320) / 8),
          this.rand() < 0.05 ? '\\N' : String(this.int(-1000, 1000)),
          this.rand() < 0.02 ? this.pick(['9223372036854775807', '-9223372036854775808', '\\N']) : String(this.int(0, 1e12)),
          this.rand() < 0.05 ? '\\N' : String(this.int(0, 40) / 4),
          this.rand() < 0.1 ? '\\N' : this.rand() < 0.5 ? 't' : 'f',
          this.rand() < 0.05 ? '\\N' : this.rand() < 0.01 ? this.pick(['-0', '1e300']) : String((this.int(-80, 320) / 8) * X_STEP),
        ].join('\t'),
      );
    }
    return out.join('\n') + '\n';
  }

  private time(): string {
    const s = new Date(START + this.int(-3600, SPAN_S + 3600) * 1000).toISOString().replace('T', ' ').replace('.000Z', '');
    if (this.useParams && this.rand() < 0.8) {
      this.params.push(this.pick([`${s}+00`, s]));
      return this.pick([`$${this.params.length}`, `$${this.params.length}::timestamptz`]);
    }
    return this.pick([`'${s}+00'`, `'${s}'`, `'${s}+00'::timestamptz`, `'${s.slice(0, 10)}'`]);
  }

  /**
   * A WHERE conjunct; `lastFlags`: whether the aggregate kernels take it (time comparisons, `=`/IN on
   * the segmentby column, comparisons of a column with constants the row filter evaluates) and
   * whether a scan evaluates it (docs/guides/planner.md's table).
   */
  lastFlags: Flags = { agg: false, scan: false };

  predicate(kernelsOnly = false): string {
    const h = () => this.pick(HOSTS);
    const A: Flags = { agg: true, scan: true };
    // Also the last point's: time comparisons, `=`/IN on the segmentby column.
    const L: Flags = { agg: true, scan: true, last: true };
    const N: Flags = { agg: false, scan: false };
    const all: Array<[() => string, Flags]> = [
      [() => `time >= ${this.time()}`, L],
      [() => `time < ${this.time()}`, L],
      [() => `time > ${this.time()}`, L],
      [() => `time <= ${this.time()}`, L],
      [() => `time = ${this.time()}`, L],
      [() => `time BETWEEN ${this.time()} AND ${this.time()}`, L],
      [() => `time >= ${this.time()}::timestamptz - INTERVAL '${this.int(1, 30)} minutes'`, L],
      [() => `time > now() - INTERVAL '1 day'`, L],
      [() => `host = '${h()}'`, L],
      [() => `host IN ('${h()}', '${h()}')`, L],
      [() => `host IN ('h1', NULL)`, N],
      [() => `host <> '${h()}'`, A],
      [() => `host > 'h${this.int(0, 7)}'`, N],
      [() => `host LIKE 'h%${this.int(0, 7)}'`, N],
      [() => 'host IS NULL', A],
      [() => 'host IS NOT NULL', A],
      [() => `dc = 'dc${this.int(0, 2)}'`, A],
      // Thresholds that many values equal: boundaries are exercised.
      [() => `v > ${this.int(-10, 40)}.5`, A],
      [() => `v <= ${this.int(-10, 40)}`, A],
      [() => `v >= ${this.int(-10, 40)}.25`, A],
      [() => `v < ${this.int(-10, 40)}`, A],
      [() => `v = ${this.int(-10, 40)}`, A],
      [() => `f >= ${this.int(0, 10)}`, A],
      [() => `n <= ${this.int(-900, 900)}`, A],
      [() => `v = 'NaN'`, A],
      [() => 'v IS NULL', A],
      [() => `v - floor(v) = 0.5`, N],
      [() => `coalesce(v, 0) > ${this.int(0, 30)}`, N],
      [() => `n = ${this.int(-10, 10)}`, A],
      [() => `n BETWEEN ${this.int(-500, 0)} AND ${this.int(0, 500)}`, A],
      [() => `n IS NOT DISTINCT FROM ${this.int(-5, 5)}`, N],
      [() => `NOT (n > ${this.int(-100, 100)})`, N],
      [() => `b > ${this.int(0, 1e12)}`, A],
      [() => `f < ${this.int(0, 10)}.5`, A],
      [() => 'ok', A],
      [() => 'NOT ok', A],
      [() => `(host = '${h()}' OR v > 30)`, N],
      [() => `extract(hour from time) = ${this.int(0, 23)}`, N],
      [() => `x > ${this.int(-5, 30)} * ${X_STEP}::float8`, A],
      [() => 'x IS NULL', A],
    ];
    const [make, flags] = this.pick(kernelsOnly ? all.filter(([, f]) => f.agg) : all);
    this.lastFlags = flags;
    return make();
  }

  /** Conjuncts of the last `where`: all taken by the kernels; one at least evaluated by a scan. */
  whereFlags = { agg: true, scan: false, last: true };

  private where(max: number, kernelsOnly = false): string {
    const p = Array.from({ length: this.int(0, max) }, () => {
      const sql = this.predicate(kernelsOnly);
      return { sql, flags: this.lastFlags };
    });
    this.whereFlags = { agg: p.every((c) => c.flags.agg), scan: p.some((c) => c.flags.scan), last: p.every((c) => c.flags.last === true) };
    return p.length ? ` WHERE ${p.map((c) => c.sql).join(' AND ')}` : '';
  }

  /** An aggregate, and whether the kernels take it whatever the data (sum/avg(x) leave 1e300 to PostgreSQL). */
  private aggregate(): { sql: string; kernels: boolean } {
    const c = this.pick(['v', 'n', 'b', 'f', 'x']);
    const kernels = ['count(*)', `count(${c})`, `sum(${c})`, `avg(${c})`, `min(${c})`, `max(${c})`, `first(${c}, time)`, `last(${c}, time)`, 'max(time)', 'min(time)'];
    const sql = this.rand() < 0.7 ? this.pick(kernels) : this.pick(['count(DISTINCT host)', 'bool_and(ok)', 'count(ok)', `sum(${c}) FILTER (WHERE n > 0)`, 'min(host)', 'max(dc)']);
    return { sql, kernels: kernels.includes(sql) && !(c === 'x' && /^(sum|avg)/.test(sql)) };
  }

  private bucket(): string {
    if (this.rand() < 0.5) return `time_bucket('${this.pick(['1 minute', '5 minutes', '1 hour', '90 minutes', '1 day', '1 week'])}', time)`;
    return this.pick([
      `time_bucket('1 hour', time, '${this.pick(['15 minutes', '-30 minutes'])}'::interval)`,
      `time_bucket('1 day', time, '${this.zone}')`,
      `time_bucket('2 hours', time, origin => '2024-01-01 00:30+00')`,
      `date_trunc('${this.pick(['hour', 'day', 'minute'])}', time)`,
      `date_bin('15 minutes', time, '2024-01-01')`,
    ]);
  }

  /**
   * A query over `m` (its reference: the same text over `ref`), whether its row order is defined, and
   * the fast path its shape must take (undefined: not asserted).
   */
  query(): { sql: string; ordered: boolean; path?: Path } {
    this.params = [];
    const r = this.rand();
    if (r < 0.2) return this.handedOver();
    if (r < 0.6) {
      const groups: string[] = [];
      if (this.rand() < 0.6) groups.push(this.bucket());
      if (this.rand() < 0.5) groups.push(this.pick(['host', 'dc']));
      const aggregates = Array.from({ length: this.int(1, 4) }, () => this.aggregate());
      const select = [...groups.map((g, i) => `${g} AS g${i}`), ...aggregates.map((a, i) => `${a.sql} AS a${i}`)];
      const W = this.where(3, this.rand() < 0.5);
      // Fixed-width buckets and the segmentby column, kernel aggregates, time and segment filters.
      const kernels = groups.every((g) => g === 'host' || /^time_bucket\('[^']+', time\)$/.test(g)) && aggregates.every((a) => a.kernels) && this.whereFlags.agg;
      const path = kernels && (this.params.length === 0 || this.paramsFast) ? ('aggregate' as const) : undefined;
      const G = groups.length ? ` GROUP BY ${groups.map((_, i) => `g${i}`).join(', ')}` : '';
      const H = groups.length && this.rand() < 0.15 ? ` HAVING count(*) > ${this.int(0, 20)}` : '';
      if (!groups.length || this.rand() < 0.3) return { sql: `SELECT ${select.join(', ')} FROM m${W}${G}${H}`, ordered: !groups.length, path };
      const dir = this.pick(['', ' DESC', ' ASC']);
      const nulls = this.rand() < 0.5 ? ' NULLS FIRST' : '';
      const limit = this.rand() < 0.4 ? ` LIMIT ${this.int(0, 12)}${this.rand() < 0.2 ? ` OFFSET ${this.int(1, 3)}` : ''}` : '';
      return { sql: `SELECT ${select.join(', ')} FROM m${W}${G}${H} ORDER BY ${groups.map((_, i) => `g${i}${dir}`).join(', ')}${nulls}${limit}`, ordered: true, path };
    }
    if (r < 0.85) {
      const list = this.pick(['*', 'time, host, v', 'host, n, b, f, ok', 'time, dc, v * 2 AS w', "time_bucket('1 hour', time) AS t, v", 'time, x']);
      const W = this.where(3);
      // A comparison the scan evaluates; scans with parameters take the general path.
      const path = this.whereFlags.scan && this.params.length === 0 ? ('scan' as const) : undefined;
      if (this.rand() < 0.5) return { sql: `SELECT ${list} FROM m${W}`, ordered: false, path };
      const d = this.pick(['', ' DESC']);
      // Every column in the ORDER BY: rows tie only when they are equal.
      return { sql: `SELECT ${list} FROM m${W} ORDER BY time${d}, host${d}, v${d}, n${d}, b${d}, f${d}, dc${d}, ok${d}, x${d} LIMIT ${this.int(0, 50)}`, ordered: true, path };
    }
    const key = this.pick(['host', 'dc']);
    const list = this.pick(['*', `${key}, time, v`, `${key}, time, n`]);
    const W = this.rand() < 0.5 ? '' : this.where(2);
    // Time bounds and `=`/IN on the segmentby column are the last point's; parameters as for aggregates.
    const lastPoint = key === 'host' && (!W || (this.whereFlags.last && (this.params.length === 0 || this.paramsFast)));
    return { sql: `SELECT DISTINCT ON (${key}) ${list} FROM m${W} ORDER BY ${key}, time DESC`, ordered: false, ...(lastPoint ? { path: 'last point' as const } : {}) };
  }

  /** Shapes PostgreSQL answers over rows Orbit hands it. */
  private handedOver(): { sql: string; ordered: boolean; path?: Path } {
    const W = this.where(2);
    const shapes: Array<() => { sql: string; ordered: boolean }> = [
      () => ({
        sql: `SELECT h.team, count(*) AS c, sum(t.v) AS s FROM m AS t JOIN hosts h USING (host)${W.replace(/\b(host|time|v|n)\b/g, 't.$1')} GROUP BY h.team ORDER BY h.team`,
        ordered: true,
      }),
      () => ({ sql: `SELECT g, c, sum(c) OVER (ORDER BY g) AS run FROM (SELECT time_bucket('6 hours', time) AS g, count(*) AS c FROM m${W} GROUP BY g) x ORDER BY g`, ordered: true }),
      () => ({ sql: `WITH a AS (SELECT host, max(v) AS mx, min(time) AS t0 FROM m${W} GROUP BY host) SELECT * FROM a WHERE mx > 5 ORDER BY host NULLS FIRST`, ordered: true }),
      () => ({ sql: `SELECT time_bucket('1 hour', time) AS g, round(avg(v)::numeric, 3) AS a, max(v) - min(v) AS spread, count(*) * 2 AS c2 FROM m${W} GROUP BY g ORDER BY a DESC NULLS LAST, g LIMIT ${this.int(1, 10)}`, ordered: true }),
      () => ({ sql: `SELECT host, count(*) FROM m${W} GROUP BY host UNION ALL SELECT 'total', count(*) FROM m${W}`, ordered: false }),
      () => ({
        sql: `SELECT time_bucket_gapfill('1 hour', time) AS g, avg(v) AS a, locf(max(n)) AS l, interpolate(avg(f)) AS i FROM m WHERE time >= '2024-03-30 00:00+00' AND time < '2024-03-30 12:00+00'${W.replace(' WHERE', ' AND')} GROUP BY g ORDER BY g`,
        ordered: true,
      }),
      () => ({ sql: `SELECT count(*) FROM (SELECT DISTINCT host, dc FROM m${W}) x`, ordered: true }),
      () => ({ sql: `SELECT * FROM m${W} ORDER BY v DESC NULLS LAST, time LIMIT ${this.int(1, 20)}`, ordered: true }),
      () => ({ sql: `SELECT host, max(time) FILTER (WHERE v > 20) AS t, count(*) FILTER (WHERE ok) AS k FROM m${W} GROUP BY host HAVING max(v) > 30 ORDER BY 1 NULLS FIRST`, ordered: true }),
      () => ({ sql: `SELECT EXISTS (SELECT 1 FROM m${W}) AS e, (SELECT max(time) FROM m${W}) AS mt`, ordered: true }),
      () => ({ sql: `SELECT count(*), min(time), max(time) FROM m${W}`, ordered: true }),
    ];
    return this.pick(shapes)();
  }

  /**
   * A DELETE or UPDATE over `m` (literals only), within a few hours: it decompresses only the batches
   * those times reach, so the rest stay in the columnstore for the fast paths.
   */
  dml(): string {
    const useParams = this.useParams;
    this.useParams = false;
    const from = new Date(START + this.int(0, SPAN_S) * 1000);
    const to = new Date(from.getTime() + this.int(1, 6) * 3600_000);
    const w = `time >= '${from.toISOString()}' AND time < '${to.toISOString()}'${this.rand() < 0.5 ? ` AND ${this.predicate()}` : ''}`;
    this.useParams = useParams;
    return this.pick([`DELETE FROM m WHERE ${w}`, `UPDATE m SET v = v + 1 WHERE ${w}`, `UPDATE m SET n = NULL WHERE ${w}`]);
  }
}

/** Rows as JSON text per row (sorted when the order is not defined); an error as its SQLSTATE and message. */
function answer(run: Run, sql: string, params: readonly string[] | undefined, ordered: boolean): Promise<string[] | string> {
  return run(sql, params).then(
    (r) => {
      const rows = r.rows.map((row) => JSON.stringify(Object.values(row), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v instanceof Date ? v.toISOString() : v)));
      return ordered ? rows : rows.sort();
    },
    (e: { code?: string; message?: string }) => `ERROR ${e.code} ${e.message}`,
  );
}

/**
 * Loads the same rows into `m` (a direct hypertable) and `ref` (a plain table) through `copy`, then
 * runs `queries` random queries (and a DML statement now and then) against both.
 */
async function differential(g: Generator, exec: (sql: string) => Promise<unknown>, copy: (sql: string, text: string) => Promise<unknown>, run: Run, queries: number): Promise<{ checked: number; nonEmpty: number; paths: Record<Path, number>; asserted: number }> {
  await exec(`CREATE TABLE m (${COLUMNS}) WITH (timescaledb.hypertable, timescaledb.partition_column = 'time', timescaledb.segmentby = 'host', timescaledb.chunk_interval = '${g.pick(['6 hours', '1 day', '2 days'])}');
    CREATE TABLE ref (${COLUMNS});
    CREATE TABLE hosts (host text PRIMARY KEY, team text);
    INSERT INTO hosts VALUES ('h0', 'a'), ('h1', 'a'), ('h2', 'b'), ('h3', 'b'), ('h4', 'c'), ('', 'empty');`);
  const load = async (text: string) => {
    await copy('COPY m FROM STDIN', text);
    await copy('COPY ref FROM STDIN', text);
  };
  await load(g.rows(g.int(3000, 6000)));
  // Late rows: into chunks that already have batches.
  await load(g.rows(g.int(500, 2000)));
  // Single rows: the rowstore part of chunks.
  for (let i = g.int(5, 25); i > 0; i--) {
    const values = g.rows(1).trim().split('\t').map((x) => (x === '\\N' ? 'NULL' : `'${x}'`)).join(', ');
    await exec(`INSERT INTO m VALUES (${values}); INSERT INTO ref VALUES (${values})`);
  }
  if (g.rand() < 0.5) await exec(`SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('m') c`);

  let checked = 0;
  let nonEmpty = 0;
  const paths: Record<Path, number> = { aggregate: 0, scan: 0, 'last point': 0, general: 0 };
  const tracker = pathTracker();
  // Whether the hypertable still has chunks in the columnstore (the fast paths' precondition).
  let columnstore = true;
  let asserted = 0;
  try {
    for (let i = 0; i < queries; i++) {
      if (g.rand() < 0.03) {
        const dml = g.dml();
        const count = (r: Awaited<ReturnType<Run>>) => r.affectedRows ?? r.rowCount;
        const got = await run(dml).then(count, (e: { code?: string }) => `ERROR ${e.code}`);
        const want = await run(dml.replace(' m ', ' ref ')).then(count, (e: { code?: string }) => `ERROR ${e.code}`);
        expect(got, dml).toEqual(want);
        // A DML statement decompresses the batches it may touch: none may be left in the columnstore.
        const left = await run("SELECT count(*) AS n FROM timescaledb_information.chunks WHERE hypertable_name = 'm' AND is_compressed");
        columnstore = Number(left.rows[0]!.n) > 0;
      }
      const { sql, ordered, path } = g.query();
      const params = g.params.length ? [...g.params] : undefined;
      const want = await answer(run, sql.replaceAll(' FROM m', ' FROM ref'), params, ordered);
      tracker.take();
      const label = `${sql}${params ? ` -- ${JSON.stringify(params)}` : ''}`;
      expect(await answer(run, sql, params, ordered), label).toEqual(want);
      const took = tracker.take();
      paths[took]++;
      // A shape the planner takes must not fall back to the general path (errors are PostgreSQL's either way).
      if (path && columnstore && typeof want !== 'string') {
        expect(took, `path of ${label}`).toBe(path);
        asserted++;
      }
      checked++;
      if (typeof want !== 'string' && want.length > 0) nonEmpty++;
    }
  } finally {
    tracker.restore();
  }
  return { checked, nonEmpty, paths, asserted };
}

describe.each([
  { seed: 1, zone: 'Europe/Berlin', reuseResults: true, useParams: false },
  { seed: 2, zone: 'America/New_York', reuseResults: false, useParams: true },
])('random queries in-process (seed $seed, $zone, reuse $reuseResults, parameters $useParams)', ({ seed, zone, reuseResults, useParams }) => {
  let db: Orbit;
  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, jobScheduler: false, columnstore: { reuseResults } });
    await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb; SET timezone TO '${zone}'`);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('answers as PostgreSQL does over the same rows', async () => {
    const g = new Generator(seed, zone);
    g.useParams = useParams;
    const run: Run = (sql, params) => db.query(sql, params ? [...params] : undefined);
    const { checked, nonEmpty, paths, asserted } = await differential(g, (sql) => db.exec(sql), (sql, text) => db.copyFrom(sql, text), run, 100);
    expect(checked).toBe(100);
    // Most queries find rows: the comparison is not of empty results.
    expect(nonEmpty).toBeGreaterThan(60);
    // Most are answered by the fast paths, and shapes they take are checked to take them.
    expect(paths.aggregate + paths.scan + paths['last point'], JSON.stringify(paths)).toBeGreaterThan(35);
    expect(asserted).toBeGreaterThan(10);
  });
});

describe('random queries over TCP as text, random session settings, bound parameters', () => {
  let server: TestServer;
  let client: pg.Client;
  const g = new Generator(3, 'Australia/Lord_Howe');
  beforeAll(async () => {
    server = await startTestServer({ http: null });
    // Every value as PostgreSQL's text: the DataRows Orbit writes itself are compared byte for byte.
    client = new pg.Client({ connectionString: server.url, types: { getTypeParser: () => (v: string) => v } });
    await client.connect();
    await client.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
  });
  afterAll(async () => {
    await client?.end();
    await server?.close();
  });

  it('answers as PostgreSQL does over the same rows', async () => {
    for (const s of [
      `SET timezone TO '${g.zone}'`,
      `SET DateStyle TO '${g.pick(['SQL, DMY', 'German', 'Postgres, MDY'])}'`,
      `SET extra_float_digits TO ${g.pick([0, 3, -2])}`,
      `SET IntervalStyle TO '${g.pick(['iso_8601', 'sql_standard'])}'`,
    ]) {
      await client.query(s);
    }
    g.useParams = true;
    g.paramsFast = true;
    const run: Run = (sql, params) => client.query(sql, params ? [...params] : undefined);
    // The rows are ISO text with a UTC offset: read alike under any session's DateStyle/TimeZone.
    const copy = (sql: string, text: string) => server.orbit.copyFrom(sql, text);
    const { checked, nonEmpty, paths, asserted } = await differential(g, (sql) => client.query(sql), copy, run, 100);
    expect(checked).toBe(100);
    expect(nonEmpty).toBeGreaterThan(60);
    expect(paths.aggregate + paths.scan + paths['last point'], JSON.stringify(paths)).toBeGreaterThan(35);
    expect(asserted).toBeGreaterThan(10);
  });
});
