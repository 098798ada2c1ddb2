/**
 * @module runtime/browser-worker
 * Entry of a dedicated module Worker that hosts one Orbit database and answers the protocol declared
 * in `browser.ts` (`new Worker(url, { type: 'module' })`). A worker keeps PGlite's multi-second start
 * and every query off the page's main thread, and is where PGlite's OPFS backend works
 * (`createSyncAccessHandle` does not exist on the main thread). The worker that opens a durable
 * database answers other tabs' workers on it; a worker that finds it owned proxies to the owner
 * (runtime/browser-share).
 */
import { OrbitError, toOrbitError } from '../errors.js';
import { SqlState } from '../sqlstate.js';
import type { OrbitSession } from '../orbit.js';
import { connectToOwner, shareDatabase } from './browser-share.js';
import {
  databaseLock,
  openOrbit,
  type Orbit,
  type WorkerError,
  type WorkerRequest,
  type WorkerRequestType,
  type WorkerResponse,
  type WorkerResults,
  type WorkerStats,
  wasmBackendsOf,
} from './browser.js';

// tsconfig loads the DOM and WebWorker libs together, where `self` is typed as a Window.
const scope = globalThis as unknown as DedicatedWorkerGlobalScope;

/** What a worker has open: its own database, or a proxy to another tab's (runtime/browser-share). */
type Database = Pick<OrbitSession, 'query' | 'exec' | 'copyFrom' | 'close'>;

/** The open (or opening) database; undefined before open and after close. */
let database: Promise<Database> | undefined;
/** What `stats` answers, per opened database. */
const statsOf = new WeakMap<Database, WorkerStats>();
/** Stops answering other tabs; set while this worker owns a durable database. */
let stopSharing: (() => Promise<void>) | undefined;

/** How long a second tab waits for the owner to greet it before reporting the lock error. */
const OWNER_WAIT_MS = 3000;

type Handlers = {
  [K in WorkerRequestType]: (request: Extract<WorkerRequest, { type: K }>) => Promise<WorkerResults[K]>;
};

const handlers: Handlers = {
  open: async ({ options }) => {
    if (database) {
      throw new OrbitError(SqlState.protocol_violation, 'a database is already open in this worker', { hint: 'Send close first.' });
    }
    const lock = databaseLock(options.dataDir);
    const opening = openOrbit(options).then(
      (orbit) => ({ orbit, proxy: false }) as const,
      async (err: unknown) => {
        if (!(err instanceof OrbitError && err.code === SqlState.object_in_use && lock && options.secondTab !== 'error')) throw err;
        return { orbit: await connectToOwner(options.dataDir, lock, OWNER_WAIT_MS, err), proxy: true } as const;
      },
    );
    const current = opening.then(({ orbit, proxy }) => {
      const backends = proxy ? undefined : wasmBackendsOf(orbit as Orbit);
      statsOf.set(orbit, { dataDir: options.dataDir, proxy, codecs: backends?.codecs ?? null, kernels: backends?.kernels ?? null, fallbacks: backends?.fallbacks ?? [] });
      return orbit;
    });
    // Queries sent meanwhile wait on `current`; a failed open is reported by this request only.
    current.catch(() => undefined);
    database = current;
    try {
      const { orbit, proxy } = await opening;
      if (!proxy && lock) stopSharing = shareDatabase(orbit as Orbit, options.dataDir, toWorkerError);
      return { proxy };
    } catch (err) {
      if (database === current) database = undefined;
      throw err;
    }
  },
  query: async ({ sql, params }) => (await opened()).query(sql, params),
  exec: async ({ sql }) => (await opened()).exec(sql),
  copyFrom: async ({ sql, data }) => (await opened()).copyFrom(sql, data),
  stats: async () => statsOf.get(await opened())!,
  close: async () => {
    const closing = database;
    database = undefined;
    await stopSharing?.();
    stopSharing = undefined;
    const orbit = await closing?.catch(() => undefined);
    await orbit?.close();
    return null;
  },
};

scope.addEventListener('message', (event: MessageEvent<WorkerRequest>) => {
  void answer(event.data);
});

async function answer(request: WorkerRequest): Promise<void> {
  const { id, type } = request;
  let response: WorkerResponse;
  try {
    if (!Object.prototype.hasOwnProperty.call(handlers, type)) {
      throw new OrbitError(SqlState.protocol_violation, `unknown request type ${JSON.stringify(type)}`);
    }
    const handle = handlers[type] as (r: WorkerRequest) => Promise<WorkerResults[WorkerRequestType]>;
    response = { id, type, ok: true, result: await handle(request) } as WorkerResponse;
  } catch (err) {
    response = { id, type, ok: false, error: toWorkerError(err) };
  }
  try {
    scope.postMessage(response);
  } catch (err) {
    // A value structured clone cannot copy (none of PGlite's parsed types, but a custom parser's might).
    const error = toWorkerError(new OrbitError(SqlState.internal_error, 'the result cannot be sent to the page', { cause: err }));
    scope.postMessage({ id, type, ok: false, error } satisfies WorkerResponse);
  }
}

function opened(): Promise<Database> {
  if (!database) throw new OrbitError(SqlState.connection_does_not_exist, 'no database is open in this worker', { hint: 'Send open first.' });
  return database;
}

function toWorkerError(err: unknown): WorkerError {
  const e = toOrbitError(err);
  return {
    code: e.code,
    message: e.message,
    ...(e.detail === undefined ? {} : { detail: e.detail }),
    ...(e.hint === undefined ? {} : { hint: e.hint }),
    ...(e.position === undefined ? {} : { position: e.position }),
  };
}
