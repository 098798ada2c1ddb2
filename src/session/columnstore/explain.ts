/**
 * @module session/columnstore/explain
 * Orbit's lines of an EXPLAIN (sql/planner/explain.ts) for each planner path: what it read from
 * the columnstore. docs/guides/planner.md explains how to read them.
 */
import type { ColumnStore } from '../../columnstore/store.js';
import type { AggregatePlan } from '../../sql/planner/aggregate-plan.js';
import type { ConstantFilter } from '../../sql/planner/filters.js';
import type { LastPointPlan } from '../../sql/planner/last-point.js';
import type { ScanPlan } from '../../sql/planner/scan.js';
import type { ScanStats } from './scan.js';
import type { BucketBound } from './bucket-limit.js';
import { firstError, jsonRows, type InternalRunner } from '../internal-sql.js';

export function scanLines(plan: ScanPlan, s: ScanStats, temp: string, timing: boolean): string[] {
  const lines = [`Orbit Columnstore Scan on ${plan.table.name}`];
  if (s.pushed.length > 0) lines.push(`  Orbit Filter: ${s.pushed.map((p) => `(${p})`).join(' AND ')}`);
  if (s.orderedAppend) lines.push(`  Ordered Append: ${plan.table.timeColumn} ${plan.order!.desc ? 'DESC' : 'ASC'}, batches read ${plan.order!.desc ? 'newest' : 'oldest'} first until the LIMIT is certain`);
  lines.push(`  Compressed Chunks: ${s.chunks} (${s.chunksSkipped} excluded by metadata)`);
  const notNeeded = s.orderedAppend ? `, ${s.batchesNotNeeded} not needed` : '';
  lines.push(`  Batches: ${s.batches} (${s.batchesSkipped} excluded by metadata, ${s.batchesDecoded} decoded${notNeeded})`);
  lines.push(`  Rows: ${s.rowsDecoded} decoded, ${s.rowsPassed} passed to PostgreSQL in ${temp}`);
  if (timing) lines.push(`  Orbit Time: ${s.ms.toFixed(3)} ms`);
  return lines;
}

export function lastPointLines(plan: LastPointPlan): string[] {
  const lines = [`Orbit Columnstore Last Point on ${plan.table.name}`];
  if (plan.filters.length === 0) {
    lines.push(`  Path: the newest batch(es) of each ${plan.segment} by the manifests' time maxima, plus the rowstore's last points`);
    return lines;
  }
  lines.push(`  Path: the newest rows inside the time bounds of each ${plan.segment}, from its batches the filters and the manifests' time ranges leave, newest first; plus the rowstore's last points under the same WHERE`);
  lines.push(`  Orbit Filter: ${filterText(plan.filters)}`);
  return lines;
}

function filterText(filters: readonly ConstantFilter[]): string {
  return filters.map((f) => `(${f.column} ${f.op === 'in' ? `IN (${f.sql.join(', ')})` : `${f.op} ${f.sql}`})`).join(' AND ');
}

export async function aggregateLines(store: ColumnStore, run: InternalRunner, plan: AggregatePlan, limited?: BucketBound): Promise<string[]> {
  const lines = [`Orbit Columnstore Aggregate on ${plan.table.name}`, '  Path: partial aggregates of the compressed chunks by Orbit\'s kernels, merged with the rowstore\'s by PostgreSQL'];
  if (plan.filters.length > 0) {
    lines.push(`  Orbit Filter: ${filterText(plan.filters)}`);
  }
  if (plan.predicates.length > 0) lines.push(`  Orbit Row Filter: ${[...new Set(plan.predicates.map((p) => p.text))].map((t) => `(${t})`).join(' AND ')}`);
  if (plan.direct) {
    // Decided when the statement runs (rowstore rows, settings): see docs/guides/planner.md.
    lines.push('  Direct Output: when run, the rows are made from the partials by Orbit if no rowstore row matches and the settings allow (PostgreSQL then runs the statement below over no partial rows, for its RowDescription)');
  }
  if (limited?.bound) {
    lines.push(`  Ordered Append: buckets ${plan.bucketOrder!.desc ? 'newest' : 'oldest'} first, kernels limited to (${limited.bound}) (${limited.batchesRead} ${limited.batchesRead === 1 ? "batch's" : "batches'"} times read to find it)`);
  }
  const out = await run.sql(
    `SELECT json_agg(cc.manifest) FROM _timescaledb_catalog.chunk ch JOIN _timescaledb_catalog.orbit_columnstore_chunk cc ON cc.id = ch.compressed_chunk_id WHERE ch.hypertable_id = ${plan.table.id} AND NOT ch.dropped`,
  );
  if (!firstError(out)) {
    const keys = jsonRows<string[] | null>(out)[0] ?? [];
    const manifests = await Promise.all(keys.map((k) => store.readManifest(k)));
    lines.push(`  Compressed Chunks: ${manifests.length}, Batches: ${manifests.reduce((n, m) => n + m.batches.length, 0)}`);
  }
  return lines;
}
