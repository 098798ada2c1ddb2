/**
 * @module rowstore/pglite-node-worker
 * PGlite in a Node worker thread. PGlite runs each statement synchronously, so in the server's own
 * thread a long statement would stop sockets, timers and cancel requests. In a thread of its own it
 * does not, and a running statement can be stopped: `interrupt()` terminates the thread and reopens
 * the same data directory (PostgreSQL recovers from its WAL, as after a crash; committed work stays).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { OrbitError } from '../errors.js';
import { SqlState } from '../sqlstate.js';
import { paramTexts, readTypedResult, typedQueryMessages, valueOfType } from './typed-query.js';
import type { ValueOf } from '../columnstore/pg-text.js';
import { RowStoreInterrupted, type QueryResult, type RowStore } from './types.js';
import type { RowStoreReady, RowStoreRequest, RowStoreResponse, RowStoreResults, RowStoreWorkerData } from './worker-protocol.js';


type Pending = { resolve(v: unknown): void; reject(e: Error): void };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class PGliteWorkerRowStore implements RowStore {
  private worker!: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private isClosed = false;
  private restarting: Promise<void> | undefined;

  private constructor(private readonly data: RowStoreWorkerData) {}

  static async open(data: RowStoreWorkerData): Promise<PGliteWorkerRowStore> {
    const store = new PGliteWorkerRowStore(data);
    await store.start(data);
    return store;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Whether a running statement can be stopped (an ephemeral database would lose its data). */
  get interruptible(): boolean {
    return this.data.dataDir !== 'memory://';
  }

  private start(data: RowStoreWorkerData): Promise<void> {
    const worker = spawnEntry(data);
    this.worker = worker;
    return new Promise((resolve, reject) => {
      const onReady = (msg: RowStoreReady) => {
        worker.off('error', onError);
        if (!msg.ready) {
          void worker.terminate();
          reject(new OrbitError(msg.error.code, msg.error.message));
          return;
        }
        worker.on('message', (res: RowStoreResponse) => this.settle(res));
        worker.on('error', (err) => this.failAll(err));
        worker.on('exit', () => this.failAll(new OrbitError(SqlState.admin_shutdown, 'the row store thread exited')));
        resolve();
      };
      const onError = (err: Error) => reject(err);
      worker.once('message', onReady);
      worker.once('error', onError);
    });
  }

  private settle(res: RowStoreResponse): void {
    const p = this.pending.get(res.id);
    if (!p) return;
    this.pending.delete(res.id);
    if (res.ok) p.resolve(res.result);
    else {
      const { code, message, ...fields } = res.error;
      p.reject(new OrbitError(code, message, fields as Record<string, never>));
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private async request<K extends keyof RowStoreResults>(req: DistributiveOmit<Extract<RowStoreRequest, { op: K }>, 'id'>): Promise<RowStoreResults[K]> {
    // While an interrupt restarts the thread, requests wait for the new one.
    await this.restarting;
    if (this.isClosed) throw new OrbitError(SqlState.admin_shutdown, 'the database is closed');
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...req, id });
    });
  }

  execProtocolRaw(messages: Uint8Array): Promise<Uint8Array> {
    return this.request<'execProtocolRaw'>({ op: 'execProtocolRaw', data: messages });
  }

  valueReader(oid: number): ValueOf {
    return valueOfType(oid);
  }

  /** The worker's PGlite has the default serializers. */
  paramTexts(types: readonly number[], params: readonly unknown[]): Array<string | null> | undefined {
    return paramTexts(types, params);
  }

  async query<Row>(sql: string, params?: unknown[]): Promise<QueryResult<Row>> {
    // Read in this thread from the raw bytes (transferred): cheaper than PGlite's parse in the
    // worker plus a structured clone of every row object (rowstore/typed-query.ts).
    if (!params?.length) return readTypedResult<Row>(await this.execProtocolRaw(typedQueryMessages(sql)));
    return this.request<'query'>({ op: 'query', sql, params }) as Promise<QueryResult<Row>>;
  }

  exec(sql: string): Promise<QueryResult[]> {
    return this.request<'exec'>({ op: 'exec', sql });
  }

  async sync(): Promise<void> {
    await this.request<'sync'>({ op: 'sync' });
  }

  /**
   * Stops whatever the thread is running: terminates it and reopens the data directory. Requests
   * in flight reject with RowStoreInterrupted.
   */
  async interrupt(): Promise<void> {
    if (!this.interruptible || this.isClosed) return;
    const old = this.worker;
    old.removeAllListeners('exit');
    old.removeAllListeners('error');
    const stopped = [...this.pending.values()];
    this.pending.clear();
    this.restarting = (async () => {
      await old.terminate();
      // The cluster exists now: reopen it without the template.
      await this.start({ dataDir: this.data.dataDir });
    })();
    try {
      await this.restarting;
    } finally {
      this.restarting = undefined;
      // Rejected only now, so what their callers do next goes to the new thread.
      for (const p of stopped) p.reject(new RowStoreInterrupted());
    }
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    try {
      await this.request<'close'>({ op: 'close' });
    } finally {
      this.isClosed = true;
      this.worker.removeAllListeners('exit');
      await this.worker.terminate();
    }
  }
}

/**
 * The thread's entry: the built `dist/pglite-node-worker-entry.js` (this code sits in dist/ or in
 * dist/runtime/ once bundled), or the TypeScript source under tsx when running from src/ (tests).
 */
function spawnEntry(workerData: RowStoreWorkerData): Worker {
  for (const rel of ['./pglite-node-worker-entry.js', '../pglite-node-worker-entry.js']) {
    const js = new URL(rel, import.meta.url);
    if (existsSync(js)) return new Worker(js, { workerData });
  }
  // From sources: register tsx's loader inside the thread, then import the TypeScript entry.
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./pglite-node-worker-entry.ts', import.meta.url).href;
  const boot = `import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(entry)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), { workerData });
}
