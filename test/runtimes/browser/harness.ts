/**
 * Browser test harness: bundles the browser entries with esbuild, serves them with PGlite's and the
 * parser's assets from a loopback HTTP server, and drives Debian's Chromium through playwright-core.
 * Everything is local: Playwright cannot download browsers here and the machine has no network.
 */
import { build, type Metafile } from 'esbuild';
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

const require = createRequire(import.meta.url);

/** Git-ignored output of the test bundles. */
export const OUT_DIR = 'test-results/browser';

export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Bundles `entries` (output name → source file) for browsers, one self-contained ESM file each (no
 * code splitting, so a worker is one script). Returns esbuild's metafile for import checks.
 */
export async function bundleForBrowser(entries: Record<string, string>): Promise<Metafile> {
  const result = await build({
    entryPoints: entries,
    outdir: OUT_DIR,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // Dependencies reach Node built-ins only behind their own "is this Node?" checks.
    external: ['node:*'],
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
  });
  return result.metafile;
}

/** Runtime assets the bundles fetch, served next to them (see src/runtime/browser.ts). */
export function runtimeAssets(): Record<string, string> {
  const pgliteDist = dirname(require.resolve('@electric-sql/pglite'));
  const parserWasm = require.resolve('libpg-query/wasm/libpg-query.wasm');
  return {
    '/pglite.wasm': join(pgliteDist, 'pglite.wasm'),
    '/pglite.data': join(pgliteDist, 'pglite.data'),
    '/initdb.wasm': join(pgliteDist, 'initdb.wasm'),
    '/libpg-query.wasm': parserWasm,
    // The columnstore's codecs and kernels (npm run build).
    '/codecs.wasm': 'dist/wasm/codecs.wasm',
    '/kernels.wasm': 'dist/wasm/kernels.wasm',
  };
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.data': 'application/octet-stream',
  '.gz': 'application/gzip',
};

export interface StaticServer {
  readonly origin: string;
  /** Requests seen so far, as `status path`. */
  readonly log: string[];
  close(): Promise<void>;
}

/**
 * Serves exactly the given routes (URL path → file, or inline text for `.html`), on 127.0.0.1 with an
 * ephemeral port. Anything else is a 404, so no path ever reaches the file system unchecked.
 */
export async function startStaticServer(routes: Record<string, string | { html: string }>): Promise<StaticServer> {
  const log: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = routes[path];
    const reply = (status: number, headers: Record<string, string | number>, body?: string) => {
      log.push(`${status} ${path}`);
      res.writeHead(status, { 'cache-control': 'no-store', ...headers });
      res.end(body);
    };
    if (route === undefined) return reply(404, { 'content-type': 'text/plain' }, 'not found');
    if (typeof route === 'object') return reply(200, { 'content-type': MIME['.html']! }, route.html);
    const file = resolve(route);
    stat(file).then(
      (s) => {
        log.push(`200 ${path}`);
        res.writeHead(200, {
          'cache-control': 'no-store',
          'content-type': MIME[extname(file)] ?? 'application/octet-stream',
          'content-length': s.size,
        });
        createReadStream(file).pipe(res);
      },
      () => reply(404, { 'content-type': 'text/plain' }, 'not found'),
    );
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
}

export interface OwnChromium {
  readonly browser: Browser;
  readonly process: ChildProcess;
  /** SIGKILLs the browser's whole process group (no shutdown, no flush) and waits for it to exit. */
  kill(): Promise<void>;
}

/**
 * Starts Chromium as our own child process on a persistent profile (`userDataDir`, where OPFS and
 * IndexedDB live) and attaches over CDP, so a test can SIGKILL it and start it again on the same
 * profile. Chromium picks a free debugging port and writes it to `<userDataDir>/DevToolsActivePort`.
 */
export async function startOwnChromium(userDataDir: string): Promise<OwnChromium> {
  const portFile = join(userDataDir, 'DevToolsActivePort');
  await rm(portFile, { force: true });
  const child = spawn(CHROMIUM, [...CHROMIUM_ARGS, '--remote-debugging-port=0', '--remote-debugging-address=127.0.0.1', `--user-data-dir=${userDataDir}`, 'about:blank'], {
    stdio: 'ignore',
    // Its own process group, so a kill reaches the renderers and the GPU/utility processes too.
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let port: string | undefined;
  for (let waited = 0; port === undefined; waited += 100) {
    if (child.exitCode !== null) throw new Error(`chromium exited with ${child.exitCode}`);
    if (waited > 60_000) throw new Error('chromium did not open its debugging port');
    port = await readFile(portFile, 'utf8').then((text) => text.split('\n')[0] || undefined, () => undefined);
    if (port === undefined) await new Promise((r) => setTimeout(r, 100));
  }
  const browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`, { timeout: 60_000 });
  return {
    browser,
    process: child,
    kill: async () => {
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
    },
  };
}

/** Sources in `metafile` under `src/` that import a Node built-in (the browser runtime must have none). */
export function nodeImportsFromSrc(metafile: Metafile): string[] {
  const found: string[] = [];
  for (const [input, info] of Object.entries(metafile.inputs)) {
    if (!input.startsWith('src/')) continue;
    for (const imp of info.imports) {
      if (imp.path.startsWith('node:')) found.push(`${input} → ${imp.path}`);
    }
  }
  return found;
}
