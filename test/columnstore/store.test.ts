/**
 * The batch store on the memory and node-fs adapters: write a chunk, read the manifest and batches
 * (whole and selected columns), manifest metadata, batch exclusion, cache eviction, sweep, and
 * crash-shaped states (orphans without a manifest, a manifest pointing at a missing batch → XX001).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompressionSettings } from '../../src/columnstore/batch.js';
import type { CodecBackend } from '../../src/columnstore/codecs/index.js';
import { loadCodecsNode } from '../../src/columnstore/codecs/load-node.js';
import { allocColumn, type Column, type Rows } from '../../src/columnstore/columns.js';
import { batchesMatching, batchesWithSegment } from '../../src/columnstore/manifest.js';
import { compareValues } from '../../src/columnstore/compare.js';
import { batchKey, manifestKey } from '../../src/columnstore/pack-layout.js';
import { ColumnStore } from '../../src/columnstore/store.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { NodeFsStorage } from '../../src/storage/node-fs.js';
import type { StorageAdapter } from '../../src/storage/types.js';
import { Prng } from '../support/prng.js';
import { tempDir } from '../support/server.js';
import { ALL_TYPES, randomRows, rowStrings, sorted } from './rows.js';

let wasm: CodecBackend;
const dirs: Array<{ remove(): void }> = [];
beforeAll(async () => {
  wasm = await loadCodecsNode();
});
afterAll(() => dirs.forEach((d) => d.remove()));

/** cpu-like rows: 3 hosts (one NULL), 1,500 rows each, 10 s apart, a metric and a counter. */
function cpuRows(): Rows {
  const n = 4500;
  const host = allocColumn('text', n) as Extract<Column, { type: 'text' }>;
  const time = allocColumn('timestamptz', n) as Extract<Column, { type: 'timestamptz' }>;
  const usage = allocColumn('float8', n) as Extract<Column, { type: 'float8' }>;
  const count = allocColumn('int4', n) as Extract<Column, { type: 'int4' }>;
  const hostNulls = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) {
    const h = i % 3;
    if (h === 2) hostNulls[i >> 3]! |= 1 << (i & 7);
    else host.values[i] = `host_${h}`;
    time.values[i] = BigInt(Math.floor(i / 3)) * 10_000_000n;
    usage.values[i] = (i % 100) / 4;
    count.values[i] = i;
  }
  return { names: ['time', 'host', 'usage', 'count'], columns: [time, { ...host, nulls: hostNulls }, usage, count] };
}

const CPU: CompressionSettings = { segmentBy: ['host'], orderBy: [{ column: 'time', desc: true }], timeColumn: 'time' };

const adapters: [string, () => Promise<StorageAdapter>][] = [
  ['memory', async () => new MemoryStorage()],
  [
    'node-fs',
    async () => {
      const d = tempDir('orbit-cs-');
      dirs.push(d);
      return NodeFsStorage.open(d.path);
    },
  ],
];

describe.each(adapters)('batch store on %s', (_, open) => {
  it('writes a chunk and reads it back exactly, with its manifest metadata', async () => {
    const storage = await open();
    const cs = new ColumnStore(storage, wasm);
    const rows = cpuRows();
    const m = await cs.writeChunk(3, 17, rows, CPU);
    expect(m.key).toBe('cs/3/17/1/manifest');
    // The six batches in one pack object, back to back.
    expect(await storage.list('cs/3/17/1/')).toEqual(['cs/3/17/1/0', 'cs/3/17/1/manifest']);
    expect((await storage.get('cs/3/17/1/0'))!.length).toBe(m.batches.reduce((s, b) => s + b.bytes, 0));
    expect(m.batches.map((b) => b.source?.offset ?? 0)).toEqual(m.batches.map((_, i) => m.batches.slice(0, i).reduce((s, b) => s + b.bytes, 0)));
    const fresh = new ColumnStore(storage, wasm);
    const read = await fresh.readManifest(m.key);
    expect(read.batches).toEqual(m.batches);
    expect(read.rowCount).toBe(4500);
    expect(read.batches.map((b) => [b.segment[0], b.rows])).toEqual([
      ['host_0', 1000],
      ['host_0', 500],
      ['host_1', 1000],
      ['host_1', 500],
      [null, 1000],
      [null, 500],
    ]);
    const b0 = read.batches[0]!;
    expect(b0.min[0]).toBe(500n * 10_000_000n);
    expect(b0.max[0]).toBe(1499n * 10_000_000n);
    expect(b0.nullCount).toEqual([0, 0, 0, 0]);
    expect(read.batches[4]!.nullCount[1]).toBe(1000);
    expect(b0.min[2]).toBe(0);
    expect(b0.max[2]).toBe(24.75);
    let sum = 0n;
    for (let t = 500; t < 1500; t++) sum += BigInt(t * 3);
    expect(b0.sum[3]).toBe(sum);
    expect(read.batches.reduce((s, b) => s + b.bytes, 0)).toBeGreaterThan(0);
    expect(read.settings).toEqual(CPU);

    const all: string[] = [];
    for (let b = 0; b < read.batches.length; b++) all.push(...rowStrings(await fresh.readBatch(read, b)));
    expect(sorted(all)).toEqual(sorted(rowStrings(rows)));
    const first = await fresh.readBatch(read, 0, ['usage', 'time']);
    expect(first.names).toEqual(['usage', 'time']);
    expect((first.columns[1]!.values as BigInt64Array)[0]).toBe(1499n * 10_000_000n);
    await expect(fresh.readBatch(read, 0, ['nope'])).rejects.toMatchObject({ code: '42703' });
    await storage.close();
  });

  it('round-trips random rows of every type with NULLs', async () => {
    const storage = await open();
    const cs = new ColumnStore(storage, wasm);
    for (let seed = 20; seed < 23; seed++) {
      const p = new Prng(seed);
      const rows = randomRows(p, 1 + p.int(3000), ALL_TYPES, 0.3);
      const m = await cs.readManifest((await cs.writeChunk(1, seed, rows, { segmentBy: ['c9', 'c8'], orderBy: [{ column: 'c13' }, { column: 'c7', desc: true }], timeColumn: 'c0' })).key);
      const all: string[] = [];
      for (let b = 0; b < m.batches.length; b++) all.push(...rowStrings(await cs.readBatch(m, b)));
      expect(sorted(all)).toEqual(sorted(rowStrings(rows)));
    }
    await storage.close();
  });

  it('finds the batches of a segment value through the manifest index as a scan of every batch does', async () => {
    const storage = await open();
    const cs = new ColumnStore(storage, wasm);
    const p = new Prng(77);
    const rows = randomRows(p, 3000, ALL_TYPES, 0.2, 4);
    for (const [i, type] of ALL_TYPES.entries()) {
      if (type === 'json' || type === 'jsonb' || type === 'opaque' || type === 'uuid') continue;
      const name = rows.names[i]!;
      const m = await cs.writeChunk(2, i, rows, { segmentBy: [name], orderBy: [{ column: rows.names[0]! }], timeColumn: rows.names[0]! });
      const values = [...new Set(m.batches.map((b) => b.segment[0]!))];
      for (const v of values) {
        if (v === null) continue;
        const scan = m.batches.flatMap((b, no) => (b.segment[0] !== null && compareValues(type, b.segment[0]!, v) === 0 ? [no] : []));
        expect(batchesMatching(m, [{ column: name, op: '=', value: v }]), `${type} ${String(v)}`).toEqual(scan);
        const indexed = batchesWithSegment(m, 0, [v, null]);
        if (['text', 'int4', 'int8', 'timestamptz'].includes(type)) expect(indexed, type).toBeDefined();
        if (indexed) expect(indexed, `${type} ${String(v)}`).toEqual(scan);
      }
      // Several values: ascending, each batch once.
      const some = values.filter((v) => v !== null).slice(0, 3);
      const indexed = batchesWithSegment(m, 0, [...some, ...some]);
      if (indexed) expect(indexed).toEqual(m.batches.flatMap((b, no) => (some.some((v) => b.segment[0] !== null && compareValues(type, b.segment[0]!, v!) === 0) ? [no] : [])));
      // A value held otherwise than the column's values (a number for an int8): no index, the scan answers.
      if (type === 'int8' && some.length > 0) {
        expect(batchesWithSegment(m, 0, [Number(some[0])])).toBeUndefined();
        expect(batchesMatching(m, [{ column: name, op: '=', value: Number(some[0]) }])).toEqual(batchesMatching(m, [{ column: name, op: '=', value: some[0]! }]));
      }
    }
    await storage.close();
  });

  it('excludes batches by time range and segment from the manifest alone', async () => {
    const storage = await open();
    const cs = new ColumnStore(storage, wasm);
    const m = await cs.writeChunk(1, 1, cpuRows(), CPU);
    const t = (s: number): bigint => BigInt(s) * 10_000_000n;
    expect(batchesMatching(m, [])).toEqual([0, 1, 2, 3, 4, 5]);
    expect(batchesMatching(m, [{ column: 'host', op: '=', value: 'host_1' }])).toEqual([2, 3]);
    expect(batchesMatching(m, [{ column: 'host', op: 'is null' }])).toEqual([4, 5]);
    expect(batchesMatching(m, [{ column: 'host', op: 'is not null' }])).toEqual([0, 1, 2, 3]);
    expect(batchesMatching(m, [{ column: 'time', op: '>=', value: t(1200) }])).toEqual([0, 2, 4]);
    expect(batchesMatching(m, [{ column: 'time', op: '<', value: t(500) }])).toEqual([1, 3, 5]);
    expect(batchesMatching(m, [{ column: 'time', op: '<=', value: t(500) }])).toEqual([0, 1, 2, 3, 4, 5]);
    expect(batchesMatching(m, [{ column: 'time', op: '=', value: 10 }])).toEqual([1, 3, 5]);
    expect(batchesMatching(m, [{ column: 'time', op: '=', value: t(1500) }])).toEqual([]);
    expect(batchesMatching(m, [{ column: 'time', op: '>', value: 1.499e10 - 0.5 }])).toEqual([0, 2, 4]);
    expect(batchesMatching(m, [{ column: 'host', op: '=', value: 'host_0' }, { column: 'time', op: '>', value: t(499) }])).toEqual([0]);
    // Text ranges follow the collation, which batch metadata does not: they never exclude.
    expect(batchesMatching(m, [{ column: 'host', op: '<', value: 'a' }])).toEqual([0, 1, 2, 3]);
    expect(batchesMatching(m, [{ column: 'usage', op: '>', value: 30 }])).toEqual([]);
    expect(() => batchesMatching(m, [{ column: 'zzz', op: 'is null' }])).toThrow(expect.objectContaining({ code: '42703' }));
    await storage.close();
  });

  it('excludes a whole chunk by its int64 columns range as batch by batch', async () => {
    const storage = await open();
    const cs = new ColumnStore(storage, wasm);
    const p = new Prng(91);
    const rows = randomRows(p, 2500, ALL_TYPES, 0.3, 6);
    for (const [i, type] of ALL_TYPES.entries()) {
      if (type !== 'int8' && type !== 'timestamptz' && type !== 'timestamp') continue;
      const name = rows.names[i]!;
      const m = await cs.readManifest((await cs.writeChunk(3, i, rows, { segmentBy: [rows.names[ALL_TYPES.indexOf('text')]!], orderBy: [{ column: name }], timeColumn: rows.names[0]! })).key);
      const held = m.batches.flatMap((b) => (b.nullCount[i] === b.rows ? [] : [b.min[i] as bigint, b.max[i] as bigint]));
      const lo = held.reduce((a, b) => (b < a ? b : a));
      const hi = held.reduce((a, b) => (b > a ? b : a));
      for (const value of [lo - 1n, lo, lo + 1n, hi - 1n, hi, hi + 1n, held[3]!]) {
        for (const op of ['<', '<=', '>', '>=', '='] as const) {
          const want = m.batches.flatMap((b, no) => {
            if (b.nullCount[i] === b.rows) return [];
            const [mn, mx] = [b.min[i] as bigint, b.max[i] as bigint];
            const ok = op === '<' ? mn < value : op === '<=' ? mn <= value : op === '>' ? mx > value : op === '>=' ? mx >= value : mn <= value && mx >= value;
            return ok ? [no] : [];
          });
          expect(batchesMatching(m, [{ column: name, op, value }]), `${type} ${op} ${value}`).toEqual(want);
        }
      }
    }
    await storage.close();
  });

  it('bounds the cache by bytes, least recently used first', async () => {
    const storage = await open();
    const writer = new ColumnStore(storage, wasm);
    const m = await writer.writeChunk(1, 1, cpuRows(), CPU);
    const sizes = m.batches.map((b) => b.bytes);
    const cs = new ColumnStore(storage, wasm, { cacheBytes: sizes[0]! + sizes[2]! + 1 });
    const manifest = await cs.readManifest(m.key); // larger than the budget left: not kept
    await cs.readBatch(manifest, 0);
    await cs.readBatch(manifest, 2);
    expect(cs.cacheStats()).toMatchObject({ entries: 2, bytes: sizes[0]! + sizes[2]! });
    await cs.readBatch(manifest, 0); // hit: batch 2 is now the least recently used
    await cs.readBatch(manifest, 4); // evicts batch 2 (and, if needed, batch 0)
    const stats = cs.cacheStats();
    expect(stats.bytes).toBeLessThanOrEqual(sizes[0]! + sizes[2]! + 1);
    expect(stats.hits).toBe(1);
    await storage.delete(batchKey(manifest, 2));
    await expect(cs.readBatch(manifest, 2)).rejects.toMatchObject({ code: 'XX001' });
    await storage.close();
  });

  it('sweeps orphans of crashed writes and replaced versions, keeping what the catalog points at', async () => {
    const storage = await open();
    const cs = new ColumnStore(storage, wasm);
    const v1 = await cs.writeChunk(2, 5, cpuRows(), CPU);
    const v2 = await cs.writeChunk(2, 5, cpuRows(), CPU);
    expect(v2.version).toBe(2);
    // A crash after some batch objects, before the manifest: objects without a manifest.
    await storage.put('cs/2/5/3/0', new Uint8Array([1, 2, 3]));
    await storage.put('cs/2/6/1/0', new Uint8Array([1]));
    await storage.put('other/key', new Uint8Array([1]));
    expect((await cs.writeChunk(2, 5, cpuRows(), CPU)).version).toBe(4);
    const deleted = await cs.sweep(new Set([v2.key]));
    expect(deleted.filter((k) => k.endsWith('manifest')).sort()).toEqual([v1.key, manifestKey(2, 5, 4)].sort());
    expect(deleted).toContain('cs/2/5/3/0');
    expect(deleted).toContain('cs/2/6/1/0');
    expect(await storage.list('cs/')).toEqual((await storage.list(v2.key.replace('manifest', ''))).sort());
    expect(await storage.get('other/key')).toBeDefined();
    await expect(cs.readManifest(v1.key)).rejects.toMatchObject({ code: 'XX001' });
    const again = await cs.readManifest(v2.key);
    expect((await cs.readBatch(again, 5)).columns[0]!.values.length).toBe(500);
    expect(await cs.sweep(new Set([v2.key]))).toEqual([]);
    await storage.close();
  });

  it('reports a manifest pointing at a missing or altered batch as XX001', async () => {
    const storage = await open();
    const m = await new ColumnStore(storage, wasm).writeChunk(1, 2, cpuRows(), CPU);
    await storage.delete(batchKey(m, 3));
    await storage.put(batchKey(m, 1), new Uint8Array([0x4f, 0x42, 1]));
    const cs = new ColumnStore(storage, wasm);
    const read = await cs.readManifest(m.key);
    await expect(cs.readBatch(read, 3)).rejects.toMatchObject({ code: 'XX001' });
    await expect(cs.readBatch(read, 1)).rejects.toMatchObject({ code: 'XX001' });
    await expect(cs.readBatch(read, 9)).rejects.toMatchObject({ code: '22023' });
    await storage.put(m.key, new Uint8Array([0x4f, 0x4d, 1, 2, 0x7b]));
    await expect(new ColumnStore(storage, wasm).readManifest(m.key)).rejects.toMatchObject({ code: 'XX001' });
    await storage.close();
  });

  it('writes an empty chunk as a manifest without batches', async () => {
    const storage = await open();
    const cs = new ColumnStore(storage, wasm);
    const empty: Rows = { names: ['time', 'host'], columns: [allocColumn('timestamptz', 0), allocColumn('text', 0)] };
    const m = await cs.writeChunk(9, 9, empty, { segmentBy: ['host'], orderBy: [], timeColumn: 'time' });
    expect(await storage.list('cs/9/')).toEqual([m.key]);
    expect((await new ColumnStore(storage, wasm).readManifest(m.key)).batches).toEqual([]);
    await storage.close();
  });
});
