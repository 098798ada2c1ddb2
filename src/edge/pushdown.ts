/**
 * @module edge/pushdown
 * Decides whether an aggregate SELECT can run in the columnstore kernels (aggregateChunks) instead of
 * over decoded rows, and if so, translates it into a kernel `AggregateSpec`. The shape the kernels
 * take (docs/design/columnstore.md, "Kernels"): GROUP BY only segmentby columns and one fixed-width
 * time_bucket of the time column; WHERE only ANDed comparisons of the time column with constants and
 * `=` / `IN` of segmentby columns with constants; aggregates count/sum/avg/min/max/first/last over
 * plain columns. Anything else returns undefined and the executor takes the row path, so pushdown
 * never changes an answer, only how it is computed.
 */
import type { AggregateCall, AggregateSpec as KernelSpec, Filter } from '../columnstore/kernels/index.js';
import type { Scalar } from '../columnstore/columns.js';
import type { TableDef } from './catalog.js';
import { compile, funcName, type Node, type Scope } from './expr.js';
import type { EdgeType, Value } from './values.js';

/** Where a GROUP BY key comes from in the kernels' result rows. */
export type PushedKey = { readonly kind: 'bucket' } | { readonly kind: 'segment'; readonly index: number; readonly type: EdgeType };

export interface PushdownPlan {
  readonly spec: KernelSpec;
  readonly keys: readonly PushedKey[];
  /** Per aggregate: its PostgreSQL result type and its argument's type (for the value conversion). */
  readonly results: ReadonlyArray<{ readonly type: EdgeType; readonly argType: EdgeType | undefined }>;
  /** Inclusive time bounds of the WHERE clause in µs, for chunk exclusion. */
  readonly lo?: bigint;
  readonly hi?: bigint;
}

export interface PushdownInput {
  readonly table: TableDef;
  readonly timeColumn: string;
  readonly segmentBy: readonly string[];
  readonly keyNodes: readonly Node[];
  readonly aggNodes: readonly Node[];
  readonly aggTypes: readonly EdgeType[];
  readonly where: Node | undefined;
  readonly scope: Scope;
}

const TIME_TYPES: ReadonlySet<EdgeType> = new Set(['timestamptz', 'timestamp']);
/** Segment key and filter types whose edge Values and columnstore Scalars are the same JS values. */
const KEY_TYPES: ReadonlySet<EdgeType> = new Set(['text', 'varchar', 'int2', 'int4', 'int8']);
/** Argument types of value aggregates whose kernel results convert exactly to edge Values. */
const VALUE_TYPES: ReadonlySet<EdgeType> = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'timestamptz', 'timestamp']);
const FIRST_LAST_VALUES: ReadonlySet<EdgeType> = new Set([...VALUE_TYPES, 'text', 'varchar', 'bool']);
const USECS_PER_DAY = 86_400_000_000n;

/** A plain column reference `c` (no table qualifier) → its name. */
function columnRef(n: Node | undefined): string | undefined {
  const f = (n?.ColumnRef as Node | undefined)?.fields as Node[] | undefined;
  return f?.length === 1 && f[0]!.String ? String((f[0]!.String as Node).sval) : undefined;
}

export function planPushdown(input: PushdownInput): PushdownPlan | undefined {
  const { table, timeColumn, segmentBy, scope } = input;
  const typeOf = (name: string) => table.columns.find((c) => c.name === name)?.type;
  const timeType = typeOf(timeColumn);
  if (!timeType || !TIME_TYPES.has(timeType)) return undefined;

  let bucket: KernelSpec['bucket'];
  const groupBy: string[] = [];
  const keys: PushedKey[] = [];
  for (const node of input.keyNodes) {
    const col = columnRef(node);
    if (col !== undefined) {
      const type = typeOf(col);
      if (!segmentBy.includes(col) || !type || !KEY_TYPES.has(type)) return undefined;
      keys.push({ kind: 'segment', index: groupBy.length, type });
      groupBy.push(col);
      continue;
    }
    const call = node.FuncCall as Node | undefined;
    if (!call || funcName(call) !== 'time_bucket' || bucket) return undefined;
    const b = compile(node, scope).bucket;
    if (!b || columnRef(b.timeNode) !== timeColumn || b.zone !== undefined || b.width.months !== 0) return undefined;
    // An offset with days is added in the session zone (DST-aware); the kernels add fixed µs only.
    if (b.offset && (b.offset.months !== 0 || b.offset.days !== 0)) return undefined;
    bucket = { widthUs: BigInt(b.width.days) * USECS_PER_DAY + b.width.micros, originUs: b.origin, offsetUs: b.offset?.micros };
    keys.push({ kind: 'bucket' });
  }

  const aggregates: AggregateCall[] = [];
  const results: Array<{ type: EdgeType; argType: EdgeType | undefined }> = [];
  for (const [i, n] of input.aggNodes.entries()) {
    if (n.agg_distinct || n.agg_filter || n.agg_order || n.over) return undefined;
    const fn = funcName(n) as AggregateCall['fn'];
    const args = ((n.args as Node[] | undefined) ?? []).map(columnRef);
    if (args.some((a) => a === undefined)) return undefined;
    const column = args[0];
    const argType = column === undefined ? undefined : typeOf(column);
    if (n.agg_star) aggregates.push({ fn: 'count' });
    else if (fn === 'count' && column !== undefined && argType) aggregates.push({ fn, column });
    else if ((fn === 'first' || fn === 'last') && argType && FIRST_LAST_VALUES.has(argType) && args.length === 2) {
      const by = args[1]!;
      if (!TIME_TYPES.has(typeOf(by) ?? 'text') && typeOf(by) !== 'int8') return undefined;
      aggregates.push({ fn, column, by });
    } else if (column !== undefined && argType && VALUE_TYPES.has(argType) && fn !== 'first' && fn !== 'last' && fn !== 'count') {
      aggregates.push({ fn, column });
    } else return undefined;
    results.push({ type: input.aggTypes[i]!, argType });
  }

  const filters: Filter[] = [];
  let lo: bigint | undefined;
  let hi: bigint | undefined;
  const conjuncts: Node[] = [];
  const flatten = (n: Node) => {
    const b = n.BoolExpr as Node | undefined;
    if (b && b.boolop === 'AND_EXPR') for (const a of b.args as Node[]) flatten(a);
    else conjuncts.push(n);
  };
  if (input.where) flatten(input.where);
  for (const c of conjuncts) {
    const f = filterOf(c, timeColumn, segmentBy, typeOf, scope);
    if (!f) return undefined;
    filters.push(...f);
    for (const x of f) {
      if (x.column !== timeColumn || x.op === 'in') continue;
      const v = x.value as bigint;
      const l = x.op === '>' ? v + 1n : x.op === '>=' || x.op === '=' ? v : undefined;
      const h = x.op === '<' ? v - 1n : x.op === '<=' || x.op === '=' ? v : undefined;
      if (l !== undefined) lo = lo === undefined || l > lo ? l : lo;
      if (h !== undefined) hi = hi === undefined || h < hi ? h : hi;
    }
  }
  return { spec: { bucket, groupBy, filters, aggregates }, keys, results, lo, hi };
}

const FLIP: Record<string, '<' | '<=' | '>' | '>=' | '='> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '=': '=' };

/**
 * One WHERE conjunct as kernel filters, or undefined when the kernels cannot apply it. Constants are
 * compiled against the column so they are coerced exactly as the row filter would coerce them.
 */
function filterOf(c: Node, timeColumn: string, segmentBy: readonly string[], typeOf: (n: string) => EdgeType | undefined, scope: Scope): Filter[] | undefined {
  const e = c.A_Expr as Node | undefined;
  if (!e) return undefined;
  const op = String((((e.name as Node[])[0]!.String as Node) ?? {}).sval);
  const value = (col: string, n: Node): Value | undefined => {
    try {
      // `col = <const>` evaluated on no row would need the column; compare types through a cast instead.
      const other = compile(n, scope);
      if (!other.constant) return undefined;
      const type = typeOf(col)!;
      const v = other.type === type ? other.eval([], 0) : other.type === 'unknown' && other.text !== undefined ? castText(other.text, type, scope) : undefined;
      return v;
    } catch {
      return undefined;
    }
  };
  const accepts = (col: string, v: Value | undefined): v is string | number | bigint => {
    if (v === undefined || v === null) return false;
    return col === timeColumn ? typeof v === 'bigint' : typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint';
  };
  if (e.kind === 'AEXPR_OP' && op in FLIP) {
    const l = columnRef(e.lexpr as Node);
    const r = columnRef(e.rexpr as Node);
    const [col, other, o]: [string?, Node?, ('<' | '<=' | '>' | '>=' | '=')?] = l !== undefined ? [l, e.rexpr as Node, FLIP[FLIP[op]!]] : r !== undefined ? [r, e.lexpr as Node, FLIP[op]] : [];
    if (col === undefined || other === undefined || o === undefined) return undefined;
    const isSegment = segmentBy.includes(col) && KEY_TYPES.has(typeOf(col) ?? 'bool');
    if (col !== timeColumn && !(isSegment && o === '=')) return undefined;
    const v = value(col, other);
    if (!accepts(col, v)) return undefined;
    return [{ column: col, op: o, value: v }];
  }
  if (e.kind === 'AEXPR_IN' && op === '=') {
    const col = columnRef(e.lexpr as Node);
    if (col === undefined || !segmentBy.includes(col) || !KEY_TYPES.has(typeOf(col) ?? 'bool')) return undefined;
    const list = e.rexpr as Node;
    const values = ((((list.List as Node | undefined)?.items as Node[] | undefined) ?? (list as unknown as Node[])) ?? []).map((n) => value(col, n));
    if (!values.every((v) => accepts(col, v))) return undefined;
    return [{ column: col, op: 'in', values: values as Scalar[] }];
  }
  if (e.kind === 'AEXPR_BETWEEN') {
    const col = columnRef(e.lexpr as Node);
    if (col !== timeColumn) return undefined;
    const [a, b] = (((e.rexpr as Node).List as Node | undefined)?.items as Node[] | undefined) ?? (e.rexpr as Node[]);
    const x = value(col, a!);
    const y = value(col, b!);
    if (!accepts(col, x) || !accepts(col, y)) return undefined;
    return [
      { column: col, op: '>=', value: x },
      { column: col, op: '<=', value: y },
    ];
  }
  return undefined;
}

/** An untyped literal read as `type`, as PostgreSQL resolves `col op 'literal'`. */
function castText(text: string, type: EdgeType, scope: Scope): Value {
  return compile({ TypeCast: { arg: { A_Const: { sval: { sval: text } } }, typeName: { names: [{ String: { sval: type } }] } } }, scope).eval([], 0);
}
