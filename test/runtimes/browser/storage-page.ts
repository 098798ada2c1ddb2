/**
 * Storage test page: starts storage workers and relays commands to them for the test, and runs the
 * storage contract on the page's main thread (no sync access handles there). Exposed to the test as
 * `window.orbitStorage`. Bundled by the storage tests.
 */
import { runContract, type Backend, type CaseResult, type StorageCommand, type StorageReply } from './storage-shared.js';

export interface OrbitStorageApi {
  /** Starts a worker; returns its number. */
  startWorker(): number;
  /** Sends one command to worker `n`; resolves with its reply (errors are replies too). */
  send(n: number, command: StorageCommand): Promise<StorageReply>;
  terminate(n: number): void;
  contractOnPage(backend: Backend, prefix: string): Promise<CaseResult[]>;
}

declare global {
  interface Window {
    orbitStorage: OrbitStorageApi;
  }
}

const workers: Worker[] = [];
let nextId = 1;

window.orbitStorage = {
  startWorker() {
    workers.push(new Worker('/storage-worker.js', { type: 'module' }));
    return workers.length - 1;
  },
  send(n, command) {
    const worker = workers[n]!;
    const id = nextId++;
    return new Promise<StorageReply>((resolve) => {
      const listener = (event: MessageEvent<StorageReply>) => {
        if (event.data.id !== id) return;
        worker.removeEventListener('message', listener);
        resolve(event.data);
      };
      worker.addEventListener('message', listener);
      worker.postMessage({ id, command });
    });
  },
  terminate(n) {
    workers[n]?.terminate();
  },
  contractOnPage: runContract,
};
