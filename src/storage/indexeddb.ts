/**
 * @module storage/indexeddb
 * IndexedDB (browsers without OPFS): Orbit's own values in one object store, keyed by the key as
 * given. IndexedDB orders string keys by UTF-16 code units, the same order as a JS sort of our
 * ASCII keys, so `list` is one key-range read. Writes use `durability: 'strict'`, which makes the
 * browser flush to disk before the transaction's `complete` event; a resolved `put` is durable.
 * Raw IndexedDB: the adapter needs four requests, not a wrapper library.
 */
import { browserStorageError } from './browser-errors.js';
import { DEFAULT_LOCK_WAIT_MS, lockDatabase, type DatabaseLock } from './database-lock.js';
import { completion, settle } from './idb-request.js';
import { checkKey, StorageKind, type StorageAdapter } from './types.js';

const STORE = 'objects';
const VERSION = 1;

export class IndexedDbStorage implements StorageAdapter {
  readonly kind = StorageKind.indexedDb;
  /** PGlite's data directory is kept by storage/indexeddb-pgdata, which the runtime plugs into PGlite. */
  readonly rowStoreDataDir = undefined;
  private closed = false;

  private constructor(
    readonly name: string,
    private readonly db: IDBDatabase,
    private readonly lock: DatabaseLock,
  ) {}

  /**
   * Opens (creating if needed) the IndexedDB database `orbit:<name>`, holding the database lock
   * (storage/database-lock) until close; `lockWaitMs` as in storage/opfs.
   */
  static async open(name: string, options: { readonly lockWaitMs?: number } = {}): Promise<IndexedDbStorage> {
    const lock = await lockDatabase('indexeddb', name, options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS);
    const request = indexedDB.open(`orbit:${name}`, VERSION);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(STORE)) request.result.createObjectStore(STORE);
    };
    try {
      const db = await settle(request);
      return new IndexedDbStorage(name, db, lock);
    } catch (err) {
      lock.release();
      throw browserStorageError(err, `could not open IndexedDB database "orbit:${name}"`);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    checkKey(key);
    try {
      const value = await settle(this.db.transaction(STORE, 'readonly').objectStore(STORE).get(key));
      return value === undefined ? undefined : new Uint8Array(value as ArrayBuffer);
    } catch (err) {
      throw browserStorageError(err, `could not read ${key}`);
    }
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    checkKey(key);
    // An ArrayBuffer of exactly the value: the caller's buffer may be a view into a larger one.
    const copy = value.slice().buffer;
    await this.write(`could not write ${key}`, (store) => store.put(copy, key));
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await this.write(`could not delete ${key}`, (store) => store.delete(key));
  }

  async list(prefix: string): Promise<string[]> {
    // Every key of ours is below '\u{ffff}' after the prefix (keys are ASCII).
    const range = prefix === '' ? undefined : IDBKeyRange.bound(prefix, `${prefix}\uffff`);
    try {
      const keys = await settle(this.db.transaction(STORE, 'readonly').objectStore(STORE).getAllKeys(range));
      return (keys as string[]).filter((k) => k.startsWith(prefix));
    } catch (err) {
      throw browserStorageError(err, `could not list ${JSON.stringify(prefix)}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
    this.lock.release();
  }

  /** Runs one write in its own strict-durability transaction; resolves on `complete`, not on the request. */
  private async write(what: string, op: (store: IDBObjectStore) => IDBRequest): Promise<void> {
    try {
      const tx = this.db.transaction(STORE, 'readwrite', { durability: 'strict' });
      const done = completion(tx);
      op(tx.objectStore(STORE));
      await done;
    } catch (err) {
      throw browserStorageError(err, what);
    }
  }
}
