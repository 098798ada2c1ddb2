/**
 * @module orbit
 * Orbit's public API. Runtime entries (`orbit/node`, `orbit/browser`, `orbit/workers`) add the pieces
 * that depend on a platform.
 */

// The engine core
export { Orbit, type OrbitOptions, type OrbitSession, type Queryable, type Transaction } from './orbit.js';
export type { CopyFile, CopySource } from './session/embedded-copy.js';
// Errors with PostgreSQL SQLSTATEs
export { OrbitError, notSupported, orbitError, toOrbitError } from './errors.js';
export { SqlState, type SqlStateCode, type SqlStateName } from './sqlstate.js';
// Contracts for pluggable parts
export type { RowStore, QueryResult, FieldInfo } from './rowstore/types.js';
export { StorageKind, type StorageAdapter } from './storage/types.js';
export { MemoryStorage } from './storage/memory.js';
// The SQL layer
export { loadParser, parseSql, type ParsedStatement } from './sql/parser.js';
export { classify, StatementKind, type ClassifiedStatement } from './sql/classify.js';
// The offline-first gateway: forwarding a local hypertable to a remote PostgreSQL exactly once
export { Forwarder, ForwarderState, type ForwarderOptions, type ForwarderStatus, type BatchResult, type RetryOptions } from './gateway/forwarder.js';
export { clientRemote, RemoteTimeout, type Remote, type RemoteTransaction, type PgLikeClient, type ClientRemoteOptions } from './gateway/remote.js';
