/**
 * @module sql/rewrite/gapfill-bounds
 * The arguments of a `time_bucket_gapfill` call and the range it fills, as TimescaleDB's executor
 * finds them (`gapfill_exec.c`: `gapfill_begin`, `infer_gapfill_boundary`), read from the parse tree:
 *
 * - `start`/`finish` given and not a NULL constant: used as they are (evaluated once).
 * - Otherwise inferred from the WHERE clause and the ON clauses of inner joins: top-level AND-ed
 *   comparisons `ts >= v`, `ts > v`, `ts < v`, `ts <= v` (either side, BETWEEN counts as two), where
 *   `ts` is the bare time column and `v` does not depend on the query's own rows. `>` and `<=` move
 *   the bound by one unit; several bounds combine to the narrowest (max start, min finish).
 *
 * What needs values (NULL checks, casts, alignment) is left to SQL helpers of the extension
 * (src/catalog/extension/gapfill.ts), so errors surface at run time in TimescaleDB's order.
 */
import { OrbitError } from '../../errors.js';
import { SqlState } from '../../sqlstate.js';
import { as, colNames, funcName, isNullConst, kind, walk, type Fields, type Node } from './ast.js';

export interface GapfillArgs {
  readonly width: Node;
  readonly ts: Node;
  readonly timezone?: Node;
  /** Undefined when missing or a NULL constant: the bound is inferred. */
  readonly start?: Node;
  readonly finish?: Node;
}

/** A bound as SQL pieces: each candidate value, and whether it needs the one-unit step. */
export type Bound =
  | { readonly kind: 'values'; readonly values: ReadonlyArray<{ node: Node; succ: boolean }> }
  | { readonly kind: 'fail'; readonly message: string; readonly hint?: string };

export const GAPFILL_HINT = 'Specify start and finish as arguments or in the WHERE clause.';
const PARAM_NAMES = ['bucket_width', 'ts', 'timezone', 'start', 'finish'] as const;

/** Functions that make an expression non-constant for the timezone check (PostgreSQL's volatile built-ins). */
const VOLATILE = new Set(['random', 'random_normal', 'clock_timestamp', 'timeofday', 'nextval', 'currval', 'lastval', 'setval', 'gen_random_uuid', 'uuidv4', 'uuidv7', 'txid_current', 'statement_timestamp']);

/**
 * Splits the call's arguments. The timezone variant is chosen as PostgreSQL's overload resolution
 * chooses it: a `timezone` named argument, five arguments, or a third argument that is text (an
 * untyped literal resolves to text, the preferred type of its category).
 */
export function gapfillArgs(call: Fields): GapfillArgs {
  const positional: Node[] = [];
  const named = new Map<string, Node>();
  for (const arg of (call.args as Node[] | undefined) ?? []) {
    const n = as<{ name: string; arg: Node }>(arg, 'NamedArgExpr');
    if (n) named.set(n.name.toLowerCase(), n.arg);
    else positional.push(arg);
  }
  const zoned = named.has('timezone') || positional.length >= 5 || (positional.length >= 3 && textLike(positional[2]!, positional[0]!, positional.length));
  const names = zoned ? PARAM_NAMES : PARAM_NAMES.filter((n) => n !== 'timezone');
  const byName = new Map<string, Node>(named);
  positional.forEach((arg, i) => {
    if (names[i]) byName.set(names[i]!, arg);
  });
  const bound = (name: string) => {
    const node = byName.get(name);
    return node === undefined || isNullConst(node) ? undefined : node;
  };
  return {
    width: byName.get('bucket_width')!,
    ts: byName.get('ts')!,
    timezone: zoned ? byName.get('timezone') : undefined,
    start: bound('start'),
    finish: bound('finish'),
  };
}

const DATETIME_LITERAL = /^\s*(\d|now\b|today\b|tomorrow\b|yesterday\b|epoch\b|-?infinity\b|allballs\b)/i;
const TEXT_TYPES = new Set(['text', 'varchar', 'bpchar', 'name', 'char']);
const TEXT_FUNCTIONS = new Set(['current_setting', 'concat', 'format', 'lower', 'upper', 'trim', 'btrim', 'replace', 'substr', 'substring']);

/** An interval width written as an untyped literal or cast to interval: the timezone variant is possible. */
function intervalWidth(width: Node): boolean {
  if (as<Fields>(width, 'A_Const')?.sval !== undefined) return true;
  const cast = as<{ typeName: Fields }>(width, 'TypeCast');
  return cast !== undefined && ((cast.typeName.names as Node[]) ?? []).some((n) => as<{ sval: string }>(n, 'String')?.sval === 'interval');
}

function textLike(node: Node, width: Node, count: number): boolean {
  const type = kind(node);
  if (type === 'A_Const') {
    const sval = as<{ sval?: { sval?: string } }>(node, 'A_Const')!.sval;
    if (sval === undefined) return false;
    // PostgreSQL takes an untyped literal here as a timezone when the column is timestamptz and as
    // a start when it is a date or timestamp; which it is shows only in the literal.
    return count >= 5 || !DATETIME_LITERAL.test(sval.sval ?? '');
  }
  if (type === 'TypeCast') {
    const names = ((as<{ typeName: Fields }>(node, 'TypeCast')!.typeName.names as Node[]) ?? []).map((n) => as<{ sval: string }>(n, 'String')?.sval);
    return TEXT_TYPES.has(names[names.length - 1] ?? '');
  }
  if (type === 'FuncCall') return TEXT_FUNCTIONS.has(funcName(node)!);
  if (type === 'CoalesceExpr') return ((as<{ args: Node[] }>(node, 'CoalesceExpr')!.args) ?? []).some((a) => textLike(a, width, count));
  if (type === 'CaseExpr') {
    const c = as<{ args: Node[]; defresult?: Node }>(node, 'CaseExpr')!;
    return c.args.some((w) => textLike(as<{ result: Node }>(w, 'CaseWhen')!.result, width, count));
  }
  // An untyped parameter resolves like an untyped literal; only an interval width allows the variant.
  if (type === 'ParamRef') return intervalWidth(width);
  // A column can only be a timezone (a start column is an error either way).
  if (type === 'ColumnRef') return count === 3 && intervalWidth(width);
  return false;
}

/** The names a column of this query level can be qualified with (table names and aliases in FROM). */
export function fromNames(fromClause: Node[] | undefined): Set<string> {
  const names = new Set<string>();
  const add = (item: unknown): void => {
    const rv = as<{ relname: string; alias?: { aliasname: string } }>(item, 'RangeVar');
    if (rv) names.add(rv.alias?.aliasname ?? rv.relname);
    const sub = as<{ alias?: { aliasname: string } }>(item, 'RangeSubselect') ?? as<{ alias?: { aliasname: string } }>(item, 'RangeFunction');
    if (sub?.alias) names.add(sub.alias.aliasname);
    const fn = as<{ functions?: Node[][]; alias?: unknown }>(item, 'RangeFunction');
    if (fn && !fn.alias) {
      const first = fn.functions?.[0]?.[0];
      const name = funcName(first);
      if (name) names.add(name);
    }
    const join = as<{ larg: Node; rarg: Node; alias?: { aliasname: string } }>(item, 'JoinExpr');
    if (join) {
      if (join.alias) names.add(join.alias.aliasname);
      add(join.larg);
      add(join.rarg);
    }
    const sample = as<{ relation: Node }>(item, 'RangeTableSample');
    if (sample) add(sample.relation);
  };
  for (const item of fromClause ?? []) add(item);
  return names;
}

/**
 * Whether `node` depends on the rows of this query level (TimescaleDB's "simple expression" test):
 * a column reference outside subqueries that is unqualified or qualified by a FROM name, or a
 * subquery correlated through such a qualified reference. References to outer queries are allowed.
 */
export function dependsOnRows(node: Node, names: Set<string>): boolean {
  let depends = false;
  walk(node, (n, type) => {
    if (type !== 'ColumnRef') return;
    const fields = colNames(n)!;
    if (fields.length === 1 || names.has(fields[fields.length - 2]!)) depends = true;
  });
  if (depends) return true;
  walk(
    node,
    (n, type) => {
      if (type !== 'ColumnRef') return;
      const fields = colNames(n)!;
      if (fields.length >= 2 && names.has(fields[fields.length - 2]!)) depends = true;
    },
    true,
  );
  return depends;
}

/** The timezone argument must not vary between rows or calls (`does not support non-constant timezone`). */
export function checkConstantTimezone(node: Node): void {
  let constant = true;
  walk(
    node,
    (n, type) => {
      if (type === 'ColumnRef' || type === 'SubLink') constant = false;
      if (type === 'FuncCall' && VOLATILE.has(funcName(n)!)) constant = false;
    },
    true,
  );
  if (!constant) {
    throw new OrbitError(SqlState.feature_not_supported, 'time_bucket_gapfill does not support non-constant timezone', { hint: 'Use a constant timezone value.' });
  }
}

/** Whether ColumnRef `ref` names the time column `ts` (same name; qualifiers equal where both are given). */
function sameColumn(ref: string[], ts: string[]): boolean {
  if (ref[ref.length - 1] !== ts[ts.length - 1]) return false;
  const a = ref.slice(0, -1);
  const b = ts.slice(0, -1);
  if (a.length === 0 || b.length === 0) return true;
  return a[a.length - 1] === b[b.length - 1];
}

const START_OPS: Record<string, boolean> = { '>=': false, '>': true };
const FINISH_OPS: Record<string, boolean> = { '<': false, '<=': true };
const FLIP: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** The predicates a bound can come from: WHERE conjuncts and inner-join ON conjuncts, BETWEEN split. */
function conjuncts(select: Fields): Array<{ op: string; left: Node; right: Node }> {
  const out: Array<{ op: string; left: Node; right: Node }> = [];
  const visit = (expr: unknown): void => {
    const bool = as<{ boolop: string; args: Node[] }>(expr, 'BoolExpr');
    if (bool) {
      if (bool.boolop === 'AND_EXPR') bool.args.forEach(visit);
      return;
    }
    const a = as<{ kind: string; name: Node[]; lexpr: Node; rexpr: Node }>(expr, 'A_Expr');
    if (!a) return;
    if (a.kind === 'AEXPR_OP' && a.name.length === 1) {
      out.push({ op: as<{ sval: string }>(a.name[0], 'String')!.sval, left: a.lexpr, right: a.rexpr });
    } else if (a.kind === 'AEXPR_BETWEEN') {
      const [low, high] = as<{ items: Node[] }>(a.rexpr, 'List')!.items;
      out.push({ op: '>=', left: a.lexpr, right: low! }, { op: '<=', left: a.lexpr, right: high! });
    }
  };
  visit(select.whereClause);
  const joins = (item: unknown): void => {
    const join = as<{ jointype: string; larg: Node; rarg: Node; quals?: Node }>(item, 'JoinExpr');
    if (!join || join.jointype !== 'JOIN_INNER') return;
    visit(join.quals);
    joins(join.larg);
    joins(join.rarg);
  };
  for (const item of (select.fromClause as Node[] | undefined) ?? []) joins(item);
  return out;
}

/** The start (or finish) of the fill range, from the arguments or inferred from the query. */
export function gapfillBound(which: 'start' | 'finish', args: GapfillArgs, select: Fields, names: Set<string>): Bound {
  const given = args[which];
  if (given) {
    if (dependsOnRows(given, names)) return { kind: 'fail', message: `invalid time_bucket_gapfill argument: ${which} must be a simple expression` };
    return { kind: 'values', values: [{ node: given, succ: false }] };
  }
  const ts = colNames(args.ts);
  if (!ts || ts.includes('*')) {
    return { kind: 'fail', message: 'invalid time_bucket_gapfill argument: ts needs to refer to a single column if no start or finish is supplied', hint: GAPFILL_HINT };
  }
  const ops = which === 'start' ? START_OPS : FINISH_OPS;
  const values: Array<{ node: Node; succ: boolean }> = [];
  for (const { op, left, right } of conjuncts(select)) {
    const l = colNames(left);
    const r = colNames(right);
    if (l && r) continue; // column against column: no value to take
    let column: string[] | undefined;
    let value: Node;
    let effective = op;
    if (l) {
      column = l;
      value = right;
    } else if (r) {
      column = r;
      value = left;
      effective = FLIP[op] ?? op;
    } else continue;
    if (!(effective in ops) || !sameColumn(column, ts) || dependsOnRows(value, names)) continue;
    values.push({ node: value, succ: ops[effective]! });
  }
  if (values.length === 0) {
    return { kind: 'fail', message: `missing time_bucket_gapfill argument: could not infer ${which} from WHERE clause`, hint: GAPFILL_HINT };
  }
  return { kind: 'values', values };
}
