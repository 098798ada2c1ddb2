/**
 * Pack objects (store.ts): the batches of one write in one object, located by manifest format 3;
 * data written one batch per object (formats 1 and 2) still read and appended to; reads by spans
 * of planned batches (coalesced across small gaps, bounded); a missing or short pack → XX001
 * naming the batch; orphan packs swept. On the memory and node-fs adapters, and on a store
 * without ranged reads (IndexedDB's case).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompressionSettings } from '../../src/columnstore/batch.js';
import type { CodecBackend } from '../../src/columnstore/codecs/index.js';
import { loadCodecsNode } from '../../src/columnstore/codecs/load-node.js';
import { allocColumn, type Column, type Rows } from '../../src/columnstore/columns.js';
import { decodeManifest, encodeManifest, type Manifest } from '../../src/columnstore/manifest.js';
import { ColumnStore, encodeBatches, manifestKey, packBatches, SPAN_BYTES, SPAN_GAP, versionPrefix } from '../../src/columnstore/store.js';
import { BatchColumns } from '../../src/columnstore/kernels/batch-columns.js';
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

/** `hosts` hosts × `per` rows, 10 s apart; a noisy float so batches are not tiny. */
function cpuRows(hosts: number, per: number, seed = 1): Rows {
  const n = hosts * per;
  const p = new Prng(seed);
  const host = allocColumn('text', n) as Extract<Column, { type: 'text' }>;
  const time = allocColumn('timestamptz', n) as Extract<Column, { type: 'timestamptz' }>;
  const usage = allocColumn('float8', n) as Extract<Column, { type: 'float8' }>;
  const usageNulls = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) {
    host.values[i] = `host_${i % hosts}`;
    time.values[i] = BigInt(Math.floor(i / hosts)) * 10_000_000n;
    const r = p.int(1000);
    // NULLs, NaN and ±Infinity among the values: they travel inside the batch bytes.
    if (r === 0) usageNulls[i >> 3]! |= 1 << (i & 7);
    else usage.values[i] = r === 1 ? Number.NaN : r === 2 ? Number.POSITIVE_INFINITY : r === 3 ? Number.NEGATIVE_INFINITY : p.int(1_000_000) / 7;
  }
  return { names: ['time', 'host', 'usage'], columns: [time, host, { ...usage, nulls: usageNulls }] };
}

const CPU: CompressionSettings = { segmentBy: ['host'], orderBy: [{ column: 'time', desc: true }], timeColumn: 'time' };

/** An adapter that counts reads and can hide `getRange` (IndexedDB has none). */
function counting(inner: StorageAdapter, ranged = true): StorageAdapter & { gets: string[]; ranges: Array<[string, number, number]> } {
  const gets: string[] = [];
  const ranges: Array<[string, number, number]> = [];
  const a: StorageAdapter & { gets: string[]; ranges: Array<[string, number, number]> } = {
    kind: inner.kind,
    rowStoreDataDir: inner.rowStoreDataDir,
    gets,
    ranges,
    get: (key) => (gets.push(key), inner.get(key)),
    put: (key, value) => inner.put(key, value),
    delete: (key) => inner.delete(key),
    list: (prefix) => inner.list(prefix),
    close: () => inner.close(),
    ...(inner.putNew ? { putNew: (entries: ReadonlyArray<readonly [string, Uint8Array]>) => inner.putNew!(entries) } : {}),
  };
  if (ranged && inner.getRange) a.getRange = (key, offset, length) => (ranges.push([key, offset, length]), inner.getRange!(key, offset, length));
  // Several ranges in one read (node-fs): recorded as the span they cover.
  if (ranged && inner.getRanges) {
    a.getRanges = (key, list) => {
      if (list.length > 0) ranges.push([key, list[0]!.offset, list[list.length - 1]!.offset + list[list.length - 1]!.length - list[0]!.offset]);
      return inner.getRanges!(key, list);
    };
  }
  return a;
}

async function allRows(cs: ColumnStore, m: Manifest): Promise<string[]> {
  const out: string[] = [];
  for (let b = 0; b < m.batches.length; b++) out.push(...rowStrings(await cs.readBatch(m, b)));
  return sorted(out);
}

/** Writes `rows` the way Orbit did before packs: one object per batch, a manifest of `format`. */
async function writeOldLayout(storage: StorageAdapter, h: number, c: number, version: number, rows: Rows, format: 1 | 2): Promise<string> {
  const { stats, objects } = encodeBatches(wasm, rows, CPU);
  for (const [i, o] of objects.entries()) await storage.put(versionPrefix(h, c, version) + i, o);
  const key = manifestKey(h, c, version);
  const columns = rows.names.map((name, i) => ({ name, type: rows.columns[i]!.type }));
  await storage.put(key, encodeManifest(wasm, { hypertableId: h, chunkId: c, version, columns, settings: CPU, batches: stats }, format));
  return key;
}

const adapters: [string, () => Promise<StorageAdapter>][] = [
  ['memory', async () => new MemoryStorage()],
  [
    'node-fs',
    async () => {
      const d = tempDir('orbit-packs-');
      dirs.push(d);
      return NodeFsStorage.open(d.path);
    },
  ],
];

describe('packBatches', () => {
  it('fills packs up to the limit, a larger batch alone, offsets back to back', () => {
    const sizes = [3, 4, 2, 10, 1, 1];
    const objects = sizes.map((n, i) => new Uint8Array(n).fill(i + 1));
    const { packs, at } = packBatches(objects, 5, 8);
    expect(at).toEqual([
      { no: 5, offset: 0 },
      { no: 5, offset: 3 },
      { no: 6, offset: 0 },
      { no: 7, offset: 0 },
      { no: 8, offset: 0 },
      { no: 8, offset: 1 },
    ]);
    expect(packs.map((p) => [...p])).toEqual([[1, 1, 1, 2, 2, 2, 2], [3, 3], [...objects[3]!], [5, 6]]);
    expect(packBatches([], 0, 8)).toEqual({ packs: [], at: [] });
  });

  it('makes a pack of batches lying one after another in one buffer a view of them (no copy)', () => {
    const flush = new Uint8Array(new SharedArrayBuffer(12)).map((_, i) => i + 1);
    // 3 + 4 bytes, then 5 bytes alone; then one not adjacent (a gap before it) is copied.
    const objects = [flush.subarray(0, 3), flush.subarray(3, 7), flush.subarray(7, 12)];
    const { packs, at } = packBatches(objects, 0, 8);
    expect(at).toEqual([{ no: 0, offset: 0 }, { no: 0, offset: 3 }, { no: 1, offset: 0 }]);
    expect(packs.map((p) => [p.buffer === flush.buffer, p.byteOffset, [...p]])).toEqual([
      [true, 0, [1, 2, 3, 4, 5, 6, 7]],
      [true, 7, [8, 9, 10, 11, 12]],
    ]);
    const gap = packBatches([flush.subarray(0, 2), flush.subarray(3, 5)], 0, 8).packs;
    expect(gap.map((p) => [p.buffer === flush.buffer, [...p]])).toEqual([[false, [1, 2, 4, 5]]]);
  });
});

describe.each(adapters)('pack objects on %s', (_, open) => {
  it('writes a chunk as one pack; manifest format 3 round-trips every location and the rows', async () => {
    const storage = await open();
    const cs = new ColumnStore(storage, wasm);
    const rows = cpuRows(7, 2300);
    const m = await cs.writeChunk(1, 1, rows, CPU);
    expect(m.batches.length).toBe(21);
    expect(await storage.list('cs/1/1/')).toEqual(['cs/1/1/1/0', 'cs/1/1/1/manifest']);
    const bytes = await storage.get(m.key);
    expect(bytes![2]).toBe(3);
    const decoded = decodeManifest(wasm, bytes!, m.key);
    expect(decoded.batches).toEqual(m.batches);
    expect(decoded.batches[0]!.source).toBeUndefined();
    expect(decoded.batches[1]!.source).toEqual({ version: 1, no: 0, offset: m.batches[0]!.bytes });
    expect(await allRows(new ColumnStore(storage, wasm), await new ColumnStore(storage, wasm).readManifest(m.key))).toEqual(sorted(rowStrings(rows)));
    // Random rows of every type (NULLs everywhere) through a pack as well.
    const p = new Prng(5);
    const random = randomRows(p, 4000, ALL_TYPES, 0.3);
    const r = await cs.writeChunk(1, 2, random, { segmentBy: ['c9'], orderBy: [{ column: 'c0' }], timeColumn: 'c0' });
    const fresh = new ColumnStore(storage, wasm);
    expect(await allRows(fresh, await fresh.readManifest(r.key))).toEqual(sorted(rowStrings(random)));
    await storage.close();
  });

  it('writes batches encoded elsewhere (an imported chunk) as one pack, replacing the locations they came with', async () => {
    const storage = await open();
    const cs = new ColumnStore(storage, wasm);
    const rows = cpuRows(5, 1200, 3);
    const { stats, objects } = encodeBatches(wasm, rows, CPU);
    // Locations from the sender's store: they name objects this store does not have.
    const foreign = stats.map((s, i) => ({ ...s, source: { version: 9, no: i, offset: 17 } }));
    const columns = rows.names.map((name, i) => ({ name, type: rows.columns[i]!.type }));
    const m = await cs.writeVersion({ hypertableId: 4, chunkId: 2, version: 3 }, columns, CPU, foreign, objects);
    expect(await storage.list('cs/4/2/')).toEqual(['cs/4/2/3/0', 'cs/4/2/3/manifest']);
    expect(m.batches.every((b) => b.source === undefined || (b.source.version === 3 && b.source.no === 0))).toBe(true);
    expect(m.rowCount).toBe(6000);
    const fresh = new ColumnStore(storage, wasm);
    expect(await allRows(fresh, await fresh.readManifest(m.key))).toEqual(sorted(rowStrings(rows)));
    await storage.close();
  });

  it('reads data written one batch per object (formats 1 and 2), and appends to it in packs', async () => {
    const storage = await open();
    const rowsA = cpuRows(3, 1800, 2);
    const rowsB = cpuRows(3, 1500, 3);
    const k1 = await writeOldLayout(storage, 4, 1, 1, rowsA, 1);
    const k2 = await writeOldLayout(storage, 4, 2, 3, rowsB, 2);
    expect((await storage.list('cs/4/1/1/')).length).toBe(7);
    const cs = new ColumnStore(storage, wasm);
    const m1 = await cs.readManifest(k1);
    const m2 = await cs.readManifest(k2);
    expect(m1.batches.every((b) => b.source === undefined)).toBe(true);
    expect(await allRows(cs, m1)).toEqual(sorted(rowStrings(rowsA)));
    expect(await allRows(cs, m2)).toEqual(sorted(rowStrings(rowsB)));
    // Planned (span) reads over single-batch objects: one read per object.
    const counted = counting(storage);
    const cold = new ColumnStore(counted, wasm);
    const reader = new BatchColumns(cold, m2, new Set(['float8', 'timestamptz'])).plan(m2.batches.map((_, i) => i));
    for (let b = 0; b < m2.batches.length; b++) await reader.read(b, ['usage']);
    expect(counted.ranges.length).toBe(m2.batches.length);

    // Direct ingest's append on top of the old version: two flushes → two packs, old objects kept.
    const extra = cpuRows(3, 1200, 4);
    const shifted: Rows = { ...extra, columns: extra.columns.map((c, i) => (i === 0 ? { ...c, values: (c.values as BigInt64Array).map((t) => t + 10n ** 12n) } : c)) as Rows['columns'] };
    const append = await cs.beginAppend(4, 2, m2.columns, CPU);
    await cs.appendRows(append, shifted);
    await cs.appendRows(append, cpuRows(2, 700, 5));
    const m3 = await cs.commitAppend(append, m2);
    expect(await storage.list(versionPrefix(4, 2, m3.version))).toEqual([`${versionPrefix(4, 2, m3.version)}0`, `${versionPrefix(4, 2, m3.version)}1`, m3.key]);
    const fresh = new ColumnStore(storage, wasm);
    const read = await fresh.readManifest(m3.key);
    expect(read.batches).toEqual(m3.batches);
    expect(await allRows(fresh, read)).toEqual(sorted([...rowStrings(rowsB), ...rowStrings(shifted), ...rowStrings(cpuRows(2, 700, 5))]));
    // The sweep keeps the old version whose objects the new manifest still lists.
    expect(await fresh.sweep(new Set([k1, m3.key]))).toEqual([]);
    expect(await storage.list('cs/4/2/3/')).toHaveLength(7); // six batch objects and the manifest
    expect(await allRows(new ColumnStore(storage, wasm), read)).toHaveLength(3 * 1500 + 3 * 1200 + 2 * 700);
    await storage.close();
  });

  it('reads planned batches by spans: neighbours coalesced across small gaps, bounded, each batch cached', async () => {
    const storage = await open();
    const m = await new ColumnStore(storage, wasm).writeChunk(2, 1, cpuRows(10, 6000), CPU);
    const n = m.batches.length;
    expect(n).toBe(60);
    const counted = counting(storage);
    const cs = new ColumnStore(counted, wasm);
    // Every batch but 10..12 and 40 (gaps of up to 3 batches, well under SPAN_GAP) and the last.
    const wanted = m.batches.map((_, i) => i).filter((i) => !(i >= 10 && i <= 12) && i !== 40 && i !== n - 1);
    expect(m.batches.slice(10, 13).reduce((s, b) => s + b.bytes, 0)).toBeLessThan(SPAN_GAP);
    const reader = new BatchColumns(cs, m, new Set(['float8', 'timestamptz'])).plan(wanted);
    const seen: number[] = [];
    for (const b of wanted) seen.push((await reader.read(b, ['usage'])).get('usage')!.values.length);
    expect(seen.every((k) => k > 0)).toBe(true);
    expect(counted.gets).toEqual([]);
    // One span for all of them (the pack is well under SPAN_BYTES), from the first wanted batch to
    // the end of the last wanted one; the gap batches are read and dropped, not cached.
    const end = (i: number) => (m.batches[i]!.source?.offset ?? 0) + m.batches[i]!.bytes;
    expect(counted.ranges).toEqual([['cs/2/1/1/0', 0, end(n - 2)]]);
    expect(cs.cacheStats().entries).toBe(wanted.length);
    // Unplanned reads are one batch each.
    await cs.batchObject(m, 11);
    expect(counted.ranges[1]).toEqual(['cs/2/1/1/0', m.batches[11]!.source!.offset, m.batches[11]!.bytes]);

    // A gap wider than SPAN_GAP splits the span; a span stops before SPAN_BYTES.
    const tiny = new ColumnStore(counting(storage), wasm);
    const spread = [0, n - 1];
    expect(end(n - 2) - end(0)).toBeGreaterThan(SPAN_GAP);
    const r2 = new BatchColumns(tiny, m, new Set(['float8', 'timestamptz'])).plan(spread);
    for (const b of spread) await r2.read(b, ['usage']);
    expect((tiny.storage as ReturnType<typeof counting>).ranges.length).toBe(2);
    expect(SPAN_BYTES).toBeGreaterThan(end(n - 1));
    await storage.close();
  });

  it('bounds a span by SPAN_BYTES on a pack larger than that', async () => {
    const storage = await open();
    // Random floats compress poorly: ~8 B a value, so a few MiB per chunk.
    const m = await new ColumnStore(storage, wasm).writeChunk(3, 1, cpuRows(20, 40_000), CPU);
    const total = m.batches.reduce((s, b) => s + b.bytes, 0);
    expect(total).toBeGreaterThan(SPAN_BYTES);
    const counted = counting(storage);
    const cs = new ColumnStore(counted, wasm);
    const all = m.batches.map((_, i) => i);
    const reader = new BatchColumns(cs, m, new Set(['float8', 'timestamptz'])).plan(all);
    let rows = 0;
    for (const b of all) rows += (await reader.read(b, ['time'])).get('time')!.values.length;
    expect(rows).toBe(800_000);
    expect(counted.ranges.length).toBeGreaterThanOrEqual(Math.ceil(total / SPAN_BYTES));
    expect(counted.ranges.length).toBeLessThan(all.length / 4);
    for (const [, , length] of counted.ranges) expect(length).toBeLessThanOrEqual(SPAN_BYTES);
    expect(counted.ranges.reduce((s, [, , l]) => s + l, 0)).toBe(total);
    await storage.close();
  });

  it('without ranged reads, fetches a pack once and caches all its batches', async () => {
    const storage = await open();
    const m = await new ColumnStore(storage, wasm).writeChunk(5, 1, cpuRows(4, 3000), CPU);
    const counted = counting(storage, false);
    const cs = new ColumnStore(counted, wasm);
    expect(await allRows(cs, m)).toEqual(sorted(rowStrings(cpuRows(4, 3000))));
    expect(counted.gets).toEqual(['cs/5/1/1/0']);
    expect(counted.ranges).toEqual([]);
    await storage.close();
  });

  it('reports a missing or truncated pack as XX001 naming the batch', async () => {
    const storage = await open();
    const m = await new ColumnStore(storage, wasm).writeChunk(6, 1, cpuRows(3, 3000), CPU);
    const pack = (await storage.get('cs/6/1/1/0'))!;
    const last = m.batches.length - 1;
    const lastAt = m.batches[last]!.source!.offset!;
    // Cut in the middle of the last batch: the others still read.
    await storage.put('cs/6/1/1/0', pack.slice(0, lastAt + 10));
    for (const ranged of [true, false]) {
      const cs = new ColumnStore(counting(storage, ranged), wasm);
      await expect(cs.readBatch(m, last)).rejects.toMatchObject({ code: 'XX001', message: expect.stringMatching(new RegExp(`batch ${last} of cs/6/1/1/manifest is truncated`)) });
      expect((await cs.readBatch(m, 0)).columns[0]!.values.length).toBe(m.batches[0]!.rows);
      const reader = new BatchColumns(cs, m, new Set(['float8', 'timestamptz'])).plan(m.batches.map((_, i) => i));
      await expect((async () => {
        for (let b = 0; b <= last; b++) await reader.read(b, ['usage']);
      })()).rejects.toMatchObject({ code: 'XX001' });
    }
    await storage.delete('cs/6/1/1/0');
    await expect(new ColumnStore(storage, wasm).readBatch(m, 1)).rejects.toMatchObject({ code: 'XX001', message: expect.stringContaining('batch 1 of cs/6/1/1/manifest is missing: no object cs/6/1/1/0') });
    await storage.close();
  });

  it('sweeps orphan packs: an append never committed, a crash before the manifest', async () => {
    const storage = await open();
    const cs = new ColumnStore(storage, wasm);
    const m = await cs.writeChunk(7, 1, cpuRows(3, 1000), CPU);
    // A crash after the packs of versions 2 (whole) and 3 (one of two, torn) were written.
    const { objects } = encodeBatches(wasm, cpuRows(3, 1000, 9), CPU);
    const { packs } = packBatches(objects);
    await storage.put('cs/7/1/2/0', packs[0]!);
    await storage.put('cs/7/1/3/1', packs[0]!.slice(0, 100));
    // An append the crashed process had in progress: orphaned too.
    const append = await cs.beginAppend(7, 1, m.columns, CPU);
    expect(append.version).toBe(4);
    await cs.appendRows(append, cpuRows(3, 1000, 10));
    const fresh = new ColumnStore(storage, wasm);
    expect((await fresh.sweep(new Set([m.key]))).sort()).toEqual(['cs/7/1/2/0', 'cs/7/1/3/1', 'cs/7/1/4/0']);
    expect(await storage.list('cs/7/')).toEqual(['cs/7/1/1/0', m.key]);
    // An append in progress in this process is spared; once given up its pack goes.
    const other = new ColumnStore(storage, wasm);
    const again = await other.beginAppend(7, 1, m.columns, CPU);
    await other.appendRows(again, cpuRows(3, 1000, 11));
    expect(await other.sweep(new Set([m.key]))).toEqual([]);
    await other.abortAppend(again);
    expect(await storage.list('cs/7/')).toEqual(['cs/7/1/1/0', m.key]);
    expect(await allRows(cs, await new ColumnStore(storage, wasm).readManifest(m.key))).toEqual(sorted(rowStrings(cpuRows(3, 1000))));
    await storage.close();
  });
});
