/**
 * @module edge/expr
 * Scalar expressions of the edge profile, compiled from PostgreSQL's parse tree (libpg-query JSON)
 * into closures over columns. Types are resolved at compile time the way PostgreSQL resolves them
 * for the supported subset: untyped literals and parameters take the type their context needs
 * (`time > '2024-01-01'` reads the literal as timestamptz), integers widen to bigint, numeric and
 * float8. Anything outside the subset is SQLSTATE 0A000 naming the construct.
 */
import { orbitError } from '../errors.js';
import { columnName as figureColumnName } from '../sql/rewrite/ast.js';
import { interval as makeInterval, type Interval } from '../functions/calendar.js';
import { timeBucketDate, timeBucketInteger, timeBucketTimestamp, timeBucketTimestamptz } from '../functions/time-bucket.js';
import { timestamptzPlusInterval } from '../functions/time-zone.js';
import { timestampPlusInterval } from '../functions/calendar.js';
import {
  checkInt,
  FLOAT_TYPES,
  formatValue,
  INTEGER_TYPES,
  parseDecimal,
  parseText,
  TEXT_TYPES,
  typeLabel,
  typeNamed,
  type EdgeType,
  type Value,
} from './values.js';

export type Node = Record<string, unknown>;
/** Columns of the rows an expression reads, indexed as the scope lists them. */
export type Columns = readonly (readonly Value[])[];

export interface Expr {
  readonly type: EdgeType;
  /** The value at row `i`. */
  readonly eval: (cols: Columns, i: number) => Value;
  /** Set when the expression does not depend on the row (literals, parameters, now()). */
  readonly constant: boolean;
  /** The text of an untyped literal or parameter (type `unknown`), for resolution by context. */
  readonly text?: string;
  /** Set on a time_bucket over a timestamp: its constant arguments, so the planner can push it to the kernels. */
  readonly bucket?: BucketCall;
}

/** The arguments of a time_bucket(interval, timestamp[tz] …) call (constants, already coerced). */
export interface BucketCall {
  readonly width: Interval;
  readonly origin?: bigint;
  readonly offset?: Interval;
  readonly zone?: string;
  /** The bucketed expression's parse node. */
  readonly timeNode: Node;
}

export interface Scope {
  /** Session TimeZone (timestamptz input/output and calendar arithmetic). */
  readonly zone: string;
  /** Statement start, µs since 2000-01-01 (now(), as PostgreSQL's transaction timestamp). */
  readonly now: bigint;
  /** Parameter values as text (NULL as null); their types come from context. */
  readonly params: readonly (string | null)[];
  /** Resolves a column reference to a column index and type. */
  column(name: string, node: Node): { index: number; type: EdgeType };
  /** Replaces a whole sub-expression (group keys, aggregate results) before compiling it. */
  substitute?(node: Node): { index: number; type: EdgeType } | undefined;
}

export const AGGREGATES: ReadonlySet<string> = new Set(['count', 'sum', 'avg', 'min', 'max', 'first', 'last']);

/** The single key of a parse-tree node and its body. */
export function unwrap(node: Node): [string, Node] {
  const k = Object.keys(node)[0]!;
  return [k, node[k] as Node];
}

export function funcName(call: Node): string {
  const names = (call.funcname as Node[]).map((n) => String((n.String as Node).sval));
  return names[names.length - 1]!.toLowerCase();
}

/** The parse tree without locations, for comparing expressions (GROUP BY keys). */
export function fingerprint(node: unknown): string {
  return JSON.stringify(node, (k, v) => (k === 'location' || k.endsWith('_location') ? undefined : v));
}

export function constant(type: EdgeType, v: Value, text?: string): Expr {
  return { type, eval: () => v, constant: true, text };
}

export function notAtEdge(what: string): Error {
  return orbitError('feature_not_supported', `${what} is not supported at the edge`);
}

/** A literal's value: A_Const omits zero and false (protobuf defaults). */
function literal(c: Node): Expr {
  if (c.isnull) return constant('unknown', null);
  if (c.ival !== undefined) {
    const v = Number((c.ival as Node).ival ?? 0);
    return constant('int4', v);
  }
  if (c.fval !== undefined) {
    const t = String((c.fval as Node).fval);
    // Integers too large for int4 come as fval; PostgreSQL makes them int8 when they fit, else numeric.
    if (/^-?\d+$/.test(t)) {
      const b = BigInt(t);
      if (b >= -(2n ** 63n) && b < 2n ** 63n) return constant('int8', b);
    }
    return constant('numeric', parseText('numeric', t, 'UTC'));
  }
  if (c.boolval !== undefined) return constant('bool', Boolean((c.boolval as Node).boolval));
  if (c.sval !== undefined) {
    const s = String((c.sval as Node).sval);
    return constant('unknown', s, s);
  }
  throw notAtEdge('this literal');
}

/** Converts `e` to type `to` (implicit and explicit casts of the supported types). */
export function coerce(e: Expr, to: EdgeType, scope: Scope): Expr {
  if (e.type === to) return e;
  if (e.type === 'unknown') {
    if (e.text === undefined) return { ...e, type: to };
    const v = to === 'unknown' ? e.text : parseText(to, e.text, scope.zone);
    return constant(to, v);
  }
  const from = e.type;
  const conv = converter(from, to, scope);
  if (!conv) throw orbitError('datatype_mismatch', `cannot cast type ${typeLabel(from)} to ${typeLabel(to)}`);
  const f = e.eval;
  const out: Expr = { type: to, constant: e.constant, eval: (c, i) => {
    const v = f(c, i);
    return v === null ? null : conv(v);
  } };
  return e.constant ? constant(to, out.eval([], 0)) : out;
}

function converter(from: EdgeType, to: EdgeType, scope: Scope): ((v: Value) => Value) | undefined {
  if (TEXT_TYPES.has(to)) return (v) => formatValue(from, v, scope.zone);
  if (TEXT_TYPES.has(from)) return (v) => parseText(to, String(v), scope.zone);
  if (INTEGER_TYPES.has(from)) {
    if (to === 'int8') return (v) => BigInt(v as number | bigint);
    if (INTEGER_TYPES.has(to)) return (v) => Number(checkInt(to, BigInt(v as number | bigint)));
    if (FLOAT_TYPES.has(to)) return (v) => (to === 'float4' ? Math.fround(Number(v)) : Number(v));
    if (to === 'numeric') return (v) => String(v);
  }
  if (FLOAT_TYPES.has(from)) {
    if (to === 'float8' || to === 'float4') return (v) => (to === 'float4' ? Math.fround(v as number) : (v as number));
    if (INTEGER_TYPES.has(to)) {
      // PostgreSQL rounds half to even (rint) when casting float to integer.
      return (v) => {
        const x = v as number;
        const r = Math.round(x) - (Math.abs(x % 1) === 0.5 && Math.round(x) % 2 !== 0 ? 1 : 0);
        const b = checkInt(to, BigInt(r));
        return to === 'int8' ? b : Number(b);
      };
    }
  }
  if (from === 'numeric') {
    if (FLOAT_TYPES.has(to)) return (v) => Number(v);
  }
  if (from === 'date' && (to === 'timestamp' || to === 'timestamptz')) {
    return (v) => {
      const local = BigInt(v as number) * 86_400_000_000n;
      return to === 'timestamp' ? local : parseText('timestamptz', formatValue('timestamp', local, scope.zone)!, scope.zone);
    };
  }
  if (from === 'timestamp' && to === 'timestamptz') return (v) => parseText('timestamptz', formatValue('timestamp', v, scope.zone)!, scope.zone);
  if (from === 'timestamptz' && to === 'timestamp') {
    return (v) => parseText('timestamp', formatValue('timestamptz', v, scope.zone)!.replace(/[+-]\d{2}(:\d{2}){0,2}( BC)?$/, '$2'), scope.zone);
  }
  return undefined;
}

/** PostgreSQL's preferred common type of two operands (numeric and datetime categories). */
export function commonType(a: EdgeType, b: EdgeType): EdgeType {
  if (a === b) return a;
  if (a === 'unknown') return b;
  if (b === 'unknown') return a;
  const rank: Partial<Record<EdgeType, number>> = { int2: 1, int4: 2, int8: 3, numeric: 4, float4: 5, float8: 6 };
  if (rank[a] && rank[b]) {
    // float4 mixed with an integer or numeric is float8 in PostgreSQL's operator set.
    const r = Math.max(rank[a]!, rank[b]!);
    if (r === 5) return 'float8';
    return (Object.keys(rank) as EdgeType[]).find((k) => rank[k] === r)!;
  }
  const time: Partial<Record<EdgeType, number>> = { date: 1, timestamp: 2, timestamptz: 3 };
  if (time[a] && time[b]) return time[a]! > time[b]! ? a : b;
  if (TEXT_TYPES.has(a) && TEXT_TYPES.has(b)) return 'text';
  throw orbitError('undefined_function', `operator does not exist: ${typeLabel(a)} = ${typeLabel(b)}`);
}

/** Total order of PostgreSQL's btree for one type: NaN above every float. Nulls are handled by callers. */
export function compareValues(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
    if (Number.isNaN(b)) return -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string' && isNumericText(a) && isNumericText(b)) return compareNumeric(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return a! < b! ? -1 : a! > b! ? 1 : 0;
}

function isNumericText(s: string): boolean {
  return /^-?\d+(\.\d+)?$/.test(s);
}

function compareNumeric(a: string, b: string): number {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  const s = Math.max(x.scale, y.scale);
  const l = x.n * 10n ** BigInt(s - x.scale);
  const r = y.n * 10n ** BigInt(s - y.scale);
  return l < r ? -1 : l > r ? 1 : 0;
}

/** Compiles a scalar expression (aggregates only where `scope.substitute` replaces them). */
export function compile(node: Node, scope: Scope): Expr {
  const sub = scope.substitute?.(node);
  if (sub) return { type: sub.type, constant: false, eval: (c, i) => c[sub.index]![i]! };
  const [kind, n] = unwrap(node);
  switch (kind) {
    case 'A_Const':
      return literal(n);
    case 'ColumnRef': {
      const fields = n.fields as Node[];
      const last = fields[fields.length - 1]!;
      if (last.A_Star) throw notAtEdge('* in this position');
      const { index, type } = scope.column(String((last.String as Node).sval), n);
      return { type, constant: false, eval: (c, i) => c[index]![i]! };
    }
    case 'ParamRef': {
      const k = Number(n.number);
      if (k < 1 || k > scope.params.length) throw orbitError('undefined_parameter', `there is no parameter $${k}`);
      const text = scope.params[k - 1]!;
      return constant('unknown', text, text ?? undefined);
    }
    case 'TypeCast': {
      const names = ((n.typeName as Node).names as Node[]).map((x) => String((x.String as Node).sval));
      const target = typeNamed(names[names.length - 1]!);
      return coerce(compile(n.arg as Node, scope), target, scope);
    }
    case 'A_Expr':
      return operator(n, scope);
    case 'BoolExpr':
      return boolean(n, scope);
    case 'NullTest': {
      const arg = compile(n.arg as Node, scope);
      const isNull = n.nulltesttype === 'IS_NULL';
      return { type: 'bool', constant: arg.constant, eval: (c, i) => (arg.eval(c, i) === null) === isNull };
    }
    case 'SQLValueFunction': {
      if (n.op === 'SVFOP_CURRENT_TIMESTAMP' || n.op === 'SVFOP_LOCALTIMESTAMP') return constant('timestamptz', scope.now);
      throw notAtEdge(`${String(n.op).replace('SVFOP_', '').toLowerCase()}`);
    }
    case 'FuncCall':
      return call(n, scope);
    default:
      throw notAtEdge(`expression ${kind}`);
  }
}

function boolean(n: Node, scope: Scope): Expr {
  const args = (n.args as Node[]).map((a) => coerce(compile(a, scope), 'bool', scope));
  const op = n.boolop;
  if (op === 'NOT_EXPR') {
    const a = args[0]!;
    return { type: 'bool', constant: a.constant, eval: (c, i) => {
      const v = a.eval(c, i);
      return v === null ? null : !v;
    } };
  }
  const and = op === 'AND_EXPR';
  // Three-valued logic: AND is false if any is false, else NULL if any is NULL.
  return { type: 'bool', constant: args.every((a) => a.constant), eval: (c, i) => {
    let sawNull = false;
    for (const a of args) {
      const v = a.eval(c, i);
      if (v === null) sawNull = true;
      else if (v === !and) return !and;
    }
    return sawNull ? null : and;
  } };
}

const COMPARISONS: Record<string, (r: number) => boolean> = {
  '=': (r) => r === 0,
  '<>': (r) => r !== 0,
  '!=': (r) => r !== 0,
  '<': (r) => r < 0,
  '<=': (r) => r <= 0,
  '>': (r) => r > 0,
  '>=': (r) => r >= 0,
};

export function comparison(op: string, l: Expr, r: Expr, scope: Scope): Expr {
  const t = commonType(l.type, r.type);
  const a = coerce(l, t, scope);
  const b = coerce(r, t, scope);
  const test = COMPARISONS[op]!;
  return { type: 'bool', constant: a.constant && b.constant, eval: (c, i) => {
    const x = a.eval(c, i);
    const y = b.eval(c, i);
    return x === null || y === null ? null : test(compareValues(x, y));
  } };
}

function operator(n: Node, scope: Scope): Expr {
  const op = String(((n.name as Node[])[0]!.String as Node).sval);
  switch (n.kind) {
    case 'AEXPR_OP':
      break;
    case 'AEXPR_IN': {
      const l = compile(n.lexpr as Node, scope);
      const items = (((n.rexpr as Node).List as Node).items as Node[]).map((x) => comparison('=', l, compile(x, scope), scope));
      const negate = op === '<>';
      return { type: 'bool', constant: false, eval: (c, i) => {
        let sawNull = false;
        for (const it of items) {
          const v = it.eval(c, i);
          if (v === true) return !negate;
          if (v === null) sawNull = true;
        }
        return sawNull ? null : negate;
      } };
    }
    case 'AEXPR_BETWEEN':
    case 'AEXPR_NOT_BETWEEN': {
      const x = compile(n.lexpr as Node, scope);
      const [lo, hi] = (((n.rexpr as Node).List as Node).items as Node[]).map((b) => compile(b, scope));
      const ge = comparison('>=', x, lo!, scope);
      const le = comparison('<=', x, hi!, scope);
      const not = n.kind === 'AEXPR_NOT_BETWEEN';
      return { type: 'bool', constant: false, eval: (c, i) => {
        const a = ge.eval(c, i);
        const b = le.eval(c, i);
        const v = a === false || b === false ? false : a === null || b === null ? null : true;
        return v === null ? null : v !== not;
      } };
    }
    default:
      throw notAtEdge(`operator ${String(n.kind).replace('AEXPR_', '').toLowerCase()}`);
  }
  if (!n.lexpr) {
    const r = compile(n.rexpr as Node, scope);
    if (op === '-' && r.constant) {
      const v = r.eval([], 0);
      if (typeof v === 'number') return constant(r.type, -v);
      if (typeof v === 'bigint') return constant(r.type, -v);
      if (typeof v === 'string' && r.type === 'numeric') return constant('numeric', v.startsWith('-') ? v.slice(1) : `-${v}`);
    }
    if (op === '+') return r;
    throw notAtEdge(`prefix operator ${op}`);
  }
  const l = compile(n.lexpr as Node, scope);
  const r = compile(n.rexpr as Node, scope);
  if (op in COMPARISONS) return comparison(op, l, r, scope);
  if (op === '+' || op === '-' || op === '*' || op === '/' || op === '%') return arithmetic(op, l, r, scope);
  throw notAtEdge(`operator ${op}`);
}

function arithmetic(op: string, l: Expr, r: Expr, scope: Scope): Expr {
  // Datetime ± interval, as timestamptz_pl_interval (calendar-aware in the session zone).
  const lt = l.type === 'unknown' && r.type === 'interval' ? 'timestamptz' : l.type;
  if ((lt === 'timestamptz' || lt === 'timestamp' || lt === 'date') && (op === '+' || op === '-') && (r.type === 'interval' || r.type === 'unknown')) {
    const base = coerce(l, lt === 'date' ? 'timestamp' : lt, scope);
    const span = coerce(r, 'interval', scope);
    const sign = op === '-' ? -1 : 1;
    const tz = base.type === 'timestamptz';
    const f: Expr = { type: base.type, constant: base.constant && span.constant, eval: (c, i) => {
      const t = base.eval(c, i);
      const s = span.eval(c, i) as Interval | null;
      if (t === null || s === null) return null;
      const signed = makeInterval(sign * s.months, sign * s.days, BigInt(sign) * s.micros);
      return tz ? timestamptzPlusInterval(t as bigint, signed, scope.zone) : timestampPlusInterval(t as bigint, signed);
    } };
    return f.constant ? constant(f.type, f.eval([], 0)) : f;
  }
  const t = commonType(l.type === 'unknown' ? (r.type === 'unknown' ? 'int4' : r.type) : l.type, r.type === 'unknown' ? l.type : r.type);
  const a = coerce(l, t, scope);
  const b = coerce(r, t, scope);
  let fn: (x: Value, y: Value) => Value;
  if (INTEGER_TYPES.has(t)) {
    fn = (x, y) => {
      const p = BigInt(x as number | bigint);
      const q = BigInt(y as number | bigint);
      if ((op === '/' || op === '%') && q === 0n) throw orbitError('division_by_zero', 'division by zero');
      const v = op === '+' ? p + q : op === '-' ? p - q : op === '*' ? p * q : op === '/' ? p / q : p % q;
      const checked = checkInt(t, v);
      return t === 'int8' ? checked : Number(checked);
    };
  } else if (FLOAT_TYPES.has(t)) {
    fn = (x, y) => {
      const p = x as number;
      const q = y as number;
      if (op === '/' && q === 0) throw orbitError('division_by_zero', 'division by zero');
      return op === '+' ? p + q : op === '-' ? p - q : op === '*' ? p * q : op === '/' ? p / q : p % q;
    };
  } else {
    throw notAtEdge(`operator ${op} on ${typeLabel(t)}`);
  }
  const out: Expr = { type: t, constant: a.constant && b.constant, eval: (c, i) => {
    const x = a.eval(c, i);
    const y = b.eval(c, i);
    return x === null || y === null ? null : fn(x, y);
  } };
  return out.constant ? constant(t, out.eval([], 0)) : out;
}

/** Positional and named (`origin => …`) arguments of a call. */
export function callArgs(n: Node): { positional: Node[]; named: Map<string, Node> } {
  const positional: Node[] = [];
  const named = new Map<string, Node>();
  for (const a of (n.args as Node[] | undefined) ?? []) {
    if (a.NamedArgExpr) {
      const na = a.NamedArgExpr as Node;
      named.set(String(na.name).toLowerCase(), na.arg as Node);
    } else positional.push(a);
  }
  return { positional, named };
}

function call(n: Node, scope: Scope): Expr {
  const name = funcName(n);
  if (AGGREGATES.has(name)) throw orbitError('grouping_error', `aggregate functions are not allowed here`);
  if (n.over) throw notAtEdge('window functions');
  switch (name) {
    case 'now':
    case 'transaction_timestamp':
    case 'current_timestamp':
      return constant('timestamptz', scope.now);
    case 'time_bucket':
      return timeBucket(n, scope);
    default:
      throw notAtEdge(`function ${name}()`);
  }
}

/** time_bucket(width, ts [, offset | origin | timezone]), with TimescaleDB's overload rules. */
export function timeBucket(n: Node, scope: Scope, ts?: Expr): Expr {
  const { positional, named } = callArgs(n);
  if (positional.length < 2) throw orbitError('undefined_function', 'function time_bucket() does not exist');
  const time = ts ?? compile(positional[1]!, scope);
  const tsType = time.type === 'unknown' ? 'timestamptz' : time.type;
  const t = coerce(time, tsType, scope);
  const widthNode = compile(positional[0]!, scope);
  if (INTEGER_TYPES.has(tsType)) {
    const w = coerce(widthNode, tsType, scope);
    const offsetNode = positional[2] ?? named.get('offset');
    const off = offsetNode ? coerce(compile(offsetNode, scope), tsType, scope) : undefined;
    return { type: tsType, constant: false, eval: (c, i) => {
      const v = t.eval(c, i);
      const width = w.eval(c, i);
      if (v === null || width === null) return null;
      const o = off?.eval(c, i);
      const r = timeBucketInteger(BigInt(width as number), BigInt(v as number), { type: tsType === 'int2' ? 'smallint' : tsType === 'int4' ? 'integer' : 'bigint', offset: o == null ? undefined : BigInt(o as number) });
      return tsType === 'int8' ? r : Number(r);
    } };
  }
  const width = coerce(widthNode, 'interval', scope);
  if (!width.constant) throw notAtEdge('a time_bucket width that is not a constant');
  const w = width.eval([], 0) as Interval | null;
  // Third positional argument: timezone (text) for timestamptz if it is a text literal, else origin/offset by type.
  let origin: Expr | undefined = named.get('origin') ? compile(named.get('origin')!, scope) : undefined;
  let offset: Expr | undefined = named.get('offset') ? compile(named.get('offset')!, scope) : undefined;
  let zone: Expr | undefined = named.get('timezone') ? compile(named.get('timezone')!, scope) : undefined;
  const third = positional[2] ? compile(positional[2], scope) : undefined;
  if (third) {
    if (third.type === 'interval') offset = third;
    else if (third.type === 'unknown' && tsType === 'timestamptz' && positional.length >= 3 && !TIME_LITERAL.test(third.text ?? '')) zone = third;
    else if (TEXT_TYPES.has(third.type) && third.type !== 'unknown') zone = third;
    else origin = third;
  }
  if (positional[3]) origin = compile(positional[3], scope);
  if (positional[4]) offset = compile(positional[4], scope);
  const originV = origin ? (coerce(origin, tsType === 'date' ? 'date' : tsType, scope).eval([], 0) as bigint | number | null) : undefined;
  const offsetV = offset ? (coerce(offset, 'interval', scope).eval([], 0) as Interval | null) : undefined;
  const zoneV = zone ? (coerce(zone, 'text', scope).eval([], 0) as string | null) : undefined;
  if (w === null || originV === null || offsetV === null || zoneV === null) return constant(tsType, null);
  const bucket =
    tsType === 'date'
      ? (v: Value) => timeBucketDate(w, v as number, { origin: originV as number | undefined, offset: offsetV })
      : tsType === 'timestamp'
        ? (v: Value) => timeBucketTimestamp(w, v as bigint, { origin: originV as bigint | undefined, offset: offsetV })
        : (v: Value) => timeBucketTimestamptz(w, v as bigint, { origin: originV as bigint | undefined, offset: offsetV, timezone: zoneV, sessionTimeZone: scope.zone });
  const info: BucketCall | undefined =
    tsType === 'date' ? undefined : { width: w, origin: originV as bigint | undefined, offset: offsetV, zone: zoneV, timeNode: positional[1]! };
  return { type: tsType, constant: false, bucket: info, eval: (c, i) => {
    const v = t.eval(c, i);
    return v === null ? null : bucket(v);
  } };
}

/** A literal that reads as a date/time (an origin) rather than a zone name. */
const TIME_LITERAL = /^\d{4,}-\d{1,2}-\d{1,2}/;

/** PostgreSQL's column name for an unnamed select-list expression (FigureColname; the rule is rewrite/ast.ts's). */
export function columnName(node: Node): string {
  return figureColumnName({ val: node });
}
