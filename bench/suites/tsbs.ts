/**
 * @module bench/suites/tsbs
 * `--suite tsbs [--hours 72] [--variant decimal,ints] [--system orbit,orbit-tcp,orbit-tcp-raw,pglite,duckdb-wasm]
 * [--runs 5] [--pg postgres://…] [--queries a,b] [--rowstore | --compress] [--repeat] [--reuse] [--gc] [--isolate] [--load tcp|in-process]`:
 * the columnar fast-path issue's comparison tool. Generates the TSBS-style cpu data (100 hosts ×
 * hours × 10 s; 6-decimal and integer-valued variants), loads it into every engine (a progress bar on
 * stderr), runs the nine TSBS query types (bench/tsbs/queries.ts) on every engine (each type once to
 * warm up, then each type's `runs` timed runs: the median), checks that all engines return the same rows (exit code 1 when they
 * do not), and prints load rows/s and query ms with ratios against DuckDB-WASM and plain PGlite.
 *
 * The defaults are the published setting: Orbit loads by direct-to-columnstore COPY, every timed run
 * sends a new instance of each query (as TSBS does) and Orbit recomputes every answer.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCpuCsv } from '../data/cpu-csv.js';
import { firstDifference } from '../tsbs/compare.js';
import { measureIsolated, PG_SYSTEM } from '../tsbs/isolate.js';
import { measure, type Load, type Measurement, type MeasureOptions, type QueryMeasurement } from '../tsbs/measure.js';
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
    /**
     * Each system loads and runs in a Node process of its own, one after another (bench/tsbs/isolate.ts);
     * by default all share this process, where one engine's garbage lands in the next one's time.
     */
    isolate: { type: 'boolean', default: false },
    /** Internal (--isolate): the CSV the parent wrote, and the file a system's process writes its measurement to. */
    csv: { type: 'string' },
    worker: { type: 'string' },
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
    if (args.load !== 'tcp' && args.load !== 'in-process') throw new Error(`--load takes tcp or in-process, not ${String(args.load)}`);
    const fresh = args.repeat !== true;
    const only = typeof args.queries === 'string' ? new Set(args.queries.split(',')) : undefined;
    const chosen = tsbsQueries(hours).filter((q) => !only || only.has(q.name));
    if (chosen.length === 0) throw new Error(`--queries: none of ${String(args.queries)} is a TSBS query`);
    // Instance r of each query for timed run r (fresh), else the same query again.
    const instances = Array.from({ length: runs }, (_, r) => (fresh ? tsbsQueries(hours, TSBS_QUERY_SEED + 1 + r) : tsbsQueries(hours)));
    const options: MeasureOptions = { runs, chosen, fresh, gc: args.gc === true, instance: (r, name) => instances[r]!.find((x) => x.name === name)! };
    if (typeof args.worker === 'string') {
      // A system's own process under --isolate: measure, hand the parent the JSON, print nothing.
      const m = await measureHere(wanted, String(args.csv), rows, args, options);
      writeFileSync(args.worker, JSON.stringify(m));
      return undefined;
    }
    let mismatched = false;
    const all: unknown[] = [];
    for (const variant of String(args.variant).split(',')) {
      // Per process: concurrent runs on one machine would otherwise rewrite and delete each other's file.
      const csv = join(tmpdir(), `orbit-tsbs-${variant}-${hours}h-${process.pid}.csv`);
      process.stderr.write(`generating ${rows} rows (${variant}) … `);
      const bytes = await writeCpuCsv(csv, rows, 42, { ints: variant === 'ints' });
      process.stderr.write(`${(bytes / 1e6).toFixed(0)} MB\n`);
      try {
        const systems = [...ORDER.filter((s) => wanted.has(s)), ...(typeof args.pg === 'string' ? [PG_SYSTEM] : [])];
        const m = args.isolate === true ? await measureIsolated(systems, csv, variant, args) : await measureHere(wanted, csv, rows, args, options);
        const results = chosen.map((q) => summarise(q.name, m.engines, m.queries[q.name]!));
        if (results.some((r) => Object.keys(r.mismatches).length > 0)) mismatched = true;
        print(variant, rows, bytes, m.loads, results, m.engines);
        all.push({ variant, rows, bytes, isolated: args.isolate === true, loads: m.loads, results });
      } finally {
        rmSync(csv, { force: true });
      }
    }
    // Different rows make the figures meaningless: a script running the bench must see it failed.
    if (mismatched) process.exitCode = 1;
    return all;
  },
};

/** The systems in the order they load and are reported (the first one's rows are the reference). */
const ORDER = ['orbit', 'orbit-tcp', 'orbit-tcp-raw', 'pglite', 'duckdb-wasm'];

/** Loads the wanted systems (and the --pg URL) in this process and measures them. */
async function measureHere(wanted: Set<string>, csv: string, rows: number, args: Record<string, string | boolean | undefined>, options: MeasureOptions): Promise<Measurement> {
  const progress = progressBar();
  const engines: TsbsEngine[] = [];
  const loads: Load[] = [];
  const closers: Array<() => Promise<void>> = [];
  try {
    if (wanted.has('orbit') || wanted.has('orbit-tcp') || wanted.has('orbit-tcp-raw')) {
      const direct = args.rowstore !== true && args.compress !== true;
      const load = args.load as 'tcp' | 'in-process';
      const o = await startOrbit(csv, rows, progress, { compress: args.compress === true, direct, reuseResults: args.reuse === true, load });
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
    return await measure(engines, loads, options);
  } finally {
    for (const close of closers) await close();
  }
}

/** A query type's medians and row comparison (every engine against the first). */
function summarise(query: string, engines: readonly string[], m: QueryMeasurement): QueryResult {
  const ms: Record<string, number> = {};
  const runMs: Record<string, number[]> = {};
  for (const e of engines) {
    const sorted = [...m.ms[e]!].sort((a, b) => a - b);
    ms[e] = sorted[Math.floor(sorted.length / 2)]!;
    runMs[e] = m.ms[e]!.map((t) => Math.round(t * 10) / 10);
  }
  const reference = m.answers[engines[0]!]!;
  const mismatches: Record<string, string> = {};
  for (const e of engines.slice(1)) {
    const d = firstDifference(m.answers[e]!, reference) ?? m.fresh[e]!.map((rows, i) => firstDifference(rows, m.fresh[engines[0]!]![i]!)).find((x) => x !== undefined);
    if (d) mismatches[e] = d;
  }
  return { query, rows: reference.length, ms, mismatches, runMs, gcMs: m.gcMs };
}

function print(variant: string, rows: number, bytes: number, loads: Array<{ system: string; ms: number; rows: number }>, results: QueryResult[], names: string[]): void {
  console.log(`\nTSBS cpu, ${variant} metrics: ${rows} rows, ${(bytes / 1e6).toFixed(0)} MB CSV`);
  console.log('\nload:');
  const named = Math.max(12, ...loads.map((l) => l.system.length));
  for (const l of loads) console.log(`  ${l.system.padEnd(named)} ${(l.rows / (l.ms / 1000)).toFixed(0).padStart(9)} rows/s  ${(l.ms / 1000).toFixed(1)} s`);
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
