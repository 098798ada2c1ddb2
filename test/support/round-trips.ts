/**
 * @module test/support/round-trips
 * Counts an Orbit's protocol round trips to its row store: every statement, the in-process API's
 * and every session's, reaches PGlite through `execProtocolRaw`.
 */
import type { Orbit } from '../../src/orbit.js';
import type { RowStore } from '../../src/rowstore/types.js';

/** The row store under Orbit's request count (rowstore/counted.ts): its `query` reaches `execProtocolRaw` there. */
export function innerRowStore(db: Orbit): RowStore {
  return db.rowStore.inner;
}

/**
 * Starts counting (only the round trips whose messages `only` accepts, if given); the returned
 * function gives the count since its last call.
 */
export function countRoundTrips(db: Orbit, only?: (messages: Uint8Array) => boolean): () => number {
  const store = innerRowStore(db);
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
