/**
 * @module sql/planner/predicates
 * Top-level conjuncts of a WHERE clause that compare one column of the hypertable with constants
 * (`col op c`, `c op col`, BETWEEN, IN, IS [NOT] NULL, a bare boolean column and its NOT): what the
 * scan path (scan.ts) and the aggregate kernels (aggregates.ts) may evaluate on decoded batches
 * themselves. The constants are evaluated by PostgreSQL first (session/columnstore/predicate-values.ts
 * decides whether Orbit's comparison of the stored values is then PostgreSQL's).
 */
import { walk, type Fields, type Node } from '../rewrite/ast.js';
import type { PlannerColumn } from './table.js';
import { deparseExpr, isStableCall, listItems } from './expressions.js';

export type PredicateOp = '<' | '<=' | '>' | '>=' | '=' | '<>' | 'in' | 'is null' | 'is not null';

/** A top-level conjunct of the WHERE clause Orbit may evaluate itself. */
export interface ColumnPredicate {
  readonly column: PlannerColumn;
  readonly op: PredicateOp;
  /** The constants (SQL), evaluated by PostgreSQL before the batches are read; none for NULL tests. */
  readonly sql: readonly string[];
  /** The conjunct as written (for EXPLAIN). */
  readonly text: string;
}

const OPS: Record<string, { op: PredicateOp; flipped: PredicateOp }> = {
  '<': { op: '<', flipped: '>' },
  '<=': { op: '<=', flipped: '>=' },
  '>': { op: '>', flipped: '<' },
  '>=': { op: '>=', flipped: '<=' },
  '=': { op: '=', flipped: '=' },
  '<>': { op: '<>', flipped: '<>' },
};

/** The predicates of one conjunct (BETWEEN gives two), or undefined when it is not of these forms. */
export function predicateOf(n: Node, columnOf: (n: unknown) => PlannerColumn | undefined): ColumnPredicate[] | undefined {
  const text = deparseExpr(n);
  // `WHERE ok` and `WHERE NOT ok`: true (false) exactly when the column is (NULL is neither).
  const negated = (n.BoolExpr as Fields | undefined)?.boolop === 'NOT_EXPR' ? ((n.BoolExpr as Fields).args as Node[])[0] : undefined;
  const flag = columnOf(negated ?? n);
  if (flag) return flag.typname === 'bool' ? [{ column: flag, op: '=', sql: [negated ? 'false' : 'true'], text }] : undefined;
  const test = n.NullTest as Fields | undefined;
  if (test) {
    const column = columnOf(test.arg);
    if (!column || test.argisrow) return undefined;
    return [{ column, op: test.nulltesttype === 'IS_NULL' ? 'is null' : 'is not null', sql: [], text }];
  }
  const e = n.A_Expr as Fields | undefined;
  if (!e) return undefined;
  const name = ((e.name as Node[] | undefined)?.[0]?.String as Fields | undefined)?.sval as string | undefined;
  if ((e.name as Node[] | undefined)?.length !== 1) return undefined;
  if (e.kind === 'AEXPR_OP' && name && OPS[name]) {
    let column = columnOf(e.lexpr);
    let other = e.rexpr as Node;
    let op = OPS[name]!.op;
    if (!column) {
      column = columnOf(e.rexpr);
      other = e.lexpr as Node;
      op = OPS[name]!.flipped;
    }
    if (!column || !isSafeConstant(other)) return undefined;
    return [{ column, op, sql: [deparseExpr(other)], text }];
  }
  if (e.kind === 'AEXPR_IN' && name === '=') {
    const column = columnOf(e.lexpr);
    const list = listItems(e.rexpr);
    if (!column || !list || !list.every(isSafeConstant)) return undefined;
    return [{ column, op: 'in', sql: list.map(deparseExpr), text }];
  }
  if (e.kind === 'AEXPR_BETWEEN') {
    const column = columnOf(e.lexpr);
    const [lo, hi] = listItems(e.rexpr) ?? [];
    if (!column || !lo || !hi || !isSafeConstant(lo) || !isSafeConstant(hi)) return undefined;
    return [
      { column, op: '>=', sql: [deparseExpr(lo)], text },
      { column, op: '<=', sql: [deparseExpr(hi)], text },
    ];
  }
  return undefined;
}

/**
 * An expression PostgreSQL evaluates to the same value for every row: constants, casts, operators,
 * CURRENT_TIMESTAMP and the like, and stable functions. No explicit COLLATE (it would change what
 * text equality means).
 */
export function isSafeConstant(n: Node): boolean {
  let ok = true;
  walk(
    n,
    (x, t) => {
      if (t === 'FuncCall') {
        if (!isStableCall(x)) ok = false;
      } else if (!['A_Const', 'TypeCast', 'TypeName', 'A_Expr', 'SQLValueFunction', 'String', 'Integer', 'Float', 'List', 'A_ArrayExpr'].includes(t)) ok = false;
      return ok;
    },
    true,
  );
  return ok;
}
