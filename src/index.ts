/**
 * @module orbit
 * Orbit's public API. Runtime entries (`orbit/node`, `orbit/browser`, `orbit/workers`) add the pieces
 * that depend on a platform.
 */

// The engine core
export { Orbit, type OrbitOptions, type Queryable, type Transaction } from './orbit.js';
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
