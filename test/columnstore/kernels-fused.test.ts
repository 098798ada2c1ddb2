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
import { ReferenceKernels, WasmKernels, type ColumnAggregates, type EncodedColumn, type KernelValues, type TimeRange, type ValueAggregates } from '../../src/columnstore/kernels/index.js';
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
          for (const key of ['count', 'sumFloat', 'floatFlags', 'min', 'max'] as const) {
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

describe('one-pass decode + aggregate of DECIMAL floats in one slot (decodeAggregateUniform)', () => {
  /** A WasmKernels whose one-pass export is counted: how many columns it answered (≥ 0) or passed on (−2). */
  async function counted(): Promise<{ kernels: WasmKernels; answered: () => number; passed: () => number }> {
    const inner = (wasm as unknown as { x: Record<string, unknown> }).x;
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(await (await import('node:fs/promises')).readFile((await import('../../src/columnstore/kernels/load-node.js')).kernelsWasmPath())), {});
    const exports = instance.exports as Record<string, unknown>;
    let answered = 0;
    let passed = 0;
    const one = exports.decodeAggregateUniform as (n: number, kind: number) => number;
    const wrapped = {
      ...exports,
      decodeAggregateUniform: (n: number, kind: number) => {
        const r = one(n, kind);
        if (r >= 0) answered++;
        else passed++;
        return r;
      },
    };
    expect(typeof inner.decodeAggregateUniform).toBe('function');
    return { kernels: new WasmKernels({ exports: wrapped } as unknown as WebAssembly.Instance), answered: () => answered, passed: () => passed };
  }

  it('gives the two-pass results bit for bit, float8 and float4, every PACK order and width', async () => {
    const { kernels, answered } = await counted();
    const p = new Prng(17);
    const columns: Array<{ name: string; kind: 'float64' | 'float32'; values: number[] }> = [];
    for (const kind of ['float64', 'float32'] as const) {
      const round = (x: number, k: number) => Number(x.toFixed(k));
      const f = kind === 'float32' ? Math.fround : (x: number) => x;
      columns.push(
        { name: 'random 6 decimals (order 0)', kind, values: Array.from({ length: 1000 }, () => f(round(p.next() * 100, 6))) },
        { name: 'a slow ramp (order 1/2)', kind, values: Array.from({ length: 1000 }, (_, i) => f(round(20 + i * 0.25, 2))) },
        { name: 'steady steps (order 2)', kind, values: Array.from({ length: 777 }, (_, i) => f(round(i * 1.5 - 300, 1))) },
        { name: 'negative and zero', kind, values: Array.from({ length: 300 }, (_, i) => f(round((i % 7) * -1.25, 2))) },
        { name: 'one value', kind, values: [f(3.5)] },
        { name: 'two values', kind, values: [f(3.5), f(-2.25)] },
      );
    }
    // A random walk (order 1), mantissas near 2^53 (widths above 56 bits), integers with large spreads.
    let walk = 5000;
    columns.push({ name: 'random walk', kind: 'float64', values: Array.from({ length: 1000 }, () => (walk += p.int(2001) - 1000) / 100) });
    columns.push({ name: 'wide mantissas', kind: 'float64', values: Array.from({ length: 500 }, (_, i) => (i % 2 ? 1 : -1) * (2 ** 52 + p.int(1_000_000)) / 10) });
    columns.push({ name: 'large integers', kind: 'float64', values: Array.from({ length: 400 }, () => p.int(2 ** 30) * 2 ** 20) });
    let oneShape = 0;
    const orders = new Set<number>();
    for (const c of columns) {
      const type: PgType = c.kind === 'float64' ? 'float8' : 'float4';
      const values = c.kind === 'float64' ? Float64Array.from(c.values) : Float32Array.from(c.values);
      const v = encoded({ kind: c.kind, values } as ColumnInput, type);
      const decoded = decodeColumn(codecs, v.bytes);
      ref.bucketize(new BigInt64Array(values.length), { lo: INT64_MIN, hi: INT64_MAX }, null, null);
      const ra = ref.aggregate(decoded.values as KernelValues, decoded.nulls);
      // Through bucketizeUniform, and through bucketize keeping every row in one slot.
      kernels.bucketizeUniform(values.length);
      const wa = kernels.aggregateEncoded(v.column);
      // DECIMAL (5), no exceptions, mantissas in PACK (2): the shape the one pass takes.
      const st = v.column.stream;
      if (st[0] === 5 && st[2] === 0 && st[3] === 2) {
        oneShape++;
        orders.add(st[4]!);
      }
      for (const key of ['count', 'sumFloat', 'floatFlags', 'min', 'max'] as const) expect(same(ra[key]!, wa[key]!), `${c.kind} ${c.name} ${key}`).toBe(true);
      kernels.bucketize(new BigInt64Array(values.length), { lo: INT64_MIN, hi: INT64_MAX }, { width: HOUR, origin: 0n }, null);
      const wb = kernels.aggregateEncoded(v.column);
      for (const key of ['count', 'sumFloat', 'floatFlags', 'min', 'max'] as const) expect(same(ra[key]!, wb[key]!), `${c.kind} ${c.name} ${key} (bucketize)`).toBe(true);
    }
    // The columns of that shape, every PACK order among them, were answered in one pass, twice.
    expect(oneShape).toBeGreaterThanOrEqual(6);
    expect([...orders].sort()).toEqual([0, 1, 2]);
    expect(answered()).toBe(oneShape * 2);
  });

  it('passes other streams on to the two passes: exceptions (NaN, -0, ±Infinity), Gorilla, constants, NULLs, several slots', async () => {
    const { kernels, answered, passed } = await counted();
    const base = Array.from({ length: 400 }, (_, i) => Number(((i * 37) % 101 / 7).toFixed(3)));
    const cases: Array<{ name: string; values: Float64Array; nulls?: boolean }> = [
      { name: 'a NaN', values: Float64Array.from(base.map((x, i) => (i === 17 ? NaN : x))) },
      { name: '-0 and +0', values: Float64Array.from(base.map((x, i) => (i === 3 ? -0 : i === 9 ? 0 : x))) },
      { name: '±Infinity', values: Float64Array.from(base.map((x, i) => (i === 5 ? Infinity : i === 6 ? -Infinity : x))) },
      { name: 'large and non-finite', values: Float64Array.from(base.map((x, i) => (i === 5 ? NaN : i === 300 ? -1e200 : x))) },
      { name: 'full precision (Gorilla)', values: Float64Array.from(base.map((_, i) => Math.sin(i) * Math.PI)) },
      { name: 'constant', values: new Float64Array(400).fill(2.5) },
    ];
    for (const c of cases) {
      const v = encoded({ kind: 'float64', values: c.values }, 'float8');
      const decoded = decodeColumn(codecs, v.bytes);
      ref.bucketize(new BigInt64Array(c.values.length), { lo: INT64_MIN, hi: INT64_MAX }, null, null);
      const ra = ref.aggregate(decoded.values as KernelValues, decoded.nulls);
      kernels.bucketizeUniform(c.values.length);
      const wa = kernels.aggregateEncoded(v.column);
      for (const key of ['count', 'sumFloat', 'floatFlags', 'min', 'max'] as const) expect(same(ra[key]!, wa[key]!), `${c.name} ${key}`).toBe(true);
    }
    const oneShot = answered();
    // NULLs, or rows in two slots: the one-pass export is not even called.
    const withNulls = encoded({ kind: 'float64', values: Float64Array.from(base), nulls: Uint8Array.from({ length: (base.length + 7) >> 3 }, () => 0b100001) } as ColumnInput, 'float8');
    const times = BigInt64Array.from(base, (_, i) => BigInt(i) * 60_000_000n);
    for (const [name, column] of [['NULLs', withNulls], ['two slots', encoded({ kind: 'float64', values: Float64Array.from(base) }, 'float8')]] as const) {
      const decoded = decodeColumn(codecs, column.bytes);
      const bucket = name === 'two slots' ? { width: HOUR, origin: 0n } : null;
      const bt = name === 'two slots' ? times : new BigInt64Array(base.length);
      ref.bucketize(bt, { lo: INT64_MIN, hi: INT64_MAX }, bucket, null);
      kernels.bucketize(bt, { lo: INT64_MIN, hi: INT64_MAX }, bucket, null);
      const ra = ref.aggregate(decoded.values as KernelValues, decoded.nulls);
      const wa = kernels.aggregateEncoded(column.column);
      for (const key of ['count', 'sumFloat', 'floatFlags', 'min', 'max'] as const) expect(same(ra[key]!, wa[key]!), `${name} ${key}`).toBe(true);
    }
    expect(answered()).toBe(oneShot);
    expect(passed()).toBeGreaterThanOrEqual(cases.length - 1);
  });
});

/** Column c of `aggregateEncodedColumns`' results as arrays, to compare with a ValueAggregates. */
function columnOf(r: ColumnAggregates, c: number, slots: number, float: boolean): Record<string, unknown[]> {
  const at = (f: (s: number) => unknown) => Array.from({ length: slots }, (_, s) => f(s));
  return float
    ? { count: at((s) => r.count(c, s)), sumFloat: at((s) => r.sumFloat(c, s)), floatFlags: at((s) => r.floatFlags(c, s)), min: at((s) => r.min(c, s)), max: at((s) => r.max(c, s)) }
    : { count: at((s) => r.count(c, s)), sumInt: at((s) => r.sumInt(c, s)), min: at((s) => r.min(c, s)), max: at((s) => r.max(c, s)) };
}

function expected(a: ValueAggregates): Record<string, unknown[]> {
  return a.sumFloat
    ? { count: [...a.count], sumFloat: [...a.sumFloat], floatFlags: [...a.floatFlags!], min: [...a.min], max: [...a.max] }
    : { count: [...a.count], sumInt: [...a.sumInt!], min: [...a.min], max: [...a.max] };
}

function sameRecord(a: Record<string, unknown[]>, b: Record<string, unknown[]>): boolean {
  return Object.keys(a).every((k) => same(a[k]!, b[k]!)) && Object.keys(a).length === Object.keys(b).length;
}

describe('every value column of a batch in one call (aggregateEncodedColumns)', () => {
  it('gives each column what the reference kernels give, bit for bit: every codec, NULLs, extremes, several slots, rows out of range', () => {
    const p = new Prng(23);
    let checked = 0;
    // Columns of equal length go through one call together (the last one twice, and the time column as values).
    const byLength = new Map<number, typeof cases>();
    for (const c of cases) byLength.set(c.column.values.length, [...(byLength.get(c.column.values.length) ?? []), c]);
    for (const [n, group] of byLength) {
      if (n === 0) continue;
      const step = p.pick([10_000_000n, 60_000_000n, -10_000_000n]);
      // Sorted times (runs of one bucket), sometimes with a row from elsewhere breaking a run.
      const times = BigInt64Array.from({ length: n }, (_, i) => 757_382_400_000_000n + BigInt(i) * step + (p.chance(0.02) ? HOUR * 3n : 0n));
      const t = encoded({ kind: 'timestamp', values: times }, 'timestamptz');
      const columns = group.map((c) => encoded(c.column, TYPE_OF[c.column.kind]!));
      columns.push(columns[columns.length - 1]!);
      const ranges: TimeRange[] = [{ lo: INT64_MIN, hi: INT64_MAX }, { lo: times[Math.floor(n / 4)]!, hi: times[Math.floor(n / 4)]! + HOUR * 2n }];
      for (const range of ranges) {
        for (const bucket of [null, { width: HOUR, origin: 0n }, { width: 600_000_000n, origin: 7n }]) {
          const rt = ref.bucketize(times, range, bucket, null);
          const wt = wasm.bucketizeEncoded(t.column, range, bucket);
          expect(wt.slots).toBe(rt.slots);
          if (rt.slots === 0) continue;
          const all = wasm.aggregateEncodedColumns([...columns.map((c) => c.column), t.column]);
          for (let c = 0; c < columns.length; c++) {
            const d = decodeColumn(codecs, columns[c]!.bytes);
            const ra = ref.aggregate(d.values as KernelValues, d.nulls);
            const float = columns[c]!.column.type === 'float8' || columns[c]!.column.type === 'float4';
            expect(sameRecord(columnOf(all, c, rt.slots, float), expected(ra)), `${group[Math.min(c, group.length - 1)]!.name} ${String(bucket?.width)}`).toBe(true);
            checked++;
          }
          const rtime = ref.aggregate(times, null);
          expect(sameRecord(columnOf(all, columns.length, rt.slots, false), expected(rtime)), 'time column').toBe(true);
        }
      }
    }
    expect(checked).toBeGreaterThan(cases.length * 3);
  });

  it('decodes and aggregates DECIMAL floats by runs of one slot in one pass, exactly as the two passes', () => {
    const p = new Prng(31);
    const round = (x: number, k: number) => Number(x.toFixed(k));
    for (const kind of ['float64', 'float32'] as const) {
      const f = kind === 'float32' ? Math.fround : (x: number) => x;
      let walk = 5000;
      const columns = [
        Array.from({ length: 1000 }, () => f(round(p.next() * 100, 6))),
        Array.from({ length: 1000 }, (_, i) => f(round(20 + i * 0.25, 2))),
        Array.from({ length: 777 }, (_, i) => f(round(i * 1.5 - 300, 1))),
        Array.from({ length: 1000 }, () => (walk += p.int(2001) - 1000) / 100),
        Array.from({ length: 500 }, (_, i) => (i % 2 ? 1 : -1) * (2 ** 52 + p.int(1_000_000)) / 10),
        [f(3.5)],
        [f(3.5), f(-2.25)],
        [f(3.5), f(-2.25), f(7.125)],
      ].filter((v) => kind === 'float64' || v.every((x) => Object.is(Math.fround(x), x)));
      for (const values of columns) {
        const n = values.length;
        const type: PgType = kind === 'float64' ? 'float8' : 'float4';
        const v = encoded({ kind, values: kind === 'float64' ? Float64Array.from(values) : Float32Array.from(values) } as ColumnInput, type);
        const d = decodeColumn(codecs, v.bytes);
        // 10 s apart, a bucket every 360 rows or every row; unsorted (a slot in several runs); one slot per row.
        const layouts = [
          BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 10_000_000n + 1_000_000n),
          BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 3) * HOUR + BigInt(i)),
          BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * HOUR),
        ];
        for (const times of layouts) {
          const t = encoded({ kind: 'timestamp', values: times }, 'timestamptz');
          for (const range of [{ lo: INT64_MIN, hi: INT64_MAX }, { lo: times[Math.floor(n / 5)]!, hi: times[Math.floor((n * 4) / 5)]! }]) {
            const rt = ref.bucketize(times, range, { width: HOUR, origin: 0n }, null);
            wasm.bucketizeEncoded(t.column, range, { width: HOUR, origin: 0n });
            if (rt.slots === 0) continue;
            const all = wasm.aggregateEncodedColumns([v.column, v.column]);
            const ra = expected(ref.aggregate(d.values as KernelValues, null));
            expect(sameRecord(columnOf(all, 0, rt.slots, true), ra), `${kind} ${n}`).toBe(true);
            expect(sameRecord(columnOf(all, 1, rt.slots, true), ra), `${kind} ${n} again`).toBe(true);
          }
        }
      }
    }
  });

  it('raises data_corrupted for a truncated or overlong stream among the columns, and works after it', () => {
    const times = BigInt64Array.from({ length: 300 }, (_, i) => 1_000_000_000n + BigInt(i) * 60_000_000n);
    const t = encoded({ kind: 'timestamp', values: times }, 'timestamptz');
    const v = encoded({ kind: 'float64', values: Float64Array.from({ length: 300 }, (_, i) => Math.round(Math.sin(i) * 1e6) / 1e3) }, 'float8');
    const g = encoded({ kind: 'float64', values: Float64Array.from({ length: 300 }, (_, i) => Math.sin(i) * Math.PI) }, 'float8');
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (err) {
        return err instanceof OrbitError ? err.code : String(err);
      }
      return undefined;
    };
    const longer = new Uint8Array(v.column.stream.length + 1);
    longer.set(v.column.stream);
    wasm.bucketizeEncoded(t.column, { lo: INT64_MIN, hi: INT64_MAX }, { width: HOUR, origin: 0n });
    for (const bad of [longer, v.column.stream.subarray(0, v.column.stream.length - 3), g.column.stream.subarray(0, 20)]) {
      expect(code(() => wasm.aggregateEncodedColumns([g.column, { ...v.column, stream: bad }, t.column]))).toBe('XX001');
    }
    const ok = wasm.aggregateEncodedColumns([g.column, v.column]);
    expect(ok.count(0, 0) + ok.count(0, 1) + ok.count(0, 2) + ok.count(0, 3) + ok.count(0, 4) + ok.count(0, 5)).toBe(300);
  });
});
