/**
 * @module bench/tsbs/isolate
 * `--isolate`: each system loads and runs its queries in a Node process of its own, one process at
 * a time, as pgbench timed TimescaleDB against a server that ran nothing else. In one process the
 * engines share a heap and a JIT: a query's time then includes collecting what the engine before
 * it allocated (DuckDB-WASM's and PGlite's answers), which moved Orbit's millisecond queries by 2–3×
 * from run to run. The parent generates the data once and compares every process's rows.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Measurement } from './measure.js';

/** Options passed on to each system's process as they were given (the rest are set per process). */
const FORWARDED = ['hours', 'runs', 'queries', 'compress', 'rowstore', 'direct', 'repeat', 'reuse', 'gc', 'load'] as const;

/** The process's marker for the PostgreSQL URL given with --pg. */
export const PG_SYSTEM = 'postgres-url';

/**
 * Measures each of `systems` (and the --pg URL as PG_SYSTEM) in a child process running this bench
 * with `--worker`, on the CSV already written; returns their measurements merged, in `systems` order.
 */
export async function measureIsolated(systems: readonly string[], csv: string, variant: string, args: Record<string, string | boolean | undefined>): Promise<Measurement> {
  const dir = mkdtempSync(join(tmpdir(), 'orbit-tsbs-isolate-'));
  const merged: Measurement = { engines: [], loads: [], queries: {} };
  try {
    for (const system of systems) {
      const out = join(dir, `${system}.json`);
      const argv = ['--suite', 'tsbs', '--variant', variant, '--csv', csv, '--worker', out];
      argv.push('--system', system === PG_SYSTEM ? 'none' : system);
      if (system === PG_SYSTEM) argv.push('--pg', String(args.pg));
      for (const name of FORWARDED) {
        const v = args[name];
        if (v === true) argv.push(`--${name}`);
        else if (typeof v === 'string') argv.push(`--${name}`, v);
      }
      await child(argv);
      const m = JSON.parse(readFileSync(out, 'utf8')) as Measurement;
      merged.engines.push(...m.engines);
      // Every Orbit system loads its own copy: the loads say whose process it was.
      merged.loads.push(...m.loads.map((l) => (l.system === m.engines[0] ? l : { ...l, system: `${l.system} [${m.engines.join(',')}]` })));
      for (const [query, q] of Object.entries(m.queries)) {
        const into = (merged.queries[query] ??= { answers: {}, fresh: {}, ms: {}, gcMs: {} });
        Object.assign(into.answers, q.answers);
        Object.assign(into.fresh, q.fresh);
        Object.assign(into.ms, q.ms);
        Object.assign(into.gcMs, q.gcMs);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return merged;
}

/** Runs this bench (the same Node, loader flags and entry script) with `argv`; rejects on a failure. */
function child(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv], { stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('error', reject);
    p.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`bench process for ${argv.join(' ')} ended with ${signal ?? code}`))));
  });
}
