/**
 * @module session/columnstore/copy-batches
 * Compressed rows back into PostgreSQL: a manifest's batches decoded and sent to a table with binary
 * COPY. The cache tables (cache-tables.ts), decompress_chunk and recompression
 * (compression-requests.ts) and the decompression before a write (dml.ts) all use it.
 */
import { concatBytes } from '../../bytes.js';
import type { ColumnStore } from '../../columnstore/store.js';
import { pgTypeOf, type Column, type PgType } from '../../columnstore/columns.js';
import { writeCopyBinary } from '../../columnstore/pg-binary-writer.js';
import { copyData } from '../../wire/protocol/frontend.js';
import { FrontendMessage } from '../../wire/protocol/message-codes.js';
import { cacheRunner, must, quoteIdent, textRows, throwIfError, type InternalRunner } from '../internal-sql.js';
import { quoteLiteral, simpleQuery } from '../settings.js';
import { liveManifest } from './live-columns.js';

const COPY_DONE = new Uint8Array([FrontendMessage.CopyDone, 0, 0, 0, 4]);
/** Batches COPYed back per round trip to PGlite. */
const BATCHES_PER_RUN = 64;

interface ChunkColumn {
  readonly name: string;
  readonly type: PgType;
  readonly generated: boolean;
  /** The hypertable's attnum of the column (ManifestColumn.attnum). */
  readonly attnum: number | undefined;
}

/** A column of the table filled: the value a row gets when its batch lacks the column. */
interface FilledColumn extends ChunkColumn {
  /**
   * The binary COPY field of the chunk's attmissingval: what PostgreSQL gives rows that existed
   * when the column was added (null: NULL, the column had no default then).
   */
  readonly missing: Uint8Array | null;
}

/** Where `copyBatchesInto` puts a manifest's batches. */
export interface CopyTarget {
  /** The table the rows go to. */
  readonly into: string;
  /** The compressed chunk the manifest belongs to (its pg_attribute has the missing values). */
  readonly chunk: string;
  readonly manifest: string;
  /** The table whose columns `into` has (a cache child's parent); `into` itself by default. */
  readonly columnsOf?: string;
  /** Only these batches (by number); all by default. */
  readonly only?: readonly number[];
}

/**
 * Decodes every batch of a manifest into a table with binary COPY (columns matched by name). A
 * column added since compression takes the chunk's missing value (pg_attribute.attmissingval, set
 * by ADD COLUMN for the rows then present; NULL without one), not the current default: a later SET
 * DEFAULT does not change what PostgreSQL shows for those rows. User triggers do not fire, as
 * TimescaleDB's decompression does not fire them. The switch (session_replication_role, superusers
 * only) is set as the backend's role when the COPY runs as another role (a table's owner, the
 * session's role). The setting holds after the role switch, so the COPY's own role needs no right to it.
 */
export async function copyBatchesInto(store: ColumnStore, run: InternalRunner, target: CopyTarget): Promise<number> {
  const { into, chunk, only } = target;
  const all = await filledColumns(run, target.columnsOf ?? into, chunk);
  const manifest = liveManifest(await store.readManifest(target.manifest), all);
  const present = new Set(manifest.columns.map((c) => c.name));
  const columns = all.filter((c) => !c.generated);
  const read = columns.filter((c) => present.has(c.name)).map((c) => c.name);
  const superuser = cacheRunner(run);
  await must(superuser, `SELECT CASE WHEN current_setting('is_superuser') = 'on' THEN set_config('session_replication_role', 'replica', true) END`);
  const copy = simpleQuery(`COPY ${into} (${columns.map((c) => quoteIdent(c.name)).join(', ')}) FROM STDIN (FORMAT binary)`);
  const numbers = only ?? manifest.batches.map((_, i) => i);
  for (let first = 0; first < numbers.length; first += BATCHES_PER_RUN) {
    const parts: Uint8Array[] = [];
    for (const i of numbers.slice(first, first + BATCHES_PER_RUN)) {
      const rows = await store.readBatch(manifest, i, read);
      const n = manifest.batches[i]!.rows;
      const decoded = new Map(rows.names.map((name, k) => [name, rows.columns[k]!]));
      parts.push(copy, copyData(writeCopyBinary(columns.map((c) => decoded.get(c.name) ?? constantColumn(c.missing, n)))), COPY_DONE);
    }
    const out = await run.raw(concatBytes(parts));
    throwIfError(out);
  }
  await must(superuser, `SELECT set_config('session_replication_role', 'origin', true) WHERE current_setting('is_superuser') = 'on'`);
  return manifest.rowCount;
}

/** `rows` copies of one binary COPY field (null: NULL), for COPY to send as they are. */
function constantColumn(field: Uint8Array | null, rows: number): Column {
  if (field) return { type: 'opaque', values: new Array<Uint8Array>(rows).fill(field), nulls: null };
  return { type: 'opaque', values: new Array<Uint8Array>(rows).fill(EMPTY), nulls: new Uint8Array((rows + 7) >> 3).fill(0xff) };
}

const EMPTY = new Uint8Array(0);

/**
 * The columns of `table` in order, each with the missing value of the column of that name in
 * `chunk`, read as array_send's bytes (PostgreSQL's binary form, whatever the type).
 */
async function filledColumns(run: InternalRunner, table: string, chunk: string): Promise<FilledColumn[]> {
  const out = await must(
    run,
    `SELECT a.attname, t.typname, a.attgenerated <> '', CASE WHEN m.atthasmissing THEN encode(array_send(m.attmissingval), 'hex') END, h.attnum
     FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_attribute m ON m.attrelid = ${quoteLiteral(chunk)}::regclass AND m.attname = a.attname AND NOT m.attisdropped
       ${HYPERTABLE_ATTRIBUTE(quoteLiteral(chunk))}
     WHERE a.attrelid = ${quoteLiteral(table)}::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
  );
  return textRows(out).map(([name, typname, generated, missing, attnum]) => ({
    name: name!,
    type: pgTypeOf(typname!),
    generated: generated === 't',
    attnum: attnum ? Number(attnum) : undefined,
    missing: missing ? firstElement(hexBytes(missing)) : null,
  }));
}

/**
 * The first element of a one-dimensional array in PostgreSQL's binary form (array_send): ndim,
 * NULL flag, element type, then per dimension its length and lower bound, then each element as a
 * length (−1: NULL) and its bytes.
 */
function firstElement(array: Uint8Array): Uint8Array | null {
  const view = new DataView(array.buffer, array.byteOffset, array.byteLength);
  const dims = view.getInt32(0);
  if (dims < 1) return null;
  const at = 12 + dims * 8;
  const length = view.getInt32(at);
  return length < 0 ? null : array.slice(at + 4, at + 4 + length);
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** The columns of chunk `table` in order: name, type, whether PostgreSQL generates it, and the hypertable's attnum. */
export async function chunkColumns(run: InternalRunner, table: string): Promise<ChunkColumn[]> {
  const out = await must(
    run,
    `SELECT a.attname, t.typname, a.attgenerated <> '', h.attnum FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
       ${HYPERTABLE_ATTRIBUTE(quoteLiteral(table))}
     WHERE a.attrelid = ${quoteLiteral(table)}::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
  );
  return textRows(out).map(([name, typname, generated, attnum]) => ({ name: name!, type: pgTypeOf(typname!), generated: generated === 't', attnum: attnum ? Number(attnum) : undefined }));
}

/** Joins `h`, the attribute named as `a` of the hypertable (the parent) of chunk `chunk` (SQL). */
const HYPERTABLE_ATTRIBUTE = (chunk: string) =>
  `LEFT JOIN pg_attribute h ON h.attrelid = (SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = ${chunk}::regclass) AND h.attname = a.attname AND NOT h.attisdropped`;
