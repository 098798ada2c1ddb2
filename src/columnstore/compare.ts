/**
 * @module columnstore/compare
 * PostgreSQL's ordering and equality for the columnstore's types, used to sort rows into batches,
 * to group segments and to test predicates against batch metadata.
 *
 * - integers, dates, timestamps: signed order (±infinity are INT_MIN/MAX, so they sort as PostgreSQL's).
 * - float4/float8: NaN equals NaN and sorts above every other value; -0 equals 0 (float8_cmp).
 * - numeric (held as text): numeric order, NaN > +Infinity > numbers > -Infinity; 1.0 = 1.00.
 * - uuid: unsigned byte order (uuid_cmp is memcmp). bool: false < true.
 * - text, varchar, bpchar, name, json, jsonb: byte order of the UTF-8 (C collation). This may differ
 *   from the column's collation (and from jsonb's own order), which moves only batch boundaries and
 *   min/max metadata; equality is collation-independent for deterministic collations, so equality
 *   tests stay exact, and range tests on these types never exclude a batch (see `manifest.ts`).
 * - opaque: byte order; only equality of whole values is meaningful.
 */
import { isNull } from './codecs/values.js';
import type { Column, PgType, Scalar } from './columns.js';
import { compareNumericText, numericKey } from './numeric-text.js';

export function compareFloat(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) return 0;
  const an = a !== a;
  const bn = b !== b;
  return an ? (bn ? 0 : 1) : -1;
}

/** UTF-16 strings in code point order, which is UTF-8 byte order. */
export function compareText(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (D800–DFFF, code points ≥ U+10000) must sort above E000–FFFF.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length - b.length < 0 ? -1 : a.length > b.length ? 1 : 0;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** An integer column's value against a predicate's number (possibly fractional, infinite or NaN). */
function compareIntNumber(a: bigint, b: number): number {
  if (b !== b) return -1;
  if (!Number.isFinite(b)) return b > 0 ? -1 : 1;
  const f = Math.floor(b);
  const fb = BigInt(f);
  if (a !== fb) return a < fb ? -1 : 1;
  return b > f ? -1 : 0;
}

function compareNumbers(a: number | bigint, b: number | bigint, float: boolean): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'bigint') return compareIntNumber(a, b as number);
  if (typeof b === 'bigint') return -compareIntNumber(b, a);
  return float ? compareFloat(a, b) : a < b ? -1 : a > b ? 1 : 0;
}

/** Compares two non-NULL values of `type` (a predicate's number may meet an int8's bigint). */
export function compareValues(type: PgType, a: Scalar, b: Scalar): number {
  switch (type) {
    case 'numeric':
      return compareNumericText(String(a), String(b));
    case 'uuid':
    case 'opaque':
      return compareBytes(a as Uint8Array, b as Uint8Array);
    case 'bool':
      return Number(a) - Number(b);
    case 'float4':
    case 'float8':
      return compareNumbers(a as number, b as number, true);
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'name':
    case 'json':
    case 'jsonb':
      return compareText(a as string, b as string);
    default:
      return compareNumbers(a as number | bigint, b as number | bigint, false);
  }
}

export interface SortKey {
  readonly column: Column;
  readonly desc: boolean;
  readonly nullsFirst: boolean;
}

/** Row comparator over row indices for one column (NULL placement and direction included). */
export function rowComparator({ column, desc, nullsFirst }: SortKey): (i: number, j: number) => number {
  const dir = desc ? -1 : 1;
  const nulls = column.nulls;
  const nullSide = nullsFirst ? -1 : 1;
  const values = valueComparator(column);
  if (!nulls) return (i, j) => dir * values(i, j);
  return (i, j) => {
    const ni = isNull(nulls, i);
    const nj = isNull(nulls, j);
    if (ni || nj) return ni === nj ? 0 : ni ? nullSide : -nullSide;
    return dir * values(i, j);
  };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The int64 values as doubles when every one is exact (|v| < 2^53), read through 32-bit lanes (no
 * BigInt per element); undefined otherwise.
 */
export function exactDoubles(v: BigInt64Array): Float64Array | undefined {
  const n = v.length;
  const d = new Float64Array(n);
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < n; i++) {
      const x = v[i]!;
      if (x >= 9007199254740992n || x < -9007199254740992n) return undefined;
      d[i] = Number(x);
    }
    return d;
  }
  const lanes = new Int32Array(v.buffer, v.byteOffset, n * 2);
  for (let i = 0; i < n; i++) {
    const hi = lanes[i * 2 + 1]!;
    if (hi >= 0x200000 || hi < -0x200000) return undefined;
    d[i] = hi * 4294967296 + (lanes[i * 2]! >>> 0);
  }
  return d;
}

/** Comparator of two non-NULL rows' values. */
function valueComparator(column: Column): (i: number, j: number) => number {
  switch (column.type) {
    case 'float4':
    case 'float8': {
      const v = column.values;
      return (i, j) => compareFloat(v[i]!, v[j]!);
    }
    case 'timestamptz':
    case 'timestamp':
    case 'int8': {
      // Reading a BigInt64Array allocates a BigInt per element: sort on doubles when exact (|v| ≤ 2^53).
      const v = column.values;
      const d = exactDoubles(v);
      if (d) return (i, j) => d[i]! - d[j]!;
      return (i, j) => (v[i]! < v[j]! ? -1 : v[i]! > v[j]! ? 1 : 0);
    }
    case 'date':
    case 'int4':
    case 'int2':
    case 'bool': {
      const v = column.values;
      return (i, j) => v[i]! - v[j]!;
    }
    case 'uuid': {
      const v = column.values;
      return (i, j) => compareBytes(v.subarray(i * 16, i * 16 + 16), v.subarray(j * 16, j * 16 + 16));
    }
    case 'opaque': {
      const v = column.values;
      return (i, j) => compareBytes(v[i]!, v[j]!);
    }
    case 'numeric': {
      const v = column.values;
      return (i, j) => compareNumericText(v[i]!, v[j]!);
    }
    default: {
      const v = column.values as string[];
      return (i, j) => compareText(v[i]!, v[j]!);
    }
  }
}

/** Bytes as a string of code units 0–255, in slices (spreading a large array overflows the stack). */
function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  return s;
}

/**
 * A string that is equal for two rows exactly when PostgreSQL's `=` (or IS NOT DISTINCT FROM, for
 * NULLs) holds: -0 and 0 meet, every NaN meets every NaN, numeric 1.0 meets 1.00.
 */
export function equalityKey(column: Column, row: number): string {
  if (column.nulls && isNull(column.nulls, row)) return '\u0001';
  let s: string;
  switch (column.type) {
    case 'float4':
    case 'float8': {
      const v = column.values[row]!;
      s = v !== v ? 'NaN' : v === 0 ? '0' : String(v);
      break;
    }
    case 'numeric':
      s = numericKey(column.values[row]!);
      break;
    case 'uuid':
      s = latin1(column.values.subarray(row * 16, row * 16 + 16));
      break;
    case 'opaque':
      s = latin1(column.values[row]!);
      break;
    default:
      s = String((column.values as ArrayLike<unknown>)[row]);
  }
  return `${s.length}:${s}`;
}
