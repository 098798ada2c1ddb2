/**
 * @module rowstore/worker-protocol
 * Messages between a row store host and the PGlite it runs in another thread.
 */
import type { QueryResult } from './types.js';

export const RowStoreOp = {
  execProtocolRaw: 'execProtocolRaw',
  query: 'query',
  exec: 'exec',
  sync: 'sync',
  close: 'close',
} as const;
export type RowStoreOp = (typeof RowStoreOp)[keyof typeof RowStoreOp];

export type RowStoreRequest =
  | { readonly id: number; readonly op: 'execProtocolRaw'; readonly data: Uint8Array }
  | { readonly id: number; readonly op: 'query'; readonly sql: string; readonly params?: unknown[] }
  | { readonly id: number; readonly op: 'exec'; readonly sql: string }
  | { readonly id: number; readonly op: 'sync' }
  | { readonly id: number; readonly op: 'close' };

export interface RowStoreResults {
  execProtocolRaw: Uint8Array;
  query: QueryResult;
  exec: QueryResult[];
  sync: null;
  close: null;
}

/** Error fields carried across the thread boundary (an OrbitError's PostgreSQL fields). */
export interface WireError {
  readonly code: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

export type RowStoreResponse =
  | { readonly id: number; readonly ok: true; readonly result: RowStoreResults[RowStoreOp] }
  | { readonly id: number; readonly ok: false; readonly error: WireError };

/** First message from the thread: PGlite is open, or could not be. */
export type RowStoreReady = { readonly ready: true } | { readonly ready: false; readonly error: WireError };

export interface RowStoreWorkerData {
  readonly dataDir: string;
  /** Path of a cluster tarball to start a new data directory from. */
  readonly templatePath?: string;
  /** `timescaledb.*` settings of the server's configuration. */
  readonly settings?: Readonly<Record<string, string>>;
}
