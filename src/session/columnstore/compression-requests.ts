/**
 * @module session/columnstore/compression-requests
 * Conversions (docs/design/columnstore.md). `compress_chunk` / `decompress_chunk` record requests
 * (catalog/extension/columnstore-chunks.ts); once the requesting transaction has committed, the
 * session carries them out here:
 * compressing reads the chunk's rows with binary COPY, writes batches and a manifest to the storage
 * adapter (durable first), then in one transaction empties the chunk table and points the chunk at
 * the manifest; decompressing COPYs the batches back (copy-batches.ts) and clears the pointer.
 * Objects no catalog row points at are swept afterwards.
 */
import { concatBytes } from '../../bytes.js';
import { OrbitError } from '../../errors.js';
import type { ColumnStore } from '../../columnstore/store.js';
import type { CompressionSettings } from '../../columnstore/batch.js';
import type { Rows } from '../../columnstore/columns.js';
import { readCopyBinary } from '../../columnstore/pg-binary.js';
import { SqlState } from '../../sqlstate.js';
import { scanBackend } from '../../wire/protocol/backend.js';
import { BackendMessage } from '../../wire/protocol/message-codes.js';
import { chunkColumns, copyBatchesInto } from './copy-batches.js';
import { cacheRunner, firstError, jsonRows, must, quoteIdent, textRows, type InternalRunner } from '../internal-sql.js';
import { quoteLiteral } from '../settings.js';

const F = '_timescaledb_functions';

interface Request {
  request_id: number;
  op: 'compress' | 'decompress';
  hypertable_id: number;
  chunk_id: number;
  chunk: string;
  manifest: string | null;
  segmentby: string[] | null;
  orderby: string[] | null;
  orderby_desc: boolean[] | null;
  orderby_nullsfirst: boolean[] | null;
  time_column: string;
}

/** Carries out a backend's queued conversions; sweeps the store once after start-up. */
export class CompressionRequests {
  private swept = false;

  constructor(private readonly store: ColumnStore) {}

  /**
   * Carries out the queued conversions (outside any transaction block). Returns the errors met.
   * `invalidate` is called once requests ran (the session's columnstore metadata is then stale).
   */
  async process(run: InternalRunner, invalidate: () => void): Promise<OrbitError[]> {
    const out = await run.sql(`SELECT to_json(r) FROM ${F}.orbit_columnstore_requests() r`);
    if (firstError(out)) return []; // no extension (or an older one): nothing to do
    const requests = jsonRows<Request>(out);
    if (requests.length === 0) {
      // First look after start-up: objects of compressions a crash interrupted are removed.
      if (!this.swept) await this.sweep(run);
      return [];
    }
    const errors: OrbitError[] = [];
    for (const r of requests) {
      try {
        await must(run, 'BEGIN');
        if (r.op === 'compress') await this.compress(run, r);
        else await this.decompress(run, r);
        await must(run, 'COMMIT');
      } catch (err) {
        await run.sql('ROLLBACK');
        await cacheRunner(run).sql(`SELECT ${F}.orbit_drop_columnstore_request(${r.request_id})`);
        errors.push(err instanceof OrbitError ? err : new OrbitError(SqlState.internal_error, String(err)));
      }
    }
    invalidate();
    await this.sweep(run);
    return errors;
  }

  /** Deletes batch objects no compressed chunk points at (crash orphans, replaced versions). */
  private async sweep(run: InternalRunner): Promise<void> {
    this.swept = true;
    const out = await run.sql(`SELECT manifest FROM _timescaledb_catalog.orbit_columnstore_chunk`);
    if (firstError(out)) return;
    await this.store.sweep(new Set(textRows(out).map((r) => r[0]!)));
  }

  private async compress(run: InternalRunner, r: Request): Promise<void> {
    // A chunk already in the columnstore is recompressed with the rows inserted since.
    if (r.manifest) await copyBatchesInto(this.store, run, { into: r.chunk, chunk: r.chunk, manifest: r.manifest });
    const columns = await chunkColumns(run, r.chunk);
    await refuseUnvalidatedDomainValues(run, r.chunk);
    const sizeOut = await must(run, `SELECT to_json(s) FROM ${F}.orbit_relation_size(${quoteLiteral(r.chunk)}::regclass) s`);
    const before = jsonRows<{ table_bytes: number; index_bytes: number; toast_bytes: number; total_bytes: number }>(sizeOut)[0]!;
    const list = columns.map((c) => quoteIdent(c.name)).join(', ');
    const out = await must(run, `COPY (SELECT ${list} FROM ONLY ${r.chunk}) TO STDOUT (FORMAT binary)`);
    const bytes = concatBytes(
      scanBackend(out)
        .filter((f) => f.type === BackendMessage.CopyData)
        .map((f) => out.subarray(f.start + 5, f.end)),
    );
    const rows: Rows = { names: columns.map((c) => c.name), columns: readCopyBinary(bytes, columns.map((c) => c.type)) };
    const attnums = columns.map((c) => c.attnum);
    const manifest = await this.store.writeChunk(r.hypertable_id, r.chunk_id, rows, settingsOf(r), attnums.every((n) => n !== undefined) ? attnums : undefined);
    const manifestBytes = (await this.store.storage.get(manifest.key))?.length ?? 0;
    const after = manifest.batches.reduce((s, b) => s + b.bytes, manifestBytes);
    await must(run, `TRUNCATE ONLY ${r.chunk}`);
    await must(
      cacheRunner(run),
      `SELECT ${F}.orbit_set_columnstore_chunk(${r.chunk_id}, ${quoteLiteral(manifest.key)}, ${manifest.rowCount}, ${manifest.batches.length}, ` +
        `${before.table_bytes}, ${before.index_bytes}, ${before.toast_bytes}, ${before.total_bytes}, ${after})`,
    );
  }

  private async decompress(run: InternalRunner, r: Request): Promise<void> {
    if (r.manifest) await copyBatchesInto(this.store, run, { into: r.chunk, chunk: r.chunk, manifest: r.manifest });
    await must(cacheRunner(run), `SELECT ${F}.orbit_clear_columnstore_chunk(${r.chunk_id})`);
  }
}

/**
 * Throws 0A000 when a row of `chunk` violates a NOT VALID constraint of its column's domain (or of
 * a domain that one is based on): PostgreSQL keeps such rows, but their values could not be decoded
 * back into the domain (its input checks every constraint: copy-batches.ts), and every read of the
 * hypertable would fail. pg_input_is_valid checks the constraints without raising.
 */
async function refuseUnvalidatedDomainValues(run: InternalRunner, chunk: string): Promise<void> {
  const out = await must(
    run,
    `WITH RECURSIVE d(col, typ) AS (
        SELECT a.attname, a.atttypid FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
          WHERE a.attrelid = ${quoteLiteral(chunk)}::regclass AND a.attnum > 0 AND NOT a.attisdropped AND t.typtype = 'd'
        UNION SELECT d.col, t.typbasetype FROM d JOIN pg_type t ON t.oid = d.typ WHERE t.typtype = 'd')
      SELECT DISTINCT a.attname, format_type(a.atttypid, a.atttypmod) FROM d JOIN pg_attribute a ON a.attrelid = ${quoteLiteral(chunk)}::regclass AND a.attname = d.col
        WHERE EXISTS (SELECT FROM pg_constraint c WHERE c.contypid = d.typ AND NOT c.convalidated)`,
  );
  for (const [column, type] of textRows(out)) {
    const check = await must(run, `SELECT EXISTS (SELECT FROM ONLY ${chunk} WHERE NOT pg_input_is_valid(${quoteIdent(column!)}::text, ${quoteLiteral(type!)}))`);
    if (textRows(check)[0]?.[0] !== 't') continue;
    throw new OrbitError(SqlState.feature_not_supported, `compressing chunk "${chunk}", whose column "${column}" has values violating a NOT VALID constraint of its domain ${type}, is not supported by Orbit`, {
      hint: 'Correct the values, or drop the constraint and add it again valid, before compressing.',
    });
  }
}

function settingsOf(r: Request): CompressionSettings {
  const orderBy = (r.orderby ?? [r.time_column]).map((column, i) => ({
    column,
    desc: r.orderby_desc?.[i] ?? true,
    nullsFirst: r.orderby_nullsfirst?.[i] ?? true,
  }));
  return { segmentBy: r.segmentby ?? [], orderBy, timeColumn: r.time_column };
}
