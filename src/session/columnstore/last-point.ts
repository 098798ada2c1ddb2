/**
 * @module session/columnstore/last-point
 * Runs a last-point plan (sql/planner/last-point.ts): the manifests name each segment's newest
 * batch(es), whose newest rows are decoded and handed to PostgreSQL as array constants (or kept
 * in `pg_temp.orbit_last_<id>` by reuse.ts) with the rowstore's last points. The rows Orbit makes
 * itself while the rowstore is empty: last-point-rows.ts.
 */
import { OrbitError } from '../../errors.js';
import { scalarAt } from '../../columnstore/columns.js';
import { BatchColumns } from '../../columnstore/kernels/batch-columns.js';
import type { Manifest } from '../../columnstore/manifest.js';
import type { ColumnStore } from '../../columnstore/store.js';
import type { LastPointPlan } from '../../sql/planner/last-point.js';
import { SqlState } from '../../sqlstate.js';
import { arrayLiteral, valueText } from './fast-path.js';
import { segmentKey, timeAs, timeOf, windowInputs, windowNewest, type LastPointWindow, type NewestBySegment } from './last-point-window.js';
import { batchColumnsAt, REUSED_TYPES } from './scan.js';
import { firstError, jsonRows, textRows, type InternalRunner } from '../internal-sql.js';
import { readLiveManifests } from './live-columns.js';

/**
 * The last point per segment: the batches holding each segment's newest time (from the manifests)
 * are decoded and their newest rows handed to PostgreSQL with the rowstore's; undefined when the
 * chunks' layout does not allow it (the caller falls back).
 */
export async function runLastPoint(store: ColumnStore, run: InternalRunner, plan: LastPointPlan): Promise<string | undefined> {
  const found = plan.filters.length > 0 ? await windowInputs(run, plan) : await lastPointKeys(run, plan);
  const candidates = found && (await lastPointCandidates(store, plan, found.keys, 'window' in found ? found.window : undefined));
  return candidates === undefined ? undefined : plan.finalSql(candidates ?? undefined);
}

/** The statement listing the manifest keys of the hypertable's compressed chunks (as one json array). */
export function lastPointKeysSql(plan: LastPointPlan): string {
  return `SELECT json_agg(cc.manifest ORDER BY cc.manifest) FROM _timescaledb_catalog.chunk ch JOIN _timescaledb_catalog.orbit_columnstore_chunk cc ON cc.id = ch.compressed_chunk_id WHERE ch.hypertable_id = ${plan.table.id} AND NOT ch.dropped`;
}

/** The manifest keys and PostgreSQL's text of them (undefined: the lookup failed). */
export async function lastPointKeys(run: InternalRunner, plan: LastPointPlan): Promise<{ keys: string[]; text: string | null } | undefined> {
  const out = await run.sql(lastPointKeysSql(plan));
  if (firstError(out)) return undefined;
  return { keys: jsonRows<string[] | null>(out)[0] ?? [], text: textRows(out)[0]?.[0] ?? null };
}

/**
 * The candidate rows of the chunks `keys` as a query of every column in table order (`SELECT * FROM
 * unnest(…)`): each segment's newest rows (inside `window`, for a plan with filters); null when
 * there are none, undefined when the chunks' layout does not allow it.
 */
export async function lastPointCandidates(store: ColumnStore, plan: LastPointPlan, keys: readonly string[], window?: LastPointWindow): Promise<string | null | undefined> {
  const manifests = await readLiveManifests(store, keys, plan.table.columns);
  const names = plan.table.columns.map((c) => c.name);
  if (manifests.some((m) => m.columns.map((c) => c.name).join('\u0000') !== names.join('\u0000'))) return undefined;
  const newest = window ? await windowNewest(store, manifests, plan, window) : newestOverall(manifests, plan);
  if (!newest) return undefined;
  const columns = plan.table.columns.map((): Array<string | null> => []);
  try {
    await newestRows(store, newest.values(), plan, columns);
  } catch (err) {
    // A column type without a text form here (uuid, arrays, …): PostgreSQL answers.
    if (err instanceof OrbitError && err.code === SqlState.feature_not_supported) return undefined;
    throw err;
  }
  // One array per column (parsed once by array_in) rather than a VALUES row of casts per value:
  // parsing the statement was a good part of the query's time.
  return columns[0]!.length > 0 ? `SELECT * FROM unnest(${columns.map((c, i) => arrayLiteral(c, plan.table.columns[i]!.type)).join(', ')})` : null;
}

/** Newest time per segment value over the manifests, and the batches that reach it (no WHERE). */
function newestOverall(manifests: readonly Manifest[], plan: LastPointPlan): NewestBySegment | undefined {
  const newest: NewestBySegment = new Map();
  for (const m of manifests) {
    const seg = m.settings.segmentBy.indexOf(plan.segment);
    const time = m.columns.findIndex((c) => c.name === plan.table.timeColumn);
    if (seg < 0 || time < 0) return undefined;
    for (const [key, own] of newestOf(m, seg, time)) {
      const best = newest.get(key);
      if (!best || own.time > best.time) newest.set(key, { time: own.time, batches: own.batches.map((batch) => ({ manifest: m, batch })) });
      else if (own.time === best.time) best.batches.push(...own.batches.map((batch) => ({ manifest: m, batch })));
    }
  }
  return newest;
}

/**
 * Appends to `columns` (one per table column, as text) the rows of each candidate batch at its
 * segment's newest time. The time column is decoded first; of the others only those the manifest
 * does not show to hold one value in the batch.
 */
async function newestRows(
  store: ColumnStore,
  candidates: Iterable<{ time: bigint; batches: Array<{ manifest: Manifest; batch: number }> }>,
  plan: LastPointPlan,
  columns: Array<Array<string | null>>,
): Promise<void> {
  const time = plan.table.timeColumn;
  const names = plan.table.columns.map((c) => c.name);
  // Numeric columns decoded into arrays reused from batch to batch (read before the next batch).
  const readers = new Map<Manifest, BatchColumns>();
  for (const { time: newest, batches } of candidates) {
    for (const { manifest, batch } of batches) {
      let reader = readers.get(manifest);
      if (!reader) readers.set(manifest, (reader = new BatchColumns(store, manifest, REUSED_TYPES)));
      const times = (await reader.read(batch, [time])).get(time)!;
      const rows: number[] = [];
      const at = timeAs(times, newest);
      for (let r = 0; r < times.values.length; r++) if (scalarAt(times, r) === at) rows.push(r);
      if (rows.length === 0) continue;
      const { decoded, constant } = await batchColumnsAt(reader, manifest, batch, names, time, times);
      for (const r of rows) {
        plan.table.columns.forEach((c, i) => {
          const k = constant.get(c.name);
          columns[i]!.push(valueText(k ? scalarAt(k, 0) : scalarAt(decoded.get(c.name)!, r), c.typname));
        });
      }
    }
  }
}

/** Per manifest (immutable once written), segmentby and time column: see newestOf. */
const newestCache = new WeakMap<Manifest, Map<string, ReadonlyMap<string, { time: bigint; batches: number[] }>>>();

/** Per segment value of a manifest, its newest time maximum and the batches that reach it (computed once per manifest). */
function newestOf(m: Manifest, seg: number, time: number): ReadonlyMap<string, { time: bigint; batches: number[] }> {
  let byColumns = newestCache.get(m);
  if (!byColumns) newestCache.set(m, (byColumns = new Map()));
  const id = `${seg}/${time}`;
  let out = byColumns.get(id);
  if (!out) {
    const map = new Map<string, { time: bigint; batches: number[] }>();
    m.batches.forEach((b, i) => {
      const max = timeOf(b.max[time] ?? null);
      if (max === undefined) return;
      const key = segmentKey(b.segment[seg] ?? null);
      const best = map.get(key);
      if (!best || max > best.time) map.set(key, { time: max, batches: [i] });
      else if (max === best.time) best.batches.push(i);
    });
    byColumns.set(id, (out = map));
  }
  return out;
}
