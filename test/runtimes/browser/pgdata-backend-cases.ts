/**
 * Cases for the IndexedDB row store backend (src/storage/indexeddb-pgdata.ts), run in the page: each
 * applies change sets shaped like PGlite's MemfsFrontendFS ones, reloads the stored directory, and
 * compares it with a model of the files. Covers partial block writes (read, merge, write), a file that
 * shrinks and then grows (no stale bytes may come back), all-zero blocks, renames and recursive removes.
 */
import type { ChangeSet, FileWrite } from '@electric-sql/pglite/memfs-frontend';
import { IndexedDbPgdataBackend, PGDATA_BLOCK_SIZE as B } from '../../../src/storage/indexeddb-pgdata.js';
import type { CaseResult } from './storage-shared.js';

type Model = Map<string, Uint8Array | 'dir'>;

const pattern = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => ((i * 31 + seed) % 251) + 1);

/** Applies `writes` to the model the way MEMFS would, and returns the change set PGlite would send. */
function change(model: Model, ops: ChangeSet['ops'], writes: Array<{ path: string; size: number; chunks: FileWrite['chunks']; full?: boolean; truncate?: boolean }>): ChangeSet {
  for (const { op, path } of ops) {
    if (op === 'mkdir') model.set(path, 'dir');
    else for (const key of [...model.keys()]) if (key === path || key.startsWith(`${path}/`)) model.delete(key);
  }
  const data: FileWrite[] = [];
  for (const w of writes) {
    const old = model.get(w.path);
    const bytes = new Uint8Array(w.size);
    if (old instanceof Uint8Array && !w.full) bytes.set(old.subarray(0, Math.min(old.length, w.size)));
    for (const c of w.chunks) bytes.set(c.data, c.at);
    model.set(w.path, bytes);
    data.push({ path: w.path, size: w.size, full: w.full ?? false, truncate: w.truncate ?? w.full ?? false, chunks: w.chunks });
  }
  return { ops, files: { wal: [], data, control: [] } };
}

async function check(name: string, model: Model): Promise<void> {
  const backend = new IndexedDbPgdataBackend(name);
  await backend.init();
  const loaded: Model = new Map();
  const order: string[] = [];
  for await (const entry of backend.load()) {
    order.push(entry.path);
    loaded.set(entry.path, entry.kind === 'dir' ? 'dir' : entry.data);
  }
  await backend.close();
  for (const path of order) {
    const parent = path.slice(0, path.lastIndexOf('/'));
    if (parent !== '' && order.indexOf(parent) > order.indexOf(path)) throw new Error(`${path} loaded before its parent`);
  }
  const keys = (m: Model) => [...m.keys()].sort().join(',');
  if (keys(loaded) !== keys(model)) throw new Error(`paths: expected ${keys(model)}, got ${keys(loaded)}`);
  for (const [path, want] of model) {
    const got = loaded.get(path)!;
    if (want === 'dir' || got === 'dir') {
      if (want !== got) throw new Error(`${path}: kind differs`);
      continue;
    }
    const at = want.length !== got.length ? -1 : want.findIndex((b, i) => b !== got[i]);
    if (want.length !== got.length || at >= 0) throw new Error(`${path}: expected ${want.length} bytes, got ${got.length}, first difference at ${at}`);
  }
}

export async function runPgdataBackendCases(prefix: string): Promise<CaseResult[]> {
  const name = `${prefix}-${Date.now()}`;
  const model: Model = new Map();
  const backend = new IndexedDbPgdataBackend(name);
  await backend.init();
  const strict = { relaxedDurability: false };
  const steps: Array<[string, () => ChangeSet]> = [
    ['new files and directories', () => change(model, [{ op: 'mkdir', path: '/base' }, { op: 'mkdir', path: '/base/1' }], [
      { path: '/base/1/1259', size: 3 * B + 100, full: true, chunks: [{ at: 0, data: pattern(3 * B + 100, 1) }] },
      { path: '/PG_VERSION', size: 3, full: true, chunks: [{ at: 0, data: new TextEncoder().encode('18\n') }] },
    ])],
    ['partial writes inside and across blocks', () => change(model, [], [
      { path: '/base/1/1259', size: 3 * B + 100, chunks: [{ at: 10, data: pattern(20, 2) }, { at: B - 5, data: pattern(10, 3) }, { at: 3 * B + 50, data: pattern(50, 4) }] },
    ])],
    ['a shrink to mid-block', () => change(model, [], [{ path: '/base/1/1259', size: B + 808, truncate: true, chunks: [] }])],
    ['a growth by a write past the end', () => change(model, [], [{ path: '/base/1/1259', size: 2 * B, chunks: [{ at: 2 * B - 384, data: pattern(384, 5) }] }])],
    ['all-zero blocks', () => change(model, [], [
      { path: '/base/1/1259', size: 2 * B, chunks: [{ at: 0, data: new Uint8Array(B) }] },
      { path: '/base/1/zeros', size: 2 * B + 7, full: true, chunks: [{ at: 0, data: new Uint8Array(2 * B + 7) }] },
    ])],
    ['a rename (remove the old path, write the new one whole)', () => {
      const moved = model.get('/base/1/zeros') as Uint8Array;
      return change(model, [{ op: 'remove', path: '/base/1/zeros' }, { op: 'mkdir', path: '/pg_wal' }], [
        { path: '/pg_wal/000000010000000000000001', size: moved.length, full: true, chunks: [{ at: 0, data: moved }] },
      ]);
    }],
    ['a recursive remove', () => change(model, [{ op: 'remove', path: '/base' }], [])],
  ];
  const results: CaseResult[] = [];
  for (const [label, step] of steps) {
    try {
      await backend.apply(step(), strict);
      await check(name, model);
      results.push({ name: label, outcome: 'passed' });
    } catch (err) {
      results.push({ name: label, outcome: 'failed', detail: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  }
  await backend.close();
  return results;
}
