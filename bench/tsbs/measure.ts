/**
 * @module bench/tsbs/measure
 * The timed part of the TSBS suite: every query type once on each engine (the warm-up, whose rows
 * are compared), then each query type's `runs` timed runs, with every run's ms, its
 * garbage-collection pauses and the normalised rows of each run kept for the comparison. All
 * warm-ups come first so that the first query type's runs do not pay for warming up what every
 * query shares (the JIT's work on the engine's code: in a process of its own, single-groupby-1-1-1's
 * runs fell from 23 ms to 1.2 ms over nine runs when its one warm-up came just before them). What it returns is plain JSON, so an engine measured in a process of its own
 * (`--isolate`, bench/tsbs/isolate.ts) reports the same thing as one measured here.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { normalise } from './compare.js';
import type { TsbsQuery } from './queries.js';
import type { TsbsEngine } from './systems.js';

export interface Load {
  readonly system: string;
  readonly ms: number;
  readonly rows: number;
}

/** One query type on the engines measured. */
export interface QueryMeasurement {
  /** Per engine, the warm-up's rows (normalised). */
  readonly answers: Record<string, string[]>;
  /** Per engine, each timed run's rows (normalised), when every run sends a new instance. */
  readonly fresh: Record<string, string[][]>;
  /** Per engine, each timed run's ms, in run order. */
  readonly ms: Record<string, number[]>;
  /** Per engine, ms of garbage-collection pauses inside each timed run (this process's). */
  readonly gcMs: Record<string, number[]>;
}

export interface Measurement {
  readonly engines: string[];
  readonly loads: Load[];
  readonly queries: Record<string, QueryMeasurement>;
}

export interface MeasureOptions {
  readonly runs: number;
  /** The query types to run, in order. */
  readonly chosen: readonly TsbsQuery[];
  /** Instance r of a query type for timed run r (a new one per run, or the warm-up's again). */
  instance(run: number, name: string): TsbsQuery;
  /** Whether each timed run sends a new instance (its rows are then compared too). */
  readonly fresh: boolean;
  /** A full collection before each timed run, outside its time. */
  readonly gc: boolean;
}

export async function measure(engines: readonly TsbsEngine[], loads: Load[], o: MeasureOptions): Promise<Measurement> {
  const collect = o.gc ? fullCollection() : undefined;
  const pauses = gcPauses();
  const queries: Record<string, QueryMeasurement> = {};
  for (const q of o.chosen) {
    const m: QueryMeasurement = { answers: {}, fresh: {}, ms: {}, gcMs: {} };
    for (const e of engines) {
      const first = await e.query(q.sql[e.dialect]); // warm-up; also the rows compared
      m.answers[e.name] = normalise(first.rows, first.columns, q.unordered === true);
      m.fresh[e.name] = [];
      m.ms[e.name] = [];
      m.gcMs[e.name] = [];
    }
    queries[q.name] = m;
  }
  for (const q of o.chosen) {
    const m = queries[q.name]!;
    for (let i = 0; i < o.runs; i++) {
      // Engines sharing caches (orbit and orbit-tcp are one server) take turns being the first
      // to see a fresh instance.
      for (const e of [...engines.slice(i % engines.length), ...engines.slice(0, i % engines.length)]) {
        const sql = o.instance(i, q.name).sql[e.dialect];
        collect?.();
        const t0 = performance.now();
        const r = await e.query(sql);
        const t1 = performance.now();
        m.ms[e.name]!.push(t1 - t0);
        m.gcMs[e.name]!.push(await pauses(t0, t1));
        if (o.fresh) m.fresh[e.name]![i] = normalise(r.rows, r.columns, q.unordered === true);
      }
    }
    process.stderr.write(`${q.name} done${engines.length === 1 ? ` (${engines[0]!.name})` : ''}\n`);
  }
  return { engines: engines.map((e) => e.name), loads, queries };
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
