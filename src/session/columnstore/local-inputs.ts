/**
 * @module session/columnstore/local-inputs
 * The kernels' inputs of an aggregate (fast-path.ts, `aggregateInputsSql`) evaluated by Orbit
 * itself, without a round trip to PostgreSQL, when PostgreSQL could only give one answer: the
 * table's facts are kept and still hold with nothing run since (facts.ts, `FactsCache.quiet`), the
 * rowstore is empty, and every constant is a literal of a form whose value does not depend on
 * anything but its text — an ISO 8601 timestamp (with an offset, or in a UTC session), a whole
 * number of seconds, minutes, hours, days or weeks, a string for a text column, an integer (and in
 * row predicates a plain decimal against a float column, true/false, NULL: `predicateValues`). Any
 * other constant, and every constant PostgreSQL would refuse, is left to PostgreSQL (undefined), so
 * its value and its errors stay PostgreSQL's.
 *
 * Why: for a small aggregate (one host, one hour) that statement was half of the query's time on a
 * warm process and most of it on a fresh one, where PostgreSQL's WebAssembly still runs unoptimised
 * (docs/benchmarks.md).
 */
import type { AggregatePlan } from '../../sql/planner/aggregate-plan.js';
import type { ConstantFilter } from '../../sql/planner/filters.js';
import type { PlannerColumn } from '../../sql/planner/table.js';
import type { ColumnPredicate } from '../../sql/planner/predicates.js';
import { parseTimestamp } from '../../columnstore/text-input.js';
import { defaultCollations, type TableFacts } from './facts.js';

/**
 * `aggregateInputsSql(plan)`'s values in the full form's layout, computed from kept `facts` and the
 * print settings PostgreSQL gave under the session's settings (PRINT_SETTINGS_SQL's values);
 * undefined when PostgreSQL must evaluate them.
 */
export function localInputs(plan: AggregatePlan, facts: TableFacts, settings: readonly unknown[]): unknown[] | undefined {
  // Rowstore rows: the final statement is PostgreSQL's anyway, and its EXISTS depends on the WHERE.
  if (facts.rowstoreRows || plan.bucketOrder) return undefined;
  const utc = settings[2] === 'UTC';
  const values: unknown[] = [facts.keys];
  if (plan.bucketWidthSql !== undefined) {
    const micros = widthMicros(plan.bucketWidthSql);
    if (micros === undefined) return undefined;
    values.push(String(micros), 0);
  }
  const time = plan.table.columns.find((c) => c.name === plan.table.timeColumn)!;
  for (const f of plan.filters) {
    const value = f.column === plan.table.timeColumn && f.op !== 'in' ? timeValue(f, time, utc) : listValue(f, plan.table.columns.find((c) => c.name === f.column)!);
    if (value === undefined) return undefined;
    values.push(value);
  }
  if (plan.predicates.length > 0) {
    const predicates = plan.predicates.map((p) => predicateValues(p, facts));
    if (predicates.some((p) => p === undefined)) return undefined;
    values.push(predicates);
  }
  const groupColumns = plan.groups.flatMap((g) => (g.kind === 'column' ? [g.column.name] : []));
  values.push(false, defaultCollations(facts, groupColumns), [...settings, facts.byteOrder]);
  return values;
}

/** A literal's text and the type it is cast to (undefined: none), when `sql` is one (the deparser's forms). */
function literal(sql: string): { text: string; cast?: string } | undefined {
  const m = /^(?:'((?:[^']|'')*)'(?:::([a-z][a-z0-9 ]*))?|CAST\('((?:[^']|'')*)' AS ([a-z][a-z0-9 ]*)\))$/.exec(sql);
  if (!m) return undefined;
  const text = (m[1] ?? m[3]!).replace(/''/g, "'");
  const cast = m[2] ?? m[4];
  return cast === undefined ? { text } : { text, cast };
}

/** Type names a literal may be cast to and keep the column's type (`column.typname` → spellings). */
const SAME_TYPE: Readonly<Record<string, readonly string[]>> = {
  timestamptz: ['timestamptz', 'timestamp with time zone'],
  timestamp: ['timestamp', 'timestamp without time zone'],
  text: ['text'],
  interval: ['interval'],
  int2: ['int2', 'smallint'],
  int4: ['int4', 'integer'],
  int8: ['int8', 'bigint'],
};

function castKeeps(cast: string | undefined, typname: string): boolean {
  return cast === undefined || (SAME_TYPE[typname]?.includes(cast) ?? false);
}

/** A time bound as the kernels take it (µs since 2000-01-01, as text). */
function timeValue(f: ConstantFilter, column: PlannerColumn, utc: boolean): string | undefined {
  const lit = literal(f.sql as string);
  if (!lit || !castKeeps(lit.cast, column.typname)) return undefined;
  if (column.typname !== 'timestamptz' && column.typname !== 'timestamp') return undefined;
  // Without an offset a timestamptz literal is read in the session's time zone: only UTC is known here.
  const micros = parseTimestamp(lit.text, column.typname === 'timestamptz', utc);
  return micros === undefined ? undefined : String(micros);
}

/** Bounds of the integer types, as PostgreSQL checks them on input. */
const INT_BITS: Readonly<Record<string, bigint>> = { int2: 15n, int4: 31n, int8: 63n };

/** The values of an `=` or IN filter on a segment column, as PostgreSQL prints them (`::text`). */
function listValue(f: ConstantFilter, column: PlannerColumn): Array<string | null> | undefined {
  const out: Array<string | null> = [];
  for (const sql of typeof f.sql === 'string' ? [f.sql] : f.sql) {
    if (sql === 'NULL') {
      out.push(null);
      continue;
    }
    const bits = INT_BITS[column.typname];
    if (bits !== undefined) {
      // An integer literal, or a string of its digits cast to the column's own type (a bound
      // value, session/bound-literals.ts): other strings go through the type's input function.
      const lit = literal(sql);
      const digits = lit ? (lit.cast !== undefined && castKeeps(lit.cast, column.typname) ? lit.text : undefined) : sql;
      if (digits === undefined || !/^-?[0-9]{1,19}$/.test(digits)) return undefined;
      const v = BigInt(digits);
      if (v < -(1n << bits) || v >= 1n << bits) return undefined;
      out.push(String(v));
      continue;
    }
    // text (not varchar(n), whose input may cut or refuse a value): the string itself.
    const lit = column.typname === 'text' && column.type === 'text' ? literal(sql) : undefined;
    if (!lit || !castKeeps(lit.cast, 'text')) return undefined;
    out.push(lit.text);
  }
  return out;
}

/** Units of a whole-number interval whose length is fixed (no months: those are calendar-dependent). */
const UNIT_MICROS: Readonly<Record<string, number>> = {
  second: 1e6, seconds: 1e6, sec: 1e6, secs: 1e6,
  minute: 6e7, minutes: 6e7, min: 6e7, mins: 6e7,
  hour: 3.6e9, hours: 3.6e9, hr: 3.6e9, hrs: 3.6e9,
  day: 864e8, days: 864e8,
  week: 6048e8, weeks: 6048e8,
};

/** time_bucket's width `N unit` in µs (days as 24 h, as EXTRACT(EPOCH) counts them); undefined otherwise. */
function widthMicros(sql: string): number | undefined {
  const lit = literal(sql);
  if (!lit || !castKeeps(lit.cast, 'interval')) return undefined;
  const m = /^\s*([0-9]{1,6})\s+([a-z]+)\s*$/i.exec(lit.text);
  const unit = m && UNIT_MICROS[m[2]!.toLowerCase()];
  const n = m ? Number(m[1]) : 0;
  // A zero width is time_bucket's error: PostgreSQL's to raise.
  return unit && n > 0 ? n * unit : undefined;
}

/**
 * A row predicate's entry of `predicateInputsSql` ([types, values, deterministic]) when its
 * constants are literals whose type and value PostgreSQL gives from their text alone: integers
 * (integer within int4, else bigint) against integer or float columns, plain decimals (numeric)
 * against float columns, true/false against bool, strings against text columns of the default
 * collation, NULL. Undefined otherwise.
 */
function predicateValues(p: ColumnPredicate, facts: TableFacts): [string[], unknown[], boolean] | undefined {
  const t = p.column.typname;
  const text = t === 'text' || t === 'varchar';
  if (text && facts.defaultCollation[p.column.name] !== true) return undefined;
  const types: string[] = [];
  const values: unknown[] = [];
  for (const c of p.sql) {
    const v = c === 'NULL' ? { type: 'unknown', value: null } : literalValue(c, t);
    if (!v) return undefined;
    types.push(v.type);
    values.push(v.value);
  }
  return [types, values, true];
}

/** `valueSql`'s json value of literal `c` against a column of pg_type `typname`, with its pg_typeof. */
function literalValue(c: string, typname: string): { type: string; value: unknown } | undefined {
  const float = typname === 'float8' || typname === 'float4';
  if (/^-?[0-9]{1,19}$/.test(c)) {
    const n = BigInt(c);
    const type = n >= -(2n ** 31n) && n < 2n ** 31n ? 'integer' : n >= -(2n ** 63n) && n < 2n ** 63n ? 'bigint' : undefined;
    if (!type) return undefined;
    if (INT_BITS[typname] !== undefined) return { type, value: sendHex((v) => v.setBigInt64(0, n)) };
    // int8 to float8 rounds as Number() does, but keep to exact values.
    if (float && n >= -(2n ** 53n) && n <= 2n ** 53n) return { type, value: sendHex((v) => v.setFloat64(0, Number(n))) };
    return undefined;
  }
  if (float && /^-?(?:[0-9]+\.[0-9]*|\.[0-9]+)$/.test(c)) {
    // numeric to float8 is the correctly rounded double of its text, as Number() reads it (no -0 in numeric).
    const x = Number(c) + 0;
    if (!(x === 0 || (Math.abs(x) > 1e-300 && Math.abs(x) < 1e300))) return undefined;
    return { type: 'numeric', value: sendHex((v) => v.setFloat64(0, x)) };
  }
  if (typname === 'bool' && (c === 'true' || c === 'false')) return { type: 'boolean', value: c === 'true' };
  const lit = typname === 'text' || typname === 'varchar' ? literal(c) : undefined;
  if (lit && lit.cast === undefined) return { type: 'unknown', value: lit.text };
  return undefined;
}

/** 8 bytes written big-endian by `write`, as json prints a bytea ("\\x…"). */
function sendHex(write: (v: DataView) => void): string {
  const v = new DataView(new ArrayBuffer(8));
  write(v);
  let hex = '\\x';
  for (let i = 0; i < 8; i++) hex += v.getUint8(i).toString(16).padStart(2, '0');
  return hex;
}
