/**
 * @module storage/indexeddb-pgdata
 * PGlite's data directory in IndexedDB, written block by block: the fallback for browsers without
 * OPFS sync access handles. PGlite's `MemfsFrontendFS` runs PostgreSQL on an in-memory file system
 * and hands this backend, after each query, only what changed: structural operations and, per file,
 * the written byte ranges. They are stored as 8 KiB blocks (PostgreSQL's page size, so a page write
 * replaces one block without reading it), all in one IndexedDB transaction per flush, which makes a
 * flush atomic: after a crash the directory is as of the last acknowledged query, never half-written.
 * PGlite's stock `idb://` instead rewrites every changed *whole file* after each query (240–470 ms
 * per `select 1`, quadratic on inserts; research/browser_probe.md).
 *
 * Layout, database `orbit-pgdata:<name>`: store `entries` maps a path relative to PGDATA
 * ("/base/1/1259") to `{ kind: 'dir' }` or `{ kind: 'file', size }`; store `blocks` maps
 * `[path, index]` to the bytes of block `index` (the last one may be short). All-zero blocks are not
 * stored: a missing block inside a file reads as zeros, as a hole would.
 *
 * Limits: the whole directory is loaded into memory at open (MEMFS), so the row store must fit in
 * the tab's memory; Orbit's column batches live outside it, in storage/indexeddb.
 */
import type { ChangeSet, FileWrite, StorageBackend, StorageEntry } from '@electric-sql/pglite/memfs-frontend';
import { browserStorageError } from './browser-errors.js';
import { completion, settle } from './idb-request.js';

/** Block size: PostgreSQL's BLCKSZ and XLOG_BLCKSZ. */
export const PGDATA_BLOCK_SIZE = 8192;
const ENTRIES = 'entries';
const BLOCKS = 'blocks';

type Entry = { readonly kind: 'dir' } | { readonly kind: 'file'; readonly size: number };

/** What the last flushes wrote, for tests and diagnostics. */
export interface FlushStats {
  flushes: number;
  blocksWritten: number;
  bytesWritten: number;
}

export class IndexedDbPgdataBackend implements StorageBackend {
  readonly stats: FlushStats = { flushes: 0, blocksWritten: 0, bytesWritten: 0 };
  private db: IDBDatabase | undefined;

  constructor(readonly name: string) {}

  async init(): Promise<void> {
    if (this.db) return;
    const request = indexedDB.open(`orbit-pgdata:${this.name}`, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(ENTRIES);
      request.result.createObjectStore(BLOCKS);
    };
    try {
      this.db = await settle(request);
    } catch (err) {
      throw browserStorageError(err, `could not open the row store of database "${this.name}"`);
    }
  }

  /** True when a cluster was stored (flushes are atomic, so it is a whole one). */
  async hasCluster(): Promise<boolean> {
    await this.init();
    const tx = this.db!.transaction(ENTRIES, 'readonly');
    return (await settle(tx.objectStore(ENTRIES).count('/PG_VERSION'))) > 0;
  }

  async *load(): AsyncIterable<StorageEntry> {
    const tx = this.db!.transaction([ENTRIES, BLOCKS], 'readonly');
    const entries = tx.objectStore(ENTRIES);
    const blocks = tx.objectStore(BLOCKS);
    const [paths, values] = await Promise.all([settle(entries.getAllKeys()), settle(entries.getAll())]);
    // Sorted paths list every parent before its children (a prefix sorts first).
    const order = (paths as string[]).map((path, i) => ({ path, entry: values[i] as Entry })).sort((a, b) => (a.path < b.path ? -1 : 1));
    // Every request is issued before the first await, so the transaction stays alive for all of them.
    const files = order.map(({ path, entry }) => {
      if (entry.kind === 'dir') return { path, entry, data: undefined };
      const range = fileBlocks(path, 0);
      return { path, entry, data: Promise.all([settle(blocks.getAllKeys(range)), settle(blocks.getAll(range))]) };
    });
    for (const { path, entry, data } of files) {
      if (entry.kind === 'dir') {
        yield { kind: 'dir', path };
        continue;
      }
      const [keys, parts] = await data!;
      const bytes = new Uint8Array(entry.size);
      keys.forEach((key, i) => {
        const at = (key as [string, number])[1] * PGDATA_BLOCK_SIZE;
        const part = new Uint8Array(parts[i] as ArrayBuffer);
        bytes.set(part.subarray(0, Math.max(0, Math.min(part.length, entry.size - at))), at);
      });
      yield { kind: 'file', path, data: bytes };
    }
  }

  async apply(changes: ChangeSet, { relaxedDurability }: { relaxedDurability: boolean }): Promise<void> {
    try {
      const tx = this.db!.transaction([ENTRIES, BLOCKS], 'readwrite', { durability: relaxedDurability ? 'relaxed' : 'strict' });
      const done = completion(tx);
      const entries = tx.objectStore(ENTRIES);
      const blocks = tx.objectStore(BLOCKS);
      for (const { op, path } of changes.ops) {
        if (op === 'mkdir') {
          entries.put({ kind: 'dir' } satisfies Entry, path);
        } else {
          // A remove is recursive: the path itself and everything below it.
          entries.delete(path);
          entries.delete(IDBKeyRange.bound(`${path}/`, `${path}/\uffff`));
          blocks.delete(fileBlocks(path, 0));
          blocks.delete(IDBKeyRange.bound([`${path}/`], [`${path}/\uffff`]));
        }
      }
      // One transaction: the WAL → data → control order PGlite asks for is moot, all or nothing lands.
      const { wal, data, control } = changes.files;
      for (const file of [...wal, ...data, ...control]) this.writeFile(entries, blocks, file);
      await done;
      this.stats.flushes++;
    } catch (err) {
      throw browserStorageError(err, `could not write the row store of database "${this.name}"`);
    }
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
  }

  private writeFile(entries: IDBObjectStore, blocks: IDBObjectStore, file: FileWrite): void {
    const { path, size } = file;
    const count = Math.ceil(size / PGDATA_BLOCK_SIZE);
    entries.put({ kind: 'file', size } satisfies Entry, path);
    if (file.full) blocks.delete(fileBlocks(path, 0));
    else if (file.truncate) blocks.delete(fileBlocks(path, count));
    // The pieces of each touched block, in write order.
    const touched = new Map<number, Array<{ at: number; bytes: Uint8Array }>>();
    for (const { at, data } of file.chunks) {
      for (let pos = at; pos < at + data.length; ) {
        const index = Math.floor(pos / PGDATA_BLOCK_SIZE);
        const end = Math.min(at + data.length, (index + 1) * PGDATA_BLOCK_SIZE);
        const pieces = touched.get(index) ?? [];
        pieces.push({ at: pos - index * PGDATA_BLOCK_SIZE, bytes: data.subarray(pos - at, end - at) });
        touched.set(index, pieces);
        pos = end;
      }
    }
    // A shrunk file's last block may hold bytes past the new end: cut it, or a later growth would
    // bring them back where PostgreSQL expects zeros.
    if (file.truncate && !file.full && size % PGDATA_BLOCK_SIZE !== 0 && !touched.has(count - 1)) touched.set(count - 1, []);
    for (const [index, pieces] of touched) {
      if (index >= count) continue;
      const length = Math.min(PGDATA_BLOCK_SIZE, size - index * PGDATA_BLOCK_SIZE);
      const store = (base: ArrayBuffer | undefined) => {
        const block = new Uint8Array(length);
        if (base) block.set(new Uint8Array(base).subarray(0, length));
        for (const { at, bytes } of pieces) block.set(bytes.subarray(0, Math.max(0, length - at)), at);
        if (block.every((b) => b === 0)) {
          blocks.delete([path, index]);
        } else {
          blocks.put(block.buffer, [path, index]);
          this.stats.blocksWritten++;
          this.stats.bytesWritten += block.length;
        }
      };
      if (file.full || covers(pieces, length)) {
        store(undefined);
      } else {
        const request = blocks.get([path, index]);
        request.onsuccess = () => store(request.result as ArrayBuffer | undefined);
      }
    }
  }
}

/** The blocks of `path` from block `from` on. */
function fileBlocks(path: string, from: number): IDBKeyRange {
  return IDBKeyRange.bound([path, from], [path, Infinity]);
}

/** True when the pieces (sorted, non-overlapping ranges from PGlite) cover [0, length). */
function covers(pieces: ReadonlyArray<{ at: number; bytes: Uint8Array }>, length: number): boolean {
  let end = 0;
  for (const { at, bytes } of pieces) {
    if (at > end) return false;
    end = Math.max(end, at + bytes.length);
  }
  return end >= length;
}
