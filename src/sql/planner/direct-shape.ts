/**
 * @module sql/planner/direct-shape
 * Whether an aggregate's result is nothing but its group keys and aggregates in a total order of
 * the keys (AggregatePlan.direct): then session/columnstore/aggregate-rows.ts makes the rows from
 * the kernels' partials without a final statement.
 */
import { colNames, columnName, fingerprint, type Fields, type Node } from '../rewrite/ast.js';
import type { DirectShape } from './aggregate-plan.js';

/**
 * The statement's output as group keys and aggregates in a total order of the keys (or none), when
 * it is only that; see AggregatePlan.direct.
 */
export function directShape(s: Fields, targets: readonly Fields[], groupFps: readonly string[], aggFps: readonly string[], limitable: boolean): DirectShape | undefined {
  if (s.havingClause || (s.limitCount && !limitable) || s.limitOffset || groupFps.length === 0) return undefined;
  const columns: Array<{ name: string; group: number } | { name: string; aggregate: number }> = [];
  for (const t of targets) {
    const fp = fingerprint(t.val);
    const name = columnName(t as { name?: string; val: Node });
    const group = groupFps.indexOf(fp);
    const aggregate = aggFps.indexOf(fp);
    if (group >= 0) columns.push({ name, group });
    else if (aggregate >= 0) columns.push({ name, aggregate });
    else return undefined;
  }
  const sortBy = (s.sortClause as Node[] | undefined) ?? [];
  if (sortBy.length === 0) return { columns };
  const order: Array<{ group: number; desc: boolean; nullsFirst: boolean }> = [];
  for (const o of sortBy) {
    const by = o.SortBy as Fields;
    if (by.sortby_dir === 'SORTBY_USING') return undefined;
    const node = by.node as Node;
    // As PostgreSQL resolves ORDER BY items: an ordinal, else an output column's name, else an expression.
    const ordinal = node.A_Const ? Number(((node.A_Const as Fields).ival as Fields | undefined)?.ival ?? NaN) : NaN;
    const names = colNames(node);
    const named = names?.length === 1 ? targets.filter((t) => (columnName(t as { name?: string; val: Node })) === names[0]) : [];
    if (new Set(named.map((t) => fingerprint(t.val))).size > 1) return undefined;
    const expr = !Number.isNaN(ordinal) ? (targets[ordinal - 1]?.val as Node | undefined) : named.length > 0 ? (named[0]!.val as Node) : node;
    const group = expr ? groupFps.indexOf(fingerprint(expr)) : -1;
    if (group < 0) return undefined;
    const desc = by.sortby_dir === 'SORTBY_DESC';
    order.push({ group, desc, nullsFirst: by.sortby_nulls === 'SORTBY_NULLS_FIRST' || (by.sortby_nulls !== 'SORTBY_NULLS_LAST' && desc) });
  }
  // Rows equal in the keys ordered by would come in PostgreSQL's order of the unsorted rows.
  if (!groupFps.every((_, g) => order.some((o) => o.group === g))) return undefined;
  return { columns, order, ...(s.limitCount ? { limited: true } : {}) };
}
