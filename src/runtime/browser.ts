/**
 * @module runtime/browser
 * The browser runtime: Orbit with PGlite inside a web page or, preferably, a dedicated module Worker
 * (`browser-worker.ts` hosts it there and speaks the message protocol declared below). Nothing here is
 * Node-specific: the only platform features used are `fetch` and `Blob`.
 *
 * Assets. A bundle of this module must be served with four files next to it:
 * - `pglite.wasm`, `pglite.data` and `initdb.wasm` (from `@electric-sql/pglite/dist/`): PGlite fetches
 *   them as `new URL('./…', import.meta.url)`, i.e. relative to whichever file holds PGlite's code
 *   after bundling. `pglite.wasm` must be served as `application/wasm` (instantiateStreaming).
 *   `initdb.wasm` is fetched even when a template makes initdb unnecessary.
 * - `libpg-query.wasm` (from `libpg-query/wasm/`): its emscripten glue resolves it against the
 *   *script* URL (`self.location` in a worker, the document's base URL on a page), not the module.
 * - `codecs.wasm` and `kernels.wasm` (from `dist/wasm/`, made by `npm run build`): the columnstore's
 *   codecs and aggregation kernels, fetched like the parser's (against the script URL; options
 *   `codecsUrl`, `kernelsUrl`). Without them the TypeScript reference backends run: same bytes and
 *   results, slower; the reason is logged and reported by the worker's `stats` request.
 * Keeping every asset next to the worker bundle satisfies all three rules. Bundlers must leave `node:*`
 * imports external (esbuild: `external: ['node:*']`): PGlite and libpg-query import `node:module`,
 * `node:fs` and `node:crypto` behind their own "is this Node?" checks, which are false in a browser.
 *
 * Storage. `opfs-ahp://<name>` keeps PGlite's data directory and Orbit's own objects in OPFS
 * (storage/opfs); `idb://<name>` keeps both in IndexedDB (storage/indexeddb-pgdata, storage/indexeddb);
 * `memory://` keeps everything in memory. See docs/runtimes/browser.md.
 */
import type { CodecBackend } from '../columnstore/codecs/backend.js';
import { WasmBackend } from '../columnstore/codecs/wasm-backend.js';
import type { KernelBackend } from '../columnstore/kernels/backend.js';
import { WasmKernels } from '../columnstore/kernels/wasm-backend.js';
import { OrbitError } from '../errors.js';
import { Orbit, type OrbitOptions } from '../orbit.js';
import { PGliteRowStore } from '../rowstore/pglite.js';
import type { QueryResult } from '../rowstore/types.js';
import type { SessionOptions } from '../session/session.js';
import { SqlState } from '../sqlstate.js';
import { browserStorageError } from '../storage/browser-errors.js';
import { databaseLockName } from '../storage/database-lock.js';
import { IndexedDbStorage } from '../storage/indexeddb.js';
import { IndexedDbPgdataBackend } from '../storage/indexeddb-pgdata.js';
import { MemoryStorage } from '../storage/memory.js';
import { hasSyncAccessHandles, OpfsStorage } from '../storage/opfs.js';

export { Orbit };
export { OrbitError };

export interface OpenOptions {
  /**
   * `memory://` (an ephemeral database); `opfs-ahp://<name>`: a durable database in the Origin
   * Private File System, which needs a dedicated worker (PGlite's OPFS backend uses sync access
   * handles); `idb://<name>`: a durable database in IndexedDB (any context; the row store is held in
   * memory and written back block by block). `<name>` is one segment of [A-Za-z0-9._-]; one tab or
   * worker at a time may open a database.
   */
  readonly dataDir: string;
  readonly session?: Partial<SessionOptions>;
  /** Run jobs and policies when due (default true); off, only `CALL run_job(id)` runs them. */
  readonly jobScheduler?: boolean;
  /**
   * A pre-initialised cluster (`dist/pgdata-template.tar.gz`, made by `npm run build`), used when the
   * database is new. Without one, PGlite runs initdb: 13–19 s of CPU in a browser tab.
   */
  readonly template?: Blob;
  /**
   * Where to fetch the template when `template` is not given; resolved against the global's location
   * (the worker script's URL inside a worker). Fetched only for a new database. A failed fetch fails
   * the open rather than silently falling back to initdb.
   */
  readonly templateUrl?: string;
  /**
   * How long an `opfs-ahp://` or `idb://` open waits for another tab or worker to let go of the
   * database before failing with SQLSTATE 55006 object_in_use (default 2000 ms: a reloaded page can
   * start before the old page's worker is gone).
   */
  readonly lockWaitMs?: number;
  /**
   * How long an `opfs-ahp://` open waits, once it has the lock, for files another worker still holds
   * (default 10000 ms: after a reload, the old page's worker lets go of its OPFS handles a moment
   * after its lock), before failing with SQLSTATE 55006.
   */
  readonly handleWaitMs?: number;
  /**
   * What the worker entry (browser-worker) does when the database is owned by another tab's worker:
   * `proxy` (the default) sends this worker's queries to the owner, in a session of their own;
   * `error` fails the open with SQLSTATE 55006 object_in_use. `openOrbit` itself always fails.
   */
  readonly secondTab?: 'proxy' | 'error';
  /**
   * Where to fetch codecs.wasm and kernels.wasm (default `codecs.wasm`, `kernels.wasm`, resolved like
   * `templateUrl`); `null` runs the TypeScript reference backend instead. A failed fetch or compile
   * falls back to the reference backend (identical results) with a logged reason.
   */
  readonly codecsUrl?: string | null;
  readonly kernelsUrl?: string | null;
}

/** Which columnstore backends an open database uses, and why a reference backend was chosen. */
export interface WasmBackends {
  /** `wasm` or `reference`. */
  readonly codecs: string;
  readonly kernels: string;
  /** One line per backend that fell back to the reference, with the reason. */
  readonly fallbacks: readonly string[];
}

const backendsByOrbit = new WeakMap<Orbit, WasmBackends>();

/** The backends of a database opened by `openOrbit` here (undefined for other databases). */
export function wasmBackendsOf(orbit: Orbit): WasmBackends | undefined {
  return backendsByOrbit.get(orbit);
}

const OPFS_PREFIX = 'opfs-ahp://';
const IDB_PREFIX = 'idb://';

/** The database lock an open of `dataDir` takes, or undefined for ephemeral databases. */
export function databaseLock(dataDir: string): string | undefined {
  if (dataDir.startsWith(OPFS_PREFIX)) return databaseLockName('opfs', dataDir.slice(OPFS_PREFIX.length));
  if (dataDir.startsWith(IDB_PREFIX)) return databaseLockName('indexeddb', dataDir.slice(IDB_PREFIX.length));
  return undefined;
}

/** Opens an Orbit database in a browser (page or worker; `opfs-ahp://` only in a dedicated worker). */
export async function openOrbit(options: OpenOptions): Promise<Orbit> {
  if (options.dataDir === 'memory://') {
    const wasm = loadWasmBackends(options);
    const storage = new MemoryStorage();
    const rowStore = await PGliteRowStore.open({ dataDir: storage.rowStoreDataDir, loadDataDir: await template(options) });
    return createOrbit({ rowStore, storage, session: options.session, jobScheduler: options.jobScheduler !== false }, wasm);
  }
  if (options.dataDir.startsWith(OPFS_PREFIX)) return openOpfs(options.dataDir.slice(OPFS_PREFIX.length), options);
  if (options.dataDir.startsWith(IDB_PREFIX)) return openIndexedDb(options.dataDir.slice(IDB_PREFIX.length), options);
  throw new OrbitError(SqlState.feature_not_supported, `data directory ${JSON.stringify(options.dataDir)} is not supported in browsers`, {
    hint: 'Use opfs-ahp://<name> (in a dedicated worker), idb://<name> or memory://.',
  });
}

/**
 * A database in OPFS. A new one is the template's files copied into PGlite's OPFS directory by
 * PGlite's own `loadDataDir` (it untars through the file system, which opfs-ahp backs), then synced
 * and marked ready; a first open that dies halfway is started over on the next open.
 */
async function openOpfs(name: string, options: OpenOptions): Promise<Orbit> {
  if (!hasSyncAccessHandles()) {
    throw new OrbitError(SqlState.feature_not_supported, 'opfs-ahp:// needs OPFS sync access handles, which exist only in a dedicated worker', {
      hint: 'Open the database inside a dedicated Worker (orbit/browser-worker), or use idb://<name>.',
    });
  }
  const storage = await OpfsStorage.open(name, { lockWaitMs: options.lockWaitMs });
  const wasm = loadWasmBackends(options);
  let rowStore: PGliteRowStore | undefined;
  try {
    const fresh = !(await storage.hasCluster());
    if (fresh) await storage.resetCluster();
    else await storage.checkCluster();
    const loadDataDir = fresh ? await template(options) : undefined;
    // Loaded on demand: pages that never open OPFS databases do not evaluate PGlite's OPFS code.
    const { QuotaAwareOpfsAhpFS } = await import('../storage/opfs-pgdata.js');
    const fs = new QuotaAwareOpfsAhpFS(storage.rowStoreDataDir.slice(OPFS_PREFIX.length), options.handleWaitMs, `"${name}"`);
    rowStore = await PGliteRowStore.open({ dataDir: storage.rowStoreDataDir, loadDataDir, pgliteOptions: { fs } }).catch((err: unknown) => {
      throw browserStorageError(err, `could not open database "${name}"`);
    });
    if (fresh) {
      await rowStore.sync();
      await storage.markClusterReady();
    }
    return await createOrbit({ rowStore, storage, session: options.session, jobScheduler: options.jobScheduler !== false }, wasm);
  } catch (err) {
    await rowStore?.close().catch(() => undefined);
    await storage.close();
    throw err;
  }
}

/**
 * A database in IndexedDB, for browsers without OPFS sync access handles (and for pages that cannot
 * use a worker). Not PGlite's stock `idb://`: PostgreSQL runs on PGlite's MemfsFrontendFS, and
 * storage/indexeddb-pgdata stores only the changed 8 KiB blocks, one atomic transaction per query.
 * A new database is the template loaded into memory and stored by the first flush.
 */
async function openIndexedDb(name: string, options: OpenOptions): Promise<Orbit> {
  const storage = await IndexedDbStorage.open(name, { lockWaitMs: options.lockWaitMs });
  const backend = new IndexedDbPgdataBackend(name);
  const wasm = loadWasmBackends(options);
  let rowStore: PGliteRowStore | undefined;
  try {
    const fresh = !(await backend.hasCluster());
    const loadDataDir = fresh ? await template(options) : undefined;
    const { MemfsFrontendFS } = await import('@electric-sql/pglite/memfs-frontend');
    rowStore = await PGliteRowStore.open({ dataDir: `${IDB_PREFIX}${name}`, loadDataDir, pgliteOptions: { fs: new MemfsFrontendFS(backend) } }).catch(
      (err: unknown) => {
        throw browserStorageError(err, `could not open database "${name}"`);
      },
    );
    if (fresh) await rowStore.sync();
    return await createOrbit({ rowStore, storage, session: options.session, jobScheduler: options.jobScheduler !== false }, wasm);
  } catch (err) {
    await rowStore?.close().catch(() => undefined);
    await backend.close();
    await storage.close();
    throw err;
  }
}

interface LoadedBackends {
  readonly codecs?: CodecBackend;
  readonly kernels?: KernelBackend;
  readonly fallbacks: string[];
}

/** Orbit over the given stores with whichever WASM backends loaded; records which for `stats`. */
async function createOrbit(base: Pick<OrbitOptions, 'rowStore' | 'storage' | 'session' | 'jobScheduler'>, loading: Promise<LoadedBackends>): Promise<Orbit> {
  const { codecs, kernels, fallbacks } = await loading;
  const orbit = await Orbit.create({ ...base, ...(codecs ? { codecs } : {}), ...(kernels ? { kernels } : {}) });
  backendsByOrbit.set(orbit, { codecs: codecs?.name ?? 'reference', kernels: kernels?.name ?? 'reference', fallbacks });
  return orbit;
}

/**
 * Fetches and instantiates codecs.wasm and kernels.wasm, in parallel with PGlite's start. Never
 * fails: a module that cannot be loaded leaves its reference backend in place, with a logged reason
 * (the results are identical, only slower).
 */
async function loadWasmBackends(options: OpenOptions): Promise<LoadedBackends> {
  const load = async <T>(what: string, url: string | null | undefined, create: (m: WebAssembly.Module) => Promise<T>): Promise<T | string> => {
    if (url === null) return `${what}: disabled (${what}Url: null)`;
    const href = resolveUrl(url ?? `${what}.wasm`);
    try {
      return await create(await compileWasm(href));
    } catch (err) {
      const reason = `${what}: ${href} could not be loaded (${err instanceof Error ? err.message : String(err)})`;
      console.warn(`orbit: using the TypeScript reference ${what} backend; ${reason}`);
      return reason;
    }
  };
  const [codecs, kernels] = await Promise.all([
    load('codecs', options.codecsUrl, (m) => WasmBackend.create(m)),
    load('kernels', options.kernelsUrl, (m) => WasmKernels.create(m)),
  ]);
  return {
    ...(typeof codecs === 'string' ? {} : { codecs }),
    ...(typeof kernels === 'string' ? {} : { kernels }),
    fallbacks: [codecs, kernels].filter((r): r is string => typeof r === 'string'),
  };
}

function resolveUrl(url: string): string {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  return base === undefined ? url : new URL(url, base).href;
}

/** Streams the compile when served as application/wasm (compileStreaming insists), else compiles the bytes. */
async function compileWasm(href: string): Promise<WebAssembly.Module> {
  const response = await fetch(href);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  if (response.headers.get('content-type')?.split(';')[0]?.trim() === 'application/wasm') return WebAssembly.compileStreaming(response);
  return WebAssembly.compile(await response.arrayBuffer());
}

async function template(options: OpenOptions): Promise<Blob | undefined> {
  return options.template ?? (options.templateUrl === undefined ? undefined : await fetchTemplate(options.templateUrl));
}

async function fetchTemplate(url: string): Promise<Blob> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new OrbitError(SqlState.io_error, `could not fetch the cluster template ${url}`, { cause: err });
  }
  if (!response.ok) {
    throw new OrbitError(SqlState.undefined_file, `could not fetch the cluster template ${url}: HTTP ${response.status}`);
  }
  return response.blob();
}

// The worker protocol: what a page sends to `browser-worker.ts` and what it answers. Every message is
// structured-cloneable, so rows keep their JS types (Date, Uint8Array, bigint, parsed jsonb).

export const WorkerRequestType = {
  open: 'open',
  query: 'query',
  exec: 'exec',
  copyFrom: 'copyFrom',
  stats: 'stats',
  close: 'close',
} as const;
export type WorkerRequestType = (typeof WorkerRequestType)[keyof typeof WorkerRequestType];

/** A request; the response carries the same `id`, so several may be in flight. */
export type WorkerRequest =
  /** Opens the worker's database; one per worker at a time (open again after close). */
  | { readonly id: number; readonly type: typeof WorkerRequestType.open; readonly options: OpenOptions }
  /** One statement with optional `$n` parameters. */
  | { readonly id: number; readonly type: typeof WorkerRequestType.query; readonly sql: string; readonly params?: unknown[] }
  /** Several statements without parameters; one result each. */
  | { readonly id: number; readonly type: typeof WorkerRequestType.exec; readonly sql: string }
  /** One `COPY … FROM STDIN` and its data (`Orbit.copyFrom`; a File is a Blob). */
  | { readonly id: number; readonly type: typeof WorkerRequestType.copyFrom; readonly sql: string; readonly data: Blob | Uint8Array | string }
  /** What the worker has open and which columnstore backends run its queries. */
  | { readonly id: number; readonly type: typeof WorkerRequestType.stats }
  /** Closes the database; answered once PGlite has shut down. Closing a closed worker is not an error. */
  | { readonly id: number; readonly type: typeof WorkerRequestType.close };

/** What each request type answers with. */
export interface WorkerResults {
  /** `proxy`: another tab's worker owns the database and runs this worker's queries (see `secondTab`). */
  readonly open: { readonly proxy: boolean };
  readonly query: QueryResult;
  readonly exec: QueryResult[];
  readonly copyFrom: QueryResult;
  readonly stats: WorkerStats;
  readonly close: null;
}

export interface WorkerStats {
  readonly dataDir: string;
  readonly proxy: boolean;
  /** This worker's codecs and kernels (`wasm` or `reference`); null for a proxy, whose queries run in the owner's worker. */
  readonly codecs: string | null;
  readonly kernels: string | null;
  /** Why a reference backend runs instead of WASM (empty when both are WASM). */
  readonly fallbacks: readonly string[];
}

/** An error as PostgreSQL's ErrorResponse would report it: the SQLSTATE `code` always, the rest when known. */
export interface WorkerError {
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
  /** 1-based character position in the statement text. */
  readonly position?: number;
}

export type WorkerResponse<T extends WorkerRequestType = WorkerRequestType> = {
  [K in T]:
    | { readonly id: number; readonly type: K; readonly ok: true; readonly result: WorkerResults[K] }
    | { readonly id: number; readonly type: K; readonly ok: false; readonly error: WorkerError };
}[T];
