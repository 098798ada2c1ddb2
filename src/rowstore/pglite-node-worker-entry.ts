/**
 * @module rowstore/pglite-node-worker-entry
 * Runs in a Node worker thread: one PGlite, answering RowStoreRequests from the host thread.
 */
import { readFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { toOrbitError } from '../errors.js';
import { PGliteRowStore } from './pglite.js';
import type { RowStoreReady, RowStoreRequest, RowStoreResponse, RowStoreWorkerData, WireError } from './worker-protocol.js';

const port = parentPort!;
const data = workerData as RowStoreWorkerData;

function wireError(err: unknown): WireError {
  const e = toOrbitError(err);
  return { ...e, code: e.code, message: e.message, cause: undefined };
}

async function open(): Promise<PGliteRowStore> {
  const loadDataDir = data.templatePath ? new Blob([await readFile(data.templatePath)]) : undefined;
  return PGliteRowStore.open({ dataDir: data.dataDir, loadDataDir, settings: data.settings });
}

try {
  const store = await open();
  port.on('message', (req: RowStoreRequest) => {
    void handle(store, req).then((res) => {
      if (res.ok && res.result instanceof Uint8Array) {
        // Transfer the bytes, never a buffer they merely view (it may be PGlite's own).
        const r = res.result;
        const own = r.byteOffset === 0 && r.byteLength === r.buffer.byteLength && r.buffer instanceof ArrayBuffer ? r : r.slice();
        port.postMessage({ ...res, result: own }, [own.buffer as ArrayBuffer]);
      } else {
        port.postMessage(res);
      }
    });
  });
  port.postMessage({ ready: true } satisfies RowStoreReady);
} catch (err) {
  port.postMessage({ ready: false, error: wireError(err) } satisfies RowStoreReady);
}

async function handle(store: PGliteRowStore, req: RowStoreRequest): Promise<RowStoreResponse> {
  try {
    switch (req.op) {
      case 'execProtocolRaw':
        return { id: req.id, ok: true, result: await store.execProtocolRaw(req.data) };
      case 'query':
        return { id: req.id, ok: true, result: await store.query(req.sql, req.params) };
      case 'exec':
        return { id: req.id, ok: true, result: await store.exec(req.sql) };
      case 'sync':
        await store.sync();
        return { id: req.id, ok: true, result: null };
      case 'close':
        await store.close();
        return { id: req.id, ok: true, result: null };
    }
  } catch (err) {
    return { id: req.id, ok: false, error: wireError(err) };
  }
}
