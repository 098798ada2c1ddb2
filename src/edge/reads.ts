/**
 * @module edge/reads
 * Reading a hypertable for the SELECT executor (select.ts): partial aggregates through the kernels
 * (pushdown.ts shapes), and decoded columns for the row path, each over this object's chunks (sealed
 * batches the bounds, equalities and last-point rule may match, then the write buffer) and the shard
 * objects holding matching chunks. The row path stops at `maxScanValues` (54000).
 */
import type { Manifest, Predicate } from '../columnstore/manifest.js';
import { batchesMatching } from '../columnstore/manifest.js';
import { emptyPartials } from '../columnstore/kernels/partials.js';
import { aggregateChunk, mergePartials, type AggregateSpec as KernelSpec, type Partials } from '../columnstore/kernels/index.js';
import { orbitError, OrbitError } from '../errors.js';
import { toInternal, type Chunk, type Hypertable, type TableDef } from './catalog.js';
import type { EdgeEngine } from './engine.js';
import { bufferedPartials, groupColumns, KernelAggregates, resolveForTable } from './kernel-aggregates.js';
import type { PushdownPlan } from './pushdown.js';
import type { PushedGroups, TimeBound } from './select.js';
import { columnValue, decodeRow } from './buffer-rows.js';
import { shardsOverlapping } from './shard-chunks.js';
import type { Value } from './values.js';

/** An aggregate through the kernels (src/edge/pushdown.ts); undefined sends the executor down the row path. */
export async function pushdown(engine: EdgeEngine, table: TableDef, plan: PushdownPlan): Promise<PushedGroups | undefined> {
  const p = await partials(engine, table.name, plan.spec, plan.lo, plan.hi);
  return p ? groupColumns(plan, p) : undefined;
}

/**
 * Partial aggregates of `table`'s chunks overlapping [lo, hi] (µs, inclusive): sealed batches one
 * by one through the kernels, then each chunk's write buffer. Undefined when the kernels refuse the
 * spec (0A000), so the caller can fall back to rows. Shard objects answer the coordinator with this.
 */
export async function partials(engine: EdgeEngine, tableName: string, spec: KernelSpec, lo?: bigint, hi?: bigint): Promise<Partials | undefined> {
  const k = engine.aggregates;
  const table = engine.catalog.table(tableName);
  const h = engine.catalog.hypertable(tableName);
  if (!(k instanceof KernelAggregates) || !table || !h) return undefined;
  try {
    const r = resolveForTable(table, h, spec);
    const out = emptyPartials(r.aggregates, r.groupBy.map((g) => g.name), r.bucket !== null);
    const segmentBy = h.compression?.segmentBy ?? [];
    const lo_ = lo === undefined ? undefined : toInternal(h.timeType, lo);
    const hi_ = hi === undefined ? undefined : toInternal(h.timeType, hi) + 1;
    k.stats.queries++;
    for (const chunk of engine.catalog.chunksOverlapping(h.id, lo_, hi_)) {
      for (const { key } of engine.catalog.manifests(chunk.id)) {
        const p = await aggregateChunk(engine.columnstore, await engine.columnstore.readManifest(key), spec, k.kernels);
        k.record(p, 0);
        mergePartials(out, p);
      }
      const rows = engine.catalog.buffered(chunk.id).rows.map((row) => decodeRow(row, table));
      if (rows.length > 0) {
        const b = bufferedPartials(table, segmentBy, r, rows);
        k.record(b, rows.length);
        mergePartials(out, b);
      }
    }
    // Sharded chunks: every shard holding a matching chunk computes its partials in its own kernels, at once.
    const shards = shardsOverlapping(engine, h, lo_, hi_);
    if (shards.length > 0) {
      const parts = await Promise.all(shards.map((key) => engine.shards!.router.partials(key, tableName, spec, lo, hi)));
      if (parts.some((p) => p === undefined)) return undefined;
      for (const p of parts) mergePartials(out, p!);
    }
    return out;
  } catch (err) {
    if (err instanceof OrbitError && err.code === '0A000') return undefined;
    throw err;
  }
}

/** Decoded columns of `table`: this object's chunks, then those of every shard holding a matching chunk. */
export async function scan(engine: EdgeEngine, table: TableDef, columns: readonly string[], bounds: readonly TimeBound[], equalities: ReadonlyMap<string, Value>, latestPer?: string): Promise<{ cols: Value[][]; length: number }> {
  const local = await scanRows(engine, table, columns, bounds, equalities, latestPer);
  const h = engine.catalog.hypertable(table.name);
  if (!h || !engine.shards) return local;
  const { lo, hi } = internalRange(h, bounds);
  const shards = shardsOverlapping(engine, h, lo, hi);
  if (shards.length === 0) return local;
  // Each shard keeps its own latest rows per value; their union holds the latest overall.
  const parts = await Promise.all(shards.map((key) => engine.shards!.router.scan(key, table.name, columns, bounds, equalities, latestPer)));
  let length = local.length;
  for (const p of parts) {
    p.cols.forEach((col, j) => {
      const out = local.cols[j]!;
      for (const v of col) out.push(v);
    });
    length += p.length;
    if (length * Math.max(1, columns.length) > engine.maxScanValues) throw scanLimit(engine.maxScanValues);
  }
  return { cols: local.cols, length };
}

/**
 * For a last-point scan (select.ts, `latestPer`): which sealed batches may hold a latest row of
 * their `column` value. Per value, the latest time is the largest batch maximum over the manifests
 * segmented by `column`; a batch whose maximum is below it cannot hold that value's latest rows.
 * Manifests not segmented by `column` (other settings, imports) are read whole.
 */
async function latestBatches(engine: EdgeEngine, h: Hypertable, chunks: readonly Chunk[], column: string): Promise<(m: Manifest, b: number) => boolean> {
  const latest = new Map<string, bigint | number>();
  const timeAt = (m: Manifest) => m.columns.findIndex((c) => c.name === h.timeColumn);
  for (const chunk of chunks) {
    for (const { key } of engine.catalog.manifests(chunk.id)) {
      const m = await engine.columnstore.readManifest(key);
      const seg = m.settings.segmentBy.indexOf(column);
      if (seg < 0) continue;
      const t = timeAt(m);
      for (const b of m.batches) {
        const max = b.max[t] as bigint | number | null;
        if (b.rows === 0 || max === null) continue;
        const k = segmentKey(b.segment[seg]);
        const cur = latest.get(k);
        if (cur === undefined || max > cur) latest.set(k, max);
      }
    }
  }
  return (m, b) => {
    const seg = m.settings.segmentBy.indexOf(column);
    if (seg < 0) return true;
    const stats = m.batches[b]!;
    const max = stats.max[timeAt(m)] as bigint | number | null;
    return max === null || max >= latest.get(segmentKey(stats.segment[seg]))!;
  };
}

/** Decoded columns of `table` for this object's chunks and batches the bounds and equalities may match. */
export async function scanRows(engine: EdgeEngine, table: TableDef, columns: readonly string[], bounds: readonly TimeBound[], equalities: ReadonlyMap<string, Value>, latestPer?: string): Promise<{ cols: Value[][]; length: number }> {
  const cols: Value[][] = columns.map(() => []);
  const h = engine.catalog.hypertable(table.name);
  if (!h) return { cols, length: 0 };
  const { lo, hi } = internalRange(h, bounds);
  const predicates: Predicate[] = bounds.map((b) => ({ column: h.timeColumn, op: b.op, value: b.value }));
  for (const [column, value] of equalities) {
    const c = table.columns.find((x) => x.name === column);
    if (c && (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')) {
      predicates.push({ column, op: '=', value: c.type === 'bool' ? value : value });
    }
  }
  const positions = columns.map((name) => table.columns.findIndex((c) => c.name === name));
  let length = 0;
  const budget = () => {
    if (length * Math.max(1, columns.length) > engine.maxScanValues) throw scanLimit(engine.maxScanValues);
  };
  const chunks = engine.catalog.chunksOverlapping(h.id, lo, hi);
  const keep = latestPer === undefined ? undefined : await latestBatches(engine, h, chunks, latestPer);
  for (const chunk of chunks) {
    for (const { key } of engine.catalog.manifests(chunk.id)) {
      const m = await engine.columnstore.readManifest(key);
      for (const b of batchesMatching(m, predicates)) {
        if (keep && !keep(m, b)) continue;
        const batch = await engine.columnstore.readBatch(m, b, columns);
        const n = m.batches[b]!.rows;
        batch.columns.forEach((col, j) => {
          const out = cols[j]!;
          for (let i = 0; i < n; i++) out.push(columnValue(col, i));
        });
        length += n;
        budget();
      }
    }
    for (const r of engine.catalog.buffered(chunk.id).rows) {
      const row = decodeRow(r, table);
      positions.forEach((p, j) => cols[j]!.push(row[p]!));
      length++;
    }
    budget();
  }
  return { cols, length };
}

/** Segment values as map keys (text, numbers, booleans, NULL). */
function segmentKey(v: unknown): string {
  return v === null ? 'null' : `${typeof v}:${String(v)}`;
}

function scanLimit(max: number): Error {
  return orbitError('program_limit_exceeded', `the query reads more than ${max} values, more than an edge object holds in memory`, {
    hint: 'Narrow the time range or the columns read.',
  });
}

/** The internal time range [lo, hi) of a scan's bounds, as chunk exclusion uses it. */
function internalRange(h: Hypertable, bounds: readonly TimeBound[]): { lo: number | undefined; hi: number | undefined } {
  let lo: number | undefined;
  let hi: number | undefined;
  for (const b of bounds) {
    const t = toInternal(h.timeType, b.value as bigint | number);
    if (b.op === '>' || b.op === '>=' || b.op === '=') lo = lo === undefined ? t : Math.max(lo, t);
    if (b.op === '<' || b.op === '<=' || b.op === '=') hi = hi === undefined ? t + 1 : Math.min(hi, t + 1);
  }
  return { lo, hi };
}
