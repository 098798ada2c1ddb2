/**
 * The browser runtime in headless Chromium (Debian's /usr/bin/chromium through playwright-core):
 * - the shared smoke suite runs inside a dedicated module worker, through Orbit's engine core, and
 *   must answer exactly as on Node (run here too, so the two are compared side by side);
 * - the engine's worker entry (src/runtime/browser-worker.ts) answers its message protocol.
 * Bundles are built with esbuild into test-results/browser/ and served, with PGlite's and the parser's
 * assets and the cluster template, from a loopback HTTP server.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../../src/runtime/node.js';
import { runSmoke, SMOKE_STEPS, type SmokeResult } from '../../support/smoke-suite.js';
import { TEMPLATE } from '../../support/server.js';
import {
  bundleForBrowser,
  launchChromium,
  nodeImportsFromSrc,
  OUT_DIR,
  runtimeAssets,
  startStaticServer,
  type StaticServer,
} from './harness.js';

const HERE = 'test/runtimes/browser';
const ENTRIES = {
  page: `${HERE}/page.ts`,
  'smoke-worker': `${HERE}/smoke-worker.ts`,
  'browser-worker': 'src/runtime/browser-worker.ts',
};
const INDEX_HTML = '<!doctype html><meta charset="utf-8"><title>orbit browser tests</title><script type="module" src="/page.js"></script>';

describe('browser runtime in headless Chromium', () => {
  let server: StaticServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let nodeImports: string[] = [];
  let templateUrl = '';
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const metafile = await bundleForBrowser(ENTRIES);
    nodeImports = nodeImportsFromSrc(metafile);
    const bundles = Object.fromEntries(
      Object.keys(ENTRIES).flatMap((name) => [
        [`/${name}.js`, join(OUT_DIR, `${name}.js`)],
        [`/${name}.js.map`, join(OUT_DIR, `${name}.js.map`)],
      ]),
    );
    server = await startStaticServer({
      '/': { html: INDEX_HTML },
      ...bundles,
      ...runtimeAssets(),
      '/pgdata-template.tar.gz': TEMPLATE,
      '/favicon.ico': { html: '' },
    });
    templateUrl = `${server.origin}/pgdata-template.tar.gz`;
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.stack ?? err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') console.log(`[chromium ${msg.type()}] ${msg.text()}`);
    });
    await page.goto(`${server.origin}/`);
    await page.waitForFunction(() => 'orbitTest' in window);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('bundles the browser entries without any Node built-in from src/', () => {
    expect(nodeImports).toEqual([]);
  });

  it('runs the smoke suite in a module worker and answers exactly as Node does', async () => {
    const logStart = server!.log.length;
    const t0 = performance.now();
    const db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE });
    const t1 = performance.now();
    let nodeResults: SmokeResult[];
    try {
      nodeResults = await runSmoke(db);
    } finally {
      await db.close();
    }
    const t2 = performance.now();

    const run = await page.evaluate((url) => window.orbitTest.runSmoke(url), templateUrl);
    const requests = server!.log.slice(logStart);
    console.log(
      `smoke: node open ${Math.round(t1 - t0)} ms, suite ${Math.round(t2 - t1)} ms; ` +
        `browser worker open ${Math.round(run.openMs)} ms, suite ${Math.round(run.smokeMs)} ms; served ${requests.join(', ')}`,
    );
    expect(run.global).toBe('DedicatedWorkerGlobalScope');
    expect(nodeResults).toHaveLength(SMOKE_STEPS.length);
    expect(run.results).toEqual(nodeResults);
    // PGlite started from the served template (no initdb) and found every asset on this server.
    expect(requests).toEqual(
      expect.arrayContaining(['200 /pgdata-template.tar.gz', '200 /pglite.wasm', '200 /pglite.data', '200 /libpg-query.wasm', '200 /codecs.wasm', '200 /kernels.wasm']),
    );
    expect(run.backends).toEqual({ codecs: 'wasm', kernels: 'wasm', fallbacks: [] });
    // The job scheduler runs on the worker's timers as on Node's.
    expect(run.jobRuns.recorded).toBeGreaterThanOrEqual(2);
    expect(run.jobRuns.logged).toBeGreaterThanOrEqual(run.jobRuns.recorded);
    expect(requests.filter((line) => !line.startsWith('200 '))).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 240_000);

  it('answers the worker protocol: open, query, exec, copyFrom, close, with SQLSTATEs for errors', async () => {
    const { steps, concurrent, openMs } = await page.evaluate((url) => window.orbitTest.workerProtocol(url), templateUrl);
    console.log(`protocol: browser-worker open ${Math.round(openMs)} ms`);
    const byLabel = Object.fromEntries(steps.map((s) => [s.label, s.response]));
    const failure = (type: string, code: string) => ({ type, ok: false, error: expect.objectContaining({ code }) });

    expect(byLabel['query before open']).toMatchObject(failure('query', '08003'));
    expect(byLabel['open an unsupported dataDir']).toMatchObject(failure('open', '0A000'));
    expect(byLabel['open with a missing template']).toMatchObject(failure('open', '58P01'));
    expect(byLabel['open']).toEqual({ id: expect.any(Number), type: 'open', ok: true, result: { proxy: false } });
    expect(byLabel['open twice']).toMatchObject(failure('open', '08P01'));
    // The columnstore's codecs and kernels are the WASM modules, fetched next to the worker.
    expect(byLabel['stats']).toMatchObject({ type: 'stats', ok: true, result: { dataDir: 'memory://', proxy: false, codecs: 'wasm', kernels: 'wasm', fallbacks: [] } });
    expect(byLabel['query with params']).toEqual({
      id: expect.any(Number),
      type: 'query',
      ok: true,
      result: {
        rows: [{ n: 42, t: 'Grüße ✓', b: '\\x0102fe', ts: '2025-01-02T03:04:05.678Z', big: '9007199254740993' }],
        fields: [
          { name: 'n', dataTypeID: 23 },
          { name: 't', dataTypeID: 25 },
          { name: 'b', dataTypeID: 17 },
          { name: 'ts', dataTypeID: 1184 },
          { name: 'big', dataTypeID: 20 },
        ],
        affectedRows: 0,
      },
    });
    expect(byLabel['exec']).toMatchObject({
      type: 'exec',
      ok: true,
      result: [
        { rows: [], affectedRows: 0 },
        { rows: [], affectedRows: 2 },
        { rows: [{ id: 1, v: 'a' }, { id: 2, v: 'b' }], fields: [{ name: 'id', dataTypeID: 23 }, { name: 'v', dataTypeID: 25 }] },
      ],
    });
    expect(byLabel['copyFrom a Blob']).toEqual({ id: expect.any(Number), type: 'copyFrom', ok: true, result: { rows: [], fields: [], affectedRows: 3000 } });
    expect(byLabel['copyFrom a bad row']).toMatchObject({ type: 'copyFrom', ok: false, error: { code: '22P02', message: 'invalid input syntax for type double precision: "x"' } });
    // 3000 rows 90 s apart: 3.1 days, four chunks, all written as batches; nothing of the failed COPY.
    expect(byLabel['what copyFrom wrote']).toMatchObject({ ok: true, result: { rows: [{ n: 3000, total: (2999 * 3000) / 2, devices: 3, compressed: 4 }] } });
    expect(concurrent.map((r) => (r as { result: { rows: unknown } }).result.rows)).toEqual([[{ i: 1 }], [{ i: 2 }], [{ i: 3 }], [{ i: 4 }]]);
    expect(byLabel['division by zero']).toMatchObject({
      type: 'query',
      ok: false,
      error: { code: '22012', message: 'division by zero' },
    });
    expect(byLabel['syntax error']).toMatchObject({ ok: false, error: { code: '42601', position: expect.any(Number) } });
    expect(byLabel['unique violation']).toMatchObject({ type: 'exec', ok: false, error: { code: '23505', detail: expect.any(String) } });
    expect(byLabel['temporary table']).toMatchObject({ ok: false, error: { code: '0A000', hint: expect.any(String) } });
    expect(byLabel['unknown request type']).toMatchObject(failure('prepare', '08P01'));
    expect(byLabel['close']).toMatchObject({ type: 'close', ok: true, result: null });
    expect(byLabel['query after close']).toMatchObject(failure('query', '08003'));
    expect(byLabel['close again']).toMatchObject({ type: 'close', ok: true, result: null });
    expect(byLabel['open without the WASM modules']).toMatchObject({ type: 'open', ok: true });
    expect(byLabel['stats of the reference backends']).toMatchObject({
      ok: true,
      result: {
        codecs: 'reference',
        kernels: 'reference',
        fallbacks: [expect.stringMatching(/^codecs: .*missing-codecs\.wasm could not be loaded \(HTTP 404\)/), 'kernels: disabled (kernelsUrl: null)'],
      },
    });
    expect(pageErrors).toEqual([]);
  }, 240_000);
});
