/**
 * @module sql/rewrite/gapfill-markers
 * The `locf` and `interpolate` calls of a gap-filling query (TimescaleDB's "marker functions") and
 * which calls are aggregates. Aggregates are known by name (PostgreSQL 18's `pg_aggregate` plus
 * TimescaleDB's `first`, `last`, `histogram`) or by aggregate-only syntax (`*`, DISTINCT, ORDER BY,
 * FILTER, WITHIN GROUP); a user-defined aggregate called without that syntax is not recognised.
 */
import { OrbitError } from '../../errors.js';
import { SqlState } from '../../sqlstate.js';
import { as, clone, funcName, kind, type Fields, type Node } from './ast.js';

/** `SELECT DISTINCT proname FROM pg_proc WHERE prokind = 'a'` on PostgreSQL 18, and TimescaleDB's. */
const AGGREGATES = new Set(
  (
    'any_value array_agg avg bit_and bit_or bit_xor bool_and bool_or corr count covar_pop covar_samp cume_dist dense_rank every ' +
    'json_agg json_agg_strict json_object_agg json_object_agg_strict json_object_agg_unique json_object_agg_unique_strict jsonb_agg ' +
    'jsonb_agg_strict jsonb_object_agg jsonb_object_agg_strict jsonb_object_agg_unique jsonb_object_agg_unique_strict max min mode ' +
    'percent_rank percentile_cont percentile_disc range_agg range_intersect_agg rank regr_avgx regr_avgy regr_count regr_intercept ' +
    'regr_r2 regr_slope regr_sxx regr_sxy regr_syy stddev stddev_pop stddev_samp string_agg sum var_pop var_samp variance xmlagg ' +
    'first last histogram'
  ).split(' '),
);

export function isAggregateCall(node: Node): boolean {
  const call = as<Fields>(node, 'FuncCall');
  if (!call || call.over) return false;
  if (call.agg_star || call.agg_distinct || call.agg_order || call.agg_filter || call.agg_within_group) return true;
  return AGGREGATES.has(funcName(node)!);
}

export interface Marker {
  readonly kind: 'locf' | 'interpolate';
  readonly index: number;
  /** The function name as written (schema included), reused for the value's type resolution. */
  readonly funcname: Node[];
  readonly value: Node;
  readonly prev?: Node;
  readonly next?: Node;
  readonly treatNullAsMissing: boolean;
}

const PARAMS = { locf: ['value', 'prev', 'treat_null_as_missing'], interpolate: ['value', 'prev', 'next'] } as const;

export function parseMarker(node: Node, index: number): Marker {
  const call = as<{ funcname: Node[]; args?: Node[] }>(node, 'FuncCall')!;
  const name = funcName(node) as 'locf' | 'interpolate';
  const args = new Map<string, Node>();
  (call.args ?? []).forEach((arg, i) => {
    const n = as<{ name: string; arg: Node }>(arg, 'NamedArgExpr');
    if (n) args.set(n.name.toLowerCase(), n.arg);
    else if (PARAMS[name][i]) args.set(PARAMS[name][i]!, arg);
  });
  const value = args.get('value');
  if (!value) throw new OrbitError(SqlState.undefined_function, `function ${name}() does not exist`);
  const optional = (key: string) => {
    const arg = args.get(key);
    return arg === undefined || isNull(arg) ? undefined : clone(arg);
  };
  return {
    kind: name,
    index,
    funcname: call.funcname,
    value,
    prev: optional('prev'),
    next: name === 'interpolate' ? optional('next') : undefined,
    treatNullAsMissing: name === 'locf' ? treatNullAsMissing(args.get('treat_null_as_missing')) : false,
  };
}

function isNull(node: Node): boolean {
  const cast = as<{ arg: Node }>(node, 'TypeCast');
  return as<{ isnull?: boolean }>(cast ? cast.arg : node, 'A_Const')?.isnull === true;
}

/**
 * `treat_null_as_missing` must be a boolean constant (`locf.c`); NULL means false. An integer does
 * not match `locf`'s signature at all, so PostgreSQL's resolution error is what TimescaleDB reports.
 */
function treatNullAsMissing(node: Node | undefined): boolean {
  if (node === undefined) return false;
  const cast = as<{ arg: Node; typeName: Fields }>(node, 'TypeCast');
  const typeName = cast ? ((cast.typeName.names as Node[]).map((n) => as<{ sval: string }>(n, 'String')?.sval).pop() ?? '') : 'bool';
  const c = as<Fields>(cast ? cast.arg : node, 'A_Const');
  if (c && (typeName === 'bool' || typeName === 'boolean')) {
    if (c.isnull) return false;
    if (c.boolval !== undefined) return (c.boolval as { boolval?: boolean }).boolval === true;
    if (c.sval !== undefined) {
      const text = String((c.sval as { sval?: string }).sval ?? '').trim().toLowerCase();
      if (['t', 'tr', 'tru', 'true', 'y', 'ye', 'yes', 'on', '1'].includes(text)) return true;
      if (['f', 'fa', 'fal', 'fals', 'false', 'n', 'no', 'of', 'off', '0'].includes(text)) return false;
      throw new OrbitError(SqlState.invalid_text_representation, `invalid input syntax for type boolean: "${text}"`);
    }
  }
  if (!cast && c && (c.ival !== undefined || c.fval !== undefined)) {
    throw new OrbitError(SqlState.undefined_function, 'function locf(…, treat_null_as_missing => integer) does not exist', {
      hint: 'No function matches the given name and argument types. You might need to add explicit type casts.',
    });
  }
  if (kind(node) !== undefined) {
    throw new OrbitError(SqlState.feature_not_supported, 'invalid locf argument: treat_null_as_missing must be a BOOL literal');
  }
  return false;
}
