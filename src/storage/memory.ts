/**
 * @module storage/memory
 * Ephemeral storage: everything in memory, gone when the process ends (PGlite on `memory://`).
 */
import { checkKey, checkRange, StorageKind, type StorageAdapter } from './types.js';

export class MemoryStorage implements StorageAdapter {
  readonly kind = StorageKind.memory;
  readonly rowStoreDataDir = 'memory://';
  private readonly values = new Map<string, Uint8Array>();

  async get(key: string): Promise<Uint8Array | undefined> {
    checkKey(key);
    return this.values.get(key)?.slice();
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array | undefined> {
    checkKey(key);
    checkRange(offset, length);
    return this.values.get(key)?.slice(offset, offset + length);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    checkKey(key);
    this.values.set(key, value.slice());
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    this.values.delete(key);
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.values.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  async close(): Promise<void> {
    this.values.clear();
  }
}
