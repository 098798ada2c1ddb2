/**
 * @module storage/opfs
 * The Origin Private File System (browsers). Layout under the OPFS root, per database `<name>`:
 * `<name>/pgdata/` is PGlite's `opfs-ahp://` directory (its pool of files and `state.txt` journal),
 * `<name>/objects/<key>` holds Orbit's own values, one file per key, and `<name>/cluster-ready`
 * marks a row store that finished its first open (so a half-copied template is never resumed).
 *
 * Durable put. In a worker, a value is written to a temporary file through a sync access handle,
 * flushed (`flush()` is the fsync of OPFS) and closed, then moved over the key's file; without sync
 * handles (a page's main thread) `createWritable()` writes to a swap file that replaces the file
 * atomically when the stream closes. Either way a crash leaves the old or the new value, not a torn
 * one. What OPFS promises: a write is visible to others once it returns, and it survives the tab or
 * the browser being killed (the data is in the OS's file); surviving power loss rests on `flush()`,
 * which only the sync handle path calls.
 *
 * The database lock (storage/database-lock) is held from open to close.
 */
import { OrbitError } from '../errors.js';
import { SqlState } from '../sqlstate.js';
import { DEFAULT_LOCK_WAIT_MS, lockDatabase, type DatabaseLock } from './database-lock.js';
import { browserStorageError, isNotFound } from './browser-errors.js';
import { checkKey, checkRange, StorageKind, type StorageAdapter } from './types.js';

/** Marks temporary files; not a key character, so a temporary name can never be a key. */
const TMP_MARK = '~';
const OBJECTS = 'objects';
const PGDATA = 'pgdata';
const CLUSTER_READY = 'cluster-ready';
/** PGlite's OpfsAhpFS map of the directory tree (first line JSON, then journal lines). */
const STATE_FILE = 'state.txt';

export interface OpfsOptions {
  /** How long to wait for another tab or worker to let go of the database (default 2 s). */
  readonly lockWaitMs?: number;
}

// Parts of the File System API that TypeScript's DOM lib does not declare yet.
interface MovableFileHandle extends FileSystemFileHandle {
  move(newName: string): Promise<void>;
}
interface IterableDirectoryHandle extends FileSystemDirectoryHandle {
  entries(): AsyncIterableIterator<[string, FileSystemHandle]>;
}

export class OpfsStorage implements StorageAdapter {
  readonly kind = StorageKind.opfs;
  readonly rowStoreDataDir: string;
  private tmpCounter = 0;
  private closed = false;

  private constructor(
    readonly name: string,
    private readonly root: FileSystemDirectoryHandle,
    private readonly objects: FileSystemDirectoryHandle,
    private readonly lock: DatabaseLock,
  ) {
    this.rowStoreDataDir = `opfs-ahp://${name}/${PGDATA}`;
  }

  /** Opens (creating if needed) database `name`: one segment of [A-Za-z0-9._-]. */
  static async open(name: string, options: OpfsOptions = {}): Promise<OpfsStorage> {
    checkDatabaseName(name);
    const lock = await lockDatabase('opfs', name, options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS);
    try {
      const opfs = await navigator.storage.getDirectory();
      const root = await opfs.getDirectoryHandle(name, { create: true });
      const objects = await root.getDirectoryHandle(OBJECTS, { create: true });
      return new OpfsStorage(name, root, objects, lock);
    } catch (err) {
      lock.release();
      throw browserStorageError(err, `could not open database "${name}"`);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    checkKey(key);
    try {
      const { dir, file } = await this.locate(key, false);
      const handle = await dir.getFileHandle(file);
      return new Uint8Array(await (await handle.getFile()).arrayBuffer());
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw browserStorageError(err, `could not read ${key}`);
    }
  }

  /**
   * A slice of the file's Blob: the browser reads only that range. Not a sync access handle: that
   * locks the file for its life and exists only in workers, while this works everywhere.
   */
  async getRange(key: string, offset: number, length: number): Promise<Uint8Array | undefined> {
    checkKey(key);
    checkRange(offset, length);
    try {
      const { dir, file } = await this.locate(key, false);
      const handle = await dir.getFileHandle(file);
      return new Uint8Array(await (await handle.getFile()).slice(offset, offset + length).arrayBuffer());
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw browserStorageError(err, `could not read ${key}`);
    }
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    checkKey(key);
    const copy = value.slice();
    try {
      const { dir, file } = await this.locate(key, true);
      if (hasSyncAccessHandles()) await this.putFlushed(dir, file, copy);
      else await putAtomically(dir, file, copy);
    } catch (err) {
      throw browserStorageError(err, `could not write ${key}`);
    }
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    try {
      const { dir, file } = await this.locate(key, false);
      await dir.removeEntry(file);
    } catch (err) {
      if (isNotFound(err)) return;
      throw browserStorageError(err, `could not delete ${key}`);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: FileSystemDirectoryHandle, path: string): Promise<void> => {
      for await (const [name, handle] of (dir as IterableDirectoryHandle).entries()) {
        if (name.includes(TMP_MARK)) continue;
        const key = path === '' ? name : `${path}/${name}`;
        // Skip subtrees that cannot hold a match.
        if (!key.startsWith(prefix) && !prefix.startsWith(`${key}/`)) continue;
        if (handle.kind === 'directory') await walk(handle as FileSystemDirectoryHandle, key);
        else out.push(key);
      }
    };
    try {
      await walk(this.objects, '');
    } catch (err) {
      throw browserStorageError(err, `could not list ${JSON.stringify(prefix)}`);
    }
    return out.sort();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lock.release();
  }

  /** True when the row store directory finished its first open (see `markClusterReady`). */
  async hasCluster(): Promise<boolean> {
    try {
      await this.root.getFileHandle(CLUSTER_READY);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw browserStorageError(err, `could not open database "${this.name}"`);
    }
  }

  /**
   * Checks, for a database marked ready, that PGlite's `state.txt` (the map of its OPFS directory)
   * still names a cluster. PGlite rewrites that file in place (truncate, then write) at checkpoints;
   * if it were lost, PGlite would find no PG_VERSION and silently run initdb: an empty database
   * instead of the user's. Fails with XX001 data_corrupted instead.
   */
  async checkCluster(): Promise<void> {
    let text = '';
    try {
      const pgdata = await this.root.getDirectoryHandle(PGDATA);
      text = await (await (await pgdata.getFileHandle(STATE_FILE)).getFile()).text();
    } catch (err) {
      if (!isNotFound(err)) throw browserStorageError(err, `could not open database "${this.name}"`);
    }
    // The base map (first line) has a "PG_VERSION" key once PGlite has checkpointed it, which the
    // sync at the end of a database's first open does.
    if (!text.includes('"PG_VERSION"')) {
      throw new OrbitError(SqlState.data_corrupted, `database "${this.name}" is damaged: its row store directory map (${PGDATA}/${STATE_FILE}) lists no cluster`, {
        hint: 'Restore the database from a dump, or delete it (its OPFS directory) to start over.',
      });
    }
  }

  /** Removes whatever an interrupted first open left in the row store directory. */
  async resetCluster(): Promise<void> {
    try {
      await this.root.removeEntry(PGDATA, { recursive: true });
    } catch (err) {
      if (!isNotFound(err)) throw browserStorageError(err, `could not reset database "${this.name}"`);
    }
  }

  /** Called once the row store has opened and synced its new cluster. */
  async markClusterReady(): Promise<void> {
    try {
      await putAtomically(this.root, CLUSTER_READY, new Uint8Array());
    } catch (err) {
      throw browserStorageError(err, `could not write to database "${this.name}"`);
    }
  }

  private async locate(key: string, create: boolean): Promise<{ dir: FileSystemDirectoryHandle; file: string }> {
    const parts = key.split('/');
    const file = parts.pop()!;
    let dir = this.objects;
    for (const part of parts) dir = await dir.getDirectoryHandle(part, { create });
    return { dir, file };
  }

  private async putFlushed(dir: FileSystemDirectoryHandle, file: string, value: Uint8Array): Promise<void> {
    const tmpName = `${file}${TMP_MARK}${++this.tmpCounter}`;
    const tmp = await dir.getFileHandle(tmpName, { create: true });
    try {
      const handle = await tmp.createSyncAccessHandle();
      try {
        handle.truncate(0);
        if (handle.write(value, { at: 0 }) !== value.length) throw new Error('short write');
        handle.flush();
      } finally {
        handle.close();
      }
      // Chromium's move() replaces an existing file of that name in one step.
      await (tmp as MovableFileHandle).move(file);
    } catch (err) {
      await dir.removeEntry(tmpName).catch(() => undefined);
      throw err;
    }
  }
}

async function putAtomically(dir: FileSystemDirectoryHandle, file: string, value: Uint8Array): Promise<void> {
  const handle = await dir.getFileHandle(file, { create: true });
  const writable = await handle.createWritable();
  try {
    await writable.write(value as Uint8Array<ArrayBuffer>);
    await writable.close();
  } catch (err) {
    await writable.abort().catch(() => undefined);
    throw err;
  }
}

/** Sync access handles exist only in dedicated workers (PGlite's `opfs-ahp://` needs them). */
export function hasSyncAccessHandles(): boolean {
  return typeof FileSystemFileHandle !== 'undefined' && typeof FileSystemFileHandle.prototype.createSyncAccessHandle === 'function';
}

function checkDatabaseName(name: string): void {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name === '.' || name === '..') {
    throw new TypeError(`invalid database name: ${JSON.stringify(name)} (one segment of [A-Za-z0-9._-])`);
  }
}
