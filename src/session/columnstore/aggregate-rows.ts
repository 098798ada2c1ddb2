/**
 * @module session/columnstore/aggregate-rows
 * An aggregate's result rows made from the kernels' partials, without PostgreSQL's final statement
 * (sql/planner/aggregate-plan.ts `direct`, direct-shape.ts): for a statement that outputs only group keys and
 * aggregates, ordered by all the keys or not at all, when every group's partials are the kernels'
 * alone (one partial row per group: the final statement's `rowwise` mode). Each value is what that
 * statement computes from the partial row — the same expressions, evaluated in JavaScript — printed
 * as PostgreSQL prints it (columnstore/pg-text.ts) or converted as the in-process parsers would.
 * Undefined whenever that cannot be exact (a type or setting pg-text.ts does not print, a text
 * order other than the bytes', a value PostgreSQL would refuse): the caller runs the statement.
 */
import type { Column, PgType } from '../../columnstore/columns.js';
import { DataRowWriter } from '../../columnstore/data-rows.js';
import { formatterOf, TYPE_OIDS, UTC_ZONES, type Formatter, type ValueOf } from '../../columnstore/pg-text.js';
import { ObjectRows } from '../../columnstore/row-objects.js';
import type { AggState, GroupPartial, Partials } from '../../columnstore/kernels/partials.js';
import type { AggregatePlan } from '../../sql/planner/aggregate-plan.js';
import type { PrintedRows } from './scan.js';

/**
 * SQL of a JSON array of what decides whether rows can be printed: extra_float_digits, DateStyle,
 * TimeZone, client_encoding, and whether the database's collation orders text by its bytes.
 */
export const DIRECT_SETTINGS_SQL =
  "json_build_array(current_setting('extra_float_digits'), current_setting('DateStyle'), current_setting('TimeZone'), current_setting('client_encoding'), " +
  "(SELECT datlocprovider = 'c' AND datcollate IN ('C', 'POSIX') FROM pg_database WHERE datname = current_database()))";

/** Group key types (kernel keys: number, bigint, boolean, string) this module orders and prints. */
const KEY_TYPES = new Set<string>(['int2', 'int4', 'int8', 'bool', 'date', 'timestamp', 'timestamptz', 'text', 'varchar']);
/** Value types of min/max and first/last results printed here. */
const VALUE_TYPES = new Set<string>(['int2', 'int4', 'int8', 'float4', 'float8', 'bool', 'date', 'timestamp', 'timestamptz', 'text', 'varchar']);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Thrown inside `directRows` when a value cannot be given exactly: the caller runs the statement. */
class NotExact extends Error {}

/** One output column: its type and how a group's partials give its value (null: NULL). */
interface Output {
  readonly type: PgType;
  value(g: GroupPartial): number | bigint | string | boolean | null;
}

/**
 * The rows of `plan.direct` from `partials` (the kernels' alone, one per group), printed as DataRow
 * messages or — with `values` (in-process) — as JS objects; undefined when not exact.
 * `settings`: the values of DIRECT_SETTINGS_SQL; `limit`: the LIMIT of a `limited` shape as
 * PostgreSQL evaluated it (null: LIMIT NULL, all rows).
 */
export function directRows(plan: AggregatePlan, partials: Partials | null, settings: readonly unknown[], values?: (oid: number) => ValueOf, limit?: number | null): PrintedRows | undefined {
  const shape = plan.direct;
  if (!shape) return undefined;
  // Not evaluated, or negative (PostgreSQL's error comes from its final statement).
  if (shape.limited && (limit === undefined || (limit !== null && !(limit >= 0)))) return undefined;
  const [extraFloatDigits, dateStyle, timeZone, clientEncoding, byteOrder] = settings;
  if (Number(extraFloatDigits) <= 0 || !/^ISO\b/.test(String(dateStyle)) || clientEncoding !== 'UTF8') return undefined;
  const timeType = plan.table.columns.find((c) => c.name === plan.table.timeColumn)!.typname;
  const typeOf = (g: number): string => {
    const group = plan.groups[g]!;
    return group.kind === 'bucket' ? timeType : group.column.typname;
  };
  // The kernels' key index of each group (the bucket is held apart).
  const keyIndex: number[] = [];
  let k = 0;
  for (const g of plan.groups) keyIndex.push(g.kind === 'bucket' ? -1 : k++);
  const keyOf = (gp: GroupPartial, g: number): unknown => (keyIndex[g]! < 0 ? gp.bucket : gp.key[keyIndex[g]!]);
  for (let g = 0; g < plan.groups.length; g++) {
    const t = typeOf(g);
    if (plan.groups[g]!.kind === 'bucket' ? t !== 'timestamptz' && t !== 'timestamp' : !KEY_TYPES.has(t)) return undefined;
  }
  if (shape.order?.some((o) => typeOf(o.group) === 'text' || typeOf(o.group) === 'varchar') && byteOrder !== true) return undefined;

  const outputs: Output[] = [];
  for (const c of shape.columns) {
    const out = 'group' in c ? groupOutput(typeOf(c.group), (gp) => keyOf(gp, c.group)) : aggregateOutput(plan, c.aggregate);
    if (!out) return undefined;
    outputs.push(out);
  }
  if (outputs.some((o) => o.type === 'timestamptz') && !UTC_ZONES.has(String(timeZone))) return undefined;

  let groups = [...(partials?.groups.values() ?? [])];
  if (shape.order) {
    // Each key's values ranked once (few distinct values: buckets, hosts), then the groups sorted
    // by the ranks: comparing BigInts and strings in the sort took longer than the rest.
    const ranks = shape.order.map((o) => {
      const compare = compareOf(typeOf(o.group));
      const distinct = [...new Set(groups.map((gp) => keyOf(gp, o.group)).filter((v) => v !== null))].sort(compare);
      const rankOf = new Map<unknown, number>(distinct.map((v, r) => [v, r]));
      // NULL first or last whatever the direction (a descending key's ranks are negated below).
      const nullRank = o.nullsFirst !== o.desc ? -1 : distinct.length;
      const sign = o.desc ? -1 : 1;
      return Float64Array.from(groups, (gp) => {
        const v = keyOf(gp, o.group);
        return sign * (v === null ? nullRank : rankOf.get(v)!);
      });
    });
    const index = Array.from(groups, (_, i) => i);
    index.sort((a, b) => {
      for (const r of ranks) {
        const c = r[a]! - r[b]!;
        if (c !== 0) return c;
      }
      return 0;
    });
    const sorted = groups;
    groups = index.map((i) => sorted[i]!);
  }
  if (shape.limited && limit !== null && limit !== undefined && groups.length > limit) groups = groups.slice(0, limit);
  let columns: Column[];
  try {
    columns = outputs.map((o) => columnOf(o, groups));
  } catch (err) {
    if (err instanceof NotExact) return undefined;
    throw err;
  }
  const formats = outputs.map((o) => formatterOf(o.type)!);
  const names = shape.columns.map((c) => c.name);
  const types = outputs.map((o) => TYPE_OIDS[o.type]!);
  const positional = outputs.map(() => false);
  if (values) {
    // Two columns of one name: which one an object keeps is the reader's business.
    if (new Set(names).size !== names.length) return undefined;
    const objects = new ObjectRows(names);
    objects.append(columns, formats as Formatter[], types.map(values), undefined, groups.length, positional);
    return { messages: [], objects: objects.rows, count: groups.length, names, types };
  }
  const writer = new DataRowWriter(Math.max(1 << 12, groups.length * outputs.length * 12));
  writer.append(columns, formats as Formatter[], undefined, groups.length, positional);
  return { messages: writer.bytes(), count: groups.length, names, types };
}

/** A group key column: the kernel's key as the column holds it. */
function groupOutput(typname: string, key: (g: GroupPartial) => unknown): Output {
  const type = typname as PgType;
  return { type, value: (g) => key(g) as number | bigint | string | boolean | null };
}

/**
 * An aggregate's result from its one partial row, as the final statement's `rowwise` expressions
 * (aggregate-merges.ts rowExpr) compute it; undefined for results not given here (numeric averages,
 * float4 sums, types pg-text.ts does not print).
 */
function aggregateOutput(plan: AggregatePlan, index: number): Output | undefined {
  const a = plan.aggregates[index]!;
  const typname = a.column ? plan.table.columns.find((c) => c.name === a.column)!.typname : 'int8';
  const state = (g: GroupPartial): AggState => g.states[index]!;
  switch (a.fn) {
    case 'count':
      return { type: 'int8', value: (g) => BigInt(state(g).count) };
    case 'sum':
      if (typname === 'float8') return { type: 'float8', value: (g) => (state(g).count > 0 ? (state(g).sum as number) : null) };
      if (typname === 'int2' || typname === 'int4') {
        return {
          type: 'int8',
          value: (g) => {
            const st = state(g);
            if (st.count === 0) return null;
            // PostgreSQL's int8 input refuses it ("out of range"): its error, not a value.
            if ((st.sum as bigint) < INT64_MIN || (st.sum as bigint) > INT64_MAX) throw new NotExact();
            return st.sum as bigint;
          },
        };
      }
      // sum(int8) is numeric: the exact integer's digits are its text.
      if (typname === 'int8') return { type: 'numeric', value: (g) => (state(g).count > 0 ? String(state(g).sum) : null) };
      return undefined;
    case 'avg':
      if (typname !== 'float8' && typname !== 'float4') return undefined;
      return {
        type: 'float8',
        value: (g) => {
          const st = state(g);
          // float8_avg: the sum over the count, unchecked (avg(5e-324, 0) is 0, not an underflow);
          // float8_accum's sum starts at +0, so -0 inputs alone average to 0.
          return st.count === 0 ? null : ((st.sum as number) + 0) / st.count;
        },
      };
    case 'min':
    case 'max':
      if (!VALUE_TYPES.has(typname)) return undefined;
      return { type: typname as PgType, value: (g) => (state(g).count > 0 ? (state(g).value as number | bigint | string | boolean | null) : null) };
    case 'first':
    case 'last':
      if (!VALUE_TYPES.has(typname)) return undefined;
      return { type: typname as PgType, value: (g) => (state(g).time === null ? null : (state(g).value as number | bigint | string | boolean | null)) };
  }
}

/** Ascending order of a key type's non-NULL values as PostgreSQL orders them (text: by its bytes, C collation). */
function compareOf(typname: string): (x: unknown, y: unknown) => number {
  if (typname === 'text' || typname === 'varchar') return (x, y) => compareCodePoints(x as string, y as string);
  if (typname === 'bool') return (x, y) => Number(x) - Number(y);
  return (x, y) => ((x as number | bigint) < (y as number | bigint) ? -1 : (x as number | bigint) > (y as number | bigint) ? 1 : 0);
}

/**
 * Code point order, which is UTF-8's byte order (strcmp under the C collation); JavaScript's `<`
 * compares UTF-16 units, which puts U+E000–U+FFFF after the surrogate pairs of U+10000 and above.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const sx = x >= 0xd800 && x <= 0xdfff;
    const sy = y >= 0xd800 && y <= 0xdfff;
    // A surrogate (U+10000 and above) against U+E000–U+FFFF: the surrogate's code point is greater.
    if (sx !== sy && (x >= 0xe000 || y >= 0xe000)) return sx ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** An output column of the groups' values, as the type's Column (NULLs in the bitmap). */
function columnOf(o: Output, groups: readonly GroupPartial[]): Column {
  const n = groups.length;
  const nulls = new Uint8Array((n + 7) >> 3);
  let anyNull = false;
  // A kernel value held otherwise than the type's column holds it: not printed here.
  const fill = <A extends { [i: number]: unknown }>(values: A, kind: 'number' | 'bigint' | 'string' | 'boolean', convert: (v: unknown) => unknown = (v) => v): A => {
    for (let i = 0; i < n; i++) {
      const v = o.value(groups[i]!);
      if (v === null) {
        nulls[i >> 3]! |= 1 << (i & 7);
        anyNull = true;
      } else if (typeof v !== kind) throw new NotExact();
      else values[i] = convert(v);
    }
    return values;
  };
  const column = (values: unknown): Column => ({ type: o.type, values, nulls: anyNull ? nulls : null }) as Column;
  switch (o.type) {
    case 'int2':
      return column(fill(new Int16Array(n), 'number'));
    case 'int4':
    case 'date':
      return column(fill(new Int32Array(n), 'number'));
    case 'float4':
      return column(fill(new Float32Array(n), 'number'));
    case 'float8':
      return column(fill(new Float64Array(n), 'number'));
    case 'int8':
    case 'timestamp':
    case 'timestamptz':
      return column(fill(new BigInt64Array(n), 'bigint'));
    case 'bool':
      return column(fill(new Uint8Array(n), 'boolean', (v) => (v ? 1 : 0)));
    case 'text':
    case 'varchar':
    case 'numeric':
      return column(fill(new Array<string>(n).fill(''), 'string'));
    default:
      throw new NotExact();
  }
}
