/**
 * @module columnstore/codecs/values
 * Typed-array helpers for the column layer: NULL bitmaps, and moving values between full-length
 * arrays (with NULL slots) and compact ones (non-NULL values only). Values are copied through
 * integer views so float bit patterns (NaN payloads) are never touched by JS number conversion.
 */
import { orbitError } from '../../errors.js';

export type FixedArray =
  | BigInt64Array
  | Float64Array
  | Float32Array
  | Int32Array
  | Int16Array
  | Uint8Array
  | Uint32Array;

export function notInteger(index: number, value: number): Error {
  return orbitError('numeric_value_out_of_range', `value ${value} at position ${index} is not an integer in the int64 range`);
}

/** Checks the rows given to a backend's decodeIntsAt/decodeFloatsAt: ascending, below n, fitting `room`. */
export function checkRows(n: number, rows: Uint32Array, room: number): void {
  if (rows.length > room) throw new RangeError(`${rows.length} rows do not fit ${room} values`);
  for (let j = 0; j < rows.length; j++) {
    if (rows[j]! >= n || (j > 0 && rows[j]! <= rows[j - 1]!)) throw new RangeError('rows must ascend and lie below the stream\'s value count');
  }
}

/** Bit i (LSB-first within each byte) set means value i is NULL. */
export function isNull(nulls: Uint8Array, i: number): boolean {
  return (nulls[i >> 3]! & (1 << (i & 7))) !== 0;
}

export function countNulls(nulls: Uint8Array | null | undefined, count: number): number {
  if (!nulls) return 0;
  let c = 0;
  for (let i = 0; i < count; i++) if (isNull(nulls, i)) c++;
  return c;
}

/** An unsigned integer view of `a` with `lanes` elements per value. */
function lanesOf(a: FixedArray): { view: Uint8Array | Uint16Array | Uint32Array; lanes: number } {
  const { buffer, byteOffset, byteLength } = a;
  switch (a.BYTES_PER_ELEMENT) {
    case 1:
      return { view: new Uint8Array(buffer, byteOffset, byteLength), lanes: 1 };
    case 2:
      return { view: new Uint16Array(buffer, byteOffset, byteLength >> 1), lanes: 1 };
    case 4:
      return { view: new Uint32Array(buffer, byteOffset, byteLength >> 2), lanes: 1 };
    default:
      return { view: new Uint32Array(buffer, byteOffset, byteLength >> 2), lanes: 2 };
  }
}

function create<T extends FixedArray>(like: T, length: number): T {
  return new (like.constructor as new (n: number) => T)(length);
}

/** Copies the non-NULL entries between a full-length array and a compact one, either way. */
function copyNonNull(full: FixedArray, compact: FixedArray, nulls: Uint8Array, count: number, toCompact: boolean): void {
  const f = lanesOf(full).view;
  const c = lanesOf(compact).view;
  const lanes = lanesOf(full).lanes;
  const [src, dst] = toCompact ? [f, c] : [c, f];
  let j = 0;
  for (let i = 0; i < count; i++) {
    if (isNull(nulls, i)) continue;
    const [from, to] = toCompact ? [i * lanes, j * lanes] : [j * lanes, i * lanes];
    for (let l = 0; l < lanes; l++) dst[to + l] = src[from + l]!;
    j++;
  }
}

/** out[j] = values[rows[j]] for every j < rows.length (bit patterns kept, as everywhere here). */
export function takeInto(values: FixedArray, rows: Uint32Array, out: FixedArray): void {
  const from = lanesOf(values).view;
  const { view: to, lanes } = lanesOf(out);
  for (let j = 0; j < rows.length; j++) for (let l = 0; l < lanes; l++) to[j * lanes + l] = from[rows[j]! * lanes + l]!;
}

/** The non-NULL values of the first `count` entries, in order. */
export function gather<T extends FixedArray>(values: T, nulls: Uint8Array, count: number, nonNull: number): T {
  const out = create(values, nonNull);
  copyNonNull(values, out, nulls, count, true);
  return out;
}

/** Spreads compact values over the non-NULL slots of a new array of `count` entries (NULL slots are 0). */
export function scatter<T extends FixedArray>(compact: T, nulls: Uint8Array, count: number): T {
  const out = create(compact, count);
  copyNonNull(out, compact, nulls, count, false);
  return out;
}
