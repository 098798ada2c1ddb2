// Differential test of last points (`SELECT DISTINCT ON (segment) … ORDER BY segment, time DESC`,
// sql/planner/last-point.ts) against PostgreSQL's answer over a plain table holding the same rows:
// time columns of every type the path takes (timestamptz, timestamp, int2/int4/int8, date), several
// segments with a NULL one, rows compressed in two rounds, rows in the rowstore (late inserts, an
// uncompressed chunk), and random WHERE clauses of time bounds (which cut batches, or leave a
// segment no row) and `=`/IN on segmentby columns, which the path must take (Columnstore.runPlanned
// reports it); other conjuncts leave the statement to the other paths. Batches overlapping in time
// (direct COPY) where the newest reaches into the window without a row in it: a test of its own.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit } from '../../src/orbit.js';
import { Columnstore } from '../../src/session/columnstore/columnstore.js';
import type { ColumnstorePlan } from '../../src/session/columnstore/statement-plans.js';
import { Prng } from '../support/prng.js';
import { TEMPLATE } from '../support/server.js';

interface Table {
  readonly name: string;
  /** The time column's type, and a constant of it for a number of units (seconds, or integers). */
  readonly timeType: string;
  readonly time: (units: string) => string;
  /** Units the rows span, and per chunk. */
  readonly span: number;
  readonly chunk: string;
}

const TABLES: readonly Table[] = [
  { name: 'ts', timeType: 'timestamptz', time: (u) => `'2024-03-01 00:00:00+00'::timestamptz + ${u} * INTERVAL '1 second'`, span: 6 * 86400, chunk: "INTERVAL '2 days'" },
  { name: 'tp', timeType: 'timestamp', time: (u) => `'2024-03-10 00:00:00'::timestamp + ${u} * INTERVAL '1 second'`, span: 3 * 86400, chunk: "INTERVAL '1 day'" },
  { name: 'i4', timeType: 'int4', time: (u) => u, span: 90_000, chunk: '30000' },
  { name: 'i2', timeType: 'int2', time: (u) => `(${u} - 30000)::int2`, span: 60_000, chunk: '10000' },
  { name: 'i8', timeType: 'int8', time: (u) => `(${u})::int8 * 1000000000`, span: 90_000, chunk: '30000000000000' },
  { name: 'dt', timeType: 'date', time: (u) => `'2000-01-01'::date + ${u}::int`, span: 30_000, chunk: "INTERVAL '10000 days'" },
];
/** Rows per table. */
const ROWS = 30_000;

/** Whether each statement run since the last call took the last-point path (Columnstore.runPlanned). */
function pathTracker(): { took(): boolean; restore(): void } {
  let taken = false;
  const proto = Columnstore.prototype;
  const runPlanned = proto.runPlanned;
  const spy = vi.spyOn(proto, 'runPlanned').mockImplementation(async function (this: Columnstore, ...args: Parameters<Columnstore['runPlanned']>) {
    const out = await runPlanned.apply(this, args);
    const plan: ColumnstorePlan = args[1];
    if (out !== undefined && plan.lastPoint) taken = true;
    return out;
  });
  return {
    took() {
      const t = taken;
      taken = false;
      return t;
    },
    restore: () => spy.mockRestore(),
  };
}

function rowsText(rows: ReadonlyArray<Record<string, unknown>>): string[] {
  return rows.map((r) => JSON.stringify(Object.values(r), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Date ? v.toISOString() : v)));
}

/**
 * Loads `t` and its reference `<t>_ref`: rows at distinct times (a permutation of the span's units,
 * so no segment ties at its newest time), compressed, then rows inserted into the compressed chunks
 * (the rowstore part; compress_chunk again makes batches overlapping the others' time ranges) and
 * into the newest chunk, which stays uncompressed.
 */
async function load(db: Orbit, t: Table, seed: number): Promise<void> {
  const cut = Math.floor((t.span * 2) / 3);
  // Unit k * p mod span (p prime, not dividing span): distinct. Five devs (one NULL), site 'b' rare.
  const rows = (from: number, to: number, which: string) =>
    `SELECT ${t.time('u')}, CASE WHEN (k * 7 + ${seed}) % 11 = 0 THEN NULL ELSE (k * 13 + ${seed}) % 4 + 1 END, CASE WHEN k % 7 = 0 THEN 'b' ELSE 'a' END, k::float8
       FROM (SELECT k, (k::int8 * 7919 + ${seed}) % ${t.span} AS u FROM generate_series(0, ${ROWS - 1}) k) x WHERE u >= ${from} AND u < ${to} AND ${which}`;
  const both = (sql: string) => `INSERT INTO ${t.name}_ref ${sql}; INSERT INTO ${t.name} ${sql};`;
  await db.exec(`CREATE TABLE ${t.name}_ref (time ${t.timeType} NOT NULL, dev int, site text, v float8);
    CREATE TABLE ${t.name} (LIKE ${t.name}_ref);
    SELECT create_hypertable('${t.name}', 'time', chunk_time_interval => ${t.chunk});
    ALTER TABLE ${t.name} SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev, site');
    ${both(rows(0, cut, 'k % 10 <> 0'))}
    SELECT compress_chunk(c) FROM show_chunks('${t.name}') c;`);
  // Rows held back above: into the compressed chunks (some compressed again, over the same time
  // ranges as the first batches; some left in the rowstore), and into the uncompressed newest chunk.
  await db.exec(`${both(rows(0, cut, 'k % 10 = 0 AND k % 20 <> 0'))}
    SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('${t.name}') c;
    ${both(rows(0, cut, 'k % 20 = 0'))}
    ${both(rows(cut, t.span, 'true'))}`);
}

describe.each([{ reuseResults: true }, { reuseResults: false }])('last points with WHERE (reuse $reuseResults)', ({ reuseResults }) => {
  let db: Orbit;
  let tracker: ReturnType<typeof pathTracker>;
  const random = new Prng(reuseResults ? 7 : 8);

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, jobScheduler: false, columnstore: { reuseResults } });
    await db.exec("CREATE EXTENSION IF NOT EXISTS timescaledb; SET TimeZone = 'America/New_York'");
    for (const t of TABLES) await load(db, t, reuseResults ? 1 : 2);
    tracker = pathTracker();
  });
  afterAll(async () => {
    tracker?.restore();
    await db?.close();
  });

  async function compare(q: string): Promise<boolean> {
    const want = rowsText((await db.query<Record<string, unknown>>(q.replace(/ FROM (\w+)/, ' FROM $1_ref'))).rows);
    tracker.took();
    const got = rowsText((await db.query<Record<string, unknown>>(q)).rows);
    expect(got, q).toEqual(want);
    return tracker.took();
  }

  /** A WHERE conjunct over `t`; `taken`: whether the last-point path evaluates it. */
  function conjunct(t: Table, seed: number): { sql: string; taken: boolean } {
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random.next() * xs.length)]!;
    // The unit of an existing row (every k up to ROWS was loaded), or anywhere in (and around) the span.
    const unit = () => (random.next() < 0.5 ? (Math.floor(random.next() * ROWS) * 7919 + seed) % t.span : Math.floor(random.next() * t.span * 1.1) - Math.floor(t.span * 0.05));
    const at = (u: number) => (t.name === 'i2' ? t.time(String(Math.min(Math.max(u, 0), t.span - 1))) : t.time(String(u)));
    const literal = (u: number) => (t.name === 'ts' ? `'${new Date(Date.parse('2024-03-01T00:00:00Z') + u * 1000).toISOString()}'` : at(u));
    const dev = () => pick(['1', '2', '3', '4', 'NULL', '7']);
    const u = unit();
    const width = Math.max(1, Math.floor(t.span * pick([0.001, 0.01, 0.1, 0.5])));
    const shapes: Array<() => { sql: string; taken: boolean }> = [
      () => ({ sql: `time ${pick(['>', '>=', '<', '<=', '='])} ${pick([at, literal])(u)}`, taken: true }),
      () => ({ sql: `${at(u)} ${pick(['<', '>='])} time`, taken: true }),
      () => ({ sql: `time BETWEEN ${at(u)} AND ${at(u + width)}`, taken: true }),
      () => ({ sql: `time >= ${literal(u)} AND time < ${literal(u + width)}`, taken: true }),
      () => ({ sql: `dev = ${dev()}`, taken: true }),
      () => ({ sql: `dev IN (${dev()}, ${dev()})`, taken: true }),
      () => ({ sql: `site ${pick(["= 'b'", "IN ('a', 'b')", "= 'a'", "IN ('c', NULL)"])}`, taken: true }),
      () => ({ sql: `v > ${Math.floor(random.next() * ROWS)}`, taken: false }),
      () => ({ sql: `(dev = 1 OR time > ${at(u)})`, taken: false }),
      () => ({ sql: pick(['dev > 1', 'dev IS NULL', "site = 'b' COLLATE \"C\"", 'v IS NOT NULL']), taken: false }),
    ];
    if (t.name === 'ts') {
      shapes.push(
        () => ({ sql: pick(["time > now() - INTERVAL '1 hour'", 'time <= now()', "time >= date_trunc('day', now()) - INTERVAL '100 years'"]), taken: true }),
        () => ({ sql: `time ${pick(['<', '>='])} '2024-03-0${2 + Math.floor(random.next() * 5)}'::${pick(['date', 'timestamp'])}`, taken: true }),
        () => ({ sql: 'time > NULL', taken: true }),
        // Volatile: PostgreSQL calls it for every row.
        () => ({ sql: "time > clock_timestamp() - INTERVAL '100 years'", taken: false }),
      );
    }
    if (t.name === 'tp') {
      // A timestamptz constant: compared by PostgreSQL in the session's time zone (DST on Mar 10
      // in New York), each row converted, which is not monotone across the gap: left to PostgreSQL,
      // lower bounds too (time-constants.test.ts has a row the newest-first search would miss).
      shapes.push(
        () => ({ sql: `time > '2024-03-10 0${Math.floor(random.next() * 9)}:30:00+00'::timestamptz`, taken: false }),
        () => ({ sql: "time >= now() - INTERVAL '100 years'", taken: false }),
        () => ({ sql: `time < '2024-03-1${Math.floor(random.next() * 3)} 03:30:00-04'::timestamptz`, taken: false }),
      );
    }
    return pick(shapes)();
  }

  it('answers last points with time windows and segment filters as PostgreSQL does, on the last-point path', async () => {
    let taken = 0;
    let nonEmpty = 0;
    for (const t of TABLES) {
      const seed = reuseResults ? 1 : 2;
      for (let i = 0; i < 50; i++) {
        const parts = Array.from({ length: 1 + Math.floor(random.next() * 3) }, () => conjunct(t, seed));
        const key = random.next() < 0.8 ? 'dev' : 'site';
        const list = random.next() < 0.5 ? '*' : `${key}, time, v`;
        const alias = random.next() < 0.2;
        const where = parts.map((p) => (alias ? p.sql.replace(/\btime\b/g, 'x.time') : p.sql)).join(' AND ');
        const q = `SELECT DISTINCT ON (${key}) ${list} FROM ${t.name}${alias ? ' AS x' : ''} WHERE ${where} ORDER BY ${key}, time DESC${random.next() < 0.1 ? ' LIMIT 2' : ''}`;
        const took = await compare(q);
        expect(took, `path of ${q}`).toBe(parts.every((p) => p.taken));
        if (took) taken++;
      }
      const q = `SELECT DISTINCT ON (dev) * FROM ${t.name} WHERE time >= ${t.time(String(Math.floor(t.span / 3)))} AND dev IN (1, 2, NULL) ORDER BY dev, time DESC`;
      if ((await db.query(q)).rows.length > 0) nonEmpty++;
      const plan = (await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) ${q}`)).rows.map((r) => r['QUERY PLAN']);
      expect(plan[0], q).toBe(`Orbit Columnstore Last Point on ${t.name}`);
      expect(plan[2], q).toMatch(/^ {2}Orbit Filter: \(time >= .*\) AND \(dev IN \(1, 2, NULL\)\)$/);
    }
    expect(taken).toBeGreaterThan(100);
    expect(nonEmpty).toBe(TABLES.length);
  });

  it('looks past a batch whose range reaches into the window without a row in it', async () => {
    // dev 1: a batch of rows at 0 and 100 (range [0, 100]), then one of rows at 45 and 55 (each
    // direct COPY appends its own batches).
    await db.exec(`CREATE TABLE gap (time int NOT NULL, dev int, site text, v float8)
        WITH (timescaledb.hypertable, timescaledb.partition_column = 'time', timescaledb.segmentby = 'dev', timescaledb.chunk_interval = '1000');
      CREATE TABLE gap_ref (LIKE gap);`);
    for (const rows of ['0\t1\ta\t0\n100\t1\ta\t100\n70\t2\ta\t70\n', '45\t1\ta\t45\n55\t1\ta\t55\n']) {
      await db.copyFrom('COPY gap FROM STDIN', rows);
      await db.copyFrom('COPY gap_ref FROM STDIN', rows);
    }
    const chunks = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE hypertable_name = 'gap' AND is_compressed");
    expect(chunks.rows[0]!.n).toBe(1);
    for (const where of ['time > 50 AND time < 90', 'time BETWEEN 46 AND 99', 'time <= 99', 'time < 50', 'time >= 56 AND time <= 99', 'time = 55']) {
      const q = `SELECT DISTINCT ON (dev) * FROM gap WHERE ${where} ORDER BY dev, time DESC`;
      expect(await compare(q), q).toBe(true);
    }
  });

  it('answers last points of integer and date time columns (the manifests hold their times as numbers)', async () => {
    for (const t of TABLES) {
      // Every row compressed: the last points are the batches' (without reuse of results, rows made by Orbit).
      await db.exec(`SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('${t.name}') c`);
      for (const list of ['*', 'dev, time, v']) {
        const q = `SELECT DISTINCT ON (dev) ${list} FROM ${t.name} ORDER BY dev, time DESC`;
        expect(await compare(q), q).toBe(true);
      }
    }
  });
});
