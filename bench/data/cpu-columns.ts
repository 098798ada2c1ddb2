/**
 * @module bench/data/cpu-columns
 * Seeded TSBS-like cpu columns, already cut into batches of one host each (hostname is the
 * segmentby column): 10 s timestamps, clamped random-walk metrics with 6 decimals, the same walk as
 * integer-valued floats and at full precision, hostnames, and a few columns that exercise the
 * repeated-value codecs (state runs, error codes, flags).
 */
import type { ColumnInput } from '../../src/columnstore/codecs/index.js';
import { rng } from './cpu-csv.js';

/** Columns by name; each is a list of batches (`batch` rows, one host per batch). */
export function cpuColumns(hosts: number, rowsPerHost: number, batch: number, seed = 42): Record<string, ColumnInput[]> {
  const rand = rng(seed);
  const start = 1_704_067_200_000_000; // 2024-01-01 in µs
  const out: Record<string, ColumnInput[]> = {
    'time (BigInt64Array µs)': [],
    'time (Float64Array µs)': [],
    'usage_user (6 decimals)': [],
    'usage_user (integers)': [],
    'usage_user (full precision)': [],
    'usage_guest (always 0)': [],
    'hostname (segment)': [],
    'hostname (100 hosts mixed)': [],
    'state int32 (runs)': [],
    'error code int64 (8 values)': [],
    'flag boolean (random)': [],
  };
  const codes = [0n, 404n, 500n, 503n, 1n << 40n, -1n, 7_000_000_000_000n, 42n];
  for (let h = 0; h < hosts; h++) {
    let walk = rand() * 100;
    let state = 0;
    for (let b0 = 0; b0 < rowsPerHost; b0 += batch) {
      const n = Math.min(batch, rowsPerHost - b0);
      const time = new Float64Array(n);
      const raw = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        time[i] = start + (b0 + i) * 10_000_000;
        walk = Math.min(100, Math.max(0, walk + (rand() - 0.5) * 2));
        raw[i] = walk;
      }
      out['time (BigInt64Array µs)']!.push({ kind: 'timestamp', values: BigInt64Array.from(time, BigInt) });
      out['time (Float64Array µs)']!.push({ kind: 'timestamp', values: time });
      out['usage_user (6 decimals)']!.push({ kind: 'float64', values: raw.map((v) => Math.round(v * 1e6) / 1e6) });
      out['usage_user (integers)']!.push({ kind: 'float64', values: raw.map(Math.round) });
      out['usage_user (full precision)']!.push({ kind: 'float64', values: raw });
      out['usage_guest (always 0)']!.push({ kind: 'float64', values: new Float64Array(n) });
      out['hostname (segment)']!.push({ kind: 'text', values: new Array<string>(n).fill(`host_${h}`) });
      out['hostname (100 hosts mixed)']!.push({ kind: 'text', values: Array.from({ length: n }, (_, i) => `host_${(b0 + i) % 100}`) });
      out['state int32 (runs)']!.push({
        kind: 'int32',
        values: Int32Array.from({ length: n }, () => (rand() < 0.01 ? (state = Math.floor(rand() * 5)) : state)),
      });
      out['error code int64 (8 values)']!.push({
        kind: 'int64',
        values: BigInt64Array.from({ length: n }, () => codes[Math.floor(rand() * codes.length)]!),
      });
      out['flag boolean (random)']!.push({ kind: 'boolean', values: Uint8Array.from({ length: n }, () => (rand() < 0.5 ? 1 : 0)) });
    }
  }
  return out;
}
