/**
 * Edge profile, real runtime: Orbit's Worker with its Durable Objects in workerd (through wrangler's
 * `unstable_startWorker`, no network). Builds test/runtimes/workerd/fixture/worker.ts (the Worker plus a
 * storage-contract object) with worker/build.mjs and checks:
 * - the StorageAdapter contract on Durable Object SQLite;
 * - SQL over HTTP (`POST /sql`) and over WebSocket with `@neondatabase/serverless`;
 * - data surviving a restart of workerd (persisted state directory);
 * - SQLSTATE 0A000 for statements the edge does not support;
 * - the same answers as the Node engine (PGlite) for the same data and queries.
 */
import { neonConfig, Client as NeonClient } from '@neondatabase/serverless';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ws from 'ws';
import type { EdgeStats } from '../../../src/edge/database.js';
import { startBridge } from '../../../src/wire/bridge-node.js';
import { errorFields, msg, RawClient, types } from '../../support/raw-client.js';
import { STORAGE_CONTRACT } from '../../storage/contract-cases.js';
import { startTestServer, type TestServer } from '../../support/server.js';
import { pushChunkToEdge } from '../../../src/runtime/edge-push.js';
import { EDGE_QUERIES, edgeDataSql, EDGE_SCHEMA, STREAM_COPY, STREAM_HOURS, STREAM_QUERIES, STREAM_ROWS, STREAM_SCHEMA, streamCsv, streamInsert } from './edge-data.js';
import { STDIN_CONTENT_TYPE } from '../../../src/edge/http-body.js';

/** ORBIT_IMPORT_TOKEN in wrangler.edge.toml. */
const IMPORT_TOKEN = 'edge-test-import-token';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const outDir = join(root, 'test-results', 'workerd-edge');
const config = join(root, 'test', 'runtimes', 'workerd', 'wrangler.edge.toml');

Object.assign(process.env, {
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  WRANGLER_HIDE_BANNER: 'true',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
});

type Worker = Awaited<ReturnType<typeof import('wrangler').unstable_startWorker>>;
let worker: Worker | undefined;
let base: URL;
const persistDir = mkdtempSync(join(tmpdir(), 'orbit-edge-state-'));

interface Answer {
  command?: string;
  fields?: Array<{ name: string; dataTypeID: number }>;
  rows?: Array<Array<string | null>>;
  error?: { code: string; message: string };
}

/** `promise`, or an error naming `what` after `ms`: a stuck step fails the test where it is stuck. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts workerd on the persisted state. A start that never gets ready (seen once in many runs on a
 * loaded machine, inside wrangler) is disposed of and tried once more, so it cannot hang the file;
 * Orbit's own state is the same either way (nothing reached it).
 */
async function start(): Promise<void> {
  const { unstable_startWorker } = await import('wrangler');
  for (let attempt = 1; ; attempt++) {
    const started = await unstable_startWorker({
      config,
      sendMetrics: false,
      // The inspector: the memory test reads the isolate's heap through it.
      dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: { port: 0 }, watch: false, persist: persistDir, logLevel: 'warn' },
    });
    try {
      await within(started.ready, 120_000, 'workerd start');
      base = await within(started.url, 10_000, 'workerd url');
      worker = started;
      return;
    } catch (error) {
      await within(started.dispose(), 30_000, 'workerd dispose').catch(() => undefined);
      if (attempt === 2) throw error;
      console.warn(`[workerd-edge] ${(error as Error).message}; starting again`);
    }
  }
}

async function stop(): Promise<void> {
  const running = worker;
  worker = undefined;
  if (running) await within(running.dispose(), 60_000, 'workerd dispose');
}

/** The isolate's V8 heap (used, reserved) through the inspector's Runtime.getHeapUsage. */
async function heapUsage(): Promise<{ usedSize: number; totalSize: number }> {
  const url = String(await worker!.inspectorUrl).replace(/^http/, 'ws').replace(/\/?$/, '/ws');
  const socket = new ws(url);
  try {
    await within(new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject)), 30_000, 'inspector connection');
    const answer = new Promise<{ usedSize: number; totalSize: number }>((resolve, reject) => {
      socket.on('message', (d) => {
        const m = JSON.parse(String(d)) as { id?: number; result?: { usedSize: number; totalSize: number }; error?: { message: string } };
        if (m.id !== 1) return;
        if (m.result) resolve(m.result);
        else reject(new Error(`Runtime.getHeapUsage: ${m.error?.message ?? 'no result'}`));
      });
      socket.once('close', () => reject(new Error('inspector closed before answering')));
    });
    socket.send(JSON.stringify({ id: 1, method: 'Runtime.getHeapUsage' }));
    return await within(answer, 30_000, 'Runtime.getHeapUsage');
  } finally {
    socket.close();
  }
}

const MiB = 1 << 20;

/**
 * Records the isolate's heap and the parser's WASM memory after `name` in `figures` and checks them
 * against the memory budget (reasoned in the first memory test below).
 */
async function expectWithinBudget(name: string, db: string, figures: string[]): Promise<void> {
  const heap = await heapUsage();
  const stats = (await (await fetch(new URL(`/stats?db=${db}`, base))).json()) as EdgeStats;
  figures.push(`${name}: heap ${(heap.usedSize / MiB).toFixed(1)} MiB used, ${(heap.totalSize / MiB).toFixed(1)} MiB reserved; parser ${(stats.parserMemoryBytes! / MiB).toFixed(1)} MiB`);
  expect(stats.parserMemoryBytes, name).toBeLessThanOrEqual(36 * MiB);
  expect(heap.usedSize, name).toBeLessThan(56 * MiB);
  expect(heap.totalSize, name).toBeLessThan(78 * MiB);
}

/** @neondatabase/serverless's Client, over plain WebSocket to this Worker's database `db`. */
function neonClient(db: string): NeonClient {
  neonConfig.webSocketConstructor = ws;
  neonConfig.wsProxy = () => `${base.host}/v2?db=${db}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
  return new NeonClient({ connectionString: 'postgres://postgres:x@orbit.local/postgres', ssl: false });
}

async function sql(text: string, params: unknown[] = [], db = 'test', stdin?: string): Promise<Answer & { status: number }> {
  const res = await fetch(new URL(`/sql?db=${db}`, base), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql: text, params, stdin }) });
  return { status: res.status, ...((await res.json()) as Answer) };
}

async function ok(text: string, params: unknown[] = [], db = 'test', stdin?: string): Promise<Answer> {
  const a = await sql(text, params, db, stdin);
  if (a.error) throw new Error(`${text.slice(0, 200)}: ${a.error.code} ${a.error.message}`);
  return a;
}

/** `COPY … FROM STDIN` in POST /sql's streaming form: a JSON header line, then `data` in 64 KiB chunks. */
async function copyOverHttp(db: string, copySql: string, data: Uint8Array): Promise<Answer & { status: number }> {
  const header = new TextEncoder().encode(JSON.stringify({ sql: copySql }) + '\n');
  let at = -1;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (at < 0) c.enqueue(header);
      else if (at < data.length) c.enqueue(data.subarray(at, at + (64 << 10)));
      else c.close();
      at = at < 0 ? 0 : at + (64 << 10);
    },
  });
  const res = await fetch(new URL(`/sql?db=${db}`, base), { method: 'POST', headers: { 'content-type': STDIN_CONTENT_TYPE }, body, duplex: 'half' } as RequestInit);
  return { status: res.status, ...((await res.json()) as Answer) };
}

/** `COPY … FROM STDIN` from postgres.js, in CopyData messages of 64 KiB cut wherever they fall. */
async function copyOverWire(pgjs: postgres.Sql, copySql: string, data: Uint8Array): Promise<void> {
  const stream = await pgjs.unsafe(copySql).writable();
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('finish', resolve);
    for (let at = 0; at < data.length; at += 64 << 10) stream.write(data.subarray(at, at + (64 << 10)));
    stream.end();
  });
}

describe('workerd: edge profile', () => {
  beforeAll(async () => {
    const t = performance.now();
    await run(process.execPath, ['worker/build.mjs', '--entry', 'test/runtimes/workerd/fixture/worker.ts', '--outdir', outDir], { cwd: root });
    await start();
    console.log(`[workerd-edge] build + start ${(performance.now() - t).toFixed(0)} ms on ${base.host}`);
  }, 120_000);

  afterAll(async () => {
    await stop();
    rmSync(persistDir, { recursive: true, force: true });
  }, 30_000);

  it('passes the storage contract on Durable Object SQLite', async () => {
    for (const [i, c] of STORAGE_CONTRACT.entries()) {
      const res = await fetch(new URL(`/contract?store=contract-${i}&case=${i}`, base));
      expect(`${c.name}: ${await res.text()}`).toBe(`${c.name}: ok`);
    }
  }, 60_000);

  it('runs the time-series statements over HTTP', async () => {
    await ok(EDGE_SCHEMA.join(';\n'));
    const ins = await ok("INSERT INTO cpu VALUES ('2024-01-01 00:00:00+00', 'host_a', 1.5, 1), ($1, $2, $3, $4)", ['2024-01-01 01:00:00+00', 'host_b', 2.25, 2]);
    expect(ins.command).toBe('INSERT 0 2');
    const r = await ok("SELECT time_bucket('1 day', time) AS day, count(*), sum(n), avg(usage) FROM cpu GROUP BY day ORDER BY day");
    expect(r.fields).toEqual([
      { name: 'day', dataTypeID: 1184 },
      { name: 'count', dataTypeID: 20 },
      { name: 'sum', dataTypeID: 20 },
      { name: 'avg', dataTypeID: 701 },
    ]);
    expect(r.rows).toEqual([['2024-01-01 00:00:00+00', '2', '3', '1.875']]);
    expect(await ok('SELECT 1 + 1 AS two')).toMatchObject({ command: 'SELECT 1', fields: [{ name: 'two', dataTypeID: 23 }], rows: [['2']] });
    const e = await sql('SELECT nope FROM cpu');
    expect(e.status).toBe(400);
    expect(e.error?.code).toBe('42703');
  }, 60_000);

  it('answers unsupported statements with SQLSTATE 0A000 naming them', async () => {
    const cases: Array<[string, RegExp]> = [
      ['UPDATE cpu SET n = 0', /^UPDATE is not supported at the edge$/],
      ['DELETE FROM cpu', /^DELETE is not supported at the edge$/],
      ['SELECT * FROM cpu a JOIN cpu b ON a.time = b.time', /joins is not supported at the edge/],
      ['CREATE VIEW v AS SELECT 1', /^CREATE VIEW is not supported at the edge$/],
      ['BEGIN; CREATE TABLE t2 (time timestamptz); COMMIT', /^CREATE TABLE inside a transaction block is not supported at the edge$/],
      ['PREPARE TRANSACTION \'x\'', /^PREPARE is not supported at the edge$/],
      ['SELECT count(*) FROM cpu UNION SELECT 1', /UNION is not supported at the edge/],
      ['SELECT lower(host) FROM cpu', /^function lower\(\) is not supported at the edge$/],
    ];
    await ok(EDGE_SCHEMA.join(';\n'), [], 'unsupported');
    for (const [text, message] of cases) {
      const a = await sql(text, [], 'unsupported');
      expect(a.status, text).toBe(501);
      expect(a.error?.code, text).toBe('0A000');
      expect(a.error?.message, text).toMatch(message);
    }
  }, 60_000);

  it('serves PostgreSQL over WebSocket to @neondatabase/serverless', async () => {
    await ok([...EDGE_SCHEMA, "INSERT INTO cpu VALUES ('2024-01-01 00:00:00+00', 'host_a', 1.5, 1), ('2024-01-01 01:00:00+00', 'host_b', 2.25, 2)"].join(';\n'), [], 'ws');
    const client = neonClient('ws');
    await client.connect();
    try {
      const r = await client.query("SELECT host, n, usage, time FROM cpu WHERE time >= $1 ORDER BY time", ['2024-01-01 00:30:00+00']);
      expect(r.rows).toEqual([{ host: 'host_b', n: 2, usage: 2.25, time: new Date('2024-01-01T01:00:00Z') }]);
      await client.query("SET TimeZone = 'Asia/Kolkata'");
      const tz = await client.query({ text: 'SELECT time FROM cpu ORDER BY time LIMIT 1', rowMode: 'array', types: { getTypeParser: () => (v: string) => v } });
      expect(tz.rows).toEqual([['2024-01-01 05:30:00+05:30']]);
      await expect(client.query('UPDATE cpu SET n = 1')).rejects.toMatchObject({ code: '0A000' });
      const after = await client.query('SELECT count(*)::int AS n FROM cpu');
      expect(after.rows).toEqual([{ n: 2 }]);
      // now()-relative bounds go through the session layer's stable-bounds probe, answered by the edge engine.
      const recent = await client.query("SELECT count(*)::int AS n FROM cpu WHERE time > now() - INTERVAL '1 day'");
      expect(recent.rows).toEqual([{ n: 0 }]);
      const since = await client.query("SELECT count(*)::int AS n FROM cpu WHERE time > now() - INTERVAL '100 years'");
      expect(since.rows).toEqual([{ n: 2 }]);
    } finally {
      await client.end();
    }
  }, 60_000);

  it('takes COPY over HTTP (stdin) and, through orbit bridge, transaction blocks and COPY from postgres.js', async () => {
    await ok(EDGE_SCHEMA.join(';\n'), [], 'copy');
    const res = await fetch(new URL('/sql?db=copy', base), {
      method: 'POST',
      body: JSON.stringify({ sql: 'COPY cpu (time, host, usage, n) FROM STDIN (FORMAT csv, HEADER true)', stdin: 'time,host,usage,n\n2024-01-01 00:00:00+00,"host, a",1.5,1\n2024-01-01 00:10:00+00,host_b,,2\n' }),
    });
    expect(await res.json()).toEqual({ command: 'COPY 2', fields: [], rows: [] });

    const bridge = await startBridge(`ws://${base.host}/?db=copy`, '127.0.0.1', 0);
    const pgjs = postgres({ host: '127.0.0.1', port: bridge.port, user: 'postgres', database: 'postgres', max: 1, fetch_types: false });
    try {
      // A rolled-back block leaves nothing; a committed one writes every staged row at once.
      await pgjs`BEGIN`;
      await pgjs`INSERT INTO cpu VALUES ('2024-01-01 00:20:00+00', 'host_c', 3, 3)`;
      await expect(pgjs`SELECT count(*) FROM cpu`).rejects.toMatchObject({ code: '0A000' });
      await pgjs`ROLLBACK`;
      await pgjs.begin(async (tx) => {
        await tx`INSERT INTO cpu VALUES ('2024-01-01 00:30:00+00', 'host_c', 4, 4)`;
        await tx`INSERT INTO cpu VALUES (${'2024-01-01 00:40:00+00'}, ${'host_c'}, ${4.5}, ${5})`;
      });
      const stream = await pgjs`COPY cpu FROM STDIN`.writable();
      await new Promise<void>((resolve, reject) => {
        stream.on('error', reject);
        stream.on('finish', resolve);
        stream.write('2024-01-01 00:50:00+00\thost_d\t5.25\t6\n');
        stream.end('2024-01-01 01:00:00+00\thost_d\t\\N\t7\n');
      });
      const rows = await pgjs`SELECT host, count(*)::int AS n, sum(n)::int AS s FROM cpu GROUP BY host ORDER BY host`;
      expect(rows.map((r) => ({ ...r }))).toEqual([
        { host: 'host, a', n: 1, s: 1 },
        { host: 'host_b', n: 1, s: 2 },
        { host: 'host_c', n: 2, s: 9 },
        { host: 'host_d', n: 2, s: 13 },
      ]);
    } finally {
      await pgjs.end();
      await bridge.close();
    }
  }, 60_000);

  it('keeps acknowledged rows and sealed batches across a workerd restart', async () => {
    await ok([...EDGE_SCHEMA, ...edgeDataSql(2, 1500)].join(';\n'), [], 'restart');
    const before = await ok('SELECT count(*), sum(n), max(usage) FROM cpu', [], 'restart');
    // Both kinds of acknowledged rows must survive: sealed into batches, and still in the write buffer.
    const stats = (await (await fetch(new URL('/stats?db=restart', base))).json()) as EdgeStats;
    const chunks = stats.hypertables[0]!.chunks;
    const sealed = chunks.reduce((n, c) => n + c.batchRows, 0);
    const buffered = chunks.reduce((n, c) => n + c.bufferedRows, 0);
    expect(sealed).toBeGreaterThan(0);
    expect(buffered).toBeGreaterThan(0);
    expect(sealed + buffered).toBe(3000);
    console.log(`[workerd-edge] restart: ${sealed} rows in batches, ${buffered} buffered, ${chunks.length} chunks; codecs wasm ${stats.codecsMemoryBytes} B, batch cache ${stats.cache.bytes} B`);
    await stop();
    await start();
    const after = await ok('SELECT count(*), sum(n), max(usage) FROM cpu', [], 'restart');
    expect(after.rows).toEqual(before.rows);
    expect(after.rows![0]![0]).toBe('3000');
  }, 120_000);

  it('runs a retention policy from the Durable Object alarm', async () => {
    await ok([...EDGE_SCHEMA, ...edgeDataSql(2, 400)].join(';\n'), [], 'retention');
    expect((await ok('SELECT count(*) FROM cpu', [], 'retention')).rows).toEqual([['800']]);
    // The rows are from 2024: every chunk ends more than 30 days ago, so the first run drops them all.
    const add = await ok("SELECT add_retention_policy('cpu', drop_after => INTERVAL '30 days')", [], 'retention');
    expect(add.fields).toEqual([{ name: 'add_retention_policy', dataTypeID: 23 }]);
    expect(add.rows).toEqual([['1000']]);
    let count = '800';
    for (let i = 0; i < 100 && count !== '0'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      count = (await ok('SELECT count(*) FROM cpu', [], 'retention')).rows![0]![0]!;
    }
    expect(count).toBe('0');
    expect((await ok("SELECT show_chunks('cpu')", [], 'retention')).rows).toEqual([]);
    expect((await sql("SELECT add_retention_policy('cpu', INTERVAL '30 days')", [], 'retention')).error?.code).toBe('42710');
    expect((await ok("SELECT add_retention_policy('cpu', INTERVAL '30 days', if_not_exists => true)", [], 'retention')).rows).toEqual([['-1']]);
    await ok("SELECT remove_retention_policy('cpu')", [], 'retention');
    expect((await sql("SELECT remove_retention_policy('cpu')", [], 'retention')).error?.code).toBe('42704');
  }, 60_000);

  it('refuses a row-path scan past its 250,000-value budget with 54000, and runs it over a narrower range', async () => {
    await ok(EDGE_SCHEMA.join(';\n'), [], 'budget');
    const start = Date.UTC(2024, 0, 1);
    const lines = Array.from({ length: 63_000 }, (_, i) => `${new Date(start + i * 1000).toISOString()},host_${i % 10},${(i % 400) / 4},${i % 100}`);
    const res = await fetch(new URL('/sql?db=budget', base), { method: 'POST', body: JSON.stringify({ sql: 'COPY cpu FROM STDIN (FORMAT csv)', stdin: lines.join('\n') + '\n' }) });
    expect(await res.json()).toMatchObject({ command: 'COPY 63000' });
    // 63,000 rows × 4 columns read: more than one object holds as JS values.
    const all = await sql('SELECT time, host, usage, n FROM cpu ORDER BY n DESC, time LIMIT 1', [], 'budget');
    expect(all.error?.code).toBe('54000');
    const some = await ok("SELECT time, host, usage, n FROM cpu WHERE time < '2024-01-01 08:00:00+00' ORDER BY n DESC, time LIMIT 1", [], 'budget');
    expect(some.rows).toEqual([['2024-01-01 00:01:39+00', 'host_9', '24.75', '99']]);
  }, 120_000);

  it('keeps a large INSERT and COPY well inside the isolate memory limit', async () => {
    // Budget: 128 MB = 122 MiB per isolate. Besides the V8 heap the object holds the parser's WASM
    // memory (34 MiB at start, docs/runtimes/workers.md "Memory"), codecs and kernels (~2 MiB) and the
    // 8 MiB batch cache: 44 MiB. So the heap V8 reserves must stay under 78 MiB (used heap, which
    // includes garbage not yet collected, under 56), and the parser must not grow (it never shrinks):
    // large statements are parsed a piece at a time (src/sql/split.ts).
    const db = 'memory';
    await ok('CREATE TABLE cpu (time timestamptz NOT NULL, hostname text, region text, usage_user double precision, usage_system double precision, usage_idle double precision, usage_nice double precision, usage_iowait double precision, usage_irq double precision, n integer)', [], db);
    await ok("SELECT create_hypertable('cpu', by_range('time', INTERVAL '1 hour'))", [], db);
    const start = Date.UTC(2024, 0, 1);
    const fields = (i: number): string[] => [
      new Date(start + Math.floor(i / 100) * 10_000).toISOString(),
      `host_${i % 100}`,
      `region_${i % 5}`,
      ...Array.from({ length: 6 }, (_, k) => ((i * 31 + k * 17) % 10_000 / 100).toFixed(2)),
      String(i % 1000),
    ];
    const insert = (from: number, n: number) =>
      `INSERT INTO cpu VALUES ${Array.from({ length: n }, (_, k) => {
        const f = fields(from + k);
        return `('${f[0]}', '${f[1]}', '${f[2]}', ${f.slice(3).join(', ')})`;
      }).join(', ')}`;
    const figures: string[] = [];
    const step = async (name: string, run: () => Promise<unknown>) => {
      await run();
      await expectWithinBudget(name, db, figures);
    };
    await step('INSERT of 1,000 rows', () => ok(insert(0, 1000), [], db));
    await step('INSERT of 10,000 rows', () => ok(insert(1000, 10_000), [], db));
    const csv = Array.from({ length: 20_000 }, (_, k) => fields(11_000 + k).join(',')).join('\n') + '\n';
    await step(`COPY of 20,000 rows (${(csv.length / MiB).toFixed(1)} MiB)`, () => ok('COPY cpu FROM STDIN (FORMAT csv)', [], db, csv));
    console.log(`[workerd-edge] memory: ${figures.join('; ')}`);
    // A bad value in the last group of a split INSERT fails the whole statement: nothing is written.
    const bad = await sql(insert(40_000, 5000).replace(/, (\d+)\)$/, ", 'x')"), [], db);
    expect(bad.error).toMatchObject({ code: '22P02', message: 'invalid input syntax for type integer: "x"' });
    expect((await ok('SELECT count(*), sum(n) FROM cpu', [], db)).rows).toEqual([['31000', String(Array.from({ length: 31_000 }, (_, i) => i % 1000).reduce((a, b) => a + b, 0))]]);
  }, 180_000);

  it('streams 150,000-row COPYs over HTTP and over WebSocket, and a large query text over WebSocket, inside the memory budget', async () => {
    // The budget of the test above (same reasoning: 128 MB = 122 MiB per isolate, of which the
    // parser's 34 MiB, codecs and kernels ~2 MiB and the 8 MiB batch cache leave the heap 78 MiB
    // reserved, 56 MiB used), checked after each transfer. The reserved heap is a high-water mark
    // (it keeps the transfer's peak), so each transfer starts in a fresh isolate: earlier ones (and
    // earlier tests) do not count. Streamed, a COPY's memory does not grow with its size; gathered
    // whole (every row held until its end, as before), 50,000 such rows took 62 MiB reserved in a
    // fresh isolate (98 MiB after other work), so the streamed COPYs here are three times that.
    const figures: string[] = [];
    const measured = async (name: string, db: string, transfer: () => Promise<void>) => {
      await stop();
      await start();
      await within(transfer(), 150_000, name);
      await expectWithinBudget(name, db, figures);
    };
    const csv = new TextEncoder().encode(streamCsv(0, STREAM_ROWS));
    const small = 50_000;
    const count = async (db: string) => (await ok('SELECT count(*) FROM metrics', [], db)).rows;
    for (const db of ['stream-http', 'stream-json', 'stream-ws', 'stream-text', 'stream-block']) await ok(STREAM_SCHEMA.join(';\n'), [], db);

    // HTTP, streaming form: the JSON header line, then the data (sent in 64 KiB chunks).
    await measured(`HTTP COPY of ${STREAM_ROWS} rows (${(csv.length / MiB).toFixed(1)} MiB)`, 'stream-http', async () => {
      expect(await copyOverHttp('stream-http', STREAM_COPY, csv)).toEqual({ status: 200, command: `COPY ${STREAM_ROWS}`, fields: [], rows: [] });
    });
    // The JSON form holds its body, but no longer the rows: they are staged a piece at a time too.
    await measured(`HTTP COPY of ${small} rows in the JSON form`, 'stream-json', async () => {
      expect(await ok(STREAM_COPY, [], 'stream-json', streamCsv(0, small))).toMatchObject({ command: `COPY ${small}` });
    });
    // The acknowledged COPY survived the restart before this one.
    expect(await count('stream-http')).toEqual([[String(STREAM_ROWS)]]);

    // WebSocket: postgres.js through orbit bridge, CopyData of 64 KiB cut anywhere in a row.
    await measured(`WebSocket COPY of ${STREAM_ROWS} rows`, 'stream-ws', async () => {
      const bridge = await startBridge(`ws://${base.host}/?db=stream-ws`, '127.0.0.1', 0);
      const pgjs = postgres({ host: '127.0.0.1', port: bridge.port, user: 'postgres', database: 'postgres', max: 1, fetch_types: false });
      try {
        await copyOverWire(pgjs, STREAM_COPY, csv);
        expect((await pgjs`SELECT count(*)::int AS n FROM metrics`)[0]).toEqual({ n: STREAM_ROWS });
      } finally {
        await pgjs.end();
        await bridge.close();
      }
    });

    // A bad value near the end fails the whole COPY with PostgreSQL's error and line, leaving nothing
    // (its rows would have made new chunks); so does CopyFail. Raw protocol: postgres.js's writable
    // never reports an error that arrives after its CopyDone.
    const later = new TextEncoder().encode(streamCsv(STREAM_ROWS, 20_000).replace(/,(\d+)\n((?:[^\n]*\n){9})$/, ',x\n$2'));
    const bridge = await startBridge(`ws://${base.host}/?db=stream-ws`, '127.0.0.1', 0);
    const raw = await RawClient.ready(bridge.port);
    try {
      raw.send(msg('Q', (w) => w.cstring(STREAM_COPY)));
      expect((await raw.next())?.type).toBe('G');
      for (let at = 0; at < later.length; at += 64 << 10) raw.send(msg('d', (w) => w.bytes(later.subarray(at, at + (64 << 10)))));
      raw.send(msg('c'));
      const answer = await raw.until('Z');
      expect(types(answer)).toBe('EZ');
      expect(errorFields(answer[0]!)).toMatchObject({ C: '22P02', M: 'invalid input syntax for type integer: "x"', W: 'COPY metrics, line 19991, column n: "x"' });
      raw.send(msg('Q', (w) => w.cstring(STREAM_COPY)));
      expect((await raw.next())?.type).toBe('G');
      raw.send(msg('d', (w) => w.bytes(later.subarray(0, 100_000))));
      raw.send(msg('f', (w) => w.cstring('client gave up')));
      expect(errorFields((await raw.until('Z'))[0]!)).toMatchObject({ C: '57014', M: 'COPY from stdin failed: client gave up' });
      // A client lost in the middle of a COPY: the COPY is cancelled and the object serves the
      // requests below (they would wait forever if the lost session kept the backend).
      raw.send(msg('Q', (w) => w.cstring(STREAM_COPY)));
      expect((await raw.next())?.type).toBe('G');
      raw.send(msg('d', (w) => w.bytes(later.subarray(0, 100_000))));
    } finally {
      raw.close();
      await bridge.close();
    }
    // Inside a transaction block a COPY's rows wait for COMMIT, like the block's INSERTs.
    const blockBridge = await startBridge(`ws://${base.host}/?db=stream-block`, '127.0.0.1', 0);
    const block = await RawClient.ready(blockBridge.port);
    try {
      const rows = new TextEncoder().encode(streamCsv(0, 3000));
      for (const end of ['ROLLBACK', 'COMMIT']) {
        block.send(msg('Q', (w) => w.cstring('BEGIN')));
        await block.until('Z');
        block.send(msg('Q', (w) => w.cstring(STREAM_COPY)));
        expect((await block.next())?.type).toBe('G');
        block.send(msg('d', (w) => w.bytes(rows)));
        block.send(msg('c'));
        const done = await block.until('Z');
        expect(types(done)).toBe('CZ');
        expect(done[1]!.body[0]).toBe('T'.charCodeAt(0));
        block.send(msg('Q', (w) => w.cstring(end)));
        await block.until('Z');
        expect(await count('stream-block')).toEqual([[end === 'COMMIT' ? '3000' : '0']]);
      }
    } finally {
      block.send(msg('X'));
      block.close();
      await blockBridge.close();
    }

    // The same bad row over HTTP: the error with its line.
    expect(await copyOverHttp('stream-http', STREAM_COPY, later)).toMatchObject({
      status: 400,
      error: { code: '22P02', message: 'invalid input syntax for type integer: "x"', where: 'COPY metrics, line 19991, column n: "x"' },
    });
    for (const db of ['stream-ws', 'stream-http']) {
      expect(await count(db)).toEqual([[String(STREAM_ROWS)]]);
      expect((await ok(`SELECT count(*) FROM metrics WHERE time >= '${new Date(Date.UTC(2024, 0, 1) + STREAM_ROWS * 3000).toISOString()}'`, [], db)).rows).toEqual([['0']]);
      expect((await ok("SELECT show_chunks('metrics')", [], db)).rows!.length).toBe(STREAM_HOURS);
    }

    // A large multi-statement text over WebSocket (simple query): parsed a piece at a time at the edge.
    await measured('WebSocket text of 2 INSERTs × 10,000 rows', 'stream-text', async () => {
      const client = neonClient('stream-text');
      await client.connect();
      try {
        const text = [streamInsert(0, 10_000), streamInsert(10_000, 10_000), "SET TimeZone = 'Asia/Kolkata'", 'SELECT count(*)::int AS n FROM metrics'].join(';\n');
        const r = (await client.query(text)) as unknown as Array<{ rows: unknown[] }>;
        expect(r[3]!.rows).toEqual([{ n: 20_000 }]);
        // The SET inside the unparsed text still reaches the session's settings.
        expect((await client.query('SHOW TimeZone')).rows).toEqual([{ TimeZone: 'Asia/Kolkata' }]);
      } finally {
        await client.end();
      }
    });
    console.log(`[workerd-edge] streaming memory: ${figures.join('; ')}`);
    // Every acknowledged COPY survived the restarts.
    for (const db of ['stream-http', 'stream-ws']) expect(await count(db)).toEqual([[String(STREAM_ROWS)]]);
    expect(await count('stream-json')).toEqual([[String(small)]]);
  }, 300_000);

  describe('same answers as the Node engine', () => {
    let node: TestServer;
    let client: pg.Client;
    beforeAll(async () => {
      node = await startTestServer();
      client = new pg.Client({ connectionString: node.url, types: { getTypeParser: () => (v: string) => v } });
      await client.connect();
    }, 120_000);
    afterAll(async () => {
      await client?.end();
      await node?.close();
    });

    async function inNode(text: string): Promise<Answer> {
      try {
        const r = await client.query({ text, rowMode: 'array' });
        const last = Array.isArray(r) ? r[r.length - 1] : r;
        return { fields: last.fields.map((f: { name: string; dataTypeID: number }) => ({ name: f.name, dataTypeID: f.dataTypeID })), rows: last.rows };
      } catch (err) {
        return { error: { code: (err as { code: string }).code, message: '' } };
      } finally {
        // Each HTTP request starts from default settings; so does each query here.
        await client.query('RESET ALL');
      }
    }

    /** Runs `queries` in Node and at the edge database `db`, expecting equal answers; returns how many. */
    async function expectLikeNode(db: string, queries: readonly string[]): Promise<number> {
      for (const q of queries) {
        const expected = await inNode(q);
        const edge = await sql(q, [], db);
        const got: Answer = edge.error ? { error: { code: edge.error.code, message: '' } } : { fields: edge.fields, rows: edge.rows };
        expect(got, q).toEqual(expected);
      }
      return queries.length;
    }

    it('on the same data and queries', async () => {
      const setup = ['CREATE EXTENSION IF NOT EXISTS timescaledb', ...EDGE_SCHEMA, ...edgeDataSql(3, 1500)];
      for (const s of setup) {
        await client.query(s);
        await ok(s, [], 'differential');
      }
      const compared = await expectLikeNode('differential', EDGE_QUERIES);
      console.log(`[workerd-edge] ${compared} queries answered alike by the edge and Node engines`);
      // The aggregates above ran in the WASM kernels over sealed batches, not over decoded rows.
      const stats = (await (await fetch(new URL('/stats?db=differential', base))).json()) as EdgeStats;
      expect(stats.kernels?.backend).toBe('wasm');
      expect(stats.kernels!.queries).toBeGreaterThan(5);
      expect(stats.kernels!.batchesDecoded).toBeGreaterThan(0);
      expect(stats.kernels!.bufferedRows).toBeGreaterThan(0);
      console.log(`[workerd-edge] kernels: ${JSON.stringify(stats.kernels)}`);
    }, 300_000);

    it('on a 150,000-row COPY streamed to the edge', async () => {
      // The edge side was loaded over HTTP's streaming form by the streaming test above.
      const pgjs = postgres(node.url, { max: 1, fetch_types: false });
      try {
        for (const s of ['CREATE EXTENSION IF NOT EXISTS timescaledb', ...STREAM_SCHEMA]) await pgjs.unsafe(s);
        await copyOverWire(pgjs, STREAM_COPY, new TextEncoder().encode(streamCsv(0, STREAM_ROWS)));
      } finally {
        await pgjs.end();
      }
      for (const q of STREAM_QUERIES) {
        const edge = await sql(q, [], 'stream-http');
        expect(edge.error ? { error: { code: edge.error.code, message: '' } } : { fields: edge.fields, rows: edge.rows }, q).toEqual(await inNode(q));
      }
      // The same chunks, created in the same order (ids count from each engine's earlier chunks).
      const order = (rows: Answer['rows']) => {
        const ids = rows!.map((r) => Number(/_(\d+)_chunk$/.exec(r[0]!)![1]));
        return ids.map((id) => id - ids[0]!);
      };
      const chunks = order((await inNode("SELECT show_chunks('metrics')")).rows);
      expect(chunks.length).toBe(STREAM_HOURS);
      expect(order((await ok("SELECT show_chunks('metrics')", [], 'stream-http')).rows)).toEqual(chunks);
    }, 120_000);

    it('spreads a hypertable over four shard objects, answers as Node does, and loses nothing when a shard restarts', async () => {
      const db = 'sharded';
      const data = edgeDataSql(3, 1500);
      // Node holds one copy of the same rows (the previous case dropped some of its chunks).
      await client.query('DROP TABLE IF EXISTS cpu');
      for (const s of [...EDGE_SCHEMA, ...data]) await client.query(s);
      await ok(EDGE_SCHEMA.join(';\n'), [], db);
      await ok("SELECT set_chunk_time_interval('cpu', INTERVAL '1 day'); ALTER TABLE cpu SET (orbit.shards = 4)", [], db);
      const half = Math.floor(data.length / 2);
      await ok(data.slice(0, half).join(';\n'), [], db);

      const shardsOf = async () => {
        const stats = (await (await fetch(new URL(`/stats?db=${db}`, base))).json()) as EdgeStats;
        const chunks = stats.hypertables[0]!.chunks;
        expect(chunks.every((c) => c.shard !== undefined && c.batchRows === 0 && c.bufferedRows === 0)).toBe(true);
        return { chunks: chunks.length, shards: [...new Set(chunks.map((c) => c.shard!))].sort() };
      };
      const placed = await shardsOf();
      expect(placed.shards.length).toBe(4);

      // Restart one shard holding acknowledged rows: nothing acknowledged is lost, and writes go on.
      const before = await ok('SELECT count(*), sum(n), max(usage) FROM cpu', [], db);
      const reset = await (await fetch(new URL(`/shard-restart?key=${encodeURIComponent(placed.shards[1]!)}`, base))).text();
      expect(reset).toMatch(/shard restart/);
      expect((await ok('SELECT count(*), sum(n), max(usage) FROM cpu', [], db)).rows).toEqual(before.rows);
      await ok(data.slice(half).join(';\n'), [], db);
      const all = await shardsOf();
      expect(all.chunks).toBeGreaterThanOrEqual(10);
      console.log(`[workerd-edge] sharded: ${all.chunks} chunks over ${all.shards.length} shard objects`);

      const compared = await expectLikeNode(db, EDGE_QUERIES.filter((x) => !/show_chunks|drop_chunks/.test(x)));
      console.log(`[workerd-edge] ${compared} queries answered alike by four shard objects and Node`);

      // compress_chunk seals a chunk in the shard object holding it; the answers stay the same.
      const chunkNames = (await ok("SELECT show_chunks('cpu')", [], db)).rows!.map((r) => r[0]!);
      for (const c of chunkNames.slice(0, 3)) expect((await ok(`SELECT compress_chunk('${c}')`, [], db)).rows).toEqual([[c]]);
      // drop_chunks reaches the shards: the rows of the dropped chunks are gone from every answer.
      const cut = "'2024-01-04 00:00:00+00'::timestamptz";
      const dropped = await ok(`SELECT drop_chunks('cpu', older_than => ${cut})`, [], db);
      expect(dropped.rows!.length).toBe(3);
      await client.query(`SELECT drop_chunks('cpu', older_than => ${cut})`);
      expect((await ok("SELECT show_chunks('cpu')", [], db)).rows!.length).toBe(chunkNames.length - 3);
      for (const q of EDGE_QUERIES.filter((x) => !/show_chunks|drop_chunks/.test(x))) {
        const expected = await inNode(q);
        const edge = await sql(q, [], db);
        expect(edge.error ? { error: { code: edge.error.code, message: '' } } : { fields: edge.fields, rows: edge.rows }, q).toEqual(expected);
      }
      // A retention policy on the sharded hypertable drops the rest through the Durable Object alarm.
      await ok("SELECT add_retention_policy('cpu', drop_after => INTERVAL '30 days')", [], db);
      let left = '';
      for (let i = 0; i < 100 && left !== '0'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = (await ok('SELECT count(*) FROM cpu', [], db)).rows![0]![0]!;
      }
      expect(left).toBe('0');
      expect((await ok("SELECT show_chunks('cpu')", [], db)).rows).toEqual([]);
      // DROP TABLE empties the shards too: a new table of the same name starts from nothing.
      await ok(data.slice(0, 2).join(';\n'), [], db);
      await ok('DROP TABLE cpu', [], db);
      await ok(EDGE_SCHEMA.join(';\n'), [], db);
      await ok("SELECT set_chunk_time_interval('cpu', INTERVAL '1 day'); ALTER TABLE cpu SET (orbit.shards = 4)", [], db);
      await ok("INSERT INTO cpu VALUES ('2024-01-01 00:00:00+00', 'host_0', 1, 1)", [], db);
      expect((await ok('SELECT count(*), sum(n) FROM cpu', [], db)).rows).toEqual([['1', '1']]);
    }, 300_000);

    it('imports chunks a Node Orbit wrote by direct COPY twice (manifest format 2), and answers as Node does', async () => {
      const db = 'cold2';
      await client.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
      await client.query('DROP TABLE IF EXISTS cpu');
      for (const s of EDGE_SCHEMA) await client.query(s);
      // The same rows as edgeDataSql(3, 1500), as COPY text lines; two COPYs interleave in every chunk.
      const lines = edgeDataSql(3, 1500)
        .flatMap((stmt) => stmt.slice(stmt.indexOf('VALUES ') + 7).slice(1, -1).split('), ('))
        .map((row) => row.split(', ').map((v) => (v === 'NULL' ? '\\N' : v.replace(/^'|'$/g, ''))).join('\t'));
      expect(lines.length).toBe(4500);
      const pgjs = postgres(node.url, { max: 1, fetch_types: false });
      try {
        await pgjs`SET timescaledb.enable_direct_compress_copy = on`;
        for (const part of [lines.filter((_, i) => i % 2 === 0), lines.filter((_, i) => i % 2 === 1)]) {
          const stream = await pgjs`COPY cpu (time, host, usage, n) FROM STDIN`.writable();
          await new Promise<void>((resolve, reject) => {
            stream.on('error', reject);
            stream.on('finish', resolve);
            stream.end(part.join('\n') + '\n');
          });
        }
      } finally {
        await pgjs.end();
      }
      const chunks = (await client.query({ text: "SELECT c::text FROM show_chunks('cpu') c", rowMode: 'array' })).rows.map((r: string[]) => r[0]!);
      expect(chunks.length).toBeGreaterThanOrEqual(2);
      // Direct ingest compressed every chunk on arrival; the second COPY's manifests reference the first's batches.
      const store = node.orbit.backend.columnstore!.store;
      const manifests = await client.query({
        text: `SELECT cc.manifest FROM _timescaledb_catalog.chunk ch JOIN _timescaledb_catalog.orbit_columnstore_chunk cc ON cc.id = ch.compressed_chunk_id
                WHERE NOT ch.dropped AND ch.hypertable_id = (SELECT id FROM _timescaledb_catalog.hypertable WHERE table_name = 'cpu')`,
        rowMode: 'array',
      });
      expect(manifests.rows.length).toBe(chunks.length);
      for (const [key] of manifests.rows as string[][]) {
        const m = await store.readManifest(key!);
        expect(m.batches.some((b) => b.source !== undefined), key).toBe(true);
      }
      await ok(EDGE_SCHEMA.join(';\n'), [], db);
      let rows = 0;
      for (const c of chunks) rows += (await pushChunkToEdge(node.orbit, c, { url: base, db, token: IMPORT_TOKEN, origin: 'direct' })).rows;
      expect(rows).toBe(4500);
      const compared = await expectLikeNode(db, EDGE_QUERIES.filter((x) => !/show_chunks|drop_chunks/.test(x)));
      console.log(`[workerd-edge] direct-ingest chunks: ${chunks.length} pushed from Node (${rows} rows, format-2 manifests); ${compared} queries answered alike`);
    }, 300_000);

    it('imports compressed chunks a Node Orbit pushes (POST /import), and answers as Node does', async () => {
      const db = 'cold';
      await client.query('DROP TABLE IF EXISTS cpu');
      for (const s of [...EDGE_SCHEMA, ...edgeDataSql(3, 1500)]) await client.query(s);
      const chunks = (await client.query({ text: "SELECT c::text FROM show_chunks('cpu') c", rowMode: 'array' })).rows.map((r: string[]) => r[0]!);
      expect(chunks.length).toBeGreaterThanOrEqual(2);
      for (const c of chunks) await client.query(`SELECT compress_chunk('${c}')`);
      await ok(EDGE_SCHEMA.join(';\n'), [], db);

      // The endpoint wants the Worker's token.
      const denied = await fetch(new URL(`/import?db=${db}`, base), { method: 'POST', headers: { authorization: 'Bearer wrong' }, body: new Uint8Array(8) });
      expect(denied.status).toBe(401);
      await expect(pushChunkToEdge(node.orbit, chunks[0]!, { url: base, db, token: 'nope' })).rejects.toMatchObject({ code: '28000' });

      let rows = 0;
      for (const c of chunks) rows += (await pushChunkToEdge(node.orbit, c, { url: base, db, token: IMPORT_TOKEN })).rows;
      expect(rows).toBe(4500);
      // A chunk is imported once per source.
      await expect(pushChunkToEdge(node.orbit, chunks[0]!, { url: base, db, token: IMPORT_TOKEN })).rejects.toMatchObject({ code: '42710' });
      const stats = (await (await fetch(new URL(`/stats?db=${db}`, base))).json()) as EdgeStats;
      expect(stats.hypertables[0]!.chunks.map((c) => c.batchRows).reduce((a, b) => a + b, 0)).toBe(4500);

      // Rows written at the edge into an imported chunk's range join its batches (Node: into the compressed chunk).
      const late = "INSERT INTO cpu VALUES ('2024-01-02 00:05:00+00', 'host_1', 50.25, 7), ('2024-01-09 13:00:00+00', 'host_9', NULL, 3)";
      await client.query(late);
      await ok(late, [], db);
      const compared = await expectLikeNode(db, EDGE_QUERIES.filter((x) => !/show_chunks|drop_chunks/.test(x)));
      console.log(`[workerd-edge] cold chunks: ${chunks.length} pushed from Node (${rows} rows); ${compared} queries answered alike`);
    }, 300_000);
  });
});
