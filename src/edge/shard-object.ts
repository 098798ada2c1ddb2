/**
 * @module edge/shard-object
 * One shard object's side of scale-out (shards.ts): the coordinator's calls (ShardRouter) run on an
 * edge engine over the shard's own storage, one at a time, each made durable before it returns.
 */
import type { AggregateSpec as KernelSpec, Partials } from '../columnstore/kernels/index.js';
import type { EdgeEngine } from './engine.js';
import { partials, scanRows } from './reads.js';
import { dropChunkRanges, dropLocalTable, sealRange } from './shard-chunks.js';
import type { ScanResult, ShardChunk, ShardRows, ShardTable } from './shards.js';
import type { TimeBound } from './select.js';
import type { Value } from './values.js';
import { writeChunks } from './writes.js';

/**
 * One shard object's side: an edge engine over the object's storage holding the chunks routed to it.
 * Calls are serialised (one at a time), as the database object serialises its sessions.
 */
export class EdgeShard {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly engine: EdgeEngine,
    /** Makes committed writes durable before the call returns (DO storage `sync`). */
    private readonly sync: () => Promise<void>,
  ) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  write(def: ShardTable, chunks: ShardRows[]): Promise<number> {
    return this.serial(async () => {
      const c = this.engine.catalog;
      c.atomically(() => {
        let h = c.hypertable(def.table.name);
        if (!h) {
          if (!c.table(def.table.name)) c.createTable(def.table);
          c.createHypertable(def.table.name, def.timeColumn, def.timeType, def.interval);
          h = c.hypertable(def.table.name)!;
        }
        // Settings follow the coordinator's (segmentby/orderby changed after the first rows apply to later seals).
        if (def.compression && JSON.stringify(def.compression) !== JSON.stringify(h.compression)) c.setCompression(h.id, def.compression.segmentBy, def.compression.orderBy);
      });
      const n = await writeChunks(this.engine, c.requireTable(def.table.name), chunks);
      // The coordinator acknowledges only after this returns: the rows are committed and durable here.
      await this.sync();
      return n;
    });
  }

  dropChunks(table: string, chunks: ShardChunk[]): Promise<number> {
    return this.serial(async () => {
      const n = await dropChunkRanges(this.engine, table, chunks);
      await this.sync();
      return n;
    });
  }

  compressChunk(table: string, chunk: ShardChunk): Promise<void> {
    return this.serial(async () => {
      await sealRange(this.engine, table, chunk);
      await this.sync();
    });
  }

  dropTable(table: string): Promise<void> {
    return this.serial(async () => {
      await dropLocalTable(this.engine, table);
      await this.sync();
    });
  }

  partials(table: string, spec: KernelSpec, lo: bigint | undefined, hi: bigint | undefined): Promise<Partials | undefined> {
    return this.serial(() => partials(this.engine, table, spec, lo, hi));
  }

  scan(table: string, columns: readonly string[], bounds: readonly TimeBound[], equalities: ReadonlyMap<string, Value>, latestPer?: string): Promise<ScanResult> {
    return this.serial(async () => {
      const def = this.engine.catalog.table(table);
      // A shard that has not received rows yet holds nothing.
      return def ? scanRows(this.engine, def, columns, bounds, equalities, latestPer) : { cols: columns.map(() => []), length: 0 };
    });
  }
}
