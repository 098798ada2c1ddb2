/**
 * @module session/columnstore/last-point-rows
 * A last point's result rows made by Orbit from the candidate batches (sql/planner/last-point.ts,
 * `output`), without PostgreSQL parsing the candidates from array constants and sorting them: while
 * the rowstore holds no row of the hypertable, the answer of `SELECT DISTINCT ON (segment) … ORDER BY
 * segment, time DESC` is each segment's newest row, in the segment's order. One internal statement
 * asks for the manifest keys, whether the rowstore has rows, and the settings that decide whether
 * the rows can be printed as PostgreSQL prints them (columnstore/pg-text.ts); the statement the
 * caller then runs only describes the result (its response is kept, Columnstore.described).
 * Undefined whenever that cannot be exact — rowstore rows, a segment with several rows at its
 * newest time (PostgreSQL's pick among them is its sort's), a type or setting not printed here, a
 * text order other than the bytes' — and the caller takes the last-point path through PostgreSQL.
 */
import { isNullAt, scalarAt, type Column, type PgType, type Scalar } from '../../columnstore/columns.js';
import { DataRowWriter } from '../../columnstore/data-rows.js';
import { BatchColumns } from '../../columnstore/kernels/batch-columns.js';
import type { Manifest } from '../../columnstore/manifest.js';
import { formatterOf, TYPE_OIDS, UTC_ZONES, type Formatter, type ValueOf } from '../../columnstore/pg-text.js';
import { ObjectRows } from '../../columnstore/row-objects.js';
import type { ColumnStore } from '../../columnstore/store.js';
import type { LastPointPlan } from '../../sql/planner/last-point.js';
import { compareCodePoints, DIRECT_SETTINGS_SQL } from './aggregate-rows.js';
import type { DirectRows } from './columnstore.js';
import { timeAs, timeOf } from './last-point-window.js';
import { batchColumnsAt, REUSED_TYPES } from './scan.js';
import { quoteIdent, type InternalRunner } from '../internal-sql.js';
import { factsSql, PRINT_SETTINGS_SQL, PROBE_SQL, withFacts, type FactsCache, type FactsMode, type TableFacts } from './facts.js';
import { quoteLiteral } from '../settings.js';
import { readLiveManifests } from './live-columns.js';

/** Output column types printed here (numeric is left to PostgreSQL: its batches hold text). */
const OUTPUT_TYPES = new Set<string>(['int2', 'int4', 'int8', 'float4', 'float8', 'bool', 'text', 'varchar', 'timestamptz', 'timestamp', 'date']);
/** Segment types ordered here: integers by value, text by its bytes (a C collation). */
const SEGMENT_TYPES = new Set<string>(['int2', 'int4', 'int8', 'text', 'varchar']);

/**
 * The internal statement: manifest keys, rowstore rows, printing settings, the segment's collation
 * (`'probe'`: then the probe); with facts read or kept (facts.ts) only the settings,
 * then the probe and the facts read or NULL.
 */
export function lastPointRowsInputsSql(plan: LastPointPlan, facts?: FactsMode): string {
  if (facts !== undefined && facts !== 'probe') return `SELECT json_build_array(NULL, NULL, ${PRINT_SETTINGS_SQL}, NULL, ${PROBE_SQL}, ${facts === 'read' ? factsSql(plan.table) : 'NULL'})`;
  const t = `${quoteIdent(plan.table.schema)}.${quoteIdent(plan.table.name)}`;
  return (
    `SELECT json_build_array((SELECT json_agg(cc.manifest ORDER BY cc.manifest) FROM _timescaledb_catalog.chunk ch JOIN _timescaledb_catalog.orbit_columnstore_chunk cc ON cc.id = ch.compressed_chunk_id ` +
    `WHERE ch.hypertable_id = ${plan.table.id} AND NOT ch.dropped), EXISTS (SELECT 1 FROM ${t}), ${DIRECT_SETTINGS_SQL}, ` +
    `(SELECT a.attcollation IN (0, 100) FROM pg_attribute a WHERE a.attrelid = ${quoteLiteral(t)}::regclass AND a.attname = ${quoteLiteral(plan.segment)})${facts === 'probe' ? `, ${PROBE_SQL}, NULL` : ''})`
  );
}

/**
 * The last points as rows made here, and the statement describing them (no rows of its own);
 * `keys` alone when only the rows cannot be made here (the caller builds the candidates statement
 * from them without asking again); undefined when the inputs could not be read.
 */
export async function lastPointRows(
  store: ColumnStore,
  run: InternalRunner,
  plan: LastPointPlan,
  values?: (oid: number) => ValueOf,
  facts?: FactsCache,
  quietKey?: string,
): Promise<{ keys: string[]; rows?: DirectRows; sql?: string } | undefined> {
  // Outside a transaction block (`quietKey`: the session's settings key), with PostgreSQL idle
  // since the facts were confirmed: no round trip (facts.ts, FactsCache.quiet).
  const quiet = quietKey !== undefined ? facts?.quiet(plan.table.id, quietKey) : undefined;
  let row: unknown[];
  let f: TableFacts | undefined;
  if (quiet) {
    row = [null, null, quiet.settings];
    f = quiet.facts;
  } else {
    const got = await withFacts(run, facts, plan.table, (mode) => lastPointRowsInputsSql(plan, mode), (r) => r);
    if (!got) return undefined;
    ({ row, facts: f } = got);
    if (f && quietKey !== undefined) facts!.markStill(got.before, quietKey, row[2] as unknown[]);
  }
  const [keys, rowstore, settings, defaultCollation] = (
    f ? [f.keysByName, f.rowstoreRows, [...(row[2] as unknown[]), f.byteOrder], f.defaultCollation[plan.segment] === true] : row
  ) as [readonly string[] | null, boolean, unknown[], boolean | null];
  const found = { keys: [...(keys ?? [])] };
  const output = plan.output;
  if (!output || rowstore || found.keys.length === 0) return found;
  const [extraFloatDigits, dateStyle, timeZone, clientEncoding, byteOrder] = settings;
  if (Number(extraFloatDigits) <= 0 || !/^ISO\b/.test(String(dateStyle)) || clientEncoding !== 'UTF8') return found;
  const typeOf = (name: string): string => plan.table.columns.find((c) => c.name === name)!.typname;
  const segmentType = typeOf(plan.segment);
  if (!SEGMENT_TYPES.has(segmentType) || ((segmentType === 'text' || segmentType === 'varchar') && (byteOrder !== true || defaultCollation !== true))) return found;
  if (output.columns.some((c) => !OUTPUT_TYPES.has(typeOf(c))) || (output.columns.some((c) => typeOf(c) === 'timestamptz') && !UTC_ZONES.has(String(timeZone)))) return found;
  if (values && new Set(output.names).size !== output.names.length) return found;

  const manifests = await readLiveManifests(store, found.keys, plan.table.columns);
  const time = plan.table.timeColumn;
  // Per segment value: its newest time maximum over the chunks, and the one batch reaching it.
  const newest = new Map<SegmentValue, { time: bigint; manifest: Manifest; batch: number; ties: number }>();
  for (const m of manifests) {
    const seg = m.settings.segmentBy.indexOf(plan.segment);
    const t = m.columns.findIndex((c) => c.name === time);
    // The batches must hold every output column as its type (not, say, a column added since).
    if (seg < 0 || t < 0 || output.columns.some((c) => m.columns.find((x) => x.name === c)?.type !== typeOf(c))) return found;
    const own = newestPerSegment(m, seg, t);
    if (!own) return found;
    for (const [key, o] of own) {
      const best = newest.get(key);
      if (!best || o.time > best.time) newest.set(key, { time: o.time, manifest: m, batch: o.batch, ties: o.ties });
      else if (o.time === best.time) best.ties += 1 + o.ties;
    }
  }
  // Two batches of a segment reaching its newest time: PostgreSQL's pick among their rows is its sort's.
  if ([...newest.values()].some((c) => c.ties > 0)) return found;
  // Ascending, NULL last (ORDER BY segment's default).
  const order = [...newest.keys()].sort((a, b) => (a === null ? (b === null ? 0 : 1) : b === null ? -1 : compare(a, b)));

  const types = output.columns.map((c) => typeOf(c) as PgType);
  const formats = types.map((t) => formatterOf(t)!) as Formatter[];
  const oids = types.map((t) => TYPE_OIDS[t]!);
  const objects = values ? new ObjectRows(output.names) : undefined;
  const converters = values ? oids.map(values) : undefined;
  const writer = values ? undefined : new DataRowWriter(1 << 14);
  const readers = new Map<Manifest, BatchColumns>();
  const needed = [...new Set(output.columns)];
  for (const key of order) {
    const { time: at, manifest, batch } = newest.get(key)!;
    let reader = readers.get(manifest);
    if (!reader) readers.set(manifest, (reader = new BatchColumns(store, manifest, REUSED_TYPES)));
    const times = (await reader.read(batch, [time])).get(time)!;
    const row = onlyRowAt(times, at);
    // None, or several rows at the newest time (PostgreSQL's pick among them is its sort's).
    if (row < 0) return found;
    const { decoded, constant } = await batchColumnsAt(reader, manifest, batch, needed, time, times);
    // The row appended before the next batch is read (the reader reuses its arrays).
    const columns = output.columns.map((n) => constant.get(n) ?? decoded.get(n)!);
    const isConstant = output.columns.map((n) => constant.has(n));
    const rows = Uint32Array.of(row);
    if (objects) objects.append(columns, formats, converters!, rows, 1, isConstant);
    else writer!.append(columns, formats, rows, 1, isConstant);
  }
  const rows: DirectRows = objects
    ? { messages: [], objects: objects.rows, count: order.length, names: output.names, types: oids, describes: true }
    : { messages: writer!.bytes(), count: order.length, names: output.names, types: oids, describes: true };
  // The final statement over no candidates: no rows (the rowstore has none), and the description.
  const empty = `SELECT * FROM unnest(${plan.table.columns.map((c) => `'{}'::${c.type}[]`).join(', ')})`;
  return { ...found, rows, sql: plan.finalSql(empty) };
}

/**
 * The one row of `times` holding `at` (not NULL); -1 when none or several do. Int64 times are
 * compared as two 32-bit halves: reading a BigInt64Array element allocates a BigInt, and this runs
 * over every row of each segment's newest batch.
 */
function onlyRowAt(times: Column, at: bigint): number {
  let row = -1;
  const v = times.values;
  if (v instanceof BigInt64Array && LITTLE_ENDIAN) {
    const halves = new Int32Array(v.buffer, v.byteOffset, v.length * 2);
    const lo = Number(BigInt.asIntN(32, at));
    const hi = Number(BigInt.asIntN(32, at >> 32n));
    for (let r = 0; r < v.length; r++) {
      if (halves[2 * r] !== lo || halves[2 * r + 1] !== hi || isNullAt(times, r)) continue;
      if (row >= 0) return -1;
      row = r;
    }
    return row;
  }
  const target = timeAs(times, at);
  for (let r = 0; r < v.length; r++) {
    if (scalarAt(times, r) !== target) continue;
    if (row >= 0) return -1;
    row = r;
  }
  return row;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A segment value as a map key (binary and boolean segments are not ordered here). */
type SegmentValue = string | number | bigint | null;

/** Per manifest (immutable once written), segmentby and time column indexes: see newestPerSegment. */
const perManifest = new WeakMap<Manifest, Map<number, ReadonlyMap<SegmentValue, { time: bigint; batch: number; ties: number }> | null>>();

/**
 * Per segment value of one manifest, its newest time maximum, the first batch reaching it and how
 * many others do; null when a segment value is not ordered here (binary). Computed once per
 * manifest: a query would otherwise walk every batch of every chunk of the table.
 */
function newestPerSegment(m: Manifest, seg: number, t: number): ReadonlyMap<SegmentValue, { time: bigint; batch: number; ties: number }> | null {
  let byColumns = perManifest.get(m);
  if (!byColumns) perManifest.set(m, (byColumns = new Map()));
  const id = seg * 65536 + t;
  const known = byColumns.get(id);
  if (known !== undefined) return known;
  let out: Map<SegmentValue, { time: bigint; batch: number; ties: number }> | null = new Map();
  for (let i = 0; i < m.batches.length; i++) {
    const b = m.batches[i]!;
    const v = b.segment[seg] ?? null;
    if (v instanceof Uint8Array) {
      out = null;
      break;
    }
    const max = timeOf(b.max[t] ?? null);
    if (max === undefined || typeof v === 'boolean') continue;
    const best = out.get(v);
    if (!best || max > best.time) out.set(v, { time: max, batch: i, ties: 0 });
    else if (max === best.time) best.ties++;
  }
  byColumns.set(id, out);
  return out;
}

/** Segment values of one type: numbers, bigints, or text compared by its UTF-8 bytes. */
function compare(a: Scalar, b: Scalar): number {
  if (typeof a === 'string' && typeof b === 'string') return compareCodePoints(a, b);
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  return (a as number) - (b as number);
}
