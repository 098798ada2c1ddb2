/**
 * The web demo (web-demo/) in headless Chromium, built and served by the same code as `npm run demo`
 * (web-demo/server.ts), driven only through its page as a person would use it:
 * - a new database starts from the shipped cluster template in OPFS (the cold start is printed);
 * - the live stream ingests, both charts draw (screenshots with enough coloured plot pixels), the
 *   chunk and compression panels show what the catalog answers;
 * - the SQL console answers rows and PostgreSQL errors with their SQLSTATE; a CSV file imports;
 * - acknowledged rows survive a page reload and a SIGKILL of the whole browser.
 * Chromium runs as our own process on a temporary profile, so every run starts with empty storage.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemo, serveDemo, type DemoServer } from '../../../web-demo/server.js';
import { tempDir } from '../../support/server.js';
import { OUT_DIR, startOwnChromium, type OwnChromium } from './harness.js';

const DEMO_DIR = join(OUT_DIR, 'demo');
/** The stream starts paused, so the test decides when rows arrive and counts stay comparable. */
const DEMO_PATH = '/?stream=off';

interface Ready {
  readonly page: Page;
  /** From navigation start to "ready", as the page measures it (performance.now()). */
  readonly readyMs: number;
  readonly openMs: number;
  readonly newDatabase: boolean;
  readonly dataDir: string;
  /** Opens it took (main.ts retries in a fresh worker when files stay held past the open's wait). */
  readonly attempts: number;
}

interface ConsoleAnswer {
  readonly state: 'ok' | 'error';
  readonly sqlstate?: string;
  readonly text: string;
  /** Cells of the first result table, as shown. */
  readonly cells: string[][];
}

interface PixelCount {
  readonly total: number;
  /** Pixels not (nearly) white: axes, grid, labels and series. */
  readonly ink: number;
  /** Saturated pixels: only the series are drawn in colour (axes, grid and text are grey). */
  readonly coloured: number;
}

describe('web demo in headless Chromium', () => {
  let server: DemoServer | undefined;
  let chrome: OwnChromium | undefined;
  const profile = tempDir('orbit-demo-chromium-');
  const pageErrors: string[] = [];

  async function openDemo(): Promise<Ready> {
    const page = await chrome!.browser.contexts()[0]!.newPage();
    await page.setViewportSize({ width: 1400, height: 1200 });
    page.on('pageerror', (err) => pageErrors.push(err.stack ?? err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') console.log(`[chromium ${msg.type()}] ${msg.text()}`);
    });
    await page.goto(`${server!.origin}${DEMO_PATH}`);
    return waitReady(page);
  }

  async function waitReady(page: Page): Promise<Ready> {
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state !== 'opening', null, { timeout: 180_000 });
    const status: Record<string, string | undefined> = await page.locator('#status').evaluate((e) => ({ text: e.textContent ?? '', ...e.dataset }));
    expect(status, status.text ?? '').toMatchObject({ state: 'ready' });
    return {
      page,
      readyMs: Number(status.readyMs),
      openMs: Number(status.openMs),
      newDatabase: status.newDatabase === 'true',
      dataDir: status.dataDir ?? '',
      attempts: Number(status.attempts),
    };
  }

  /** Types `sql` into the console, runs it and reads what the console shows. */
  async function runSql(page: Page, sql: string): Promise<ConsoleAnswer> {
    await page.locator('#console-output').evaluate((e) => delete e.dataset.state);
    await page.locator('#console-sql').fill(sql);
    await page.locator('#console-run').click();
    await page.waitForFunction(() => ['ok', 'error'].includes(document.getElementById('console-output')?.dataset.state ?? ''), null, { timeout: 60_000 });
    return page.locator('#console-output').evaluate((out) => ({
      state: out.dataset.state as 'ok' | 'error',
      sqlstate: out.querySelector<HTMLElement>('pre.error')?.dataset.sqlstate,
      text: out.textContent ?? '',
      cells: [...out.querySelectorAll('table tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    }));
  }

  async function rowCount(page: Page): Promise<number> {
    const answer = await runSql(page, 'SELECT count(*) AS n FROM readings');
    expect(answer.state, answer.text).toBe('ok');
    return Number(answer.cells[0]![0]);
  }

  /** Screenshots `selector` (saved under test-results/) and counts its pixels, decoded by the browser. */
  async function plotPixels(page: Page, selector: string, name: string): Promise<PixelCount> {
    const png = await page.locator(selector).screenshot({ path: join(OUT_DIR, `demo-${name}.png`) });
    return page.evaluate(async (base64) => {
      const bitmap = await createImageBitmap(await (await fetch(`data:image/png;base64,${base64}`)).blob());
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(bitmap, 0, 0);
      const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
      let ink = 0;
      let coloured = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
        if (r < 235 || g < 235 || b < 235) ink++;
        if (Math.max(r, g, b) - Math.min(r, g, b) > 80) coloured++;
      }
      return { total: bitmap.width * bitmap.height, ink, coloured };
    }, png.toString('base64'));
  }

  beforeAll(async () => {
    await buildDemo(DEMO_DIR);
    server = await serveDemo(DEMO_DIR);
    chrome = await startOwnChromium(profile.path);
  }, 120_000);

  afterAll(async () => {
    await chrome?.browser.close().catch(() => undefined);
    await chrome?.kill().catch(() => undefined);
    await server?.close();
    profile.remove();
  });

  let page: Page;

  it('starts a new database from the shipped template, ingests the live stream and draws its charts', async () => {
    const t0 = performance.now();
    const ready = await openDemo();
    const wallMs = performance.now() - t0;
    page = ready.page;
    console.log(
      `demo cold start (new database from the shipped template, ${ready.dataDir}): ready ${Math.round(ready.readyMs)} ms after navigation ` +
        `(open ${Math.round(ready.openMs)} ms), ${Math.round(wallMs)} ms wall time from goto`,
    );
    expect(ready.newDatabase).toBe(true);
    expect(ready.dataDir).toBe('opfs-ahp://orbit-demo');
    expect(server!.log).toContain('200 /pgdata-template.tar.gz');
    // The worker loaded the columnstore's WASM codecs and kernels from next to itself, and the page says so.
    expect(server!.log).toEqual(expect.arrayContaining(['200 /codecs.wasm', '200 /kernels.wasm']));
    expect(await page.locator('#stat-backend').textContent()).toBe('WASM codecs and kernels');
    expect(await page.locator('#stat-backend').evaluate((e) => ({ ...e.dataset }))).toEqual({ codecs: 'wasm', kernels: 'wasm' });
    expect(await page.locator('#stat-storage').textContent()).toBe('OPFS: opfs-ahp://orbit-demo');
    // Everything came from our server; nothing was missing.
    expect(server!.log.filter((line) => !line.startsWith('200 '))).toEqual([]);

    // The day of history: 4 sensors × 1441 minutes, less greenhouse's 74 offline minutes.
    const history = await rowCount(page);
    expect(history).toBe(4 * 1441 - 74);

    await page.locator('#stream-toggle').click();
    await page.waitForFunction(() => Number(document.getElementById('stat-ingested')?.dataset.value) >= 12, null, { timeout: 60_000 });
    await page.locator('#stream-toggle').click();
    expect(await page.locator('#stream-toggle').getAttribute('data-running')).toBe('false');
    // A batch sent just before the pause is answered before the count below (one backend, in order).
    await page.waitForTimeout(1500);
    const ingested = Number(await page.locator('#stat-ingested').getAttribute('data-value'));
    expect(await rowCount(page)).toBe(history + ingested);
    await page.waitForFunction((n) => document.getElementById('stat-rows')?.dataset.value === String(n), history + ingested, { timeout: 30_000 });

    for (const [selector, name] of [['#chart-buckets', 'buckets'], ['#chart-gapfill', 'gapfill']] as const) {
      await page.waitForFunction((s) => Number(document.querySelector<HTMLElement>(s)?.dataset.points) > 10, selector, { timeout: 30_000 });
      const pixels = await plotPixels(page, selector, name);
      console.log(`${name} chart: ${pixels.ink} ink and ${pixels.coloured} coloured pixels of ${pixels.total}`);
      expect(pixels.ink / pixels.total).toBeGreaterThan(0.02);
      expect(pixels.coloured).toBeGreaterThan(1500);
    }

    const chunks = Number(await page.locator('#chunks table').getAttribute('data-chunks'));
    expect(chunks).toBeGreaterThanOrEqual(4);
    expect(await page.locator('#chunks').textContent()).toMatch(/hypertable_detailed_size: table \d+/);
    expect(await page.locator('#compression').textContent()).toContain('compressed chunks (chunks.is_compressed)');
    expect(pageErrors).toEqual([]);
  }, 300_000);

  it('answers SQL typed into the console with rows, and with the SQLSTATE of PostgreSQL errors', async () => {
    const gapfill = await runSql(
      page,
      `SELECT time_bucket_gapfill('15 minutes', time) AS bucket, avg(value) AS avg, locf(avg(value)) AS locf
       FROM readings WHERE sensor = 'greenhouse' AND time > now() - INTERVAL '4 hours' AND time <= now()
       GROUP BY 1 ORDER BY 1`,
    );
    expect(gapfill.state, gapfill.text).toBe('ok');
    // Greenhouse was offline in the history: some buckets have no average, and locf fills each of them
    // that has an earlier value (the window's first bucket can be empty too: it starts before the window).
    const firstValue = gapfill.cells.findIndex((row) => row[1] !== 'NULL');
    const gaps = gapfill.cells.slice(firstValue).filter((row) => row[1] === 'NULL');
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    expect(gaps.filter((row) => row[2] === 'NULL'), JSON.stringify(gapfill.cells)).toEqual([]);

    const chunks = await runSql(page, "SELECT count(*) AS n FROM show_chunks('readings')");
    expect(chunks.state).toBe('ok');
    expect(Number(chunks.cells[0]![0])).toBe(Number(await page.locator('#chunks table').getAttribute('data-chunks')));

    expect(await runSql(page, 'SELECT 1 / 0')).toMatchObject({ state: 'error', sqlstate: '22012', text: expect.stringContaining('division by zero') });
    const syntax = await runSql(page, 'SELECT * FROM readings WHERE');
    expect(syntax).toMatchObject({ state: 'error', sqlstate: '42601' });
    expect(syntax.text).toContain('^');
    expect(await runSql(page, 'SELECT * FROM no_such_table')).toMatchObject({ state: 'error', sqlstate: '42P01' });
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('imports a CSV file, all rows or none', async () => {
    const before = await rowCount(page);
    const lines = ['time,sensor,value'];
    for (let i = 0; i < 500; i++) lines.push(`${new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString()},"csv, imported",${(i / 10).toFixed(1)}`);
    await page.locator('#csv-file').setInputFiles({ name: 'readings.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\r\n')) });
    await page.waitForFunction(() => ['ok', 'error'].includes(document.getElementById('csv-status')?.dataset.state ?? ''), null, { timeout: 60_000 });
    expect(await page.locator('#csv-status').textContent()).toContain('Imported 500 rows');
    expect(await rowCount(page)).toBe(before + 500);
    const imported = await runSql(page, `SELECT count(*) AS n, min(time) AS first FROM readings WHERE sensor = 'csv, imported'`);
    expect(imported.cells).toEqual([['500', '2026-01-01T00:00:00.000Z']]);

    // A bad timestamp in the last line: PostgreSQL's own error, and none of the file's rows.
    const bad = `time,sensor,value\n2026-01-02T00:00:00Z,bad-file,1\nnot a time,bad-file,2\n`;
    await page.locator('#csv-file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
    await page.waitForFunction(() => document.getElementById('csv-status')?.dataset.state === 'error', null, { timeout: 60_000 });
    expect(await page.locator('#csv-status pre.error').getAttribute('data-sqlstate')).toBe('22007');
    expect(await rowCount(page)).toBe(before + 500);
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('shows the same rows after a page reload and after the browser is killed', async () => {
    const insert = await runSql(page, "INSERT INTO readings SELECT now() - g * INTERVAL '1 second', 'console', g FROM generate_series(1, 1000) g");
    expect(insert.text).toContain('1000 rows affected');
    const before = await rowCount(page);

    // A reload: the worker dies with the page, without a close.
    await page.reload();
    let ready = await waitReady(page);
    console.log(`demo after a reload: ready ${Math.round(ready.readyMs)} ms after navigation (open ${Math.round(ready.openMs)} ms, ${ready.attempts} attempt(s))`);
    expect(ready.newDatabase).toBe(false);
    expect(await rowCount(page)).toBe(before);

    // Acknowledged in the console, then the whole browser is SIGKILLed at once: no close, no shutdown.
    const last = await runSql(page, "INSERT INTO readings SELECT now() + g * INTERVAL '1 millisecond', 'last', g FROM generate_series(1, 250) g");
    expect(last.text).toContain('250 rows affected');
    await chrome!.kill();
    chrome = await startOwnChromium(profile.path);
    const logBefore = server!.log.length;
    ready = await openDemo();
    page = ready.page;
    console.log(`demo after a killed browser: ready ${Math.round(ready.readyMs)} ms after navigation (open ${Math.round(ready.openMs)} ms, ${ready.attempts} attempt(s))`);
    expect(ready.newDatabase).toBe(false);
    expect(await rowCount(page)).toBe(before + 250);
    // The stored database was reopened, not recreated from the template.
    expect(server!.log.slice(logBefore)).not.toContain('200 /pgdata-template.tar.gz');
    await page.waitForFunction((n) => document.getElementById('stat-rows')?.dataset.value === String(n), before + 250, { timeout: 30_000 });
    expect(pageErrors).toEqual([]);
  }, 300_000);

  it('waits for a file another page still holds (as after some reloads) and opens in its first worker', async () => {
    const before = await rowCount(page);
    await page.close();
    // Another page of the origin holds pg_control's OPFS file with a writable stream, which blocks
    // sync access handles exactly as a dying worker's handle does; aborting it leaves the file as it was.
    const holder = await chrome!.browser.contexts()[0]!.newPage();
    await holder.goto(`${server!.origin}/style.css`);
    await holder.evaluate(async () => {
      const pgdata = await (await (await navigator.storage.getDirectory()).getDirectoryHandle('orbit-demo')).getDirectoryHandle('pgdata');
      const state = JSON.parse((await (await (await pgdata.getFileHandle('state.txt')).getFile()).text()).split('\n')[0]!);
      const file = await (await pgdata.getDirectoryHandle('data')).getFileHandle(state.root.children.global.children.pg_control.backingFilename);
      // The closed page's worker may itself still hold the file for a moment.
      for (let waited = 0; ; waited += 100) {
        try {
          (window as unknown as { held: FileSystemWritableFileStream }).held = await file.createWritable({ keepExistingData: true });
          return;
        } catch (err) {
          if (waited > 10_000) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    });
    const demo = await chrome!.browser.contexts()[0]!.newPage();
    demo.on('pageerror', (err) => pageErrors.push(err.stack ?? err.message));
    await demo.goto(`${server!.origin}${DEMO_PATH}`);
    await demo.waitForTimeout(2500);
    await holder.evaluate(() => (window as unknown as { held: FileSystemWritableFileStream }).held.abort());
    await holder.close();
    const ready = await waitReady(demo);
    console.log(`demo with a held file: ready after ${ready.attempts} attempt(s), ${Math.round(ready.readyMs)} ms after navigation`);
    expect(ready.attempts).toBe(1);
    expect(ready.newDatabase).toBe(false);
    page = demo;
    expect(await rowCount(page)).toBe(before);
    expect(pageErrors).toEqual([]);
  }, 180_000);

  it('shares the database with a second tab, through the tab that owns it', async () => {
    const owner = await rowCount(page);
    const second = await openDemo();
    expect(second.newDatabase).toBe(false);
    expect(await second.page.locator('#stat-storage').textContent()).toContain('through the tab that owns it');
    expect(await rowCount(second.page)).toBe(owner);
    await second.page.close();
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('runs on IndexedDB as well (storage=idb), from the template too, and shows the TypeScript fallback (wasm=off)', async () => {
    const idb = await chrome!.browser.contexts()[0]!.newPage();
    idb.on('pageerror', (err) => pageErrors.push(err.stack ?? err.message));
    await idb.goto(`${server!.origin}${DEMO_PATH}&storage=idb&wasm=off`);
    const ready = await waitReady(idb);
    expect(await idb.locator('#stat-storage').textContent()).toBe('IndexedDB: idb://orbit-demo');
    expect(await idb.locator('#stat-backend').textContent()).toBe('TypeScript fallback codecs and kernels');
    expect(await idb.locator('#stat-backend').getAttribute('title')).toBe('codecs: disabled (codecsUrl: null)\nkernels: disabled (kernelsUrl: null)');
    console.log(`demo on IndexedDB, new database from the template: ready ${Math.round(ready.readyMs)} ms after navigation (open ${Math.round(ready.openMs)} ms)`);
    expect(ready).toMatchObject({ newDatabase: true, dataDir: 'idb://orbit-demo' });
    expect(await rowCount(idb)).toBe(4 * 1441 - 74);
    await idb.close();
    expect(pageErrors).toEqual([]);
  }, 180_000);
});
