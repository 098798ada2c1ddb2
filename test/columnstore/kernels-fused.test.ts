/**
 * The fused path of kernels.wasm (decoders compiled into the kernels module): bucketize and
 * aggregate straight from encoded column streams must give, bit for bit, what decoding with the
 * TypeScript reference codecs and running the TypeScript reference kernels gives. Data: the codec
 * property generators (every codec, NULL patterns, extremes, NaN payloads, -0.0) under several
 * time ranges and bucket widths; malformed streams are data_corrupted (XX001).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeColumn, encodeColumn, readColumnHeader, ReferenceBackend, type ColumnInput } from '../../src/columnstore/codecs/index.js';
import type { PgType } from '../../src/columnstore/columns.js';
import { ReferenceKernels, WasmKernels, type EncodedColumn, type KernelValues, type TimeRange } from '../../src/columnstore/kernels/index.js';
import { loadKernelsNode } from '../../src/columnstore/kernels/load-node.js';
import { OrbitError } from '../../src/errors.js';
import { Prng } from '../support/prng.js';
import { floatCases, intCases } from './codecs/generators.js';

const codecs = new ReferenceBackend();
const ref = new ReferenceKernels();
let wasm: WasmKernels;
beforeAll(async () => {
  wasm = await loadKernelsNode();
});

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const HOUR = 3_600_000_000n;
const TYPE_OF: Record<string, PgType> = { int64: 'int8', timestamp: 'timestamptz', int32: 'int4', int16: 'int2', float64: 'float8', float32: 'float4' };

function encoded(column: ColumnInput, type: PgType): { bytes: Uint8Array; column: EncodedColumn } {
  const bytes = encodeColumn(codecs, column);
  const h = readColumnHeader(bytes);
  return { bytes, column: { type, stream: bytes.subarray(h.bodyOffset), rows: h.count, nonNull: h.count - h.nullCount, nulls: h.nulls } };
}

function same(a: ArrayLike<unknown>, b: ArrayLike<unknown>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

const cases = [
  ...(['int64', 'timestamp', 'int32', 'int16'] as const).flatMap((k) => intCases(k, 11)),
  ...(['float64', 'float32'] as const).flatMap((k) => floatCases(k, 12)),
];

describe('fused decode + aggregate (kernels.wasm) vs reference codecs + reference kernels', () => {
  it(`agrees bit for bit on ${cases.length} encoded columns`, () => {
    const p = new Prng(5);
    let checked = 0;
    for (const c of cases) {
      const n = c.column.values.length;
      const type = TYPE_OF[c.column.kind]!;
      // Times: regular 10 s steps from a random origin, sometimes descending or with duplicates.
      const base = p.pick([757_382_400_000_000n, -3_155_760_000_000_000n, 0n]);
      const step = p.pick([10_000_000n, -10_000_000n, 0n, 1n]);
      const times = BigInt64Array.from({ length: n }, (_, i) => base + BigInt(i) * step + (p.chance(0.05) ? BigInt(p.int(1_000_000)) : 0n));
      const t = encoded({ kind: 'timestamp', values: times }, 'timestamptz');
      const v = encoded(c.column, type);
      const decoded = decodeColumn(codecs, v.bytes);
      const ranges: TimeRange[] = [
        { lo: INT64_MIN, hi: INT64_MAX },
        { lo: times[Math.floor(n / 3)]!, hi: times[Math.floor(n / 3)]! + 100_000_000n },
      ];
      for (const range of ranges) {
        for (const bucket of [null, { width: HOUR, origin: 0n }, { width: 60_000_000n, origin: 7n }]) {
          const rt = ref.bucketize(times, range, bucket, null);
          const wt = wasm.bucketizeEncoded(t.column, range, bucket);
          expect(wt.slots, c.name).toBe(rt.slots);
          expect(same(wt.buckets, rt.buckets) && same(wt.rows, rt.rows), c.name).toBe(true);
          if (rt.slots === 0) continue;
          const ra = ref.aggregate(decoded.values as KernelValues, decoded.nulls);
          const wa = wasm.aggregateEncoded(v.column);
          for (const key of ['count', 'sumFloat', 'nonFinite', 'min', 'max'] as const) {
            const a = ra[key];
            const b = wa[key];
            expect(a === null ? b === null : b !== null && same(a, b), `${c.name} ${key}`).toBe(true);
          }
          expect(wa.sumInt, c.name).toEqual(ra.sumInt);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(cases.length);
    // Every row in one slot, without times: as bucketize over zero times.
    for (const rows of [0, 1, 1000]) {
      const rt = ref.bucketize(new BigInt64Array(rows), { lo: INT64_MIN, hi: INT64_MAX }, null, null);
      const wt = wasm.bucketizeUniform(rows);
      expect([wt.slots, [...wt.buckets], [...wt.rows]]).toEqual([rt.slots, [...rt.buckets], [...rt.rows]]);
    }
  });

  it('raises data_corrupted for truncated or overlong streams', () => {
    const times = BigInt64Array.from({ length: 300 }, (_, i) => 1_000_000_000n + BigInt(i) * 10_000_000n);
    const t = encoded({ kind: 'timestamp', values: times }, 'timestamptz');
    const values = Float64Array.from({ length: 300 }, (_, i) => Math.round(Math.sin(i) * 1e6) / 1e3);
    const v = encoded({ kind: 'float64', values }, 'float8');
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (err) {
        return err instanceof OrbitError ? err.code : String(err);
      }
      return undefined;
    };
    const withStream = (c: EncodedColumn, stream: Uint8Array): EncodedColumn => ({ ...c, stream });
    expect(code(() => wasm.bucketizeEncoded(withStream(t.column, t.column.stream.subarray(0, 1)), { lo: INT64_MIN, hi: INT64_MAX }, null))).toBe('XX001');
    wasm.bucketizeEncoded(t.column, { lo: INT64_MIN, hi: INT64_MAX }, null);
    const longer = new Uint8Array(v.column.stream.length + 1);
    longer.set(v.column.stream);
    expect(code(() => wasm.aggregateEncoded(withStream(v.column, longer)))).toBe('XX001');
    expect(code(() => wasm.aggregateEncoded(withStream(v.column, v.column.stream.subarray(0, v.column.stream.length - 3))))).toBe('XX001');
    // The backend still works after the errors.
    expect(wasm.aggregateEncoded(v.column).count[0]).toBe(300);
  });
});
