/**
 * @module columnstore/batch
 * Cutting the rows of one chunk into batches (docs/design/columnstore.md): rows are grouped by
 * their segmentby values (PostgreSQL equality, NULLs together), each segment is sorted by the
 * orderby columns with PostgreSQL's ordering (`compare.ts`), and cut into batches of at most
 * `batchRows` (1,000) rows. Each batch also gets the metadata the manifest keeps for it.
 */
import { orbitError } from '../errors.js';
import { compareValues, equalityKey, rowComparator, type SortKey } from './compare.js';
import { checkRows, scalarAt, takeRows, type Column, type PgType, type Rows, type Scalar } from './columns.js';
import { isNull } from './codecs/values.js';

/** One orderby column; like SQL, `nullsFirst` defaults to `desc` (ASC NULLS LAST, DESC NULLS FIRST). */
export interface OrderBy {
  readonly column: string;
  readonly desc?: boolean;
  readonly nullsFirst?: boolean;
}

/** A hypertable's compression settings, as the catalog holds them. */
export interface CompressionSettings {
  readonly segmentBy: readonly string[];
  readonly orderBy: readonly OrderBy[];
  /** The hypertable's time (first) dimension column. */
  readonly timeColumn: string;
  /** Rows per batch at most; 1,000 as TimescaleDB. */
  readonly batchRows?: number;
}

export const DEFAULT_BATCH_ROWS = 1000;

/** Metadata of one batch, as the manifest keeps it. */
export interface BatchStats {
  readonly rows: number;
  /** Size of the batch object in bytes (0 until encoded). */
  bytes: number;
  /** One value per segmentby column. */
  readonly segment: readonly Scalar[];
  /** Per column: NULL count. */
  readonly nullCount: readonly number[];
  /** Per column: smallest and largest non-NULL value (null when all NULL or the type has no order kept). */
  readonly min: readonly Scalar[];
  readonly max: readonly Scalar[];
  /** Per integer column (int2/int4/int8): the exact sum of non-NULL values, null if all NULL, other types or outside int64. */
  readonly sum: readonly (bigint | null)[];
}

export interface PlannedBatch {
  readonly columns: readonly Column[];
  readonly stats: BatchStats;
}

/** Types with min/max in the manifest (every type but json, jsonb and opaque, whose order we do not reproduce). */
export function hasMinMax(type: PgType): boolean {
  return type !== 'json' && type !== 'jsonb' && type !== 'opaque';
}

export function hasSum(type: PgType): boolean {
  return type === 'int2' || type === 'int4' || type === 'int8';
}

function columnIndex(rows: Rows, name: string, role: string): number {
  const i = rows.names.indexOf(name);
  if (i < 0) throw orbitError('undefined_column', `${role} column "${name}" does not exist`);
  return i;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Min/max per PostgreSQL's min()/max() (float: NaN is the largest), sum of integers. */
export function columnStats(column: Column, rows: number): { nullCount: number; min: Scalar; max: Scalar; sum: bigint | null } {
  let nullCount = 0;
  let min: Scalar = null;
  let max: Scalar = null;
  const nulls = column.nulls;
  const ordered = hasMinMax(column.type);
  const typed = column.type === 'int2' || column.type === 'int4' || column.type === 'date' || column.type === 'float4' || column.type === 'float8';
  let sum: bigint | number = hasSum(column.type) ? (column.type === 'int8' ? 0n : 0) : 0;
  for (let i = 0; i < rows; i++) {
    if (nulls && isNull(nulls, i)) {
      nullCount++;
      continue;
    }
    if (typed) {
      const v = (column.values as Int32Array | Float64Array)[i]!;
      if (typeof sum === 'number') sum += v;
      if (min === null) min = max = v;
      else if (column.type === 'float4' || column.type === 'float8') {
        if (compareValues('float8', v, min) < 0) min = v;
        if (compareValues('float8', v, max) > 0) max = v;
      } else {
        if (v < (min as number)) min = v;
        if (v > (max as number)) max = v;
      }
      continue;
    }
    if (column.type === 'int8') sum = (sum as bigint) + column.values[i]!;
    if (!ordered) continue;
    const v = scalarAt(column, i);
    if (min === null) min = max = v;
    else {
      if (compareValues(column.type, v, min) < 0) min = v;
      if (compareValues(column.type, v, max) > 0) max = v;
    }
  }
  let exactSum: bigint | null = null;
  if (hasSum(column.type) && nullCount < rows) {
    // int2/int4 sums of ≤ 2^24 values stay below 2^53: exact as numbers.
    exactSum = typeof sum === 'bigint' ? sum : BigInt(sum);
    if (exactSum < INT64_MIN || exactSum > INT64_MAX) exactSum = null;
  }
  return { nullCount, min, max, sum: exactSum };
}

/** Groups rows by segment, orders each segment, cuts batches; batches come segment by segment. */
export function planBatches(rows: Rows, settings: CompressionSettings): PlannedBatch[] {
  const n = checkRows(rows);
  const limit = settings.batchRows ?? DEFAULT_BATCH_ROWS;
  if (!Number.isInteger(limit) || limit < 1) throw orbitError('invalid_parameter_value', `batch size must be a positive integer, got ${limit}`);
  const segCols = settings.segmentBy.map((s) => rows.columns[columnIndex(rows, s, 'segmentby')]!);
  const keys: SortKey[] = settings.orderBy.map((o) => ({
    column: rows.columns[columnIndex(rows, o.column, 'orderby')]!,
    desc: o.desc ?? false,
    nullsFirst: o.nullsFirst ?? o.desc ?? false,
  }));
  columnIndex(rows, settings.timeColumn, 'time');

  const groups = new Map<string, number[]>();
  if (segCols.length === 0 && n > 0) groups.set('', Array.from({ length: n }, (_, i) => i));
  else {
    for (let i = 0; i < n; i++) {
      const key = segCols.length === 1 ? equalityKey(segCols[0]!, i) : segCols.map((c) => equalityKey(c, i)).join('');
      let g = groups.get(key);
      if (!g) groups.set(key, (g = []));
      g.push(i);
    }
  }
  // Segments in ascending order of their values (NULLS LAST), so the layout is deterministic.
  const segOrder = segCols.map((column) => rowComparator({ column, desc: false, nullsFirst: false }));
  const segments = [...groups.values()].sort((a, b) => {
    for (const cmp of segOrder) {
      const c = cmp(a[0]!, b[0]!);
      if (c) return c;
    }
    return 0;
  });
  const order = keys.map(rowComparator);
  const byOrder = (i: number, j: number): number => {
    for (const cmp of order) {
      const c = cmp(i, j);
      if (c) return c;
    }
    return 0;
  };

  const out: PlannedBatch[] = [];
  for (const segment of segments) {
    // Array.prototype.sort is stable: ties keep the input order.
    if (order.length) segment.sort(byOrder);
    const values = segCols.map((c) => scalarAt(c, segment[0]!));
    for (let at = 0; at < segment.length; at += limit) {
      const indices = segment.slice(at, at + limit);
      const columns = rows.columns.map((c) => takeRows(c, indices));
      const stats = columns.map((c) => columnStats(c, indices.length));
      out.push({
        columns,
        stats: {
          rows: indices.length,
          bytes: 0,
          segment: values,
          nullCount: stats.map((s) => s.nullCount),
          min: stats.map((s) => s.min),
          max: stats.map((s) => s.max),
          sum: stats.map((s) => s.sum),
        },
      });
    }
  }
  return out;
}
