/**
 * @module bench/tsbs/compare
 * Whether two engines returned the same rows. Engines differ in representation (Date objects, epoch
 * milliseconds from DuckDB's Arrow TIMESTAMPs, strings, BigInts) and in the last bits of float
 * aggregates (summation order), so values are normalised: times to ISO instants, numbers to 9
 * significant digits, and unordered results sorted.
 */
import type { Row } from './systems.js';

/** Column names whose values are times (DuckDB gives them as epoch milliseconds). */
const TIME_COLUMNS = new Set(['time', 'minute', 'hour']);

export function normalise(rows: readonly Row[], columns: readonly string[], sort: boolean): string[] {
  const out = rows.map((row) => row.map((v, i) => value(v, TIME_COLUMNS.has(columns[i] ?? ''))).join('|'));
  return sort ? out.sort() : out;
}

function value(v: unknown, time: boolean): string {
  if (v === null || v === undefined) return 'NULL';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (time) return new Date(v).toISOString();
    return Number.isInteger(v) ? String(v) : Number(v.toPrecision(9)).toString();
  }
  if (typeof v === 'string') {
    // Timestamps as text (pg's text mode) and numerics as text.
    if (time || /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d/.test(v)) {
      const d = new Date(/[zZ]|[+-]\d\d(:?\d\d)?$/.test(v) ? v : `${v}Z`);
      if (!Number.isNaN(d.getTime())) return d.toISOString();
    }
    if (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v)) {
      const n = Number(v);
      return Number.isInteger(n) ? String(n) : Number(n.toPrecision(9)).toString();
    }
    return v;
  }
  return String(v);
}

/** The first difference between two normalised results, or undefined when they are equal. */
export function firstDifference(a: readonly string[], b: readonly string[]): string | undefined {
  if (a.length !== b.length) return `${a.length} rows against ${b.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `row ${i + 1}: ${a[i]} against ${b[i]}`;
  return undefined;
}
