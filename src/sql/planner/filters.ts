/**
 * @module sql/planner/filters
 * The WHERE conjuncts Orbit turns into bounds on compressed batches: comparisons of the time column
 * with constants and `=`/IN on segmentby columns (`filterOf`), as the aggregate kernels and the
 * last point take them, the time bounds of a SELECT (cache tables' chunks) and the filters of an
 * UPDATE, DELETE or MERGE (the batches a write decompresses).
 */
import { colNames, funcName, kind, type Fields, type Node } from '../rewrite/ast.js';
import { conjuncts, deparseExpr, isConstant, listItems, visit } from './expressions.js';
import type { PlannerColumn, PlannerTable } from './table.js';

/** A comparison constant, evaluated by PostgreSQL before the kernels run (session's settings apply). */
export type ConstantFilter =
  | { readonly column: string; readonly op: '<' | '<=' | '>' | '>=' | '='; readonly sql: string }
  | { readonly column: string; readonly op: 'in'; readonly sql: readonly string[] };

const COMPARISONS: Record<string, { op: '<' | '<=' | '>' | '>=' | '='; flipped: '<' | '<=' | '>' | '>=' | '=' }> = {
  '<': { op: '<', flipped: '>' },
  '<=': { op: '<=', flipped: '>=' },
  '>': { op: '>', flipped: '<' },
  '>=': { op: '>=', flipped: '<=' },
  '=': { op: '=', flipped: '=' },
};

/**
 * The comparisons of the time column with constants among the top-level AND conjuncts of a SELECT
 * reading only `table` (once): what bounds the rows it can see. Undefined when there are none or the
 * statement has another shape (then nothing can be excluded).
 */
export function timeFilters(type: string, node: Fields, table: PlannerTable): ConstantFilter[] | undefined {
  if (type !== 'SelectStmt' || (node.op && node.op !== 'SETOP_NONE') || node.withClause) return undefined;
  const from = node.fromClause as Node[] | undefined;
  if (from?.length !== 1 || kind(from[0]) !== 'RangeVar') return undefined;
  const rv = from[0]!.RangeVar as Fields;
  if (rv.relname !== table.name || (rv.schemaname !== undefined && rv.schemaname !== table.schema)) return undefined;
  const alias = ((rv.alias as Fields | undefined)?.aliasname as string | undefined) ?? table.name;
  const columnOf = (n: unknown): PlannerColumn | undefined => {
    const names = colNames(n);
    if (!names || names.length > 2 || (names.length === 2 && names[0] !== alias)) return undefined;
    return table.columns.find((c) => c.name === names[names.length - 1]);
  };
  const out = conjuncts(node.whereClause as Node | undefined).flatMap((c) => (filterOf(c, columnOf, table) ?? []).filter((f) => f.column === table.timeColumn));
  return out.length > 0 ? out : undefined;
}

/**
 * The comparisons of the time and segmentby columns of the target of an UPDATE, DELETE or MERGE with
 * constants among the top-level AND conjuncts of its WHERE (MERGE: its join condition): rows outside
 * them cannot be touched. Undefined for shapes where that does not hold (a WITH clause, MERGE's
 * WHEN NOT MATCHED BY SOURCE) or when there are none. `functions` receives the names of the
 * functions the constants call (the caller refuses volatile ones).
 */
export function writeFilters(type: string, node: Fields, table: PlannerTable, functions: Set<string>): ConstantFilter[] | undefined {
  if (type !== 'UpdateStmt' && type !== 'DeleteStmt' && type !== 'MergeStmt') return undefined;
  if (node.withClause) return undefined;
  if (type === 'MergeStmt' && ((node.mergeWhenClauses as Node[] | undefined) ?? []).some((w) => ((w.MergeWhenClause as Fields).matchKind as string) === 'MERGE_WHEN_NOT_MATCHED_BY_SOURCE')) return undefined;
  const rv = node.relation as Fields | undefined;
  if (!rv) return undefined;
  const alias = ((rv.alias as Fields | undefined)?.aliasname as string | undefined) ?? table.name;
  const columnOf = (n: unknown): PlannerColumn | undefined => {
    const names = colNames(n);
    if (!names || names.length > 2 || (names.length === 2 && names[0] !== alias)) return undefined;
    // MERGE: an unqualified name may be the source's column.
    if (type === 'MergeStmt' && names.length === 1) return undefined;
    return table.columns.find((c) => c.name === names[names.length - 1]);
  };
  const where = (type === 'MergeStmt' ? node.joinCondition : node.whereClause) as Node | undefined;
  const out = conjuncts(where).flatMap((c) => filterOf(c, columnOf, table) ?? []);
  if (out.length === 0) return undefined;
  for (const c of conjuncts(where)) {
    visit(c, (x) => {
      const name = kind(x) === 'FuncCall' ? funcName(x) : undefined;
      if (name) functions.add(name);
    });
  }
  return out;
}

/**
 * A WHERE conjunct as filters the kernels (and the last point) take: a comparison of the time column
 * with a constant (either side, BETWEEN), `=`/IN on a segmentby column; undefined for any other.
 */
export function filterOf(n: Node, columnOf: (n: unknown) => PlannerColumn | undefined, table: PlannerTable): ConstantFilter[] | undefined {
  const e = n.A_Expr as Fields | undefined;
  if (!e) return undefined;
  const name = ((e.name as Node[] | undefined)?.[0]?.String as Fields | undefined)?.sval as string | undefined;
  const left = e.lexpr as Node;
  const right = e.rexpr as Node;
  if (e.kind === 'AEXPR_OP' && name && COMPARISONS[name]) {
    let column = columnOf(left);
    let other = right;
    let op = COMPARISONS[name]!.op;
    if (!column) {
      column = columnOf(right);
      other = left;
      op = COMPARISONS[name]!.flipped;
    }
    if (!column || !isConstant(other)) return undefined;
    if (column.name === table.timeColumn) return [{ column: column.name, op, sql: deparseExpr(other) }];
    if (op === '=' && table.segmentBy.includes(column.name)) return [{ column: column.name, op, sql: deparseExpr(other) }];
    return undefined;
  }
  if (e.kind === 'AEXPR_IN' && name === '=') {
    const column = columnOf(left);
    const list = listItems(right);
    if (!column || !table.segmentBy.includes(column.name) || !list || !list.every(isConstant)) return undefined;
    return [{ column: column.name, op: 'in', sql: list.map(deparseExpr) }];
  }
  if (e.kind === 'AEXPR_BETWEEN') {
    const column = columnOf(left);
    const [lo, hi] = listItems(right) ?? [];
    if (!column || column.name !== table.timeColumn || !lo || !hi || !isConstant(lo) || !isConstant(hi)) return undefined;
    return [
      { column: column.name, op: '>=', sql: deparseExpr(lo) },
      { column: column.name, op: '<=', sql: deparseExpr(hi) },
    ];
  }
  return undefined;
}
