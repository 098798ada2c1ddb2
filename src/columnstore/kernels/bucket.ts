/**
 * @module columnstore/kernels/bucket
 * time_bucket for fixed widths on µs timestamps, exactly as assembly/kernels/bucketize.ts computes
 * it (TimescaleDB's `TIME_BUCKET_TS`): the reference backend runs it per row, the query layer per
 * batch (whether a whole batch falls in one bucket).
 */
import { orbitError } from '../../errors.js';

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
/** PostgreSQL's valid timestamp range: [MIN_TIMESTAMP, END_TIMESTAMP). */
const MIN_TIMESTAMP = -211_813_488_000_000_000n;
const END_TIMESTAMP = 9_223_371_331_200_000_000n;

/** time_bucket's range errors, as TimescaleDB raises them (`TIME_BUCKET_TS`, checkTimestampRange). */
export function bucketOutOfRange(shift: boolean): Error {
  return orbitError(shift ? 'numeric_value_out_of_range' : 'datetime_field_overflow', 'timestamp out of range');
}

/** The bucket of `t` for a width > 0 and shift = origin % width; ±infinity come back unchanged. */
export function bucketOf(t: bigint, width: bigint, shift: bigint): bigint {
  if (t === INT64_MIN || t === INT64_MAX) return t;
  if ((shift > 0n && t < INT64_MIN + shift) || (shift < 0n && t > INT64_MAX + shift)) throw bucketOutOfRange(true);
  const u = t - shift;
  const q = (u / width) * width;
  const b = (u - q < 0n ? q - width : q) + shift;
  if (b < MIN_TIMESTAMP || b >= END_TIMESTAMP) throw bucketOutOfRange(false);
  return b;
}
