/**
 * @module columnstore/columns
 * Typed row columns: how the columnstore holds the rows of a chunk between PostgreSQL's binary COPY
 * and the codecs. One `PgType` per PostgreSQL type Orbit compresses natively, plus `opaque` for any
 * other type (its binary send bytes, kept verbatim). NULLs are a bitmap as in the codecs (bit i,
 * LSB-first, set = row i is NULL); values at NULL slots are zero/empty and carry no meaning.
 */
import { orbitError } from '../errors.js';
import { isNull } from './codecs/values.js';

/** Column types of the columnstore; each keeps PostgreSQL's binary representation's domain. */
export const PgType = {
  /** µs since 2000-01-01 (UTC for timestamptz), ±infinity as INT64_MAX/MIN. */
  timestamptz: 'timestamptz',
  timestamp: 'timestamp',
  /** days since 2000-01-01, ±infinity as INT32_MAX/MIN. */
  date: 'date',
  int2: 'int2',
  int4: 'int4',
  int8: 'int8',
  float4: 'float4',
  float8: 'float8',
  bool: 'bool',
  text: 'text',
  varchar: 'varchar',
  bpchar: 'bpchar',
  name: 'name',
  /** Kept as PostgreSQL's text output (exact, with its display scale). */
  numeric: 'numeric',
  /** 16 bytes per row, in the order PostgreSQL sends them. */
  uuid: 'uuid',
  /** Kept as text (jsonb's binary form is a version byte and the text). */
  jsonb: 'jsonb',
  json: 'json',
  /** Any other type: the bytes of its binary send function, stored and returned unchanged. */
  opaque: 'opaque',
} as const;
export type PgType = (typeof PgType)[keyof typeof PgType];

/** Types held as JS strings. */
export const TEXT_TYPES: ReadonlySet<PgType> = new Set(['text', 'varchar', 'bpchar', 'name', 'numeric', 'jsonb', 'json']);

/** In-memory values per type. */
export interface ColumnValuesOf {
  timestamptz: BigInt64Array;
  timestamp: BigInt64Array;
  date: Int32Array;
  int2: Int16Array;
  int4: Int32Array;
  int8: BigInt64Array;
  float4: Float32Array;
  float8: Float64Array;
  /** 0 or 1. */
  bool: Uint8Array;
  text: string[];
  varchar: string[];
  bpchar: string[];
  name: string[];
  numeric: string[];
  /** 16 bytes per row. */
  uuid: Uint8Array;
  jsonb: string[];
  json: string[];
  opaque: Uint8Array[];
}

/** One column of rows. */
export type Column = {
  [T in PgType]: { readonly type: T; readonly values: ColumnValuesOf[T]; readonly nulls: Uint8Array | null };
}[PgType];

/** A named column set: the rows of a chunk, or of one decoded batch. */
export interface Rows {
  readonly names: readonly string[];
  readonly columns: readonly Column[];
}

/** A single value, as the manifest and predicates hold it (uuid as its 16 bytes, NULL as null). */
export type Scalar = number | bigint | string | boolean | Uint8Array | null;

const TYPE_BY_NAME: Record<string, PgType> = {
  timestamptz: 'timestamptz',
  'timestamp with time zone': 'timestamptz',
  timestamp: 'timestamp',
  'timestamp without time zone': 'timestamp',
  date: 'date',
  int2: 'int2',
  smallint: 'int2',
  int4: 'int4',
  integer: 'int4',
  int: 'int4',
  int8: 'int8',
  bigint: 'int8',
  float4: 'float4',
  real: 'float4',
  float8: 'float8',
  'double precision': 'float8',
  bool: 'bool',
  boolean: 'bool',
  text: 'text',
  varchar: 'varchar',
  'character varying': 'varchar',
  bpchar: 'bpchar',
  character: 'bpchar',
  name: 'name',
  numeric: 'numeric',
  decimal: 'numeric',
  uuid: 'uuid',
  jsonb: 'jsonb',
  json: 'json',
};

/** The columnstore type of a PostgreSQL type name (pg_type.typname or format_type without modifiers). */
export function pgTypeOf(typeName: string): PgType {
  return TYPE_BY_NAME[typeName.toLowerCase().replace(/\(.*\)$/, '').trim()] ?? 'opaque';
}

export function columnLength(column: Column): number {
  return column.type === 'uuid' ? column.values.length >> 4 : column.values.length;
}

export function rowCount(rows: Rows): number {
  return rows.columns.length ? columnLength(rows.columns[0]!) : 0;
}

/** Checks that names and columns agree and every column has the same length. */
export function checkRows(rows: Rows): number {
  if (rows.names.length !== rows.columns.length) throw orbitError('invalid_parameter_value', 'one name per column is required');
  if (new Set(rows.names).size !== rows.names.length) throw orbitError('invalid_parameter_value', 'column names must be distinct');
  const n = rowCount(rows);
  rows.columns.forEach((c, i) => {
    if (columnLength(c) !== n) throw orbitError('invalid_parameter_value', `column ${rows.names[i]} has ${columnLength(c)} rows, expected ${n}`);
    if (c.nulls && c.nulls.length < (n + 7) >> 3) throw orbitError('invalid_parameter_value', `NULL bitmap of ${rows.names[i]} is too short`);
  });
  return n;
}

export function isNullAt(column: Column, row: number): boolean {
  return column.nulls !== null && isNull(column.nulls, row);
}

/** An empty column of `n` rows of `type` (all values zero/empty, no NULLs). */
export function allocColumn(type: PgType, n: number): Column {
  switch (type) {
    case 'timestamptz':
    case 'timestamp':
    case 'int8':
      return { type, values: new BigInt64Array(n), nulls: null };
    case 'date':
    case 'int4':
      return { type, values: new Int32Array(n), nulls: null };
    case 'int2':
      return { type, values: new Int16Array(n), nulls: null };
    case 'float4':
      return { type, values: new Float32Array(n), nulls: null };
    case 'float8':
      return { type, values: new Float64Array(n), nulls: null };
    case 'bool':
      return { type, values: new Uint8Array(n), nulls: null };
    case 'uuid':
      return { type, values: new Uint8Array(n * 16), nulls: null };
    case 'opaque':
      return { type, values: new Array<Uint8Array>(n).fill(new Uint8Array(0)), nulls: null };
    default:
      return { type, values: new Array<string>(n).fill(''), nulls: null } as Column;
  }
}

/** The rows `indices` of `column`, in that order. */
export function takeRows(column: Column, indices: ArrayLike<number>): Column {
  const n = indices.length;
  let nulls: Uint8Array | null = null;
  if (column.nulls) {
    const src = column.nulls;
    const out = new Uint8Array((n + 7) >> 3);
    let any = false;
    for (let i = 0; i < n; i++) {
      if (isNull(src, indices[i]!)) {
        out[i >> 3]! |= 1 << (i & 7);
        any = true;
      }
    }
    if (any) nulls = out;
  }
  if (column.type === 'uuid') {
    const out = new Uint8Array(n * 16);
    for (let i = 0; i < n; i++) out.set(column.values.subarray(indices[i]! * 16, indices[i]! * 16 + 16), i * 16);
    return { type: column.type, values: out, nulls };
  }
  const src = column.values as ArrayLike<unknown>;
  if (Array.isArray(src)) {
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = src[indices[i]!];
    return { type: column.type, values: out, nulls } as Column;
  }
  // Through unsigned lanes: no BigInt per int64, one monomorphic loop per element size.
  const typed = src as unknown as ArrayBufferView & { BYTES_PER_ELEMENT: number; constructor: new (n: number) => ArrayBufferView };
  const out = new typed.constructor(n);
  const size = typed.BYTES_PER_ELEMENT;
  if (size === 8) takeLanes(new Uint32Array(typed.buffer, typed.byteOffset, typed.byteLength >> 2), new Uint32Array(out.buffer), indices, 2);
  else if (size === 4) takeLanes(new Uint32Array(typed.buffer, typed.byteOffset, typed.byteLength >> 2), new Uint32Array(out.buffer), indices, 1);
  else if (size === 2) takeLanes(new Uint16Array(typed.buffer, typed.byteOffset, typed.byteLength >> 1), new Uint16Array(out.buffer), indices, 1);
  else takeLanes(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength), new Uint8Array(out.buffer), indices, 1);
  return { type: column.type, values: out, nulls } as Column;
}

function takeLanes<T extends Uint32Array | Uint16Array | Uint8Array>(src: T, dst: T, indices: ArrayLike<number>, lanes: 1 | 2): void {
  const n = indices.length;
  if (lanes === 1) for (let i = 0; i < n; i++) dst[i] = src[indices[i]!]!;
  else
    for (let i = 0; i < n; i++) {
      const k = indices[i]! * 2;
      dst[i * 2] = src[k]!;
      dst[i * 2 + 1] = src[k + 1]!;
    }
}

/** The value of one row as a Scalar (NULL as null). */
export function scalarAt(column: Column, row: number): Scalar {
  if (isNullAt(column, row)) return null;
  switch (column.type) {
    case 'bool':
      return column.values[row] !== 0;
    case 'uuid':
      return column.values.slice(row * 16, row * 16 + 16);
    default:
      return (column.values as ArrayLike<Scalar>)[row]!;
  }
}

/** One column holding the rows of `parts` (all of the same type), in order. */
export function concatColumns(parts: readonly Column[]): Column {
  if (parts.length === 1) return parts[0]!;
  const type = parts[0]!.type;
  const lengths = parts.map(columnLength);
  const n = lengths.reduce((s, l) => s + l, 0);
  let nulls: Uint8Array | null = null;
  if (parts.some((p) => p.nulls)) {
    nulls = new Uint8Array((n + 7) >> 3);
    let at = 0;
    parts.forEach((p, k) => {
      if (p.nulls) for (let i = 0; i < lengths[k]!; i++) if (isNull(p.nulls, i)) nulls![(at + i) >> 3]! |= 1 << ((at + i) & 7);
      at += lengths[k]!;
    });
  }
  const first = parts[0]!.values;
  if (Array.isArray(first)) {
    const values = ([] as unknown[]).concat(...parts.map((p) => p.values as unknown[]));
    return { type, values, nulls } as Column;
  }
  const typed = first as unknown as { constructor: new (n: number) => { set(a: ArrayLike<unknown>, at: number): void } };
  const out = new typed.constructor(type === 'uuid' ? n * 16 : n);
  let at = 0;
  for (const p of parts) {
    out.set(p.values as unknown as ArrayLike<unknown>, at);
    at += (p.values as unknown as ArrayLike<unknown>).length;
  }
  return { type, values: out, nulls } as unknown as Column;
}
