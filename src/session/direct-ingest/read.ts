/**
 * @module session/direct-ingest/read
 * The piece reader of direct ingest (session/direct-ingest/copy.ts): a text or CSV piece of COPY data
 * (complete rows) read straight into per-column typed arrays by the byte parsers
 * (columnstore/text-input-bytes.ts), fields they do not read going to the strict string parsers
 * (columnstore/text-input.ts); a binary piece read by PostgreSQL's receive rules
 * (columnstore/pg-binary.ts). It answers undefined for anything it is not sure of; the caller then
 * lets PostgreSQL read the piece.
 */
import { indexOfByte } from '../../bytes.js';
import { allocColumn, columnLength, type Column, type PgType, type Rows } from '../../columnstore/columns.js';
import { copyHeaderEnd, receivable, receiveCopyTuples } from '../../columnstore/pg-binary.js';
import { byteFieldParser, float8Into, int64Lanes, textIdBytes, textIdInto, TextInterner, textStops, timestampInto, type ByteFieldParser } from '../../columnstore/text-input-bytes.js';
import { decodeField, fieldParser, type FieldParser } from '../../columnstore/text-input.js';
import { scanBinaryTuples, scanRows, type CopyFormat } from '../copy-in.js';
import type { DirectTarget } from './target.js';
import { isText, type ThreadPiece, type ThreadValues } from './threads.js';

const NL = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
/** Bytes the byte parsers read inside a value (digits, signs, point, time separators). */
const NUMBER_BYTES = [...'0123456789.-+: TZ'].map((c) => c.charCodeAt(0));

/**
 * How parse reads a column's fields: through its ByteFieldParser closure (OTHER), or by a direct
 * call on the column's array kept by kind (the common types of tags and metrics), so the per-field
 * call is monomorphic rather than one megamorphic closure call. Both run the same byte parser.
 */
const OTHER = 0;
const FLOAT8 = 1;
const TIMESTAMP = 2;
const TIMESTAMPTZ = 3;
const TEXT_ID = 4;
const NO_F64 = new Float64Array(0);
/** Shared buffers a reader keeps for its pieces' columns at most. */
const MAX_SLABS = 32;
/** The typed columns a reader's pieces hold in shared buffers (PieceReader.allocColumns), by type. */
const SLAB_VIEWS: Partial<Record<PgType, { readonly BYTES_PER_ELEMENT: number; new (buffer: ArrayBufferLike, offset: number, length: number): Exclude<ThreadValues, string[]> }>> = {
  timestamptz: BigInt64Array,
  timestamp: BigInt64Array,
  int8: BigInt64Array,
  date: Int32Array,
  int4: Int32Array,
  int2: Int16Array,
  float4: Float32Array,
  float8: Float64Array,
  bool: Uint8Array,
};
const NO_I32 = new Int32Array(0);

/** Reads the text/CSV pieces of one COPY into the target's columns. */
export class PieceReader {
  private readonly parsers: Array<FieldParser | undefined>;
  /** Per column, the parser reading fields straight from the bytes (the common spellings). */
  private readonly byteParsers: Array<ByteFieldParser | undefined>;
  /** CSV's quote or the text format's backslash. */
  private readonly special: number;
  private readonly nullBytes: Uint8Array;
  /** Id mode: per text column, the interner whose entry numbers the column holds. */
  private readonly interners: Array<TextInterner | undefined>;
  /** Per text column, the interner's size when the last piece was sent (id mode). */
  private readonly sent: number[];
  /** Per column, how parse reads it (OTHER, FLOAT8, …). */
  private readonly kinds: Uint8Array;
  private readonly textStops: Uint8Array;
  /**
   * Id mode, per text column: by the entry number + 1 of its key (0: NULL or none), the entry
   * number + 1 read with it last time (0: none). The key is the row's first text field's entry
   * (tags usually depend on the series' first tag, like a host's region), and for that field its
   * own entry in the row before (series often come in the same order round after round).
   */
  private readonly follows: Int32Array[];
  /** Per COPY field: the table column whose entry is its key (-1: its own, in the row before). */
  private readonly keyCols: Int32Array;
  /**
   * Id mode: shared buffers given back (`recycle`) once the piece whose columns they held was
   * encoded, for the next pieces' columns; `slab`, the one of the piece being read, if any. Moved
   * ArrayBuffers would count as new external memory in every isolate they reach (driving full
   * collections there); shared ones are not counted, and reused ones are not allocated at all.
   */
  private readonly slabs: SharedArrayBuffer[] = [];
  private slab: SharedArrayBuffer | undefined;
  private readonly textIds: boolean;
  private readonly readsAll: boolean;
  /** Per text column, the interner a binary piece's text goes through (id mode: `interners`). */
  private readonly binaryInterners: Array<TextInterner | undefined>;

  constructor(
    private readonly format: CopyFormat,
    /** Table column index of each COPY field (-1: no such column). */
    private readonly fields: readonly number[],
    private readonly target: DirectTarget,
    /**
     * Id mode (`readIds`, a reader on another thread): text columns hold interner entry numbers,
     * and a text field the byte parser does not read fails the piece (the main thread reads it).
     */
    textIds = false,
  ) {
    this.textIds = textIds;
    const listed = new Set(this.fields);
    // Orbit reads a piece itself only when it parses every listed column exactly (no typmods to
    // apply) and every column left out of the COPY has no default or NOT NULL (PostgreSQL's job).
    // Binary fields are read by receiveCopyTuples (its types), text and CSV ones by the parsers.
    const binary = format.kind === 'binary';
    const parsers = target.columns.map((c) => (/\(/.test(c.formatted) ? undefined : fieldParser(c.type, { utc: target.utc })));
    const reads = (c: DirectTarget['columns'][number], i: number) => (binary ? !/\(/.test(c.formatted) && receivable(c.type) : parsers[i] !== undefined);
    const readable =
      !this.fields.includes(-1) && target.utf8 && !(binary && format.header) &&
      target.columns.every((c, i) => (listed.has(i) ? reads(c, i) : !c.hasDefault && !c.notNull));
    this.readsAll = readable;
    this.parsers = readable ? parsers : parsers.map(() => undefined);
    this.special = this.format.kind === 'csv' ? this.format.quote : BACKSLASH;
    this.nullBytes = new TextEncoder().encode(this.format.nullString);
    // Byte parsers stop at the first byte they do not read; that must not be able to be the
    // delimiter or quote, and no value they read may be the NULL string ('' or text's \N are not).
    const syntax = { delimiter: this.format.delimiter, special: this.special };
    const bytewise =
      !NUMBER_BYTES.includes(this.format.delimiter) && !NUMBER_BYTES.includes(this.special) &&
      (this.nullBytes.length === 0 || this.nullBytes[0] === this.special);
    this.byteParsers = this.parsers.map((p, i) => (p && bytewise ? byteFieldParser(target.columns[i]!.type, { utc: target.utc }, syntax) : undefined));
    this.interners = target.columns.map((c, i) => (textIds && this.parsers[i] && isText(c.type) ? new TextInterner() : undefined));
    this.binaryInterners = textIds ? this.interners : target.columns.map((c) => (readable && binary && isText(c.type) ? new TextInterner() : undefined));
    this.sent = this.interners.map(() => 0);
    this.interners.forEach((interner, i) => {
      if (!interner) return;
      this.byteParsers[i] = bytewise ? textIdBytes(syntax, interner) : undefined;
      this.parsers[i] = () => false;
    });
    this.textStops = textStops(syntax);
    // A kind only where the byte parser exists (byteFieldParser has none for int64 on big-endian).
    this.kinds = Uint8Array.from(target.columns, (c, i) => {
      if (!this.byteParsers[i]) return OTHER;
      if (this.interners[i]) return TEXT_ID;
      return c.type === 'float8' ? FLOAT8 : c.type === 'timestamptz' ? TIMESTAMPTZ : c.type === 'timestamp' ? TIMESTAMP : OTHER;
    });
    this.follows = target.columns.map((_, i) => (this.kinds[i] === TEXT_ID ? new Int32Array(64) : NO_I32));
    const firstText = this.fields.findIndex((c) => this.kinds[c] === TEXT_ID);
    this.keyCols = Int32Array.from(this.fields, (_, f) => (firstText >= 0 && f > firstText ? this.fields[firstText]! : -1));
  }

  /** Whether any piece can be read by Orbit (else every piece goes to PostgreSQL). */
  get readable(): boolean {
    return this.readsAll;
  }

  /**
   * Id mode: a piece's columns for another thread (text as entry numbers + 1, 0 for NULL) and the
   * strings the interners added; no columns when the main thread must read the piece.
   */
  readIds(data: Uint8Array, first: boolean): ThreadPiece {
    const rows = this.parse(data, first);
    if (!rows && this.slab) this.recycle([this.slab]);
    this.slab = undefined;
    const added = this.interners.map((interner, i) => {
      if (!interner || interner.size === this.sent[i]) return undefined;
      const strings = interner.stringsFrom(this.sent[i]!);
      this.sent[i] = interner.size;
      return strings;
    });
    return { columns: rows?.columns.map((c) => ({ values: c.values as ThreadValues, nulls: c.nulls ?? null })), added };
  }

  /** Id mode: buffers of earlier pieces' columns that nothing uses any more. */
  recycle(buffers: readonly SharedArrayBuffer[]): void {
    for (const b of buffers) if (this.slabs.length < MAX_SLABS && !this.slabs.includes(b)) this.slabs.push(b);
  }

  /** Columns for `cap` rows: in id mode the typed ones are views of one shared buffer (`slab`). */
  private allocColumns(cap: number): Column[] {
    const types = this.target.columns.map((c, i) => (this.interners[i] ? 'int4' : c.type));
    if (!this.textIds) return types.map((t) => allocColumn(t, cap));
    const room = (t: PgType) => (((SLAB_VIEWS[t]?.BYTES_PER_ELEMENT ?? 0) * cap + 7) & ~7);
    const bytes = types.reduce((sum, t) => sum + room(t), 0);
    const i = this.slabs.findIndex((b) => b.byteLength >= bytes);
    let slab: SharedArrayBuffer;
    if (i >= 0) {
      slab = this.slabs.splice(i, 1)[0]!;
      // Zeroed like a new array: values under NULLs must not be a previous piece's.
      new Uint8Array(slab, 0, bytes).fill(0);
    } else slab = new SharedArrayBuffer(bytes + (bytes >> 3));
    this.slab = slab;
    let at = 0;
    return types.map((type) => {
      const View = SLAB_VIEWS[type];
      if (!View) return allocColumn(type, cap);
      const values = new View(slab, at, cap);
      at += room(type);
      return { type, values, nulls: null } as Column;
    });
  }

  /** The rows of a piece when Orbit can read every field exactly; undefined otherwise. */
  parse(data: Uint8Array, first: boolean): Rows | undefined {
    if (!this.readsAll) return undefined;
    if (this.format.kind === 'binary') return this.parseBinary(data, first);
    const len = data.length;
    let pos = 0;
    if (first && this.format.header) {
      if (len === 0) return undefined;
      // The header line is skipped, but like every other byte it must be UTF-8 without CR.
      const nl = data.indexOf(NL);
      const end = nl < 0 ? len : nl;
      if (decodeField(data, 0, end) === undefined || data.subarray(0, end).includes(CR)) return undefined;
      pos = nl < 0 ? len : nl + 1;
    }
    // Room for the rows guessed from the first row's length (no pass just to count them), grown
    // when short and trimmed at the end.
    const firstEnd = data.indexOf(NL, pos);
    let cap = firstEnd < 0 ? 1 : Math.min(1 << 16, Math.ceil(((len - pos) / (firstEnd - pos + 1)) * 1.25) + 16);
    let columns = this.allocColumns(cap);
    let nulls = columns.map(() => undefined as Uint8Array | undefined);
    const kinds = this.kinds;
    // The arrays of the columns read by kind (placeholders elsewhere, so each list holds one type).
    const views = () => ({
      f64: columns.map((c, i) => (kinds[i] === FLOAT8 ? (c.values as Float64Array) : NO_F64)),
      i32: columns.map((c, i) => (kinds[i] === TEXT_ID ? (c.values as Int32Array) : kinds[i] === TIMESTAMP || kinds[i] === TIMESTAMPTZ ? int64Lanes(c.values as BigInt64Array) : NO_I32)),
    });
    let { f64, i32 } = views();
    const interners = this.interners;
    const follows = this.follows;
    const keyCols = this.keyCols;
    const stops = this.textStops;
    const utc = this.target.utc;
    const fields = this.fields;
    const fast = this.byteParsers;
    const delimiter = this.format.delimiter;
    const last = fields.length - 1;
    let r = 0;
    for (; pos < len; r++) {
      if (r === cap) {
        cap *= 2;
        columns = columns.map((c) => resizeColumn(c, cap));
        // The columns were copied out of the piece's shared buffer: it is free again.
        if (this.slab) this.recycle([this.slab]);
        this.slab = undefined;
        nulls = nulls.map((b) => (b ? resizeBitmap(b, cap) : b));
        ({ f64, i32 } = views());
      }
      const lineStart = pos;
      for (let f = 0; f <= last; f++) {
        const col = fields[f]!;
        const column = columns[col]!;
        const parse = fast[col];
        if (parse !== undefined) {
          let e: number;
          switch (kinds[col]) {
            case FLOAT8:
              e = float8Into(f64[col]!, r, data, pos, len);
              break;
            case TEXT_ID: {
              // The entry seen with the key last time (`follows`) is tried first: a byte compare in
              // place of scan, hash and probe.
              const ids = i32[col]!;
              const kc = keyCols[f]!;
              const key = kc >= 0 ? i32[kc]![r]! : r > 0 ? ids[r - 1]! : 0;
              let table = follows[col]!;
              const guess = key < table.length ? table[key]! : 0;
              if (guess > 0 && (e = interners[col]!.matchAt(guess - 1, data, pos, len, stops)) >= 0) ids[r] = guess;
              else if ((e = textIdInto(ids, r, data, pos, len, stops, interners[col]!)) >= 0) {
                if (key >= table.length) follows[col] = table = growFollows(table, key);
                table[key] = ids[r]!;
              }
              break;
            }
            case TIMESTAMPTZ:
              e = timestampInto(i32[col]!, r, data, pos, len, true, utc);
              break;
            case TIMESTAMP:
              e = timestampInto(i32[col]!, r, data, pos, len, false, utc);
              break;
            default:
              e = parse(column, r, data, pos, len);
          }
          if (e >= 0 && (e === len ? f === last : data[e] === (f === last ? NL : delimiter))) {
            pos = e + 1;
            continue;
          }
        }
        // The field as a string, for the FieldParser; a CSV quote: the whole line as a string.
        let e = pos;
        let backslash = false;
        for (; e < len; e++) {
          const b = data[e]!;
          if (b === delimiter || b === NL) break;
          if (b === CR) return undefined;
          if (b === this.special) {
            if (this.format.kind === 'csv') break;
            backslash = true;
          }
        }
        if (e < len && data[e] === this.special && this.format.kind === 'csv') {
          pos = this.parseCsvLine(data, lineStart, r, columns, nulls);
          if (pos < 0) return undefined;
          break;
        }
        if (e === len || data[e] === NL ? f !== last : f === last) return undefined;
        if (this.isNull(data, pos, e)) {
          if (this.target.columns[col]!.notNull) return undefined;
          (nulls[col] ??= new Uint8Array((cap + 7) >> 3))[r >> 3]! |= 1 << (r & 7);
        } else {
          if (backslash) return undefined;
          const value = decodeField(data, pos, e);
          if (value === undefined || !this.parsers[col]!(column, r, value)) return undefined;
        }
        pos = e + 1;
      }
    }
    const n = r;
    columns = columns.map((c) => resizeColumn(c, n));
    nulls = nulls.map((b) => (b ? resizeBitmap(b, n) : b));
    return this.rowsOf(columns, nulls, n);
  }

  /**
   * The rows of a binary piece (complete tuples, the header first in the first piece, maybe the
   * trailer last) as PostgreSQL's receive functions read them (columnstore/pg-binary.ts); undefined
   * for anything else, such as an error PostgreSQL must report, or NULL in a NOT NULL column.
   */
  private parseBinary(data: Uint8Array, first: boolean): Rows | undefined {
    const start = first ? copyHeaderEnd(data) : 0;
    if (start < 0) return undefined;
    const table = this.target.columns;
    let columns: Column[] = [];
    const alloc = (rows: number) => {
      columns = this.allocColumns(rows);
      return this.fields.map((c) => columns[c]!);
    };
    const got = receiveCopyTuples(data, start, this.fields.map((c) => table[c]!.type), alloc, this.fields.map((c) => this.binaryInterners[c]));
    if (!got) return undefined;
    const nulls = table.map((): Uint8Array | undefined => undefined);
    for (let f = 0; f < this.fields.length; f++) {
      const c = this.fields[f]!;
      if (got.nulls[f] && table[c]!.notNull) return undefined;
      nulls[c] = got.nulls[f] ?? undefined;
    }
    return this.rowsOf(columns, nulls, got.rows);
  }

  /** A piece's rows: its columns with their NULLs; columns left out of the COPY are NULL (they have no default: see the constructor). */
  private rowsOf(columns: Column[], nulls: ReadonlyArray<Uint8Array | undefined>, n: number): Rows {
    const listed = new Set(this.fields);
    const full = columns.map((c, i) => {
      if (!listed.has(i) && n > 0) return { ...c, nulls: new Uint8Array((n + 7) >> 3).fill(0xff) } as Column;
      return nulls[i] ? ({ ...c, nulls: nulls[i]! } as Column) : c;
    });
    return { names: this.target.columns.map((c) => c.name), columns: full };
  }

  private isNull(data: Uint8Array, start: number, end: number): boolean {
    const nb = this.nullBytes;
    if (end - start !== nb.length) return false;
    for (let k = 0; k < nb.length; k++) if (data[start + k] !== nb[k]) return false;
    return true;
  }

  /** Row `r` of CSV data with quotes, from `start`: its fields stored; the next row's start, or -1. */
  private parseCsvLine(data: Uint8Array, start: number, r: number, columns: Column[], nulls: Array<Uint8Array | undefined>): number {
    const nl = data.indexOf(NL, start);
    const end = nl < 0 ? data.length : nl;
    const line = decodeField(data, start, end);
    if (line === undefined || line.includes('\r')) return -1;
    const split = splitCsv(line, this.format);
    if (!split || split.values.length !== this.fields.length) return -1;
    for (let f = 0; f < this.fields.length; f++) {
      const col = this.fields[f]!;
      const value = split.values[f]!;
      if (value === this.format.nullString && !split.quoted[f]) {
        if (this.target.columns[col]!.notNull) return -1;
        const n = columnLength(columns[col]!);
        (nulls[col] ??= new Uint8Array((n + 7) >> 3))[r >> 3]! |= 1 << (r & 7);
        continue;
      }
      if (!this.parsers[col]!(columns[col]!, r, value)) return -1;
    }
    return end + 1;
  }

}

/** A follows table (PieceReader) with room for `key`. */
function growFollows(table: Int32Array, key: number): Int32Array {
  let size = table.length * 2;
  while (size <= key) size *= 2;
  const out = new Int32Array(size);
  out.set(table);
  return out;
}

/** `column` with room for `n` rows: the first rows kept (a view or a truncation when shrinking). */
function resizeColumn(column: Column, n: number): Column {
  const have = columnLength(column);
  if (n === have) return column;
  const v = column.values;
  if (Array.isArray(v)) {
    if (n < have) v.length = n;
    else for (let i = have; i < n; i++) (v as unknown[]).push(column.type === 'opaque' ? new Uint8Array(0) : '');
    return column;
  }
  const width = column.type === 'uuid' ? 16 : 1;
  const typed = v as unknown as Uint8Array;
  if (n < have) return { ...column, values: typed.subarray(0, n * width) } as Column;
  const grown = allocColumn(column.type, n);
  (grown.values as unknown as Uint8Array).set(typed);
  return grown;
}

/** A NULL bitmap for `n` rows with the first rows' bits of `bits`. */
function resizeBitmap(bits: Uint8Array, n: number): Uint8Array {
  const bytes = (n + 7) >> 3;
  if (bytes <= bits.length) return bits.subarray(0, bytes);
  const out = new Uint8Array(bytes);
  out.set(bits);
  return out;
}

/** A CSV line with quotes: its fields and which were quoted; undefined if a quote stays open. */
function splitCsv(line: string, format: CopyFormat): { values: string[]; quoted: boolean[] } | undefined {
  const q = format.quote;
  const e = format.escape;
  const d = format.delimiter;
  const values: string[] = [];
  const quoted: boolean[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    let value = '';
    let wasQuoted = false;
    while (i < n && line.charCodeAt(i) !== d) {
      if (line.charCodeAt(i) === q) {
        wasQuoted = true;
        i++;
        for (;;) {
          if (i >= n) return undefined;
          const c = line.charCodeAt(i);
          if (c === e && e !== q && i + 1 < n && (line.charCodeAt(i + 1) === q || line.charCodeAt(i + 1) === e)) {
            value += line[i + 1];
            i += 2;
          } else if (c === q) {
            if (e === q && line.charCodeAt(i + 1) === q) {
              value += line[i];
              i += 2;
            } else {
              i++;
              break;
            }
          } else {
            value += line[i];
            i++;
          }
        }
      } else {
        value += line[i];
        i++;
      }
    }
    values.push(value);
    quoted.push(wasQuoted);
    if (i >= n) break;
    i++; // delimiter
  }
  return { values, quoted };
}

/** End of the last complete row of text/CSV data (after its newline); 0 if none. */
export function lastRowEnd(buf: Uint8Array, format: CopyFormat): number {
  // Without quotes (CSV) or backslashes (text) every newline ends a row: no need to scan it all.
  if (indexOfByte(buf, format.kind === 'csv' ? format.quote : 0x5c) < 0) return buf.lastIndexOf(NL) + 1;
  return scanRows(buf, format).end;
}

/** Lines PostgreSQL counts in a piece: records (text), physical lines (CSV), tuples (binary). */
export function linesIn(piece: Uint8Array, format: CopyFormat, binaryHeaderLength: number): number {
  if (format.kind === 'binary') return scanBinaryTuples(piece, binaryHeaderLength).rows;
  if (format.kind === 'text') return scanRows(piece, format).rows + (piece.length > 0 && piece[piece.length - 1] !== NL ? 1 : 0);
  let n = 0;
  for (let i = piece.indexOf(NL); i >= 0; i = piece.indexOf(NL, i + 1)) n++;
  return n + (piece.length > 0 && piece[piece.length - 1] !== NL ? 1 : 0);
}
