/**
 * @module session/columnstore/time-constants
 * Whether a constant compared with a time column may be cast to the column's type and compared
 * there. PostgreSQL's cross-type operators convert one side: a timestamptz column compared with a
 * timestamp or a date converts the constant (in the session's time zone), as the cast does; but a
 * timestamp column compared with a timestamptz converts every row, and local times in a DST gap or
 * overlap then order otherwise than as timestamps (`ts >= '2024-03-10 03:00-04'` holds for the
 * non-existent 02:00 in New York, read as 03:00 EDT), and a date column compared with a timestamp
 * reads each date as its midnight (`d < '2024-01-05 12:00'` holds for 2024-01-05, which the cast
 * to date would exclude). Used where Orbit turns such constants into bounds on stored times: the
 * aggregate kernels' filters (fast-path.ts), the chunks a cache table needs (cache-tables.ts) and the
 * batches a write decompresses (dml.ts). The pairs are predicate-values.ts's, which scans and last
 * points check.
 */
import { exactConstantTypes } from './predicate-values.js';

/** SQL: whether constant `sql` compares with a time column of pg_type `typname` as its cast to that type does. */
export function castsExactly(sql: string, typname: string): string {
  // The same pairs scans and last points accept (a quoted literal, of type unknown, takes the column's).
  const types = exactConstantTypes(typname);
  if (!types) return 'false';
  return `(pg_typeof(${sql})::text IN ('unknown', ${types.map((t) => `'${t}'`).join(', ')}))`;
}

/** `expr` (the constant made a stored time), or NULL when the constant does not cast exactly. */
export function exactTimeSql(sql: string, typname: string, expr: string): string {
  return `CASE WHEN ${castsExactly(sql, typname)} THEN ${expr} END`;
}
