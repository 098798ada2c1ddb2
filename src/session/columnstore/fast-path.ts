/**
 * @module session/columnstore/fast-path
 * Aggregates in the kernels (src/sql/planner/aggregates.ts) run over compressed chunks: returns the
 * statement that PostgreSQL finishes, or undefined when the chunks or values do not allow it (the
 * caller falls back to the cache tables). The kernel values' text forms (valueText, arrayLiteral)
 * serve the last point too (last-point.ts).
 */
import { OrbitError } from '../../errors.js';
import type { Scalar } from '../../columnstore/columns.js';
import { aggregateChunks, anyMayOverflow, type AggregateCall, type Filter, type KernelBackend, type Partials, type RowFilter, type TimeBucketSpec } from '../../columnstore/kernels/index.js';
import type { ColumnStore } from '../../columnstore/store.js';
import type { AggregatePlan, FinalMode } from '../../sql/planner/aggregate-plan.js';
import { SqlState } from '../../sqlstate.js';
import { dateText, timestampText, type ValueOf } from '../../columnstore/pg-text.js';
import { DIRECT_SETTINGS_SQL, directRows } from './aggregate-rows.js';
import type { PrintedRows } from './scan.js';
import { quoteIdent, type InternalRunner } from '../internal-sql.js';
import { escapeLiteral, quoteLiteral } from '../settings.js';
import { defaultCollations, factsSql, PRINT_SETTINGS_SQL, PROBE_SQL, withFacts, type FactsCache, type FactsMode, type TableFacts } from './facts.js';
import { localInputs } from './local-inputs.js';
import { exactTimeSql } from './time-constants.js';
import { predicateInputsSql, rowPredicates } from './predicate-values.js';
import { readLiveManifests } from './live-columns.js';

/**
 * What the kernels need evaluated by PostgreSQL (with the session's settings), as one
 * `json_build_array(…)`: the chunks' manifest keys, the bucket width, the filters' constants.
 * `facts` (facts.ts): undefined or `'probe'` for the full form (whose answer the reuse
 * of results compares; `'probe'` adds the probe); else the keys, collations and the database's
 * text order are left out (NULL) and the probe and — `'read'` — the table's facts end the array
 * (`inputValues` puts them back in place), and kept facts of an empty rowstore leave out its EXISTS too.
 */
export function aggregateInputsSql(plan: AggregatePlan, facts?: FactsMode): string {
  const lean = facts !== undefined && facts !== 'probe';
  const time = plan.table.columns.find((c) => c.name === plan.table.timeColumn)!;
  // NULL (PostgreSQL answers) for a constant whose cast would not compare as PostgreSQL does (time-constants.ts).
  const micros = (sql: string) => exactTimeSql(sql, time.typname, `((EXTRACT(EPOCH FROM (${sql})::${time.type}) - 946684800) * 1000000)::int8::text`);
  const exprs: string[] = [
    lean
      ? 'NULL'
      : `(SELECT json_agg(cc.manifest ORDER BY ch.range_start) FROM _timescaledb_catalog.chunk ch JOIN _timescaledb_catalog.orbit_columnstore_chunk cc ON cc.id = ch.compressed_chunk_id WHERE ch.hypertable_id = ${plan.table.id} AND NOT ch.dropped)`,
  ];
  if (plan.bucketWidthSql !== undefined) {
    const w = `(${plan.bucketWidthSql})::interval`;
    exprs.push(`(EXTRACT(EPOCH FROM ${w}) * 1000000)::int8::text`, `(EXTRACT(YEAR FROM ${w}) * 12 + EXTRACT(MONTH FROM ${w}))::int`);
  }
  for (const f of plan.filters) {
    const column = plan.table.columns.find((c) => c.name === f.column)!;
    if (f.column === plan.table.timeColumn && f.op !== 'in') exprs.push(micros(f.sql));
    else {
      // NULL unless every constant's type compares with the column as the kernels' equality does
      // (`dev = 1.5` compares as numeric: not as dev = 2): the statement then falls back.
      const values = f.op === 'in' ? f.sql : [f.sql];
      const types = SEGMENT_TYPES[column.typname];
      if (!types) exprs.push('NULL');
      else exprs.push(`CASE WHEN ${values.map((v) => `pg_typeof(${v})::text IN (${['unknown', ...types].map(quoteLiteral).join(', ')})`).join(' AND ')} THEN ARRAY[${values.map((v) => `(${v})::${column.type}::text`).join(', ')}]::text[] END`);
    }
  }
  // Row predicates' constants, their types and their columns' determinism (predicate-values.ts).
  if (plan.predicates.length > 0) exprs.push(predicateInputsSql(plan.predicates, quoteLiteral(`${quoteIdent(plan.table.schema)}.${quoteIdent(plan.table.name)}`)));
  // Last: whether the rowstore has rows for the statement (without, the final statement reads only
  // the kernels' partials), and whether the group columns of collatable types have the database's
  // default collation: the kernels' group keys travel as text[] of that collation, so grouping
  // and ordering them is PostgreSQL's grouping and ordering of the column only then.
  exprs.push(typeof facts === 'object' && !facts.rowstoreRows ? 'false' : plan.rowstoreExistsSql);
  const collatable = groupColumns(plan);
  exprs.push(
    lean
      ? 'NULL'
      : collatable.length === 0
        ? 'true'
        : `(SELECT coalesce(bool_and(a.attcollation IN (0, 100)), false) FROM pg_attribute a WHERE a.attrelid = ${quoteLiteral(`${quoteIdent(plan.table.schema)}.${quoteIdent(plan.table.name)}`)}::regclass AND a.attname IN (${collatable.map(quoteLiteral).join(', ')}))`,
  );
  // Last of all, when the rows could be made without a final statement: the settings that decide
  // it (in the forms with facts always: FactsCache.markStill keeps them).
  if (lean) exprs.push(PRINT_SETTINGS_SQL);
  else if (plan.direct) exprs.push(DIRECT_SETTINGS_SQL);
  if (facts !== undefined) exprs.push(PROBE_SQL, facts === 'read' ? factsSql(plan.table) : 'NULL');
  return `json_build_array(${exprs.join(', ')})`;
}

/** The group columns of an aggregate plan (the bucket aside). */
function groupColumns(plan: AggregatePlan): string[] {
  return plan.groups.flatMap((g) => (g.kind === 'column' ? [g.column.name] : []));
}

/** `aggregateInputsSql(plan, …)`'s values with the facts put back in place (the full form's layout). */
export function inputValues(plan: AggregatePlan, values: readonly unknown[], facts: TableFacts): unknown[] {
  const out = values.slice(0, -2);
  out[0] = facts.keys;
  out[out.length - 2] = defaultCollations(facts, groupColumns(plan));
  out[out.length - 1] = [...(out[out.length - 1] as unknown[]), facts.byteOrder];
  return out;
}

/**
 * Constant types (besides an unknown literal) whose `=` with a segmentby column of pg_type … is that
 * type's own equality, on the text the batches hold. Not char(n): its text drops the padding the
 * batches keep ('a' is stored 'a  '), so its filters are left to PostgreSQL.
 */
const SEGMENT_TYPES: Readonly<Record<string, readonly string[]>> = {
  int2: ['smallint', 'integer', 'bigint'],
  int4: ['smallint', 'integer', 'bigint'],
  int8: ['smallint', 'integer', 'bigint'],
  text: ['text', 'character varying'],
  varchar: ['text', 'character varying'],
  name: ['name'],
  bool: ['boolean'],
};

/** Group column types whose kernel keys (partials.ts scalarKey) are equal exactly when PostgreSQL's `=` holds. */
const EXACT_KEYS = new Set(['int2', 'int4', 'int8', 'bool', 'date', 'timestamp', 'timestamptz']);
/** … and text types (under the default collation, which is deterministic). */
const TEXT_KEYS = new Set(['text', 'varchar']);

/** Inputs evaluated already (`aggregateInputsSql`'s array, fetched with other work), and filters to add. */
export interface EvaluatedInputs {
  readonly values: unknown[];
  readonly filters: readonly Filter[];
  /** ORDER BY the bucket LIMIT n: n (plus the OFFSET) as PostgreSQL evaluated it; null for LIMIT NULL (ALL). */
  readonly limit?: number | null;
}

/** Where result rows made without a final statement go (see runAggregate), and the in-process value readers. */
export interface DirectRowsTarget {
  readonly onRows: (rows: PrintedRows) => void;
  readonly values?: (oid: number) => ValueOf;
}

/**
 * Runs an aggregate plan's compressed part in the kernels and returns the statement that finishes
 * it in PostgreSQL; undefined when the kernels cannot take it after all (the caller falls back).
 * With `direct`, when the result rows can be made from the kernels' partials alone
 * (aggregate-rows.ts), they are handed to `direct.onRows`, and the statement returned
 * is the final statement over no partial rows: it describes the result, and the caller appends the
 * rows to its (empty) output.
 */
export async function runAggregate(
  store: ColumnStore,
  kernels: KernelBackend,
  run: InternalRunner,
  plan: AggregatePlan,
  evaluated?: EvaluatedInputs,
  direct?: DirectRowsTarget,
  facts?: FactsCache,
  quietKey?: string,
): Promise<string | undefined> {
  let values = evaluated?.values;
  // Outside a transaction block (`quietKey`: the session's settings key), with PostgreSQL idle
  // since the facts were confirmed: the inputs may need no round trip (local-inputs.ts).
  const quiet = quietKey !== undefined ? facts?.quiet(plan.table.id, quietKey) : undefined;
  if (!values && quiet) values = localInputs(plan, quiet.facts, quiet.settings);
  if (!values) {
    const got = await withFacts(run, facts, plan.table, (mode) => `SELECT ${aggregateInputsSql(plan, mode)}`, (row) => row);
    // A failure (infinity, bad input) falls back.
    if (!got) return undefined;
    values = got.facts ? inputValues(plan, got.row, got.facts) : got.row;
    // The print settings (inputValues appended the text order to them) for the next statements.
    if (got.facts && quietKey !== undefined) facts!.markStill(got.before, quietKey, (values[values.length - 1] as unknown[]).slice(0, -1));
  }
  const manifestKeys = (values[0] as string[] | null) ?? [];
  let i = 1;
  const spec: { bucket?: TimeBucketSpec; groupBy: string[]; filters: Filter[]; rowFilters?: RowFilter[]; aggregates: AggregateCall[] } = {
    groupBy: plan.groups.flatMap((g) => (g.kind === 'column' ? [g.column.name] : [])),
    filters: [],
    aggregates: plan.aggregates.map(({ fn, column, by }) => ({ fn, ...(column ? { column } : {}), ...(by ? { by } : {}) })),
  };
  if (plan.bucketWidthSql !== undefined) {
    // A NULL width (time_bucket is strict) or time bound (`time >= NULL`): PostgreSQL answers.
    if (values[i] === null) return undefined;
    spec.bucket = { widthUs: BigInt(values[i] as string), months: values[i + 1] as number };
    i += 2;
  }
  for (const f of plan.filters) {
    const column = plan.table.columns.find((c) => c.name === f.column)!;
    if (f.column === plan.table.timeColumn && f.op !== 'in') {
      if (values[i] === null) return undefined;
      spec.filters.push({ column: f.column, op: f.op, value: BigInt(values[i++] as string) });
    } else {
      const list = values[i++] as Array<string | null> | null;
      if (list === null) return undefined;
      const scalars = list.map((v) => scalarOf(v, column.typname));
      if (scalars.some((v) => v === undefined)) return undefined;
      spec.filters.push({ column: f.column, op: 'in', values: scalars as Scalar[] });
    }
  }
  const rowFilters: RowFilter[] = [];
  if (plan.predicates.length > 0) {
    // A constant whose comparison Orbit would not make as PostgreSQL does: PostgreSQL answers.
    const predicates = rowPredicates(plan.predicates, values[i++] as Array<[string[], unknown[], boolean | null]>);
    if (!predicates) return undefined;
    predicates.forEach((predicate, k) => rowFilters.push({ column: plan.predicates[k]!.column.name, predicate }));
  }
  // A rowstore row PostgreSQL's float overflow checks could trip on (rowstoreExistsSql): PostgreSQL answers.
  if (values[i] === null) return undefined;
  // Nothing runs in between on this backend (the session holds it), so the answer still holds when the final statement runs.
  const rowstore = values[i] !== false;
  // Another collation (C, ICU, nondeterministic): the rowstore's partials stay in the statement
  // (their column carries the collation into the UNION, as before this shortcut existed).
  const defaultCollation = values[i + 1] === true;
  const exactKeys = plan.groups.every((g) => g.kind === 'bucket' || EXACT_KEYS.has(g.column.typname) || TEXT_KEYS.has(g.column.typname));
  const mode: FinalMode = rowstore || !defaultCollation ? 'union' : exactKeys ? 'rowwise' : 'kernels';
  const settings = plan.direct ? (values[i + 2] as unknown[]) : undefined;
  const timeColumn = plan.table.columns.find((c) => c.name === plan.table.timeColumn)!;
  const timeType = timeColumn.type;
  const timeTypname = timeColumn.typname;
  // The partial columns' types, in order.
  const types = [...plan.groups.map((g) => (g.kind === 'bucket' ? timeType : g.column.type)), ...plan.aggregates.flatMap((a) => a.partialTypes)];
  spec.filters.push(...(evaluated?.filters ?? []));
  if (rowFilters.length > 0) spec.rowFilters = rowFilters;
  let partials: Partials | null;
  try {
    const manifests = await readLiveManifests(store, manifestKeys, plan.table.columns);
    partials = await aggregateChunks(store, manifests, spec, kernels);
  } catch (err) {
    // Not for the kernels, or a column added after these chunks were compressed: PostgreSQL answers.
    if (err instanceof OrbitError && (err.code === SqlState.feature_not_supported || err.code === '42703')) return undefined;
    throw err;
  }
  // A float sum or average over huge or non-finite inputs, whose overflow error (22003) or value
  // depends on the order PostgreSQL adds the rows in: PostgreSQL answers (general path).
  if (partials && anyMayOverflow(partials)) return undefined;
  if (direct && settings && mode === 'rowwise') {
    const rows = directRows(plan, partials, settings, direct.values, evaluated?.limit);
    if (rows) {
      direct.onRows(rows);
      // The final statement over no partial rows: no rows, and the RowDescription it would send.
      return plan.finalSql(kernelRowsSql(types.map(() => []), types), 'rowwise');
    }
  }
  // One array per partial column, unnested into rows: PostgreSQL parses one constant per column.
  const columns: Array<Array<string | null>> = types.map(() => []);
  // Buckets repeat across groups (one per segment value): each is printed once.
  const bucketTexts = new Map<bigint | null, string | null>();
  const bucketText = (b: bigint | null): string | null => {
    let text = bucketTexts.get(b);
    if (text === undefined) bucketTexts.set(b, (text = valueText(b, timeTypname)));
    return text;
  };
  for (const g of partials?.groups.values() ?? []) {
    const cells: Array<string | null> = [];
    let k = 0;
    for (const group of plan.groups) cells.push(group.kind === 'bucket' ? bucketText(g.bucket) : valueText(g.key[k++] ?? null, group.column.typname));
    plan.aggregates.forEach((a, j) => {
      const st = g.states[j]!;
      const typname = a.column ? plan.table.columns.find((c) => c.name === a.column)!.typname : 'int8';
      const some = st.count > 0;
      switch (a.fn) {
        case 'count':
          cells.push(String(st.count));
          break;
        case 'sum':
        case 'avg':
          cells.push(some ? valueText(st.sum, typname) : null);
          if (a.fn === 'avg') cells.push(String(st.count));
          break;
        case 'min':
        case 'max':
          cells.push(some ? valueText(st.value, typname) : null);
          break;
        case 'first':
        case 'last':
          cells.push(st.time === null ? null : valueText(st.value, typname), st.time === null ? null : valueText(st.time, timeTypname));
          break;
      }
    });
    cells.forEach((c, i) => columns[i]!.push(c));
  }
  const rows = columns[0]!.length;
  return plan.finalSql(rows > 0 ? kernelRowsSql(columns, types) : undefined, mode);
}

/**
 * The kernels' partial rows as one array constant per distinct partial column, unnested: columns
 * equal to an earlier one of the same type (the counts of averages over NULL-free columns, all
 * alike) are read again from it rather than sent and parsed once more.
 */
function kernelRowsSql(columns: ReadonlyArray<ReadonlyArray<string | null>>, types: readonly string[]): string {
  const arrays: string[] = [];
  const firstOf = new Map<string, number>();
  const pick = columns.map((c, i) => {
    const literal = arrayLiteral(c, types[i]!);
    let at = firstOf.get(literal);
    if (at === undefined) {
      at = arrays.push(literal) - 1;
      firstOf.set(literal, at);
    }
    return at;
  });
  if (arrays.length === columns.length) return `SELECT * FROM unnest(${arrays.join(', ')})`;
  // Aliased as the function itself, so EXPLAIN still shows `Function Scan on unnest`.
  return `SELECT ${pick.map((at) => `u${at}`).join(', ')} FROM unnest(${arrays.join(', ')}) AS unnest(${arrays.map((_, at) => `u${at}`).join(', ')})`;
}



/** A value PostgreSQL printed as text, as the kernels hold it (undefined: a type they do not take). */
function scalarOf(text: string | null, typname: string): Scalar | undefined {
  if (text === null) return null;
  switch (typname) {
    case 'int2':
    case 'int4':
      return Number(text);
    case 'int8':
      return BigInt(text);
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'name':
      return text;
    case 'bool':
      return text === 'true';
    default:
      return undefined;
  }
}

/** A kernel value as PostgreSQL's input text for a column of pg_type `typname`; null for NULL. */
export function valueText(v: Scalar | number | bigint, typname: string): string | null {
  if (v === null) return null;
  // PostgreSQL's own output (years past 9999, BC, infinity), which its input reads in any DateStyle.
  if (typname === 'timestamptz' || typname === 'timestamp') return timestampText(v as bigint, typname === 'timestamptz' ? '+00' : '');
  if (typname === 'date') return dateText(Number(v));
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint' || typeof v === 'boolean' || typeof v === 'string') return String(v);
  throw new OrbitError(SqlState.feature_not_supported, `a ${typname} value in a kernel result`);
}

/** Array elements array_in reads as they are: no delimiter, quote, backslash or space, not NULL. */
const BARE_ELEMENT = /^[0-9A-Za-z_.:+-]+$/;

/** Types whose kernel values always print as bare array elements (valueText: digits, signs, '.', 'e', ':', spaces inside, BC, NaN, infinity; array_in keeps inner spaces). */
const BARE_TYPES = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'timestamptz', 'timestamp', 'date', 'bigint', 'integer', 'smallint', 'real', 'double precision', 'timestamp with time zone', 'timestamp without time zone']);

/** One array constant of `type[]` (parsed once by array_in, not as one expression per value). */
export function arrayLiteral(values: readonly (string | null)[], type: string): string {
  // Numbers and timestamps (most of the text at many groups) go unquoted, without a test per value.
  const bare = BARE_TYPES.has(type);
  const items = values.map((v) => (v === null ? 'NULL' : bare || (BARE_ELEMENT.test(v) && !/^null$/i.test(v)) ? v : `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`));
  const text = `{${items.join(',')}}`;
  // The final statement runs with the session's settings: under standard_conforming_strings = off
  // '…' would take the escaping backslashes away ('a\\b' came back as 'ab').
  return `${text.includes('\\') ? escapeLiteral(text) : quoteLiteral(text)}::${type}[]`;
}
