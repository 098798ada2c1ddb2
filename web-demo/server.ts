/**
 * @module web-demo/server
 * Builds the dashboard into one folder and serves it from a tiny static server on loopback: the
 * page bundle, the engine's worker bundle (src/runtime/browser-worker.ts), PGlite's and the parser's
 * WASM assets next to the worker (src/runtime/browser.ts says why they must sit there), uPlot's CSS
 * and the pre-initialised cluster template. Nothing is fetched from the network at run time.
 *
 * `npm run demo` runs `npm run build` (which makes dist/pgdata-template.tar.gz) and then this file:
 *   tsx web-demo/server.ts [--port 8090] [--host 127.0.0.1] [--build-only]
 * The browser test (test/runtimes/browser/demo.test.ts) calls `buildDemo` and `serveDemo` itself.
 */
import { build } from 'esbuild';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');

/** Where `npm run demo` builds to (git-ignored). */
export const DEMO_OUT_DIR = join(HERE, 'dist');
/** Made by `npm run build`; new databases start from it instead of running initdb in the tab. */
const TEMPLATE = join(ROOT, 'dist/pgdata-template.tar.gz');

/** Bundles the page and the worker into `outDir` and copies every asset they fetch next to them. */
export async function buildDemo(outDir: string = DEMO_OUT_DIR): Promise<void> {
  await stat(TEMPLATE).catch(() => {
    throw new Error(`${TEMPLATE} is missing: run npm run build first`);
  });
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: { main: join(HERE, 'src/main.ts'), 'orbit-worker': join(ROOT, 'src/runtime/browser-worker.ts') },
    outdir: outDir,
    bundle: true,
    // One self-contained file per entry: a module worker is then a single script.
    splitting: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // PGlite and libpg-query reach Node built-ins only behind their own "is this Node?" checks.
    external: ['node:*'],
    sourcemap: true,
    minify: true,
    logLevel: 'warning',
  });
  const pgliteDist = dirname(require.resolve('@electric-sql/pglite'));
  const assets: Record<string, string> = {
    'index.html': join(HERE, 'index.html'),
    'style.css': join(HERE, 'style.css'),
    'uPlot.min.css': require.resolve('uplot/dist/uPlot.min.css'),
    'pglite.wasm': join(pgliteDist, 'pglite.wasm'),
    'pglite.data': join(pgliteDist, 'pglite.data'),
    'initdb.wasm': join(pgliteDist, 'initdb.wasm'),
    'libpg-query.wasm': require.resolve('libpg-query/wasm/libpg-query.wasm'),
    // The columnstore's codecs and kernels: without them the worker runs the slower reference backends.
    'codecs.wasm': join(ROOT, 'dist/wasm/codecs.wasm'),
    'kernels.wasm': join(ROOT, 'dist/wasm/kernels.wasm'),
    'pgdata-template.tar.gz': TEMPLATE,
  };
  await Promise.all(Object.entries(assets).map(([name, from]) => copyFile(from, join(outDir, name))));
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  // instantiateStreaming refuses any other type.
  '.wasm': 'application/wasm',
  '.data': 'application/octet-stream',
  '.gz': 'application/gzip',
  '.ico': 'image/x-icon',
};

export interface DemoServer {
  readonly origin: string;
  /** Requests answered so far, as `status path`. */
  readonly log: string[];
  close(): Promise<void>;
}

/**
 * Serves the files of `dir` (GET and HEAD only, `/` is index.html). No COOP/COEP headers: nothing
 * in the demo needs cross-origin isolation (PGlite and OPFS access handles use no
 * SharedArrayBuffer), and without them the page keeps working when opened from another origin.
 */
export async function serveDemo(dir: string, options: { host?: string; port?: number } = {}): Promise<DemoServer> {
  const root = resolve(dir);
  const log: string[] = [];
  const server = createServer((req, res) => {
    const reply = (status: number, path: string, body: string) => {
      log.push(`${status} ${path}`);
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(body);
    };
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, path, 'method not allowed');
    let decoded: string;
    try {
      decoded = decodeURIComponent(path === '/' ? '/index.html' : path);
    } catch {
      return reply(400, path, 'bad request');
    }
    const file = resolve(root, `.${decoded}`);
    if (!file.startsWith(root + sep)) return reply(404, path, 'not found');
    stat(file).then(
      (s) => {
        if (!s.isFile()) return reply(404, path, 'not found');
        log.push(`200 ${path}`);
        res.writeHead(200, {
          'content-type': MIME[extname(file)] ?? 'application/octet-stream',
          'content-length': s.size,
          // Revalidate every time: a rebuilt bundle must never meet a stale worker or WASM file.
          'cache-control': 'no-cache',
        });
        if (req.method === 'HEAD') res.end();
        else createReadStream(file).pipe(res);
      },
      () => reply(404, path, 'not found'),
    );
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', ok);
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    origin: `http://${host}:${port}`,
    log,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.PORT ?? '8090' },
      host: { type: 'string', default: '127.0.0.1' },
      'build-only': { type: 'boolean', default: false },
    },
  });
  const t0 = performance.now();
  await buildDemo();
  console.log(`built ${DEMO_OUT_DIR} in ${Math.round(performance.now() - t0)} ms`);
  if (values['build-only']) return;
  const server = await serveDemo(DEMO_OUT_DIR, { host: values.host, port: Number(values.port) });
  console.log(`Orbit demo: ${server.origin}/  (Ctrl+C stops the server; the data stays in the browser)`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
