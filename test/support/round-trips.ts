/**
 * @module test/support/round-trips
 * Counts an Orbit's protocol round trips to its row store: every statement, the in-process API's
 * and every session's, reaches PGlite through `execProtocolRaw`.
 */
import type { Orbit } from '../../src/orbit.js';
import type { RowStore } from '../../src/rowstore/types.js';

/**
 * Starts counting (only the round trips whose messages `only` accepts, if given); the returned
 * function gives the count since its last call.
 */
export function countRoundTrips(db: Orbit, only?: (messages: Uint8Array) => boolean): () => number {
  const store = (db as unknown as { rowStore: RowStore }).rowStore;
  const raw = store.execProtocolRaw.bind(store);
  let count = 0;
  store.execProtocolRaw = (messages) => {
    if (!only || only(messages)) count++;
    return raw(messages);
  };
  return () => {
    const n = count;
    count = 0;
    return n;
  };
}
