/**
 * @module edge/shards
 * Scale-out at the edge (docs/runtimes/workers.md, "Scale-out"): a sharded hypertable's chunks live
 * in shard objects; the database object (the coordinator) keeps the catalog and the chunk→shard map,
 * routes writes and fans reads out. Runtime-neutral: the Worker supplies a `ShardRouter` over Durable
 * Object RPC stubs, and each shard object hosts an `EdgeShard` (shard-object.ts) over its own storage. Everything that
 * crosses the RPC boundary (rows, bounds, kernel specs, partial aggregates) is structured-clonable.
 */
import type { AggregateSpec as KernelSpec, Partials } from '../columnstore/kernels/index.js';
import type { OrderByDef, TableDef } from './catalog.js';
import type { TimeBound } from './select.js';
import type { EdgeType, Value } from './values.js';

/** What a shard needs to recreate the hypertable exactly as the coordinator has it (same chunk ranges). */
export interface ShardTable {
  readonly table: TableDef;
  readonly timeColumn: string;
  readonly timeType: EdgeType;
  readonly interval: number;
  readonly compression: { readonly segmentBy: readonly string[]; readonly orderBy: readonly OrderByDef[] } | null;
}

export interface ScanResult {
  readonly cols: Value[][];
  readonly length: number;
}

/** A coordinator chunk's range (internal time); the shard's chunk covers exactly this range. */
export interface ShardChunk {
  readonly rangeStart: number;
  readonly rangeEnd: number;
}

/** Rows (typed, table column order) of one coordinator chunk. */
export interface ShardRows extends ShardChunk {
  readonly rows: Value[][];
}

/** The coordinator's view of its shard objects, by key (one RPC per call). */
export interface ShardRouter {
  /** Commits the rows of each chunk in the shard; resolves once they are durable there. */
  write(shard: string, def: ShardTable, chunks: ShardRows[]): Promise<number>;
  /** The shard's partial aggregates over its chunks in [lo, hi]; undefined when its kernels refuse the spec. */
  partials(shard: string, table: string, spec: KernelSpec, lo: bigint | undefined, hi: bigint | undefined): Promise<Partials | undefined>;
  /** Decoded columns of the shard's matching rows (`latestPer`: see select.ts ScanFn). */
  scan(shard: string, table: string, columns: readonly string[], bounds: readonly TimeBound[], equalities: ReadonlyMap<string, Value>, latestPer?: string): Promise<ScanResult>;
  /** Drops the shard's chunks for these ranges (rows, batches and buffer), durably; returns how many it held. */
  dropChunks(shard: string, table: string, chunks: ShardChunk[]): Promise<number>;
  /** Seals the chunk's write buffer into batches (compress_chunk), durably. */
  compressChunk(shard: string, table: string, chunk: ShardChunk): Promise<void>;
  /** Drops the table and everything the shard holds of it (DROP TABLE on the coordinator). */
  dropTable(shard: string, table: string): Promise<void>;
}

/** Most shards one hypertable may spread over (each is one object; fan-out cost grows with it). */
export const MAX_SHARDS = 64;

/**
 * The shard a new chunk goes to: consecutive chunks round-robin over `count` objects, so a time-range
 * query reads from several objects at once. Fixed at chunk creation and recorded by the coordinator.
 */
export function shardKey(prefix: string, table: string, rangeStart: number, interval: number, count: number): string {
  const slot = (((Math.floor(rangeStart / interval) % count) + count) % count).toString();
  return `${prefix}/${table}/${slot}`;
}
