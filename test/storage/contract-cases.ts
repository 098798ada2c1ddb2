/**
 * The storage adapter contract as plain async cases, free of any test framework, so the same cases
 * run under vitest (contract.ts) and inside Chromium (test/runtimes/browser/storage-contract.test.ts).
 * Each case throws on the first mismatch.
 */
import type { StorageAdapter } from '../../src/storage/types.js';

export interface ContractContext {
  /** A fresh, empty store. */
  open(): Promise<StorageAdapter>;
  /** Closes `old` and opens the same store again; absent for stores that cannot outlive a close. */
  reopen?(old: StorageAdapter): Promise<StorageAdapter>;
}

export interface ContractCase {
  readonly name: string;
  /** Why the case does not apply to a context, or undefined when it does. */
  skip?(ctx: ContractContext): string | undefined;
  /** Returns the store it ended with, for the runner to close. */
  run(ctx: ContractContext): Promise<StorageAdapter>;
}

const bytes = (...v: number[]) => new Uint8Array(v);

export const STORAGE_CONTRACT: readonly ContractCase[] = [
  {
    name: 'stores, reads, lists and deletes values',
    async run({ open }) {
      const store = await open();
      same(await store.get('a/b'), undefined, 'absent key');
      await store.put('chunks/1/batch-0', bytes(1, 2, 3));
      await store.put('chunks/1/batch-1', bytes());
      await store.put('chunks/2/batch-0', bytes(9));
      await store.put('meta', new Uint8Array(100_000).fill(7));
      same(await store.get('chunks/1/batch-0'), bytes(1, 2, 3), 'value');
      same(await store.get('chunks/1/batch-1'), bytes(), 'empty value');
      same((await store.get('meta'))?.length, 100_000, 'large value length');
      same(await store.list('chunks/1/'), ['chunks/1/batch-0', 'chunks/1/batch-1'], 'list by prefix');
      same(await store.list(''), ['chunks/1/batch-0', 'chunks/1/batch-1', 'chunks/2/batch-0', 'meta'], 'list all');
      same(await store.list('chunks/1/batch-1'), ['chunks/1/batch-1'], 'list by a whole key');
      await store.put('chunks/1/batch-0', bytes(4));
      same(await store.get('chunks/1/batch-0'), bytes(4), 'overwritten value');
      await store.delete('chunks/1/batch-0');
      await store.delete('never-there');
      same(await store.get('chunks/1/batch-0'), undefined, 'deleted key');
      same(await store.list('chunks/'), ['chunks/1/batch-1', 'chunks/2/batch-0'], 'list after delete');
      return store;
    },
  },
  {
    name: 'does not share buffers with callers',
    async run({ open }) {
      const store = await open();
      const v = bytes(1, 2);
      await store.put('k', v);
      v[0] = 9;
      const got = await store.get('k');
      same(got, bytes(1, 2), 'value after the caller changed its buffer');
      got![1] = 9;
      same(await store.get('k'), bytes(1, 2), 'value after the caller changed the result');
      // A view into a larger buffer stores only the view.
      await store.put('view', new Uint8Array([0, 1, 2, 3]).subarray(1, 3));
      same(await store.get('view'), bytes(1, 2), 'value of a subarray');
      return store;
    },
  },
  {
    name: 'refuses keys that are not plain paths',
    async run({ open }) {
      const store = await open();
      for (const key of ['', '../x', 'a/../b', '/abs', 'a//b', 'sp ace', 'a~1']) {
        let thrown: unknown;
        try {
          await store.put(key, bytes());
        } catch (err) {
          thrown = err;
        }
        if (!(thrown instanceof TypeError)) throw new Error(`put(${JSON.stringify(key)}) should throw a TypeError, got ${String(thrown)}`);
      }
      return store;
    },
  },
  {
    name: 'reads byte ranges of a value, short at its end',
    async run({ open }) {
      const store = await open();
      if (!store.getRange) return store; // optional: the columnstore then gets whole values
      // 2.5 MiB: stores that split values into 1 MiB parts are read across a part boundary.
      const big = new Uint8Array(((5 << 20) >> 1) + 7);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 13)) & 0xff;
      await store.put('packs/1', big);
      same(await store.getRange('packs/absent', 0, 4), undefined, 'range of an absent key');
      same(await store.getRange('packs/1', 0, 5), big.slice(0, 5), 'range at the start');
      same(await store.getRange('packs/1', 1000, 0), bytes(), 'empty range');
      const mib = 1 << 20;
      same(await store.getRange('packs/1', mib - 3, 10), big.slice(mib - 3, mib + 7), 'range across 1 MiB');
      same(await store.getRange('packs/1', 100, 2 * mib + 5), big.slice(100, 2 * mib + 105), 'range over three MiB parts');
      same(await store.getRange('packs/1', big.length - 4, 100), big.slice(big.length - 4), 'range past the end: the bytes there are');
      same(await store.getRange('packs/1', big.length + 10, 5), bytes(), 'range wholly past the end');
      const got = await store.getRange('packs/1', 2, 3);
      got![0] = 99;
      same(await store.getRange('packs/1', 2, 3), big.slice(2, 5), 'range after the caller changed the result');
      if (store.getRanges) {
        const asked = [
          { offset: 10, length: 5 },
          { offset: 15, length: 0 },
          { offset: mib - 2, length: 4 },
          { offset: 2 * mib, length: 100 },
          { offset: big.length - 3, length: 10 },
          { offset: big.length + 8, length: 2 },
        ];
        const got = await store.getRanges('packs/1', asked);
        same(got?.length, asked.length, 'ranges read');
        asked.forEach((r, i) => same(got![i], big.slice(r.offset, r.offset + r.length), `range ${i} of several`));
        same(await store.getRanges('packs/absent', [{ offset: 0, length: 1 }]), undefined, 'ranges of an absent key');
        let thrown: unknown;
        try {
          await store.getRanges('packs/1', [{ offset: 10, length: 5 }, { offset: 12, length: 1 }]);
        } catch (err) {
          thrown = err;
        }
        if (!(thrown instanceof RangeError)) throw new Error(`overlapping ranges should throw a RangeError, got ${String(thrown)}`);
      }
      return store;
    },
  },
  {
    name: 'keeps values across a reopen',
    // Memory stores: nothing outlives the process, by design.
    skip: (ctx) => (ctx.reopen ? undefined : 'the store cannot be reopened'),
    async run({ open, reopen }) {
      let store = await open();
      await store.put('durable/x', bytes(5, 6));
      store = await reopen!(store);
      same(await store.get('durable/x'), bytes(5, 6), 'value after reopen');
      same(await store.list(''), ['durable/x'], 'keys after reopen');
      return store;
    },
  },
];

/** Deep equality for the values the cases compare: undefined, numbers, byte arrays, string arrays. */
function same(actual: unknown, expected: unknown, what: string): void {
  if (!equal(actual, expected)) throw new Error(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

function equal(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i]);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  return Object.is(a, b);
}

function show(v: unknown): string {
  if (v instanceof Uint8Array) return `Uint8Array[${v.length > 8 ? `${v.length} bytes` : [...v].join(',')}]`;
  return JSON.stringify(v) ?? String(v);
}
