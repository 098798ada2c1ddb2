/**
 * @module columnstore/kernels/backend
 * The aggregation kernels over one decoded batch, as one interface with two implementations:
 * WebAssembly (`wasm-backend.ts`, the fast path) and plain TypeScript (`reference.ts`, the
 * cross-check in tests and the fallback where WebAssembly is unavailable). Both must return
 * identical results, bit for bit.
 *
 * A backend is stateful per batch: `bucketize` assigns the batch's kept rows to slots (one per
 * distinct time_bucket value), and the `aggregate`/`firstLast` calls after it work on those slots.
 * Callers sharing a backend must make one batch's calls without awaiting in between, and read each
 * result before calling the same method again (the WebAssembly backend reuses its result arrays).
 */

import type { PgType } from '../columns.js';

/** Value columns the kernels aggregate (float4/float8/int2/int4/int8 and timestamps). */
export type KernelValues = Float64Array | Float32Array | BigInt64Array | Int32Array | Int16Array;

/** Kept rows: lo ≤ time ≤ hi (inclusive bounds; exclusive ones are converted by the caller). */
export interface TimeRange {
  readonly lo: bigint;
  readonly hi: bigint;
}

/** A fixed-width time_bucket: width > 0 µs, buckets aligned so that one starts at origin. */
export interface BucketParams {
  readonly width: bigint;
  readonly origin: bigint;
}

export interface SlotTable {
  /** Number of slots; slot s covers the kept rows whose bucket is `buckets[s]` (0 without bucketing). */
  readonly slots: number;
  readonly buckets: BigInt64Array;
  /** Kept rows per slot: count(*). */
  readonly rows: Int32Array;
}

/**
 * Float inputs of at most this magnitude cannot trip PostgreSQL's overflow checks in any row order
 * for fewer than 2^53 rows: float8pl's sum stays below 2^53·L, and float8_accum's (avg) largest
 * intermediate, ((N−1)·2L)², below 1e293; so do float8_combine's in parallel plans. The kernels'
 * LARGE (assembly/kernels/aggregate.ts).
 */
export const LARGE_FLOAT = 1e130;

/** Bits of a float column's flags per slot: some value is ±Infinity or NaN; some finite value exceeds LARGE_FLOAT in magnitude. */
export const FloatFlags = { nonFinite: 1, largeFinite: 2 } as const;

/** The FloatFlags one value sets. */
export function floatFlagsOf(v: number): number {
  const a = Math.abs(v);
  return (v - v !== 0 ? FloatFlags.nonFinite : 0) | (a > LARGE_FLOAT && a !== Infinity ? FloatFlags.largeFinite : 0);
}

/** Per slot results of one value column (arrays of `slots` entries). */
export interface ValueAggregates {
  /** Non-NULL kept values. */
  readonly count: Int32Array;
  /** Floats: the sum in row order from -0.0; integers: null. */
  readonly sumFloat: Float64Array | null;
  /** Floats: FloatFlags of the slot's values. */
  readonly floatFlags: Uint8Array | null;
  /** Integers: the exact sum; floats: null. */
  readonly sumInt: readonly bigint[] | null;
  /** Meaningful where count > 0. Floats: NaN greatest, first of equal values kept. */
  readonly min: Float64Array | BigInt64Array;
  readonly max: Float64Array | BigInt64Array;
}

export interface FirstLast {
  /** Per slot, the row with the smallest / largest ordering value (first occurrence on ties); −1 if none. */
  readonly first: Int32Array;
  readonly last: Int32Array;
}

export interface KernelBackend {
  readonly name: string;
  /**
   * Slots for the rows of one batch. `selection` (bit i set = row i may be kept, LSB-first) narrows
   * the rows further. Throws time_bucket's range errors (22003, 22008) for kept rows.
   */
  bucketize(times: BigInt64Array, range: TimeRange, bucket: BucketParams | null, selection: Uint8Array | null): SlotTable;
  /** count/sum/min/max per slot of the last `bucketize`; `nulls` bit i set = row i is NULL. */
  aggregate(values: KernelValues, nulls: Uint8Array | null): ValueAggregates;
  /** first/last rows per slot, ordered by `by` (rows where `by` is NULL are ignored). */
  firstLast(by: BigInt64Array, nulls: Uint8Array | null): FirstLast;
}


/**
 * One column of a batch still encoded: its value stream as stored (codec byte first, only the
 * non-NULL values) and its NULL bitmap. `type` is one of the kernels' types.
 */
export interface EncodedColumn {
  readonly type: PgType;
  readonly stream: Uint8Array;
  readonly rows: number;
  readonly nonNull: number;
  readonly nulls: Uint8Array | null;
}

/**
 * A backend that decodes value streams itself (kernels.wasm holds the codecs' decoders): the same
 * results as decoding with the codecs and calling `bucketize` / `aggregate`, without decoded values
 * crossing into JavaScript. Malformed streams raise data_corrupted (XX001).
 */
export interface FusedKernels extends KernelBackend {
  /** `selection`: as bucketize's. */
  bucketizeEncoded(times: EncodedColumn, range: TimeRange, bucket: BucketParams | null, selection?: Uint8Array | null): SlotTable;
  /** What `bucketize` gives for `rows` zero times over the full range without bucketing: every row in one slot. */
  bucketizeUniform(rows: number): SlotTable;
  aggregateEncoded(values: EncodedColumn): ValueAggregates;
  /**
   * `aggregateEncoded` of several columns in one call (column c of the result is columns[c]); the
   * result is valid until the backend's next call.
   */
  aggregateEncodedColumns(columns: readonly EncodedColumn[]): ColumnAggregates;
}

/**
 * Per column and slot, what `ValueAggregates` holds, read in place (no arrays per batch). Float
 * columns answer sumFloat/floatFlags and number min/max; integer columns sumInt and bigint min/max.
 */
export interface ColumnAggregates {
  count(c: number, s: number): number;
  sumFloat(c: number, s: number): number;
  floatFlags(c: number, s: number): number;
  sumInt(c: number, s: number): bigint;
  min(c: number, s: number): number | bigint;
  max(c: number, s: number): number | bigint;
}

export function isFused(k: KernelBackend): k is FusedKernels {
  return typeof (k as Partial<FusedKernels>).aggregateEncoded === 'function';
}
