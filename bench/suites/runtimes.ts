/**
 * @module bench/suites/runtimes
 * `--suite runtimes [--hours 6] [--batch 1000] [--reps 5] [--runtimes node,chromium,workerd] [--browser-dir opfs-ahp://bench]`:
 * the same TSBS-style ingest (bench/data/cpu-csv.ts, 100 hosts every 10 s) and queries in
 * - Node: openOrbit in-process on memory storage (PGlite + columnstore, WASM codecs and kernels), the baseline;
 * - Chromium: the engine's worker entry in a dedicated module worker of headless /usr/bin/chromium, on
 *   OPFS by default (bench/systems/chromium-worker.ts), timed inside the page around each round trip;
 * - workerd: Orbit's Worker under `wrangler dev`, through `POST /sql` (the edge profile);
 * then `compress_chunk` on every chunk and the same queries on compressed chunks (the columnstore
 * codecs and kernels); each runtime's ratio to Node per step, and the Worker's upload size from
 * `wrangler deploy --dry-run`.
 *
 * Every runtime gets the identical multi-row INSERT statements. workerd times include the local HTTP
 * round trip (a few ms), Chromium's a postMessage round trip, so ratios for millisecond queries
 * overstate the engine's share.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openOrbit } from '../../src/runtime/node.js';
import { CPU_START, CPU_TABLE_SQL, writeCpuCsv } from '../data/cpu-csv.js';
import { ChromiumOrbit } from '../systems/chromium-worker.js';
import type { Suite } from './suite.js';

const run = promisify(execFile);
const HOSTS = 100;
const METRICS = ['usage_user', 'usage_system', 'usage_idle', 'usage_nice', 'usage_iowait', 'usage_irq', 'usage_softirq', 'usage_steal', 'usage_guest', 'usage_guest_nice'];

const SCHEMA = [
  CPU_TABLE_SQL,
  "SELECT create_hypertable('cpu', by_range('time', INTERVAL '1 hour'))",
  "ALTER TABLE cpu SET (timescaledb.compress, timescaledb.compress_segmentby = 'hostname', timescaledb.compress_orderby = 'time DESC')",
];

const ts = (ms: number) => `'${new Date(ms).toISOString().replace('T', ' ').replace('Z', '+00')}'`;

/** TSBS query shapes the edge profile runs (kernels for the aggregates, the row path for the rest). */
function queries(hours: number): Array<{ name: string; sql: string }> {
  const end = CPU_START + hours * 3_600_000;
  const h1 = CPU_START + 3_600_000;
  return [
    { name: 'single-groupby-1-1-1', sql: `SELECT time_bucket('1 minute', time) AS minute, max(usage_user) FROM cpu WHERE hostname = 'host_7' AND time >= ${ts(CPU_START)} AND time < ${ts(h1)} GROUP BY minute ORDER BY minute` },
    { name: 'cpu-max-all-8', sql: `SELECT time_bucket('1 hour', time) AS hour, ${METRICS.map((m) => `max(${m})`).join(', ')} FROM cpu WHERE hostname IN ('host_1','host_2','host_3','host_4','host_5','host_6','host_7','host_8') AND time >= ${ts(CPU_START)} AND time < ${ts(end)} GROUP BY hour ORDER BY hour` },
    { name: 'double-groupby-1', sql: `SELECT time_bucket('1 hour', time) AS hour, hostname, avg(usage_user) FROM cpu WHERE time >= ${ts(CPU_START)} AND time < ${ts(end)} GROUP BY hour, hostname ORDER BY hour, hostname` },
    { name: 'groupby-orderby-limit', sql: `SELECT time_bucket('1 minute', time) AS minute, max(usage_user) FROM cpu WHERE time < ${ts(end)} GROUP BY minute ORDER BY minute DESC LIMIT 5` },
    { name: 'lastpoint', sql: 'SELECT DISTINCT ON (hostname) hostname, time, usage_user FROM cpu ORDER BY hostname, time DESC' },
    { name: 'high-cpu-1', sql: `SELECT time, usage_user FROM cpu WHERE usage_user > 90 AND hostname = 'host_3' AND time >= ${ts(CPU_START)} AND time < ${ts(end)} ORDER BY time` },
    { name: 'count-all', sql: 'SELECT count(*), sum(usage_user), min(time), max(time) FROM cpu' },
  ];
}

/** The generated CSV as multi-row INSERTs of `batch` rows. */
async function inserts(rows: number, batch: number): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'orbit-bench-runtimes-'));
  try {
    const path = join(dir, 'cpu.csv');
    await writeCpuCsv(path, rows);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    const out: string[] = [];
    for (let i = 0; i < lines.length; i += batch) {
      const values = lines.slice(i, i + batch).map((line) => {
        const f = line.split(',');
        return `('${f[0]}', ${f.slice(1, 10).map((v) => `'${v}'`).join(', ')}, ${f.slice(10).join(', ')})`;
      });
      out.push(`INSERT INTO cpu VALUES ${values.join(', ')}`);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const RUNTIMES = ['node', 'chromium', 'workerd'] as const;
type Runtime = (typeof RUNTIMES)[number];

interface Step {
  name: string;
  rows: number;
  /** Milliseconds per runtime (ingest: total; queries: median of the timed runs). */
  ms: Partial<Record<Runtime, number>>;
}

/** What one runtime measured: the ingest total, compress_chunk of every chunk, each query's median and row count. */
interface Measured {
  ingestMs: number;
  /** Undefined when the runtime refused to compress (the reason is in `compressError`). */
  compressMs?: number;
  compressError?: string;
  queries: Map<string, { ms: number; rows: number }>;
}

/** Every chunk is converted to the columnstore by name (the edge takes no function in FROM), then the queries run again. */
const CHUNKS_SQL = "SELECT show_chunks('cpu')::text AS c";
const COMPRESSED = ' (compressed)';

/**
 * Runs the schema, the timed ingest and the timed queries through one runtime's functions, then
 * compresses every chunk and times the queries again (columnstore codecs and kernels).
 */
async function measure(
  statements: readonly string[],
  qs: ReadonlyArray<{ name: string; sql: string }>,
  reps: number,
  run: {
    schema(sql: string): Promise<void>;
    ingest(statements: readonly string[]): Promise<number>;
    /** `runs` timed runs of `sql`: their times and the row count. */
    query(sql: string, runs: number): Promise<{ times: number[]; rows: number }>;
    /** The rows of `sql` (untimed). */
    rows(sql: string): Promise<Record<string, unknown>[]>;
  },
): Promise<Measured> {
  await run.schema(SCHEMA.join(';\n'));
  const ingestMs = await run.ingest(statements);
  const queries = new Map<string, { ms: number; rows: number }>();
  const timeQueries = async (suffix: string) => {
    for (const q of qs) {
      // The first run warms caches and plans; the median of the others counts.
      const { times, rows } = await run.query(q.sql, reps + 1);
      queries.set(q.name + suffix, { ms: median(times.slice(1)), rows });
    }
  };
  await timeQueries('');
  const measured: Measured = { ingestMs, queries };
  try {
    const chunks = (await run.rows(CHUNKS_SQL)).map((r) => String(r.c));
    measured.compressMs = await run.ingest(chunks.map((c) => `SELECT compress_chunk('${c.replace(/'/g, "''")}')`));
  } catch (err) {
    measured.compressError = err instanceof Error ? err.message : String(err);
    return measured;
  }
  await timeQueries(COMPRESSED);
  return measured;
}

async function timedLoop(runs: number, fn: () => Promise<number>): Promise<{ times: number[]; rows: number }> {
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    rows = await fn();
    times.push(performance.now() - t);
  }
  return { times, rows };
}

/** The Worker's upload size as wrangler reports it (KiB raw and gzip). */
async function bundleSize(): Promise<{ kib: number; gzipKib: number } | undefined> {
  const outdir = mkdtempSync(join(tmpdir(), 'orbit-bench-bundle-'));
  try {
    const { stdout } = await run('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', outdir], { env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } });
    const m = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(stdout);
    return m ? { kib: Number(m[1]), gzipKib: Number(m[2]) } : undefined;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export const runtimesSuite: Suite = {
  name: 'runtimes',
  options: {
    hours: { type: 'string', default: '6' },
    batch: { type: 'string', default: '1000' },
    reps: { type: 'string', default: '5' },
    runtimes: { type: 'string', default: 'node,chromium,workerd' },
    'browser-dir': { type: 'string', default: 'opfs-ahp://bench' },
  },
  async run(args) {
    const hours = Number(args.hours);
    const reps = Number(args.reps);
    const rows = HOSTS * hours * 360;
    const runtimes = String(args.runtimes).split(',') as Runtime[];
    for (const r of runtimes) if (!RUNTIMES.includes(r)) throw new Error(`unknown runtime ${r} (node, chromium, workerd)`);
    if (!runtimes.includes('node')) throw new Error('--runtimes must include node: the others are reported as ratios to it');
    const statements = await inserts(rows, Number(args.batch));
    const qs = queries(hours);
    const measured = new Map<Runtime, Measured>();
    const notes: string[] = [];

    // Node: Orbit in-process on memory storage.
    const orbit = await openOrbit({ dataDir: 'memory://' });
    try {
      measured.set('node', await measure(statements, qs, reps, {
        schema: async (sql) => void (await orbit.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb;\n${sql}`)),
        ingest: async (sqls) => {
          const t = performance.now();
          for (const s of sqls) await orbit.exec(s);
          return performance.now() - t;
        },
        query: (sql, runs) => timedLoop(runs, async () => (await orbit.query(sql)).rows.length),
        rows: async (sql) => (await orbit.query(sql)).rows,
      }));
    } finally {
      await orbit.close();
    }

    // Chromium: the engine in a dedicated worker, on OPFS unless --browser-dir says otherwise.
    if (runtimes.includes('chromium')) {
      const browserDir = String(args['browser-dir']);
      const chromium = await ChromiumOrbit.open(browserDir);
      try {
        notes.push(`chromium: ${browserDir}, codecs ${chromium.stats.codecs}, kernels ${chromium.stats.kernels}${chromium.stats.fallbacks.length ? ` (${chromium.stats.fallbacks.join('; ')})` : ''}, open ${chromium.openMs.toFixed(0)} ms`);
        measured.set('chromium', await measure(statements, qs, reps, {
          schema: (sql) => chromium.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb;\n${sql}`),
          ingest: (sqls) => chromium.execTimed(sqls),
          query: (sql, runs) => chromium.queryTimed(sql, runs),
          rows: (sql) => chromium.rows(sql),
        }));
      } finally {
        await chromium.close();
      }
    }

    // workerd: the production Worker (wrangler.toml, worker/dist) under wrangler dev.
    let bundle: { kib: number; gzipKib: number } | undefined;
    if (runtimes.includes('workerd')) {
      await run(process.execPath, ['worker/build.mjs']);
      const persist = mkdtempSync(join(tmpdir(), 'orbit-bench-workerd-'));
      const { unstable_startWorker } = await import('wrangler');
      const worker = await unstable_startWorker({ config: 'wrangler.toml', dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, watch: false, persist, logLevel: 'warn' } });
      try {
        await worker.ready;
        const base = await worker.url;
        const sql = async (text: string) => {
          const res = await fetch(new URL('/sql?db=bench', base), { method: 'POST', body: JSON.stringify({ sql: text }) });
          const a = (await res.json()) as { rows?: unknown[]; error?: { code: string; message: string } };
          if (a.error) throw new Error(`workerd: ${a.error.code} ${a.error.message} in ${text.slice(0, 120)}`);
          return a.rows ?? [];
        };
        measured.set('workerd', await measure(statements, qs, reps, {
          schema: async (text) => void (await sql(text)),
          ingest: async (sqls) => {
            const t = performance.now();
            for (const s of sqls) await sql(s);
            return performance.now() - t;
          },
          query: (text, runs) => timedLoop(runs, async () => (await sql(text)).length),
          rows: async (text) => (await sql(text)) as Record<string, unknown>[],
        }));
      } finally {
        await worker.dispose();
        rmSync(persist, { recursive: true, force: true });
      }
      bundle = await bundleSize();
    }

    const node = measured.get('node')!;
    const others = runtimes.filter((r) => r !== 'node' && measured.has(r));
    const all = (pick: (m: Measured) => number | undefined): Partial<Record<Runtime, number>> =>
      Object.fromEntries([...measured].flatMap(([r, m]) => (pick(m) === undefined ? [] : [[r, pick(m)!]])));
    const steps: Step[] = [{ name: `ingest ${rows} rows (INSERT × ${statements.length})`, rows, ms: all((m) => m.ingestMs) }];
    const names = [...qs.map((q) => q.name)];
    if (node.compressMs !== undefined) {
      steps.push({ name: 'compress_chunk (every chunk)', rows: 0, ms: all((m) => m.compressMs) });
      names.push(...qs.map((q) => q.name + COMPRESSED));
    }
    for (const [r, m] of measured) if (m.compressError) notes.push(`${r}: compress_chunk failed (${m.compressError}); no compressed queries`);
    for (const name of names) {
      const expected = node.queries.get(name)!.rows;
      for (const r of others) {
        const got = measured.get(r)!.queries.get(name)?.rows;
        if (got !== undefined && got !== expected) throw new Error(`${name}: Node returned ${expected} rows, ${r} ${got}`);
      }
      steps.push({ name, rows: expected, ms: all((m) => m.queries.get(name)?.ms) });
    }

    for (const s of steps) {
      const cells = [`node ${s.ms.node!.toFixed(1).padStart(9)} ms`];
      for (const r of others) cells.push(s.ms[r] === undefined ? `${r} n/a` : `${r} ${s.ms[r]!.toFixed(1).padStart(9)} ms (×${(s.ms[r]! / s.ms.node!).toFixed(2)})`);
      console.log(`${s.name.padEnd(42)} ${cells.join('  ')}  (${s.rows} rows)`);
    }
    const geomean: Partial<Record<Runtime, number>> = {};
    for (const r of others) {
      const q = steps.filter((s) => names.includes(s.name) && s.ms[r] !== undefined);
      geomean[r] = Math.exp(q.reduce((a, s) => a + Math.log(s.ms[r]! / s.ms.node!), 0) / q.length);
      console.log(`${r} ÷ Node: queries geometric mean ${geomean[r]!.toFixed(2)} (${q.length} queries); ingest ${(steps[0]!.ms[r]! / steps[0]!.ms.node!).toFixed(2)}`);
    }
    for (const n of notes) console.log(n);
    if (bundle) console.log(`Worker upload (wrangler deploy --dry-run): ${bundle.kib} KiB, gzip ${bundle.gzipKib} KiB`);
    return { hours, rows, reps, runtimes, steps, queryGeomeanRatio: geomean, notes, bundle };
  },
};
