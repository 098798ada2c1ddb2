/**
 * @module bench/systems/chromium-worker
 * Orbit in headless Chromium for the runtimes suite: the engine's own worker entry
 * (src/runtime/browser-worker.ts, bundled by esbuild) in a dedicated module worker, on OPFS (or
 * memory), served with its assets from a loopback server (test/runtimes/browser/harness.ts, shared so
 * the bench serves exactly what the browser tests check) and driven through playwright-core. No
 * network: Chromium is Debian's /usr/bin/chromium.
 *
 * Times are taken inside the page with performance.now() around each worker round trip (postMessage
 * there and back, structured clone of the rows included), so playwright's own CDP round trips are
 * not counted; statements reach the page before the clock starts.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { bundleForBrowser, launchChromium, OUT_DIR, runtimeAssets, startStaticServer, type StaticServer } from '../../test/runtimes/browser/harness.js';

/** The page: one worker, a numbered request/response client, and timing loops. */
const PAGE_SCRIPT = `
const worker = new Worker('/browser-worker.js', { type: 'module' });
let nextId = 1;
const pending = new Map();
worker.onmessage = (e) => { const settle = pending.get(e.data.id); pending.delete(e.data.id); settle?.(e.data); };
const send = (request) => new Promise((ok) => { const id = nextId++; pending.set(id, ok); worker.postMessage({ ...request, id }); });
const must = async (request) => {
  const r = await send(request);
  if (!r.ok) throw new Error(r.error.code + ': ' + r.error.message + ' in ' + String(request.sql).slice(0, 120));
  return r.result;
};
window.bench = {
  open: async (options) => { const t = performance.now(); await must({ type: 'open', options }); return { ms: performance.now() - t, stats: await must({ type: 'stats' }) }; },
  exec: (sql) => must({ type: 'exec', sql }).then(() => null),
  rows: (sql) => must({ type: 'query', sql }).then((r) => r.rows),
  execTimed: async (sqls) => { const t = performance.now(); for (const sql of sqls) await must({ type: 'exec', sql }); return performance.now() - t; },
  queryTimed: async (sql, runs) => {
    const times = []; let rows = 0;
    for (let i = 0; i < runs; i++) { const t = performance.now(); rows = (await must({ type: 'query', sql })).rows.length; times.push(performance.now() - t); }
    return { times, rows };
  },
  close: () => must({ type: 'close' }).then(() => null),
};
`;

export interface ChromiumStats {
  readonly dataDir: string;
  readonly codecs: string | null;
  readonly kernels: string | null;
  readonly fallbacks: readonly string[];
}

export class ChromiumOrbit {
  private constructor(
    private readonly server: StaticServer,
    private readonly browser: Browser,
    private readonly page: Page,
    readonly openMs: number,
    readonly stats: ChromiumStats,
  ) {}

  static async open(dataDir: string): Promise<ChromiumOrbit> {
    await bundleForBrowser({ 'browser-worker': 'src/runtime/browser-worker.ts' });
    const server = await startStaticServer({
      '/': { html: `<!doctype html><meta charset="utf-8"><title>orbit bench</title><script type="module">${PAGE_SCRIPT}</script>` },
      '/browser-worker.js': join(OUT_DIR, 'browser-worker.js'),
      ...runtimeAssets(),
      '/pgdata-template.tar.gz': 'dist/pgdata-template.tar.gz',
      '/favicon.ico': { html: '' },
    });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      page.on('console', (msg) => {
        if (msg.type() === 'error' || msg.type() === 'warning') console.log(`[chromium ${msg.type()}] ${msg.text()}`);
      });
      await page.goto(`${server.origin}/`);
      await page.waitForFunction(() => 'bench' in window);
      const { ms, stats } = await page.evaluate(
        (options) => (window as unknown as { bench: { open(o: unknown): Promise<{ ms: number; stats: ChromiumStats }> } }).bench.open(options),
        { dataDir, templateUrl: '/pgdata-template.tar.gz' },
      );
      return new ChromiumOrbit(server, browser, page, ms, stats);
    } catch (err) {
      await browser.close();
      await server.close();
      throw err;
    }
  }

  exec(sql: string): Promise<void> {
    return this.page.evaluate((s) => (window as unknown as { bench: { exec(s: string): Promise<void> } }).bench.exec(s), sql);
  }

  rows(sql: string): Promise<Record<string, unknown>[]> {
    return this.page.evaluate((s) => (window as unknown as { bench: { rows(s: string): Promise<Record<string, unknown>[]> } }).bench.rows(s), sql);
  }

  /** Runs the statements one after another; the page's time for all of them (sent in slices of ~4 MB). */
  async execTimed(statements: readonly string[]): Promise<number> {
    let ms = 0;
    let slice: string[] = [];
    let bytes = 0;
    const flush = async () => {
      ms += await this.page.evaluate((s) => (window as unknown as { bench: { execTimed(s: string[]): Promise<number> } }).bench.execTimed(s), slice);
      slice = [];
      bytes = 0;
    };
    for (const s of statements) {
      slice.push(s);
      bytes += s.length;
      if (bytes > 4 << 20) await flush();
    }
    if (slice.length > 0) await flush();
    return ms;
  }

  /** Runs `sql` `runs` times; the page's time of each run and the last run's row count. */
  queryTimed(sql: string, runs: number): Promise<{ times: number[]; rows: number }> {
    return this.page.evaluate(
      ([s, n]) => (window as unknown as { bench: { queryTimed(s: string, n: number): Promise<{ times: number[]; rows: number }> } }).bench.queryTimed(s, n),
      [sql, runs] as const,
    );
  }

  async close(): Promise<void> {
    await this.page.evaluate(() => (window as unknown as { bench: { close(): Promise<void> } }).bench.close()).catch(() => undefined);
    await this.browser.close();
    await this.server.close();
  }
}
