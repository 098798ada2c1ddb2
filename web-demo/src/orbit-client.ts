/**
 * @module web-demo/orbit-client
 * The page's side of the worker protocol (src/runtime/browser.ts): numbers requests, matches
 * responses by id (several may be in flight) and turns `{ ok: false }` answers into errors that keep
 * PostgreSQL's SQLSTATE. Only types are imported from the engine, so the page bundle stays small and
 * PGlite is loaded by the worker alone.
 */
import type { OpenOptions, WorkerError, WorkerRequest, WorkerRequestType, WorkerResponse, WorkerResults } from '../../src/runtime/browser.js';
import type { QueryResult } from '../../src/rowstore/types.js';

export type { QueryResult };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Outgoing = DistributiveOmit<WorkerRequest, 'id'>;

/** A failed request, as PostgreSQL's ErrorResponse would report it. */
export class OrbitClientError extends Error {
  readonly code: string;
  readonly detail?: string;
  readonly hint?: string;
  readonly position?: number;

  constructor(error: WorkerError) {
    super(error.message);
    this.name = 'OrbitClientError';
    this.code = error.code;
    this.detail = error.detail;
    this.hint = error.hint;
    this.position = error.position;
  }
}

export class OrbitClient {
  private worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, (response: WorkerResponse) => void>();

  constructor(private readonly workerUrl: string) {
    this.worker = this.start();
  }

  /**
   * Ends the worker (and whatever its database held: PGlite's OPFS access handles, the lock) and
   * starts a new one; requests still pending fail with 57P01 (admin_shutdown).
   */
  restart(): void {
    this.worker.terminate();
    this.failPending('57P01', 'the database worker was restarted');
    this.worker = this.start();
  }

  private start(): Worker {
    const worker = new Worker(this.workerUrl, { type: 'module' });
    worker.onmessage = (event: MessageEvent<WorkerResponse>) => {
      const settle = this.pending.get(event.data.id);
      this.pending.delete(event.data.id);
      settle?.(event.data);
    };
    // A worker that fails to load (a missing bundle) never answers: fail every pending request.
    worker.onerror = (event) => this.failPending('XX000', `the database worker failed: ${event.message}`);
    return worker;
  }

  private failPending(code: string, message: string): void {
    for (const [id, settle] of this.pending) settle({ id, type: 'query', ok: false, error: { code, message } });
    this.pending.clear();
  }

  open(options: OpenOptions): Promise<WorkerResults['open']> {
    return this.request({ type: 'open', options });
  }

  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<Row>> {
    return this.request({ type: 'query', sql, params }) as Promise<QueryResult<Row>>;
  }

  /** Several statements in one string (one implicit transaction), one result each. */
  exec(sql: string): Promise<QueryResult[]> {
    return this.request({ type: 'exec', sql });
  }

  /** Which storage and columnstore backends (WASM or the TypeScript fallback) the worker runs. */
  stats(): Promise<WorkerResults['stats']> {
    return this.request({ type: 'stats' });
  }

  close(): Promise<null> {
    return this.request({ type: 'close' });
  }

  private request<K extends WorkerRequestType>(request: Extract<Outgoing, { type: K }>): Promise<WorkerResults[K]> {
    const id = this.nextId++;
    return new Promise<WorkerResults[K]>((resolve, reject) => {
      this.pending.set(id, (response) => {
        if (response.ok) resolve(response.result as WorkerResults[K]);
        else reject(new OrbitClientError(response.error));
      });
      this.worker.postMessage({ ...request, id });
    });
  }
}
