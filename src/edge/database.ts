/**
 * @module edge/database
 * One edge database, as a Durable Object hosts it: the engine over the object's storage, the
 * RowStore in front of it, one session Backend shared by every client, and the two ways in — the
 * HTTP JSON endpoint (`{sql, params}` → `{fields, rows, command}`) and PostgreSQL-over-WebSocket
 * connections (the wire layer, unchanged). Runtime-neutral: the Durable Object class in worker/
 * passes in its storage, the compiled codec module and the transport.
 */
import { WasmBackend } from '../columnstore/codecs/wasm-backend.js';
import { orbitError, toOrbitError } from '../errors.js';
import { parserMemoryBytes } from '../sql/parser.js';
import { Backend, type BackendSession } from '../session/backend.js';
import { DEFAULT_SESSION_OPTIONS } from '../session/session.js';
import { settingsKey } from '../session/settings.js';
import type { DurableObjectStorageLike } from '../storage/durable-object.js';
import { AuthMethod, type SecretLookup } from '../wire/auth/index.js';
import { Connection, ConnectionRegistry, type ConnectionContext, type Transport } from '../wire/connection.js';
import type { AggregateEngine } from './aggregates.js';
import { EdgeEngine, type EdgeEngineOptions } from './engine.js';
import { EdgeShard } from './shard-object.js';
import { KernelAggregates, type KernelStats } from './kernel-aggregates.js';
import { ReferenceKernels, WasmKernels, type KernelBackend } from '../columnstore/kernels/index.js';
import { EdgeRowStore, textResult, type TextResult } from './row-store.js';
import { decodeTransfer } from './chunk-transfer.js';
import { importChunk } from './chunk-import.js';
import { chunkShard, shardCount } from './shard-chunks.js';
import { readStdinBody } from './http-body.js';

export interface EdgeDatabaseOptions {
  readonly storage: DurableObjectStorageLike;
  /** codecs.wasm, compiled (Workers accept only modules compiled at upload). */
  readonly codecsModule: WebAssembly.Module | BufferSource;
  /**
   * kernels.wasm, compiled: aggregates over sealed batches run in it. Without it (or if it fails to
   * instantiate) the same kernel path runs on ReferenceKernels, in TypeScript.
   */
  readonly kernelsModule?: WebAssembly.Module | BufferSource;
  /** Shard objects for hypertables set to `orbit.shards` (src/edge/shards.ts). */
  readonly shards?: EdgeEngineOptions['shards'];
  /** Overrides the kernel engine (tests: JsAggregates for the row path alone). */
  readonly aggregates?: AggregateEngine;
  readonly sealRows?: number;
  /**
   * Password for WebSocket clients (SCRAM-SHA-256 and cleartext both work with it); without one,
   * every client is trusted, as for local development.
   */
  readonly password?: string;
  /**
   * Wakes the database at `ms` (ms since the Unix epoch) to run due jobs (retention policies): the
   * Durable Object's `storage.setAlarm`. Without it, jobs run only through `CALL run_job(id)`.
   */
  readonly setAlarm?: (ms: number) => Promise<void>;
}

/** The HTTP endpoint's answer for one request: the last statement's result. */
export type HttpAnswer = TextResult | { error: { code: string; message: string; position?: number; detail?: string; hint?: string; where?: string } };

export interface EdgeStats {
  /** Per chunk: rows here in batches and in the write buffer, or the shard object holding it. */
  readonly hypertables: Array<{ name: string; shards: number; chunks: Array<{ name: string; batchRows: number; bufferedRows: number; shard?: string }> }>;
  readonly cache: { bytes: number; entries: number; hits: number; misses: number };
  readonly codecsMemoryBytes: number;
  /** The parser's WASM memory (grows with the largest piece parsed, never shrinks); absent outside workerd. */
  readonly parserMemoryBytes?: number;
  /** The kernel path: its backend (wasm | reference) and the batches it decoded, answered from manifests or skipped. */
  readonly kernels?: KernelStats;
}

let httpSessions = 0;

export class EdgeDatabase {
  readonly backend: Backend;
  private readonly ctx: ConnectionContext;

  private constructor(
    readonly engine: EdgeEngine,
    readonly rowStore: EdgeRowStore,
    private readonly codecs: WasmBackend,
    password: string | undefined,
  ) {
    this.backend = new Backend(rowStore);
    const lookup: SecretLookup = async () => password;
    const method = password === undefined ? AuthMethod.trust : AuthMethod.scramSha256;
    this.ctx = {
      backend: this.backend,
      auth: { loopback: method, remote: method, lookup },
      session: DEFAULT_SESSION_OPTIONS,
      registry: new ConnectionRegistry(),
      database: 'postgres',
    };
  }

  static async open(options: EdgeDatabaseOptions): Promise<EdgeDatabase> {
    const codecs = await WasmBackend.create(options.codecsModule);
    const aggregates = options.aggregates ?? new KernelAggregates(await kernelBackend(options.kernelsModule));
    const engine = await EdgeEngine.open({ storage: options.storage, codecs, aggregates, sealRows: options.sealRows, shards: options.shards });
    let scheduled: number | undefined;
    // After every acknowledged statement: durable, and the alarm set for the next job (if that changed).
    const flush = async () => {
      await options.storage.sync?.();
      const next = engine.nextJobAt();
      if (options.setAlarm && next !== undefined && next !== scheduled) {
        scheduled = next;
        await options.setAlarm(next);
      }
    };
    const rowStore = new EdgeRowStore(engine, flush);
    const db = new EdgeDatabase(engine, rowStore, codecs, options.password);
    await flush();
    return db;
  }

  /** The Durable Object's alarm: runs the due jobs under the backend (like a session), then re-arms. */
  async alarm(): Promise<void> {
    const session: BackendSession = { id: -++httpSessions, settingsKey: settingsKey(new Map()), settings: new Map(), deliverNotification: () => undefined };
    await this.backend.acquire(session);
    try {
      await this.engine.runDueJobs();
      await this.rowStore.sync();
    } finally {
      this.backend.release(session);
    }
  }

  /** A PostgreSQL connection over `transport` (raw protocol bytes both ways, as over WebSocket). */
  connect(transport: Transport): Connection {
    return new Connection(this.ctx, transport);
  }

  /** Where the rows are (sealed batches vs write buffer, per chunk) and what the object holds in memory. */
  stats(): EdgeStats {
    const c = this.engine.catalog;
    const hypertables = c.hypertableNames().map((name) => {
      const h = c.hypertable(name)!;
      return {
        name,
        shards: shardCount(this.engine, name),
        chunks: c.chunks(h.id).map((ch) => ({
          name: ch.tableName,
          batchRows: c.manifests(ch.id).reduce((n, m) => n + m.rows, 0),
          bufferedRows: c.bufferedCount(ch.id),
          shard: chunkShard(this.engine, ch.id),
        })),
      };
    });
    const kernels = this.engine.aggregates instanceof KernelAggregates ? { ...this.engine.aggregates.stats } : undefined;
    return { hypertables, cache: this.engine.columnstore.cacheStats(), codecsMemoryBytes: this.codecs.memoryBytes, parserMemoryBytes: parserMemoryBytes(), kernels };
  }

  /**
   * Imports a compressed chunk sent by another Orbit (src/edge/chunk-transfer.ts) under the backend,
   * like a statement; durable before it answers. `{command: 'IMPORT <rows>'}` or the error.
   */
  async importChunk(bytes: Uint8Array): Promise<HttpAnswer> {
    const session: BackendSession = { id: -++httpSessions, settingsKey: settingsKey(new Map()), settings: new Map(), deliverNotification: () => undefined };
    try {
      const transfer = decodeTransfer(bytes);
      await this.backend.acquire(session);
      try {
        const rows = await importChunk(this.engine, transfer);
        await this.rowStore.sync();
        return { command: `IMPORT ${rows}`, fields: [], rows: [] };
      } finally {
        this.backend.release(session);
      }
    } catch (err) {
      return errorAnswer(err);
    }
  }

  /**
   * `POST /sql` in the streaming form (src/edge/http-body.ts): the JSON header line, then the COPY
   * data, read from `body` as the COPY takes it.
   */
  async httpStream(body: ReadableStream<Uint8Array> | null): Promise<HttpAnswer> {
    let request: Awaited<ReturnType<typeof readStdinBody>>;
    try {
      request = await readStdinBody(body);
    } catch (err) {
      return errorAnswer(err);
    }
    try {
      const header = request.header as { stdin?: unknown } | undefined;
      if (header?.stdin !== undefined) return errorAnswer(orbitError('protocol_violation', 'the streaming form takes the COPY data after the header line, not in "stdin"'));
      return await this.http(header, request.stdin);
    } finally {
      await request.discard();
    }
  }

  /**
   * Runs `{sql, params}` with default settings, taking the backend like a session does (so it never
   * runs inside another client's statement). Every statement runs; the answer is the last one's.
   * `stream`: the data of a COPY FROM STDIN, read as it arrives (the streaming form).
   */
  async http(body: unknown, stream?: AsyncIterable<Uint8Array>): Promise<HttpAnswer> {
    const session: BackendSession = { id: -++httpSessions, settingsKey: settingsKey(new Map()), settings: new Map(), deliverNotification: () => undefined };
    try {
      const req = body as { sql?: unknown; params?: unknown; stdin?: unknown };
      if (typeof req?.sql !== 'string') throw orbitError('protocol_violation', 'request body must be JSON of the form {"sql": "...", "params": [...]}');
      if (req.params !== undefined && !Array.isArray(req.params)) throw orbitError('protocol_violation', '"params" must be an array');
      const params = ((req.params as unknown[] | undefined) ?? []).map(paramText);
      await this.backend.acquire(session);
      try {
        if (req.stdin !== undefined && typeof req.stdin !== 'string') throw orbitError('protocol_violation', '"stdin" must be a string (the data of COPY ... FROM STDIN)');
        const results = await this.engine.execute(req.sql, params, stream ?? (req.stdin as string | undefined));
        await this.rowStore.sync();
        const last = results[results.length - 1];
        return last ? textResult(last, this.engine.settings.timeZone) : { command: '', fields: [], rows: [] };
      } finally {
        // HTTP requests are stateless: neither a SET nor an unfinished BEGIN outlives one.
        this.engine.settings.resetAll();
        this.engine.abortTransaction();
        this.backend.release(session);
      }
    } catch (err) {
      return errorAnswer(err);
    }
  }
}

/** An error as the HTTP endpoint answers it (with PostgreSQL's context, e.g. a COPY's line). */
function errorAnswer(err: unknown): HttpAnswer {
  const e = toOrbitError(err);
  return { error: { code: e.code, message: e.message, position: e.position, detail: e.detail, hint: e.hint, where: e.where } };
}

/** A shard object's engine: the same edge engine and kernels over the shard's own storage. */
export async function openShard(options: Pick<EdgeDatabaseOptions, 'storage' | 'codecsModule' | 'kernelsModule' | 'sealRows'>): Promise<EdgeShard> {
  const codecs = await WasmBackend.create(options.codecsModule);
  const aggregates = new KernelAggregates(await kernelBackend(options.kernelsModule));
  const engine = await EdgeEngine.open({ storage: options.storage, codecs, aggregates, sealRows: options.sealRows });
  return new EdgeShard(engine, async () => {
    await options.storage.sync?.();
  });
}

/** WASM kernels from the compiled module; ReferenceKernels (same results, in TypeScript) without one. */
async function kernelBackend(module: WebAssembly.Module | BufferSource | undefined): Promise<KernelBackend> {
  if (module === undefined) return new ReferenceKernels();
  try {
    return await WasmKernels.create(module);
  } catch {
    // An embedder that refuses the module (e.g. no WebAssembly) still gets correct answers, slower.
    return new ReferenceKernels();
  }
}

/** JSON parameters as PostgreSQL text input (their type comes from the statement, as with untyped wire parameters). */
function paramText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  throw orbitError('invalid_parameter_value', `parameter ${JSON.stringify(v)} must be a string, number, boolean or null`);
}
