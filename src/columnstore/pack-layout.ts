/**
 * @module columnstore/pack-layout
 * How the batch store (columnstore/store.ts) lays its objects out in a StorageAdapter: the keys
 * batches and manifests are stored under, batches packed into objects, and where a batch's bytes are.
 *
 * Keys: `cs/<hypertable_id>/<chunk_id>/<version>/<object_no>` and `cs/<h>/<c>/<version>/manifest`.
 * An object is a pack: the batches one write call wrote, back to back (at most PACK_BYTES, more
 * packs above that), each batch's manifest entry naming its object and byte offset (manifest
 * format 3). Data written before packs (manifest formats 1 and 2) has one batch per object, object
 * number = batch number: a pack of one at offset 0, read the same way.
 */
import { orbitError } from '../errors.js';
import type { BatchStats } from './batch.js';
import type { Manifest } from './manifest.js';

/** Every columnstore key starts with this. */
export const ROOT = 'cs/';
/** The last part of a manifest's key (a version's objects are numbered). */
export const MANIFEST = 'manifest';

/** Bytes of batches one pack object holds at most; a batch larger than that is a pack alone. */
export const PACK_BYTES = 8 << 20;

/** A number as a part of a key; `what` names it in the error for one that cannot be. */
export function id(n: number, what: string): string {
  if (!Number.isSafeInteger(n) || n < 0) throw orbitError('invalid_parameter_value', `${what} must be a non-negative integer, got ${n}`);
  return String(n);
}

/** The chunk directory (`cs/h/c/`) the chunk's versions are under. */
export function chunkPrefix(hypertableId: number, chunkId: number): string {
  return `${ROOT}${id(hypertableId, 'hypertable id')}/${id(chunkId, 'chunk id')}/`;
}

/** The version directory (`cs/h/c/v/`) a version's objects and manifest are under. */
export function versionPrefix(hypertableId: number, chunkId: number, version: number): string {
  return `${chunkPrefix(hypertableId, chunkId)}${id(version, 'version')}/`;
}

/** The key of a version's manifest. */
export function manifestKey(hypertableId: number, chunkId: number, version: number): string {
  return versionPrefix(hypertableId, chunkId, version) + MANIFEST;
}

/** The key of the object (pack) holding batch `batchNo`; without `batches`, object number = batch number. */
export function batchKey(m: Pick<Manifest, 'hypertableId' | 'chunkId' | 'version'> & { readonly batches?: Manifest['batches'] }, batchNo: number): string {
  const source = m.batches?.[batchNo]?.source;
  return versionPrefix(m.hypertableId, m.chunkId, source?.version ?? m.version) + id(source?.no ?? batchNo, 'batch number');
}

/** Where a batch's bytes are: its object's key and the byte range in it. */
export interface BatchLocation {
  readonly key: string;
  readonly offset: number;
  readonly length: number;
}

/** Where batch `batchNo` of manifest `m` is. */
export function batchLocation(m: Manifest, batchNo: number): BatchLocation {
  const stats = m.batches[batchNo];
  if (!stats) throw orbitError('invalid_parameter_value', `batch ${batchNo} is not in ${m.key}`);
  return { key: batchKey(m, batchNo), offset: stats.source?.offset ?? 0, length: stats.bytes };
}

/**
 * Packs `objects` (encoded batches, in order) into objects of at most `limit` bytes: the packs'
 * bytes and, per batch, its pack number (from `firstPack`) and offset.
 */
export function packBatches(objects: readonly Uint8Array[], firstPack = 0, limit = PACK_BYTES): { packs: Uint8Array[]; at: Array<{ no: number; offset: number }> } {
  const at: Array<{ no: number; offset: number }> = [];
  const groups: Array<{ first: number; bytes: number }> = [];
  for (let i = 0; i < objects.length; i++) {
    const size = objects[i]!.length;
    let g = groups[groups.length - 1];
    if (!g || (g.bytes > 0 && g.bytes + size > limit)) groups.push((g = { first: i, bytes: 0 }));
    at.push({ no: firstPack + groups.length - 1, offset: g.bytes });
    g.bytes += size;
  }
  const packs = groups.map((g, k) => {
    const end = k + 1 < groups.length ? groups[k + 1]!.first : objects.length;
    // A pack of one batch, or of batches lying one after another in one buffer (a flush encoded
    // on another thread), is a view of those bytes: no copy.
    if (end - g.first === 1 || adjacent(objects, g.first, end)) return viewOf(objects[g.first]!, g.bytes);
    const pack = new Uint8Array(g.bytes);
    for (let i = g.first, o = 0; i < end; o += objects[i]!.length, i++) pack.set(objects[i]!, o);
    return pack;
  });
  return { packs, at };
}

/** Whether objects `from` to `to` (exclusive) follow one another in one buffer. */
function adjacent(objects: readonly Uint8Array[], from: number, to: number): boolean {
  const first = objects[from]!;
  for (let i = from + 1, end = first.byteOffset + first.length; i < to; end += objects[i]!.length, i++) {
    if (objects[i]!.buffer !== first.buffer || objects[i]!.byteOffset !== end) return false;
  }
  return true;
}

function viewOf(first: Uint8Array, bytes: number): Uint8Array {
  return bytes === first.length ? first : new Uint8Array(first.buffer, first.byteOffset, bytes);
}

/** The batch stats with their location: none for a batch in its own version at object = batch number, offset 0. */
export function placed(stats: BatchStats, version: number, ownVersion: number, batchNo: number, at: { no: number; offset: number }): BatchStats {
  const { source: _old, ...rest } = stats;
  if (version === ownVersion && at.no === batchNo && at.offset === 0) return rest;
  return { ...rest, source: at.offset === 0 ? { version, no: at.no } : { version, no: at.no, offset: at.offset } };
}

/** The version directory (`cs/h/c/v/`) of any key under it, or undefined for foreign keys. */
export function versionOf(key: string): string | undefined {
  const m = /^cs\/\d+\/\d+\/\d+\//.exec(key);
  return m?.[0];
}

/** Per manifest: its batches by object key, ascending (for adapters without ranged reads). */
const objectIndexes = new WeakMap<Manifest, Map<string, number[]>>();

/** The batches of `m` in object `key`, ascending. */
export function batchesIn(m: Manifest, key: string): number[] {
  let index = objectIndexes.get(m);
  if (!index) {
    objectIndexes.set(m, (index = new Map()));
    for (let no = 0; no < m.batches.length; no++) {
      const k = batchKey(m, no);
      let list = index.get(k);
      if (!list) index.set(k, (list = []));
      list.push(no);
    }
  }
  return index.get(key) ?? [];
}
