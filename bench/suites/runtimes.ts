/**
 * @module bench/suites/runtimes
 * `--suite runtimes [--hours 6] [--batch 1000] [--reps 5]`: the same TSBS-style ingest (bench/data/cpu-csv.ts,
 * 100 hosts every 10 s) and queries in Node (openOrbit in-process, PGlite + columnstore) and in workerd
 * (Orbit's Worker under `wrangler dev`, through `POST /sql`, the edge profile), with the ratio
 * workerd ÷ Node per step, and the Worker's upload size from `wrangler deploy --dry-run`.
 *
 * Both sides get the identical multi-row INSERT statements. workerd times include the local HTTP round
 * trip (a few ms), so ratios for millisecond queries overstate the engine's share.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openOrbit } from '../../src/runtime/node.js';
import { CPU_START, CPU_TABLE_SQL, writeCpuCsv } from '../data/cpu-csv.js';
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

interface Step {
  name: string;
  nodeMs: number;
  workerdMs: number;
  ratio: number;
  rows: number;
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
  },
  async run(args) {
    const hours = Number(args.hours);
    const reps = Number(args.reps);
    const rows = HOSTS * hours * 360;
    const statements = await inserts(rows, Number(args.batch));
    const qs = queries(hours);
    const steps: Step[] = [];

    // Node: Orbit in-process on memory storage.
    const orbit = await openOrbit({ dataDir: 'memory://' });
    await orbit.exec(['CREATE EXTENSION IF NOT EXISTS timescaledb', ...SCHEMA].join(';\n'));
    let t = performance.now();
    for (const s of statements) await orbit.exec(s);
    const nodeIngest = performance.now() - t;
    const nodeQ = new Map<string, { ms: number; rows: number }>();
    for (const q of qs) {
      const times: number[] = [];
      let n = 0;
      for (let i = 0; i <= reps; i++) {
        t = performance.now();
        const r = await orbit.query(q.sql);
        if (i > 0) times.push(performance.now() - t);
        n = r.rows.length;
      }
      nodeQ.set(q.name, { ms: median(times), rows: n });
    }
    await orbit.close();

    // workerd: the production Worker (wrangler.toml, worker/dist) under wrangler dev.
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
      await sql(SCHEMA.join(';\n'));
      t = performance.now();
      for (const s of statements) await sql(s);
      const edgeIngest = performance.now() - t;
      steps.push({ name: `ingest ${rows} rows (INSERT × ${statements.length})`, nodeMs: nodeIngest, workerdMs: edgeIngest, ratio: edgeIngest / nodeIngest, rows });
      for (const q of qs) {
        const times: number[] = [];
        let n = 0;
        for (let i = 0; i <= reps; i++) {
          t = performance.now();
          n = (await sql(q.sql)).length;
          if (i > 0) times.push(performance.now() - t);
        }
        const node = nodeQ.get(q.name)!;
        if (node.rows !== n) throw new Error(`${q.name}: Node returned ${node.rows} rows, workerd ${n}`);
        const ms = median(times);
        steps.push({ name: q.name, nodeMs: node.ms, workerdMs: ms, ratio: ms / node.ms, rows: n });
      }
    } finally {
      await worker.dispose();
      rmSync(persist, { recursive: true, force: true });
    }
    const bundle = await bundleSize();

    for (const s of steps) {
      console.log(`${s.name.padEnd(40)} node ${s.nodeMs.toFixed(1).padStart(9)} ms  workerd ${s.workerdMs.toFixed(1).padStart(9)} ms  ratio ${s.ratio.toFixed(2).padStart(6)}  (${s.rows} rows)`);
    }
    const queriesOnly = steps.slice(1);
    const geo = Math.exp(queriesOnly.reduce((a, s) => a + Math.log(s.ratio), 0) / queriesOnly.length);
    console.log(`queries: geometric mean workerd ÷ Node ${geo.toFixed(2)}`);
    if (bundle) console.log(`Worker upload (wrangler deploy --dry-run): ${bundle.kib} KiB, gzip ${bundle.gzipKib} KiB`);
    return { hours, rows, reps, steps, queryGeomeanRatio: geo, bundle };
  },
};
