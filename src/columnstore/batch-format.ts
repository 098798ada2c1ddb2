/**
 * @module columnstore/batch-format
 * The byte layout of one batch object (docs/design/columnstore.md, "Batch object"): a small header
 * with every column's type and section length, then one section per column, so a reader decodes
 * only the columns it needs.
 *
 *   u8[2] "OB" | u8 version (1) | varint rows | varint columns
 *   columns × (u8 type id, varint section length)
 *   sections, in column order
 *
 * Sections hold codec columns (docs/design/columnstore-codecs.md): one per column for the types
 * the codecs know; uuid as two int64 columns (bytes 0–7 and 8–15, big-endian, so time-ordered UUIDs
 * delta-pack), preceded by the first one's varint length; opaque as an int32 column of value
 * lengths (NULLs there), then u8 flags (bit 0 = deflated) and the concatenated bytes, deflated
 * (fflate) when that saves ≥ 10% of at least 256 bytes.
 */
import { deflateSync, inflateSync } from 'fflate';
import { orbitError } from '../errors.js';
import { decodeColumn, encodeColumn, textValues, type CodecBackend, type ColumnInput, type DecodedColumn } from './codecs/index.js';
import { ByteReader, ByteWriter } from './codecs/format.js';
import { isNull } from './codecs/values.js';
import { columnLength, type Column, type PgType, type Rows } from './columns.js';

const MAGIC = [0x4f, 0x42];
export const BATCH_FORMAT_VERSION = 1;
const DEFLATE_MIN_BYTES = 256;
const Deflated = 1;

/** Type ids in the header; append only (stored in every batch). */
const TYPE_IDS: readonly PgType[] = [
  'timestamptz',
  'timestamp',
  'date',
  'int2',
  'int4',
  'int8',
  'float4',
  'float8',
  'bool',
  'text',
  'varchar',
  'bpchar',
  'name',
  'numeric',
  'uuid',
  'jsonb',
  'json',
  'opaque',
];

export function corruptBatch(why: string): Error {
  return orbitError('data_corrupted', `columnstore batch is malformed: ${why}`);
}

/** Where each column's section lies in a batch object. */
export interface BatchHeader {
  readonly rows: number;
  readonly columns: readonly { readonly type: PgType; readonly offset: number; readonly length: number }[];
}

/** The codec column for one of the codec-native types. */
function codecInput(column: Column): ColumnInput {
  const nulls = column.nulls;
  switch (column.type) {
    case 'timestamptz':
    case 'timestamp':
      return { kind: 'timestamp', values: column.values, nulls };
    case 'int8':
      return { kind: 'int64', values: column.values, nulls };
    case 'date':
    case 'int4':
      return { kind: 'int32', values: column.values, nulls };
    case 'int2':
      return { kind: 'int16', values: column.values, nulls };
    case 'float4':
      return { kind: 'float32', values: column.values, nulls };
    case 'float8':
      return { kind: 'float64', values: column.values, nulls };
    case 'bool':
      return { kind: 'boolean', values: column.values, nulls };
    case 'uuid':
    case 'opaque':
      throw orbitError('internal_error', `${column.type} has no single codec column`);
    default:
      return { kind: 'text', values: column.values, nulls };
  }
}

/** uuid halves as int64 values: bytes 0–7 and 8–15 read big-endian. */
function uuidHalves(values: Uint8Array, n: number): [BigInt64Array, BigInt64Array] {
  const view = new DataView(values.buffer, values.byteOffset, values.byteLength);
  const hi = new BigInt64Array(n);
  const lo = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    hi[i] = view.getBigInt64(i * 16);
    lo[i] = view.getBigInt64(i * 16 + 8);
  }
  return [hi, lo];
}

function encodeSection(backend: CodecBackend, column: Column): Uint8Array {
  const n = columnLength(column);
  if (column.type === 'uuid') {
    const [hi, lo] = uuidHalves(column.values, n);
    const a = encodeColumn(backend, { kind: 'int64', values: hi, nulls: column.nulls });
    const b = encodeColumn(backend, { kind: 'int64', values: lo, nulls: column.nulls });
    return new ByteWriter(a.length + b.length + 4).varint(a.length).bytes(a).bytes(b).finish();
  }
  if (column.type === 'opaque') {
    const lengths = Int32Array.from(column.values, (v, i) => (column.nulls && isNull(column.nulls, i) ? 0 : v.length));
    const total = lengths.reduce((s, l) => s + l, 0);
    const blob = new Uint8Array(total);
    let at = 0;
    column.values.forEach((v, i) => {
      blob.set(v.subarray(0, lengths[i]!), at);
      at += lengths[i]!;
    });
    const head = encodeColumn(backend, { kind: 'int32', values: lengths, nulls: column.nulls });
    const packed = total >= DEFLATE_MIN_BYTES ? deflateSync(blob, { level: 6 }) : null;
    const deflate = packed !== null && packed.length * 10 <= total * 9;
    return new ByteWriter(head.length + total + 8)
      .varint(head.length)
      .bytes(head)
      .byte(deflate ? Deflated : 0)
      .bytes(deflate ? packed : blob)
      .finish();
  }
  return encodeColumn(backend, codecInput(column));
}

/** The writer of encodeBatch (finish copies the bytes out): its buffer is kept between batches. */
const BATCH_OUT = new ByteWriter(1 << 14);

/** Encodes the rows of one batch (≤ the codecs' MAX_VALUES rows) as one batch object. */
export function encodeBatch(backend: CodecBackend, columns: readonly Column[]): Uint8Array {
  return writeBatch(backend, columns, BATCH_OUT.reset()).finish();
}

/** Appends the batch object of `columns` (as encodeBatch's) to `out`. */
export function writeBatch(backend: CodecBackend, columns: readonly Column[], out: ByteWriter): ByteWriter {
  const rows = columns.length ? columnLength(columns[0]!) : 0;
  const sections = columns.map((c) => encodeSection(backend, c));
  out.byte(MAGIC[0]!).byte(MAGIC[1]!).byte(BATCH_FORMAT_VERSION).varint(rows).varint(columns.length);
  columns.forEach((c, i) => out.byte(TYPE_IDS.indexOf(c.type) + 1).varint(sections[i]!.length));
  sections.forEach((s) => out.bytes(s));
  return out;
}

export function readBatchHeader(bytes: Uint8Array): BatchHeader {
  const r = new ByteReader(bytes);
  if (r.byte() !== MAGIC[0] || r.byte() !== MAGIC[1]) throw corruptBatch('bad magic');
  const version = r.byte();
  if (version !== BATCH_FORMAT_VERSION) throw corruptBatch(`format version ${version}`);
  const rows = r.varint();
  const count = r.varint();
  const columns: { type: PgType; offset: number; length: number }[] = [];
  const lengths: number[] = [];
  for (let i = 0; i < count; i++) {
    const type = TYPE_IDS[r.byte() - 1];
    if (!type) throw corruptBatch(`unknown type id in column ${i + 1}`);
    lengths.push(r.varint());
    columns.push({ type, offset: 0, length: lengths[i]! });
  }
  let at = r.pos;
  for (const c of columns) {
    c.offset = at;
    at += c.length;
  }
  if (at !== bytes.length) throw corruptBatch(`sections end at ${at} of ${bytes.length} bytes`);
  return { rows, columns };
}

function fromCodec(type: PgType, d: DecodedColumn, rows: number): Column {
  if (d.count !== rows) throw corruptBatch(`a column of ${d.count} values in a batch of ${rows} rows`);
  const nulls = d.nulls;
  if (d.kind === 'text') {
    const values = textValues(d).map((v) => v ?? '');
    return { type, values, nulls } as Column;
  }
  return { type, values: d.values, nulls } as Column;
}

/** Decodes section `index` of a batch whose header is `header`. */
export function decodeSection(backend: CodecBackend, bytes: Uint8Array, header: BatchHeader, index: number): Column {
  const { type, offset, length } = header.columns[index]!;
  const section = bytes.subarray(offset, offset + length);
  const rows = header.rows;
  if (type === 'uuid' || type === 'opaque') {
    const r = new ByteReader(section);
    const first = r.bytes(r.varint());
    const head = decodeColumn(backend, first);
    if (head.count !== rows) throw corruptBatch(`a ${type} column of ${head.count} values in a batch of ${rows} rows`);
    if (type === 'uuid') {
      const lo = decodeColumn(backend, section.subarray(r.pos));
      if (head.kind !== 'int64' || lo.kind !== 'int64' || lo.count !== rows) throw corruptBatch('uuid halves');
      const out = new Uint8Array(rows * 16);
      const view = new DataView(out.buffer);
      for (let i = 0; i < rows; i++) {
        view.setBigInt64(i * 16, (head.values as BigInt64Array)[i]!);
        view.setBigInt64(i * 16 + 8, (lo.values as BigInt64Array)[i]!);
      }
      return { type, values: out, nulls: head.nulls };
    }
    if (head.kind !== 'int32') throw corruptBatch('opaque lengths');
    const flags = r.byte();
    const stored = section.subarray(r.pos);
    const total = head.values.reduce((s, l) => s + l, 0);
    let blob: Uint8Array;
    try {
      blob = flags & Deflated ? inflateSync(stored, { out: new Uint8Array(total) }) : stored;
    } catch (cause) {
      throw corruptBatch(`opaque values do not inflate (${String(cause)})`);
    }
    if (blob.length !== total || head.values.some((l) => l < 0)) throw corruptBatch('opaque value lengths');
    const values = new Array<Uint8Array>(rows);
    for (let i = 0, at = 0; i < rows; at += head.values[i++]!) values[i] = blob.slice(at, at + head.values[i]!);
    return { type, values, nulls: head.nulls };
  }
  return fromCodec(type, decodeColumn(backend, section), rows);
}

/**
 * Decodes a batch object; `select` (column positions) limits decoding to those sections. `types`
 * are the manifest's column types, checked against the object's header.
 */
export function decodeBatch(backend: CodecBackend, bytes: Uint8Array, names: readonly string[], types: readonly PgType[], select?: readonly number[]): Rows {
  const header = readBatchHeader(bytes);
  if (header.columns.length !== types.length || header.columns.some((c, i) => c.type !== types[i])) {
    throw corruptBatch('column types differ from the manifest');
  }
  const picked = select ?? types.map((_, i) => i);
  return { names: picked.map((i) => names[i]!), columns: picked.map((i) => decodeSection(backend, bytes, header, i)) };
}
