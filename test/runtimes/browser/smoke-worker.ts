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
      await db.close();
      reply = { ok: true, run: { global: globalThis.constructor.name, results, openMs: t1 - t0, smokeMs: t2 - t1, backends } };
    } catch (err) {
      reply = { ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
    }
    scope.postMessage(reply);
  },
  { once: true },
);
