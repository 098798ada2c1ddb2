/**
 * Helpers for the kernel query tests: seeded cpu-like rows with awkward values (NULLs, NaN,
 * ±Infinity, -0, pre-2000 and ±infinity times, bucket boundaries, rows out of order), and a
 * row-by-row oracle for aggregate specs over the uncompressed rows.
 */
import { compareFloat, compareValues } from '../../src/columnstore/compare.js';
import { allocColumn, scalarAt, type Column, type PgType, type Rows, type Scalar } from '../../src/columnstore/columns.js';
import type { AggregateSpec } from '../../src/columnstore/kernels/index.js';
import { numericDivide } from '../../src/columnstore/kernels/index.js';
import { scalarKey } from '../../src/columnstore/kernels/partials.js';
import { interval } from '../../src/functions/calendar.js';
import { DEFAULT_ORIGIN, timeBucketTimestamptz } from '../../src/functions/time-bucket.js';
import { Prng } from '../support/prng.js';

export const HOUR = 3_600_000_000n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

export const COLUMNS: readonly (readonly [string, PgType])[] = [
  ['time', 'timestamptz'],
  ['host', 'text'],
  ['dev', 'int4'],
  ['f8', 'float8'],
  ['f4', 'float4'],
  ['i2', 'int2'],
  ['i4', 'int4'],
  ['i8', 'int8'],
  ['ts', 'timestamp'],
  ['note', 'text'],
];

export interface RowOptions {
  /** Allow NaN/±Infinity/-0 among floats and ±infinity among times. */
  readonly awkward: boolean;
  /** Distinct time for every row (first/last then have no ties, as PostgreSQL comparisons need). */
  readonly distinctTimes: boolean;
  /** Float values exactly representable with few bits, so sums are exact in any order. */
  readonly dyadic: boolean;
  /** Only ±0 are excluded (PostgreSQL's min/max pick between -0 and 0 by scan order). */
  readonly noNegativeZero?: boolean;
}

/** cpu-like rows in arrival order (time-major, hosts interleaved), with gaps, jitter and NULLs. */
export function kernelRows(p: Prng, n: number, o: RowOptions): Rows {
  const cols = COLUMNS.map(([, t]) => allocColumn(t, n));
  const nulls = COLUMNS.map(() => new Uint8Array((n + 7) >> 3));
  const setNull = (c: number, i: number): void => void (nulls[c]![i >> 3]! |= 1 << (i & 7));
  const hosts = ['a', 'b', 'c', 'é', null];
  const base = p.pick([757_382_400_000_000n, -86_400_000_000n * 400n, -3n * HOUR]);
  const floats = o.dyadic ? [0.5, -2.25, 1024, 7.125, Infinity, -Infinity, NaN] : [0, -0, 0.1, 1e-310, 3.25, -1.5, Infinity, -Infinity, NaN];
  for (let i = 0; i < n; i++) {
    const [time, host, dev, f8, f4, i2, i4, i8, ts, note] = cols as [Column, Column, Column, Column, Column, Column, Column, Column, Column, Column];
    const h = p.int(hosts.length);
    if (hosts[h] === null) setNull(1, i);
    else (host.values as string[])[i] = hosts[h]!;
    if (p.chance(0.1)) setNull(2, i);
    else (dev.values as Int32Array)[i] = p.int(2);
    // Mostly increasing with jitter; some rows land exactly on hour boundaries or far away.
    let t = o.distinctTimes ? base + BigInt(i) * 600_000_001n : base + BigInt(i) * 10_000_000n + BigInt(p.int(5)) * 1_000_000n;
    if (!o.distinctTimes && p.chance(0.05)) t = base + BigInt(p.int(48)) * HOUR;
    if (o.awkward && !o.distinctTimes && p.chance(0.01)) t = p.pick([INT64_MIN, INT64_MAX]);
    (time.values as BigInt64Array)[i] = t;
    const float = (): number => {
      if (o.awkward && p.chance(0.15)) {
        const v = p.pick(floats);
        return o.noNegativeZero && Object.is(v, -0) ? 0 : v;
      }
      return o.dyadic ? (p.int(4000) - 2000) / 8 : (p.int(2_000_000) - 1_000_000) / 997;
    };
    for (const [c, col] of [[3, f8], [4, f4]] as const) {
      if (p.chance(0.1)) setNull(c, i);
      else (col.values as Float64Array | Float32Array)[i] = float();
    }
    if (p.chance(0.1)) setNull(5, i);
    else (i2.values as Int16Array)[i] = p.chance(0.05) ? p.pick([-32768, 32767]) : p.int(200) - 100;
    if (p.chance(0.1)) setNull(6, i);
    else (i4.values as Int32Array)[i] = p.chance(0.05) ? p.pick([-2147483648, 2147483647]) : p.int(2000) - 1000;
    if (p.chance(0.1)) setNull(7, i);
    else (i8.values as BigInt64Array)[i] = p.chance(0.05) ? p.pick([INT64_MIN, INT64_MAX]) : BigInt(p.int(1e9)) - 500_000_000n;
    if (p.chance(0.1)) setNull(8, i);
    else (ts.values as BigInt64Array)[i] = t - BigInt(p.int(1000)) * 1_000_000n;
    if (p.chance(0.3)) setNull(9, i);
    else (note.values as string[])[i] = `n${p.int(5)}`;
  }
  return { names: COLUMNS.map(([n]) => n), columns: cols.map((c, k) => ({ ...c, nulls: nulls[k]!.some((b) => b) ? nulls[k]! : null }) as Column) };
}

export interface OracleGroup {
  key: Scalar[];
  bucket: bigint | null;
  /** Per aggregate: the final value as finalize gives it; first/last also give the chosen time. */
  values: Scalar[];
  /** first/last: the extreme time and every value found at it (ties). */
  extremes: ({ time: bigint; candidates: string[] } | null)[];
}

/** The spec evaluated row by row over uncompressed rows, with PostgreSQL's rules written plainly. */
export function oracle(rows: Rows, spec: AggregateSpec): Map<string, OracleGroup> {
  const col = (name: string): Column => rows.columns[rows.names.indexOf(name)]!;
  const type = (name: string): PgType => COLUMNS.find(([n]) => n === name)![1];
  const time = col('time').values as BigInt64Array;
  const n = time.length;
  const groups = new Map<string, { key: Scalar[]; bucket: bigint | null; members: number[] }>();
  for (let i = 0; i < n; i++) {
    // Row filters: PostgreSQL's comparison (NULL passes none; floats NaN greatest, -0 = 0).
    const passes = (spec.rowFilters ?? []).every(({ column, predicate: p }) => {
      const v = scalarAt(col(column), i);
      if (!('values' in p)) return (v === null) === (p.op === 'is null');
      if (v === null) return false;
      const c = (x: Scalar) => compareValues(type(column), v, x);
      if (p.op === 'in') return p.values.some((x) => x !== null && c(x) === 0);
      const x = p.values[0]!;
      if (x === null) return false;
      return p.op === '<' ? c(x) < 0 : p.op === '<=' ? c(x) <= 0 : p.op === '>' ? c(x) > 0 : p.op === '>=' ? c(x) >= 0 : p.op === '=' ? c(x) === 0 : c(x) !== 0;
    });
    const keep = passes && (spec.filters ?? []).every((f) => {
      const v = scalarAt(col(f.column), i);
      if (v === null) return false;
      if (f.op === 'in') return f.values.some((x) => x !== null && compareValues(type(f.column), v, x) === 0);
      const c = compareValues(type(f.column), v, f.value);
      return f.op === '<' ? c < 0 : f.op === '<=' ? c <= 0 : f.op === '>' ? c > 0 : f.op === '>=' ? c >= 0 : c === 0;
    });
    if (!keep) continue;
    const key = (spec.groupBy ?? []).map((g) => scalarAt(col(g), i));
    const b = spec.bucket ? timeBucketTimestamptz(interval(0, 0, spec.bucket.widthUs), time[i]!, { origin: (spec.bucket.originUs ?? DEFAULT_ORIGIN) + (spec.bucket.offsetUs ?? 0n) }) : null;
    const k = key.map((v, j) => scalarKey(type(spec.groupBy![j]!), v)).join('') + (b === null ? '' : `@${b}`);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { key, bucket: b, members: [] }));
    g.members.push(i);
  }
  if (groups.size === 0 && !spec.groupBy?.length && !spec.bucket) groups.set('', { key: [], bucket: null, members: [] });
  const out = new Map<string, OracleGroup>();
  for (const [k, g] of groups) {
    const values: Scalar[] = [];
    const extremes: OracleGroup['extremes'] = [];
    for (const a of spec.aggregates) {
      extremes.push(null);
      if (a.column === undefined) {
        values.push(BigInt(g.members.length));
        continue;
      }
      const c = col(a.column);
      const t = type(a.column);
      const present = g.members.filter((i) => scalarAt(c, i) !== null);
      const vals = present.map((i) => scalarAt(c, i)!);
      if (a.fn === 'count') values.push(BigInt(present.length));
      else if (a.fn === 'first' || a.fn === 'last') {
        const by = col(a.by ?? 'time');
        const timed = g.members.filter((i) => scalarAt(by, i) !== null);
        if (!timed.length) {
          values.push(null);
          continue;
        }
        const times = timed.map((i) => scalarAt(by, i) as bigint);
        const best = times.reduce((m, x) => (a.fn === 'first' ? (x < m ? x : m) : x > m ? x : m));
        const candidates = timed.filter((_, j) => times[j] === best).map((i) => cellKey(scalarAt(c, i)));
        values.push(null);
        extremes[extremes.length - 1] = { time: best, candidates };
      } else if (!vals.length) values.push(null);
      else if (a.fn === 'min' || a.fn === 'max') {
        const float = t === 'float4' || t === 'float8';
        values.push(vals.reduce((m, x) => ((float ? compareFloat(x as number, m as number) : compareValues(t, x, m)) * (a.fn === 'min' ? 1 : -1) < 0 ? x : m)));
      } else if (t === 'float4' || t === 'float8') {
        const sum = (vals as number[]).reduce((s, x) => s + x, 0);
        values.push(a.fn === 'avg' ? sum / vals.length : t === 'float4' ? Math.fround(sum) : sum);
      } else {
        const sum = vals.reduce<bigint>((s, x) => s + BigInt(x as number | bigint), 0n);
        values.push(a.fn === 'avg' ? numericDivide(sum, BigInt(vals.length)) : sum);
      }
    }
    out.set(k, { key: g.key, bucket: g.bucket, values, extremes });
  }
  return out;
}

/** A value as an exact comparable string (float bits kept: -0 ≠ 0). */
export function cellKey(v: Scalar): string {
  if (v === null) return '∅';
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  return `${typeof v}:${String(v)}`;
}

/** Float results agree within rounding of differently ordered sums; everything else exactly. */
export function closeEnough(a: Scalar, b: Scalar, scale: number): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b) || !Number.isFinite(a) || !Number.isFinite(b)) return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
    return Math.abs(a - b) <= 1e-9 * Math.max(1, scale);
  }
  return cellKey(a) === cellKey(b);
}
