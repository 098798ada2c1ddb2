/**
 * @module web-demo/main
 * The dashboard page. The database runs in a dedicated module worker (the engine's own
 * src/runtime/browser-worker.ts, bundled as orbit-worker.js); this page only sends it SQL through the
 * typed worker protocol and draws what comes back, so PGlite's start and every query stay off the
 * main thread.
 *
 * URL parameters: `storage=opfs|idb|memory` (default: OPFS, falling back to IndexedDB where a worker
 * has no OPFS sync access handles), `stream=off` (start with the live stream paused), `wasm=off` (the
 * TypeScript codecs and kernels instead of codecs.wasm and kernels.wasm).
 */
import { BucketChart, GapfillChart, type BucketRow, type GapfillRow } from './charts.js';
import { readingsFromCsv } from './csv.js';
import { OrbitClient, OrbitClientError } from './orbit-client.js';
import { InfoPanels, probeFeatures } from './panels.js';
import { byId, el, errorBlock, formatBytes } from './render.js';
import { history, SensorStream, SENSORS, type Readings } from './sensors.js';
import { SqlConsole } from './sql-console.js';
import { BUCKETS, CREATE_SCHEMA, EXAMPLES, GAPFILL, INSERT_CSV, INSERT_READINGS, STATS, TABLE_EXISTS } from './sql.js';

const params = new URLSearchParams(location.search);
const DB_NAME = 'orbit-demo';
/** How often the charts and panels re-query, and how often the stream inserts a batch. */
const REFRESH_MS = 2000;
const TICK_MS = 1000;
/** Seeds the backfilled day: the same history on every new database at the same clock. */
const HISTORY_SEED = 20_261_125;

const db = new OrbitClient(new URL('./orbit-worker.js', import.meta.url).href);
const status = byId('status');

function setStatus(state: 'opening' | 'ready' | 'error', text: string): void {
  status.dataset.state = state;
  status.textContent = text;
}

/**
 * OPFS first (random-access, the data need not fit in memory), IndexedDB where the worker has no
 * OPFS sync access handles: browser.ts answers 0A000 (feature_not_supported) for that.
 */
async function openDatabase(): Promise<{ dataDir: string; proxy: boolean; attempts: number }> {
  const choice = params.get('storage');
  const candidates =
    choice === 'idb' ? [`idb://${DB_NAME}`] : choice === 'memory' ? ['memory://'] : [`opfs-ahp://${DB_NAME}`, `idb://${DB_NAME}`];
  for (const [i, dataDir] of candidates.entries()) {
    try {
      return await openWithRetry(dataDir);
    } catch (err) {
      const unsupported = err instanceof OrbitClientError && err.code === '0A000';
      if (!unsupported || i === candidates.length - 1) throw err;
    }
  }
  throw new Error('no storage to open');
}

/**
 * After a reload the old page's worker can still hold OPFS handles on some of PGlite's files for a
 * moment; the open waits for them itself (up to `handleWaitMs`, 10 s by default). If they stay held
 * longer it fails with 55006, and a fresh worker tries again a little later (the failed one is ended
 * first, although it has already let go of every handle it took).
 */
async function openWithRetry(dataDir: string): Promise<{ dataDir: string; proxy: boolean; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      // templateUrl is resolved against the worker's URL and fetched only for a new database.
      // lockWaitMs: after a reload the old page's worker may hold the database for a moment; a second
      // tab waits this long before it proxies to the owner, so it is kept short.
      // wasm=off: the TypeScript codecs and kernels (same results, slower), to see the fallback.
      const wasm = params.get('wasm') === 'off' ? { codecsUrl: null, kernelsUrl: null } : {};
      const { proxy } = await db.open({ dataDir, templateUrl: './pgdata-template.tar.gz', lockWaitMs: 4000, ...wasm });
      return { dataDir, proxy, attempts: attempt };
    } catch (err) {
      const busy = err instanceof OrbitClientError && err.code === '55006' && dataDir.startsWith('opfs-ahp://');
      if (!busy || attempt === 3) throw err;
      setStatus('opening', `Waiting for another page to let go of the database (attempt ${attempt + 1})…`);
      db.restart();
      await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
  }
}

function insertReadings(r: Readings): Promise<unknown> {
  return db.query(INSERT_READINGS, [r.time, r.sensor, r.value]);
}

/** Creates the hypertable and backfills a day of history, unless the database already has it. */
async function prepareSchema(): Promise<boolean> {
  const { rows } = await db.query<{ exists: boolean }>(TABLE_EXISTS);
  if (rows[0]?.exists) return false;
  await db.exec(CREATE_SCHEMA);
  await insertReadings(history(Date.now(), 24 * 3_600_000, 60_000, HISTORY_SEED));
  return true;
}

class LiveStream {
  private readonly stream = new SensorStream(Date.now() >>> 0);
  private readonly button = byId<HTMLButtonElement>('stream-toggle');
  private readonly rate = byId<HTMLSelectElement>('stream-rate');
  private readonly ingested = byId('stat-ingested');
  private timer: ReturnType<typeof setInterval> | undefined;
  private inFlight = false;
  private acknowledged = 0;

  constructor(private readonly onError: (err: unknown) => void) {
    this.button.addEventListener('click', () => (this.timer ? this.stop() : this.start()));
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.button.textContent = 'Pause stream';
    this.button.dataset.running = 'true';
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.button.textContent = 'Start stream';
    this.button.dataset.running = 'false';
  }

  /** One batch per tick; a tick that finds the previous batch unanswered skips (no backlog grows). */
  private async tick(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const batch = this.stream.next(Date.now(), TICK_MS, Number(this.rate.value));
      await insertReadings(batch);
      this.acknowledged += batch.time.length;
      this.ingested.textContent = this.acknowledged.toLocaleString('en-US');
      this.ingested.dataset.value = String(this.acknowledged);
    } catch (err) {
      this.stop();
      this.onError(err);
    } finally {
      this.inFlight = false;
    }
  }
}

/** A CSV of readings for a sensor the stream does not have, to try the import with. */
function sampleCsv(): string {
  const end = Date.now();
  const lines = ['time,sensor,value'];
  for (let t = end - 6 * 3_600_000; t <= end; t += 60_000) {
    const v = 15 + 3 * Math.sin(t / 3_600_000) + Math.cos(t / 420_000);
    lines.push(`${new Date(t).toISOString()},basement,${v.toFixed(2)}`);
  }
  return `${lines.join('\n')}\n`;
}

function setUpCsvImport(refresh: () => void): void {
  const input = byId<HTMLInputElement>('csv-file');
  const out = byId('csv-status');
  const sample = byId<HTMLAnchorElement>('csv-sample');
  // Made on click, so its times end now; the link follows the new href (activation reads it after the handler).
  sample.addEventListener('click', () => {
    if (sample.href.startsWith('blob:')) URL.revokeObjectURL(sample.href);
    sample.href = URL.createObjectURL(new Blob([sampleCsv()], { type: 'text/csv' }));
  });
  input.addEventListener('change', async () => {
    const file = input.files?.[0];
    if (!file) return;
    out.dataset.state = 'running';
    out.textContent = `Importing ${file.name}…`;
    const t0 = performance.now();
    try {
      const csv = readingsFromCsv(await file.text());
      const result = await db.query(INSERT_CSV, [csv.time, csv.sensor, csv.value]);
      const n = result.affectedRows ?? 0;
      out.replaceChildren(`Imported ${n.toLocaleString('en-US')} rows from ${file.name} in ${Math.round(performance.now() - t0)} ms (one transaction).`);
      out.dataset.state = 'ok';
      out.dataset.rows = String(n);
    } catch (err) {
      out.replaceChildren(`${file.name}: `, errorBlock(err));
      out.dataset.state = 'error';
    } finally {
      input.value = '';
      refresh();
    }
  });
}

/** Re-queries everything the dashboard shows, one pass at a time (never overlapping). */
class Refresher {
  private readonly buckets = new BucketChart(byId('chart-buckets'));
  private readonly gapfill = new GapfillChart(byId('chart-gapfill'));
  private readonly window = byId<HTMLSelectElement>('bucket-window');
  private readonly gapSensor = byId<HTMLSelectElement>('gapfill-sensor');
  private readonly errors = byId('refresh-error');
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private again = false;

  constructor(private readonly panels: InfoPanels) {
    for (const s of SENSORS) this.gapSensor.append(el('option', { value: s.name }, s.name));
    this.window.addEventListener('change', () => this.now());
    this.gapSensor.addEventListener('change', () => this.now());
  }

  /** Refreshes now, or right after the pass in progress. */
  now(): void {
    clearTimeout(this.timer);
    if (this.running) this.again = true;
    else void this.pass();
  }

  private async pass(): Promise<void> {
    this.running = true;
    const t0 = performance.now();
    try {
      await Promise.all([this.stats(), this.bucketChart(), this.gapfillChart(), this.panels.refresh()]);
      this.errors.replaceChildren();
      byId('refresh-ms').textContent = `${Math.round(performance.now() - t0)} ms`;
    } catch (err) {
      this.errors.replaceChildren(errorBlock(err));
    } finally {
      this.running = false;
      clearTimeout(this.timer);
      if (this.again) {
        this.again = false;
        void this.pass();
      } else this.timer = setTimeout(() => void this.pass(), REFRESH_MS);
    }
  }

  private async stats(): Promise<void> {
    const { rows } = await db.query<{ rows: number | bigint; chunks: number; bytes: number | bigint | null; latest: Date | null }>(STATS);
    const s = rows[0]!;
    const rowsEl = byId('stat-rows');
    rowsEl.textContent = Number(s.rows).toLocaleString('en-US');
    rowsEl.dataset.value = String(s.rows);
    byId('stat-chunks').textContent = String(s.chunks);
    byId('stat-size').textContent = formatBytes(s.bytes);
    byId('stat-latest').textContent = s.latest ? s.latest.toISOString().slice(11, 19) : '—';
  }

  private async bucketChart(): Promise<void> {
    const [width, span] = this.window.value.split('|') as [string, string];
    const { rows } = await db.query<BucketRow>(BUCKETS, [width, span]);
    this.buckets.update(rows);
  }

  private async gapfillChart(): Promise<void> {
    const step = 10 * 60_000;
    const finish = Math.ceil(Date.now() / step) * step;
    const start = finish - 4 * 3_600_000;
    const { rows } = await db.query<GapfillRow>(GAPFILL, ['10 minutes', new Date(start), new Date(finish), this.gapSensor.value]);
    this.gapfill.update(rows);
  }
}

function storageName(dataDir: string): string {
  return dataDir.startsWith('opfs-ahp://') ? 'OPFS' : dataDir.startsWith('idb://') ? 'IndexedDB' : 'memory';
}

/** The worker's `stats`: WASM codecs and kernels, or the TypeScript fallback and why. */
async function showBackend(): Promise<void> {
  const s = await db.stats();
  const el = byId('stat-backend');
  Object.assign(el.dataset, { codecs: s.codecs ?? 'owner', kernels: s.kernels ?? 'owner' });
  if (s.codecs === null) el.textContent = 'in the tab that owns the database';
  else {
    const name = (b: string | null) => (b === 'wasm' ? 'WASM' : 'TypeScript fallback');
    el.textContent = s.codecs === s.kernels ? `${name(s.codecs)} codecs and kernels` : `codecs: ${name(s.codecs)}, kernels: ${name(s.kernels)}`;
    if (s.fallbacks.length > 0) el.title = s.fallbacks.join('\n');
  }
}

async function boot(): Promise<void> {
  setStatus('opening', 'Opening the database in a worker…');
  const t0 = performance.now();
  const { dataDir, proxy, attempts } = await openDatabase();
  const openMs = performance.now() - t0;
  const created = await prepareSchema();
  // From navigation start: page, worker and WASM loads, template copy (new databases), schema, history.
  const readyMs = performance.now();
  Object.assign(status.dataset, { openMs: openMs.toFixed(0), readyMs: readyMs.toFixed(0), newDatabase: String(created), dataDir, attempts: String(attempts) });
  byId('stat-storage').textContent = `${storageName(dataDir)}: ${dataDir}${proxy ? ' (through the tab that owns it)' : ''}`;
  await showBackend();
  byId('stat-start').textContent = `${(readyMs / 1000).toFixed(1)} s (open ${(openMs / 1000).toFixed(1)} s${created ? ', new database from the shipped template' : ''})`;

  const features = await probeFeatures(db);
  const panels = new InfoPanels(db, features);
  const refresher = new Refresher(panels);
  const sqlConsole = new SqlConsole(db, () => refresher.now());
  const stream = new LiveStream((err) => byId('refresh-error').replaceChildren(errorBlock(err)));
  setUpCsvImport(() => refresher.now());
  byId('compress-enable').addEventListener('click', () => void sqlConsole.show(EXAMPLES['Enable the columnstore']!));
  byId('compress-chunks').addEventListener('click', () => void sqlConsole.show(EXAMPLES['Compress chunks older than 12 hours']!));

  refresher.now();
  if (params.get('stream') !== 'off') stream.start();
  setStatus('ready', created ? 'Ready: created the hypertable and a day of history.' : 'Ready: reopened the stored database.');
}

boot().catch((err: unknown) => {
  setStatus('error', 'Could not open the database:');
  status.append(errorBlock(err));
});
