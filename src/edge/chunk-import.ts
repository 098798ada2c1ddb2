/**
 * @module edge/chunk-import
 * A compressed chunk handed over by another Orbit (chunk-transfer.ts) stored as this object's own:
 * checked against the hypertable, its batches kept as they are under a new version of the chunk.
 */
import { decodeManifest } from '../columnstore/manifest.js';
import { orbitError } from '../errors.js';
import { toInternal } from './catalog.js';
import type { ChunkTransfer } from './chunk-transfer.js';
import type { EdgeEngine } from './engine.js';
import { notAtEdge } from './expr.js';
import { PG_TYPES } from './buffer-rows.js';

/**
 * Imports a compressed chunk handed over by another Orbit (src/edge/chunk-transfer.ts): checks the
 * manifest against the hypertable, stores the batches as they are under a new version of the
 * chunk covering exactly the given range (created if missing), then commits the manifest to the
 * catalog with the source recorded, in one transaction. Returns the rows imported.
 */
export async function importChunk(engine: EdgeEngine, t: ChunkTransfer): Promise<number> {
  const { header } = t;
  const table = engine.catalog.requireTable(header.table);
  const h = engine.catalog.hypertable(header.table);
  if (!h) throw orbitError('invalid_parameter_value', `"${header.table}" is not a hypertable`);
  const importKey = `import:${header.source}`;
  if (engine.catalog.meta(importKey) !== undefined) throw orbitError('duplicate_object', `chunk ${header.source} was already imported into "${header.table}"`);
  const m = decodeManifest(engine.columnstore.backend, t.manifest, 'import');
  // The batches are read by column name with the edge's types, so the layouts must agree exactly.
  const mismatch = table.columns.find((c) => m.columns.find((x) => x.name === c.name)?.type !== PG_TYPES[c.type]);
  if (mismatch || m.columns.length !== table.columns.length) {
    throw orbitError('datatype_mismatch', `the chunk's columns do not match "${header.table}"`, { detail: `chunk: ${m.columns.map((c) => `${c.name} ${c.type}`).join(', ')}` });
  }
  if (m.settings.timeColumn !== h.timeColumn) throw orbitError('datatype_mismatch', `the chunk is partitioned by "${m.settings.timeColumn}", "${header.table}" by "${h.timeColumn}"`);
  if (t.batches.length !== m.batches.length || t.batches.some((b, i) => b.length !== m.batches[i]!.bytes)) {
    throw orbitError('invalid_parameter_value', 'malformed chunk transfer: the batches do not match the manifest');
  }
  const timeAt = m.columns.findIndex((c) => c.name === h.timeColumn);
  for (const b of m.batches) {
    if (b.rows === 0) continue;
    const lo = b.min[timeAt];
    const hi = b.max[timeAt];
    if (b.nullCount[timeAt]! > 0 || lo == null || hi == null) throw orbitError('not_null_violation', `the chunk has NULLs in "${h.timeColumn}"`);
    if (toInternal(h.timeType, lo as bigint | number) < header.rangeStart || toInternal(h.timeType, hi as bigint | number) >= header.rangeEnd) {
      throw orbitError('invalid_parameter_value', 'the chunk holds rows outside its range');
    }
  }
  const chunk = engine.catalog.atomically(() => {
    const same = engine.catalog.chunksOverlapping(h.id, header.rangeStart, header.rangeEnd);
    const other = same.find((c) => c.rangeStart !== header.rangeStart || c.rangeEnd !== header.rangeEnd);
    if (other) throw notAtEdge(`importing a chunk whose range overlaps chunk ${other.tableName} with another range`);
    return engine.catalog.chunkWithRange(h, header.rangeStart, header.rangeEnd);
  });
  // A version above every stored one (this object runs one statement at a time).
  const dir = `cs/${h.id}/${chunk.id}/`;
  let version = 0;
  for (const key of await engine.columnstore.storage.list(dir)) version = Math.max(version, Number(key.slice(dir.length).split('/')[0]));
  // Packed like the batches Orbit writes itself; the sender's object locations are not ours.
  const written = await engine.columnstore.writeVersion({ hypertableId: h.id, chunkId: chunk.id, version: version + 1 }, m.columns, m.settings, m.batches, t.batches);
  engine.catalog.commitImport(chunk.id, written.key, written.rowCount, importKey);
  return written.rowCount;
}
