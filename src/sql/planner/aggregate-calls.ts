/**
 * @module sql/planner/aggregate-calls
 * Which aggregate calls the kernels take (count, sum, avg, min, max, first, last of plain columns
 * of the types they compute), with each one's result type and the types of its partial columns,
 * as PostgreSQL's own aggregate would give them (aggregates.ts finds the calls in the statement).
 */
import type { AggregateCall, AggregateFn } from '../../columnstore/kernels/index.js';
import { pgTypeOf } from '../../columnstore/columns.js';
import type { Fields, Node } from '../rewrite/ast.js';
import type { PlannerColumn, PlannerTable } from './table.js';

const SUMMABLE = new Set(['int2', 'int4', 'int8', 'float4', 'float8']);
const ORDERABLE = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'timestamptz', 'timestamp', 'date']);
export const AGGREGATES = new Set<string>(['count', 'sum', 'avg', 'min', 'max', 'first', 'last']);

/**
 * Whether the kernels' results can carry the column's values to the final statement as text
 * (fast-path.ts valueText): not uuid and other types kept as their binary form (interval, arrays,
 * inet, bytea, time, money, …), which a group key or first/last would return.
 */
export function kernelPrintable(column: PlannerColumn): boolean {
  const type = pgTypeOf(column.typname);
  return type !== 'uuid' && type !== 'opaque';
}

/** What the kernels compute for one aggregate call, or undefined when they cannot take it. */
export function aggregateOf(
  fn: AggregateFn,
  call: Fields,
  columnOf: (n: unknown) => PlannerColumn | undefined,
  table: PlannerTable,
  timeType: string,
): (AggregateCall & { resultType: string; partialTypes: string[] }) | undefined {
  const args = (call.args as Node[] | undefined) ?? [];
  if (call.agg_star) return fn === 'count' && args.length === 0 ? { fn, resultType: 'int8', partialTypes: ['int8'] } : undefined;
  const column = args[0] ? columnOf(args[0]) : undefined;
  if (!column) return undefined;
  const t = column.typname;
  switch (fn) {
    case 'count':
      return args.length === 1 ? { fn, column: column.name, resultType: 'int8', partialTypes: ['int8'] } : undefined;
    case 'sum': {
      if (args.length !== 1 || !SUMMABLE.has(t)) return undefined;
      const type = t === 'int2' || t === 'int4' ? 'int8' : t === 'int8' ? 'numeric' : t;
      return { fn, column: column.name, resultType: type, partialTypes: [type] };
    }
    case 'avg': {
      if (args.length !== 1 || !SUMMABLE.has(t)) return undefined;
      const float = t.startsWith('float');
      const sum = t === 'int2' || t === 'int4' ? 'int8' : t === 'int8' ? 'numeric' : 'float8';
      // Float averages count in float8, as PostgreSQL's float8_accum does: summing int8 counts
      // would go through numeric and a numeric-to-float8 cast per group (most of the final
      // statement's time at 1,200 groups × 10 averages). Exact below 2^53 rows.
      return { fn, column: column.name, resultType: float ? 'float8' : 'numeric', partialTypes: [sum, float ? 'float8' : 'int8'] };
    }
    case 'min':
    case 'max':
      return args.length === 1 && ORDERABLE.has(t) ? { fn, column: column.name, resultType: column.type, partialTypes: [column.type] } : undefined;
    case 'first':
    case 'last': {
      const by = args[1] ? columnOf(args[1]) : undefined;
      if (args.length !== 2 || !by || by.name !== table.timeColumn || !kernelPrintable(column)) return undefined;
      return { fn, column: column.name, by: by.name, resultType: column.type, partialTypes: [column.type, timeType] };
    }
  }
}
