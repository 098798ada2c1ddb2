/**
 * @module sql/rewrite/stable-bounds
 * `WHERE time > now() - INTERVAL '1 day'` on a hypertable: PostgreSQL can only prune partitions on
 * `now()` when the query starts, after planning every chunk (174 ms for 1,000 chunks in PGlite against
 * 1 ms for a constant, bench/suites/exclusion.ts); TimescaleDB constifies `now()` in its planner.
 * Orbit evaluates such a lower bound just before the statement and adds the constant as a redundant
 * conjunct (`time > '…'::timestamptz AND time > now() - …`), which the planner prunes with.
 *
 * Sound because only bounds that never decrease as time passes are taken — `now()`,
 * `current_timestamp`, `transaction_timestamp()`, `statement_timestamp()`, `current_date`, plus or
 * minus a constant interval, `date_trunc` of one — and only as lower bounds (`>`, `>=`, `BETWEEN`'s
 * low end): the value computed a moment earlier (or in the same transaction: the same) is at most the
 * statement's own, so the added conjunct is implied by the user's. Local-time forms (`localtimestamp`,
 * casts to timestamp) can step back at a DST change and are left alone.
 *
 * The conjunct is inserted as text in front of the user's own top-level AND conjunct (same AND level,
 * so no precedence changes); only Orbit's literal and the user's column reference are written.
 */
import { deparseSync } from '../deparse.js';
import { as, kind, type Node } from './ast.js';
import { literal, quoteIdent } from './timescaledb-options.js';

interface Bound {
  /** Byte offset in the original text where the user's conjunct starts. */
  readonly at: number;
  readonly column: string;
  readonly op: '>' | '>=';
  readonly expr: Node;
}

export interface StableBounds {
  /** One row: for each bound, its value as text and its type (regtype text). */
  readonly probeSql: string;
  /** Edits that insert the evaluated bounds; bounds whose value is unusable are skipped. */
  edits(row: ReadonlyArray<string | null>): Array<{ start: number; end: number; text: string }>;
}

const TYPES: Record<string, string> = { 'timestamp with time zone': 'timestamptz', date: 'date' };

/** The monotonic lower bounds of a SELECT's top-level WHERE conjuncts, if any. */
export function findStableBounds(type: string, node: Record<string, unknown>): StableBounds | undefined {
  if (type !== 'SelectStmt' || !node.whereClause) return undefined;
  const where = node.whereClause as Node;
  const and = as<{ boolop: string; args: Node[] }>(where, 'BoolExpr');
  const conjuncts = and?.boolop === 'AND_EXPR' ? and.args : [where];
  const bounds: Bound[] = [];
  for (const c of conjuncts) {
    const b = lowerBound(c);
    if (b) bounds.push(b);
  }
  if (bounds.length === 0) return undefined;
  const targets = bounds.flatMap((b) => [
    { ResTarget: { val: { TypeCast: { arg: b.expr, typeName: typeName('text') } } } },
    { ResTarget: { val: { TypeCast: { arg: { FuncCall: { funcname: [{ String: { sval: 'pg_typeof' } }], args: [b.expr], funcformat: 'COERCE_EXPLICIT_CALL' } }, typeName: typeName('text') } } } },
  ]);
  const probeSql = deparseSync({ SelectStmt: { targetList: targets, limitOption: 'LIMIT_OPTION_DEFAULT', op: 'SETOP_NONE' } } as never);
  return {
    probeSql,
    edits(row) {
      return bounds.flatMap((b, i) => {
        const value = row[2 * i];
        const type = TYPES[row[2 * i + 1] ?? ''];
        if (value === null || value === undefined || type === undefined) return [];
        return [{ start: b.at, end: b.at, text: `${b.column} ${b.op} ${literal(value)}::pg_catalog.${type} AND ` }];
      });
    },
  };
}

function lowerBound(c: Node): Bound | undefined {
  const e = as<{ kind: string; name: Node[]; lexpr: Node; rexpr: Node; location: number }>(c, 'A_Expr');
  if (!e) return undefined;
  const op = as<{ sval: string }>(e.name[e.name.length - 1], 'String')?.sval;
  if (e.kind === 'AEXPR_OP' && (op === '>' || op === '>=') && column(e.lexpr) && monotonic(e.rexpr)) {
    return { at: start(e.lexpr), column: column(e.lexpr)!, op, expr: e.rexpr };
  }
  if (e.kind === 'AEXPR_OP' && (op === '<' || op === '<=') && column(e.rexpr) && monotonic(e.lexpr)) {
    const at = start(e.lexpr);
    return at >= 0 ? { at, column: column(e.rexpr)!, op: op === '<' ? '>' : '>=', expr: e.lexpr } : undefined;
  }
  if (e.kind === 'AEXPR_BETWEEN' && column(e.lexpr)) {
    const low = as<{ items: Node[] }>(e.rexpr, 'List')?.items[0];
    if (low && monotonic(low)) return { at: start(e.lexpr), column: column(e.lexpr)!, op: '>=', expr: low };
  }
  return undefined;
}

/** The column reference as text (each name quoted), or undefined. */
function column(node: Node): string | undefined {
  const ref = as<{ fields: Node[] }>(node, 'ColumnRef');
  if (!ref) return undefined;
  const names = ref.fields.map((f) => as<{ sval: string }>(f, 'String')?.sval);
  return names.every((n) => n !== undefined) ? names.map((n) => quoteIdent(n!)).join('.') : undefined;
}

/** Where an expression's text starts (its leftmost token), or -1 when unknown. */
function start(node: Node): number {
  const t = kind(node);
  const f = (t ? node[t] : undefined) as { location?: number; lexpr?: Node; arg?: Node; typeName?: { location?: number } } | undefined;
  if (!f) return -1;
  // An operator's location is the operator's; its text starts with the left operand.
  if (t === 'A_Expr' && f.lexpr) return start(f.lexpr);
  // `x::type` starts with x, `INTERVAL '…'` with its type name.
  if (t === 'TypeCast' && f.arg) {
    const starts = [f.location ?? -1, f.typeName?.location ?? -1, start(f.arg)].filter((x) => x >= 0);
    return starts.length > 0 ? Math.min(...starts) : -1;
  }
  return f.location ?? -1;
}

/** Never decreases as time passes (see the module comment). */
function monotonic(node: Node): boolean {
  const fn = as<{ funcname: Node[]; args?: Node[]; over?: unknown; agg_star?: boolean }>(node, 'FuncCall');
  if (fn) {
    if (fn.over || fn.agg_star) return false;
    const names = fn.funcname.map((n) => as<{ sval: string }>(n, 'String')?.sval);
    const name = names[names.length - 1];
    if (names.length === 2 && names[0] !== 'pg_catalog') return false;
    if (['now', 'transaction_timestamp', 'statement_timestamp'].includes(name ?? '')) return (fn.args ?? []).length === 0;
    if (name === 'date_trunc') return fn.args?.length === 2 && isStringConst(fn.args[0]!) && monotonic(fn.args[1]!);
    return false;
  }
  const svf = as<{ op: string }>(node, 'SQLValueFunction');
  if (svf) return ['SVFOP_CURRENT_TIMESTAMP', 'SVFOP_CURRENT_TIMESTAMP_N', 'SVFOP_CURRENT_DATE'].includes(svf.op);
  const e = as<{ kind: string; name: Node[]; lexpr?: Node; rexpr: Node }>(node, 'A_Expr');
  if (e?.kind === 'AEXPR_OP' && e.lexpr) {
    const op = as<{ sval: string }>(e.name[e.name.length - 1], 'String')?.sval;
    if (op === '-') return monotonic(e.lexpr) && constInterval(e.rexpr);
    if (op === '+') return (monotonic(e.lexpr) && constInterval(e.rexpr)) || (constInterval(e.lexpr) && monotonic(e.rexpr));
  }
  const cast = as<{ arg: Node; typeName: { names: Node[] } }>(node, 'TypeCast');
  if (cast) return typeNameIs(cast.typeName, 'timestamptz') && monotonic(cast.arg);
  return false;
}

/** An interval constant: `INTERVAL '1 day'`, `'1 day'::interval`, or an untyped string. */
function constInterval(node: Node): boolean {
  const cast = as<{ arg: Node; typeName: { names: Node[]; typmods?: unknown } }>(node, 'TypeCast');
  if (cast) return typeNameIs(cast.typeName, 'interval') && isStringConst(cast.arg);
  return isStringConst(node);
}

function isStringConst(node: Node): boolean {
  const c = as<{ sval?: unknown; isnull?: boolean }>(node, 'A_Const');
  return c !== undefined && c.sval !== undefined && c.isnull !== true;
}

function typeNameIs(t: { names: Node[] }, name: string): boolean {
  const names = t.names.map((n) => as<{ sval: string }>(n, 'String')?.sval);
  return names[names.length - 1] === name && (names.length === 1 || names[0] === 'pg_catalog');
}

function typeName(name: string): Node {
  return { names: [{ String: { sval: 'pg_catalog' } }, { String: { sval: name } }], typemod: -1 };
}
