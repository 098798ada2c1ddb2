/**
 * What the storage test page and worker share: the command vocabulary and the in-browser runner of
 * the storage contract cases (test/storage/contract-cases.ts).
 */
import type { OpenOptions } from '../../../src/runtime/browser.js';
import { IndexedDbStorage } from '../../../src/storage/indexeddb.js';
import { OpfsStorage } from '../../../src/storage/opfs.js';
import type { StorageAdapter } from '../../../src/storage/types.js';
import { STORAGE_CONTRACT, type ContractContext } from '../../storage/contract-cases.js';

export type Backend = 'opfs' | 'indexeddb';

export type StorageCommand =
  | { readonly op: 'open'; readonly options: OpenOptions }
  | { readonly op: 'exec'; readonly sql: string }
  | { readonly op: 'transaction'; readonly sqls: string[] }
  | { readonly op: 'put'; readonly key: string; readonly bytes: number[] }
  | { readonly op: 'get'; readonly key: string }
  /** The keys of Orbit's objects under `prefix`. */
  | { readonly op: 'list'; readonly prefix: string }
  | { readonly op: 'close' }
  /** The IndexedDB row store's write counters (idb:// only). */
  | { readonly op: 'pgdataStats' }
  /** How many OPFS files the open had to wait for (opfs-ahp:// only). */
  | { readonly op: 'handleWaits' }
  | { readonly op: 'contract'; readonly backend: Backend; readonly prefix: string };

export interface ErrorInfo {
  readonly code?: string;
  readonly name?: string;
  readonly message: string;
  readonly hint?: string;
}

export type StorageReply = { readonly id: number; readonly ok: true; readonly result: unknown } | { readonly id: number; readonly ok: false; readonly error: ErrorInfo };

export interface CaseResult {
  readonly name: string;
  readonly outcome: 'passed' | 'skipped' | 'failed';
  readonly detail?: string;
}

/** Runs every contract case on a fresh store named `<prefix>-<n>`; never throws. */
export async function runContract(backend: Backend, prefix: string): Promise<CaseResult[]> {
  let n = 0;
  const open = (name: string): Promise<StorageAdapter> => (backend === 'opfs' ? OpfsStorage.open(name) : IndexedDbStorage.open(name));
  const ctx: ContractContext = {
    open: () => open(`${prefix}-${++n}`),
    reopen: async (old) => {
      await old.close();
      return open((old as OpfsStorage | IndexedDbStorage).name);
    },
  };
  const results: CaseResult[] = [];
  for (const c of STORAGE_CONTRACT) {
    const skipped = c.skip?.(ctx);
    if (skipped !== undefined) {
      results.push({ name: c.name, outcome: 'skipped', detail: skipped });
      continue;
    }
    try {
      const store = await c.run(ctx);
      await store.close();
      results.push({ name: c.name, outcome: 'passed' });
    } catch (err) {
      results.push({ name: c.name, outcome: 'failed', detail: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  }
  return results;
}
