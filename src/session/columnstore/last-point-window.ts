/**
 * @module session/columnstore/last-point-window
 * A last point with a WHERE clause (sql/planner/last-point.ts, `filters`): the time bounds and
 * segment filters' constants, evaluated by PostgreSQL with the session's settings in one internal
 * statement with the manifest keys, make a window; each segment's candidates are then its newest
 * rows inside the time bounds. Per segment, the batches the segment filters and the manifests'
 * time ranges leave are taken by their greatest possible time in the window (max, or the upper
 * bound below it), greatest first: a batch lying wholly inside the bounds has its max there; one
 * straddling a bound has its time column decoded and filtered; the batches after that whose
 * possible time is below the newest found cannot hold it. A batch with no row inside the window
 * passes the search on to the next one.
 * Anything not exactly PostgreSQL's comparison leaves the statement to the other paths.
 */
import { scalarAt, type Column, type Scalar } from '../../columnstore/columns.js';
import { BatchColumns } from '../../columnstore/kernels/batch-columns.js';
import type { Manifest } from '../../columnstore/manifest.js';
import type { ColumnStore } from '../../columnstore/store.js';
import type { LastPointPlan } from '../../sql/planner/last-point.js';
import { accepted, valueOf, valueSql } from './predicate-values.js';
import { REUSED_TYPES } from './scan.js';
import { firstError, jsonRows, quoteIdent, type InternalRunner } from '../internal-sql.js';
import { quoteLiteral } from '../settings.js';

/** The rows a last point's WHERE keeps, as far as the batches are concerned. */
export interface LastPointWindow {
  /** Inclusive bounds on the time column's stored value (undefined: none). */
  readonly lo?: bigint;
  readonly hi?: bigint;
  /** No row can match (a bound with NULL, bounds that cross, `segment = NULL`). */
  readonly empty: boolean;
  /** Per segmentby column filtered, the keys (segmentKey) of the values it keeps. */
  readonly segments: ReadonlyArray<{ readonly column: string; readonly keys: ReadonlySet<string> }>;
}

/** Per segment key, its newest time inside the window and the batches holding rows at it. */
export type NewestBySegment = Map<string, { time: bigint; batches: Array<{ manifest: Manifest; batch: number }> }>;

/** Time column types whose values are int64s (or int32s) compared exactly. */
const TIME_TYPES: ReadonlySet<string> = new Set(['int2', 'int4', 'int8', 'date', 'timestamp', 'timestamptz']);
/** Segment filter types whose manifest values equal the evaluated constants exactly when PostgreSQL's `=` holds. */
const SEGMENT_TYPES: ReadonlySet<string> = new Set(['int2', 'int4', 'int8', 'date', 'timestamp', 'timestamptz', 'bool', 'text', 'varchar']);

/**
 * The internal statement: manifest keys, the constants' types (pg_typeof), the columns of
 * nondeterministic collations, and the constants in the columns' stored representations.
 */
function windowInputsSql(plan: LastPointPlan): string {
  const rel = quoteLiteral(`${quoteIdent(plan.table.schema)}.${quoteIdent(plan.table.name)}`);
  const column = (name: string) => plan.table.columns.find((c) => c.name === name)!;
  const constants = plan.filters.flatMap((f) => (f.op === 'in' ? f.sql : [f.sql]).map((sql) => ({ column: column(f.column), sql })));
  return (
    `SELECT json_build_array((SELECT json_agg(cc.manifest ORDER BY cc.manifest) FROM _timescaledb_catalog.chunk ch JOIN _timescaledb_catalog.orbit_columnstore_chunk cc ON cc.id = ch.compressed_chunk_id ` +
    `WHERE ch.hypertable_id = ${plan.table.id} AND NOT ch.dropped), json_build_array(${constants.map((c) => `pg_typeof(${c.sql})::text`).join(', ')}), ` +
    `(SELECT json_agg(a.attname) FROM pg_attribute a JOIN pg_collation co ON co.oid = a.attcollation WHERE a.attrelid = ${rel}::regclass AND a.attnum > 0 AND NOT co.collisdeterministic), ` +
    `json_build_array(${constants.map((c) => valueSql(c.column, c.sql)).join(', ')}))`
  );
}

/**
 * The manifest keys and the window of a plan with filters; undefined when PostgreSQL could not
 * evaluate the constants (its error comes from the path that answers instead) or a comparison would
 * not be PostgreSQL's (a constant type that changes it, a nondeterministic collation, a type not
 * compared here).
 */
export async function windowInputs(run: InternalRunner, plan: LastPointPlan): Promise<{ keys: string[]; window: LastPointWindow } | undefined> {
  const out = await run.sql(windowInputsSql(plan));
  if (firstError(out)) return undefined;
  const [keys, types, nondeterministic, values] = jsonRows<[string[] | null, string[], string[] | null, unknown[]]>(out)[0]!;
  const time = plan.table.columns.find((c) => c.name === plan.table.timeColumn)!;
  if (!TIME_TYPES.has(time.typname)) return undefined;
  let lo: bigint | undefined;
  let hi: bigint | undefined;
  let empty = false;
  const segments = new Map<string, Set<string>>();
  let k = 0;
  for (const f of plan.filters) {
    const column = plan.table.columns.find((c) => c.name === f.column)!;
    const n = f.op === 'in' ? f.sql.length : 1;
    const at = k;
    k += n;
    const exact = accepted(column, f.op, types.slice(at, at + n), f.op === 'in' ? f.sql : [f.sql]);
    const vs = values.slice(at, at + n).map((v) => valueOf(column, v));
    if (f.column === time.name && f.op !== 'in') {
      // A bound not compared exactly here is not left out either, even a lower one: a timestamptz
      // constant for a timestamp column converts each row in the session's time zone, which is not
      // monotone across a DST gap (the newest row may fail the bound where an older one passes).
      if (!exact) return undefined;
      const t = vs[0] === null ? undefined : timeOf(vs[0] as Scalar);
      // `time < NULL` holds for no row.
      if (t === undefined) {
        empty = true;
        continue;
      }
      if (f.op === '>' || f.op === '>=' || f.op === '=') {
        const bound = f.op === '>' ? t + 1n : t;
        if (lo === undefined || bound > lo) lo = bound;
      }
      if (f.op === '<' || f.op === '<=' || f.op === '=') {
        const bound = f.op === '<' ? t - 1n : t;
        if (hi === undefined || bound < hi) hi = bound;
      }
      continue;
    }
    if (!exact || !SEGMENT_TYPES.has(column.typname) || nondeterministic?.includes(column.name)) {
      // On the segment itself a filter only decides which segments are shown, which PostgreSQL's
      // WHERE over the candidates does; on another segmentby column it decides which batches hold
      // a segment's newest row: not known here.
      if (f.column === plan.segment) continue;
      return undefined;
    }
    // NULL in an IN list matches no row (nor does `= NULL`).
    const kept = new Set(vs.filter((v) => v !== null).map((v) => segmentKey(v as Scalar)));
    const before = segments.get(column.name);
    segments.set(column.name, before ? new Set([...before].filter((x) => kept.has(x))) : kept);
  }
  if (lo !== undefined && hi !== undefined && lo > hi) empty = true;
  return {
    keys: keys ?? [],
    window: { ...(lo !== undefined ? { lo } : {}), ...(hi !== undefined ? { hi } : {}), empty, segments: [...segments].map(([column, keys]) => ({ column, keys })) },
  };
}

/**
 * Per segment, the newest time inside the window over `manifests` (whose columns the caller
 * checked) and the batches holding rows at it; undefined when a manifest lacks a filtered column.
 */
export async function windowNewest(store: ColumnStore, manifests: readonly Manifest[], plan: LastPointPlan, window: LastPointWindow): Promise<NewestBySegment | undefined> {
  const out: NewestBySegment = new Map();
  if (window.empty) return out;
  const { lo, hi } = window;
  // Per segment, the batches that may hold rows of the window, with the greatest time they may hold there.
  const bySegment = new Map<string, Array<{ manifest: Manifest; batch: number; cap: bigint; inside: boolean }>>();
  for (const m of manifests) {
    const seg = m.settings.segmentBy.indexOf(plan.segment);
    const t = m.columns.findIndex((c) => c.name === plan.table.timeColumn);
    const tests = window.segments.map((s) => ({ at: m.settings.segmentBy.indexOf(s.column), keys: s.keys }));
    if (seg < 0 || t < 0 || tests.some((x) => x.at < 0)) return undefined;
    m.batches.forEach((b, batch) => {
      if (tests.some((x) => !x.keys.has(segmentKey(b.segment[x.at] ?? null)))) return;
      const min = timeOf(b.min[t] ?? null);
      const max = timeOf(b.max[t] ?? null);
      // Only NULL times, or a range outside the bounds.
      if (min === undefined || max === undefined || (lo !== undefined && max < lo) || (hi !== undefined && min > hi)) return;
      const key = segmentKey(b.segment[seg] ?? null);
      let list = bySegment.get(key);
      if (!list) bySegment.set(key, (list = []));
      const cap = hi !== undefined && hi < max ? hi : max;
      list.push({ manifest: m, batch, cap, inside: cap === max && (lo === undefined || min >= lo) });
    });
  }
  const readers = new Map<Manifest, BatchColumns>();
  for (const [key, list] of bySegment) {
    list.sort((a, b) => (a.cap > b.cap ? -1 : a.cap < b.cap ? 1 : 0));
    let best: bigint | undefined;
    let batches: Array<{ manifest: Manifest; batch: number }> = [];
    for (const c of list) {
      if (best !== undefined && c.cap < best) break;
      let top: bigint | undefined = c.cap;
      if (!c.inside) {
        let reader = readers.get(c.manifest);
        if (!reader) readers.set(c.manifest, (reader = new BatchColumns(store, c.manifest, REUSED_TYPES)));
        const times = (await reader.read(c.batch, [plan.table.timeColumn])).get(plan.table.timeColumn)!;
        top = newestInside(times, lo, hi);
      }
      if (top === undefined) continue;
      if (best === undefined || top > best) {
        best = top;
        batches = [{ manifest: c.manifest, batch: c.batch }];
      } else if (top === best) batches.push({ manifest: c.manifest, batch: c.batch });
    }
    if (best !== undefined) out.set(key, { time: best, batches });
  }
  return out;
}

/** The greatest non-NULL time of `times` within [lo, hi]; undefined when none is. */
function newestInside(times: Column, lo: bigint | undefined, hi: bigint | undefined): bigint | undefined {
  let top: bigint | undefined;
  for (let r = 0; r < times.values.length; r++) {
    const t = timeOf(scalarAt(times, r));
    if (t === undefined || (lo !== undefined && t < lo) || (hi !== undefined && t > hi)) continue;
    if (top === undefined || t > top) top = t;
  }
  return top;
}

/**
 * A time column's value (manifest statistic or decoded) as an int64: timestamps and int8 are held
 * as bigints, int2, int4 and date as numbers. Undefined for NULL (or any other value).
 */
export function timeOf(v: Scalar): bigint | undefined {
  return typeof v === 'bigint' ? v : typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : undefined;
}

/** `t` as `times` holds its values (a number for int2, int4 and date columns), to compare with scalarAt. */
export function timeAs(times: Column, t: bigint): Scalar {
  return times.values instanceof BigInt64Array ? t : Number(t);
}

/**
 * A segment value as a map key: distinct values, distinct keys (PostgreSQL equality on the stored
 * bits is enough: one segment per value); an integer the same whether held as a number or a bigint.
 */
export function segmentKey(v: Scalar): string {
  return v === null ? 'null' : typeof v === 'bigint' ? `number:${v}` : v instanceof Uint8Array ? `b${[...v].join(',')}` : `${typeof v}:${String(v)}`;
}
