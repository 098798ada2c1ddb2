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
import { ColumnStore } from '../../src/columnstore/store.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { cpuRows } from '../data/cpu-rows.js';
import type { Suite } from './suite.js';

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
