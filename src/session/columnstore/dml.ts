/**
 * @module session/columnstore/dml
 * Which batches of a compressed chunk a write can touch (docs/design/columnstore.md, "Writes"):
 * the statement's comparisons of the time and segmentby columns with constants, evaluated by
 * PostgreSQL with the session's settings, tested against each batch's manifest entry. The batches
 * that may hold affected rows are decompressed into the chunk table (`decompressForWrite`, within
 * `timescaledb.max_tuples_decompressed_per_dml_transaction`); the others stay where they are.
 */
import { OrbitError } from '../../errors.js';
import type { Scalar } from '../../columnstore/columns.js';
import { batchesMatching, type Manifest, type Predicate } from '../../columnstore/manifest.js';
import type { ColumnStore } from '../../columnstore/store.js';
import type { ConstantFilter } from '../../sql/planner/filters.js';
import type { PlannerTable } from '../../sql/planner/table.js';
import { SqlState } from '../../sqlstate.js';
import type { WriteTarget } from './statement-plans.js';
import { copyBatchesInto } from './copy-batches.js';
import { asTableOwner, cacheRunner, firstError, jsonRows, must, type InternalRunner } from '../internal-sql.js';
import { quoteLiteral } from '../settings.js';
import { castsExactly } from './time-constants.js';

const F = '_timescaledb_functions';

/** Predicates rows a write touches must satisfy: AND of `all`, and, when `anyTime` is set, a time equal to one of them. */
export interface WritePredicates {
  readonly all: readonly Predicate[];
  readonly anyTime?: readonly Scalar[];
}

/**
 * The SQL of a time constant as the manifest holds the column's values (undefined: a type not read).
 * ±infinity are held as PostgreSQL holds them, the integer's extremes (columnstore/pg-text.ts):
 * their epoch has no bigint, and inside a pipeline a failure here would fail the statement.
 */
function timeSql(sql: string, type: string, typname: string): string | undefined {
  const finite = (value: string, held: string, bits: 32 | 64) =>
    `CASE WHEN isfinite(${value}) THEN ${held} WHEN ${value} > 'epoch' THEN '${2n ** BigInt(bits - 1) - 1n}' ELSE '${-(2n ** BigInt(bits - 1))}' END`;
  switch (typname) {
    case 'int2':
    case 'int4':
    case 'int8':
      return `((${sql})::${type})::text`;
    case 'timestamptz':
    case 'timestamp': {
      const value = `(${sql})::${type}`;
      return finite(value, `((EXTRACT(EPOCH FROM ${value}) - 946684800) * 1000000)::int8::text`, 64);
    }
    case 'date':
      return finite(`(${sql})::date`, `((${sql})::date - date '2000-01-01')::text`, 32);
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
    // A constant the column's type cannot hold exactly (dev > 1.5 on an integer) would move the bound,
    // and a time constant whose cast compares otherwise than PostgreSQL (time-constants.ts) too: such a filter is dropped.
    const castable = f.column === table.timeColumn ? values.map((v) => ` AND ${castsExactly(v, column.typname)}`).join('') : '';
    exact.push(`(${values.map((v) => `((${v})::${column.type} = (${v}))`).join(' AND ')}) IS NOT FALSE${castable}`);
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

/**
 * Decompresses the compressed chunks of hypertables a statement writes, in the current
 * transaction, within TimescaleDB's per-transaction limit. `invalidate` is called once chunks were
 * decompressed (the session's columnstore metadata is then stale). `checked`: PostgreSQL has checked
 * the session role's privileges for the statement (statement-preparation.ts): the rows are then
 * copied into each chunk as its owner, since decompression is internal in TimescaleDB too (a role
 * with UPDATE but no INSERT may update compressed rows); otherwise as the session's role.
 */
export async function decompressForWrite(store: ColumnStore, run: InternalRunner, tables: readonly WriteTarget[], invalidate: () => void, checked: boolean): Promise<void> {
  if (tables.length === 0) return;
  const ids = tables.map((t) => t.id).join(', ');
  // Inserts with known times: only the chunks holding those times (internal time, by the chunk's range).
  const all = tables.filter((t) => !t.times).map((t) => t.id);
  const timed = tables.filter((t) => t.times);
  const hit = timed.map((t) => {
    const column = t.columns.find((c) => c.name === t.timeColumn)!;
    const integer = ['int2', 'int4', 'int8'].includes(column.typname);
    const values = t.times!.map((sql) => (integer ? `((${sql})::${column.type})::int8` : `(EXTRACT(EPOCH FROM (${sql})::${column.type}) * 1000000)::int8`));
    return `(ch.hypertable_id = ${t.id} AND EXISTS (SELECT FROM unnest(ARRAY[${values.join(', ')}]::int8[]) v WHERE v >= ch.range_start AND v < ch.range_end))`;
  });
  const which = [...(all.length > 0 ? [`ch.hypertable_id IN (${all.join(', ')})`] : []), ...hit].join(' OR ');
  const out = await must(
    run,
    `SELECT json_build_object('chunks', (SELECT json_agg(json_build_object('id', ch.id, 'hypertable', ch.hypertable_id, 'chunk', format('%I.%I', ch.schema_name, ch.table_name), 'manifest', cc.manifest, 'rows', cc.row_count,
         'owner', (SELECT pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.oid = format('%I.%I', ch.schema_name, ch.table_name)::regclass)))
       FROM _timescaledb_catalog.chunk ch JOIN _timescaledb_catalog.orbit_columnstore_chunk cc ON cc.id = ch.compressed_chunk_id
       WHERE ch.hypertable_id IN (${ids}) AND (${which}) AND NOT ch.dropped),
     'limit', current_setting('timescaledb.max_tuples_decompressed_per_dml_transaction', true),
     'enabled', current_setting('timescaledb.enable_dml_decompression', true))`,
  );
  const info = jsonRows<{ chunks: Array<{ id: number; hypertable: number; chunk: string; manifest: string; rows: number; owner: string }> | null; limit: string | null; enabled: string | null }>(out)[0]!;
  const chunks = info.chunks ?? [];
  if (chunks.length === 0) return;
  // The batches each chunk must give back: those the statement's predicates on segmentby and time
  // columns may reach, or all of them when they cannot be read.
  const predicates = new Map<number, WritePredicates | undefined>();
  for (const t of tables) {
    if (predicates.has(t.id)) continue;
    predicates.set(t.id, t.filters || t.times ? await evaluatePredicates(run, t, t.filters, t.times, t.functions ?? new Set()) : undefined);
  }
  const work: Array<{ id: number; chunk: string; owner: string; manifest: Manifest; batches: number[] }> = [];
  for (const c of chunks) {
    const manifest = await store.readManifest(c.manifest);
    const p = predicates.get(c.hypertable);
    const table = tables.find((t) => t.id === c.hypertable)!;
    const batches = p ? matching(manifest, p, table.timeColumn) : manifest.batches.map((_, i) => i);
    if (batches.length > 0) work.push({ id: c.id, chunk: c.chunk, owner: c.owner, manifest, batches });
  }
  if (work.length === 0) return;
  if (info.enabled === 'off' || info.enabled === 'false') {
    const inserting = tables.every((t) => t.inserting);
    throw new OrbitError(SqlState.feature_not_supported, inserting ? 'inserting into compressed chunk with unique constraints disabled' : 'UPDATE/DELETE is disabled on compressed chunks', {
      hint: 'Set timescaledb.enable_dml_decompression to TRUE.',
    });
  }
  const limit = Number(info.limit ?? '100000');
  const total = work.reduce((s, w) => s + w.batches.reduce((n, b) => n + w.manifest.batches[b]!.rows, 0), 0);
  if (limit > 0 && total > limit) {
    throw new OrbitError(SqlState.configuration_limit_exceeded, 'tuple decompression limit exceeded by operation', {
      detail: `current limit: ${limit}, tuples decompressed: ${total}`,
      hint: 'Consider increasing timescaledb.max_tuples_decompressed_per_dml_transaction or set to 0 (unlimited).',
    });
  }
  for (const w of work) {
    await copyBatchesInto(store, checked ? asTableOwner(run, w.owner) : run, { into: w.chunk, chunk: w.chunk, manifest: w.manifest.key, only: w.batches });
    const taken = new Set(w.batches);
    const kept = w.manifest.batches.flatMap((b, no) => (taken.has(no) ? [] : [{ ...b, source: b.source ?? { version: w.manifest.version, no } }]));
    if (kept.length === 0) {
      await must(cacheRunner(run), `SELECT ${F}.orbit_clear_columnstore_chunk(${w.id})`);
      continue;
    }
    // A new manifest version listing the batches that stay (their objects are not rewritten); the
    // catalog points at it in this transaction, so a rollback returns to the old one.
    const append = await store.beginAppend(w.manifest.hypertableId, w.manifest.chunkId, w.manifest.columns, w.manifest.settings);
    const next = await store.commitAppend(append, { ...w.manifest, batches: kept });
    const manifestBytes = (await store.storage.get(next.key))?.length ?? 0;
    const bytes = next.batches.reduce((s, b) => s + b.bytes, manifestBytes);
    await must(cacheRunner(run), `SELECT ${F}.orbit_append_columnstore_chunk(${w.id}, ${quoteLiteral(next.key)}, ${next.rowCount}, ${next.batches.length}, ${bytes})`);
  }
  invalidate();
}
