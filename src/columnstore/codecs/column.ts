/**
 * @module columnstore/codecs/column
 * Encodes and decodes one column of a batch in a self-describing format
 * (docs/design/columnstore-codecs.md):
 *
 *   version u8 | kind u8 | flags u8 | count varint
 *   [flags & nulls: nullCount varint, then a NULL bitmap of ⌈count/8⌉ bytes if 0 < nullCount < count]
 *   codec u8 | codec body (only the non-NULL values, in order)
 *
 * The codec is chosen per batch by the value streams (int-stream / float-stream / text); NULLs are
 * removed before encoding, so kernels aggregate the stream without looking at the bitmap.
 */
import { orbitError } from '../../errors.js';
import type { CodecBackend, FloatValues, IntValues } from './backend.js';
import { ByteReader, ByteWriter, Codec, ColumnKind, FORMAT_VERSION, Flag, MAX_VALUES, corrupt } from './format.js';
import { readTextStream, writeTextStream, type TextColumn } from './text.js';
import { countNulls, gather, isNull, scatter, type FixedArray } from './values.js';

/** Values accepted per kind. int64/timestamp also accept a Float64Array of integers (µs fit below 2^53). */
export interface ColumnValues {
  int64: BigInt64Array | Float64Array;
  timestamp: BigInt64Array | Float64Array;
  int32: Int32Array;
  int16: Int16Array;
  float64: Float64Array;
  float32: Float32Array;
  /** 0 = false, 1 = true (any byte round-trips). */
  boolean: Uint8Array;
  /** A null entry is NULL, like a set bit in `nulls`. */
  text: readonly (string | null)[];
}

/** One column of a batch: `values` has one entry per row; entries at NULL positions are ignored. */
export type ColumnInput = {
  [K in ColumnKind]: { kind: K; values: ColumnValues[K]; nulls?: Uint8Array | null };
}[ColumnKind];

/** Decoded values per kind: as given to the encoder, except text (a dictionary and ids). */
export type DecodedValues = Omit<ColumnValues, 'text'> & { text: TextColumn };

/** A decoded column. NULL slots hold 0 (id 0 for text); `nulls` is null when there are none. */
export type DecodedColumn = {
  [K in ColumnKind]: { kind: K; count: number; codec: Codec; nulls: Uint8Array | null; values: DecodedValues[K] };
}[ColumnKind];

export interface DecodeOptions {
  /** int64/timestamp output type: BigInt64Array (default) or Float64Array (exact below 2^53). */
  readonly int64As?: 'bigint' | 'number';
}

/** The header of an encoded column, read without decoding values. */
export interface ColumnHeader {
  readonly kind: ColumnKind;
  readonly count: number;
  readonly nullCount: number;
  readonly codec: Codec;
  readonly nulls: Uint8Array | null;
  /** Offset of the codec byte. */
  readonly bodyOffset: number;
}

const KIND_BY_ID = new Map(Object.entries(ColumnKind).map(([k, v]) => [v as number, k as ColumnKind]));

function textNulls(values: readonly (string | null)[], nulls: Uint8Array | null | undefined): Uint8Array | null {
  if (!values.includes(null)) return nulls ?? null;
  const merged = new Uint8Array((values.length + 7) >> 3);
  if (nulls) merged.set(nulls.subarray(0, merged.length));
  values.forEach((v, i) => v === null && (merged[i >> 3]! |= 1 << (i & 7)));
  return merged;
}

/**
 * The writer every column is encoded in (finish copies the bytes out): one buffer grown to the
 * largest column, not one or more per column. encodeColumn does not call itself.
 */
const COLUMN_OUT = new ByteWriter(1 << 12);

export function encodeColumn(backend: CodecBackend, column: ColumnInput): Uint8Array {
  const count = column.values.length;
  if (count > MAX_VALUES) throw orbitError('program_limit_exceeded', `a batch holds at most ${MAX_VALUES} values, got ${count}`);
  const nulls = column.kind === 'text' ? textNulls(column.values, column.nulls) : (column.nulls ?? null);
  if (nulls && nulls.length < (count + 7) >> 3) throw orbitError('invalid_parameter_value', 'NULL bitmap is shorter than the column');
  const nullCount = countNulls(nulls, count);
  const out = COLUMN_OUT.reset();
  out.byte(FORMAT_VERSION).byte(ColumnKind[column.kind]).byte(nullCount ? Flag.nulls : 0).varint(count);
  if (nullCount) {
    out.varint(nullCount);
    if (nullCount < count) out.bytes(nulls!.subarray(0, (count + 7) >> 3));
  }
  if (nullCount === count) return out.byte(Codec.allNull).finish();
  const n = count - nullCount;
  if (column.kind === 'text') {
    const strings = nullCount ? column.values.filter((_, i) => !isNull(nulls!, i)) : column.values;
    writeTextStream(backend, strings as readonly string[], out);
    return out.finish();
  }
  const values = nullCount ? gather(column.values as FixedArray, nulls!, count, n) : column.values;
  if (column.kind === 'float64' || column.kind === 'float32') out.bytes(backend.encodeFloats(values as FloatValues));
  else out.bytes(backend.encodeInts(values as IntValues));
  return out.finish();
}

export function readColumnHeader(bytes: Uint8Array): ColumnHeader {
  const r = new ByteReader(bytes);
  const version = r.byte();
  if (version !== FORMAT_VERSION) throw corrupt(`format version ${version}`);
  const kind = KIND_BY_ID.get(r.byte());
  if (!kind) throw corrupt(`column kind ${bytes[1]}`);
  const flags = r.byte();
  if (flags & ~Flag.nulls) throw corrupt(`reserved header flags ${flags}`);
  const count = r.varint();
  if (count > MAX_VALUES) throw corrupt(`count ${count}`);
  let nullCount = 0;
  let nulls: Uint8Array | null = null;
  if (flags & Flag.nulls) {
    nullCount = r.varint();
    if (nullCount < 1 || nullCount > count) throw corrupt(`${nullCount} NULLs in ${count} values`);
    nulls = nullCount < count ? r.bytes((count + 7) >> 3) : new Uint8Array((count + 7) >> 3).fill(0xff);
    if (nullCount < count && countNulls(nulls, count) !== nullCount) throw corrupt('NULL bitmap disagrees with the NULL count');
  }
  const bodyOffset = r.pos;
  const codec = r.byte() as Codec;
  if ((codec === Codec.allNull) !== (nullCount === count)) throw corrupt(`codec ${codec} with ${nullCount} of ${count} NULL`);
  return { kind, count, nullCount, codec, nulls, bodyOffset };
}

function emptyValues(kind: ColumnKind, count: number, options: DecodeOptions): DecodedValues[ColumnKind] {
  switch (kind) {
    case 'int64':
    case 'timestamp':
      return options.int64As === 'number' ? new Float64Array(count) : new BigInt64Array(count);
    case 'int32':
      return new Int32Array(count);
    case 'int16':
      return new Int16Array(count);
    case 'float64':
      return new Float64Array(count);
    case 'float32':
      return new Float32Array(count);
    case 'boolean':
      return new Uint8Array(count);
    case 'text':
      return { dictionary: [], ids: new Uint32Array(count) };
  }
}

export function decodeColumn(backend: CodecBackend, bytes: Uint8Array, options: DecodeOptions = {}): DecodedColumn {
  const h = readColumnHeader(bytes);
  const n = h.count - h.nullCount;
  const head = { kind: h.kind, count: h.count, codec: h.codec, nulls: h.nulls };
  if (n === 0) return { ...head, values: emptyValues(h.kind, h.count, options) } as DecodedColumn;
  let end: number;
  let values: DecodedValues[ColumnKind];
  if (h.kind === 'text') {
    const r = new ByteReader(bytes, h.bodyOffset);
    if (r.byte() !== Codec.textDict) throw corrupt(`text codec ${h.codec}`);
    const text = readTextStream(backend, r, n);
    end = r.pos;
    values = h.nulls ? { dictionary: text.dictionary, ids: scatter(text.ids, h.nulls, h.count) } : text;
  } else {
    const compact = emptyValues(h.kind, n, options) as IntValues | FloatValues;
    const float = h.kind === 'float64' || h.kind === 'float32';
    end =
      h.bodyOffset +
      (float
        ? backend.decodeFloats(bytes, h.bodyOffset, compact as FloatValues)
        : backend.decodeInts(bytes, h.bodyOffset, compact as IntValues));
    values = h.nulls ? scatter(compact, h.nulls, h.count) : compact;
  }
  if (end !== bytes.length) throw corrupt(`${bytes.length - end} trailing bytes`);
  return { ...head, values } as DecodedColumn;
}

/** Materialises decoded text as strings (null for NULL). */
export function textValues(column: { values: TextColumn; nulls: Uint8Array | null; count: number }): (string | null)[] {
  const { dictionary, ids } = column.values;
  const nulls = column.nulls;
  return Array.from(ids, (id, i) => (nulls && isNull(nulls, i) ? null : dictionary[id]!));
}
