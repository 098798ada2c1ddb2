/**
 * @module runtime/node
 * The Node.js runtime: Orbit on files (or memory) with PGlite, served over TCP and WebSocket.
 * This file and the `*-node.ts` transports are the only places that choose Node-specific pieces.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Orbit, type OrbitOptions } from '../orbit.js';
import { PGliteRowStore } from '../rowstore/pglite.js';
import { PGliteWorkerRowStore } from '../rowstore/pglite-node-worker.js';
import type { RowStore } from '../rowstore/types.js';
import type { SessionOptions } from '../session/session.js';
import { loadCodecsNode } from '../columnstore/codecs/load-node.js';
import { NodeReaderThread } from '../session/direct-ingest/read-node.js';
import type { ColumnStoreOptions } from '../columnstore/store.js';
import { loadKernelsNode } from '../columnstore/kernels/load-node.js';
import { MemoryStorage } from '../storage/memory.js';
import { NodeFsStorage } from '../storage/node-fs.js';
import type { StorageAdapter } from '../storage/types.js';
import { AuthMethod, type SecretLookup } from '../wire/auth/index.js';
import { ConnectionRegistry, type ConnectionContext } from '../wire/connection.js';
import { listenTcp, type Listener } from '../wire/tcp-node.js';
import { listenHttp } from '../wire/websocket-node.js';

export { Orbit };
export { startBridge } from '../wire/bridge-node.js';
export { Forwarder, ForwarderState, type ForwarderOptions, type ForwarderStatus } from '../gateway/forwarder.js';
export { pgRemote } from '../gateway/remote-pg-node.js';
export { pushChunkToEdge, type EdgeTarget, type PushResult } from './edge-push.js';

export interface OpenOptions {
  /** A directory path, or `memory://` for an ephemeral database. */
  readonly dataDir: string;
  readonly session?: Partial<SessionOptions>;
  /** Pre-initialised cluster for new databases (default: the one `npm run build` puts next to this module). */
  readonly templatePath?: string;
  /**
   * Run PGlite in a worker thread (what `serve` does): long statements no longer stop this thread,
   * and a CancelRequest can stop a running statement (on files; not on `memory://`).
   */
  readonly thread?: boolean;
  /** The columnstore's batch cache and write concurrency. */
  readonly columnstore?: ColumnStoreOptions;
  /** Run jobs and policies when due (default true); off, only `CALL run_job(id)` runs them. */
  readonly jobScheduler?: boolean;
  /**
   * Read the pieces of direct-to-columnstore COPYs in a worker thread and cut and encode their
   * batches in another (default true), while this thread routes the rows and writes the batches;
   * off, this thread does all of it.
   */
  readonly copyReaderThread?: boolean;
  /** With the reader thread: cut and encode the batches on a thread of their own (default true); off, this thread does. */
  readonly copyEncoderThread?: boolean;
  /**
   * Start those threads when the database opens (default: only `serve`), not at the first direct
   * COPY, whose first pieces are otherwise read and encoded on this thread while they load.
   */
  readonly copyThreadsAtOpen?: boolean;
  /**
   * `timescaledb.*` settings of the server's configuration, e.g.
   * `{ 'timescaledb.enable_job_execution_logging': 'on' }` (TimescaleDB's postgresql.conf).
   */
  readonly settings?: Readonly<Record<string, string>>;
}

/** Opens (creating if needed) an Orbit database in Node. */
export async function openOrbit(options: OpenOptions): Promise<Orbit> {
  const storage: StorageAdapter = options.dataDir === 'memory://' ? new MemoryStorage() : await NodeFsStorage.open(options.dataDir);
  const fresh = !(storage instanceof NodeFsStorage) || !(await storage.hasCluster());
  const templatePath = options.templatePath ?? fileURLToPath(new URL('../pgdata-template.tar.gz', import.meta.url));
  const dataDir = storage.rowStoreDataDir!;
  let rowStore: RowStore;
  if (options.thread) {
    rowStore = await PGliteWorkerRowStore.open({ dataDir, templatePath: fresh && existsSync(templatePath) ? templatePath : undefined, settings: options.settings });
  } else {
    const loadDataDir = fresh ? await readTemplate(templatePath) : undefined;
    rowStore = await PGliteRowStore.open({ dataDir, loadDataDir, settings: options.settings });
  }
  // The WASM codecs when built (npm run build); the TypeScript reference writes the same bytes.
  const codecs = await loadCodecsNode().catch(() => undefined);
  const kernels = await loadKernelsNode().catch(() => undefined);
  // Compressed batches kept in memory: 256 MiB in Node (~8 M TSBS rows), where memory is not the
  // browser's or an isolate's; the engine's default is 64 MiB.
  const columnstore = { cacheBytes: 256 << 20, ...options.columnstore };
  const readerThread = options.copyReaderThread !== false ? new NodeReaderThread({ encoder: options.copyEncoderThread !== false }) : undefined;
  if (options.copyThreadsAtOpen) readerThread?.start();
  const opts: OrbitOptions = { rowStore, storage, session: options.session, columnstore, jobScheduler: options.jobScheduler !== false, ...(readerThread ? { readerThread } : {}), ...(codecs ? { codecs } : {}), ...(kernels ? { kernels } : {}) };
  try {
    return await Orbit.create(opts);
  } catch (err) {
    await readerThread?.close();
    throw err;
  }
}

export interface ServeOptions extends OpenOptions {
  /** PostgreSQL wire protocol over TCP; `null` disables it. */
  readonly listen: { host: string; port: number } | null;
  /** HTTP + PostgreSQL-over-WebSocket; `null` disables it. */
  readonly http: { host: string; port: number } | null;
  /** Authentication for loopback clients (default trust) and others (default scram-sha-256). */
  readonly authLoopback?: AuthMethod;
  readonly authRemote?: AuthMethod;
  /** Users defined in configuration: name → password (plaintext or a SCRAM-SHA-256 verifier). */
  readonly users?: Readonly<Record<string, string>>;
}

export interface RunningServer {
  readonly orbit: Orbit;
  readonly tcp: Listener | undefined;
  readonly http: Listener | undefined;
  readonly registry: ConnectionRegistry;
  close(): Promise<void>;
}

/** Opens the database and starts the listeners; on any failure nothing is left running. */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  // Listen first, so a taken port fails at once; clients that connect meanwhile wait for the database.
  let ready!: (ctx: ConnectionContext) => void;
  let failed!: (err: unknown) => void;
  const context = new Promise<ConnectionContext>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  context.catch(() => undefined);
  let tcp: Listener | undefined;
  let http: Listener | undefined;
  let orbit: Orbit | undefined;
  const registry = new ConnectionRegistry();
  try {
    if (options.listen) tcp = await listenTcp(context, options.listen.host, options.listen.port);
    if (options.http) {
      http = await listenHttp(context, options.http.host, options.http.port, (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ server: 'orbit', websocket: 'PostgreSQL protocol in binary frames on any path' }));
      });
    }
    orbit = await openOrbit({ thread: true, copyThreadsAtOpen: true, ...options });
    await ensureUsers(orbit, Object.keys(options.users ?? {}));
  } catch (err) {
    failed(err);
    await tcp?.close();
    await http?.close();
    await orbit?.close();
    throw err;
  }
  ready({
    backend: orbit.backend,
    registry,
    session: orbit.sessionOptions,
    database: 'postgres',
    auth: {
      loopback: options.authLoopback ?? AuthMethod.trust,
      remote: options.authRemote ?? AuthMethod.scramSha256,
      lookup: secretLookup(orbit, options.users ?? {}),
    },
  });
  const db = orbit;
  return {
    orbit: db,
    tcp,
    http,
    registry,
    close: async () => {
      await tcp?.close();
      await http?.close();
      for (const s of registry.all()) await s.close();
      await db.close();
    },
  };
}

/** The shipped cluster template, or undefined (PGlite then runs initdb). */
async function readTemplate(path: string): Promise<Blob | undefined> {
  try {
    const data = await readFile(path);
    return new Blob([data]);
  } catch {
    return undefined;
  }
}

/** Passwords come from configuration first, then from roles created with CREATE ROLE … PASSWORD. */
/**
 * Users given by name and password (`--user`, the config file) are the server's superusers, as the
 * PostgreSQL container images make POSTGRES_USER: sessions run as the role that logs in, so each
 * gets a LOGIN SUPERUSER role when it has none. A role that exists is left as it is.
 */
async function ensureUsers(orbit: Orbit, users: readonly string[]): Promise<void> {
  for (const user of users) {
    const r = await orbit.systemQuery<{ sql: string }>(
      "SELECT pg_catalog.format('CREATE ROLE %I LOGIN SUPERUSER', $1::text) AS sql WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = $1)",
      [user],
    );
    if (r.rows[0]) await orbit.systemQuery(r.rows[0].sql);
  }
}

function secretLookup(orbit: Orbit, users: Readonly<Record<string, string>>): SecretLookup {
  return async (user) => {
    if (Object.prototype.hasOwnProperty.call(users, user)) return users[user];
    const r = await orbit.systemQuery<{ rolpassword: string | null }>(
      'SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = $1 AND rolcanlogin AND (rolvaliduntil IS NULL OR rolvaliduntil > now())',
      [user],
    );
    return r.rows[0]?.rolpassword ?? undefined;
  };
}
