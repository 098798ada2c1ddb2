/**
 * @module session/copy-in
 * COPY ... FROM STDIN over one PGlite backend. PGlite runs a message batch synchronously and treats
 * an empty input buffer as end of file, so COPY data cannot trickle in message by message. Orbit
 * buffers the stream and hands it to PostgreSQL in pieces cut at row boundaries, each piece as one
 * complete `COPY ... FROM STDIN` + CopyData + CopyDone batch, all inside one transaction. Memory stays
 * bounded by the piece size, whatever the size of the stream.
 */
import { concatBytes } from '../bytes.js';
import { streamHeaderEnd } from '../columnstore/pg-binary.js';
import { deparseSync } from '../sql/deparse.js';
import type { ClassifiedStatement } from '../sql/classify.js';
import { commandComplete, readyForQuery, rewriteErrorField, scanBackend } from '../wire/protocol/backend.js';
import { copyData, copyFail } from '../wire/protocol/frontend.js';
import { BackendMessage, FrontendMessage, TransactionStatus } from '../wire/protocol/message-codes.js';
import { CopyChunks } from './copy-chunks.js';
import { simpleQuery } from './settings.js';

type Run = (messages: Uint8Array) => Promise<Uint8Array>;

const COPY_DONE = new Uint8Array([FrontendMessage.CopyDone, 0, 0, 0, 4]);
const NL = 0x0a;
const BACKSLASH = 0x5c;

export interface CopyFormat {
  readonly kind: 'text' | 'csv' | 'binary';
  readonly quote: number;
  readonly escape: number;
  readonly header: boolean;
  /** HEADER MATCH: the header line must name the COPY's columns (PostgreSQL checks it, 22P04). */
  readonly headerMatch: boolean;
  /** Field separator: tab in text format, comma in CSV unless DELIMITER says otherwise. */
  readonly delimiter: number;
  /** The NULL marker: \N in text format, an unquoted empty field in CSV unless NULL says otherwise. */
  readonly nullString: string;
}

export class CopyIn {
  private readonly format: CopyFormat;
  /** The statement for pieces after the first (HEADER removed: only the first piece has one). */
  private readonly laterSql: string;
  private readonly buffer: CopyBuffer;
  private pieces = 0;
  private rows = 0;
  /** Lines PostgreSQL has read in earlier pieces, to report error line numbers for the whole stream. */
  private linesBefore = 0;
  private error: Uint8Array | undefined;
  /** The binary COPY file header (signature, flags, extension), repeated for every later piece. */
  private binaryHeader: Uint8Array | undefined;
  private began = false;
  private readonly chunkMaker: CopyChunks | undefined;

  constructor(
    private readonly statement: ClassifiedStatement,
    chunkBytes: number,
    /** The client is inside a transaction block: no BEGIN/COMMIT of our own. */
    private readonly inTransactionBlock: boolean,
    /** The target may be a hypertable: create the chunks of each piece before sending it. */
    hypertable = false,
  ) {
    this.format = readCopyFormat(statement.node);
    this.chunkMaker = hypertable ? new CopyChunks(statement.node, this.format) : undefined;
    this.laterSql = this.format.header ? withoutHeader(statement.node) : statement.text;
    this.buffer = new CopyBuffer(chunkBytes, (all) => (this.format.kind === 'binary' ? this.scanBinary(all) : scanRows(all, this.format)).end);
  }

  /** The CopyInResponse sent to the client before any data. */
  copyInResponse(): Uint8Array {
    const binary = this.format.kind === 'binary' ? 1 : 0;
    // Overall format, and zero column formats: clients do not rely on the column count here.
    return new Uint8Array([BackendMessage.CopyInResponse, 0, 0, 0, 7, binary, 0, 0]);
  }

  async data(body: Uint8Array, run: Run): Promise<void> {
    if (this.error) return; // discard until CopyDone, as PostgreSQL does after an error
    const piece = this.buffer.push(body);
    if (piece) await this.runPiece(piece, run);
  }

  /** CopyDone (or CopyFail with its message): runs the rest and returns the client's answer. */
  async finish(run: Run, failMessage?: string): Promise<Uint8Array> {
    if (!this.error && failMessage === undefined) await this.runPiece(this.buffer.take(), run);
    if (!this.error && failMessage !== undefined) {
      await this.begin(run);
      const out = await run(concatBytes([simpleQuery(this.sqlForPiece()), copyFail(failMessage)]));
      this.error = firstErrorFrame(out);
    }
    if (this.error) {
      if (!this.inTransactionBlock && this.began) await run(simpleQuery('ROLLBACK'));
      const status = this.inTransactionBlock ? TransactionStatus.Failed : TransactionStatus.Idle;
      return concatBytes([this.error, readyForQuery(status)]);
    }
    if (!this.inTransactionBlock) {
      const out = await run(simpleQuery('COMMIT'));
      const err = firstErrorFrame(out);
      if (err) return concatBytes([err, readyForQuery(TransactionStatus.Idle)]);
    }
    const status = this.inTransactionBlock ? TransactionStatus.InTransaction : TransactionStatus.Idle;
    return concatBytes([commandComplete(`COPY ${this.rows}`), readyForQuery(status)]);
  }

  private sqlForPiece(): string {
    return this.pieces === 0 ? this.statement.text : this.laterSql;
  }

  private async begin(run: Run): Promise<void> {
    if (this.began || this.inTransactionBlock) return;
    await run(simpleQuery('BEGIN'));
    this.began = true;
  }

  /** Complete tuples of a binary COPY stream; the first piece starts after the file header. */
  private scanBinary(buf: Uint8Array): { end: number; rows: number } {
    let start = 0;
    if (this.pieces === 0) {
      const end = streamHeaderEnd(buf);
      if (end === undefined) return { end: 0, rows: 0 };
      // A header PostgreSQL refuses: the piece goes on for its error.
      const headerLength = end < 0 ? Math.min(19, buf.length) : end;
      this.binaryHeader = buf.slice(0, headerLength);
      start = headerLength;
    }
    const r = scanBinaryTuples(buf, start);
    // A cut right after the header alone would send an empty piece: wait for a tuple.
    return r.rows === 0 ? { end: 0, rows: 0 } : r;
  }

  private async runPiece(data: Uint8Array, run: Run): Promise<void> {
    await this.begin(run);
    if (this.chunkMaker && data.length > 0) await this.chunkMaker.beforePiece(data, this.pieces === 0, run);
    // Every piece of a binary COPY is a file of its own: it needs the header the client sent once.
    const piece = this.format.kind === 'binary' && this.pieces > 0 && this.binaryHeader ? concatBytes([this.binaryHeader, data]) : data;
    const parts = [simpleQuery(this.sqlForPiece())];
    if (piece.length > 0) parts.push(copyData(piece));
    parts.push(COPY_DONE);
    const out = await run(concatBytes(parts));
    // PostgreSQL cannot count CSV newlines inside a quoted field before it has seen the first line
    // end (copyfromparse.c compares with the not-yet-known EOL type), so each later piece's first
    // record loses its embedded newlines; a single stream would have counted them.
    const lost = this.format.kind === 'csv' && this.pieces > 0 ? newlinesInFirstRecord(piece, this.format) : 0;
    const err = firstErrorFrame(out, this.linesBefore + lost);
    if (err) {
      this.error = err;
      return;
    }
    for (const f of scanBackend(out)) {
      if (f.type === BackendMessage.CommandComplete) {
        const tag = new TextDecoder('utf-8', { ignoreBOM: true }).decode(out.subarray(f.start + 5, f.end - 1));
        this.rows += Number(tag.split(' ')[1] ?? 0);
      }
    }
    this.linesBefore += linesOf(piece, this.format, this.binaryHeader?.length ?? 0);
    // ... and in the stream's first piece those lines are not counted by PostgreSQL either.
    if (this.format.kind === 'csv' && this.pieces === 0) this.linesBefore -= newlinesInFirstRecord(piece, this.format);
    this.pieces++;
  }
}

/**
 * COPY data gathered until a piece of at least `bytes` is there, handed out cut after its last
 * complete row (`cut`: the offset after it, 0 if none yet); the rest waits for more data. Each
 * CopyData body is copied once, into the buffer of the piece being gathered; a piece handed out is
 * the only view of its buffer (the rest after the cut is copied to the next one), so it may be
 * moved to another thread without a copy, and its buffer given back (`recycle`) once read.
 */
export class CopyBuffer {
  private buf: Uint8Array = new Uint8Array(0);
  private length = 0;
  /** Buffers of pieces already read, for the next pieces (fewer large allocations to collect). */
  private spare: ArrayBufferLike[] = [];

  constructor(
    private readonly bytes: number,
    private readonly cut: (all: Uint8Array) => number,
    /**
     * Pieces in SharedArrayBuffers (they go to a reader thread and back): V8 counts a moved
     * ArrayBuffer as newly allocated external memory in the isolate receiving it, and that count
     * drives full collections; a shared buffer is not counted per isolate.
     */
    private readonly shared = false,
  ) {}

  /** Adds a CopyData body; returns the complete rows of a full piece, if there is one. */
  push(body: Uint8Array): Uint8Array | undefined {
    // The body is a view into the socket's buffer: copied in.
    if (this.length + body.length > this.buf.length) {
      // A small COPY gets a small buffer; past that, room for a piece and the message that ends
      // it (more only when no row ends within).
      const need = this.length + body.length;
      const grown = this.buf.length === 0 && need <= 1 << 16 ? this.fresh(1 << 16) : this.alloc(Math.max(this.bytes + (this.bytes >> 3), need * 2));
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
    }
    this.buf.set(body, this.length);
    this.length += body.length;
    if (this.length < this.bytes) return undefined;
    const all = this.buf.subarray(0, this.length);
    const cut = this.cut(all);
    if (cut <= 0) return undefined;
    const rest = all.subarray(cut);
    this.buf = this.alloc(Math.max(this.bytes + (this.bytes >> 3), rest.length * 2));
    this.buf.set(rest);
    this.length = rest.length;
    return all.subarray(0, cut);
  }

  /** Gives back the buffer of a piece handed out and no longer used; kept if large enough for one. */
  recycle(buffer: ArrayBufferLike): void {
    if ((buffer instanceof ArrayBuffer || (this.shared && buffer instanceof SharedArrayBuffer)) && buffer.byteLength >= this.bytes + (this.bytes >> 3) && this.spare.length < 4) this.spare.push(buffer);
  }

  /** A buffer of at least `size` bytes: a spare one, or new. */
  private alloc(size: number): Uint8Array {
    const i = this.spare.findIndex((b) => b.byteLength >= size);
    return i >= 0 ? new Uint8Array(this.spare.splice(i, 1)[0]!) : this.fresh(size);
  }

  private fresh(size: number): Uint8Array {
    return new Uint8Array(this.shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size));
  }

  /** Everything buffered (at CopyDone); the only view of its buffer. */
  take(): Uint8Array {
    const all = this.buf.subarray(0, this.length);
    this.buf = new Uint8Array(0);
    this.length = 0;
    return all;
  }
}

export function readCopyFormat(node: Record<string, unknown>): CopyFormat {
  let kind: CopyFormat['kind'] = 'text';
  let quote = 0x22;
  let escape = -1;
  let header = false;
  let headerMatch = false;
  let delimiter: number | undefined;
  let nullString: string | undefined;
  for (const o of (node.options as Array<{ DefElem: { defname: string; arg?: Record<string, { sval?: string; boolval?: boolean }> } }> | undefined) ?? []) {
    const { defname, arg } = o.DefElem;
    const value = arg?.String?.sval ?? (arg?.Boolean ? String(arg.Boolean.boolval === true) : undefined);
    if (defname === 'format' && (value === 'csv' || value === 'binary' || value === 'text')) kind = value;
    else if (defname === 'quote' && value) quote = value.charCodeAt(0);
    else if (defname === 'escape' && value) escape = value.charCodeAt(0);
    else if (defname === 'header') {
      header = value === undefined || !['false', 'off', '0'].includes(value.toLowerCase());
      headerMatch = value?.toLowerCase() === 'match';
    }
    else if (defname === 'delimiter' && value) delimiter = value.charCodeAt(0);
    else if (defname === 'null' && value !== undefined) nullString = value;
  }
  return {
    kind,
    quote,
    escape: escape < 0 ? quote : escape,
    header,
    headerMatch,
    delimiter: delimiter ?? (kind === 'csv' ? 0x2c : 0x09),
    nullString: nullString ?? (kind === 'csv' ? '' : '\\N'),
  };
}

function withoutHeader(node: Record<string, unknown>): string {
  const options = (node.options as Array<{ DefElem: { defname: string } }> | undefined) ?? [];
  return deparseSync({ CopyStmt: { ...node, options: options.filter((o) => o.DefElem.defname !== 'header') } } as never);
}

/**
 * Finds the complete rows at the start of `buf`: the end offset of the last one and how many there
 * are. CSV rows may hold quoted newlines; in text format a backslash escapes the next byte.
 */
export function scanRows(buf: Uint8Array, format: Pick<CopyFormat, 'kind' | 'quote' | 'escape'>): { end: number; rows: number } {
  let end = 0;
  let rows = 0;
  if (format.kind === 'csv') {
    const { quote, escape } = format;
    let inQuotes = false;
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i]!;
      if (inQuotes) {
        if (c === escape && escape !== quote) {
          i++; // the escaped byte is data whatever it is
        } else if (c === quote) {
          if (i + 1 >= buf.length) break; // a doubled quote may continue in the next message
          if (escape === quote && buf[i + 1] === quote) i++;
          else inQuotes = false;
        }
      } else if (c === quote) {
        inQuotes = true;
      } else if (c === NL) {
        end = i + 1;
        rows++;
      }
    }
    return { end, rows };
  }
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (c === BACKSLASH) {
      i++;
    } else if (c === NL) {
      end = i + 1;
      rows++;
    }
  }
  return { end, rows };
}

/**
 * The lines PostgreSQL counts in a piece (its `cur_lineno`, which restarts at 1 in every piece):
 * records in text format, tuples in binary, and in CSV physical lines, since PostgreSQL also counts
 * newlines inside quoted fields (copyfromparse.c, CopyReadLineText).
 */
function linesOf(piece: Uint8Array, format: CopyFormat, binaryHeaderLength: number): number {
  if (format.kind === 'binary') return scanBinaryTuples(piece, binaryHeaderLength).rows;
  if (format.kind === 'text') return scanRows(piece, format).rows;
  let n = 0;
  for (let i = piece.indexOf(NL); i >= 0; i = piece.indexOf(NL, i + 1)) n++;
  return n;
}

/** Newlines inside quoted fields of the first CSV record of `piece`. */
function newlinesInFirstRecord(piece: Uint8Array, format: CopyFormat): number {
  const end = firstRecordEnd(piece, format);
  let n = 0;
  for (let i = 0; i < end - 1; i++) if (piece[i] === NL) n++;
  return n;
}

/** End offset of the first complete CSV record. */
function firstRecordEnd(piece: Uint8Array, format: CopyFormat): number {
  // scanRows over growing prefixes would be quadratic; one pass that stops at the first boundary.
  let inQuotes = false;
  for (let i = 0; i < piece.length; i++) {
    const c = piece[i]!;
    if (inQuotes) {
      if (c === format.escape && format.escape !== format.quote) i++;
      else if (c === format.quote) {
        if (format.escape === format.quote && piece[i + 1] === format.quote) i++;
        else inQuotes = false;
      }
    } else if (c === format.quote) inQuotes = true;
    else if (c === NL) return i + 1;
  }
  return piece.length;
}

/**
 * Complete tuples of binary COPY data from `start`: each is an int16 field count then, per field,
 * an int32 length (-1 for NULL) and the bytes. The trailer (field count -1; any negative count is
 * taken as one) ends the data: `end` is then after it.
 */
export function scanBinaryTuples(buf: Uint8Array, start: number): { end: number; rows: number; trailer?: boolean } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = start;
  let rows = 0;
  let end = start;
  while (pos + 2 <= buf.length) {
    const fields = view.getInt16(pos);
    if (fields < 0) return { end: pos + 2, rows, trailer: true };
    let p = pos + 2;
    let complete = true;
    for (let f = 0; f < fields; f++) {
      if (p + 4 > buf.length) {
        complete = false;
        break;
      }
      const len = view.getInt32(p);
      p += 4 + Math.max(len, 0);
      if (p > buf.length) {
        complete = false;
        break;
      }
    }
    if (!complete) break;
    pos = p;
    end = p;
    rows++;
  }
  return { end, rows };
}

/** The first ErrorResponse of a backend stream, with its COPY line number moved by `lineOffset`. */
function firstErrorFrame(out: Uint8Array, lineOffset = 0): Uint8Array | undefined {
  for (const f of scanBackend(out)) {
    if (f.type !== BackendMessage.ErrorResponse) continue;
    const frame = out.subarray(f.start, f.end);
    if (lineOffset === 0) return frame.slice();
    // Only the CONTEXT line number changes; every other field (LOCATION included) is kept as sent.
    return rewriteErrorField(frame, 'W', (where) => where.replace(/^(COPY [^,]*, line )(\d+)/, (_m, head: string, n: string) => `${head}${Number(n) + lineOffset}`));
  }
  return undefined;
}
