/**
 * @module edge/seal
 * Sealing a chunk's write buffer into column batches (compress_chunk at the edge, and any buffer
 * that reaches `sealRows`), merged with the chunk's smaller batch sets (compaction.ts): the batches
 * are written first, then the catalog points at them and drops the sealed rows in one transaction.
 */
import type { Column } from '../columnstore/columns.js';
import type { Hypertable, TableDef } from './catalog.js';
import { concatColumns, mergeCandidates } from './compaction.js';
import type { EdgeEngine } from './engine.js';
import { PG_TYPES, rowsToColumns } from './buffer-rows.js';

/**
 * Values a seal merge decodes at most (rows × columns): merged rows are typed arrays (8 B a number,
 * one reference a string), ~8–10 MB at this size, so a 20-column chunk merges up to 50,000 rows.
 */
const MERGE_VALUES = 1_000_000;
/** Buffered values sealed in one pass (the rest in further passes). */
const SEAL_VALUES = 250_000;

/** Seals the chunks among `touched` whose write buffer is full. */
export async function sealFull(engine: EdgeEngine, touched: ReadonlyMap<number, { h: Hypertable; table: TableDef }>): Promise<void> {
  for (const [id, { h, table }] of touched) if (engine.catalog.bufferedCount(id) >= engine.sealRows) await seal(engine, h, table, id);
}

/**
 * Seals a chunk's buffered rows into column batches (compress_chunk at the edge), merged with the
 * chunk's smaller batch sets (src/edge/compaction.ts) so a chunk keeps few, full batches.
 */
export async function seal(engine: EdgeEngine, h: Hypertable, table: TableDef, chunkId: number): Promise<void> {
  // At most SEAL_VALUES buffered values a pass, so a large write seals in bounded memory.
  const limit = Math.max(1, Math.floor(SEAL_VALUES / Math.max(1, table.columns.length)));
  for (;;) {
    const { rows, lastSeq } = engine.catalog.buffered(chunkId, limit);
    if (rows.length === 0) return;
    await sealPass(engine, h, table, chunkId, rows, lastSeq);
    if (rows.length < limit) return;
  }
}

async function sealPass(engine: EdgeEngine, h: Hypertable, table: TableDef, chunkId: number, rows: string[], lastSeq: number): Promise<void> {
  const names = table.columns.map((c) => c.name);
  const parts: Column[][] = [rowsToColumns(table, rows)];
  rows.length = 0;
  const maxRows = Math.floor(MERGE_VALUES / Math.max(1, names.length));
  const merged: string[] = [];
  for (const { key } of mergeCandidates(engine.catalog.manifests(chunkId), parts[0]![0]?.values.length ?? 0, maxRows)) {
    const m = await engine.columnstore.readManifest(key);
    // Batch sets of another column layout (none today) are left as they are.
    if (m.columns.length !== names.length || m.columns.some((c, j) => c.name !== names[j] || c.type !== PG_TYPES[table.columns[j]!.type])) continue;
    for (let b = 0; b < m.batches.length; b++) parts.push([...(await engine.columnstore.readBatch(m, b, names)).columns]);
    merged.push(key);
  }
  const columns = names.map((_, j) => concatColumns(parts.map((p) => p[j]!)));
  const segmentBy = h.compression?.segmentBy ?? [];
  const orderBy = h.compression?.orderBy.length ? h.compression.orderBy : [{ column: h.timeColumn, desc: true, nullsFirst: true }];
  const manifest = await engine.columnstore.writeChunk(h.id, chunkId, { names, columns }, { segmentBy, orderBy, timeColumn: h.timeColumn });
  engine.catalog.commitSeal(chunkId, manifest.key, manifest.rowCount, lastSeq, merged);
  // The merged sets' objects are unreferenced now; a crash before this leaves them to the next open's sweep.
  if (merged.length > 0) await engine.columnstore.sweep(engine.catalog.allManifestKeys());
}
