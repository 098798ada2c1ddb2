/**
 * @module storage/types
 * The storage adapter contract. Orbit keeps two kinds of data: the row store's data directory (owned
 * by PGlite; the adapter says where it lives) and Orbit's own objects (column batches, write buffers,
 * metadata), kept as binary values under string keys. A resolved `put` is durable.
 */

export const StorageKind = {
  memory: 'memory',
  nodeFs: 'node-fs',
  opfs: 'opfs',
  indexedDb: 'indexeddb',
  durableObject: 'durable-object',
} as const;
export type StorageKind = (typeof StorageKind)[keyof typeof StorageKind];

export interface StorageAdapter {
  readonly kind: StorageKind;
  /** PGlite's data directory for this store (`memory://`, a path, `opfs-ahp://…`), or undefined at the edge. */
  readonly rowStoreDataDir: string | undefined;
  get(key: string): Promise<Uint8Array | undefined>;
  /**
   * Bytes `offset` .. `offset + length` of a value (fewer where the value ends sooner, none past its
   * end), or undefined for an absent key: a columnstore pack's batches are read without the rest of
   * the pack. Absent: the store gets the whole value and slices it.
   */
  getRange?(key: string, offset: number, length: number): Promise<Uint8Array | undefined>;
  /**
   * Several ranges of one value (ascending, not overlapping) in one read, each into its own buffer
   * (short or empty where the value ends), or undefined for an absent key: the columnstore caches
   * each batch of a span on its own, and slices of one span buffer would keep all of it alive.
   * Absent: `getRange` over the span, each range copied out.
   */
  getRanges?(key: string, ranges: ReadonlyArray<{ readonly offset: number; readonly length: number }>): Promise<Uint8Array[] | undefined>;
  /** Stores a value; durable once the promise resolves. */
  put(key: string, value: Uint8Array): Promise<void>;
  /**
   * Stores values under new keys no reader follows yet (the batch objects of a columnstore version
   * whose manifest is not written): all durable once the promise resolves. Unlike `put`, a crash
   * before that may leave any of them partly written (the start-up sweep removes such versions),
   * which lets a backend make them durable together. Absent: `put` each.
   */
  putNew?(entries: ReadonlyArray<readonly [key: string, value: Uint8Array]>): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys starting with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}

/** Keys are '/'-separated paths of [A-Za-z0-9._-] segments, so every backend can store them as is. */
export function checkKey(key: string): void {
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(key) || key.split('/').some((s) => s === '.' || s === '..')) {
    throw new TypeError(`invalid storage key: ${JSON.stringify(key)}`);
  }
}

/** A byte range `getRange` accepts: non-negative safe integers. */
export function checkRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`invalid byte range: offset ${offset}, length ${length}`);
  }
}
