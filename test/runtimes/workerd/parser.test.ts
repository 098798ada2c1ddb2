/**
 * Edge profile, real runtime: Orbit's SQL layer (libpg-query binding + classify) inside workerd.
 *
 * Builds the Worker exactly as `npm run build:worker` does, starts it with wrangler's `unstable_startWorker`
 * (wrangler's own bundling of wrangler.toml's `main`, then Miniflare → workerd on 127.0.0.1, no network),
 * and checks that `POST /sql/classify` answers exactly what `classify(parseSql(...))` gives in Node.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrbitError } from '../../../src/errors.js';
import { classify } from '../../../src/sql/classify.js';
import { loadParser, parseSql } from '../../../src/sql/parser.js';
import { SqlState } from '../../../src/sqlstate.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const wranglerBin = join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const smokeSql = fileURLToPath(new URL('../../support/smoke.sql', import.meta.url));

// No network here: no metrics, no error reports, no Request.cf download. (The npm update check only runs
// for warnings about the compatibility date or unknown config fields, and gives up after 3 s.)
const offline = {
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  WRANGLER_HIDE_BANNER: 'true',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
};
Object.assign(process.env, offline);

const PAGE = 65536;

interface BuildSummary {
  workerBytes: number;
  wasm: string;
  wasmBytes: number;
  memory: { sectionMinOffset: number; minPagesBefore: number; minPagesAfter: number; maxPages: number; requiredPages: number };
  ms: number;
}

type Worker = Awaited<ReturnType<typeof import('wrangler').unstable_startWorker>>;
let worker: Worker | undefined;
let base: URL;
let build: BuildSummary;

function post(path: string, body: string): Promise<Response> {
  return fetch(new URL(path, base), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
}

/** What Node's own parser + classify say, in the endpoint's JSON shape (these fields, no undefined ones). */
function classifyInNode(sql: string): unknown[] {
  const statements = parseSql(sql).map((stmt) => {
    const { type, kind, text, changesSettings, createsTempObject, copy, channel, preparedName, relations } = classify(stmt);
    return { type, kind, text, changesSettings, createsTempObject, copy, channel, preparedName, relations };
  });
  return JSON.parse(JSON.stringify(statements));
}

function errorInNode(sql: string): { code: string; message: string; position?: number } {
  try {
    parseSql(sql);
  } catch (err) {
    if (!(err instanceof OrbitError)) throw err;
    return { code: err.code, message: err.message, position: err.position };
  }
  throw new Error(`expected a syntax error for ${JSON.stringify(sql)}`);
}

/** Instantiates a parser wasm in Node with stub imports and returns its initial memory size in pages. */
async function initialPages(bytes: Uint8Array): Promise<number> {
  const module = await WebAssembly.compile(new Uint8Array(bytes)); // a copy typed over ArrayBuffer, as lib.dom wants
  const imports: Record<string, Record<string, WebAssembly.ImportValue>> = {};
  for (const { module: ns, name, kind } of WebAssembly.Module.imports(module)) {
    if (kind !== 'function') throw new Error(`unexpected ${kind} import ${ns}.${name}`);
    (imports[ns] ??= {})[name] = () => 0;
  }
  const instance = await WebAssembly.instantiate(module, imports);
  const memory = Object.values(instance.exports).find((e) => e instanceof WebAssembly.Memory) as WebAssembly.Memory;
  return memory.buffer.byteLength / PAGE;
}

describe('workerd: SQL layer', () => {
  beforeAll(async () => {
    let t = performance.now();
    const { stdout } = await run(process.execPath, ['worker/build.mjs', '--json'], { cwd: root });
    build = JSON.parse(stdout) as BuildSummary;
    const buildMs = performance.now() - t;

    t = performance.now();
    const { unstable_startWorker } = await import('wrangler');
    worker = await unstable_startWorker({
      config: join(root, 'wrangler.toml'),
      sendMetrics: false,
      dev: {
        server: { hostname: '127.0.0.1', port: 0 },
        inspector: false,
        watch: false,
        persist: false,
        logLevel: 'warn',
      },
    });
    await worker.ready;
    base = await worker.url;
    const startMs = performance.now() - t;

    await loadParser();
    console.log(
      `[workerd] build ${buildMs.toFixed(0)} ms (esbuild ${build.ms} ms; worker.js ${build.workerBytes} B), ` +
        `wrangler bundle + workerd start ${startMs.toFixed(0)} ms, listening on ${base.host}`,
    );
  }, 120_000);

  afterAll(async () => {
    // dispose() stops Miniflare, which kills its workerd child process.
    await worker?.dispose();
  }, 30_000);

  it('patched the parser wasm to a 34 MiB minimum memory, without touching node_modules', async () => {
    const patched = await readFile(build.wasm);
    const original = await readFile(join(root, 'node_modules', 'libpg-query', 'wasm', 'libpg-query.wasm'));
    expect(build.memory.minPagesBefore).toBe(2048);
    expect(build.memory.minPagesAfter).toBe(544);
    expect(build.memory.requiredPages).toBeLessThanOrEqual(544);
    expect(await initialPages(original)).toBe(2048);
    expect(await initialPages(patched)).toBe(544);
    // Exactly the two bytes of the minimum's LEB128 differ.
    const differing = [...patched.keys()].filter((i) => patched[i] !== original[i]);
    expect(differing).toEqual([build.memory.sectionMinOffset, build.memory.sectionMinOffset + 1]);
    console.log(
      `[workerd] libpg-query.wasm memory minimum ${build.memory.minPagesBefore} → ${build.memory.minPagesAfter} pages ` +
        `(${(544 * PAGE) / 2 ** 20} MiB; LEB128 at byte ${build.memory.sectionMinOffset}; module needs ` +
        `${build.memory.requiredPages}; max ${build.memory.maxPages})`,
    );
  });

  it('classifies the smoke script exactly as Node does', async () => {
    const sql = await readFile(smokeSql, 'utf8');
    const expected = classifyInNode(sql);
    expect(expected.map((s) => (s as { kind: string }).kind)).toEqual([
      'ddl', 'dml', 'query', 'session', 'query', 'transaction', 'dml', 'transaction', 'prepare', 'execute',
      'deallocate', 'listen', 'notify', 'copy', 'copy', 'ddl', 'query',
    ]);

    const t = performance.now();
    const res = await post('/sql/classify', JSON.stringify({ sql }));
    const coldMs = performance.now() - t;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { statements: unknown[] };
    expect(body.statements).toEqual(expected);

    // Warm requests are dominated by wrangler's local dev proxy; `SELECT 1` shows that share.
    const perRequest = async (text: string, reps = 30): Promise<number> => {
      const started = performance.now();
      for (let i = 0; i < reps; i++) await (await post('/sql/classify', JSON.stringify({ sql: text }))).arrayBuffer();
      return (performance.now() - started) / reps;
    };
    const warmSmokeMs = await perRequest(sql);
    const warmTrivialMs = await perRequest('SELECT 1');
    console.log(
      `[workerd] smoke script (${expected.length} statements, ${sql.length} chars): first request ` +
        `${coldMs.toFixed(0)} ms (parser load + first parse), then ${warmSmokeMs.toFixed(1)} ms per request ` +
        `(SELECT 1: ${warmTrivialMs.toFixed(1)} ms, i.e. mostly HTTP through wrangler's dev proxy)`,
    );
  }, 60_000);

  it('reports a syntax error as 400 with SQLSTATE 42601 and its position, as Node does', async () => {
    const sql = 'SELECT 1 AS one;\nSELEC 1;';
    const expected = errorInNode(sql);
    expect(expected.code).toBe(SqlState.syntax_error);
    expect(expected.position).toBe(sql.indexOf('SELEC 1') + 1);

    const res = await post('/sql/classify', JSON.stringify({ sql }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: expected });
  }, 30_000);

  it('reports a syntax error after multi-byte text at the same position as Node', async () => {
    const sql = "SELECT 'Grüße aus Köln — 東京 🚀' AS greeting;\nSELEC 1;";
    const expected = errorInNode(sql);
    expect(expected.code).toBe(SqlState.syntax_error);
    // PostgreSQL counts characters (code points), not bytes or UTF-16 units.
    expect(expected.position).toBe([...sql.slice(0, sql.indexOf('SELEC 1'))].length + 1);

    const res = await post('/sql/classify', JSON.stringify({ sql }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: expected });
  }, 30_000);

  it('rejects a body without a sql string as 400 with SQLSTATE 08P01', async () => {
    const res = await post('/sql/classify', JSON.stringify({ query: 'SELECT 1' }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(SqlState.protocol_violation);
  }, 30_000);

  it('fits the Workers upload limit (wrangler deploy --dry-run) and uploads the patched wasm', async () => {
    const outdir = await mkdtemp(join(tmpdir(), 'orbit-worker-'));
    try {
      const t = performance.now();
      const { stdout } = await run(process.execPath, [wranglerBin, 'deploy', '--dry-run', '--outdir', outdir], {
        cwd: root,
        env: { ...process.env, ...offline },
      });
      const ms = performance.now() - t;
      const m = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(stdout);
      expect(m, stdout).not.toBeNull();
      const [total, gzip] = [Number(m![1]), Number(m![2])];
      // Workers Free allows 3 MB compressed; startup (which includes compiling the wasm) must stay under 1 s.
      expect(gzip).toBeLessThan(3 * 1024);
      const uploaded = (await readdir(outdir)).find((f) => f.endsWith('libpg-query.wasm'));
      expect(uploaded).toBeDefined();
      expect(Buffer.compare(await readFile(join(outdir, uploaded!)), await readFile(build.wasm))).toBe(0);
      console.log(`[workerd] wrangler deploy --dry-run: Total Upload ${total} KiB / gzip ${gzip} KiB (${ms.toFixed(0)} ms)`);
    } finally {
      await rm(outdir, { recursive: true, force: true });
    }
  }, 120_000);
});
