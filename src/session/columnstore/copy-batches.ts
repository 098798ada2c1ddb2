/**
 * @module session/columnstore/copy-batches
 * Compressed rows back into PostgreSQL: a manifest's batches decoded and sent to a table with binary
 * COPY. The cache tables (cache-tables.ts), decompress_chunk and recompression
 * (compression-requests.ts) and the decompression before a write (dml.ts) all use it.
 */
import { concatBytes } from '../../bytes.js';
import type { ColumnStore } from '../../columnstore/store.js';
import { pgTypeOf, type PgType } from '../../columnstore/columns.js';
import { writeCopyBinary } from '../../columnstore/pg-binary-writer.js';
import { copyData } from '../../wire/protocol/frontend.js';
import { FrontendMessage } from '../../wire/protocol/message-codes.js';
import { must, quoteIdent, textRows, throwIfError, type InternalRunner } from '../internal-sql.js';
import { quoteLiteral, simpleQuery } from '../settings.js';

const COPY_DONE = new Uint8Array([FrontendMessage.CopyDone, 0, 0, 0, 4]);
/** Batches COPYed back per round trip to PGlite. */
const BATCHES_PER_RUN = 64;

interface ChunkColumn {
  readonly name: string;
  readonly type: PgType;
  readonly generated: boolean;
}

/**
 * Decodes every batch of a manifest into `table` with binary COPY (columns matched by name; a
 * column added since compression gets its default). User triggers do not fire, as TimescaleDB's
 * decompression does not fire them (superusers only; others fire them).
 */
export async function copyBatchesInto(store: ColumnStore, run: InternalRunner, table: string, manifestKey: string, columnsOf = table, only?: readonly number[]): Promise<number> {
  const manifest = await store.readManifest(manifestKey);
  const present = new Set(manifest.columns.map((c) => c.name));
  const names = (await chunkColumns(run, columnsOf)).filter((c) => !c.generated && present.has(c.name)).map((c) => c.name);
  await must(run, `SELECT CASE WHEN current_setting('is_superuser') = 'on' THEN set_config('session_replication_role', 'replica', true) END`);
  const copy = simpleQuery(`COPY ${table} (${names.map(quoteIdent).join(', ')}) FROM STDIN (FORMAT binary)`);
  const numbers = only ?? manifest.batches.map((_, i) => i);
  for (let first = 0; first < numbers.length; first += BATCHES_PER_RUN) {
    const parts: Uint8Array[] = [];
    for (const i of numbers.slice(first, first + BATCHES_PER_RUN)) {
      const rows = await store.readBatch(manifest, i, names);
      parts.push(copy, copyData(writeCopyBinary(rows.columns)), COPY_DONE);
    }
    const out = await run.raw(concatBytes(parts));
    throwIfError(out);
  }
  await must(run, `SELECT set_config('session_replication_role', 'origin', true) WHERE current_setting('is_superuser') = 'on'`);
  return manifest.rowCount;
}

/** The columns of `table` in order: name, type, and whether PostgreSQL generates it. */
export async function chunkColumns(run: InternalRunner, table: string): Promise<ChunkColumn[]> {
  const out = await must(
    run,
    `SELECT a.attname, t.typname, a.attgenerated <> '' FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
     WHERE a.attrelid = ${quoteLiteral(table)}::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
  );
  return textRows(out).map(([name, typname, generated]) => ({ name: name!, type: pgTypeOf(typname!), generated: generated === 't' }));
}
