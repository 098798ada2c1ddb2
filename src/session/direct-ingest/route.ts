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

/**
 * The rows of each chunk (`ranges` hold every time): undefined for all of them when one chunk
 * holds every row (usually so for a piece), else their indices. Its loop is a function of its own,
 * not one in the async caller: V8 then compiles that small loop, not the whole caller for
 * on-stack replacement (again after each deoptimization: ~10 times per large COPY).
 */
export function rowsByChunk(ranges: readonly ChunkRange[], internal: Float64Array | readonly bigint[]): Map<number, number[] | undefined> {
  const n = internal.length;
  const chunkOf = new Int32Array(n);
  const mixed = chunkIndexes(ranges, internal, chunkOf);
  const byChunk = new Map<number, number[] | undefined>();
  if (!mixed || chunkOf.every((c) => c === chunkOf[0])) byChunk.set(ranges[chunkOf[0]!]!.id, undefined);
  else
    for (let i = 0; i < n; i++) {
      const id = ranges[chunkOf[i]!]!.id;
      let list = byChunk.get(id);
      if (!list) byChunk.set(id, (list = []));
      list.push(i);
    }
  return byChunk;
}

/** Each row's index in `ranges` into `chunkOf`; whether any row left the range of the row before. */
function chunkIndexes(ranges: readonly ChunkRange[], internal: Float64Array | readonly bigint[], chunkOf: Int32Array): boolean {
  let k = 0;
  let mixed = false;
  for (let i = 0; i < chunkOf.length; i++) {
    const v = internal[i]!;
    const c = ranges[k]!;
    if (typeof v === 'number' ? !(v >= c.lo && v < c.hi) : !(v >= c.start && v < c.end)) {
      k = rangeIndex(ranges, v);
      mixed = true;
    }
    chunkOf[i] = k;
  }
  return mixed;
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
