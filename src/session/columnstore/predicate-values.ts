/**
 * @module session/columnstore/predicate-values
 * The constants of WHERE predicates on columns (sql/planner/predicates.ts) as PostgreSQL evaluates
 * them, in the stored representation of their column, and whether comparing the stored values with
 * them is PostgreSQL's comparison. Which operator PostgreSQL picks depends on the constant's type:
 * `real_col > 0.1` (numeric) and `real_col > 5` compare as float8 (float48gt), `real_col > '0.1'`
 * (a bare literal, of type unknown) as float4; `real_col IN (0.1, 0.2)` casts the list to the
 * common type float4. So every constant's type is read with its value (`pg_typeof`), and only the
 * pairs whose comparison Orbit reproduces exactly are accepted; the others leave the statement to
 * PostgreSQL (the scan path: the conjunct only PostgreSQL evaluates).
 */
import type { RowPredicate } from '../../columnstore/row-filter.js';
import type { PlannerColumn } from '../../sql/planner/table.js';
import type { ColumnPredicate } from '../../sql/planner/predicates.js';
import { quoteLiteral } from '../settings.js';

/**
 * A bare string literal or NULL (as the deparser prints them): of type unknown, it takes the type
 * of the column it is compared with.
 */
function untyped(sql: string): boolean {
  return sql === 'NULL' || /^'(?:[^']|'')*'$/.test(sql);
}

/** Constant types whose comparison with a column of pg_type `typname` Orbit evaluates on the stored values. */
const TYPES: Readonly<Record<string, readonly string[]>> = {
  int2: ['smallint', 'integer', 'bigint'],
  int4: ['smallint', 'integer', 'bigint'],
  int8: ['smallint', 'integer', 'bigint'],
  // Integers and numeric are cast to float8, as the float8 operators PostgreSQL picks cast them.
  float8: ['smallint', 'integer', 'bigint', 'real', 'double precision', 'numeric'],
  // float48 operators (float4 widened exactly) for all but real and unknown, which are float4's own.
  float4: ['smallint', 'integer', 'bigint', 'real', 'double precision', 'numeric'],
  // A timestamp or date converts to timestamptz in the session's time zone, as the cross-type operators do.
  timestamptz: ['timestamp with time zone', 'timestamp without time zone', 'date'],
  timestamp: ['timestamp without time zone', 'date'],
  date: ['date'],
  bool: ['boolean'],
  text: ['text', 'character varying'],
  varchar: ['text', 'character varying'],
};

/** The constant types (pg_typeof's text) compared with a column of pg_type `typname` as their cast to it (none: not compared here). */
export function exactConstantTypes(typname: string): readonly string[] | undefined {
  return TYPES[typname];
}

/**
 * Whether predicate `op` on `column` with constants `sql` of PostgreSQL types `types` (pg_typeof)
 * compares as Orbit compares the values `valueSql` gives.
 */
export function accepted(column: PlannerColumn, op: ColumnPredicate['op'], types: readonly string[], sql: readonly string[]): boolean {
  const known = TYPES[column.typname];
  if (!known || !types.every((t, i) => (t === 'unknown' ? untyped(sql[i]!) : known.includes(t)))) return false;
  // A real column IN a list of several: the list is cast to the common type of the column and its
  // items, float4 unless one is float8 (then float8, where a literal would be read as float8 too).
  if (column.typname === 'float4' && op === 'in' && types.length > 1) return types.every((t) => t === 'real' || t === 'unknown') || types.every((t) => t === 'real' || t === 'double precision');
  return true;
}

/**
 * A bytea expression as json prints it under the default bytea_output ("\\x…" hex), whatever the
 * session's bytea_output: under 'escape' the send forms came back escaped, read as garbage.
 */
export function hexSql(bytea: string): string {
  return `(E'\\\\x' || encode(${bytea}, 'hex'))`;
}

/** SQL giving constant `c` in the column's stored representation (binary send form, as hexSql, or text). */
export function valueSql(column: PlannerColumn, c: string): string {
  // An unknown literal is read by the column's type's input, as PostgreSQL reads it for the comparison.
  const own = untyped(c) ? `::${column.type}` : '';
  switch (column.typname) {
    case 'int2':
    case 'int4':
    case 'int8':
      return hexSql(`int8send((${c})${own}::int8)`);
    case 'float8':
      return hexSql(`float8send((${c})::float8)`);
    case 'float4':
      return hexSql(`float8send((${c})${own}::float8)`);
    case 'timestamptz':
      return hexSql(`timestamptz_send((${c})::timestamptz)`);
    case 'timestamp':
      return hexSql(`timestamp_send((${c})::timestamp)`);
    case 'date':
      return hexSql(`date_send((${c})::date)`);
    case 'bool':
      return `(${c})::bool`;
    default:
      return `(${c})::text`;
  }
}

/** A value read back from `valueSql` (json: bytea as "\\x…" hex). */
export function valueOf(column: PlannerColumn, v: unknown): number | bigint | string | boolean | null {
  if (v === null) return null;
  if (typeof v === 'boolean') return v;
  const s = String(v);
  const binary = (): DataView => {
    const hex = s.slice(2);
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    return new DataView(bytes.buffer);
  };
  switch (column.typname) {
    case 'int2':
    case 'int4':
      return Number(binary().getBigInt64(0));
    case 'int8':
    case 'timestamptz':
    case 'timestamp':
      return binary().getBigInt64(0);
    case 'float8':
    case 'float4':
      return binary().getFloat64(0);
    case 'date':
      return binary().getInt32(0);
    default:
      return s;
  }
}

/** A predicate with its constants' values read back (`valueOf`). */
export function rowPredicate(p: ColumnPredicate, values: ReadonlyArray<number | bigint | string | boolean | null>): RowPredicate {
  return p.op === 'is null' || p.op === 'is not null' ? { op: p.op } : { op: p.op, values };
}

/**
 * One SQL expression (a json array) evaluating the predicates for the aggregate kernels: per
 * predicate `[types, values, deterministic]` — its constants' pg_typeof, their `valueSql`, and
 * whether its column's collation is deterministic (text equality is then byte equality). `rel`:
 * the hypertable's regclass literal.
 */
export function predicateInputsSql(predicates: readonly ColumnPredicate[], rel: string): string {
  return `json_build_array(${predicates
    .map((p) => {
      const collation = p.column.typname === 'text' || p.column.typname === 'varchar' ? `(SELECT co.collisdeterministic FROM pg_attribute a JOIN pg_collation co ON co.oid = a.attcollation WHERE a.attrelid = ${rel}::regclass AND a.attname = ${quoteLiteral(p.column.name)})` : 'true';
      return `json_build_array(json_build_array(${p.sql.map((c) => `pg_typeof(${c})::text`).join(', ')}), json_build_array(${p.sql.map((c) => valueSql(p.column, c)).join(', ')}), ${collation})`;
    })
    .join(', ')})`;
}

/** The row predicates from `predicateInputsSql`'s answer; undefined when one is not Orbit's to evaluate. */
export function rowPredicates(predicates: readonly ColumnPredicate[], answer: ReadonlyArray<[string[], unknown[], boolean | null]>): RowPredicate[] | undefined {
  const out: RowPredicate[] = [];
  for (let k = 0; k < predicates.length; k++) {
    const p = predicates[k]!;
    const [types, values, deterministic] = answer[k]!;
    if (deterministic !== true || !accepted(p.column, p.op, types, p.sql)) return undefined;
    out.push(rowPredicate(p, values.map((v) => valueOf(p.column, v))));
  }
  return out;
}
