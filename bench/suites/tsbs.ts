/**
 * @module bench/suites/tsbs
 * `--suite tsbs [--hours 72] [--variant decimal,ints] [--system orbit,orbit-tcp,orbit-tcp-raw,pglite,duckdb-wasm]
 * [--runs 5] [--pg postgres://…] [--queries a,b] [--rowstore | --compress] [--repeat] [--reuse] [--gc] [--load tcp|in-process]`:
 * the columnar fast-path issue's comparison tool. Generates the TSBS-style cpu data (100 hosts ×
 * hours × 10 s; 6-decimal and integer-valued variants), loads it into every engine (a progress bar on
 * stderr), runs the nine TSBS query types (bench/tsbs/queries.ts) in turn on every engine (1 warm-up,
 * then the median of `runs`), checks that all engines return the same rows (exit code 1 when they
 * do not), and prints load rows/s and query ms with ratios against DuckDB-WASM and plain PGlite.
 *
 * The defaults are the published setting: Orbit loads by direct-to-columnstore COPY, every timed run
 * sends a new instance of each query (as TSBS does) and Orbit recomputes every answer.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { writeCpuCsv } from '../data/cpu-csv.js';
import { firstDifference, normalise } from '../tsbs/compare.js';
import { TSBS_QUERY_SEED, tsbsQueries } from '../tsbs/queries.js';
import { startDuckdbWasm, startOrbit, startPglite, startPostgresUrl, type Progress, type TsbsEngine } from '../tsbs/systems.js';
import type { Suite } from './suite.js';

interface QueryResult {
  readonly query: string;
  readonly rows: number;
  /** Median ms per engine. */
  readonly ms: Record<string, number>;
  /** Engines whose rows differ from the first engine's, with the first difference. */
  readonly mismatches: Record<string, string>;
  /** Per engine, each timed run's ms, in run order. */
  readonly runMs: Record<string, number[]>;
  /** Per engine, ms of garbage collection pauses inside each timed run (this process's). */
  readonly gcMs: Record<string, number[]>;
}

export const tsbsSuite: Suite = {
  name: 'tsbs',
  options: {
    hours: { type: 'string', default: '72' },
    variant: { type: 'string', default: 'decimal' },
    system: { type: 'string', default: 'orbit,orbit-tcp,pglite,duckdb-wasm' },
    runs: { type: 'string', default: '5' },
    pg: { type: 'string' },
    /** Load Orbit's row store (a classic hypertable), then convert every chunk (compress_chunk), as TimescaleDB users do. */
    compress: { type: 'boolean', default: false },
    /** Load Orbit's row store (a classic hypertable) and query it there. */
    rowstore: { type: 'boolean', default: false },
    /**
     * Orbit loads by direct-to-columnstore COPY (a table created WITH (timescaledb.hypertable …));
     * the default unless --rowstore or --compress. Accepted for the commands of earlier notes.
     */
    direct: { type: 'boolean', default: false },
    /**
     * Each timed run repeats the warm-up's query. By default every timed run sends a new instance
     * (other windows and hosts, the same for every engine; rows compared for each), as TSBS does: no
     * engine answers a query it has seen.
     */
    repeat: { type: 'boolean', default: false },
    /** Orbit may reuse results across repeated queries (ColumnStoreOptions.reuseResults); off by default. */
    reuse: { type: 'boolean', default: false },
    /** Accepted for the commands of earlier notes (now the defaults). */
    fresh: { type: 'boolean', default: false },
    /**
     * A full garbage collection before each timed run, outside its time: the in-process engines share
     * one heap, so without it a run may pause to collect what the engine before it left (its
     * answer's row objects). Each run's own pauses are counted either way (results' gcMs).
     */
    gc: { type: 'boolean', default: false },
    'no-reuse': { type: 'boolean', default: false },
    /** How Orbit is loaded: a client's COPY over TCP, or Orbit.copyFrom in-process (bench/tsbs/systems.ts). */
    load: { type: 'string', default: 'tcp' },
    /** Comma-separated query names (bench/tsbs/queries.ts) to run; all when absent. */
    queries: { type: 'string' },
  },
  async run(args) {
    const hours = Number(args.hours);
    const rows = hours * 360 * 100;
    const runs = Number(args.runs);
    const wanted = new Set(String(args.system).split(','));
    if (args.rowstore === true && (args.compress === true || args.direct === true)) throw new Error('--rowstore loads the row store: not with --compress or --direct');
    if (args.compress === true && args.direct === true) throw new Error('--compress converts a row-store load: not with --direct');
    const direct = args.rowstore !== true && args.compress !== true;
    const fresh = args.repeat !== true;
    let mismatched = false;
    const all: unknown[] = [];
    for (const variant of String(args.variant).split(',')) {
      // Per process: concurrent runs on one machine would otherwise rewrite and delete each other's file.
      const csv = join(tmpdir(), `orbit-tsbs-${variant}-${hours}h-${process.pid}.csv`);
      process.stderr.write(`generating ${rows} rows (${variant}) … `);
      const bytes = await writeCpuCsv(csv, rows, 42, { ints: variant === 'ints' });
      process.stderr.write(`${(bytes / 1e6).toFixed(0)} MB\n`);
      const progress = progressBar();
      const engines: TsbsEngine[] = [];
      const loads: Array<{ system: string; ms: number; rows: number }> = [];
      const closers: Array<() => Promise<void>> = [];
      try {
        if (wanted.has('orbit') || wanted.has('orbit-tcp') || wanted.has('orbit-tcp-raw')) {
          if (args.load !== 'tcp' && args.load !== 'in-process') throw new Error(`--load takes tcp or in-process, not ${String(args.load)}`);
          const o = await startOrbit(csv, rows, progress, { compress: args.compress === true, direct, reuseResults: args.reuse === true, load: args.load });
          engines.push(...o.engines.filter((e) => wanted.has(e.name)));
          loads.push(...o.loads);
          closers.push(o.close);
        }
        for (const [name, start] of [
          ['pglite', startPglite],
          ['duckdb-wasm', startDuckdbWasm],
        ] as const) {
          if (!wanted.has(name)) continue;
          const s = await start(csv, rows, progress);
          engines.push(s.engine);
          loads.push(s.load);
          closers.push(s.engine.close);
        }
        if (typeof args.pg === 'string') {
          const s = await startPostgresUrl(args.pg, csv, rows, progress);
          engines.push(s.engine);
          loads.push(s.load);
          closers.push(s.engine.close);
        }
        process.stderr.write('\n');
        const results: QueryResult[] = [];
        const collect = args.gc === true ? fullCollection() : undefined;
        const pauses = gcPauses();
        const only = typeof args.queries === 'string' ? new Set(args.queries.split(',')) : undefined;
        const chosen = tsbsQueries(hours).filter((q) => !only || only.has(q.name));
        // Instance r of each query for timed run r (--fresh), else the same query again.
        const instances = Array.from({ length: runs }, (_, r) => (fresh ? tsbsQueries(hours, TSBS_QUERY_SEED + 1 + r) : tsbsQueries(hours)));
        const instance = (r: number, name: string) => instances[r]!.find((x) => x.name === name)!;
        if (chosen.length === 0) throw new Error(`--queries: none of ${String(args.queries)} is a TSBS query`);
        for (const q of chosen) {
          const ms: Record<string, number> = {};
          const answers: Record<string, string[]> = {};
          /** Per engine, the rows of each fresh instance (compared like the warm-up's). */
          const freshAnswers: Record<string, string[][]> = {};
          const times: Record<string, number[]> = {};
          const gcMs: Record<string, number[]> = {};
          for (const e of engines) {
            const first = await e.query(q.sql[e.dialect]); // warm-up; also the rows compared
            answers[e.name] = normalise(first.rows, first.columns, q.unordered === true);
            freshAnswers[e.name] = [];
            times[e.name] = [];
            gcMs[e.name] = [];
          }
          for (let i = 0; i < runs; i++) {
            // Engines sharing caches (orbit and orbit-tcp are one server) take turns being the first
            // to see a fresh instance.
            for (const e of [...engines.slice(i % engines.length), ...engines.slice(0, i % engines.length)]) {
              const sql = instance(i, q.name).sql[e.dialect];
              collect?.();
              const t0 = performance.now();
              const r = await e.query(sql);
              const t1 = performance.now();
              times[e.name]!.push(t1 - t0);
              gcMs[e.name]!.push(await pauses(t0, t1));
              if (fresh) freshAnswers[e.name]![i] = normalise(r.rows, r.columns, q.unordered === true);
            }
          }
          const runMs = Object.fromEntries(engines.map((e) => [e.name, times[e.name]!.map((t) => Math.round(t * 10) / 10)]));
          for (const e of engines) {
            const sorted = [...times[e.name]!].sort((a, b) => a - b);
            ms[e.name] = sorted[Math.floor(sorted.length / 2)]!;
          }
          const reference = answers[engines[0]!.name]!;
          const mismatches: Record<string, string> = {};
          for (const e of engines.slice(1)) {
            const d =
              firstDifference(answers[e.name]!, reference) ??
              freshAnswers[e.name]!.map((rows, i) => firstDifference(rows, freshAnswers[engines[0]!.name]![i]!)).find((x) => x !== undefined);
            if (d) {
              mismatches[e.name] = d;
              mismatched = true;
            }
          }
          results.push({ query: q.name, rows: reference.length, ms, mismatches, runMs, gcMs });
          process.stderr.write(`${q.name} done\n`);
        }
        print(variant, rows, bytes, loads, results, engines.map((e) => e.name));
        all.push({ variant, rows, bytes, loads, results });
      } finally {
        for (const close of closers) await close();
        rmSync(csv, { force: true });
      }
    }
    // Different rows make the figures meaningless: a script running the bench must see it failed.
    if (mismatched) process.exitCode = 1;
    return all;
  },
};

function print(variant: string, rows: number, bytes: number, loads: Array<{ system: string; ms: number; rows: number }>, results: QueryResult[], names: string[]): void {
  console.log(`\nTSBS cpu, ${variant} metrics: ${rows} rows, ${(bytes / 1e6).toFixed(0)} MB CSV`);
  console.log('\nload:');
  for (const l of loads) console.log(`  ${l.system.padEnd(12)} ${(l.rows / (l.ms / 1000)).toFixed(0).padStart(9)} rows/s  ${(l.ms / 1000).toFixed(1)} s`);
  const ratioTo = (base: string) => names.filter((n) => n !== base && n !== 'pglite' && n !== 'duckdb-wasm').map((n) => `${n}÷${base}`);
  const cols = [...names, ...(names.includes('duckdb-wasm') ? ratioTo('duckdb-wasm') : []), ...(names.includes('pglite') ? ratioTo('pglite') : [])];
  // Each column as wide as its heading and a space (22 at least).
  const width = (c: string) => Math.max(22, c.length + 2);
  console.log(`\n${'query'.padEnd(24)}${'rows'.padStart(7)}${cols.map((c) => c.padStart(width(c))).join('')}`);
  for (const r of results) {
    const cells = cols.map((c) => {
      const [a, b] = c.split('÷');
      if (b) return `${(r.ms[a!]! / r.ms[b]!).toFixed(2)}×`.padStart(width(c));
      return `${r.ms[c]!.toFixed(1)} ms`.padStart(width(c));
    });
    console.log(`${r.query.padEnd(24)}${String(r.rows).padStart(7)}${cells.join('')}`);
    for (const [engine, d] of Object.entries(r.mismatches)) console.log(`  !! ${engine} differs from ${names[0]}: ${d}`);
  }
  const geo = (name: string, base: string) => Math.exp(results.reduce((s, r) => s + Math.log(r.ms[name]! / r.ms[base]!), 0) / results.length);
  for (const c of cols.filter((x) => x.includes('÷'))) {
    const [a, b] = c.split('÷');
    console.log(`geometric mean ${c}: ${geo(a!, b!).toFixed(2)}×`);
  }
}

/** A full collection, through V8's gc() made reachable for this process. */
function fullCollection(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => gc();
}

/** Ms of garbage collection pauses between two performance.now() times (entries arrive after a turn). */
function gcPauses(): (from: number, to: number) => Promise<number> {
  const entries: Array<{ start: number; end: number }> = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) entries.push({ start: e.startTime, end: e.startTime + e.duration });
  }).observe({ entryTypes: ['gc'] });
  return async (from, to) => {
    await new Promise((resolve) => setImmediate(resolve));
    let ms = 0;
    for (const e of entries) ms += Math.max(0, Math.min(e.end, to) - Math.max(e.start, from));
    entries.splice(0, entries.length);
    return Math.round(ms * 10) / 10;
  };
}

/** A one-line progress bar per loading system, on stderr. */
function progressBar(): Progress {
  let last = '';
  let lastAt = 0;
  return (system, done, total) => {
    const now = performance.now();
    if (done < total && now - lastAt < 200 && system === last) return;
    lastAt = now;
    last = system;
    const width = 30;
    const filled = Math.round((done / total) * width);
    process.stderr.write(`\r  loading ${system.padEnd(12)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${((done / total) * 100).toFixed(0).padStart(3)}%${done >= total ? '\n' : ''}`);
  };
}
