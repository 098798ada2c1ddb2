/**
 * @module edge/writes
 * Rows reaching storage outside a transaction block (or at its COMMIT): into the chunks' write
 * buffers in one SQLite transaction (acknowledged = committed), or, for a sharded hypertable, to the
 * shard objects holding their chunks; then full buffers are sealed (seal.ts). Also a shard object's
 * side of a write (the coordinator's chunks, as they are).
 */
import { orbitError } from '../errors.js';
import { toInternal, type Hypertable, type TableDef } from './catalog.js';
import type { EdgeEngine } from './engine.js';
import { notAtEdge } from './expr.js';
import { encodeRow } from './buffer-rows.js';
import { sealFull } from './seal.js';
import { chunkShard, shardCount } from './shard-chunks.js';
import { shardKey, type ShardRows, type ShardTable } from './shards.js';
import type { Value } from './values.js';

/** Buffers every write in one SQLite transaction (acknowledged = committed), then seals full chunks. */
export async function writeNow(engine: EdgeEngine, writes: ReadonlyArray<{ table: TableDef; rows: Value[][] }>): Promise<void> {
  const touched = new Map<number, { h: Hypertable; table: TableDef }>();
  const remote = new Map<string, { def: ShardTable; chunks: Map<number, ShardRows> }>();
  // The chunk→shard map is committed with the chunks, before any row leaves for a shard.
  engine.catalog.atomically(() => {
    for (const { table, rows } of writes) {
      if (shardCount(engine, table.name) > 0) routeRows(engine, table, rows, remote);
      else bufferRows(engine, table, rows, touched);
    }
  });
  // Acknowledged only when every shard has committed its rows (each syncs before it answers).
  await Promise.all([...remote].map(([shard, { def, chunks }]) => engine.shards!.router.write(shard, def, [...chunks.values()])));
  await sealFull(engine, touched);
}

/**
 * A shard object's write: each group's rows into the chunk covering exactly its range (the
 * coordinator's chunk), in one SQLite transaction, then seals full chunks. Returns the rows written.
 */
export async function writeChunks(engine: EdgeEngine, table: TableDef, groups: readonly ShardRows[]): Promise<number> {
  const h = engine.catalog.hypertable(table.name);
  if (!h) throw notAtEdge(`writing to "${table.name}", which is not a hypertable,`);
  const touched = new Map<number, { h: Hypertable; table: TableDef }>();
  let n = 0;
  engine.catalog.atomically(() => {
    for (const g of groups) {
      const chunk = engine.catalog.chunkWithRange(h, g.rangeStart, g.rangeEnd);
      touched.set(chunk.id, { h, table });
      engine.catalog.buffer(g.rows.map((row) => ({ chunkId: chunk.id, row: encodeRow(row) })));
      n += g.rows.length;
    }
  });
  await sealFull(engine, touched);
  return n;
}

/** Gathers rows of a sharded hypertable by shard object and chunk, recording a new chunk's shard. */
function routeRows(engine: EdgeEngine, table: TableDef, rows: Value[][], remote: Map<string, { def: ShardTable; chunks: Map<number, ShardRows> }>): void {
  const h = engine.catalog.hypertable(table.name)!;
  const timeAt = table.columns.findIndex((c) => c.name === h.timeColumn);
  const def: ShardTable = { table, timeColumn: h.timeColumn, timeType: h.timeType, interval: h.interval, compression: h.compression };
  for (const row of rows) {
    const t = row[timeAt];
    if (t === null || t === undefined) {
      throw orbitError('not_null_violation', `null value in column "${h.timeColumn}" of relation "${table.name}" violates not-null constraint`);
    }
    const chunk = engine.catalog.chunkFor(h, toInternal(h.timeType, t as bigint | number));
    let shard = chunkShard(engine, chunk.id);
    if (shard === undefined) {
      shard = shardKey(engine.shards!.prefix, table.name, chunk.rangeStart, h.interval, shardCount(engine, table.name));
      engine.catalog.setMeta(`chunk_shard:${chunk.id}`, shard);
    }
    let batch = remote.get(shard);
    if (!batch) remote.set(shard, (batch = { def, chunks: new Map() }));
    let group = batch.chunks.get(chunk.id);
    if (!group) batch.chunks.set(chunk.id, (group = { rangeStart: chunk.rangeStart, rangeEnd: chunk.rangeEnd, rows: [] }));
    group.rows.push(row);
  }
}

/** Buffers rows into their chunks' write buffers (inside the caller's SQLite transaction), noting the chunks touched. */
export function bufferRows(engine: EdgeEngine, table: TableDef, rows: Value[][], touched: Map<number, { h: Hypertable; table: TableDef }>): void {
  const h = engine.catalog.hypertable(table.name);
  if (!h) throw notAtEdge(`writing to "${table.name}", which is not a hypertable,`);
  const timeAt = table.columns.findIndex((c) => c.name === h.timeColumn);
  {
    const buffered = rows.map((row) => {
      const t = row[timeAt];
      if (t === null || t === undefined) {
        throw orbitError('not_null_violation', `null value in column "${h.timeColumn}" of relation "${table.name}" violates not-null constraint`);
      }
      const chunk = engine.catalog.chunkFor(h, toInternal(h.timeType, t as bigint | number));
      touched.set(chunk.id, { h, table });
      return { chunkId: chunk.id, row: encodeRow(row) };
    });
    engine.catalog.buffer(buffered);
  }
}
