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
  /**
   * Where the batch's bytes live: the object (`version`, object number `no`) and their byte
   * `offset` in it (packs hold several batches; absent = 0). Earlier versions' objects are reused by
   * appends (direct ingest). Undefined: this manifest's version, object number = batch number,
   * offset 0 (format 1 and 2 layout, and the first batch of a version's first pack).
   */
  readonly source?: { readonly version: number; readonly no: number; readonly offset?: number };
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
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Min/max per PostgreSQL's min()/max() (float: NaN is the largest), sum of integers. */
export function columnStats(column: Column, rows: number): { nullCount: number; min: Scalar; max: Scalar; sum: bigint | null } {
  const nulls = column.nulls;
  let nullCount = 0;
  let min: Scalar = null;
  let max: Scalar = null;
  let sum: bigint | null = null;
  // Metrics and tags without NULLs (the usual columns) in loops of their own: one array type each.
  if (!nulls && rows > 0) {
    if (column.type === 'float8') return float8Stats(column.values, rows);
    if (column.type === 'text' || column.type === 'varchar') return textStats(column.type, column.values, rows);
  }
  switch (column.type) {
    case 'int2':
    case 'int4':
    case 'date':
    case 'float4':
    case 'float8': {
      // Plain comparisons; NaN (floats only) is tracked apart: it is the max once seen, the min only if alone.
      const v = column.values;
      let lo = Infinity;
      let hi = -Infinity;
      let total = 0;
      let nan = false;
      let seen = 0;
      for (let i = 0; i < rows; i++) {
        if (nulls && isNull(nulls, i)) continue;
        const x = v[i]!;
        seen++;
        if (x !== x) nan = true;
        else {
          if (x < lo || (seen === 1 && x === lo)) lo = x;
          if (x > hi || (seen === 1 && x === hi)) hi = x;
        }
        total += x;
      }
      nullCount = rows - seen;
      if (seen) {
        const numbers = lo <= hi;
        min = numbers ? lo : NaN;
        max = nan ? NaN : hi;
        // int2/int4 sums of ≤ 2^24 values stay below 2^53: exact as numbers.
        if (hasSum(column.type)) sum = BigInt(total);
      }
      return { nullCount, min, max, sum };
    }
    case 'timestamptz':
    case 'timestamp':
    case 'int8': {
      // Min/max by row index over (signed high, unsigned low) 32-bit lanes: no BigInt per row.
      const v = column.values;
      const lanes = new Int32Array(v.buffer, v.byteOffset, v.length * 2);
      const hiLane = LITTLE_ENDIAN ? 1 : 0;
      let lo = -1;
      let hi = -1;
      const key = (i: number): number => lanes[i * 2 + hiLane]! * 4294967296 + (lanes[i * 2 + 1 - hiLane]! >>> 0);
      let loKey = 0;
      let hiKey = 0;
      let total = 0n;
      for (let i = 0; i < rows; i++) {
        if (nulls && isNull(nulls, i)) {
          nullCount++;
          continue;
        }
        // The double key rounds above 2^53; ties are settled exactly below.
        const k = key(i);
        if (lo < 0 || k < loKey || (k === loKey && v[i]! < v[lo]!)) (lo = i), (loKey = k);
        if (hi < 0 || k > hiKey || (k === hiKey && v[i]! > v[hi]!)) (hi = i), (hiKey = k);
        if (column.type === 'int8') total += v[i]!;
      }
      if (lo >= 0) {
        min = v[lo]!;
        max = v[hi]!;
        if (column.type === 'int8' && total >= INT64_MIN && total <= INT64_MAX) sum = total;
      }
      return { nullCount, min, max, sum };
    }
    default:
  }
  const ordered = hasMinMax(column.type);
  let last: Scalar = null;
  for (let i = 0; i < rows; i++) {
    if (nulls && isNull(nulls, i)) {
      nullCount++;
      continue;
    }
    if (!ordered) continue;
    const v = scalarAt(column, i);
    // Repeated values (tags, constant runs) skip the comparisons.
    if (v === last && typeof v === 'string') continue;
    last = v;
    if (min === null) min = max = v;
    else {
      if (compareValues(column.type, v, min) < 0) min = v;
      if (compareValues(column.type, v, max) > 0) max = v;
    }
  }
  return { nullCount, min, max, sum };
}

/** columnStats of a float8 column of `rows` > 0 values without NULLs (the same answer). */
function float8Stats(v: Float64Array, rows: number): { nullCount: number; min: Scalar; max: Scalar; sum: bigint | null } {
  let lo = Infinity;
  let hi = -Infinity;
  let nan = false;
  for (let i = 0; i < rows; i++) {
    const x = v[i]!;
    if (x !== x) nan = true;
    else {
      if (x < lo || (i === 0 && x === lo)) lo = x;
      if (x > hi || (i === 0 && x === hi)) hi = x;
    }
  }
  return { nullCount: 0, min: lo <= hi ? lo : NaN, max: nan ? NaN : hi, sum: null };
}

/** columnStats of a text column of `rows` > 0 values without NULLs (the same answer). */
function textStats(type: 'text' | 'varchar', v: readonly string[], rows: number): { nullCount: number; min: Scalar; max: Scalar; sum: bigint | null } {
  let min = v[0]!;
  let max = min;
  let last = min;
  for (let i = 1; i < rows; i++) {
    const s = v[i]!;
    // Repeated values (tags, constant runs) skip the comparisons.
    if (s === last) continue;
    last = s;
    if (compareValues(type, s, min) < 0) min = s;
    if (compareValues(type, s, max) > 0) max = s;
  }
  return { nullCount: 0, min, max, sum: null };
}

/**
 * The segments' rows one after another. A function of its own: as a loop in planBatches (a large
 * function) it had V8 compile all of planBatches for on-stack replacement, again after each
 * deoptimization.
 */
function rowOrder(segments: readonly number[][], n: number): Int32Array {
  const all = new Int32Array(n);
  let k = 0;
  for (const segment of segments) for (let j = 0; j < segment.length; j++) all[k++] = segment[j]!;
  return all;
}

/**
 * A text column held as numbers into `strings` (an int4 column; direct ingest's entry numbers): it
 * is gathered as numbers and made strings one batch at a time, so the batch is what the strings
 * would have given. It must not be a segmentby or orderby column (those are compared).
 */
export interface TextDictionary {
  readonly type: 'text' | 'varchar';
  readonly strings: readonly string[];
}

function textOf(column: Column, dict: TextDictionary): Column {
  const ids = column.values as Int32Array;
  const strings = dict.strings;
  const values = new Array<string>(ids.length);
  for (let k = 0; k < ids.length; k++) values[k] = strings[ids[k]!]!;
  return { type: dict.type, values, nulls: column.nulls };
}

/**
 * Sorts row indices; Array.prototype.sort is stable, so ties keep the input order. Rows usually
 * arrive in time order, so an input already in order is kept and one in strictly reverse order
 * (time DESC over rows inserted in time order) is reversed, each in one pass.
 */
function sortSegment(segment: number[], cmp: (i: number, j: number) => number): void {
  let ascending = true;
  let strictlyDescending = true;
  for (let k = 1; k < segment.length && (ascending || strictlyDescending); k++) {
    const c = cmp(segment[k - 1]!, segment[k]!);
    if (c > 0) ascending = false;
    if (c <= 0) strictlyDescending = false;
  }
  if (ascending) return;
  if (strictlyDescending) segment.reverse();
  else segment.sort(cmp);
}

/**
 * Groups rows by segment, orders each segment, cuts batches; batches come segment by segment.
 * `groups`, when the caller already knows them (direct ingest groups by text ids), are the row
 * indices of each segment in input order, one group per distinct segmentby value: the same
 * batches result, without a string key per row (the groups are sorted in place).
 */
export function planBatches(
  rows: Rows,
  settings: CompressionSettings,
  groups?: number[][],
  dictionaries?: ReadonlyArray<TextDictionary | undefined>,
  /**
   * Gathers column `i` (no NULLs) in batch order, like takeRows: a caller encoding the batches at
   * once may give buffers it reuses flush after flush (session/direct-ingest/encode.ts).
   */
  gather: (column: Column, indices: Int32Array, i: number) => Column = takeRows,
): PlannedBatch[] {
  const n = checkRows(rows);
  const limit = settings.batchRows ?? DEFAULT_BATCH_ROWS;
  if (!Number.isInteger(limit) || limit < 1) throw orbitError('invalid_parameter_value', `batch size must be a positive integer, got ${limit}`);
  const segCols = settings.segmentBy.map((s) => rows.columns[columnIndex(rows, s, 'segmentby')]!);
  for (const name of [...settings.segmentBy, ...settings.orderBy.map((o) => o.column)]) {
    if (dictionaries?.[rows.names.indexOf(name)]) throw orbitError('internal_error', `column "${name}" is compared and must be given as strings`);
  }
  const keys: SortKey[] = settings.orderBy.map((o) => ({
    column: rows.columns[columnIndex(rows, o.column, 'orderby')]!,
    desc: o.desc ?? false,
    nullsFirst: o.nullsFirst ?? o.desc ?? false,
  }));
  columnIndex(rows, settings.timeColumn, 'time');

  const grouped = groups ?? groupRows(segCols, n);
  // Segments in ascending order of their values (NULLS LAST), so the layout is deterministic.
  const segOrder = segCols.map((column) => rowComparator({ column, desc: false, nullsFirst: false }));
  const segments = [...grouped].sort((a, b) => {
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

  // Columns without NULLs are gathered once in the final row order and each batch is a view (or
  // slice) of that: one pass per column instead of one copy per batch and column.
  for (const segment of segments) if (order.length) sortSegment(segment, byOrder);
  const all = rowOrder(segments, n);
  const gathered = rows.columns.map((c, i) => (c.nulls ? undefined : gather(c, all, i)));
  const out: PlannedBatch[] = [];
  let base = 0;
  for (const segment of segments) {
    const values = segCols.map((c) => scalarAt(c, segment[0]!));
    for (let at = 0; at < segment.length; at += limit) {
      const indices = segment.slice(at, at + limit);
      const from = base + at;
      const columns = rows.columns.map((c, i) => {
        const g = gathered[i];
        const column = g ? rowRange(g, from, from + indices.length) : takeRows(c, indices);
        const dict = dictionaries?.[i];
        return dict ? textOf(column, dict) : column;
      });
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
    base += segment.length;
  }
  return out;
}

/** Row indices per segment (equal segmentby values, NULLs together), in order of first appearance. */
function groupRows(segCols: readonly Column[], n: number): number[][] {
  if (segCols.length === 0) return n > 0 ? [Array.from({ length: n }, (_, i) => i)] : [];
  const groups = new Map<string | null, number[]>();
  // One text segment column (the usual tag): its strings are the keys, NULL is null.
  const only = segCols.length === 1 ? segCols[0]! : undefined;
  const plain = only && (only.type === 'text' || only.type === 'varchar' || only.type === 'name' || only.type === 'bpchar') ? only : undefined;
  for (let i = 0; i < n; i++) {
    const key = plain
      ? plain.nulls && isNull(plain.nulls, i)
        ? null
        : (plain.values as string[])[i]!
      : only
        ? equalityKey(only, i)
        : segCols.map((c) => equalityKey(c, i)).join('');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(i);
  }
  return [...groups.values()];
}

/** Rows [from, to) of a column without NULLs: a view of typed values, a slice of arrays. */
function rowRange(column: Column, from: number, to: number): Column {
  const v = column.values;
  if (Array.isArray(v)) return { type: column.type, values: v.slice(from, to), nulls: null } as Column;
  const width = column.type === 'uuid' ? 16 : 1;
  return { type: column.type, values: (v as Uint8Array).subarray(from * width, to * width), nulls: null } as Column;
}
