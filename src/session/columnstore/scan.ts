/**
 * @module session/columnstore/scan
 * Runs a scan plan (sql/planner/scan.ts): the predicates' constants are evaluated by PostgreSQL
 * with the session's settings, the manifests exclude batches, the remaining batches are decoded
 * (predicate columns first, the others only for batches with rows left), their rows filtered
 * (columnstore/row-filter.ts) and handed to one of two outputs: COPYed in binary into the
 * statement's temporary table (scan-temp-table.ts), or, where Orbit can give them exactly as
 * PostgreSQL would, printed rows appended to the statement's own result (scan-printed-rows.ts).
 * With an ordered append, batches are read newest (oldest) first until LIMIT + OFFSET rows are certain.
 */
import { allocColumn, takeRows, type Column, type PgType, type Scalar } from '../../columnstore/columns.js';
import { batchesMatching, type Manifest, type Predicate } from '../../columnstore/manifest.js';
import { BatchColumns } from '../../columnstore/kernels/batch-columns.js';
import { canFilter, filterRows, FILTER_TYPES, floatRangeOf, type RowPredicate } from '../../columnstore/row-filter.js';
import type { ValueOf } from '../../columnstore/pg-text.js';
import type { ColumnStore } from '../../columnstore/store.js';
import type { ScanPlan } from '../../sql/planner/scan.js';
import type { ColumnPredicate } from '../../sql/planner/predicates.js';
import { cacheRunner, firstError, jsonRows, quoteIdent, type InternalRunner } from '../internal-sql.js';
import { directFormats, PrintedRowsSink, type PrintedRows } from './scan-printed-rows.js';
import { TempTableSink } from './scan-temp-table.js';
import { quoteLiteral } from '../settings.js';
import { accepted, rowPredicate, valueOf, valueSql } from './predicate-values.js';
import { readLiveManifests } from './live-columns.js';

export { appendRows, type PrintedOutput, type PrintedRows } from './scan-printed-rows.js';

/** What a scan did, for EXPLAIN. */
export interface ScanStats {
  readonly chunks: number;
  readonly chunksSkipped: number;
  readonly batches: number;
  readonly batchesSkipped: number;
  readonly batchesDecoded: number;
  /** Batches an ordered append did not need. */
  readonly batchesNotNeeded: number;
  readonly rowsDecoded: number;
  readonly rowsPassed: number;
  /** Conjuncts Orbit evaluated (as written); the others only PostgreSQL does. */
  readonly pushed: readonly string[];
  readonly orderedAppend: boolean;
  readonly ms: number;
  /**
   * The compressed rows as DataRow messages (text format, in the order the temporary table would
   * have given them) when the caller asked for them and they could be printed exactly; the
   * temporary table is then left empty.
   */
  readonly rows?: PrintedRows;
}

interface Evaluated {
  readonly source: ColumnPredicate;
  readonly row: RowPredicate;
}

/**
 * Runs the scan: fills `temp` (already empty, with the hypertable's columns) with the compressed
 * rows the statement may need. Undefined when the chunks do not allow it (a column the batches do
 * not have, a constant PostgreSQL cannot evaluate): the caller takes the general path.
 */
export async function runScan(
  store: ColumnStore,
  run: InternalRunner,
  plan: ScanPlan,
  temp: string,
  direct: false | true | ((oid: number) => ValueOf) = false,
  /**
   * Makes the temporary table ready (empty) when the rows are to go there; false: it cannot be had
   * (the caller takes the general path). Not given: the caller made it ready already. Printed rows
   * need no table, so a caller that can skip its transaction for them passes this.
   */
  openTemp?: () => Promise<boolean>,
): Promise<ScanStats | undefined> {
  const started = performance.now();
  const table = plan.table;
  const rel = `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
  const constants = plan.predicates.flatMap((p) => p.sql);
  const out = await run.sql(
    `SELECT json_build_object(
      'manifests', (SELECT json_agg(cc.manifest ORDER BY ch.range_start) FROM _timescaledb_catalog.chunk ch JOIN _timescaledb_catalog.orbit_columnstore_chunk cc ON cc.id = ch.compressed_chunk_id WHERE ch.hypertable_id = ${table.id} AND NOT ch.dropped),
      'generated', (SELECT json_agg(a.attname) FROM pg_attribute a WHERE a.attrelid = ${quoteLiteral(rel)}::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated <> ''),
      'nondeterministic', (SELECT json_agg(a.attname) FROM pg_attribute a JOIN pg_collation co ON co.oid = a.attcollation WHERE a.attrelid = ${quoteLiteral(rel)}::regclass AND a.attnum > 0 AND NOT co.collisdeterministic),
      'types', json_build_array(${constants.map((c) => `pg_typeof(${c})::text`).join(', ')}),
      'settings', json_build_array(current_setting('extra_float_digits'), current_setting('DateStyle'), current_setting('TimeZone'), current_setting('client_encoding')),
      'limit', ${plan.order ? `(${plan.order.limitSql})::int8 + coalesce((${plan.order.offsetSql ?? '0'})::int8, 0)` : 'NULL'})`,
  );
  if (firstError(out)) return undefined;
  const info = jsonRows<{ manifests: string[] | null; generated: string[] | null; nondeterministic: string[] | null; types: string[]; limit: number | null; settings: string[] }>(out)[0]!;
  const nondeterministic = new Set(info.nondeterministic ?? []);
  // Which predicates keep PostgreSQL's comparison when evaluated on the stored values.
  let k = 0;
  const usable = plan.predicates.filter((p) => {
    const types = info.types.slice(k, (k += p.sql.length));
    if (nondeterministic.has(p.column.name)) return false;
    return accepted(p.column, p.op, types, p.sql);
  });
  const valueExprs = usable.flatMap((p) => p.sql.map((c) => valueSql(p.column, c)));
  let values: unknown[] = [];
  if (valueExprs.length > 0) {
    const v = await run.sql(`SELECT json_build_array(${valueExprs.join(', ')})`);
    if (firstError(v)) return undefined;
    values = jsonRows<unknown[]>(v)[0]!;
  }
  k = 0;
  const evaluated: Evaluated[] = [];
  for (const p of usable) {
    const vs = p.sql.map(() => valueOf(p.column, values[k++]));
    const row = rowPredicate(p, vs);
    const type = p.column.typname as PgType;
    if (!('values' in row) || (FILTER_TYPES.has(type) && canFilter(type, row))) evaluated.push({ source: p, row });
  }
  const exact = plan.residual === 0 && evaluated.length === plan.predicates.length;
  const timeType = table.columns.find((c) => c.name === table.timeColumn)?.typname;
  const ordered = plan.order && exact && info.limit !== null && ['timestamptz', 'timestamp', 'date', 'int2', 'int4', 'int8'].includes(timeType ?? '');
  const limit = ordered ? Number(info.limit) : undefined;

  const manifests = await readLiveManifests(store, info.manifests ?? [], table.columns);
  const generated = new Set(info.generated ?? []);
  // Only the columns the statement names (generated columns are computed from others: then all),
  // at least one so that COPY carries the rows.
  const named = generated.size === 0 ? plan.columns : undefined;
  const wanted = table.columns.filter((c) => !generated.has(c.name) && (!named || named.has(c.name) || c.name === table.timeColumn)).map((c) => c.name);
  const formats = direct && limit === undefined && exact ? directFormats(plan, info.settings, generated, manifests) : undefined;
  if (!formats && openTemp && !(await openTemp())) return undefined;
  // Candidate batches, per manifest, by its statistics.
  const candidates: Array<{ m: Manifest; batch: number; first: bigint; last: bigint }> = [];
  let batches = 0;
  let chunksSkipped = 0;
  for (const m of manifests) {
    const names = new Set(m.columns.map((c) => c.name));
    // A column added since the chunk was compressed holds its default: the general path fills it.
    if (evaluated.some((e) => !names.has(e.source.column.name)) || wanted.some((n) => !names.has(n)) || !names.has(table.timeColumn)) return undefined;
    batches += m.batches.length;
    const matching = batchesOf(m, evaluated);
    if (matching.length === 0) chunksSkipped++;
    const t = m.columns.findIndex((c) => c.name === table.timeColumn);
    for (const b of matching) {
      const { min, max } = m.batches[b]!;
      // The time column is NOT NULL: a batch without statistics for it is read unconditionally.
      const first = typeof min[t] === 'bigint' || typeof min[t] === 'number' ? BigInt(min[t] as bigint) : undefined;
      const last = typeof max[t] === 'bigint' || typeof max[t] === 'number' ? BigInt(max[t] as bigint) : undefined;
      candidates.push({ m, batch: b, first: first ?? -(2n ** 63n), last: last ?? 2n ** 63n });
    }
  }
  const desc = plan.order?.desc ?? false;
  if (limit !== undefined) candidates.sort((a, b) => (desc ? cmp(b.last, a.last) : cmp(a.first, b.first)));

  // Without a limit each batch is decoded, filtered and written before the next, into arrays
  // reused from batch to batch (fresh arrays per batch and column cost about as much as decoding,
  // and as much again in garbage collection); with one, the batches read are kept until the
  // threshold is known.
  const streaming = limit === undefined;
  const readers = new Map<Manifest, BatchColumns>();
  let planned: Map<Manifest, number[]> | undefined;
  /** The streaming scan's reader of a manifest's batches. */
  const reader = (m: Manifest): BatchColumns => {
    let r = readers.get(m);
    if (!r) {
      // The manifest's batches in the order they will be read: misses read them by pack spans.
      if (!planned) {
        planned = new Map();
        for (const c of candidates) {
          const list = planned.get(c.m);
          if (list) list.push(c.batch);
          else planned.set(c.m, [c.batch]);
        }
      }
      readers.set(m, (r = new BatchColumns(store, m, REUSED_TYPES).plan(planned.get(m) ?? [])));
    }
    return r;
  };
  /** The named columns of a batch; with `at` (streaming only), just those rows, compacted (see BatchColumns.readAt). */
  const decode = async (m: Manifest, batch: number, names: readonly string[], at?: Uint32Array): Promise<Map<string, Column>> => {
    if (streaming) return at ? reader(m).readAt(batch, names, at) : reader(m).read(batch, names);
    const part = await store.readBatch(m, batch, names);
    return new Map(part.names.map((n, i) => [n, part.columns[i]!]));
  };
  // Per chunk, what every batch of it shares: column positions, the output columns it holds and
  // their COPY list; and the 1-row columns of constant values (printed rows read a constant
  // column's first row only), shared by the batches holding the same value.
  const facts = new Map<Manifest, ChunkFacts>();
  // Printed rows' 1-row constant columns by column name and type, then by value.
  const oneRow = new Map<string, Map<Scalar, Column>>();
  const factsOf = (m: Manifest): ChunkFacts => {
    let f = facts.get(m);
    if (!f) {
      const index = new Map(m.columns.map((c, i) => [c.name, i] as const));
      const names = wanted.filter((n) => index.has(n));
      const positions = names.map((n) => index.get(n)!);
      const oneRows = names.map((n, k) => {
        const key = `${m.columns[positions[k]!]!.type} ${n}`;
        let byValue = oneRow.get(key);
        if (!byValue) oneRow.set(key, (byValue = new Map()));
        return byValue;
      });
      f = { index, names, positions, oneRows, key: names.map(quoteIdent).join(', '), tested: evaluated.map((e) => index.get(e.source.column.name) ?? -1) };
      facts.set(m, f);
    }
    return f;
  };
  /** The `n` rows of output column `k` of a batch when the manifest shows them to hold one value (or only NULLs). */
  const constantOf = (m: Manifest, f: ChunkFacts, batch: number, k: number, n: number): Column | undefined => {
    const name = f.names[k]!;
    if (!printed) return constantColumn(m, batch, name, n);
    const i = f.positions[k]!;
    const b = m.batches[batch]!;
    const type = m.columns[i]!.type;
    // Keyed by the value (null: all NULL), as constantColumn decides it; others are decoded.
    const value = b.nullCount[i] === b.rows ? null : b.nullCount[i] === 0 && EXACT_MIN_MAX.has(type) && b.min[i] === b.max[i] && b.min[i] !== null && b.min[i] !== undefined ? b.min[i]! : undefined;
    if (value === undefined) return undefined;
    const byValue = f.oneRows[k]!;
    let c = byValue.get(value);
    if (!c) byValue.set(value, (c = constantColumn(m, batch, name, 1)!));
    return c;
  };
  const tempTable = new TempTableSink(temp);
  const printed = formats ? new PrintedRowsSink(plan, formats, typeof direct === 'function' ? direct : undefined) : undefined;
  let rowsPassed = 0;
  const emit = async (item: Kept): Promise<void> => {
    let rows = item.rows;
    // Rows past the threshold cannot be among the first `limit`: not handed over.
    if (limit !== undefined && item.times && threshold !== undefined) {
      const keep: number[] = [];
      item.times.forEach((t, i) => {
        if (desc ? t >= threshold! : t <= threshold!) keep.push(rows[i]!);
      });
      rows = Uint32Array.from(keep);
    }
    if (limit === 0 || rows.length === 0) return;
    const f = factsOf(item.m);
    const { names, key } = f;
    // Columns the manifest shows to hold one value (or only NULLs) in this batch need no decoding.
    const constant = new Map<string, Column>();
    const missing: string[] = [];
    for (let k = 0; k < names.length; k++) {
      const n = names[k]!;
      if (item.decoded.has(n)) continue;
      const c = constantOf(item.m, f, item.batch, k, rows.length);
      if (c) constant.set(n, c);
      else missing.push(n);
    }
    const all = rows.length === item.m.batches[item.batch]!.rows;
    // Streaming a batch of which some rows passed: the other columns are decoded at those rows
    // only, and the filter's columns taken at them, so every column holds just the rows passed.
    const compact = streaming && !all;
    if (compact && !item.compacted) for (const [n, c] of item.decoded) item.decoded.set(n, takeRows(c, rows));
    if (missing.length > 0) for (const [n, c] of await decode(item.m, item.batch, missing, compact ? rows : undefined)) item.decoded.set(n, c);
    const at = all || compact ? undefined : rows;
    // Decoded columns are read at the selected rows; constant ones hold one value per such row.
    const column = (n: string): Column => constant.get(n) ?? item.decoded.get(n)!;
    // The rows the temporary table would hold, as JS values (in-process) or printed as the
    // statement would output them (the wire); or COPYed into the temporary table.
    if (printed) printed.append(key, column, (n) => constant.has(n), at, rows.length);
    else {
      tempTable.append(key, names.map(column), at);
      if (tempTable.full) await tempTable.flush(cacheRunner(run));
    }
    rowsPassed += rows.length;
  };

  // Decode, filter; with a limit, stop once the next batch cannot hold rows among the first `limit`.
  const kept: Kept[] = [];
  let times: bigint[] = [];
  let decodedBatches = 0;
  let rowsDecoded = 0;
  let threshold: bigint | undefined;
  for (const c of candidates) {
    if (limit !== undefined && threshold !== undefined && (desc ? c.last < threshold : c.first > threshold)) break;
    decodedBatches++;
    const rowsInBatch = c.m.batches[c.batch]!.rows;
    rowsDecoded += rowsInBatch;
    // Comparisons the batch's statistics show every row to meet are not evaluated row by row.
    const { tested } = factsOf(c.m);
    const tests = evaluated.filter((e, k) => !holdsForAll(c.m, c.batch, tested[k]!, e));
    const filterColumns = tests.length === 1 && limit === undefined ? [tests[0]!.source.column.name] : [...new Set([...tests.map((e) => e.source.column.name), ...(limit !== undefined ? [table.timeColumn] : [])])];
    let decoded: Map<string, Column> | undefined;
    let selection: Uint32Array | undefined;
    // Streaming, one float range test (usage_user > 90): decoded and filtered in one call, the
    // column kept at the rows passed only.
    const range = streaming && tests.length === 1 ? floatRangeOf(tests[0]!.row) : undefined;
    const filtered = range && (await reader(c.m).filterAt(c.batch, tests[0]!.source.column.name, range.op, range.x));
    if (filtered) {
      decoded = new Map([[tests[0]!.source.column.name, filtered.column]]);
      selection = filtered.rows;
    } else {
      decoded = filterColumns.length > 0 ? await decode(c.m, c.batch, filterColumns) : new Map<string, Column>();
      for (const e of tests) selection = filterRows(decoded.get(e.source.column.name)!, rowsInBatch, e.row, selection);
    }
    selection ??= identity(rowsInBatch);
    if (selection.length === 0) continue;
    let batchTimes: BigInt64Array | undefined;
    if (limit !== undefined) {
      const tv = decoded.get(table.timeColumn)!.values as ArrayLike<bigint | number>;
      batchTimes = new BigInt64Array(selection.length);
      for (let i = 0; i < selection.length; i++) batchTimes[i] = BigInt(tv[selection[i]!]!);
      for (const t of batchTimes) times.push(t);
      if (times.length >= limit && limit > 0) {
        times.sort((a, b) => (desc ? cmp(b, a) : cmp(a, b)));
        times = times.slice(0, limit);
        threshold = times[limit - 1];
      }
    }
    const item: Kept = { m: c.m, batch: c.batch, rows: selection, times: batchTimes, decoded, compacted: filtered !== undefined };
    if (streaming) await emit(item);
    else kept.push(item);
    if (limit === 0) break;
  }
  for (const item of kept) await emit(item);
  await tempTable.flush(cacheRunner(run));
  return {
    ...(printed ? { rows: printed.finish() } : {}),
    chunks: manifests.length,
    chunksSkipped,
    batches,
    batchesSkipped: batches - candidates.length,
    batchesDecoded: decodedBatches,
    batchesNotNeeded: candidates.length - decodedBatches,
    rowsDecoded,
    rowsPassed,
    pushed: [...new Set(evaluated.map((e) => e.source.text))],
    orderedAppend: limit !== undefined,
    ms: performance.now() - started,
  };
}

/** What the batches of one chunk share (see runScan). */
interface ChunkFacts {
  /** Column positions by name. */
  readonly index: ReadonlyMap<string, number>;
  /** The wanted columns the chunk holds, in the hypertable's order, and their quoted list. */
  readonly names: readonly string[];
  /** Per name, its column's position, and the printed rows' 1-row constant columns of its values. */
  readonly positions: readonly number[];
  readonly oneRows: ReadonlyArray<Map<Scalar, Column>>;
  readonly key: string;
  /** Per evaluated predicate, its column's position (−1: absent). */
  readonly tested: readonly number[];
}

interface Kept {
  readonly m: Manifest;
  readonly batch: number;
  readonly rows: Uint32Array;
  readonly times: BigInt64Array | undefined;
  readonly decoded: Map<string, Column>;
  /** `decoded` holds only the rows passed already (BatchColumns.filterAt). */
  readonly compacted: boolean;
}

/** Types the streaming scan decodes into arrays reused from batch to batch. */
export const REUSED_TYPES: ReadonlySet<PgType> = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'timestamptz', 'timestamp', 'date']);

/**
 * Whether the manifest shows every row of the batch to meet a range comparison with an int64
 * constant (times, bigint): no NULLs, and min and max both inside.
 */
function holdsForAll(m: Manifest, batch: number, col: number, e: Evaluated): boolean {
  const { row } = e;
  if (!('values' in row) || row.values.length !== 1 || typeof row.values[0] !== 'bigint') return false;
  const v = row.values[0];
  if (col < 0) return false;
  const b = m.batches[batch]!;
  const min = b.min[col];
  const max = b.max[col];
  if ( b.nullCount[col] !== 0 || typeof min !== 'bigint' || typeof max !== 'bigint') return false;
  switch (row.op) {
    case '<':
      return max < v;
    case '<=':
      return max <= v;
    case '>':
      return min > v;
    case '>=':
      return min >= v;
    default:
      return false;
  }
}

/** Batches of `m` that may hold rows satisfying every predicate, by the manifest's statistics. */
function batchesOf(m: Manifest, evaluated: readonly Evaluated[]): number[] {
  const simple: Predicate[] = [];
  const lists: Predicate[][] = [];
  for (const { source, row } of evaluated) {
    const column = source.column.name;
    if (!('values' in row)) simple.push({ column, op: row.op });
    else if (row.op === 'in') lists.push(row.values.filter((v) => v !== null).map((value) => ({ column, op: '=', value: value as Exclude<Scalar, null> })));
    else if (row.op !== '<>') {
      const value = row.values[0];
      // A comparison with NULL holds for no row.
      if (value === null || value === undefined) return [];
      simple.push({ column, op: row.op, value });
    }
  }
  let out = new Set(batchesMatching(m, simple));
  for (const items of lists) {
    const any = new Set(items.flatMap((p) => batchesMatching(m, [p])));
    out = new Set([...out].filter((b) => any.has(b)));
  }
  return [...out].sort((a, b) => a - b);
}

/** Types whose equal min and max (by the manifest's order) mean byte-identical values. */
const EXACT_MIN_MAX: ReadonlySet<PgType> = new Set(['text', 'varchar', 'bpchar', 'name', 'int2', 'int4', 'int8', 'timestamptz', 'timestamp', 'date', 'bool']);

/**
 * `n` rows of column `name` of a batch whose manifest entry shows a single value and no NULLs, or
 * only NULLs; undefined otherwise (the column must be decoded).
 */
export function constantColumn(m: Manifest, batch: number, name: string, n: number): Column | undefined {
  const i = m.columns.findIndex((c) => c.name === name);
  const type = m.columns[i]!.type;
  const b = m.batches[batch]!;
  if (b.nullCount[i] === b.rows) {
    const c = allocColumn(type, n);
    return { ...c, nulls: new Uint8Array((n + 7) >> 3).fill(0xff) } as Column;
  }
  const min = b.min[i];
  const max = b.max[i];
  if (b.nullCount[i] !== 0 || !EXACT_MIN_MAX.has(type) || min === null || min === undefined || min !== max) return undefined;
  const c = allocColumn(type, n);
  if (c.type === 'bool') c.values.fill(min ? 1 : 0);
  else (c.values as { fill(v: unknown): unknown }).fill(min);
  return c;
}

/**
 * A batch's columns `names`, its time column decoded already (`times`): those the manifest shows to
 * hold one value as one-row columns (`constant`), the others decoded.
 */
export async function batchColumnsAt(
  reader: BatchColumns,
  manifest: Manifest,
  batch: number,
  names: readonly string[],
  time: string,
  times: Column,
): Promise<{ decoded: Map<string, Column>; constant: Map<string, Column> }> {
  const decoded = new Map<string, Column>([[time, times]]);
  const constant = new Map<string, Column>();
  for (const n of names) {
    const c = n === time ? undefined : constantColumn(manifest, batch, n, 1);
    if (c) constant.set(n, c);
  }
  const missing = names.filter((n) => !decoded.has(n) && !constant.has(n));
  if (missing.length > 0) for (const [n, c] of await reader.read(batch, missing)) decoded.set(n, c);
  return { decoded, constant };
}

function identity(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
