/**
 * @module columnstore/kernels/spec
 * What a query asks of the kernels, and its checks against a chunk's manifest. Everything the
 * kernels cannot answer is refused with SQLSTATE 0A000 (feature_not_supported) before any batch is
 * read, so the planner can fall back to PostgreSQL for that query.
 */
import { orbitError } from '../../errors.js';
import { DEFAULT_ORIGIN } from '../../functions/time-bucket.js';
import type { PgType, Scalar } from '../columns.js';
import { compareValues } from '../compare.js';
import type { Manifest } from '../manifest.js';
import { canFilter, FILTER_TYPES, type RowPredicate } from '../row-filter.js';
import type { BucketParams, TimeRange } from './backend.js';

export const AggregateFn = {
  count: 'count',
  sum: 'sum',
  min: 'min',
  max: 'max',
  avg: 'avg',
  /** TimescaleDB's first(value, time): the value at the smallest `by`. */
  first: 'first',
  /** TimescaleDB's last(value, time): the value at the largest `by`. */
  last: 'last',
} as const;
export type AggregateFn = (typeof AggregateFn)[keyof typeof AggregateFn];

export interface AggregateCall {
  readonly fn: AggregateFn;
  /** The aggregated column; omitted for count(*). */
  readonly column?: string;
  /** first/last: the ordering column (default: the hypertable's time column). */
  readonly by?: string;
}

/**
 * time_bucket with a fixed width (interval without months; days count as 24 h, as TimescaleDB's
 * `interval_to_usec`). `originUs` defaults to TimescaleDB's 2000-01-03; `offsetUs` moves the
 * buckets as time_bucket's offset argument does.
 */
export interface TimeBucketSpec {
  readonly widthUs: bigint;
  /** Months in the width: not supported by the kernels (0A000), since month buckets are calendar-based. */
  readonly months?: number;
  readonly originUs?: bigint;
  readonly offsetUs?: bigint;
}

/** A WHERE conjunct: comparisons on the time column, = / IN on segmentby columns. */
export type Filter =
  | { readonly column: string; readonly op: '<' | '<=' | '>' | '>=' | '='; readonly value: Exclude<Scalar, null> }
  | { readonly column: string; readonly op: 'in'; readonly values: readonly Scalar[] };

/** A WHERE conjunct evaluated row by row (columnstore/row-filter.ts); constants in the column's representation. */
export interface RowFilter {
  readonly column: string;
  readonly predicate: RowPredicate;
}

export interface AggregateSpec {
  readonly bucket?: TimeBucketSpec;
  /** segmentby columns; the result has one group per distinct (values, bucket). */
  readonly groupBy?: readonly string[];
  /** ANDed. */
  readonly filters?: readonly Filter[];
  /** ANDed with `filters`: only the rows they keep are aggregated. */
  readonly rowFilters?: readonly RowFilter[];
  readonly aggregates: readonly AggregateCall[];
}

/** An aggregate with its column's type and the kernel path it takes. */
export interface ResolvedAggregate {
  readonly fn: AggregateFn;
  /** null for count(*). */
  readonly column: string | null;
  readonly type: PgType | null;
  /** first/last: the ordering column. */
  readonly by: string | null;
}

/** A spec checked against one manifest. */
export interface ResolvedSpec {
  readonly timeColumn: string;
  readonly range: TimeRange;
  readonly bucket: BucketParams | null;
  readonly groupBy: readonly { readonly name: string; readonly type: PgType; readonly segment: number }[];
  /** Per segmentby position: the accepted values (PostgreSQL equality); absent = any. */
  readonly segmentFilters: ReadonlyMap<number, readonly Exclude<Scalar, null>[]>;
  /** Row filters with their column's position in the manifest and type. */
  readonly rowFilters: readonly ResolvedRowFilter[];
  readonly aggregates: readonly ResolvedAggregate[];
}

export interface ResolvedRowFilter extends RowFilter {
  readonly index: number;
  readonly type: PgType;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
/** Wider buckets could overflow int64 in the kernel's floor step; no real query uses them. */
const MAX_WIDTH = 1n << 61n;

const TIME_TYPES: ReadonlySet<PgType> = new Set(['timestamptz', 'timestamp']);
/** Types `sum`/`avg` run on in the kernels. */
export const SUMMABLE: ReadonlySet<PgType> = new Set(['int2', 'int4', 'int8', 'float4', 'float8']);
/** Types `min`/`max` run on in the kernels (the manifest keeps their min/max too). */
export const ORDERABLE: ReadonlySet<PgType> = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'timestamptz', 'timestamp', 'date']);
/** Types a first/last `by` column may have. */
const BY_TYPES: ReadonlySet<PgType> = new Set(['timestamptz', 'timestamp', 'int8']);

function unsupported(what: string): Error {
  return orbitError('feature_not_supported', `columnstore kernels do not support ${what}`, { hint: 'Run the query through PostgreSQL instead.' });
}

function columnType(m: Manifest, name: string): PgType {
  const c = m.columns.find((x) => x.name === name);
  if (!c) throw orbitError('undefined_column', `column "${name}" does not exist`);
  return c.type;
}

export function resolveSpec(m: Manifest, spec: AggregateSpec): ResolvedSpec {
  const timeColumn = m.settings.timeColumn;
  const timeType = columnType(m, timeColumn);
  if (!TIME_TYPES.has(timeType)) throw unsupported(`a ${timeType} time column`);
  const segmentBy = m.settings.segmentBy;

  let bucket: BucketParams | null = null;
  if (spec.bucket) {
    const { widthUs, months = 0, originUs = DEFAULT_ORIGIN, offsetUs = 0n } = spec.bucket;
    if (months !== 0) throw unsupported('time_bucket with months');
    if (widthUs <= 0n) throw orbitError('invalid_parameter_value', 'period must be greater than 0');
    if (widthUs > MAX_WIDTH) throw unsupported(`a time_bucket width of ${widthUs} µs`);
    bucket = { width: widthUs, origin: originUs + offsetUs };
  }

  let lo = INT64_MIN;
  let hi = INT64_MAX;
  let empty = false;
  const segmentFilters = new Map<number, Exclude<Scalar, null>[]>();
  for (const f of spec.filters ?? []) {
    const seg = segmentBy.indexOf(f.column);
    columnType(m, f.column);
    if (f.column === timeColumn && f.op !== 'in') {
      if (typeof f.value !== 'bigint') throw unsupported(`a ${typeof f.value} compared with the time column`);
      const v = f.value;
      if ((f.op === '<' && v <= INT64_MIN) || (f.op === '>' && v >= INT64_MAX)) empty = true;
      else if (f.op === '<') hi = min(hi, v - 1n);
      else if (f.op === '<=') hi = min(hi, v);
      else if (f.op === '>') lo = max(lo, v + 1n);
      else if (f.op === '>=') lo = max(lo, v);
      else (lo = max(lo, v)), (hi = min(hi, v));
    } else if (seg >= 0 && (f.op === '=' || f.op === 'in')) {
      // NULL never equals anything; several filters on one column intersect.
      const values = (f.op === 'in' ? f.values : [f.value]).filter((v): v is Exclude<Scalar, null> => v !== null);
      const prev = segmentFilters.get(seg);
      segmentFilters.set(seg, prev ? intersect(prev, values, columnType(m, f.column)) : values);
    } else throw unsupported(`the filter ${f.column} ${f.op}`);
  }

  // An empty range keeps no row: lo > hi.
  if (empty) (lo = INT64_MAX), (hi = INT64_MIN);

  const groupBy = (spec.groupBy ?? []).map((name) => {
    const segment = segmentBy.indexOf(name);
    if (segment < 0) throw unsupported(`GROUP BY ${name} (not a segmentby column)`);
    return { name, type: columnType(m, name), segment };
  });

  const aggregates = spec.aggregates.map((a): ResolvedAggregate => {
    if (a.column === undefined) {
      if (a.fn !== 'count') throw orbitError('undefined_function', `${a.fn}(*) does not exist`);
      return { fn: a.fn, column: null, type: null, by: null };
    }
    const type = columnType(m, a.column);
    if ((a.fn === 'sum' || a.fn === 'avg') && !SUMMABLE.has(type)) throw unsupported(`${a.fn}(${type})`);
    if ((a.fn === 'min' || a.fn === 'max') && !ORDERABLE.has(type)) throw unsupported(`${a.fn}(${type})`);
    let by: string | null = null;
    if (a.fn === 'first' || a.fn === 'last') {
      by = a.by ?? timeColumn;
      const byType = columnType(m, by);
      if (!BY_TYPES.has(byType)) throw unsupported(`${a.fn}() ordered by a ${byType} column`);
    }
    return { fn: a.fn, column: a.column, type, by };
  });
  return { timeColumn, range: { lo, hi }, bucket, groupBy, segmentFilters, rowFilters: resolveRowFilters(m, spec.rowFilters ?? []), aggregates };
}

/** Row filters checked against one manifest (42703 for a column it lacks, 0A000 for a filter the row filter cannot evaluate). */
export function resolveRowFilters(m: Manifest, filters: readonly RowFilter[]): ResolvedRowFilter[] {
  return filters.map((f): ResolvedRowFilter => {
    const type = columnType(m, f.column);
    if (!FILTER_TYPES.has(type) || !canFilter(type, f.predicate)) throw unsupported(`the filter ${f.column} ${f.predicate.op} on a ${type} column`);
    return { ...f, index: m.columns.findIndex((c) => c.name === f.column), type };
  });
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function intersect(a: readonly Exclude<Scalar, null>[], b: readonly Exclude<Scalar, null>[], type: PgType): Exclude<Scalar, null>[] {
  return a.filter((x) => b.some((y) => equalValues(type, x, y)));
}

/** PostgreSQL `=` on two non-NULL values of `type`. */
export function equalValues(type: PgType, a: Exclude<Scalar, null>, b: Exclude<Scalar, null>): boolean {
  return compareValues(type, a, b) === 0;
}
