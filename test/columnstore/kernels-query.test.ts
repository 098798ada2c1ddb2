/**
 * aggregateChunk / mergePartials / finalize over compressed chunks, against a row-by-row oracle on
 * the uncompressed rows, with both kernel backends (which must agree exactly, partial states
 * included). Also: whole batches answered from the manifest without reading them, batch skipping,
 * and the 0A000 refusals a planner falls back on.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { CompressionSettings } from '../../src/columnstore/batch.js';
import type { CodecBackend } from '../../src/columnstore/codecs/index.js';
import { loadCodecsNode } from '../../src/columnstore/codecs/load-node.js';
import type { Rows } from '../../src/columnstore/columns.js';
import {
  aggregateChunk, aggregateChunks, finalize, mergePartials, numericDivide, ReferenceKernels,
  type AggregateCall, type AggregateSpec, type Filter, type KernelBackend, type Partials, type RowFilter,
} from '../../src/columnstore/kernels/index.js';
import { scalarAt } from '../../src/columnstore/columns.js';
import { loadKernelsNode } from '../../src/columnstore/kernels/load-node.js';
import type { Manifest } from '../../src/columnstore/manifest.js';
import { ColumnStore } from '../../src/columnstore/store.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { Prng } from '../support/prng.js';
import { cellKey, closeEnough, HOUR, kernelRows, oracle } from './kernel-rows.js';

let codecs: CodecBackend;
let wasm: KernelBackend;
const ref = new ReferenceKernels();
beforeAll(async () => {
  codecs = await loadCodecsNode();
  wasm = await loadKernelsNode();
});

const VALUE_COLUMNS = ['f8', 'f4', 'i2', 'i4', 'i8', 'ts', 'note'];

function randomSpec(p: Prng, rows: Rows, segmentBy: readonly string[]): AggregateSpec {
  const time = rows.columns[0]!.values as BigInt64Array;
  const aggregates: AggregateCall[] = [{ fn: 'count' }];
  for (let k = p.int(6) + 1; k > 0; k--) {
    const column = p.pick(VALUE_COLUMNS);
    const fns = column === 'note' ? (['count', 'first', 'last'] as const) : column === 'ts' ? (['count', 'min', 'max', 'first', 'last'] as const) : (['count', 'sum', 'avg', 'min', 'max', 'first', 'last'] as const);
    const fn = p.pick(fns);
    aggregates.push(fn === 'first' || fn === 'last' ? { fn, column, by: p.chance(0.8) ? 'time' : 'ts' } : { fn, column });
  }
  const filters: Filter[] = [];
  const at = (): bigint => (time.length ? time[p.int(time.length)]! : 0n) + BigInt(p.int(3) - 1);
  if (p.chance(0.6)) filters.push({ column: 'time', op: p.pick(['>=', '>'] as const), value: at() });
  if (p.chance(0.6)) filters.push({ column: 'time', op: p.pick(['<', '<='] as const), value: at() });
  if (p.chance(0.05)) filters.push({ column: 'time', op: '=', value: at() });
  if (segmentBy.includes('host') && p.chance(0.4)) filters.push(p.chance(0.5) ? { column: 'host', op: 'in', values: [p.pick(['a', 'b', 'é', 'zz']), p.pick(['c', null])] } : { column: 'host', op: '=', value: p.pick(['a', 'c']) });
  if (segmentBy.includes('dev') && p.chance(0.2)) filters.push({ column: 'dev', op: '=', value: 1 });
  // Row filters against values of the rows themselves (boundaries are hit), NULL and NaN now and then.
  const rowFilters: RowFilter[] = [];
  for (let k = p.chance(0.5) ? p.int(3) : 0; k > 0; k--) {
    const column = p.pick(['f8', 'f4', 'i2', 'i4', 'i8', 'ts', 'note', 'host']);
    if (!rows.names.includes(column)) continue;
    const c = rows.columns[rows.names.indexOf(column)]!;
    const value = () => (p.chance(0.05) ? null : (column === 'f8' || column === 'f4') && p.chance(0.1) ? NaN : c.values.length ? scalarAt(c, p.int(c.values.length)) : null) as number | bigint | string | null;
    const text = column === 'note' || column === 'host';
    const op = p.chance(0.1) ? p.pick(['is null', 'is not null'] as const) : text ? p.pick(['=', '<>', 'in'] as const) : p.pick(['<', '<=', '>', '>=', '=', '<>', 'in'] as const);
    rowFilters.push({ column, predicate: op === 'is null' || op === 'is not null' ? { op } : { op, values: op === 'in' ? [value(), value(), value()] : [value()] } });
  }
  const bucket = p.chance(0.7) ? { widthUs: p.pick([HOUR, HOUR / 4n, 24n * HOUR, 7_000_000n]), originUs: p.chance(0.3) ? BigInt(p.int(1e9)) - 500_000_000n : undefined } : undefined;
  return { bucket, groupBy: segmentBy.filter(() => p.chance(0.6)), filters, rowFilters, aggregates };
}

/** Partial states as exact strings (float bits kept), for comparing backends. */
function describe_(p: Partials): string[] {
  return [...p.groups].map(([k, g]) => `${k} ${g.states.map((s) => `${s.count}/${cellKey(s.sum as number)}/${s.nonFinite}/${cellKey(s.value)}/${s.time}`).join(' ')}`).sort();
}

async function compressed(rows: Rows, settings: CompressionSettings): Promise<{ store: ColumnStore; manifest: Manifest }> {
  const store = new ColumnStore(new MemoryStorage(), codecs);
  return { store, manifest: await store.writeChunk(1, 1, rows, settings) };
}

describe('aggregateChunk', () => {
  it('matches the row-by-row oracle, with identical partials on both backends', async () => {
    const p = new Prng(7);
    let groups = 0;
    const used = { fromManifest: 0, decoded: 0, skipped: 0 };
    for (let round = 0; round < 24; round++) {
      const rows = kernelRows(p, p.pick([0, 1, 300, 3000]), { awkward: true, distinctTimes: false, dyadic: false });
      const segmentBy = p.pick([['host'], ['host', 'dev'], []]);
      const settings: CompressionSettings = { segmentBy, orderBy: [p.chance(0.8) ? { column: 'time', desc: true } : { column: 'f8' }], timeColumn: 'time', batchRows: p.pick([1000, 97]) };
      const { store, manifest } = await compressed(rows, settings);
      for (let q = 0; q < 12; q++) {
        const spec = randomSpec(p, rows, segmentBy);
        const w = await aggregateChunk(store, manifest, spec, wasm);
        const r = await aggregateChunk(store, manifest, spec, ref);
        expect(describe_(w)).toEqual(describe_(r));
        for (const k of ['fromManifest', 'decoded', 'skipped'] as const) used[k] += w.stats[k];

        const expected = oracle(rows, spec);
        const actual = finalize(w);
        expect(actual.length).toBe(expected.size);
        for (const row of actual) {
          const g = [...expected.values()].find((e) => e.key.length === row.key.length && e.key.every((v, i) => cellKey(v) === cellKey(row.key[i]!) || (v === 0 && row.key[i] === 0)) && e.bucket === row.bucket);
          expect(g, `group ${row.key} @${row.bucket}`).toBeDefined();
          const partial = [...w.groups.values()].find((x) => x.key === row.key && x.bucket === row.bucket);
          spec.aggregates.forEach((a, i) => {
            const ext = g!.extremes[i];
            if (ext) {
              // first/last: the extreme time, and one of the values found at it.
              expect(partial!.states[i]!.time).toBe(ext.time);
              expect(ext.candidates).toContain(cellKey(row.values[i]!));
            } else {
              const scale = a.fn === 'sum' || a.fn === 'avg' ? 2000 * 3000 : 1;
              expect(closeEnough(row.values[i]!, g!.values[i]!, scale), `${a.fn}(${a.column}) = ${String(row.values[i])}, oracle ${String(g!.values[i])}`).toBe(true);
            }
          });
          groups++;
        }
      }
    }
    expect(groups).toBeGreaterThan(500);
    // Every path was taken.
    expect(used.fromManifest).toBeGreaterThan(0);
    expect(used.decoded).toBeGreaterThan(0);
    expect(used.skipped).toBeGreaterThan(0);
  });

  it('answers whole batches from the manifest alone, without reading a batch', async () => {
    const rows = kernelRows(new Prng(3), 4000, { awkward: false, distinctTimes: false, dyadic: false });
    const storage = new MemoryStorage();
    const writer = new ColumnStore(storage, codecs);
    const manifest = await writer.writeChunk(1, 1, rows, { segmentBy: ['host'], orderBy: [{ column: 'time', desc: true }], timeColumn: 'time' });
    let gets = 0;
    const counting = Object.create(storage, {
      get: { value: (key: string) => (gets++, storage.get(key)) },
      getRange: { value: (key: string, offset: number, length: number) => (gets++, storage.getRange(key, offset, length)) },
    }) as MemoryStorage;
    const store = new ColumnStore(counting, codecs);
    const m = await store.readManifest(manifest.key);
    gets = 0;
    const spec: AggregateSpec = { groupBy: ['host'], aggregates: [{ fn: 'count' }, { fn: 'count', column: 'note' }, { fn: 'min', column: 'f8' }, { fn: 'max', column: 'i8' }, { fn: 'sum', column: 'i4' }, { fn: 'avg', column: 'i2' }, { fn: 'max', column: 'ts' }] };
    const p = await aggregateChunk(store, m, spec, wasm);
    expect(gets).toBe(0);
    expect(p.stats).toEqual({ batches: m.batches.length, skipped: 0, fromManifest: m.batches.length, decoded: 0 });
    const expected = oracle(rows, spec);
    for (const row of finalize(p)) {
      const g = [...expected.values()].find((e) => cellKey(e.key[0]!) === cellKey(row.key[0]!))!;
      expect(row.values.map(cellKey)).toEqual(g.values.map(cellKey));
    }
    // A float sum needs the values: the batches are read (one span of their pack: the kernels plan
    // their reads), only the columns asked for decoded.
    expect(m.batches.length).toBeGreaterThan(1);
    await aggregateChunk(store, m, { aggregates: [{ fn: 'sum', column: 'f8' }] }, wasm);
    expect(gets).toBe(1);
    expect(store.cacheStats().entries).toBe(m.batches.length + 1);
  });

  it('merges partials of several chunks exactly like one chunk of all rows', async () => {
    const p = new Prng(11);
    const all = kernelRows(p, 3000, { awkward: true, distinctTimes: true, dyadic: true });
    const settings: CompressionSettings = { segmentBy: ['host'], orderBy: [{ column: 'time', desc: true }], timeColumn: 'time' };
    const store = new ColumnStore(new MemoryStorage(), codecs);
    const half = (from: number, to: number): Rows => ({ names: all.names, columns: all.columns.map((c) => sliceColumn(c, from, to)) });
    const a = await store.writeChunk(1, 1, half(0, 1700), settings);
    const b = await store.writeChunk(1, 2, half(1700, 3000), settings);
    const whole = await store.writeChunk(1, 3, all, settings);
    const spec: AggregateSpec = { bucket: { widthUs: 6n * HOUR }, groupBy: ['host'], aggregates: [{ fn: 'count' }, { fn: 'sum', column: 'f8' }, { fn: 'avg', column: 'i8' }, { fn: 'min', column: 'f4' }, { fn: 'first', column: 'i2' }, { fn: 'last', column: 'note' }] };
    const merged = await aggregateChunks(store, [a, b], spec, wasm);
    const one = await aggregateChunk(store, whole, spec, ref);
    const text = (rows: ReturnType<typeof finalize>): string[] => rows.map((r) => `${r.key.map(cellKey)} ${r.bucket} ${r.values.map(cellKey)}`).sort();
    expect(text(finalize(merged!))).toEqual(text(finalize(one)));
    expect(() => mergePartials(merged!, { ...one, aggregates: one.aggregates.slice(1) })).toThrow(expect.objectContaining({ code: '22023' }));
  });

  it('gives PostgreSQL result types and the empty-input row', async () => {
    const rows = kernelRows(new Prng(5), 50, { awkward: false, distinctTimes: true, dyadic: true });
    const { store, manifest } = await compressed(rows, { segmentBy: ['host'], orderBy: [{ column: 'time' }], timeColumn: 'time' });
    const none = finalize(await aggregateChunk(store, manifest, { filters: [{ column: 'time', op: '<', value: -(1n << 63n) }], aggregates: [{ fn: 'count' }, { fn: 'sum', column: 'i4' }, { fn: 'max', column: 'f8' }, { fn: 'first', column: 'note' }] }, wasm));
    expect(none).toEqual([{ key: [], bucket: null, values: [0n, null, null, null] }]);
    const [row] = finalize(await aggregateChunk(store, manifest, { aggregates: [{ fn: 'count' }, { fn: 'sum', column: 'i2' }, { fn: 'sum', column: 'f4' }, { fn: 'avg', column: 'i4' }, { fn: 'min', column: 'i8' }] }, ref));
    expect(typeof row!.values[0]).toBe('bigint');
    expect(typeof row!.values[1]).toBe('bigint');
    expect(row!.values[2]).toBe(Math.fround(row!.values[2] as number));
    expect(typeof row!.values[3]).toBe('string');
    expect(typeof row!.values[4]).toBe('bigint');
    expect(numericDivide(0n, 3n)).toBe('0.00000000000000000000');
    expect(numericDivide(-7n, 2n)).toBe('-3.5000000000000000');
    // Quotients of 16+ digits get no fraction digits (select_div_scale); checked against PostgreSQL in kernels-pglite.test.ts.
    expect(numericDivide(10n ** 20n + 1n, 3n)).toBe('33333333333333333334');
  });

  it('gives the same answers to concurrent queries sharing one backend', async () => {
    const p = new Prng(17);
    const rows = kernelRows(p, 3000, { awkward: true, distinctTimes: false, dyadic: false });
    const { store, manifest } = await compressed(rows, { segmentBy: ['host'], orderBy: [{ column: 'time', desc: true }], timeColumn: 'time', batchRows: 200 });
    const specs = Array.from({ length: 8 }, () => randomSpec(p, rows, ['host']));
    specs.push({ bucket: { widthUs: HOUR }, aggregates: [{ fn: 'count', column: 'note' }, { fn: 'max', column: 'f8' }] });
    const alone: string[][] = [];
    for (const spec of specs) alone.push(describe_(await aggregateChunk(new ColumnStore(store.storage, codecs), manifest, spec, wasm)));
    // Fresh stores: every batch read is a storage await, so the queries interleave.
    const together = await Promise.all(specs.map((spec) => aggregateChunk(new ColumnStore(store.storage, codecs), manifest, spec, wasm)));
    expect(together.map(describe_)).toEqual(alone);
  });

  it('reports a missing or damaged batch as XX001', async () => {
    const rows = kernelRows(new Prng(13), 2000, { awkward: false, distinctTimes: true, dyadic: true });
    const storage = new MemoryStorage();
    const store = new ColumnStore(storage, codecs);
    const m = await store.writeChunk(1, 1, rows, { segmentBy: [], orderBy: [{ column: 'time' }], timeColumn: 'time' });
    const spec: AggregateSpec = { aggregates: [{ fn: 'sum', column: 'f8' }] };
    // Batch 1, in the chunk's one pack after batch 0.
    const key = 'cs/1/1/1/0';
    const at = m.batches[1]!.source!.offset!;
    const bytes = (await storage.get(key))!;
    // Same size, its row count (varint at byte 3) damaged: it no longer matches the manifest.
    const damaged = bytes.slice();
    damaged[at + 4] ^= 0x7f;
    await storage.put(key, damaged);
    await expect(aggregateChunk(new ColumnStore(storage, codecs), m, spec, wasm)).rejects.toMatchObject({ code: 'XX001' });
    await storage.delete(key);
    await expect(aggregateChunk(new ColumnStore(storage, codecs), m, spec, wasm)).rejects.toMatchObject({ code: 'XX001' });
  });

  it('refuses what it cannot answer with 0A000, before reading batches', async () => {
    const rows = kernelRows(new Prng(9), 20, { awkward: false, distinctTimes: true, dyadic: true });
    const { store, manifest } = await compressed(rows, { segmentBy: ['host'], orderBy: [{ column: 'time' }], timeColumn: 'time' });
    const refuse = async (spec: AggregateSpec, code = '0A000'): Promise<void> => {
      await expect(aggregateChunk(store, manifest, spec, wasm)).rejects.toMatchObject({ code });
    };
    await refuse({ bucket: { widthUs: 0n, months: 1 }, aggregates: [{ fn: 'count' }] });
    await refuse({ groupBy: ['dev'], aggregates: [{ fn: 'count' }] });
    await refuse({ filters: [{ column: 'f8', op: '>', value: 1 }], aggregates: [{ fn: 'count' }] });
    await refuse({ aggregates: [{ fn: 'sum', column: 'note' }] });
    // Row filters the row filter cannot evaluate: a text range; an unknown column.
    await refuse({ rowFilters: [{ column: 'note', predicate: { op: '>', values: ['a'] } }], aggregates: [{ fn: 'count' }] });
    await refuse({ rowFilters: [{ column: 'nope', predicate: { op: 'is null' } }], aggregates: [{ fn: 'count' }] }, '42703');
    await refuse({ aggregates: [{ fn: 'first', column: 'f8', by: 'f4' }] });
    await refuse({ bucket: { widthUs: 0n }, aggregates: [{ fn: 'count' }] }, '22023');
    await refuse({ aggregates: [{ fn: 'max', column: 'nope' }] }, '42703');
  });
});

function sliceColumn<C extends Rows['columns'][number]>(c: C, from: number, to: number): C {
  const values = (c.values as unknown as { slice(a: number, b: number): unknown }).slice(from, to);
  let nulls: Uint8Array | null = null;
  if (c.nulls) {
    nulls = new Uint8Array((to - from + 7) >> 3);
    for (let i = from; i < to; i++) if (c.nulls[i >> 3]! & (1 << (i & 7))) nulls[(i - from) >> 3]! |= 1 << ((i - from) & 7);
  }
  return { ...c, values, nulls } as C;
}
