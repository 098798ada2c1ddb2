/**
 * @module bench/suites/kernels
 * `--suite kernels [--hosts 100] [--rows 8640] [--chunk-hours 12] [--trials 3]`: aggregate queries
 * over TSBS cpu rows (bench/data/cpu-rows.ts, 6-decimal metrics) compressed as TimescaleDB would
 * (segmentby hostname, orderby time DESC, one chunk per `--chunk-hours`), answered by the kernels
 * (WebAssembly) over the batch store, versus the same SQL in plain PGlite over the uncompressed rows
 * (index on hostname, time DESC, as TSBS creates it), in the same run. time_bucket is written
 * `date_bin(…, '2000-01-03')` for PGlite, which has no TimescaleDB. Each result is checked equal
 * (max exactly, averages within 1e-9 relative). Prints ms (best of `--trials`), rows/s and values/s
 * (rows in range × aggregated columns, per second), and how batches were answered. `--reference`
 * also times the TypeScript reference backend (one run). A last line times the kernels alone over
 * columns already decoded (bucketize by hour + one aggregate pass per batch).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { CompressionSettings } from '../../src/columnstore/batch.js';
import { loadCodecsNode } from '../../src/columnstore/codecs/load-node.js';
import type { Column, Rows } from '../../src/columnstore/columns.js';
import { aggregateChunks, finalize, ReferenceKernels, type AggregateSpec, type KernelBackend } from '../../src/columnstore/kernels/index.js';
import { loadKernelsNode } from '../../src/columnstore/kernels/load-node.js';
import type { Manifest } from '../../src/columnstore/manifest.js';
import { writeCopyBinary } from '../../src/columnstore/pg-binary-writer.js';
import { ColumnStore } from '../../src/columnstore/store.js';
import { takeRows } from '../../src/columnstore/columns.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { cpuRows, METRICS, TAGS } from '../data/cpu-rows.js';
import type { Suite } from './suite.js';

const HOUR = 3_600_000_000n;
const START = 757_382_400_000_000n; // 2024-01-01, as cpuRows
const EPOCH_2000_SQL = "TIMESTAMPTZ '2000-01-01 00:00:00+00'";
const SETTINGS: CompressionSettings = { segmentBy: ['hostname'], orderBy: [{ column: 'time', desc: true }], timeColumn: 'time' };

interface Query {
  readonly name: string;
  readonly spec: AggregateSpec;
  readonly sql: string;
  /** Aggregated value columns (for values/s). */
  readonly columns: number;
  /** Rows the query ranges over. */
  rowsIn(time: BigInt64Array): number;
}

function at(us: bigint): string {
  return `${EPOCH_2000_SQL} + ${us} * INTERVAL '1 microsecond'`;
}

function queries(): Query[] {
  const lo = START + 6n * HOUR;
  const hi = lo + 12n * HOUR;
  const all = (t: BigInt64Array): number => t.length;
  const bucketSql = `(extract(epoch FROM date_bin('1 hour', time, TIMESTAMPTZ '2000-01-03 00:00:00+00')) * 1000000)::bigint - 946684800000000`;
  return [
    {
      name: 'max by hour, host',
      spec: { bucket: { widthUs: HOUR }, groupBy: ['hostname'], aggregates: [{ fn: 'max', column: 'usage_user' }] },
      sql: `SELECT hostname, ${bucketSql} AS b, max(usage_user) FROM cpu GROUP BY 1, 2`,
      columns: 1,
      rowsIn: all,
    },
    {
      name: 'max by hour, host, 12 h',
      spec: {
        bucket: { widthUs: HOUR },
        groupBy: ['hostname'],
        filters: [{ column: 'time', op: '>=', value: lo }, { column: 'time', op: '<', value: hi }],
        aggregates: [{ fn: 'max', column: 'usage_user' }],
      },
      sql: `SELECT hostname, ${bucketSql} AS b, max(usage_user) FROM cpu WHERE time >= ${at(lo)} AND time < ${at(hi)} GROUP BY 1, 2`,
      columns: 1,
      rowsIn: (t) => t.filter((x) => x >= lo && x < hi).length,
    },
    {
      name: 'avg of 3, whole table',
      spec: { aggregates: ['usage_user', 'usage_system', 'usage_idle'].map((column) => ({ fn: 'avg' as const, column })) },
      sql: 'SELECT avg(usage_user), avg(usage_system), avg(usage_idle) FROM cpu',
      columns: 3,
      rowsIn: all,
    },
    {
      name: 'count, min, max by host',
      spec: { groupBy: ['hostname'], aggregates: [{ fn: 'count' }, { fn: 'min', column: 'usage_user' }, { fn: 'max', column: 'usage_user' }] },
      sql: 'SELECT hostname, count(*), min(usage_user), max(usage_user) FROM cpu GROUP BY 1',
      columns: 1,
      rowsIn: all,
    },
  ];
}

async function best(trials: number, f: () => Promise<void>): Promise<number> {
  let min = Infinity;
  for (let t = 0; t < trials; t++) {
    const s = performance.now();
    await f();
    min = Math.min(min, performance.now() - s);
  }
  return min;
}

/** Result rows as [group key, numbers]: keys compared exactly, values within the tolerance. */
function canonical(rows: readonly (readonly unknown[])[], keys: number): [string, number[]][] {
  return rows
    .map((r): [string, number[]] => [r.slice(0, keys).map(String).join('|'), r.slice(keys).map(Number)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function equalWithin(a: [string, number[]][], b: [string, number[]][]): boolean {
  return a.length === b.length && a.every(([k, v], i) => k === b[i]![0] && v.every((x, j) => Math.abs(x - b[i]![1][j]!) <= 1e-9 * Math.max(1, Math.abs(x))));
}

/** One chunk per `hours` of time, as create_hypertable's chunk_time_interval cuts them. */
function chunks(rows: Rows, hours: number): Rows[] {
  const time = rows.columns[0]!.values as BigInt64Array;
  const width = BigInt(hours) * HOUR;
  const byChunk = new Map<bigint, number[]>();
  time.forEach((t, i) => {
    const k = (t - START) / width;
    let list = byChunk.get(k);
    if (!list) byChunk.set(k, (list = []));
    list.push(i);
  });
  return [...byChunk.values()].map((idx) => ({ names: rows.names, columns: rows.columns.map((c) => takeRows(c, idx)) }));
}

export const kernelsSuite: Suite = {
  name: 'kernels',
  options: {
    hosts: { type: 'string', default: '100' },
    rows: { type: 'string', default: '8640' },
    'chunk-hours': { type: 'string', default: '12' },
    trials: { type: 'string', default: '3' },
    /** Also time the TypeScript reference backend (BigInt per row: slow). */
    reference: { type: 'boolean', default: false },
  },
  async run(args) {
    const trials = Number(args.trials);
    const [codecs, kernels] = await Promise.all([loadCodecsNode(), loadKernelsNode()]);
    const rows = cpuRows(Number(args.hosts), Number(args.rows), false);
    const n = rows.columns[0]!.values.length;
    const time = rows.columns[0]!.values as BigInt64Array;

    const store = new ColumnStore(new MemoryStorage(), codecs, { cacheBytes: 1 << 30 });
    const t0 = performance.now();
    const manifests: Manifest[] = [];
    let id = 0;
    for (const part of chunks(rows, Number(args['chunk-hours']))) manifests.push(await store.writeChunk(1, ++id, part, SETTINGS));
    console.log(`${n.toLocaleString('en')} rows, ${manifests.length} chunks, ${manifests.reduce((s, m) => s + m.batches.length, 0)} batches, compressed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const { PGlite } = await import('@electric-sql/pglite');
    const db = await PGlite.create('memory://', { loadDataDir: new Blob([readFileSync('dist/pgdata-template.tar.gz')]) });
    const columns = ['time timestamptz', ...TAGS.map((t) => `${t} text`), ...METRICS.map((m) => `${m} float8`)];
    await db.exec(`SET TIME ZONE 'UTC'; CREATE TABLE cpu (${columns.join(', ')}); CREATE INDEX ON cpu (hostname, time DESC)`);
    const t1 = performance.now();
    const piece = 100_000;
    for (let at = 0; at < n; at += piece) {
      const idx = Array.from({ length: Math.min(piece, n - at) }, (_, i) => at + i);
      const bytes = writeCopyBinary(rows.columns.map((c: Column) => takeRows(c, idx)));
      await db.query("COPY cpu FROM '/dev/blob' WITH (FORMAT binary)", [], { blob: new Blob([bytes as Uint8Array<ArrayBuffer>]) });
    }
    await db.exec('ANALYZE cpu');
    console.log(`plain PGlite loaded in ${((performance.now() - t1) / 1000).toFixed(1)} s`);

    const results = [];
    console.log(`${'query'.padEnd(26)} ${'system'.padEnd(8)} ${'ms'.padStart(9)} ${'M rows/s'.padStart(9)} ${'M values/s'.padStart(11)} ${'speed-up'.padStart(9)}  batches (decoded/manifest/skipped)`);
    for (const q of queries()) {
      const inRange = q.rowsIn(time);
      let ours: readonly (readonly unknown[])[] = [];
      let stats = { decoded: 0, fromManifest: 0, skipped: 0 };
      const run = async (k: KernelBackend): Promise<void> => {
        const p = (await aggregateChunks(store, manifests, q.spec, k))!;
        stats = p.stats;
        ours = finalize(p).map((r) => [...r.key, ...(r.bucket === null ? [] : [r.bucket]), ...r.values]);
      };
      const referenceMs = args.reference ? await best(1, () => run(new ReferenceKernels())) : undefined;
      const kernelMs = await best(trials, () => run(kernels));
      let theirs: unknown[][] = [];
      const pgMs = await best(trials, async () => {
        theirs = (await db.query<unknown[]>(q.sql, [], { rowMode: 'array' })).rows;
      });
      const keys = (q.spec.groupBy?.length ?? 0) + (q.spec.bucket ? 1 : 0);
      const a = canonical(ours, keys);
      const b = canonical(theirs, keys);
      const equal = equalWithin(a, b);
      if (!equal) throw new Error(`${q.name}: kernels and PGlite disagree (${a.length} vs ${b.length} rows; first ${JSON.stringify(a[0])} vs ${JSON.stringify(b[0])})`);
      const systems: [string, number][] = [['kernels', kernelMs], ['pglite', pgMs]];
      if (referenceMs !== undefined) systems.push(['ref-ts', referenceMs]);
      for (const [system, ms] of systems) {
        const r = { query: q.name, system, ms, rows: inRange, rowsPerSecond: inRange / (ms / 1000), valuesPerSecond: (inRange * q.columns) / (ms / 1000), resultRows: a.length, equal, batches: system === 'kernels' ? stats : undefined };
        results.push(r);
        console.log(
          `${q.name.padEnd(26)} ${system.padEnd(8)} ${ms.toFixed(1).padStart(9)} ${(r.rowsPerSecond / 1e6).toFixed(2).padStart(9)} ${(r.valuesPerSecond / 1e6).toFixed(2).padStart(11)} ${(system === 'kernels' ? `${(pgMs / kernelMs).toFixed(1)}×` : '').padStart(9)}  ${system === 'kernels' ? `${stats.decoded}/${stats.fromManifest}/${stats.skipped}` : ''}`,
        );
      }
    }
    await db.close();

    // The kernels alone, on columns already decoded: bucketize (1 hour) + one aggregate pass.
    const decoded: Rows[] = [];
    for (const m of manifests) for (let b = 0; b < m.batches.length; b++) decoded.push(await store.readBatch(m, b, ['time', 'usage_user']));
    for (const [system, k] of [['kernels', kernels], ['ref-ts', new ReferenceKernels()]] as const) {
      const ms = await best(system === 'kernels' ? trials : 1, async () => {
        for (const batch of decoded) {
          k.bucketize(batch.columns[0]!.values as BigInt64Array, { lo: -(1n << 63n), hi: (1n << 63n) - 1n }, { width: HOUR, origin: 2n * 24n * HOUR }, null);
          k.aggregate(batch.columns[1]!.values as Float64Array, null);
        }
      });
      const r = { query: 'kernel only: bucket + aggregate', system, ms, rows: n, rowsPerSecond: n / (ms / 1000), valuesPerSecond: n / (ms / 1000) };
      results.push(r);
      console.log(`${'kernel only (decoded)'.padEnd(26)} ${system.padEnd(8)} ${ms.toFixed(1).padStart(9)} ${(r.rowsPerSecond / 1e6).toFixed(2).padStart(9)} ${(r.valuesPerSecond / 1e6).toFixed(2).padStart(11)}`);
    }
    return results;
  },
};
