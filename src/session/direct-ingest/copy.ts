/**
 * @module session/direct-ingest/copy
 * Direct-to-columnstore COPY (TimescaleDB's "direct compress"; docs/design/columnstore.md, "Direct
 * ingest"): rows of `COPY hypertable FROM STDIN` are read by Orbit, routed to their chunks and
 * written as column batches, never inserted row by row into PGlite.
 *
 * - Reading. Text and CSV rows in the canonical forms (columnstore/text-input.ts), and binary
 *   tuples of the types PostgreSQL's receive rules are checked for (columnstore/pg-binary.ts), are
 *   parsed by Orbit (session/direct-ingest/read.ts); rows are routed to chunks by
 *   session/direct-ingest/route.ts. A piece with anything else (escapes, other spellings, NULL in a
 *   NOT NULL column, wrong field counts, other binary types, any error) is COPYed by PostgreSQL into a temporary table shaped like the hypertable
 *   and read back with binary COPY: PostgreSQL's own input functions, defaults and constraints, and
 *   its error with the line number in the whole stream.
 * - Writing. Rows are buffered per chunk and cut into batches (segmentby, orderby) every
 *   `FLUSH_ROWS` — on Node's encoder thread for rows the reader thread read (encode.ts), else
 *   here; the batch objects are durable when written. At CopyDone each chunk gets a new
 *   manifest listing its earlier batches and the new ones, and the chunk is pointed at it in the
 *   COPY's transaction: the COPY is acknowledged only after that commits, and a failed or rolled
 *   back COPY leaves objects no catalog row points at, which are deleted (or swept at start-up).
 * - Which tables (session/direct-ingest/target.ts). Hypertables with the columnstore enabled and direct compress on (by default for
 *   tables created WITH (timescaledb.hypertable); `timescaledb.enable_direct_compress_copy = on`
 *   enables it for any columnstore hypertable, `off` for none), one (time) dimension, and nothing PostgreSQL would have to check per row
 *   against other rows or tables: no unique index, user trigger, foreign key, CHECK constraint,
 *   generated or identity column, row security. Other COPYs take the row store path (session/copy-in.ts).
 */
import { deparseSync } from '../../sql/deparse.js';
import { concatBytes } from '../../bytes.js';
import { OrbitError } from '../../errors.js';
import { rowCount, takeRows, type Rows } from '../../columnstore/columns.js';
import { readCopyBinary, streamHeaderEnd } from '../../columnstore/pg-binary.js';
import { sameColumns, type ChunkAppend, type ColumnStore } from '../../columnstore/store.js';
import type { ManifestColumn } from '../../columnstore/manifest.js';
import { writeCopyBinary } from '../../columnstore/pg-binary-writer.js';
import type { ClassifiedStatement } from '../../sql/classify.js';
import { SqlState } from '../../sqlstate.js';
import { commandComplete, errorResponse, readyForQuery, rewriteErrorField, scanBackend } from '../../wire/protocol/backend.js';
import { copyData } from '../../wire/protocol/frontend.js';
import { BackendMessage, FrontendMessage, TransactionStatus } from '../../wire/protocol/message-codes.js';
import { CopyBuffer, readCopyFormat, scanBinaryTuples, type CopyFormat } from '../copy-in.js';
import { requestBuffers } from './encode.js';
import { lastRowEnd, linesIn, PieceReader } from './read.js';
import { joinParts, ThreadDictionaries, type BufferedPart, type EncodeRequest, type ReaderThread, type ThreadEncoder, type ThreadPiece, type ThreadReader, type ThreadValues } from './threads.js';
import { findMissing, internalDoubles, internalTimes, rowsByChunk, type ChunkRange } from './route.js';
import type { DirectTarget } from './target.js';
import { cacheRunner, firstError, jsonRows, must, quoteIdent, throwIfError, type InternalRunner } from '../internal-sql.js';
import { quoteLiteral, simpleQuery } from '../settings.js';

const COPY_DONE = new Uint8Array([FrontendMessage.CopyDone, 0, 0, 0, 4]);
/** Bytes of COPY data read per piece. */
const PIECE_BYTES = 4 << 20;
/** Rows buffered per chunk before they are cut into batches (1,000 per segment with 100 segments). */
const FLUSH_ROWS = 100_000;
/** Rows buffered over all chunks at most. */
const MAX_BUFFERED_ROWS = 400_000;
const STAGING = 'orbit_direct_copy';
/** Flushes whose batch writes may still be running while more rows are read. */
const WRITES_IN_FLIGHT = 2;
/** Pieces the reader thread may hold (being read or read) while this thread works on earlier ones. */
const READS_IN_FLIGHT = 4;

interface ChunkBuffer {
  parts: BufferedPart[];
  rows: number;
  append?: ChunkAppend;
  /**
   * The chunk table, when its rows go to the rowstore: the chunk is compressed and its batches have
   * other columns than the hypertable now (a column added, or dropped and added again, since), which
   * appended batches could not share a manifest with. Undefined until the first flush looks.
   */
  rowstore?: string | null;
}

/** The COPY sub-protocol of one direct COPY (the session's counterpart of CopyIn). */
export class DirectCopy {
  private readonly format: CopyFormat;
  /** Table column index of each COPY field. */
  private readonly fields: number[];
  private readonly reader: PieceReader;
  /** The reader thread's reader for this COPY (Node, text/CSV that Orbit reads), with its strings. */
  private readonly thread: ThreadReader | undefined;
  private readonly dictionaries: ThreadDictionaries | undefined;
  /** Where batches of rows read on the reader thread are cut and encoded (Node); absent, here. */
  private readonly encoder: ThreadEncoder | undefined;
  private threadFailed = false;
  /** Pieces sent to the thread, oldest first. */
  private reads: Array<{ length: number; first: boolean; piece: Promise<ThreadPiece> }> = [];
  /** Shared buffers of the reader thread's columns that were encoded, to give back with the next read. */
  private freeSlabs: SharedArrayBuffer[] = [];
  /** Pieces read or sent so far. */
  private submitted = 0;
  private readonly timeIndex: number;
  private readonly buffer: CopyBuffer;
  private pieces = 0;
  private linesBefore = 0;
  private rows = 0;
  private error: Uint8Array | undefined;
  private began = false;
  private staging = false;
  private ranges: ChunkRange[] = [];
  private readonly buffers = new Map<number, ChunkBuffer>();
  /** Batch writes of flushes still running, oldest first. */
  private writes: Array<Promise<void>> = [];
  private bufferedRows = 0;
  private binaryHeader: Uint8Array | undefined;

  constructor(
    private readonly statement: ClassifiedStatement,
    private readonly target: DirectTarget,
    private readonly store: ColumnStore,
    private readonly run: InternalRunner,
    /** The client is inside a transaction block: no BEGIN/COMMIT of our own. */
    private readonly inTransactionBlock: boolean,
    /** Where pieces are read off the main thread (Node); absent, they are read here. */
    readerThread?: ReaderThread,
  ) {
    this.format = readCopyFormat(statement.node);
    const names = target.columns.map((c) => c.name);
    const attlist = (statement.node.attlist as Array<{ String: { sval: string } }> | undefined)?.map((a) => a.String.sval);
    this.fields = (attlist ?? names).map((n) => names.indexOf(n));
    this.timeIndex = names.indexOf(target.timeColumn);
    this.reader = new PieceReader(this.format, this.fields, target);
    if (readerThread && this.reader.readable) {
      this.thread = readerThread.open(this.format, this.fields, target);
      this.dictionaries = new ThreadDictionaries(target);
      this.encoder = readerThread.encoder?.(target);
    }
    // Pieces for the thread are shared buffers (not counted as external memory per isolate).
    this.buffer = new CopyBuffer(PIECE_BYTES, (all) => (this.format.kind === 'binary' ? this.cutBinary(all) : lastRowEnd(all, this.format)), this.thread !== undefined);
  }

  copyInResponse(): Uint8Array {
    const binary = this.format.kind === 'binary' ? 1 : 0;
    return new Uint8Array([BackendMessage.CopyInResponse, 0, 0, 0, 7, binary, 0, 0]);
  }

  async data(body: Uint8Array, _run?: unknown): Promise<void> {
    if (this.error) return;
    const piece = this.buffer.push(body);
    if (piece) await this.guard(() => this.submit(piece));
  }

  /**
   * A full piece: read here, or sent to the reader thread while the pieces before it (at most
   * READS_IN_FLIGHT) are routed and written here in order.
   */
  private async submit(data: Uint8Array): Promise<void> {
    const first = this.submitted++ === 0;
    // Until the thread has started (and once it failed), pieces are read here, in order.
    if (!this.thread || (this.reads.length === 0 && (this.threadFailed || !this.thread.ready))) {
      await this.piece(data, first, this.reader.parse(data, first));
      this.buffer.recycle(data.buffer);
      return;
    }
    // The piece's buffer moves to the thread and comes back with the reply.
    const length = data.length;
    const piece = this.thread.read(data, first, this.freeSlabs.splice(0));
    piece.catch(() => undefined); // handled when consumed, or dropped after an error
    this.reads.push({ length, first, piece });
    while (this.reads.length > READS_IN_FLIGHT && !this.error) await this.consume();
  }

  /** Routes the oldest piece read on the thread (the main thread reads it if the thread could not). */
  private async consume(): Promise<void> {
    const { length, first, piece } = this.reads.shift()!;
    let failure: unknown;
    const read = this.threadFailed ? undefined : await piece.catch((err: unknown) => void ((this.threadFailed = true), (failure = err)));
    // A thread that failed (or died) took the pieces it held with it: the COPY fails. The pieces
    // after them are read here (the dictionaries missed the thread's strings from then on).
    if (!read?.data) throw new OrbitError(SqlState.internal_error, `direct COPY reader thread failed: ${String((failure as Error)?.message ?? failure ?? 'no reply')}`);
    const data = read.data;
    if (data.length !== length) throw new OrbitError(SqlState.internal_error, 'direct COPY reader thread gave back a different piece');
    const ids = this.dictionaries!.idRows(read);
    if (ids) await this.piece(data, first, ids, true);
    else await this.piece(data, first, this.reader.parse(data, first));
    this.buffer.recycle(data.buffer);
  }

  /** CopyDone or CopyFail: the rest, the manifests and the commit; returns the client's answer. */
  async finish(_run: unknown, failMessage?: string): Promise<Uint8Array> {
    if (failMessage !== undefined && !this.error) {
      this.error = errorResponse(new OrbitError(SqlState.query_canceled, `COPY from stdin failed: ${failMessage}`));
    }
    if (!this.error) {
      const rest = this.buffer.take();
      await this.guard(async () => {
        while (this.reads.length > 0 && !this.error) await this.consume();
        if (rest.length > 0 || this.submitted === 0) {
          const first = this.submitted++ === 0;
          await this.piece(rest, first, this.reader.parse(rest, first));
        }
        // A piece PostgreSQL read may have failed (its error is the COPY's): nothing to commit.
        if (!this.error) await this.commit();
      });
    }
    this.thread?.close();
    this.encoder?.close();
    this.reads = [];
    if (this.error) {
      await this.abort();
      const status = this.inTransactionBlock ? TransactionStatus.Failed : TransactionStatus.Idle;
      return concatBytes([this.error, readyForQuery(status)]);
    }
    const status = this.inTransactionBlock ? TransactionStatus.InTransaction : TransactionStatus.Idle;
    return concatBytes([commandComplete(`COPY ${this.rows}`), readyForQuery(status)]);
  }

  /**
   * The rows of an INSERT … VALUES as text-format COPY data (session/direct-ingest/insert.ts): written like
   * a COPY when Orbit reads every value; undefined (nothing done) otherwise.
   */
  async insert(data: Uint8Array): Promise<Uint8Array | undefined> {
    const rows = this.reader.parse(data, false);
    if (!rows) return undefined;
    await this.guard(async () => {
      await this.begin();
      this.pieces++;
      this.submitted++;
      await this.route(rows);
      await this.commit();
    });
    if (this.error) {
      await this.abort();
      return concatBytes([this.error, readyForQuery(this.inTransactionBlock ? TransactionStatus.Failed : TransactionStatus.Idle)]);
    }
    const status = this.inTransactionBlock ? TransactionStatus.InTransaction : TransactionStatus.Idle;
    return concatBytes([commandComplete(`INSERT 0 ${this.rows}`), readyForQuery(status)]);
  }

  /** Runs `fn`; an exception becomes the COPY's error. */
  private async guard(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      const e = err instanceof OrbitError ? err : new OrbitError(SqlState.internal_error, String((err as Error)?.message ?? err));
      this.error ??= errorResponse(e);
    }
  }

  private cutBinary(buf: Uint8Array): number {
    let start = 0;
    // The header is in the first piece handed out (pieces read on the thread count only once routed).
    if (this.submitted === 0) {
      const end = streamHeaderEnd(buf);
      if (end === undefined) return 0;
      // A header PostgreSQL refuses: the bytes go on at once for its error, not held to CopyDone.
      if (end < 0) return buf.length;
      start = end;
    }
    const r = scanBinaryTuples(buf, start);
    // Only CopyDone may follow the trailer, and PostgreSQL refuses the first byte after it
    // ("received copy data after EOF marker"): a piece with the trailer ends with that byte, so it
    // fails there with the line number (or waits for more, ending the COPY's data at CopyDone).
    if (r.trailer) return r.end < buf.length ? r.end + 1 : 0;
    return r.rows === 0 ? 0 : r.end;
  }

  private async begin(): Promise<void> {
    if (this.began || this.inTransactionBlock) return;
    await must(this.run, 'BEGIN');
    this.began = true;
  }

  /** Buffers the rows of one piece (complete rows) by chunk: `parsed`, or as PostgreSQL reads them. */
  private async piece(data: Uint8Array, first: boolean, parsed: Rows | undefined, ids = false): Promise<void> {
    // After the first error (PostgreSQL's, for a piece it read) nothing more is read.
    if (this.error) return;
    await this.begin();
    if (first && parsed && this.format.headerMatch && !(await this.checkHeader(data))) {
      parsed = undefined;
      ids = false;
    }
    if (this.error) return;
    // Later binary pieces PostgreSQL reads need the header the client sent once.
    const header = first && this.format.kind === 'binary' ? this.keepBinaryHeader(data) : 0;
    const rows = parsed ?? (await this.parseInPostgres(data, first));
    this.pieces++;
    if (!rows) return;
    // A piece Orbit read has one line per row (no quoted or escaped newlines) or tuple, plus the header.
    this.linesBefore += parsed ? rowCount(parsed) + (first && this.format.header ? 1 : 0) : linesIn(data, this.format, header);
    await this.route(rows, ids);
  }

  /**
   * HEADER MATCH on a first piece Orbit read: PostgreSQL checks the header line alone (a COPY of just
   * that line into the staging table), so the names, count and 22P04 are its own. False when the
   * line may not end at the first newline (a quote or backslash in it): PostgreSQL then reads the
   * whole piece, header and all.
   */
  private async checkHeader(data: Uint8Array): Promise<boolean> {
    const nl = data.indexOf(0x0a);
    const line = data.subarray(0, nl + 1);
    const special = this.format.kind === 'csv' ? [this.format.quote, this.format.escape] : [0x5c];
    if (nl < 0 || line.some((b) => special.includes(b))) return false;
    await this.parseInPostgres(line, true);
    return true;
  }

  /** Keeps the binary COPY header at the start of `data` (the first piece); its length. */
  private keepBinaryHeader(data: Uint8Array): number {
    const end = streamHeaderEnd(data);
    if (end === undefined || end < 0) return 0;
    this.binaryHeader = data.slice(0, end);
    return end;
  }


  /**
   * PostgreSQL reads the piece: COPY into a temporary table like the hypertable (its defaults and
   * NOT NULLs), then out again in binary. Its error, if any, becomes the COPY's, with the line
   * number counted over the whole stream and the hypertable's name.
   */
  private async parseInPostgres(data: Uint8Array, first: boolean): Promise<Rows | undefined> {
    const t = this.target;
    if (!this.staging) {
      // An earlier direct COPY of the same transaction block may have left one (dropped at COMMIT).
      await must(this.run, `DROP TABLE IF EXISTS pg_temp.${STAGING}; CREATE TEMP TABLE ${STAGING} (LIKE ${quoteIdent(t.schema)}.${quoteIdent(t.name)} INCLUDING DEFAULTS) ON COMMIT DROP`);
      this.staging = true;
    }
    const node = { ...this.statement.node, relation: { relname: STAGING, inh: true, relpersistence: 'p' } } as Record<string, unknown>;
    if (!first) node.options = ((node.options as Array<{ DefElem: { defname: string } }> | undefined) ?? []).filter((o) => o.DefElem.defname !== 'header');
    const sql = deparseSync({ CopyStmt: node } as never);
    const piece = this.format.kind === 'binary' && !first && this.binaryHeader ? concatBytes([this.binaryHeader, data]) : data;
    const parts = [simpleQuery(sql)];
    if (piece.length > 0) parts.push(copyData(piece));
    parts.push(COPY_DONE);
    const out = await this.run.raw(concatBytes(parts));
    const err = errorFrame(out, this.linesBefore, t.name);
    if (err) {
      this.error = err;
      return undefined;
    }
    const list = t.columns.map((c) => quoteIdent(c.name)).join(', ');
    const copied = await must(this.run, `COPY (SELECT ${list} FROM ${STAGING}) TO STDOUT (FORMAT binary)`);
    const bytes = concatBytes(
      scanBackend(copied)
        .filter((f) => f.type === BackendMessage.CopyData)
        .map((f) => copied.subarray(f.start + 5, f.end)),
    );
    await must(this.run, `TRUNCATE ${STAGING}`);
    return { names: t.columns.map((c) => c.name), columns: readCopyBinary(bytes, t.columns.map((c) => c.type)) };
  }

  /** Buffers each row in its chunk's buffer (creating chunks as needed); flushes full buffers. */
  private async route(rows: Rows, ids = false): Promise<void> {
    const time = rows.columns[this.timeIndex]!;
    const n = time.type === 'uuid' ? 0 : (time.values as ArrayLike<unknown>).length;
    if (n === 0) return;
    // Doubles when every internal time is exact as one (no BigInt per row), else BigInts.
    const internal: Float64Array | bigint[] = internalDoubles(time) ?? internalTimes(time);
    // One time per chunk to create; chunks may be aligned otherwise than on multiples of the
    // interval (month intervals, origins), so a few rounds may be needed.
    for (let round = 0; ; round++) {
      const missing = findMissing(this.ranges, internal, this.target.interval);
      if (missing.length === 0 && this.ranges.length > 0) break;
      if (round === 8) throw new OrbitError(SqlState.internal_error, `no chunk holds internal time ${missing[0]}`);
      const out = await must(
        cacheRunner(this.run),
        `SELECT json_build_object('chunk_id', c.chunk_id, 'range_start', c.range_start::text, 'range_end', c.range_end::text) FROM _timescaledb_functions.orbit_chunks_for_internal(${this.target.hypertableId}, '{${missing.join(',')}}'::bigint[]) c`,
      );
      this.ranges = jsonRows<{ chunk_id: number; range_start: number | string; range_end: number | string }>(out).map((c) => {
        const start = BigInt(c.range_start);
        const end = BigInt(c.range_end);
        return { id: c.chunk_id, start, end, lo: Number(start), hi: Number(end) };
      });
    }
    for (const [id, indices] of rowsByChunk(this.ranges, internal)) {
      const part = indices === undefined ? rows : { names: rows.names, columns: rows.columns.map((c) => takeRows(c, indices)) };
      const count = indices?.length ?? n;
      let b = this.buffers.get(id);
      if (!b) this.buffers.set(id, (b = { parts: [], rows: 0 }));
      b.parts.push({ rows: part, ids });
      b.rows += count;
      this.bufferedRows += count;
      this.rows += count;
      if (b.rows >= FLUSH_ROWS) await this.flush(id, b);
    }
    while (this.bufferedRows > MAX_BUFFERED_ROWS) {
      const [id, b] = [...this.buffers].sort((a, z) => z[1].rows - a[1].rows)[0]!;
      await this.flush(id, b);
    }
  }

  /** Cuts a chunk's buffered rows into batches and writes them. */
  private async flush(chunkId: number, b: ChunkBuffer): Promise<void> {
    if (b.rows === 0) return;
    const t = this.target;
    if (b.rowstore === undefined) b.rowstore = await this.otherColumns(chunkId);
    if (b.rowstore !== null) return this.toRowstore(b, b.rowstore);
    b.append ??= await this.store.beginAppend(t.hypertableId, chunkId, this.columns, t.settings);
    const parts = b.parts;
    this.bufferedRows -= b.rows;
    b.parts = [];
    b.rows = 0;
    // The batches are cut and encoded now (here or on the encoder thread); their writes go on while
    // the next rows are parsed (at most WRITES_IN_FLIGHT flushes' worth), and all are awaited
    // before the manifests.
    let write: Promise<void>;
    if (this.encoder?.ready && parts.every((p) => p.ids)) {
      // Every part holds entry numbers: the thread gets them with the strings it has not seen.
      const request: EncodeRequest = { parts: parts.map((p) => p.rows.columns.map((c) => ({ values: c.values as ThreadValues, nulls: c.nulls }))), added: this.dictionaries!.takeNew() };
      const append = b.append;
      const { transfer, shared } = requestBuffers(request);
      write = this.encoder.encode(request, transfer).then((flush) => {
        // Encoded: the reader's shared buffers of these parts go back to it with the next read.
        this.freeSlabs.push(...shared);
        return this.store.appendEncoded(append, flush.stats, flush.objects);
      });
    } else {
      const { rows, groups } = joinParts(parts, this.dictionaries, this.target.settings.segmentBy);
      write = this.store.appendRows(b.append, rows, groups);
    }
    write.catch(() => undefined); // handled when awaited, in order or by settleWrites
    this.writes.push(write);
    while (this.writes.length > WRITES_IN_FLIGHT) await this.writes.shift();
  }

  /** The table of chunk `id` if it is compressed with batches of other columns than the hypertable's now, else null. */
  private async otherColumns(id: number): Promise<string | null> {
    const out = await must(
      this.run,
      `SELECT json_build_object('manifest', cc.manifest, 'table', format('%I.%I', ch.schema_name, ch.table_name))
       FROM _timescaledb_catalog.chunk ch JOIN _timescaledb_catalog.orbit_columnstore_chunk cc ON cc.id = ch.compressed_chunk_id WHERE ch.id = ${id}`,
    );
    const found = jsonRows<{ manifest: string; table: string }>(out)[0];
    if (!found) return null;
    const m = await this.store.readManifest(found.manifest);
    return sameColumns(m.columns, this.columns) ? null : found.table;
  }

  /** The manifest columns of this COPY's rows. */
  private get columns(): ManifestColumn[] {
    return this.target.columns.map((c) => ({ name: c.name, type: c.type, attnum: c.attnum }));
  }

  /** A buffer's rows COPYed into its chunk table, as PostgreSQL's COPY into the hypertable puts them. */
  private async toRowstore(b: ChunkBuffer, table: string): Promise<void> {
    const { rows } = joinParts(b.parts, this.dictionaries, []);
    this.bufferedRows -= b.rows;
    b.parts = [];
    b.rows = 0;
    await this.begin();
    const copy = simpleQuery(`COPY ${table} (${rows.names.map(quoteIdent).join(', ')}) FROM STDIN (FORMAT binary)`);
    throwIfError(await this.run.raw(concatBytes([copy, copyData(writeCopyBinary(rows.columns)), COPY_DONE])));
  }

  /** Waits for every batch write; the first failure is thrown. */
  private async settleWrites(): Promise<void> {
    const writes = this.writes.splice(0);
    const results = await Promise.allSettled(writes);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  /** Flushes every buffer, writes the manifests, points the chunks at them and commits. */
  private async commit(): Promise<void> {
    for (const [id, b] of this.buffers) await this.flush(id, b);
    await this.settleWrites();
    const appends = [...this.buffers.entries()].filter(([, b]) => b.append && b.append.written.length > 0);
    if (appends.length > 0) {
      const out = await must(
        this.run,
        `SELECT json_object_agg(ch.id, cc.manifest) FROM _timescaledb_catalog.chunk ch JOIN _timescaledb_catalog.orbit_columnstore_chunk cc ON cc.id = ch.compressed_chunk_id
         WHERE ch.id IN (${appends.map(([id]) => id).join(', ')})`,
      );
      const current = jsonRows<Record<string, string> | null>(out)[0] ?? {};
      for (const [id, b] of appends) {
        const key = current[String(id)];
        const previous = key ? await this.store.readManifest(key) : undefined;
        const manifest = await this.store.commitAppend(b.append!, previous);
        delete b.append;
        this.committed.push(manifest.key);
        const bytes = manifest.batches.reduce((s, x) => s + x.bytes, 0);
        await must(cacheRunner(this.run), `SELECT _timescaledb_functions.orbit_append_columnstore_chunk(${id}, ${quoteLiteral(manifest.key)}, ${manifest.rowCount}, ${manifest.batches.length}, ${bytes})`);
      }
    }
    if (this.began) {
      const out = await this.run.sql('COMMIT');
      this.began = false;
      const e = firstError(out);
      if (e) throw new OrbitError(e.C ?? SqlState.internal_error, e.M ?? 'COMMIT failed');
    }
  }

  /** Manifests written by this COPY (deleted again if it fails after writing them). */
  private readonly committed: string[] = [];

  /** After an error: objects written are deleted, the transaction rolled back (or marked failed). */
  private async abort(): Promise<void> {
    // Writes still running would land after their objects are deleted.
    await this.settleWrites().catch(() => undefined);
    for (const b of this.buffers.values()) if (b.append) await this.store.abortAppend(b.append).catch(() => undefined);
    this.buffers.clear();
    if (this.began) await this.run.sql('ROLLBACK');
    else if (this.inTransactionBlock) {
      // The error did not come from PostgreSQL: fail the client's transaction block as it would have.
      await this.run.sql(`DO $$BEGIN RAISE EXCEPTION 'direct COPY failed'; END$$`);
    }
    this.began = false;
  }

  /** Whether the COPY wrote to the columnstore (the session's metadata is then stale). */
  get wroteBatches(): boolean {
    return this.committed.length > 0;
  }
}

/** PostgreSQL's error for a staged piece, as the COPY into the hypertable would have reported it. */
function errorFrame(out: Uint8Array, lineOffset: number, table: string): Uint8Array | undefined {
  for (const f of scanBackend(out)) {
    if (f.type !== BackendMessage.ErrorResponse) continue;
    let frame: Uint8Array = out.subarray(f.start, f.end).slice();
    const rename = (s: string) => s.split(`"${STAGING}"`).join(`"${table}"`).split(`COPY ${STAGING},`).join(`COPY ${table},`);
    frame = rewriteErrorField(frame, 'W', (where) => rename(where).replace(/^(COPY [^,]*, line )(\d+)/, (_m, head: string, n: string) => `${head}${Number(n) + lineOffset}`));
    frame = rewriteErrorField(frame, 'M', rename);
    frame = rewriteErrorField(frame, 't', (t) => (t === STAGING ? table : t));
    return frame;
  }
  return undefined;
}
