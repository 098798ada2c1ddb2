/**
 * @module session/columnstore/constants
 * Comparison constants evaluated by PostgreSQL (with the session's settings) for Orbit to compare
 * stored values with: which constant types keep PostgreSQL's comparison with a column's values
 * (pg_typeof), the SQL giving a constant in the column's stored representation, and reading it
 * back. Used by scans (scan.ts) and last points with a WHERE (last-point-window.ts).
 */
import type { PlannerColumn } from '../../sql/planner/aggregates.js';

/** Which column types take which constant types without changing PostgreSQL's comparison. */
export function accepts(column: PlannerColumn, constantType: string): boolean {
  if (constantType === 'unknown') return true;
  switch (column.typname) {
    case 'int2':
    case 'int4':
    case 'int8':
      return ['smallint', 'integer', 'bigint'].includes(constantType);
    case 'float8':
      return ['smallint', 'integer', 'bigint', 'real', 'double precision', 'numeric'].includes(constantType);
    case 'float4':
      return ['real', 'double precision'].includes(constantType);
    case 'timestamptz':
      return ['timestamp with time zone', 'timestamp without time zone', 'date'].includes(constantType);
    case 'timestamp':
      return ['timestamp without time zone', 'date'].includes(constantType);
    case 'date':
      return constantType === 'date';
    case 'bool':
      return constantType === 'boolean';
    case 'text':
    case 'varchar':
      return ['text', 'character varying'].includes(constantType);
    default:
      return false;
  }
}

/** SQL giving constant `c` in the column's stored representation (binary send form or text). */
export function valueSql(column: PlannerColumn, c: string): string {
  switch (column.typname) {
    case 'int2':
    case 'int4':
    case 'int8':
      return `int8send((${c})::int8)`;
    case 'float8':
      return `float8send((${c})::float8)`;
    case 'float4':
      return `float8send((${c})::float4::float8)`;
    case 'timestamptz':
      return `timestamptz_send((${c})::timestamptz)`;
    case 'timestamp':
      return `timestamp_send((${c})::timestamp)`;
    case 'date':
      return `date_send((${c})::date)`;
    case 'bool':
      return `(${c})::bool`;
    default:
      return `(${c})::text`;
  }
}

/** A value read back from `valueSql` (json: bytea as "\\x…" hex). */
export function valueOf(column: PlannerColumn, v: unknown): number | bigint | string | boolean | null {
  if (v === null) return null;
  if (typeof v === 'boolean') return v;
  const s = String(v);
  const binary = (): DataView => {
    const hex = s.slice(2);
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    return new DataView(bytes.buffer);
  };
  switch (column.typname) {
    case 'int2':
    case 'int4':
      return Number(binary().getBigInt64(0));
    case 'int8':
    case 'timestamptz':
    case 'timestamp':
      return binary().getBigInt64(0);
    case 'float8':
    case 'float4':
      return binary().getFloat64(0);
    case 'date':
      return binary().getInt32(0);
    default:
      return s;
  }
}
