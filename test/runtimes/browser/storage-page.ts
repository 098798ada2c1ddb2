/**
 * Storage test page: starts storage workers and relays commands to them for the test, and runs the
 * storage contract on the page's main thread (no sync access handles there). Exposed to the test as
 * `window.orbitStorage`. Bundled by the storage tests.
 */
import { openOrbit, type OpenOptions } from '../../../src/runtime/browser.js';
import { OpfsStorage } from '../../../src/storage/opfs.js';
import { runPgdataBackendCases } from './pgdata-backend-cases.js';
import { runContract, type Backend, type CaseResult, type StorageCommand, type StorageReply } from './storage-shared.js';

export interface OrbitStorageApi {
  /** Starts a worker (default the storage test worker); returns its number. */
  startWorker(url?: string): number;
  /** Posts `body` plus a fresh `id` to worker `n`; resolves with the reply carrying that id. */
  request(n: number, body: object): Promise<unknown>;
  /** Sends one command to worker `n`; resolves with its reply (errors are replies too). */
  send(n: number, command: StorageCommand): Promise<StorageReply>;
  terminate(n: number): void;
  contractOnPage(backend: Backend, prefix: string): Promise<CaseResult[]>;
  /** openOrbit on the page's main thread; the reply of a worker would carry the same fields. */
  openOnPage(options: OpenOptions): Promise<StorageReply>;
  /** The IndexedDB row store backend's cases (pgdata-backend-cases.ts). */
  pgdataBackendCases(prefix: string): Promise<CaseResult[]>;
  /** Empties PGlite's `state.txt` of OPFS database `name` (closed), as a torn checkpoint would. */
  damageRowStoreMap(name: string): Promise<void>;
  /**
   * Holds files of OPFS database `name`'s row store (state.txt, pg_control, one pool file) with
   * writable streams, which block sync access handles as a dying worker's handles do.
   */
  holdRowStoreFiles(name: string): Promise<number>;
  /** Lets go of them (abort: the files stay as they were). */
  releaseRowStoreFiles(): Promise<void>;
  /** Files and bytes under OPFS database `name`'s `objects/` directory (Orbit's objects). */
  opfsObjects(name: string): Promise<{ files: number; bytes: number }>;
  /** Opens the OPFS store `fillQuota` writes to (before the test lowers the quota). */
  openQuotaStore(): Promise<void>;
  /** Puts one value of `size` bytes into that store, then closes it. */
  fillQuota(size: number): Promise<StorageReply>;
}

declare global {
  interface Window {
    orbitStorage: OrbitStorageApi;
  }
}

const workers: Worker[] = [];
let nextId = 1;
let quotaStore: OpfsStorage | undefined;
let held: FileSystemWritableFileStream[] = [];

window.orbitStorage = {
  startWorker(url = '/storage-worker.js') {
    workers.push(new Worker(url, { type: 'module' }));
    return workers.length - 1;
  },
  request(n, body) {
    const worker = workers[n]!;
    const id = nextId++;
    return new Promise((resolve) => {
      const listener = (event: MessageEvent<{ id: number }>) => {
        if (event.data.id !== id) return;
        worker.removeEventListener('message', listener);
        resolve(event.data);
      };
      worker.addEventListener('message', listener);
      worker.postMessage({ ...body, id });
    });
  },
  send(n, command) {
    return window.orbitStorage.request(n, { command }) as Promise<StorageReply>;
  },
  terminate(n) {
    workers[n]?.terminate();
  },
  contractOnPage: runContract,
  pgdataBackendCases: runPgdataBackendCases,
  openOnPage: (options) => reply(async () => (await openOrbit(options)).close()),
  async damageRowStoreMap(name) {
    const pgdata = await (await (await navigator.storage.getDirectory()).getDirectoryHandle(name)).getDirectoryHandle('pgdata');
    const writable = await (await pgdata.getFileHandle('state.txt')).createWritable();
    await writable.close();
  },
  async holdRowStoreFiles(name) {
    const pgdata = await (await (await navigator.storage.getDirectory()).getDirectoryHandle(name)).getDirectoryHandle('pgdata');
    const stateFile = await pgdata.getFileHandle('state.txt');
    const state = JSON.parse((await (await stateFile.getFile()).text()).split('\n')[0]!) as {
      root: { children: { global: { children: { pg_control: { backingFilename: string } } } } };
      pool: string[];
    };
    const data = await pgdata.getDirectoryHandle('data');
    const files = [stateFile, await data.getFileHandle(state.root.children.global.children.pg_control.backingFilename), await data.getFileHandle(state.pool.at(-1)!)];
    held = await Promise.all(files.map((f) => f.createWritable({ keepExistingData: true })));
    return held.length;
  },
  async releaseRowStoreFiles() {
    await Promise.all(held.splice(0).map((w) => w.abort()));
  },
  async opfsObjects(name) {
    const total = { files: 0, bytes: 0 };
    const walk = async (dir: FileSystemDirectoryHandle): Promise<void> => {
      for await (const entry of (dir as unknown as { values(): AsyncIterable<FileSystemHandle> }).values()) {
        if (entry.kind === 'directory') await walk(entry as FileSystemDirectoryHandle);
        else {
          total.files++;
          total.bytes += (await (entry as FileSystemFileHandle).getFile()).size;
        }
      }
    };
    await walk(await (await (await navigator.storage.getDirectory()).getDirectoryHandle(name)).getDirectoryHandle('objects'));
    return total;
  },
  async openQuotaStore() {
    quotaStore = await OpfsStorage.open('quota');
  },
  async fillQuota(size) {
    try {
      return await reply(() => quotaStore!.put('big', new Uint8Array(size).fill(1)));
    } finally {
      await quotaStore?.close();
    }
  },
};

async function reply(fn: () => Promise<unknown>): Promise<StorageReply> {
  try {
    await fn();
    return { id: 0, ok: true, result: null };
  } catch (err) {
    const e = err as { code?: string; message: string; hint?: string; name?: string };
    return { id: 0, ok: false, error: { code: e.code, name: e.name, message: e.message, hint: e.hint } };
  }
}
