/**
 * @module bench/suites/codecs
 * `--suite codecs [--hosts 100] [--rows 2000] [--trials 5]`: the columnstore codecs on TSBS-like cpu
 * columns, one 1000-row batch per host and column (as direct compress will write them). Prints, per
 * column, the codecs chosen, bytes/value, and encode/decode M values/s through the public column API
 * (header, NULL handling and copies included) for the WebAssembly backend, the reference backend's
 * decode speed, and the size if fflate deflated each encoded batch on top.
 * "stream dec" decodes the value stream into a reused array (what scans over batches do); "dec"
 * goes through decodeColumn and allocates its output. Each timing first runs its loop for 300 ms:
 * V8 starts WebAssembly in its baseline compiler and tiers hot functions up only after many calls
 * (cold decoding measured about half as fast). Timings are the best of `--trials` wall-clock runs
 * (the machine is shared: trust ratios).
 */
import { deflateSync } from 'fflate';
import { performance } from 'node:perf_hooks';
import {
  ReferenceBackend,
  decodeColumn,
  encodeColumn,
  readColumnHeader,
  type CodecBackend,
  type ColumnInput,
  type IntValues,
} from '../../src/columnstore/codecs/index.js';
import { loadCodecsNode } from '../../src/columnstore/codecs/load-node.js';
import { cpuColumns } from '../data/cpu-columns.js';
import type { Suite } from './suite.js';

const CODEC_NAMES = ['all-null', 'constant', 'pack', 'rle', 'dict', 'decimal', 'gorilla', 'text-dict'];
const BATCH = 1000;

export interface CodecResult {
  readonly column: string;
  readonly codecs: string;
  readonly values: number;
  readonly bytesPerValue: number;
  readonly encodeMValuesPerSecond: number;
  readonly decodeMValuesPerSecond: number;
  readonly streamDecodeMValuesPerSecond: number;
  readonly referenceDecodeMValuesPerSecond: number;
  readonly deflatedBytesPerValue: number;
}

function bestOf(trials: number, f: () => void, warmUpMs = 300): number {
  const warm = performance.now();
  while (performance.now() - warm < warmUpMs) f();
  let best = Infinity;
  for (let t = 0; t < trials; t++) {
    const start = performance.now();
    f();
    best = Math.min(best, performance.now() - start);
  }
  return best / 1000;
}

/** Decodes every batch's value stream into one reused array (text: through decodeColumn). */
function streamDecoder(backend: CodecBackend, like: ColumnInput, encoded: Uint8Array[]): () => void {
  const offsets = encoded.map((e) => readColumnHeader(e).bodyOffset);
  if (like.kind === 'text') return () => encoded.forEach((e) => decodeColumn(backend, e));
  if (like.kind === 'float64' || like.kind === 'float32') {
    const out = like.kind === 'float64' ? new Float64Array(BATCH) : new Float32Array(BATCH);
    return () => encoded.forEach((e, i) => backend.decodeFloats(e, offsets[i]!, out));
  }
  const out = new (like.values.constructor as new (n: number) => IntValues)(BATCH);
  return () => encoded.forEach((e, i) => backend.decodeInts(e, offsets[i]!, out));
}

function measure(name: string, batches: ColumnInput[], wasm: CodecBackend, reference: CodecBackend, trials: number): CodecResult {
  const values = batches.length * BATCH;
  const encoded = batches.map((b) => encodeColumn(wasm, b));
  const bytes = encoded.reduce((s, e) => s + e.length, 0);
  const codecs = [...new Set(encoded.map((e) => CODEC_NAMES[readColumnHeader(e).codec]))].join('+');
  const encodeSeconds = bestOf(trials, () => batches.forEach((b) => encodeColumn(wasm, b)));
  const int64As = batches[0]!.values instanceof Float64Array ? 'number' : 'bigint';
  const decodeSeconds = bestOf(trials, () => encoded.forEach((e) => decodeColumn(wasm, e, { int64As })));
  const streamSeconds = bestOf(trials, streamDecoder(wasm, batches[0]!, encoded));
  const sample = encoded.slice(0, 3);
  const referenceSeconds = bestOf(1, () => sample.forEach((e) => decodeColumn(reference, e)), 0);
  const deflated = encoded.reduce((s, e) => s + deflateSync(e, { level: 6 }).length, 0);
  return {
    column: name,
    codecs,
    values,
    bytesPerValue: bytes / values,
    encodeMValuesPerSecond: values / encodeSeconds / 1e6,
    decodeMValuesPerSecond: values / decodeSeconds / 1e6,
    streamDecodeMValuesPerSecond: values / streamSeconds / 1e6,
    referenceDecodeMValuesPerSecond: (sample.length * BATCH) / referenceSeconds / 1e6,
    deflatedBytesPerValue: deflated / values,
  };
}

export const codecsSuite: Suite = {
  name: 'codecs',
  options: {
    hosts: { type: 'string', default: '100' },
    rows: { type: 'string', default: '2000' },
    trials: { type: 'string', default: '5' },
  },
  async run(args) {
    const wasm = await loadCodecsNode();
    const reference = new ReferenceBackend();
    const columns = cpuColumns(Number(args.hosts), Number(args.rows), BATCH);
    const results: CodecResult[] = [];
    console.log(
      `${'column'.padEnd(30)} ${'codec'.padEnd(16)} ${'B/value'.padStart(8)} ${'enc M/s'.padStart(8)} ${'dec M/s'.padStart(8)} ${'stream'.padStart(8)} ${'ref dec'.padStart(8)} ${'+deflate'.padStart(8)}`,
    );
    for (const [name, batches] of Object.entries(columns)) {
      const r = measure(name, batches, wasm, reference, Number(args.trials));
      results.push(r);
      console.log(
        `${name.padEnd(30)} ${r.codecs.padEnd(16)} ${r.bytesPerValue.toFixed(3).padStart(8)} ${r.encodeMValuesPerSecond.toFixed(1).padStart(8)} ${r.decodeMValuesPerSecond.toFixed(1).padStart(8)} ${r.streamDecodeMValuesPerSecond.toFixed(1).padStart(8)} ${r.referenceDecodeMValuesPerSecond.toFixed(2).padStart(8)} ${r.deflatedBytesPerValue.toFixed(3).padStart(8)}`,
      );
    }
    return results;
  },
};
