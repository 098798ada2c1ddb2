/**
 * @module runtime/workers
 * Entry of the edge profile (Cloudflare Workers / workerd), published as `orbit/workers` and the only
 * module `worker/` imports. PGlite is never imported here, directly or through what this re-exports:
 * the edge profile runs Orbit's own SQL layer over libpg-query. workerd cannot compile wasm at run time,
 * so the parser's wasm reaches it pre-compiled through the Worker build (worker/build.mjs).
 */

// SQL front end: PostgreSQL's parser (libpg-query) and statement classification.
export { loadParser, parseSql, type ParsedStatement } from '../sql/parser.js';
export { classify, StatementKind, type ClassifiedStatement } from '../sql/classify.js';

// Errors: one error type carrying SQLSTATEs, for transports that map codes to their own status.
export { OrbitError, toOrbitError } from '../errors.js';
export { SqlState, type SqlStateCode } from '../sqlstate.js';

// The edge database a Durable Object hosts: engine, RowStore, sessions, HTTP and WebSocket entry points.
export { EdgeDatabase, openShard, type EdgeDatabaseOptions, type EdgeStats, type HttpAnswer } from '../edge/database.js';
export type { EdgeShard } from '../edge/shard-object.js';
export type { ScanResult, ShardRouter, ShardTable } from '../edge/shards.js';
export { isStdinForm, readStdinBody, STDIN_CONTENT_TYPE } from '../edge/http-body.js';
export { decodeTransfer, encodeTransfer, type ChunkTransfer, type TransferHeader } from '../edge/chunk-transfer.js';
export { DurableObjectStorage, type DurableObjectStorageLike } from '../storage/durable-object.js';
