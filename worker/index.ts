/**
 * @module worker
 * Orbit's Cloudflare Worker (the edge profile). Routes, all keyed by a database name (`?db=`,
 * default `default`) that picks the Durable Object holding that database:
 * - `POST /sql` `{sql, params}` → `{command, fields, rows}` (rows as PostgreSQL text), or
 *   `{error: {code, message, position}}` with an HTTP status from the SQLSTATE; with `Content-Type:
 *   application/vnd.orbit.sql-stdin` the body is that JSON on one line, then a COPY's data, which the
 *   object reads as it arrives (src/edge/http-body.ts);
 * - a WebSocket upgrade on any path → the PostgreSQL protocol over binary frames (what
 *   `@neondatabase/serverless` and `orbit bridge` speak);
 * - `GET /stats` → rows in sealed batches and in the write buffer per chunk, cache and wasm memory;
 * - `POST /sql/classify` `{sql}` → how Orbit's SQL layer classifies each statement.
 * Built by worker/build.mjs (`npm run build:worker`), never run from source, because libpg-query's
 * glue has to be swapped for workerd.
 */
/// <reference path="./wasm.d.ts" />
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
// worker/build.mjs resolves this to ./codecs.wasm beside worker.js (a compiled module in workerd).
import codecsModule from 'orbit:codecs.wasm';
// The aggregation kernels (assembly/kernels), likewise a compiled module beside worker.js.
import kernelsModule from 'orbit:kernels.wasm';
import { DurableObject } from 'cloudflare:workers';
import {
  classify,
  EdgeDatabase,
  isStdinForm,
  openShard,
  type EdgeShard,
  type ShardRouter,
  loadParser,
  OrbitError,
  parseSql,
  SqlState,
  toOrbitError,
  type ClassifiedStatement,
  type DurableObjectStorageLike,
  type HttpAnswer,
  type SqlStateCode,
} from '../src/runtime/workers.js';

/** The parts of the Workers runtime this file uses (structural, so no platform type package is needed). */
interface DurableObjectStub {
  fetch(request: Request): Promise<Response>;
}
interface DurableObjectNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): DurableObjectStub;
}
interface DurableObjectState {
  readonly id: { toString(): string };
  readonly storage: DurableObjectStorageLike & { setAlarm(scheduledTime: number): Promise<void> };
  blockConcurrencyWhile<T>(fn: () => Promise<T>): Promise<T>;
}
interface WorkerSocket {
  accept(): void;
  send(data: ArrayBuffer | Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', fn: (e: { data: ArrayBuffer | string }) => void): void;
  addEventListener(type: 'close' | 'error', fn: () => void): void;
}
declare const WebSocketPair: { new (): { 0: WorkerSocket; 1: WorkerSocket } };

export interface Env {
  readonly ORBIT: DurableObjectNamespace;
  /** Shard objects of hypertables set to `orbit.shards` (optional: without it, every chunk stays in ORBIT). */
  readonly ORBIT_SHARD?: DurableObjectNamespace;
  /** Password for PostgreSQL-over-WebSocket clients (a Worker secret); unset = trust. */
  readonly ORBIT_PASSWORD?: string;
  /** Bearer token for `POST /import` (a Worker secret); unset = the endpoint refuses every request. */
  readonly ORBIT_IMPORT_TOKEN?: string;
}

/** HTTP status per SQLSTATE class or code; anything not listed is a server error (500). */
const httpStatus: Partial<Record<string, ContentfulStatusCode>> = {
  [SqlState.syntax_error]: 400,
  [SqlState.protocol_violation]: 400,
  [SqlState.feature_not_supported]: 501,
  [SqlState.undefined_table]: 404,
};

/** Client errors (classes 22, 23, 42 and TimescaleDB's TS) are 400; the rest keep the table's answer or 500. */
function statusOf(code: string): ContentfulStatusCode {
  return httpStatus[code] ?? (/^(22|23|42|TS)/.test(code) ? 400 : 500);
}

/** A classified statement as sent over HTTP (the AST stays in the Worker). */
type StatementJson = Pick<
  ClassifiedStatement,
  'type' | 'kind' | 'text' | 'changesSettings' | 'createsTempObject' | 'copy' | 'channel' | 'preparedName' | 'relations'
>;

function toJson(s: ClassifiedStatement): StatementJson {
  const { type, kind, text, changesSettings, createsTempObject, copy, channel, preparedName, relations } = s;
  return { type, kind, text, changesSettings, createsTempObject, copy, channel, preparedName, relations };
}

const app = new Hono<{ Bindings: Env }>();

function databaseObject(env: Env, url: string): DurableObjectStub {
  const name = new URL(url).searchParams.get('db') || 'default';
  return env.ORBIT.get(env.ORBIT.idFromName(name));
}

/** `POST /sql/classify` `{ sql }` → `{ statements }`; errors → `{ error: { code, message, position } }`. */
app.post('/sql/classify', async (c) => {
  const body = await c.req.json<{ sql?: unknown }>().catch(() => undefined);
  if (typeof body?.sql !== 'string') {
    throw new OrbitError(SqlState.protocol_violation, 'request body must be JSON of the form {"sql": "..."}');
  }
  // Loads the parser on first use, so its instantiation stays off the Worker's startup path.
  await loadParser();
  return c.json({ statements: parseSql(body.sql).map((stmt) => toJson(classify(stmt))) });
});

/** `POST /sql` → the database's Durable Object. */
app.post('/sql', async (c) => {
  // The body streams through: the Worker never holds a large INSERT or COPY's text itself.
  const headers = { 'content-type': c.req.header('content-type') ?? 'application/json' };
  const res = await databaseObject(c.env, c.req.url).fetch(new Request('https://orbit/sql', { method: 'POST', headers, body: c.req.raw.body }));
  const answer = (await res.json()) as HttpAnswer;
  return c.json(answer, 'error' in answer ? statusOf(answer.error.code) : 200);
});

/** Equal strings, compared in time independent of where they differ. */
function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/**
 * `POST /import?db=…` (body: a chunk transfer, src/edge/chunk-transfer.ts) with `Authorization:
 * Bearer <ORBIT_IMPORT_TOKEN>` → imports a compressed chunk from a Node or browser Orbit.
 */
app.post('/import', async (c) => {
  const token = c.env.ORBIT_IMPORT_TOKEN;
  if (!token) return c.json({ error: { code: SqlState.feature_not_supported, message: 'chunk import is disabled: set the ORBIT_IMPORT_TOKEN secret' } }, 403);
  const auth = c.req.header('authorization') ?? '';
  if (!auth.startsWith('Bearer ') || !sameSecret(auth.slice(7), token)) {
    return c.json({ error: { code: SqlState.invalid_authorization_specification, message: 'chunk import needs Authorization: Bearer <ORBIT_IMPORT_TOKEN>' } }, 401);
  }
  const res = await databaseObject(c.env, c.req.url).fetch(new Request('https://orbit/import', { method: 'POST', body: await c.req.arrayBuffer() }));
  const answer = (await res.json()) as HttpAnswer;
  return c.json(answer, 'error' in answer ? statusOf(answer.error.code) : 200);
});

/** `GET /stats` → where the database's rows are (batches vs write buffer) and its memory figures. */
app.get('/stats', async (c) => {
  if (c.req.header('upgrade')?.toLowerCase() === 'websocket') return databaseObject(c.env, c.req.url).fetch(c.req.raw);
  return c.json(await (await databaseObject(c.env, c.req.url).fetch(new Request('https://orbit/stats'))).json());
});

/** PostgreSQL over WebSocket, on any path. */
app.get('*', async (c) => {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') return c.text('Orbit edge: POST /sql or connect a PostgreSQL client over WebSocket\n', 404);
  return databaseObject(c.env, c.req.url).fetch(c.req.raw);
});

app.onError((err, c) => {
  const e = toOrbitError(err);
  return c.json({ error: { code: e.code, message: e.message, position: e.position } }, statusOf(e.code as SqlStateCode));
});

export default app;

/** One Orbit database per object: its catalog, write buffer and batches live in the object's SQLite. */
export class OrbitDatabase {
  private readonly db: Promise<EdgeDatabase>;

  constructor(ctx: DurableObjectState, env: Env) {
    // Requests wait until the database is open (catalog created, orphaned batches swept).
    const shards = env.ORBIT_SHARD ? { router: shardRouter(env.ORBIT_SHARD), prefix: ctx.id.toString() } : undefined;
    this.db = ctx.blockConcurrencyWhile(() =>
      EdgeDatabase.open({ storage: ctx.storage, codecsModule, kernelsModule, shards, password: env.ORBIT_PASSWORD, setAlarm: (ms) => ctx.storage.setAlarm(ms) }),
    );
  }

  /** Retention policies run here (Durable Object alarms survive restarts, as TimescaleDB's jobs do). */
  async alarm(): Promise<void> {
    await (await this.db).alarm();
  }

  async fetch(request: Request): Promise<Response> {
    const db = await this.db;
    if (request.headers.get('upgrade')?.toLowerCase() === 'websocket') {
      const pair = new WebSocketPair();
      const client = pair[0];
      const server = pair[1];
      server.accept();
      // A client that went away mid-answer makes send/close throw; its close event ends the connection.
      const conn = db.connect({
        loopback: false,
        write: (bytes) => {
          try {
            server.send(bytes);
          } catch {
            // the client is gone
          }
        },
        close: () => {
          try {
            server.close(1000, 'connection closed');
          } catch {
            // already closed by the client
          }
        },
      });
      server.addEventListener('message', (e) => conn.receive(typeof e.data === 'string' ? new TextEncoder().encode(e.data) : new Uint8Array(e.data)));
      server.addEventListener('close', () => void conn.closed());
      server.addEventListener('error', () => void conn.closed());
      return new Response(null, { status: 101, webSocket: client } as ResponseInit);
    }
    if (new URL(request.url).pathname === '/stats') return Response.json(db.stats());
    if (new URL(request.url).pathname === '/import') return Response.json(await db.importChunk(new Uint8Array(await request.arrayBuffer())));
    if (isStdinForm(request.headers.get('content-type'))) return Response.json(await db.httpStream(request.body));
    const body = await request.json().catch(() => undefined);
    return Response.json(await db.http(body));
  }
}

/** The RPC surface of an OrbitShard stub (Durable Object RPC: arguments and results are structured clones). */
type ShardStub = Pick<OrbitShard, 'write' | 'partials' | 'scan' | 'dropChunks' | 'compressChunk' | 'dropTable'>;

/** Routes the coordinator's shard calls to OrbitShard objects by key; a fresh stub per call survives a shard's restart. */
function shardRouter(ns: DurableObjectNamespace): ShardRouter {
  const stub = (key: string) => ns.get(ns.idFromName(key)) as unknown as ShardStub;
  return {
    write: (key, def, chunks) => stub(key).write(def, chunks),
    partials: (key, table, spec, lo, hi) => stub(key).partials(table, spec, lo, hi),
    scan: (key, table, columns, bounds, equalities, latestPer) => stub(key).scan(table, columns, bounds, equalities, latestPer),
    dropChunks: (key, table, chunks) => stub(key).dropChunks(table, chunks),
    compressChunk: (key, table, chunk) => stub(key).compressChunk(table, chunk),
    dropTable: (key, table) => stub(key).dropTable(table),
  };
}

/**
 * One shard of sharded hypertables: the chunks the coordinator (an OrbitDatabase) routed here, in this
 * object's SQLite, answering the coordinator over RPC. Its key is `<coordinator id>/<table>/<slot>`.
 */
export class OrbitShard extends DurableObject<Env> {
  private readonly shard: Promise<EdgeShard>;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.shard = ctx.blockConcurrencyWhile(() => openShard({ storage: ctx.storage, codecsModule, kernelsModule }));
  }

  async write(...args: Parameters<EdgeShard['write']>): ReturnType<EdgeShard['write']> {
    return (await this.shard).write(...args);
  }

  async partials(...args: Parameters<EdgeShard['partials']>): ReturnType<EdgeShard['partials']> {
    return (await this.shard).partials(...args);
  }

  async scan(...args: Parameters<EdgeShard['scan']>): ReturnType<EdgeShard['scan']> {
    return (await this.shard).scan(...args);
  }

  async dropChunks(...args: Parameters<EdgeShard['dropChunks']>): ReturnType<EdgeShard['dropChunks']> {
    return (await this.shard).dropChunks(...args);
  }

  async compressChunk(...args: Parameters<EdgeShard['compressChunk']>): ReturnType<EdgeShard['compressChunk']> {
    return (await this.shard).compressChunk(...args);
  }

  async dropTable(...args: Parameters<EdgeShard['dropTable']>): ReturnType<EdgeShard['dropTable']> {
    return (await this.shard).dropTable(...args);
  }
}
