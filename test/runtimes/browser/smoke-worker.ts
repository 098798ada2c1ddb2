/**
 * Test worker: runs the shared smoke suite (test/support/smoke-suite.ts) on the browser runtime inside a
 * dedicated module worker and posts the JSON results to the page. Bundled by smoke.test.ts.
 */
import { openOrbit, wasmBackendsOf, type WasmBackends } from '../../../src/runtime/browser.js';
import { runSmoke, type SmokeResult } from '../../support/smoke-suite.js';

export interface SmokeRun {
  /** The global scope's class, to show the suite ran in a dedicated worker. */
  readonly global: string;
  readonly results: SmokeResult[];
  /** Milliseconds to open the database (template fetch, PGlite start, parser load). */
  readonly openMs: number;
  /** Milliseconds for the whole suite. */
  readonly smokeMs: number;
  /** The columnstore backends the suite ran on. */
  readonly backends: WasmBackends | undefined;
  /** Runs of a 1-second job the scheduler made on its own timer in this worker. */
  readonly jobRuns: { logged: number; recorded: number };
}

export type SmokeWorkerReply = { readonly ok: true; readonly run: SmokeRun } | { readonly ok: false; readonly error: string };

const scope = globalThis as unknown as DedicatedWorkerGlobalScope;

scope.addEventListener(
  'message',
  async (event: MessageEvent<{ templateUrl: string }>) => {
    let reply: SmokeWorkerReply;
    try {
      const t0 = performance.now();
      const db = await openOrbit({ dataDir: 'memory://', templateUrl: event.data.templateUrl });
      const t1 = performance.now();
      const results = await runSmoke(db);
      const t2 = performance.now();
      const backends = wasmBackendsOf(db);
      const jobRuns = await scheduledJobRuns(db);
      await db.close();
      reply = { ok: true, run: { global: globalThis.constructor.name, results, openMs: t1 - t0, smokeMs: t2 - t1, backends, jobRuns } };
    } catch (err) {
      reply = { ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
    }
    scope.postMessage(reply);
  },
  { once: true },
);

/** Adds a job due every second and waits (up to 15 s) for the worker's scheduler to run it twice. */
async function scheduledJobRuns(db: Awaited<ReturnType<typeof openOrbit>>): Promise<{ logged: number; recorded: number }> {
  await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb;
    CREATE TABLE job_log (job_id int);
    CREATE FUNCTION job_tick(job_id int, config jsonb) RETURNS void LANGUAGE sql AS $$ INSERT INTO job_log VALUES (job_id) $$;
    SELECT add_job('job_tick', '1 second');`);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const r = await db.query<{ logged: number; recorded: number }>(
      'SELECT (SELECT count(*)::int FROM job_log) AS logged, (SELECT coalesce(sum(total_successes), 0)::int FROM timescaledb_information.job_stats WHERE job_id >= 1000) AS recorded',
    );
    const runs = r.rows[0]!;
    if (runs.recorded >= 2 || Date.now() > deadline) return runs;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
