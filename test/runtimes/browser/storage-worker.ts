/**
 * Test worker for storage and durability: opens one Orbit database with the browser runtime and
 * runs commands the page relays from the test (SQL, `transaction()`, Orbit objects), or runs the
 * storage contract cases with sync access handles available. Bundled by the storage tests.
 */
import { openOrbit, type Orbit } from '../../../src/runtime/browser.js';
import type { PGliteRowStore } from '../../../src/rowstore/pglite.js';
import type { CountedRowStore } from '../../../src/rowstore/counted.js';
import type { IndexedDbPgdataBackend } from '../../../src/storage/indexeddb-pgdata.js';
import type { QuotaAwareOpfsAhpFS } from '../../../src/storage/opfs-pgdata.js';
import { runContract, type StorageCommand, type StorageReply } from './storage-shared.js';

const scope = globalThis as unknown as DedicatedWorkerGlobalScope;
let orbit: Orbit | undefined;

async function handle(command: StorageCommand): Promise<unknown> {
  switch (command.op) {
    case 'open': {
      const t0 = performance.now();
      orbit = await openOrbit(command.options);
      return { openMs: performance.now() - t0 };
    }
    case 'exec':
      return (await db().exec(command.sql)).map((r) => r.rows);
    case 'transaction':
      // Orbit's own transaction(): BEGIN, the statements, COMMIT, made durable before it resolves.
      return db().transaction(async (tx) => {
        for (const sql of command.sqls) await tx.query(sql);
        return null;
      });
    case 'put':
      return db().storage.put(command.key, new Uint8Array(command.bytes));
    case 'get': {
      const value = await db().storage.get(command.key);
      return value === undefined ? null : [...value];
    }
    case 'list':
      return db().storage.list(command.prefix);
    case 'close':
      await orbit?.close();
      orbit = undefined;
      return null;
    case 'pgdataStats': {
      // Test-only reach into PGlite: its MemfsFrontendFS holds our backend.
      const fs = (((db().rowStore as CountedRowStore).inner as PGliteRowStore).db as unknown as { fs: { backend: IndexedDbPgdataBackend } }).fs;
      return { ...fs.backend.stats };
    }
    case 'handleWaits': {
      // Test-only reach into PGlite: its file system is ours (storage/opfs-pgdata).
      const fs = (((db().rowStore as CountedRowStore).inner as PGliteRowStore).db as unknown as { fs: QuotaAwareOpfsAhpFS }).fs;
      return { ...fs.handleWaits };
    }
    case 'contract':
      return runContract(command.backend, command.prefix);
  }
}

function db(): Orbit {
  if (!orbit) throw new Error('no database is open');
  return orbit;
}

scope.addEventListener('message', async (event: MessageEvent<{ id: number; command: StorageCommand }>) => {
  const { id, command } = event.data;
  let reply: StorageReply;
  try {
    reply = { id, ok: true, result: await handle(command) };
  } catch (err) {
    const e = err as { code?: string; message?: string; hint?: string; name?: string };
    reply = { id, ok: false, error: { code: e.code, name: e.name, message: String(e.message ?? err), hint: e.hint } };
  }
  scope.postMessage(reply);
});
