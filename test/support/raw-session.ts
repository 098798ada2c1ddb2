/**
 * A test server with one raw wire client (support/raw-client.ts) that ran `setup` (each statement
 * must succeed), for tests comparing the exact bytes of simple-query answers.
 */
import { expect } from 'vitest';
import { RawClient, msg, type BackendMsg } from './raw-client.js';
import { startTestServer } from './server.js';

export interface RawSession {
  /** Sends a simple Query and returns every message up to ReadyForQuery. */
  run(sql: string, timeoutMs?: number): Promise<BackendMsg[]>;
  close(): Promise<void>;
}

export async function startRawSession(setup: readonly string[]): Promise<RawSession> {
  const server = await startTestServer();
  const c = await RawClient.ready(server.port);
  const run = async (sql: string, timeoutMs = 30_000) => {
    c.send(msg('Q', (w) => w.cstring(sql)));
    return c.until('Z', timeoutMs);
  };
  for (const sql of setup) expect((await run(sql, 60_000)).filter((m) => m.type === 'E')).toEqual([]);
  return {
    run,
    close: async () => {
      c.close();
      await server.close();
    },
  };
}
