/**
 * @module bench/suites/columnstore
 * `--suite columnstore [--hosts 100] [--rows 8640] [--trials 3]`: whole TSBS-style cpu chunks
 * (time, 9 tags, 10 metrics = 20 columns; 100 hosts every 10 s, 8640 rows per host = 24 h) through
 * the batch store: segmentby hostname, orderby time DESC, in two variants of the metrics (random
 * walks with 6 decimals, and rounded to integers). Prints bytes per row of the batch objects and of
 * the manifest, and rows/s of writing a chunk (grouping, sorting, encoding, storing in memory) and of
 * decoding every batch back to columns (from the cache). Timings: best of `--trials` (shared machine).
 */
import { performance } from 'node:perf_hooks';
import type { CompressionSettings } from '../../src/columnstore/batch.js';
import { loadCodecsNode } from '../../src/columnstore/codecs/load-node.js';
import { allocColumn, type Column, type Rows } from '../../src/columnstore/columns.js';
import { ColumnStore } from '../../src/columnstore/store.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { rng } from '../data/cpu-csv.js';
import type { Suite } from './suite.js';

const TAGS = ['hostname', 'region', 'datacenter', 'rack', 'os', 'arch', 'team', 'service', 'service_version'];
const METRICS = ['usage_user', 'usage_system', 'usage_idle', 'usage_nice', 'usage_iowait', 'usage_irq', 'usage_softirq', 'usage_steal', 'usage_guest', 'usage_guest_nice'];
const REGIONS = ['us-east-1', 'us-west-1', 'eu-west-1', 'eu-central-1', 'ap-northeast-1'];
const SETTINGS: CompressionSettings = { segmentBy: ['hostname'], orderBy: [{ column: 'time', desc: true }], timeColumn: 'time' };

export interface ColumnstoreResult {
  readonly variant: string;
  readonly rows: number;
  readonly batches: number;
  readonly batchBytesPerRow: number;
  readonly manifestBytesPerRow: number;
  readonly bytesPerRow: number;
  readonly writeRowsPerSecond: number;
  readonly decodeRowsPerSecond: number;
}

/** TSBS cpu rows in arrival order (time-major, hosts interleaved), seeded. */
function cpuRows(hosts: number, perHost: number, integers: boolean, seed = 42): Rows {
  const rand = rng(seed);
  const n = hosts * perHost;
  const time = allocColumn('timestamptz', n) as Extract<Column, { type: 'timestamptz' }>;
  const tags = TAGS.map(() => allocColumn('text', n) as Extract<Column, { type: 'text' }>);
  const metrics = METRICS.map(() => allocColumn('float8', n) as Extract<Column, { type: 'float8' }>);
  const tagValues = Array.from({ length: hosts }, (_, h) => {
    const region = REGIONS[h % REGIONS.length]!;
    return [`host_${h}`, region, `${region}${'abc'[h % 3]}`, String(h % 100), ['Ubuntu16.04LTS', 'Ubuntu15.10', 'Ubuntu16.10'][h % 3]!, ['x64', 'x86'][h % 2]!, `team_${h % 7}`, String(h % 20), String(h % 2)];
  });
  const walks = Array.from({ length: hosts * METRICS.length }, () => rand() * 100);
  const start = 757_382_400_000_000n; // 2024-01-01 in µs since 2000-01-01
  for (let i = 0; i < n; i++) {
    const h = i % hosts;
    time.values[i] = start + BigInt(Math.floor(i / hosts)) * 10_000_000n;
    tags.forEach((t, k) => (t.values[i] = tagValues[h]![k]!));
    metrics.forEach((m, k) => {
      const w = (walks[h * METRICS.length + k] = Math.min(100, Math.max(0, walks[h * METRICS.length + k]! + (rand() - 0.5) * 2)));
      m.values[i] = integers ? Math.round(w) : Math.round(w * 1e6) / 1e6;
    });
  }
  return { names: ['time', ...TAGS, ...METRICS], columns: [time, ...tags, ...metrics] };
}

function best(trials: number, f: () => Promise<void>): Promise<number> {
  return (async () => {
    let min = Infinity;
    for (let t = 0; t < trials; t++) {
      const s = performance.now();
      await f();
      min = Math.min(min, performance.now() - s);
    }
    return min / 1000;
  })();
}

export const columnstoreSuite: Suite = {
  name: 'columnstore',
  options: {
    hosts: { type: 'string', default: '100' },
    rows: { type: 'string', default: '8640' },
    trials: { type: 'string', default: '3' },
  },
  async run(args) {
    const wasm = await loadCodecsNode();
    const trials = Number(args.trials);
    const results: ColumnstoreResult[] = [];
    console.log(`${'variant'.padEnd(12)} ${'rows'.padStart(8)} ${'batches'.padStart(8)} ${'batch B/row'.padStart(12)} ${'manifest'.padStart(9)} ${'B/row'.padStart(7)} ${'write rows/s'.padStart(13)} ${'decode rows/s'.padStart(14)}`);
    for (const integers of [false, true]) {
      const rows = cpuRows(Number(args.hosts), Number(args.rows), integers);
      const n = rows.columns[0]!.values.length;
      const storage = new MemoryStorage();
      const cs = new ColumnStore(storage, wasm, { cacheBytes: 1 << 30 });
      let chunk = 0;
      let manifestKey = '';
      const writeSeconds = await best(trials, async () => {
        manifestKey = (await cs.writeChunk(1, ++chunk, rows, SETTINGS)).key;
      });
      const m = await cs.readManifest(manifestKey);
      const batchBytes = m.batches.reduce((s, b) => s + b.bytes, 0);
      const manifestBytes = (await storage.get(manifestKey))!.length;
      const decodeSeconds = await best(trials, async () => {
        for (let b = 0; b < m.batches.length; b++) await cs.readBatch(m, b);
      });
      const r: ColumnstoreResult = {
        variant: integers ? 'integers' : '6 decimals',
        rows: n,
        batches: m.batches.length,
        batchBytesPerRow: batchBytes / n,
        manifestBytesPerRow: manifestBytes / n,
        bytesPerRow: (batchBytes + manifestBytes) / n,
        writeRowsPerSecond: n / writeSeconds,
        decodeRowsPerSecond: n / decodeSeconds,
      };
      results.push(r);
      console.log(
        `${r.variant.padEnd(12)} ${String(n).padStart(8)} ${String(r.batches).padStart(8)} ${r.batchBytesPerRow.toFixed(2).padStart(12)} ${r.manifestBytesPerRow.toFixed(3).padStart(9)} ${r.bytesPerRow.toFixed(2).padStart(7)} ${Math.round(r.writeRowsPerSecond).toLocaleString('en').padStart(13)} ${Math.round(r.decodeRowsPerSecond).toLocaleString('en').padStart(14)}`,
      );
    }
    return results;
  },
};
