/**
 * @module columnstore/store
 * The batch store: compressed chunks as batch objects plus a manifest in a StorageAdapter
 * (docs/design/columnstore.md, "Where things live"), read through a bounded LRU cache.
 * The keys, the packing of batches into objects and a batch's place in its object are
 * columnstore/pack-layout.ts's.
 *
 * A write goes under a new version (one above every version present), packs first and the
 * manifest last, each durable when its put resolves; the caller then commits the manifest key to
 * the catalog. A version whose manifest no catalog row points at is an orphan, removed by `sweep`.
 *
 * Reads: a reader about to decode many batches says which (`planReads`); a miss then reads the
 * planned batches that follow it in the same pack as one span (`getRange`; gaps up to SPAN_GAP read
 * and dropped, at most SPAN_BYTES a span, so a whole-chunk scan goes through the cache span by
 * span), and caches each batch on its own.
 */
import { orbitError } from '../errors.js';
import type { StorageAdapter } from '../storage/types.js';
import { decodeBatch, encodeBatch } from './batch-format.js';
import { planBatches, type BatchStats, type CompressionSettings, type TextDictionary } from './batch.js';
import type { CodecBackend } from './codecs/index.js';
import { checkRows, type Rows } from './columns.js';
import { decodeManifest, encodeManifest, type Manifest, type ManifestColumn } from './manifest.js';
import { LruCache } from './lru-cache.js';
import { batchesIn, batchKey, batchLocation, chunkPrefix, id, MANIFEST, manifestKey, packBatches, placed, ROOT, versionOf, versionPrefix, type BatchLocation } from './pack-layout.js';

/** Planned batches of one pack closer than this are read in the same span (the gap is read and dropped). */
export const SPAN_GAP = 64 << 10;
/** Bytes one span read asks for at most (with the default cache, a span never evicts most of it). */
export const SPAN_BYTES = 4 << 20;

export interface ColumnStoreOptions {
  /**
   * Bytes of encoded batch and manifest objects kept in memory (default 64 MiB). Entries are the
   * stored bytes, so with TSBS cpu rows (~30 B/row) 64 MiB holds ~2 M rows; decoding from the
   * cache costs a decode, not a read.
   */
  readonly cacheBytes?: number;
  /**
   * Bytes of decoded rows the general read path keeps in temporary cache tables per backend
   * (default 64 MiB; session/columnstore/cache-budget.ts). They live in the row store's memory with
   * memory:// and idb:// data directories; past this, chunks no statement is reading are dropped,
   * least recently used first, and decoded again when read. One statement may exceed it by what it reads.
   */
  readonly cacheTableBytes?: number;
  /** Objects written concurrently by `writeChunk` (default 8). */
  readonly writeConcurrency?: number;
  /**
   * Keep an aggregate's final statement and a last point's candidate rows, reused while the batches
   * and constants they came from are the same (default true). Off, every query computes them from
   * the batches again (what a benchmark of first answers wants).
   */
  readonly reuseResults?: boolean;
}

/**
 * Batches a reader is about to decode, in its order (`ColumnStore.planReads`): a miss on one reads
 * those after it in the same pack with it.
 */
export interface ReadPlan {
  readonly manifest: Manifest;
  readonly order: readonly number[];
  /** Batch number → index in `order`. */
  readonly position: ReadonlyMap<number, number>;
}

/** The cache's key of a batch: its object and offset (several batches share an object). */
function cacheKey(loc: BatchLocation): string {
  return loc.offset === 0 ? loc.key : `${loc.key}@${loc.offset}`;
}

/**
 * An append to a chunk in progress (direct ingest): batch objects written under a reserved version,
 * made visible by `commitAppend`'s manifest, which also lists the batches of the version it extends.
 */
export interface ChunkAppend {
  readonly hypertableId: number;
  readonly chunkId: number;
  readonly version: number;
  readonly settings: CompressionSettings;
  readonly columns: readonly ManifestColumn[];
  /** Stats of the batches written so far, each with its location (`source`). */
  readonly written: BatchStats[];
  /** Pack objects written so far (the next one's number). */
  packs: number;
}

/**
 * The batches of `rows` (planBatches; `dictionaries`: text columns held as numbers) and their
 * objects (encodeBatch), each stats' `bytes` set.
 */
export function encodeBatches(backend: CodecBackend, rows: Rows, settings: CompressionSettings, groups?: number[][], dictionaries?: ReadonlyArray<TextDictionary | undefined>): { stats: BatchStats[]; objects: Uint8Array[] } {
  checkRows(rows);
  const planned = planBatches(rows, settings, groups, dictionaries);
  const objects = planned.map((b) => encodeBatch(backend, b.columns));
  planned.forEach((b, i) => (b.stats.bytes = objects[i]!.length));
  return { stats: planned.map((b) => b.stats), objects };
}

export class ColumnStore {
  private readonly cache: LruCache<Uint8Array | Manifest>;
  private readonly concurrency: number;
  /** Version directories being written: never chosen twice, never swept. */
  private readonly pending = new Set<string>();
  /**
   * Bumped whenever objects are deleted: a version's key names the same content only until then
   * (a later write may reuse a deleted version), so what callers derive from keys is valid while
   * this stays the same.
   */
  private deletions = 0;
  /** The same count per chunk directory (`cs/h/c/`): see chunkGeneration. */
  private readonly chunkDeletions = new Map<string, number>();

  get generation(): number {
    return this.deletions;
  }

  /**
   * How many times objects of one chunk were deleted: a version number of that chunk names the
   * same content only while this stays the same (its versions may all be deleted — decompressed —
   * and the next compression then writes version 1 again).
   */
  chunkGeneration(hypertableId: number, chunkId: number): number {
    return this.chunkDeletions.get(chunkPrefix(hypertableId, chunkId)) ?? 0;
  }

  /** Counts a deletion under version directory `prefix` (`cs/h/c/v/`). */
  private deleting(prefix: string): void {
    this.deletions++;
    const chunk = prefix.slice(0, prefix.lastIndexOf('/', prefix.length - 2) + 1);
    this.chunkDeletions.set(chunk, (this.chunkDeletions.get(chunk) ?? 0) + 1);
  }

  constructor(
    readonly storage: StorageAdapter,
    readonly backend: CodecBackend,
    options: ColumnStoreOptions = {},
  ) {
    this.cache = new LruCache(options.cacheBytes ?? 64 << 20);
    this.concurrency = Math.max(1, options.writeConcurrency ?? 8);
    this.reuseResults = options.reuseResults !== false;
    this.cacheTableBytes = options.cacheTableBytes ?? 64 << 20;
  }

  /** See ColumnStoreOptions.cacheTableBytes. */
  readonly cacheTableBytes: number;

  /** See ColumnStoreOptions.reuseResults. */
  readonly reuseResults: boolean;

  /** Cache occupancy and hit counts. */
  cacheStats(): { bytes: number; entries: number; hits: number; misses: number } {
    return { bytes: this.cache.bytes, entries: this.cache.size, hits: this.cache.hits, misses: this.cache.misses };
  }

  /** Picks a version above every stored and pending one and marks it pending (no await in between). */
  private async reserveVersion(hypertableId: number, chunkId: number): Promise<number> {
    const chunk = chunkPrefix(hypertableId, chunkId);
    let max = 0;
    for (const key of await this.storage.list(chunk)) max = Math.max(max, Number(key.slice(chunk.length).split('/')[0]));
    for (const p of this.pending) if (p.startsWith(chunk)) max = Math.max(max, Number(p.slice(chunk.length, -1)));
    this.pending.add(versionPrefix(hypertableId, chunkId, max + 1));
    return max + 1;
  }

  /**
   * Compresses the rows of one chunk: batches and manifest written durably under a new version.
   * Returns the manifest (its `key` is what the catalog should point at). `attnums`: the hypertable's
   * attnum of each column (ManifestColumn.attnum).
   */
  async writeChunk(hypertableId: number, chunkId: number, rows: Rows, settings: CompressionSettings, attnums?: readonly number[]): Promise<Manifest> {
    checkRows(rows);
    const planned = planBatches(rows, settings);
    const version = await this.reserveVersion(hypertableId, chunkId);
    const prefix = versionPrefix(hypertableId, chunkId, version);
    try {
      const objects = planned.map((b) => encodeBatch(this.backend, b.columns));
      planned.forEach((b, i) => (b.stats.bytes = objects[i]!.length));
      const columns = rows.names.map((name, i) => (attnums ? { name, type: rows.columns[i]!.type, attnum: attnums[i]! } : { name, type: rows.columns[i]!.type }));
      return await this.writeVersion({ hypertableId, chunkId, version }, columns, settings, planned.map((b) => b.stats), objects);
    } finally {
      this.pending.delete(prefix);
    }
  }

  /**
   * Writes encoded batches (`stats[i]` describes `objects[i]`; any location they carry is
   * replaced) packed under `head`'s version, then their manifest. The caller owns the version: one
   * no other writer takes (writeChunk reserves it; an edge database runs one statement at a time).
   */
  async writeVersion(head: Pick<Manifest, 'hypertableId' | 'chunkId' | 'version'>, columns: readonly ManifestColumn[], settings: CompressionSettings, stats: readonly BatchStats[], objects: readonly Uint8Array[]): Promise<Manifest> {
    const { packs, at } = packBatches(objects);
    await this.putObjects(packs.map((pack, no) => [batchKey(head, no), pack] as const));
    return this.putManifest({
      ...head,
      key: manifestKey(head.hypertableId, head.chunkId, head.version),
      columns,
      settings,
      rowCount: stats.reduce((s, b) => s + b.rows, 0),
      batches: stats.map((b, i) => placed(b, head.version, head.version, i, at[i]!)),
    });
  }

  /** Writes a manifest durably (last, after its batches) and caches it. */
  private async putManifest(manifest: Manifest): Promise<Manifest> {
    const bytes = encodeManifest(this.backend, manifest);
    await this.storage.put(manifest.key, bytes);
    this.cache.set(manifest.key, manifest, bytes.length);
    return manifest;
  }

  /** Starts an append to a chunk: reserves a version that `sweep` leaves alone until commit or abort. */
  async beginAppend(hypertableId: number, chunkId: number, columns: readonly ManifestColumn[], settings: CompressionSettings): Promise<ChunkAppend> {
    const version = await this.reserveVersion(hypertableId, chunkId);
    return { hypertableId, chunkId, version, settings, columns, written: [], packs: 0 };
  }

  /**
   * Cuts `rows` (the append's columns, in order) into batches and writes them durably. The cutting
   * and encoding happen before the returned promise is first suspended, and the batch numbers are
   * taken then, so a caller may go on (even append again) while the writes run; it must await every
   * append before commitAppend.
   */
  async appendRows(append: ChunkAppend, rows: Rows, groups?: number[][]): Promise<void> {
    const { stats, objects } = encodeBatches(this.backend, rows, append.settings, groups);
    return this.appendEncoded(append, stats, objects);
  }

  /**
   * Writes batches encoded elsewhere (`encodeBatches`, e.g. on another thread) as appendRows does:
   * their batch numbers are taken before the returned promise is first suspended.
   */
  async appendEncoded(append: ChunkAppend, stats: readonly BatchStats[], objects: readonly Uint8Array[]): Promise<void> {
    if (objects.length === 0) return;
    const { packs, at } = packBatches(objects, append.packs);
    append.packs += packs.length;
    // Every appended batch gets a location (its number in the final manifest is not known yet).
    stats.forEach((s, i) => append.written.push(placed(s, append.version, -1, -1, at[i]!)));
    return this.putObjects(packs.map((pack, k) => [versionPrefix(append.hypertableId, append.chunkId, append.version) + id(at[0]!.no + k, 'object number'), pack] as const));
  }

  /**
   * Writes objects of a version no manifest lists yet: together where the adapter can (`putNew`:
   * such a version is swept if a crash leaves it half written), else `put` each, a few at a time.
   */
  private async putObjects(entries: ReadonlyArray<readonly [string, Uint8Array]>): Promise<void> {
    if (entries.length === 0) return;
    if (this.storage.putNew) return this.storage.putNew(entries);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < entries.length) {
        const [key, value] = entries[next++]!;
        await this.storage.put(key, value);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, entries.length) }, worker));
  }

  /**
   * Writes the manifest of the append: the batches of \`previous\` (the version the catalog points at
   * now, if any; they stay where they are) followed by the new ones. The caller then points the
   * catalog at the returned manifest's key.
   */
  async commitAppend(append: ChunkAppend, previous: Manifest | undefined): Promise<Manifest> {
    const prefix = versionPrefix(append.hypertableId, append.chunkId, append.version);
    try {
      if (previous && !sameColumns(previous.columns, append.columns)) {
        throw orbitError('object_not_in_prerequisite_state', `columnstore chunk ${previous.key} has other columns than the rows appended`);
      }
      const kept = (previous?.batches ?? []).map((b, no) => ({ ...b, source: b.source ?? { version: previous!.version, no } }));
      const head = { hypertableId: append.hypertableId, chunkId: append.chunkId, version: append.version };
      const batches = [...kept, ...append.written];
      const manifest: Manifest = {
        ...head,
        key: manifestKey(append.hypertableId, append.chunkId, append.version),
        columns: append.columns,
        settings: previous?.settings ?? append.settings,
        rowCount: batches.reduce((s, b) => s + b.rows, 0),
        batches,
      };
      return await this.putManifest(manifest);
    } finally {
      this.pending.delete(prefix);
    }
  }

  /** Gives an append up: its objects are deleted. */
  async abortAppend(append: ChunkAppend): Promise<void> {
    const prefix = versionPrefix(append.hypertableId, append.chunkId, append.version);
    try {
      this.deleting(prefix);
      for (const key of await this.storage.list(prefix)) await this.storage.delete(key);
      this.cache.deletePrefix(prefix);
    } finally {
      this.pending.delete(prefix);
    }
  }

  /** Reads a manifest the catalog points at; a missing one is data corruption (XX001). */
  async readManifest(key: string): Promise<Manifest> {
    const cached = this.cache.get(key);
    if (cached && !(cached instanceof Uint8Array)) return cached;
    const bytes = await this.storage.get(key);
    if (!bytes) throw orbitError('data_corrupted', `columnstore manifest ${key} is missing`);
    const manifest = decodeManifest(this.backend, bytes, key);
    if (manifest.key !== manifestKey(manifest.hypertableId, manifest.chunkId, manifest.version)) {
      throw orbitError('data_corrupted', `columnstore manifest ${key} describes another chunk version`);
    }
    this.cache.set(key, manifest, bytes.length);
    return manifest;
  }

  /**
   * Says which batches of `manifest` a reader is about to decode, in its order; pass the plan to
   * `batchObject` (BatchColumns.plan does) so that misses read spans of them.
   */
  planReads(manifest: Manifest, batchNos: readonly number[]): ReadPlan {
    return { manifest, order: batchNos, position: new Map(batchNos.map((no, i) => [no, i])) };
  }

  /**
   * The stored bytes of one batch (through the cache). `plan`: the batches the caller will read
   * next (planReads); a miss reads those after this one in its pack with it.
   */
  async batchObject(manifest: Manifest, batchNo: number, plan?: ReadPlan): Promise<Uint8Array> {
    const loc = batchLocation(manifest, batchNo);
    const cached = this.cache.get(cacheKey(loc));
    if (cached instanceof Uint8Array) return cached;
    // The batches read with this one: the plan's next ones in the same object, ascending and close.
    let group = [batchNo];
    let end = loc.offset + loc.length;
    const at = plan?.manifest === manifest ? plan.position.get(batchNo) : undefined;
    if (at !== undefined) {
      for (let i = at + 1; i < plan!.order.length; i++) {
        const next = batchLocation(manifest, plan!.order[i]!);
        if (next.key !== loc.key || next.offset < end || next.offset - end > SPAN_GAP || next.offset + next.length - loc.offset > SPAN_BYTES) break;
        group.push(plan!.order[i]!);
        end = next.offset + next.length;
      }
    }
    // Each batch in a buffer of its own: the cache keeps batches one by one, and a view into a
    // shared span would keep the whole span alive while any one of them stays.
    let locs = group.map((no) => (no === batchNo ? loc : batchLocation(manifest, no)));
    let parts: Uint8Array[] | undefined;
    const cut = (from: Uint8Array, base: number): Uint8Array[] => (locs.length === 1 && base === loc.offset && from.length <= loc.length ? [from] : locs.map((l) => from.slice(l.offset - base, l.offset - base + l.length)));
    if (this.storage.getRanges && group.length > 1) {
      parts = await this.storage.getRanges(loc.key, locs);
    } else if (this.storage.getRange) {
      const span = await this.storage.getRange(loc.key, loc.offset, end - loc.offset);
      parts = span && cut(span, loc.offset);
    } else {
      // The whole object comes anyway: every batch of this manifest in it is cached, not only the
      // planned ones, so a pack is not fetched again per batch.
      const whole = await this.storage.get(loc.key);
      if (whole) {
        group = [batchNo, ...batchesIn(manifest, loc.key).filter((no) => no !== batchNo)];
        locs = group.map((no) => batchLocation(manifest, no));
        parts = cut(whole, 0);
      }
    }
    if (!parts) throw orbitError('data_corrupted', `columnstore batch ${batchNo} of ${manifest.key} is missing: no object ${loc.key}`, { detail: `manifest ${manifest.key} lists ${manifest.batches.length} batches` });
    const own = parts[0]!;
    if (own.length !== loc.length) {
      throw orbitError('data_corrupted', `columnstore batch ${batchNo} of ${manifest.key} is truncated: object ${loc.key} has ${own.length} of its ${loc.length} bytes at offset ${loc.offset}`);
    }
    this.cache.set(cacheKey(loc), own, own.length);
    for (let i = 1; i < group.length; i++) {
      const l = locs[i]!;
      // A short neighbour is reported when it is asked for.
      if (parts[i]!.length === l.length && !this.cache.has(cacheKey(l))) this.cache.set(cacheKey(l), parts[i]!, l.length);
    }
    return own;
  }

  /** Decodes one batch: every column, or only `columns` (by name, in that order). */
  async readBatch(manifest: Manifest, batchNo: number, columns?: readonly string[]): Promise<Rows> {
    const names = manifest.columns.map((c) => c.name);
    const select = columns?.map((name) => {
      const i = names.indexOf(name);
      if (i < 0) throw orbitError('undefined_column', `column "${name}" does not exist`);
      return i;
    });
    const bytes = await this.batchObject(manifest, batchNo);
    const rows = decodeBatch(this.backend, bytes, names, manifest.columns.map((c) => c.type), select);
    if (rows.columns.length && checkRows(rows) !== manifest.batches[batchNo]!.rows) {
      throw orbitError('data_corrupted', `columnstore batch ${batchKey(manifest, batchNo)} disagrees with its manifest on the row count`);
    }
    return rows;
  }

  /**
   * Deletes every object under `cs/` whose version's manifest key is not in `keep` (orphans of
   * crashed or rolled-back compressions, versions replaced or decompressed). Versions being written
   * by this store are spared. Manifests go first, so a half-swept version never looks readable.
   * Returns the deleted keys.
   */
  async sweep(keep: ReadonlySet<string>): Promise<string[]> {
    // Versions whose batches a kept manifest still lists (appends reuse earlier versions' objects).
    const referenced = new Set<string>();
    for (const key of keep) {
      const v = versionOf(key);
      if (!v) continue;
      referenced.add(v);
      const manifest = await this.readManifest(key).catch(() => undefined);
      for (const b of manifest?.batches ?? []) if (b.source) referenced.add(versionPrefix(manifest!.hypertableId, manifest!.chunkId, b.source.version));
    }
    const byVersion = new Map<string, string[]>();
    for (const key of await this.storage.list(ROOT)) {
      const v = versionOf(key);
      if (!v || referenced.has(v) || this.pending.has(v)) continue;
      let keys = byVersion.get(v);
      if (!keys) byVersion.set(v, (keys = []));
      keys.push(key);
    }
    const deleted: string[] = [];
    for (const [v, keys] of byVersion) {
      this.deleting(v);
      keys.sort((a, b) => Number(b.endsWith(MANIFEST)) - Number(a.endsWith(MANIFEST)));
      for (const key of keys) {
        await this.storage.delete(key);
        deleted.push(key);
      }
      this.cache.deletePrefix(v);
    }
    return deleted;
  }
}

/** Whether batches of columns `a` and `b` may share a manifest; unknown attnums (older manifests) are taken to match. */
export function sameColumns(a: readonly ManifestColumn[], b: readonly ManifestColumn[]): boolean {
  return a.length === b.length && a.every((c, i) => c.name === b[i]!.name && c.type === b[i]!.type && (c.attnum === undefined || b[i]!.attnum === undefined || c.attnum === b[i]!.attnum));
}
