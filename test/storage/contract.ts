// One contract suite for every storage adapter; each adapter's test file calls it with its factory.
// The cases live in contract-cases.ts, framework-free, so Chromium runs the very same ones.
import { afterEach, describe, it } from 'vitest';
import type { StorageAdapter } from '../../src/storage/types.js';
import { STORAGE_CONTRACT } from './contract-cases.js';

export function storageContract(name: string, open: () => Promise<StorageAdapter>, reopen?: (old: StorageAdapter) => Promise<StorageAdapter>): void {
  describe(`${name} storage adapter`, () => {
    let store: StorageAdapter | undefined;
    afterEach(async () => {
      await store?.close();
      store = undefined;
    });
    const ctx = { open, reopen };
    for (const c of STORAGE_CONTRACT) {
      it.skipIf(c.skip?.(ctx) !== undefined)(c.name, async () => {
        store = await c.run(ctx);
      });
    }
  });
}
