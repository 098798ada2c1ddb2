/**
 * @module session/columnstore/dml
 * Which batches of a compressed chunk a write can touch (docs/design/columnstore.md, "Writes"):
 * the statement's comparisons of the time and segmentby columns with constants, evaluated by
 * PostgreSQL with the session's settings, tested against each batch's manifest entry. The batches
 * that may hold affected rows are decompressed into the chunk table; the others stay where they are.
 */
import type { Scalar } from '../../columnstore/columns.js';
import { batchesMatching, type Manifest, type Predicate } from '../../columnstore/manifest.js';
import type { ConstantFilter, PlannerTable } from '../../sql/planner/aggregates.js';
import { firstError, jsonRows, type InternalRunner } from '../internal-sql.js';

/** Predicates rows a write touches must satisfy: AND of `all`, and, when `anyTime` is set, a time equal to one of them. */
export interface WritePredicates {
  readonly all: readonly Predicate[];
  readonly anyTime?: readonly Scalar[];
}

/** The SQL of a time constant as the manifest holds the column's values (undefined: a type not read). */
function timeSql(sql: string, type: string, typname: string): string | undefined {
  switch (typname) {
    case 'int2':
    case 'int4':
    case 'int8':
      return `((${sql})::${type})::text`;
    case 'timestamptz':
    case 'timestamp':
      return `((EXTRACT(EPOCH FROM (${sql})::${type}) - 946684800) * 1000000)::int8::text`;
    case 'date':
      return `((${sql})::date - date '2000-01-01')::text`;
    default:
      return undefined;
  }
}

function scalarOf(text: string | null, typname: string): Scalar | undefined {
  if (text === null) return null;
  switch (typname) {
    case 'int2':
    case 'int4':
    case 'date':
      return Number(text);
    case 'int8':
    case 'timestamptz':
    case 'timestamp':
      return BigInt(text);
    case 'text':
    case 'varchar':
    case 'name':
      return text;
    case 'bool':
      return text === 'true';
    default:
      return undefined;
  }
}

/**
 * Evaluates the constants of a write's filters (or inserted times) in PostgreSQL, under a savepoint
 * so that a failure cannot abort the client's transaction. Undefined when they cannot be read (a
 * volatile function, an error, a time type not handled): then every batch is decompressed.
 */
export async function evaluatePredicates(
  run: InternalRunner,
  table: PlannerTable,
  filters: readonly ConstantFilter[] | undefined,
  times: readonly string[] | undefined,
  functions: ReadonlySet<string>,
): Promise<WritePredicates | undefined> {
  const time = table.columns.find((c) => c.name === table.timeColumn)!;
  const exprs: string[] = [];
  const exact: string[] = [];
  const used: Array<{ column: string; op: Predicate['op'] | 'in' | 'time'; typname: string }> = [];
  for (const f of filters ?? []) {
    const column = table.columns.find((c) => c.name === f.column)!;
    const values = f.op === 'in' ? f.sql : [f.sql];
    const sql = values.map((v) => (f.column === table.timeColumn ? timeSql(v, column.type, column.typname) : `((${v})::${column.type})::text`));
    if (sql.some((s) => s === undefined) || scalarOf('0', column.typname) === undefined) continue;
    // A constant the column's type cannot hold exactly (dev > 1.5 on an integer) would move the bound: such a filter is dropped.
    exact.push(`(${values.map((v) => `((${v})::${column.type} = (${v}))`).join(' AND ')}) IS NOT FALSE`);
    exprs.push(`ARRAY[${sql.join(', ')}]::text[]`);
    used.push({ column: f.column, op: f.op, typname: column.typname });
  }
  if (times) {
    const sql = times.map((v) => timeSql(v, time.type, time.typname));
    if (sql.some((s) => s === undefined)) return undefined;
    exact.push(`(${times.map((v) => `((${v})::${time.type} = (${v}))`).join(' AND ')}) IS NOT FALSE`);
    exprs.push(`ARRAY[${sql.join(', ')}]::text[]`);
    used.push({ column: time.name, op: 'time', typname: time.typname });
  }
  if (exprs.length === 0) return undefined;
  const volatile = functions.size > 0 ? `, (SELECT coalesce(bool_or(provolatile = 'v'), false) FROM pg_proc WHERE proname = ANY(ARRAY[${[...functions].map((f) => `'${f.replace(/'/g, "''")}'`).join(', ')}]::text[]))` : '';
  const out = await run.sql(`SAVEPOINT orbit_dml_filters; SELECT json_build_array(json_build_array(${exprs.join(', ')}), json_build_array(${exact.join(', ')})${volatile})`);
  if (firstError(out)) {
    await run.sql('ROLLBACK TO SAVEPOINT orbit_dml_filters; RELEASE SAVEPOINT orbit_dml_filters');
    return undefined;
  }
  await run.sql('RELEASE SAVEPOINT orbit_dml_filters');
  const [values, exactly, isVolatile] = jsonRows<[Array<Array<string | null>>, boolean[], boolean?]>(out)[0]!;
  if (isVolatile) return undefined;
  const all: Predicate[] = [];
  let anyTime: Scalar[] | undefined;
  for (let i = 0; i < used.length; i++) {
    const u = used[i]!;
    if (!exactly[i]) {
      if (u.op === 'time') return undefined;
      continue;
    }
    const scalars = values[i]!.map((v) => scalarOf(v, u.typname)) as Scalar[];
    if (u.op === 'time') anyTime = scalars;
    else if (u.op === 'in') {
      // A segment IN list: batches whose segment value is one of them (unioned in `matching`).
      if (scalars.some((v) => v === null)) continue;
      all.push(...scalars.map((value) => ({ column: u.column, op: '=' as const, value: value!, inList: i })));
    } else if (scalars[0] === null) {
      // A comparison with NULL is never true: no row is touched.
      return { all: [{ column: u.column, op: 'is null' }, { column: u.column, op: 'is not null' }] };
    } else all.push({ column: u.column, op: u.op, value: scalars[0]! });
  }
  return { all, ...(anyTime ? { anyTime } : {}) };
}

/** Numbers of the batches of `m` that may hold rows the write touches. */
export function matching(m: Manifest, p: WritePredicates, timeColumn: string): number[] {
  // IN lists are ORs of equalities: grouped by list, each group unioned.
  const plain = p.all.filter((x) => !('inList' in x));
  const lists = new Map<number, Predicate[]>();
  for (const x of p.all) {
    const k = (x as { inList?: number }).inList;
    if (k !== undefined) lists.set(k, [...(lists.get(k) ?? []), x]);
  }
  let hit = new Set(batchesMatching(m, plain));
  for (const options of lists.values()) {
    const any = new Set(options.flatMap((o) => batchesMatching(m, [o])));
    hit = new Set([...hit].filter((b) => any.has(b)));
  }
  if (p.anyTime) {
    const any = new Set(p.anyTime.flatMap((v) => (v === null ? [] : batchesMatching(m, [{ column: timeColumn, op: '=', value: v }]))));
    hit = new Set([...hit].filter((b) => any.has(b)));
  }
  return [...hit].sort((a, b) => a - b);
}
