// One contract suite for every storage adapter; each adapter's test file calls it with its factory.
import { afterEach, describe, expect, it } from 'vitest';
import type { StorageAdapter } from '../../src/storage/types.js';

export function storageContract(name: string, open: () => Promise<StorageAdapter>, reopen?: (old: StorageAdapter) => Promise<StorageAdapter>): void {
  describe(`${name} storage adapter`, () => {
    let store: StorageAdapter | undefined;
    afterEach(async () => {
      await store?.close();
      store = undefined;
    });

    it('stores, reads, lists and deletes values', async () => {
      store = await open();
      expect(await store.get('a/b')).toBeUndefined();
      await store.put('chunks/1/batch-0', new Uint8Array([1, 2, 3]));
      await store.put('chunks/1/batch-1', new Uint8Array([]));
      await store.put('chunks/2/batch-0', new Uint8Array([9]));
      await store.put('meta', new Uint8Array(100_000).fill(7));
      expect(await store.get('chunks/1/batch-0')).toEqual(new Uint8Array([1, 2, 3]));
      expect(await store.get('chunks/1/batch-1')).toEqual(new Uint8Array([]));
      expect((await store.get('meta'))!.length).toBe(100_000);
      expect(await store.list('chunks/1/')).toEqual(['chunks/1/batch-0', 'chunks/1/batch-1']);
      expect(await store.list('')).toEqual(['chunks/1/batch-0', 'chunks/1/batch-1', 'chunks/2/batch-0', 'meta']);
      await store.put('chunks/1/batch-0', new Uint8Array([4]));
      expect(await store.get('chunks/1/batch-0')).toEqual(new Uint8Array([4]));
      await store.delete('chunks/1/batch-0');
      await store.delete('never-there');
      expect(await store.get('chunks/1/batch-0')).toBeUndefined();
      expect(await store.list('chunks/')).toEqual(['chunks/1/batch-1', 'chunks/2/batch-0']);
    });

    it('does not share buffers with callers', async () => {
      store = await open();
      const v = new Uint8Array([1, 2]);
      await store.put('k', v);
      v[0] = 9;
      const got = (await store.get('k'))!;
      expect(got).toEqual(new Uint8Array([1, 2]));
      got[1] = 9;
      expect(await store.get('k')).toEqual(new Uint8Array([1, 2]));
    });

    it('refuses keys that are not plain paths', async () => {
      store = await open();
      for (const key of ['', '../x', 'a/../b', '/abs', 'a//b', 'sp ace']) {
        await expect(store.put(key, new Uint8Array()), key).rejects.toThrow(TypeError);
      }
    });

    // Skipped for adapters without a reopen (memory: nothing outlives the process, by design).
    it.skipIf(!reopen)('keeps values across a reopen', async () => {
      store = await open();
      await store.put('durable/x', new Uint8Array([5, 6]));
      store = await reopen!(store);
      expect(await store.get('durable/x')).toEqual(new Uint8Array([5, 6]));
    });
  });
}
