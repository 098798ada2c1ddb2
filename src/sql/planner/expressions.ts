/**
 * @module sql/planner/expressions
 * Reading WHERE clauses and constants in parse trees, for the planner's paths (aggregates.ts,
 * scan.ts, predicates.ts, last-point.ts) and the DML batch selection: top-level conjuncts, IN and
 * BETWEEN items, which expressions PostgreSQL can evaluate once up front, and their SQL text.
 */
import { deparseSync } from '../deparse.js';
import { clone, funcName, kind, type Fields, type Node } from '../rewrite/ast.js';

/** The operands of a chain of ANDs. */
export function conjuncts(n: Node | undefined): Node[] {
  if (!n) return [];
  const b = n.BoolExpr as Fields | undefined;
  if (b?.boolop === 'AND_EXPR') return (b.args as Node[]).flatMap(conjuncts);
  return [n];
}

/** The items of an IN list or BETWEEN bounds (a List node, or a bare array in older parse trees). */
export function listItems(n: unknown): Node[] | undefined {
  if (Array.isArray(n)) return n as Node[];
  const items = ((n as Node | undefined)?.List as Fields | undefined)?.items;
  return Array.isArray(items) ? (items as Node[]) : undefined;
}

/**
 * Functions a constant may call: immutable or stable built-ins only, so that evaluating the constant
 * once, up front, gives what PostgreSQL would compute for every row (a volatile one — random(),
 * clock_timestamp(), nextval(), a user's function, VOLATILE by default — is evaluated per row).
 */
export const STABLE_FUNCTIONS: ReadonlySet<string> = new Set([
  'now', 'to_timestamp', 'to_date', 'date_trunc', 'date_bin', 'date_part', 'time_bucket', 'timezone', 'age',
  'make_timestamptz', 'make_timestamp', 'make_date', 'make_time', 'make_interval', 'justify_interval', 'justify_days', 'justify_hours',
  'abs', 'round', 'trunc', 'floor', 'ceil', 'lower', 'upper', 'coalesce',
]);

/**
 * No column references, subqueries, aggregates, parameters or functions but STABLE_FUNCTIONS:
 * PostgreSQL can evaluate it once, up front.
 */
export function isConstant(n: Node): boolean {
  let ok = true;
  visit(n, (x) => {
    const k = kind(x);
    if (k === 'ColumnRef' || k === 'SubLink' || k === 'ParamRef' || (k === 'FuncCall' && !isStableCall(x))) ok = false;
    return ok;
  });
  return ok;
}

/** A FuncCall node of one of STABLE_FUNCTIONS, unqualified, not an aggregate or window call. */
export function isStableCall(x: Node): boolean {
  const call = x.FuncCall as Fields;
  return STABLE_FUNCTIONS.has(funcName(x) ?? '') && (call.funcname as Node[]).length === 1 && !call.agg_star && !call.over;
}

export function deparseExpr(n: Node): string {
  // A literal (most filter constants: one per host and bound of every fresh statement) is printed as
  // the deparser prints it, without a tree built and walked for it.
  const literal = constantText(n);
  if (literal !== undefined) return literal;
  const select = deparseSync({ SelectStmt: { targetList: [{ ResTarget: { val: clone(n) } }], op: 'SETOP_NONE' } } as never, { pretty: false });
  return select.replace(/^SELECT /, '');
}

/** The deparser's text of a literal (string without backslashes, integer, float, boolean, NULL); undefined for anything else. */
function constantText(n: Node): string | undefined {
  const c = n.A_Const as Fields | undefined;
  if (!c) return undefined;
  if (c.isnull === true) return 'NULL';
  const str = (c.sval as Fields | undefined)?.sval;
  // Backslashes make the deparser write E'…' (the meaning of '…' depends on standard_conforming_strings).
  if (typeof str === 'string') return str.includes('\\') ? undefined : `'${str.replace(/'/g, "''")}'`;
  const int = c.ival as Fields | undefined;
  if (int) return String((int.ival as number | undefined) ?? 0);
  const float = (c.fval as Fields | undefined)?.fval;
  if (typeof float === 'string') return float;
  const bool = c.boolval as Fields | undefined;
  if (bool) return bool.boolval === true ? 'true' : 'false';
  return undefined;
}

/** Visits nodes (including inside SubLinks); `fn` returning false stops below that node. */
export function visit(n: unknown, fn: (x: Node) => boolean | void): void {
  if (Array.isArray(n)) {
    for (const x of n) visit(x, fn);
    return;
  }
  if (n === null || typeof n !== 'object') return;
  const k = kind(n);
  if (k !== undefined && fn(n as Node) === false) return;
  for (const v of Object.values(k !== undefined ? ((n as Node)[k] as Fields) : (n as Fields))) visit(v, fn);
}
