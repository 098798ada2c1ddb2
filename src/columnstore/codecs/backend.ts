/**
 * @module columnstore/codecs/backend
 * The value-stream codecs behind the column format, as one interface with two implementations:
 * WebAssembly (`wasm-backend.ts`, the fast path) and plain TypeScript (`reference/`, the cross-check
 * in tests and the fallback where WebAssembly is unavailable). Both must produce identical bytes.
 */

/**
 * Integer-like values. Float64Array holds integers (timestamps in µs); Uint8Array holds booleans
 * as 0/1.
 */
export type IntValues = BigInt64Array | Float64Array | Int32Array | Int16Array | Uint8Array;
export type FloatValues = Float64Array | Float32Array;

/** One stream of `decodeManyAt`: bytes[offset…], an integer stream into a BigInt64Array or a float stream into a float array. */
export type StreamAt =
  | { readonly bytes: Uint8Array; readonly offset: number; readonly float: false; readonly out: BigInt64Array }
  | { readonly bytes: Uint8Array; readonly offset: number; readonly float: true; readonly out: FloatValues };

/** The comparisons decodeFloatsWhere evaluates. */
export type RangeOp = '<' | '<=' | '>' | '>=';

export interface CodecBackend {
  readonly name: string;
  /**
   * Encodes ≥ 1 values as an integer stream (codec byte first). Throws on a non-integral float. The
   * bytes may be a view of the backend's memory, valid until its next call (copy them to keep them).
   */
  encodeInts(values: IntValues): Uint8Array;
  /** Decodes `out.length` values from the integer stream at `bytes[offset]`; returns bytes read. */
  decodeInts(bytes: Uint8Array, offset: number, out: IntValues): number;
  /** Encodes ≥ 1 floats as a float stream (codec byte first), bit-exactly; the bytes as encodeInts'. */
  encodeFloats(values: FloatValues): Uint8Array;
  /** Decodes `out.length` floats from the float stream at `bytes[offset]`; returns bytes read. */
  decodeFloats(bytes: Uint8Array, offset: number, out: FloatValues): number;
  /**
   * `decodeInts` of a stream of `n` values keeping only the rows `rows` (ascending, < n): out[j]
   * is row rows[j] (`out.length` ≥ rows.length). A scan printing the few rows that pass its filter
   * needs only those.
   */
  decodeIntsAt(bytes: Uint8Array, offset: number, n: number, rows: Uint32Array, out: IntValues): number;
  /** `decodeFloats` keeping only the rows `rows`, as `decodeIntsAt`. */
  decodeFloatsAt(bytes: Uint8Array, offset: number, n: number, rows: Uint32Array, out: FloatValues): number;
  /**
   * decodeIntsAt / decodeFloatsAt of several streams of n values at the same rows, in one go (the
   * WebAssembly backend: one call for a batch's columns); used[i] is the bytes stream i used.
   */
  decodeManyAt(streams: readonly StreamAt[], n: number, rows: Uint32Array, used: number[]): void;
  /**
   * Decodes a float stream of n values and keeps the rows whose value compares with `x` (not NaN)
   * by `op`, NaN ordering above every number as in PostgreSQL: their row numbers to `rows`, their
   * values (bit patterns kept) to `out`, both from 0 (room for n each). A scan filtering a batch.
   */
  decodeFloatsWhere(bytes: Uint8Array, offset: number, n: number, op: RangeOp, x: number, rows: Uint32Array, out: FloatValues): { readonly count: number; readonly used: number };
}
