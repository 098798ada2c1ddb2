/**
 * @module bench/tsbs/compare
 * Whether two engines returned the same rows. Engines differ in representation (Date objects, epoch
 * milliseconds from DuckDB's Arrow TIMESTAMPs, strings, BigInts) and in the last bits of float
 * aggregates (summation order), so values are normalised (times to ISO instants, numbers to their
 * shortest text), unordered results sorted, and numbers compared with a relative tolerance of 1e-9.
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
    return String(v);
  }
  if (typeof v === 'string') {
    // Timestamps as text (pg's text mode) and numerics as text.
    if (time || /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d/.test(v)) {
      const d = new Date(/[zZ]|[+-]\d\d(:?\d\d)?$/.test(v) ? v : `${v}Z`);
      if (!Number.isNaN(d.getTime())) return d.toISOString();
    }
    if (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v)) return String(Number(v));
    return v;
  }
  return String(v);
}

/** The first difference between two normalised results, or undefined when they are equal. */
export function firstDifference(a: readonly string[], b: readonly string[]): string | undefined {
  if (a.length !== b.length) return `${a.length} rows against ${b.length}`;
  for (let i = 0; i < a.length; i++) if (!sameRow(a[i]!, b[i]!)) return `row ${i + 1}: ${a[i]} against ${b[i]}`;
  return undefined;
}

function sameRow(a: string, b: string): boolean {
  if (a === b) return true;
  const x = a.split('|');
  const y = b.split('|');
  return x.length === y.length && x.every((v, i) => v === y[i] || closeNumbers(v, y[i]!));
}

function closeNumbers(a: string, b: string): boolean {
  const x = Number(a);
  const y = Number(b);
  return Number.isFinite(x) && Number.isFinite(y) && Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y));
}
