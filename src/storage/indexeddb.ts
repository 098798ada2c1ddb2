/**
 * @module storage/indexeddb
 * IndexedDB (browsers without OPFS): Orbit's own values in one object store, keyed by the key as
 * given. IndexedDB orders string keys by UTF-16 code units, the same order as a JS sort of our
 * ASCII keys, so `list` is one key-range read. Writes use `durability: 'strict'`, which makes the
 * browser flush to disk before the transaction's `complete` event; a resolved `put` is durable.
 * Raw IndexedDB: the adapter needs four requests, not a wrapper library.
 */
import { browserStorageError } from './browser-errors.js';
import { checkKey, StorageKind, type StorageAdapter } from './types.js';

const STORE = 'objects';
const VERSION = 1;

export class IndexedDbStorage implements StorageAdapter {
  readonly kind = StorageKind.indexedDb;
  /** PGlite's data directory is not kept here: the row store needs OPFS (or memory). */
  readonly rowStoreDataDir = undefined;

  private constructor(
    readonly name: string,
    private readonly db: IDBDatabase,
  ) {}

  /** Opens (creating if needed) the IndexedDB database `orbit:<name>`. */
  static async open(name: string): Promise<IndexedDbStorage> {
    const request = indexedDB.open(`orbit:${name}`, VERSION);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(STORE)) request.result.createObjectStore(STORE);
    };
    try {
      const db = await settle(request);
      return new IndexedDbStorage(name, db);
    } catch (err) {
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
    this.db.close();
  }

  /** Runs one write in its own strict-durability transaction; resolves on `complete`, not on the request. */
  private async write(what: string, op: (store: IDBObjectStore) => IDBRequest): Promise<void> {
    try {
      const tx = this.db.transaction(STORE, 'readwrite', { durability: 'strict' });
      op(tx.objectStore(STORE));
      await new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        // A quota failure surfaces as the transaction's error (QuotaExceededError) on abort.
        tx.onabort = () => reject(tx.error ?? new DOMException('transaction aborted', 'AbortError'));
      });
    } catch (err) {
      throw browserStorageError(err, what);
    }
  }
}

function settle<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}
