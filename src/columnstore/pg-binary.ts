/**
 * @module columnstore/pg-binary
 * Rows in PostgreSQL's binary COPY format (PostgreSQL manual, COPY, "Binary Format"), read into
 * typed columns (and written back from them by pg-binary-writer.ts): `COPY (SELECT …) TO STDOUT (FORMAT binary)` is how a
 * chunk's rows reach the columnstore, `COPY tmp FROM STDIN (FORMAT binary)` how decoded batches go
 * back to PostgreSQL, and `receiveCopyTuples` how a client's binary COPY into a direct-to-columnstore
 * hypertable is read (session/direct-ingest/read.ts) with PostgreSQL's acceptance rules.
 *
 *   header:  "PGCOPY\n\377\r\n\0", int32 flags (bit 16 = OIDs, refused), int32 extension length + bytes
 *   tuple:   int16 field count, then per field int32 length (−1 = NULL) and the type's send bytes
 *   trailer: int16 −1
 *
 * All integers are big-endian. Binary COPY carries no type information, so the caller passes the
 * column types (from the catalog). Text values assume the server encoding is UTF8 (PGlite's).
 */
import { orbitError } from '../errors.js';
import { allocColumn, type Column, type PgType } from './columns.js';
import { numericBinaryToText } from './numeric-text.js';
import { bytesHash, type TextInterner } from './text-input-bytes.js';
import { decodeField } from './text-input.js';

export const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00];
/** jsonb's binary format version (jsonb_send). */
export const JSONB_VERSION = 1;

/** Fixed send sizes; 0 = variable length. */
export const FIXED_SIZE: Record<PgType, number> = {
  timestamptz: 8,
  timestamp: 8,
  date: 4,
  int2: 2,
  int4: 4,
  int8: 8,
  float4: 4,
  float8: 8,
  bool: 1,
  uuid: 16,
  text: 0,
  varchar: 0,
  bpchar: 0,
  name: 0,
  numeric: 0,
  jsonb: 0,
  json: 0,
  opaque: 0,
};

export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function bad(why: string): Error {
  return orbitError('bad_copy_file_format', `invalid binary COPY data: ${why}`);
}

function utf8(bytes: Uint8Array, start: number, end: number): string {
  // Short ASCII (tags, hostnames) without a TextDecoder call, whose fixed cost dominates them.
  if (end - start <= 64) {
    let ascii = true;
    for (let i = start; i < end; i++) if (bytes[i]! >= 0x80) ascii = false;
    if (ascii) return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  }
  try {
    return decoder.decode(bytes.subarray(start, end));
  } catch (cause) {
    throw orbitError('bad_copy_file_format', 'invalid binary COPY data: text is not UTF-8', { cause });
  }
}

/**
 * Offset of the first tuple, after the header; -1 where PostgreSQL refuses the header
 * (copyfromparse.c, ReceiveCopyBinaryHeader): the signature, flag bit 16 (OIDs) or any other bit of
 * the high half (critical flags) set, a negative or missing extension length or extension.
 */
export function copyHeaderEnd(bytes: Uint8Array): number {
  if (bytes.length < 19 || SIGNATURE.some((b, i) => bytes[i] !== b)) return -1;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 19);
  const ext = view.getInt32(15);
  return view.getUint16(11) !== 0 || ext < 0 || 19 + ext > bytes.length ? -1 : 19 + ext;
}

/**
 * For cutting a stream into pieces: the header's length at the start of `buf`; undefined while it
 * may still be arriving; -1 once PostgreSQL will refuse it (a wrong signature, a negative extension
 * length), so that the bytes go on at once and its error comes without the stream being held.
 */
export function streamHeaderEnd(buf: Uint8Array): number | undefined {
  for (let i = 0; i < Math.min(buf.length, SIGNATURE.length); i++) if (buf[i] !== SIGNATURE[i]) return -1;
  if (buf.length < 19) return undefined;
  const ext = new DataView(buf.buffer, buf.byteOffset + 15, 4).getInt32(0);
  if (ext < 0) return -1;
  return 19 + ext > buf.length ? undefined : 19 + ext;
}

/**
 * The tuples from `start` to `end`, each of `fields` fields with lengths of at least -1 and inside
 * the data, and whether the trailer (field count -1) ends them; a string saying what is wrong
 * otherwise (a trailer followed by more data included).
 */
function frameTuples(bytes: Uint8Array, view: DataView, start: number, end: number, fields: number): { rows: number; trailer: boolean } | string {
  let pos = start;
  let rows = 0;
  while (pos < end) {
    if (pos + 2 > end) return 'truncated tuple';
    const n = view.getInt16(pos);
    pos += 2;
    if (n === -1) return pos === end ? { rows, trailer: true } : 'data after the trailer';
    if (n !== fields) return `tuple ${rows + 1} has ${n} fields, expected ${fields}`;
    for (let f = 0; f < n; f++) {
      if (pos + 4 > end) return 'truncated tuple';
      const len = view.getInt32(pos);
      pos += 4;
      if (len < -1 || pos + len > end) return 'truncated field';
      if (len > 0) pos += len;
    }
    rows++;
  }
  return { rows, trailer: false };
}

/**
 * Copies `size` big-endian bytes between a COPY buffer and slot `row` of a typed array's bytes,
 * byte by byte: no BigInt per int64, and float bit patterns (NaN payloads) never pass through a JS
 * number.
 */
export function swap(from: Uint8Array, fromPos: number, to: Uint8Array, toPos: number, size: number): void {
  if (LITTLE_ENDIAN) for (let i = 0; i < size; i++) to[toPos + i] = from[fromPos + size - 1 - i]!;
  else to.set(from.subarray(fromPos, fromPos + size), toPos);
}

export function bytesOf(values: ArrayBufferView): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/**
 * Reads binary COPY bytes into one column per entry of `types` (in the order of the COPY's columns).
 * Throws 22P04 (bad_copy_file_format) on malformed framing or a field of the wrong size.
 */
export function readCopyBinary(bytes: Uint8Array, types: readonly PgType[]): Column[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = copyHeaderEnd(bytes);
  if (start < 0) throw bad('header not recognized');
  const framed = frameTuples(bytes, view, start, bytes.length, types.length);
  if (typeof framed === 'string') throw bad(framed);
  if (!framed.trailer) throw bad('missing trailer');
  const columns = types.map((t) => allocColumn(t, framed.rows));
  const nulls = receiveTuples(bytes, view, start, framed.rows, types, columns, undefined);
  if (!nulls) throw bad('a value PostgreSQL does not send');
  return columns.map((c, f) => ({ ...c, nulls: nulls[f]! }) as Column);
}

/** The types whose values receiveCopyTuples checks exactly as PostgreSQL's receive functions do. */
const RECEIVED: ReadonlySet<PgType> = new Set<PgType>(['int2', 'int4', 'int8', 'float4', 'float8', 'bool', 'timestamptz', 'timestamp', 'date', 'text', 'varchar']);

/** Whether receiveCopyTuples reads values of `type` (without a typmod: the caller checks that). */
export function receivable(type: PgType): boolean {
  return RECEIVED.has(type);
}

/** Tuples of binary COPY data read by receiveCopyTuples: NULL bitmaps per field (null: none). */
export interface ReceivedTuples {
  readonly rows: number;
  readonly nulls: Array<Uint8Array | null>;
}

/**
 * The tuples of binary COPY data from `start` (after the header, if any) — complete tuples, maybe
 * ending with the trailer — with `types.length` fields each, stored into `alloc(rows)`'s columns
 * (one per field, of the field's type; a text field with an interner in `interners` may instead
 * have an int4 column, which gets the interner's entry number + 1, 0 for NULL). Undefined, with
 * nothing to keep, for anything PostgreSQL's COPY would refuse or that is not read here (the
 * caller lets PostgreSQL read the data, for its error): the framing, a value's length, a
 * timestamp or date out of range, text that is not UTF-8 or holds NUL (the server encoding is
 * UTF8: textrecv's pg_verify_mbstr), an interner that is full, a type not `receivable`. Accepted
 * values are what the receive functions store: any float bits, any non-zero bool byte as true,
 * ±infinity times and dates.
 */
export function receiveCopyTuples(
  bytes: Uint8Array,
  start: number,
  types: readonly PgType[],
  alloc: (rows: number) => Column[],
  interners: ReadonlyArray<TextInterner | undefined>,
): ReceivedTuples | undefined {
  if (!types.every(receivable)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const framed = frameTuples(bytes, view, start, bytes.length, types.length);
  if (typeof framed === 'string') return undefined;
  const nulls = receiveTuples(bytes, view, start, framed.rows, types, alloc(framed.rows), interners);
  return nulls && { rows: framed.rows, nulls };
}

/** First allowed and first refused timestamp (µs since 2000-01-01; PostgreSQL's MIN_TIMESTAMP, END_TIMESTAMP) as int32 halves. */
const MIN_TIMESTAMP = halves(-211813488000000000n);
const END_TIMESTAMP = halves(9223371331200000000n);
/** First allowed and first refused date (days since 2000-01-01; IS_VALID_DATE: Julian day 0 to date2j(5874898, 1, 1)). */
const MIN_DATE = -2451545;
const END_DATE = 2147483494 - 2451545;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

function halves(v: bigint): [number, number] {
  return [Number(BigInt.asIntN(32, v >> 32n)), Number(BigInt.asUintN(32, v))];
}

/**
 * Whether the timestamp whose big-endian int64 is at `pos` passes timestamp_recv's range check:
 * infinity, -infinity (int64's maximum and minimum), or from MIN_TIMESTAMP to before END_TIMESTAMP.
 */
function timestampReceivable(view: DataView, pos: number): boolean {
  const hi = view.getInt32(pos);
  const lo = view.getUint32(pos + 4);
  if ((hi === INT32_MAX && lo === 0xffffffff) || (hi === INT32_MIN && lo === 0)) return true;
  const atLeastMin = hi > MIN_TIMESTAMP[0] || (hi === MIN_TIMESTAMP[0] && lo >= MIN_TIMESTAMP[1]);
  const belowEnd = hi < END_TIMESTAMP[0] || (hi === END_TIMESTAMP[0] && lo < END_TIMESTAMP[1]);
  return atLeastMin && belowEnd;
}

const NO_STOPS = new Uint8Array(256);
const NO_FOLLOWS = new Int32Array(0);

/** `table` with room for index `key`. */
function grown(table: Int32Array, key: number): Int32Array {
  let size = Math.max(64, table.length * 2);
  while (size <= key) size *= 2;
  const out = new Int32Array(size);
  out.set(table);
  return out;
}

/** How receiveTuples reads a field, by its type (numbers: no string compare or keyed lookup per field). */
const Kind = { bytes8: 0, timestamp: 1, date: 2, bytes: 3, bool: 4, uuid: 5, numeric: 6, jsonb: 7, opaque: 8, text: 9, textIds: 10 } as const;
type Kind = (typeof Kind)[keyof typeof Kind];

function kindOf(type: PgType, column: Column): Kind {
  switch (type) {
    case 'timestamptz':
    case 'timestamp':
      return Kind.timestamp;
    case 'int8':
    case 'float8':
      return Kind.bytes8;
    case 'int4':
    case 'int2':
    case 'float4':
      return Kind.bytes;
    case 'date':
    case 'bool':
    case 'uuid':
    case 'numeric':
    case 'jsonb':
    case 'opaque':
      return Kind[type];
    default:
      return column.type === 'int4' ? Kind.textIds : Kind.text;
  }
}

/**
 * Fills `columns` with `rows` framed tuples from `start`. `interners` given: PostgreSQL's input
 * checks (receiveCopyTuples), undefined when a value fails one; absent (readCopyBinary, reading
 * PostgreSQL's own output): every type, and a text value that is not UTF-8 throws.
 */
function receiveTuples(
  bytes: Uint8Array,
  view: DataView,
  start: number,
  rows: number,
  types: readonly PgType[],
  columns: Column[],
  interners: ReadonlyArray<TextInterner | undefined> | undefined,
): Array<Uint8Array | null> | undefined {
  const checked = interners !== undefined;
  const nulls = types.map(() => null as Uint8Array | null);
  const raw = columns.map((c) => (ArrayBuffer.isView(c.values) ? bytesOf(c.values) : EMPTY));
  const kinds = Uint8Array.from(types, (t, f) => kindOf(t, columns[f]!));
  const sizes = Int32Array.from(types, (t) => FIXED_SIZE[t] || -2);
  const fields = types.length;
  const swapped = LITTLE_ENDIAN;
  // Per text field, by the entry number + 1 of its key (0: none), the entry number + 1 read with it
  // last time; the key is the row's first text field's entry, for that field its own in the row before.
  const follows: Int32Array[] = types.map(() => NO_FOLLOWS);
  if (interners) interners.forEach((i, f) => i && (follows[f] = new Int32Array(64)));
  const firstText = interners ? interners.findIndex((i) => i !== undefined) : -1;
  let lastFirst = 0;
  let rowKey = 0;
  let pos = start;
  for (let row = 0; row < rows; row++) {
    pos += 2;
    rowKey = 0;
    for (let f = 0; f < fields; f++) {
      const len = (bytes[pos]! << 24) | (bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!;
      pos += 4;
      if (len === -1) {
        (nulls[f] ??= new Uint8Array((rows + 7) >> 3))[row >> 3]! |= 1 << (row & 7);
        continue;
      }
      const size = sizes[f]!;
      if (size > 0 && len !== size) {
        if (checked) return undefined;
        throw bad(`a ${types[f]} value of ${len} bytes in column ${f + 1}`);
      }
      switch (kinds[f]) {
        case Kind.timestamp:
        case Kind.bytes8: {
          if (checked && kinds[f] === Kind.timestamp && !timestampReceivable(view, pos)) return undefined;
          const to = raw[f]!;
          const at = row * 8;
          if (swapped) {
            to[at] = bytes[pos + 7]!;
            to[at + 1] = bytes[pos + 6]!;
            to[at + 2] = bytes[pos + 5]!;
            to[at + 3] = bytes[pos + 4]!;
            to[at + 4] = bytes[pos + 3]!;
            to[at + 5] = bytes[pos + 2]!;
            to[at + 6] = bytes[pos + 1]!;
            to[at + 7] = bytes[pos]!;
          } else to.set(bytes.subarray(pos, pos + 8), at);
          break;
        }
        case Kind.date: {
          const d = view.getInt32(pos);
          if (checked && d !== INT32_MIN && d !== INT32_MAX && (d < MIN_DATE || d >= END_DATE)) return undefined;
          (columns[f]!.values as Int32Array)[row] = d;
          break;
        }
        case Kind.bytes:
          swap(bytes, pos, raw[f]!, row * size, size);
          break;
        case Kind.bool:
          // boolrecv: any byte but 0 is true.
          (columns[f]!.values as Uint8Array)[row] = bytes[pos] === 0 ? 0 : 1;
          break;
        case Kind.uuid:
          (columns[f]!.values as Uint8Array).set(bytes.subarray(pos, pos + 16), row * 16);
          break;
        case Kind.numeric:
          (columns[f]!.values as string[])[row] = numericBinaryToText(view, pos, len);
          break;
        case Kind.jsonb:
          if (len < 1 || bytes[pos] !== JSONB_VERSION) throw bad(`unsupported jsonb version in column ${f + 1}`);
          (columns[f]!.values as string[])[row] = utf8(bytes, pos + 1, pos + len);
          break;
        case Kind.opaque:
          (columns[f]!.values as Uint8Array[])[row] = bytes.slice(pos, pos + len);
          break;
        default: {
          const end = pos + len;
          if (!checked) {
            (columns[f]!.values as string[])[row] = utf8(bytes, pos, end);
            break;
          }
          const interner = interners[f];
          // The entry read with the same key last time (`follows`: tags depend on the row's first
          // tag, and the first tag's series come round in order) is compared in place first; its
          // bytes were checked when it was added.
          const table = follows[f]!;
          const key = f === firstText ? lastFirst : rowKey;
          const guess = key < table.length ? table[key]! : 0;
          let e = guess > 0 && interner!.matchAt(guess - 1, bytes, pos, end, NO_STOPS) === end ? guess - 1 : -1;
          if (e < 0) {
            for (let k = pos; k < end; k++) if (bytes[k] === 0) return undefined;
            e = interner ? interner.id(bytes, pos, end, bytesHash(bytes, pos, end)) : -1;
            if (e >= 0) {
              if (key >= table.length) follows[f] = grown(table, key);
              follows[f]![key] = e + 1;
            }
          }
          if (f === firstText) rowKey = lastFirst = e + 1;
          if (kinds[f] === Kind.textIds) {
            if (e < 0) return undefined;
            (columns[f]!.values as Int32Array)[row] = e + 1;
          } else {
            // Past the interner's size the string is made without being kept.
            const s = e >= 0 ? interner!.stringOf(e) : decodeField(bytes, pos, end);
            if (s === undefined) return undefined;
            (columns[f]!.values as string[])[row] = s;
          }
        }
      }
      pos += len;
    }
  }
  return nulls;
}
