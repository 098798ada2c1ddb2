/**
 * Test page script: starts module workers and reports what they answer, as JSON, to the test through
 * `window.orbitTest`. Bundled by smoke.test.ts.
 */
import type { WorkerRequest, WorkerResponse } from '../../../src/runtime/browser.js';
import { toJson, type Json } from '../../support/smoke-suite.js';
import type { SmokeRun, SmokeWorkerReply } from './smoke-worker.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A request without its id (the client numbers them). */
type Outgoing = DistributiveOmit<WorkerRequest, 'id'>;

export interface ProtocolStep {
  readonly label: string;
  readonly response: Json;
}

export interface OrbitTestApi {
  runSmoke(templateUrl: string): Promise<SmokeRun>;
  workerProtocol(templateUrl: string): Promise<{ steps: ProtocolStep[]; concurrent: Json[]; openMs: number }>;
}

declare global {
  interface Window {
    orbitTest: OrbitTestApi;
  }
}

function startWorker(url: string): Worker {
  return new Worker(url, { type: 'module' });
}

/** Runs the smoke suite in its own worker and terminates the worker afterwards. */
function runSmoke(templateUrl: string): Promise<SmokeRun> {
  const worker = startWorker('/smoke-worker.js');
  return new Promise<SmokeRun>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<SmokeWorkerReply>) => {
      const reply = event.data;
      if (reply.ok) resolve(reply.run);
      else reject(new Error(reply.error));
    };
    worker.onerror = (event) => reject(new Error(`smoke worker failed: ${event.message}`));
    worker.postMessage({ templateUrl });
  }).finally(() => worker.terminate());
}

/** Sends requests to a `browser-worker` and matches responses by id. */
class ProtocolClient {
  private nextId = 1;
  private readonly pending = new Map<number, (response: WorkerResponse) => void>();

  constructor(private readonly worker: Worker) {
    worker.onmessage = (event: MessageEvent<WorkerResponse>) => {
      const settle = this.pending.get(event.data.id);
      this.pending.delete(event.data.id);
      settle?.(event.data);
    };
  }

  send(request: Outgoing | { readonly type: string }): Promise<WorkerResponse> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({ ...request, id });
    });
  }
}

/** Walks the worker protocol through every request type, its errors and a burst of concurrent queries. */
async function workerProtocol(templateUrl: string): Promise<{ steps: ProtocolStep[]; concurrent: Json[]; openMs: number }> {
  const worker = startWorker('/browser-worker.js');
  const client = new ProtocolClient(worker);
  const steps: ProtocolStep[] = [];
  const step = async (label: string, request: Outgoing | { readonly type: string }) => {
    steps.push({ label, response: toJson(await client.send(request)) });
  };
  try {
    await step('query before open', { type: 'query', sql: 'SELECT 1' });
    await step('open an unsupported dataDir', { type: 'open', options: { dataDir: 'memfs2opfs://orbit' } });
    await step('open with a missing template', { type: 'open', options: { dataDir: 'memory://', templateUrl: '/missing.tar.gz' } });
    const t0 = performance.now();
    await step('open', { type: 'open', options: { dataDir: 'memory://', templateUrl } });
    const openMs = performance.now() - t0;
    await step('open twice', { type: 'open', options: { dataDir: 'memory://', templateUrl } });
    await step('stats', { type: 'stats' });
    await step('query with params', {
      type: 'query',
      sql: 'SELECT $1::int + 1 AS n, $2::text AS t, $3::bytea AS b, $4::timestamptz AS ts, $5::int8 AS big',
      params: [41, 'Grüße ✓', new Uint8Array([1, 2, 254]), new Date('2025-01-02T03:04:05.678Z'), 9007199254740993n],
    });
    await step('exec', {
      type: 'exec',
      sql: "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a'), (2, 'b'); SELECT * FROM t ORDER BY id",
    });
    // COPY FROM STDIN from a Blob (what a file input gives), straight to the columnstore.
    await step('exec a hypertable', {
      type: 'exec',
      sql: `CREATE EXTENSION IF NOT EXISTS timescaledb;
        CREATE TABLE m (time timestamptz NOT NULL, device text, value float8) WITH (timescaledb.hypertable,
          timescaledb.partition_column = 'time', timescaledb.segmentby = 'device', timescaledb.chunk_interval = '1 day')`,
    });
    const csv = Array.from({ length: 3000 }, (_, i) => `${new Date(Date.UTC(2024, 0, 1) + i * 90_000).toISOString()},d${i % 3},${i}\n`).join('');
    await step('copyFrom a Blob', { type: 'copyFrom', sql: 'COPY m FROM STDIN (FORMAT csv)', data: new Blob([csv], { type: 'text/csv' }) });
    await step('copyFrom a bad row', { type: 'copyFrom', sql: 'COPY m FROM STDIN (FORMAT csv)', data: '2024-02-01T00:00:00Z,d1,1\n2024-02-01T00:01:00Z,d1,x\n' });
    await step('what copyFrom wrote', {
      type: 'query',
      sql: `SELECT count(*)::int AS n, sum(value)::int AS total, count(DISTINCT device)::int AS devices,
        (SELECT count(*)::int FROM timescaledb_information.chunks WHERE is_compressed) AS compressed FROM m`,
    });
    const concurrent = await Promise.all(
      [1, 2, 3, 4].map((i) => client.send({ type: 'query', sql: 'SELECT $1::int AS i', params: [i] })),
    );
    await step('division by zero', { type: 'query', sql: 'SELECT 1 / 0' });
    await step('syntax error', { type: 'query', sql: 'SELECT 1 +' });
    await step('unique violation', { type: 'exec', sql: "INSERT INTO t VALUES (1, 'again')" });
    await step('temporary table', { type: 'query', sql: 'CREATE TEMP TABLE scratch (a int)' });
    await step('unknown request type', { type: 'prepare' });
    await step('close', { type: 'close' });
    await step('query after close', { type: 'query', sql: 'SELECT 1' });
    await step('close again', { type: 'close' });
    // Without the WASM modules the reference backends run, and stats says why.
    await step('open without the WASM modules', { type: 'open', options: { dataDir: 'memory://', templateUrl, codecsUrl: '/missing-codecs.wasm', kernelsUrl: null } });
    await step('stats of the reference backends', { type: 'stats' });
    await step('close the second open', { type: 'close' });
    return { steps, concurrent: concurrent.map(toJson), openMs };
  } finally {
    worker.terminate();
  }
}

window.orbitTest = { runSmoke, workerProtocol };
