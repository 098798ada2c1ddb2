/**
 * For a describe block: an in-process Orbit on `memory://` (no job scheduler) with the extension,
 * `setup` run, then every chunk of the `compress` hypertables converted to the columnstore; made
 * before its tests and closed after them. Read it inside tests (`fixture.db`).
 */
import { afterAll, beforeAll } from 'vitest';
import type { Orbit } from '../../src/orbit.js';
import { openOrbit } from '../../src/runtime/node.js';
import { TEMPLATE } from './server.js';

export function inProcessOrbit(setup: string, compress: readonly string[] = []): { readonly db: Orbit } {
  let db: Orbit | undefined;
  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, jobScheduler: false });
    await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb; ${setup}`);
    // Its own statement: rows reach their chunks when the batch that inserted them ends.
    for (const table of compress) await db.exec(`SELECT compress_chunk(c) FROM show_chunks('${table}') c`);
  });
  afterAll(async () => {
    await db?.close();
  });
  return {
    get db() {
      return db!;
    },
  };
}
