/**
 * @module edge/shard-chunks
 * Which object holds a hypertable's chunk (this one, or a shard object: docs/runtimes/workers.md,
 * "Scale-out"), how many shard objects its new chunks spread over, and the operations that follow a
 * chunk to where it is (drop_chunks, compress_chunk, DROP TABLE): the coordinator's side, calling
 * its shards first, and a shard's side of each (shard-object.ts EdgeShard calls them).
 */
import { orbitError } from '../errors.js';
import type { Chunk, Hypertable } from './catalog.js';
import type { EdgeEngine } from './engine.js';
import { notAtEdge } from './expr.js';
import { seal } from './seal.js';
import { MAX_SHARDS, type ShardChunk } from './shards.js';

/** Shard objects the hypertable's new chunks spread over (0: kept in this object). */
export function shardCount(engine: EdgeEngine, table: string): number {
  return Number(engine.catalog.meta(`shards:${table}`) ?? 0);
}

/** ALTER TABLE … SET (orbit.shards = n): chunks created from now on go to n shard objects. */
export function setShardCount(engine: EdgeEngine, table: string, n: number): void {
  if (!engine.catalog.hypertable(table)) throw orbitError('feature_not_supported', `"${table}" is not a hypertable`, { detail: 'Only hypertables spread over shard objects.' });
  if (!Number.isInteger(n) || n < 0 || n > MAX_SHARDS) throw orbitError('invalid_parameter_value', `orbit.shards must be an integer from 0 to ${MAX_SHARDS}`);
  if (n > 0 && !engine.shards) throw notAtEdge('orbit.shards without shard objects (the Worker binds them as ORBIT_SHARD)');
  engine.catalog.setMeta(`shards:${table}`, String(n));
}

/** The shard object holding a chunk, if it is not in this object. */
export function chunkShard(engine: EdgeEngine, chunkId: number): string | undefined {
  return engine.catalog.meta(`chunk_shard:${chunkId}`);
}

/** Distinct shard objects holding chunks of `h` that overlap [lo, hi) (internal time), in key order. */
export function shardsOverlapping(engine: EdgeEngine, h: Hypertable, lo: number | undefined, hi: number | undefined): string[] {
  const keys = new Set<string>();
  for (const c of engine.catalog.chunksOverlapping(h.id, lo, hi)) {
    const k = chunkShard(engine, c.id);
    if (k !== undefined) keys.add(k);
  }
  return [...keys].sort();
}

/**
 * Drops chunks of `h` (drop_chunks, retention): those held by shard objects in their shards first,
 * all shards at once, then the catalog entries here. A failed shard call fails the statement with
 * the chunks still listed here, so a retry drops what is left (dropping is idempotent per range).
 */
export async function dropChunks(engine: EdgeEngine, h: Hypertable, chunks: readonly Chunk[]): Promise<void> {
  const remote = new Map<string, ShardChunk[]>();
  for (const c of chunks) {
    const shard = chunkShard(engine, c.id);
    if (shard === undefined) continue;
    let list = remote.get(shard);
    if (!list) remote.set(shard, (list = []));
    list.push({ rangeStart: c.rangeStart, rangeEnd: c.rangeEnd });
  }
  await Promise.all([...remote].map(([shard, list]) => engine.shards!.router.dropChunks(shard, h.tableName, list)));
  engine.catalog.atomically(() => chunks.forEach((c) => engine.catalog.dropChunk(c.id)));
  // The batch objects go after the catalog no longer points at them.
  await engine.columnstore.sweep(engine.catalog.allManifestKeys());
}

/** compress_chunk: seals the chunk's write buffer here or in the shard object holding it. */
export async function compressChunk(engine: EdgeEngine, h: Hypertable, chunk: Chunk): Promise<void> {
  const shard = chunkShard(engine, chunk.id);
  if (shard === undefined) await seal(engine, h, engine.catalog.requireTable(h.tableName), chunk.id);
  else await engine.shards!.router.compressChunk(shard, h.tableName, { rangeStart: chunk.rangeStart, rangeEnd: chunk.rangeEnd });
}

/** DROP TABLE of a sharded hypertable: every shard holding its chunks drops its copy first. */
export async function dropShardedTable(engine: EdgeEngine, name: string): Promise<void> {
  const h = engine.catalog.hypertable(name);
  if (!h || !engine.shards) return;
  const shards = new Set<string>();
  for (const c of engine.catalog.chunks(h.id)) {
    const k = chunkShard(engine, c.id);
    if (k !== undefined) shards.add(k);
  }
  await Promise.all([...shards].map((k) => engine.shards!.router.dropTable(k, name)));
}

/** A shard object's side of drop_chunks: its chunks inside the given ranges. Returns how many. */
export async function dropChunkRanges(engine: EdgeEngine, tableName: string, ranges: readonly ShardChunk[]): Promise<number> {
  const h = engine.catalog.hypertable(tableName);
  if (!h) return 0;
  const chunks = engine.catalog.chunks(h.id).filter((c) => ranges.some((r) => c.rangeStart >= r.rangeStart && c.rangeEnd <= r.rangeEnd));
  await dropChunks(engine, h, chunks);
  return chunks.length;
}

/** A shard object's side of compress_chunk. */
export async function sealRange(engine: EdgeEngine, tableName: string, range: ShardChunk): Promise<void> {
  const h = engine.catalog.hypertable(tableName);
  if (!h) return;
  const chunk = engine.catalog.chunks(h.id).find((c) => c.rangeStart === range.rangeStart && c.rangeEnd === range.rangeEnd);
  if (chunk) await seal(engine, h, engine.catalog.requireTable(tableName), chunk.id);
}

/** A shard object's side of DROP TABLE. */
export async function dropLocalTable(engine: EdgeEngine, tableName: string): Promise<void> {
  engine.catalog.atomically(() => {
    if (engine.catalog.table(tableName)) engine.catalog.dropTable(tableName);
  });
  await engine.columnstore.sweep(engine.catalog.allManifestKeys());
}
