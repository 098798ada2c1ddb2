/**
 * @module session/direct-ingest/route
 * Routing the rows of a direct COPY to chunks (session/direct-ingest/copy.ts): TimescaleDB's internal
 * time of each row, as doubles when all are exact, and the chunk ranges that hold them.
 */
import type { Column } from '../../columnstore/columns.js';
import { exactDoubles } from '../../columnstore/compare.js';
import { OrbitError } from '../../errors.js';
import { SqlState } from '../../sqlstate.js';

/** µs between 1970-01-01 (TimescaleDB's internal time) and 2000-01-01 (PostgreSQL's epoch). */
const EPOCH_SHIFT = 946_684_800_000_000n;

export interface ChunkRange {
  readonly id: number;
  readonly start: bigint;
  readonly end: bigint;
  /** start and end as doubles: exact comparisons with any |v| < 2^53 (bounds beyond round beyond). */
  readonly lo: number;
  readonly hi: number;
}

/** TimescaleDB's internal time (µs since 1970, or the integer) of every row of the time column. */
export function internalTimes(column: Column): bigint[] {
  const n = (column.values as ArrayLike<unknown>).length;
  const out = new Array<bigint>(n);
  switch (column.type) {
    case 'timestamptz':
    case 'timestamp':
      for (let i = 0; i < n; i++) out[i] = column.values[i]! + EPOCH_SHIFT;
      break;
    case 'date':
      for (let i = 0; i < n; i++) out[i] = BigInt(column.values[i]!) * 86_400_000_000n + EPOCH_SHIFT;
      break;
    case 'int2':
    case 'int4':
      for (let i = 0; i < n; i++) out[i] = BigInt(column.values[i]!);
      break;
    case 'int8':
      for (let i = 0; i < n; i++) out[i] = column.values[i]!;
      break;
    default:
      throw new OrbitError(SqlState.feature_not_supported, `direct ingest does not support time columns of type ${column.type}`);
  }
  return out;
}

/** internalTimes as doubles when all are exact (|v| < 2^53); undefined otherwise. */
export function internalDoubles(column: Column): Float64Array | undefined {
  let d: Float64Array | undefined;
  let shift = 0;
  switch (column.type) {
    case 'timestamptz':
    case 'timestamp':
      d = exactDoubles(column.values);
      shift = Number(EPOCH_SHIFT);
      break;
    case 'int8':
      d = exactDoubles(column.values);
      break;
    case 'date':
      d = Float64Array.from(column.values, (x) => x * 86_400_000_000);
      shift = Number(EPOCH_SHIFT);
      break;
    case 'int2':
    case 'int4':
      return Float64Array.from(column.values);
    default:
      return undefined;
  }
  if (!d) return undefined;
  for (let i = 0; i < d.length; i++) {
    const v = (d[i] = d[i]! + shift);
    if (!(v < 9007199254740992 && v > -9007199254740992)) return undefined;
  }
  return d;
}

export function rangeIndex(ranges: readonly ChunkRange[], v: bigint | number): number {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (typeof v === 'number' ? v < r.lo : v < r.start) hi = mid - 1;
    else if (typeof v === 'number' ? v >= r.hi : v >= r.end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** Times no known chunk holds, one per interval-sized bucket. */
export function findMissing(ranges: readonly ChunkRange[], times: Float64Array | readonly bigint[], interval: bigint): bigint[] {
  const out = new Map<bigint, bigint>();
  let last: ChunkRange | undefined;
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (last && (typeof t === 'number' ? t >= last.lo && t < last.hi : t >= last.start && t < last.end)) continue;
    const k = rangeIndex(ranges, t);
    if (k >= 0) last = ranges[k];
    else {
      const v = BigInt(t);
      const bucket = interval > 0n ? v / interval : v;
      if (!out.has(bucket)) out.set(bucket, v);
    }
  }
  return [...out.values()];
}
