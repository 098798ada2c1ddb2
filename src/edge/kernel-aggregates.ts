/**
 * @module edge/kernel-aggregates
 * The edge's aggregate engine over the columnstore kernels. Sealed batches go batch by batch through
 * `aggregateChunk` (WASM kernels, or ReferenceKernels where WebAssembly is unavailable): only the
 * columns the aggregates read are decoded, into arrays reused from batch to batch, and batches the
 * manifest answers are not read at all. Rows still in a chunk's write buffer are folded into the same
 * partial states in TypeScript. Partials of chunks merge with `mergePartials` (also across shard
 * objects, see docs/runtimes/workers.md "Scale-out") and become result values with `finalize`.
 * Queries the kernels do not take (src/edge/pushdown.ts) run through `compute`, over decoded rows.
 */
import type { Scalar } from '../columnstore/columns.js';
import type { Manifest } from '../columnstore/manifest.js';
import {
  finalize,
  resolveSpec,
  type AggregateSpec as KernelSpec,
  type KernelBackend,
  type Partials,
  type ResolvedSpec,
} from '../columnstore/kernels/index.js';
import { bucketOf } from '../columnstore/kernels/bucket.js';
import { emptyPartials, emptyState, groupOf, keyPrefix, mergeState, type AggState } from '../columnstore/kernels/partials.js';
import { equalValues } from '../columnstore/kernels/spec.js';
import { JsAggregates } from './aggregates.js';
import type { Hypertable, TableDef } from './catalog.js';
import type { PushdownPlan } from './pushdown.js';
import type { EdgeType, Value } from './values.js';
import type { PgType } from '../columnstore/columns.js';

/** Figures of the kernel path since the object started (GET /stats). */
export interface KernelStats {
  backend: string;
  queries: number;
  batchesDecoded: number;
  batchesFromManifest: number;
  batchesSkipped: number;
  bufferedRows: number;
}

export class KernelAggregates extends JsAggregates {
  readonly stats: KernelStats;

  constructor(readonly kernels: KernelBackend) {
    super();
    this.stats = { backend: kernels.name, queries: 0, batchesDecoded: 0, batchesFromManifest: 0, batchesSkipped: 0, bufferedRows: 0 };
  }

  /** Counts one chunk's (or shard's) partials into the stats. */
  record(p: Partials, bufferedRows: number): void {
    this.stats.batchesDecoded += p.stats.decoded;
    this.stats.batchesFromManifest += p.stats.fromManifest;
    this.stats.batchesSkipped += p.stats.skipped;
    this.stats.bufferedRows += bufferedRows;
  }
}

/** Edge column types as the columnstore stores them. */
export const PG_TYPES: Partial<Record<EdgeType, PgType>> = {
  bool: 'bool', int2: 'int2', int4: 'int4', int8: 'int8', float4: 'float4', float8: 'float8', numeric: 'numeric',
  text: 'text', varchar: 'varchar', timestamptz: 'timestamptz', timestamp: 'timestamp', date: 'date',
};

/**
 * The spec checked against the table's current settings, without a manifest: the buffered rows have
 * none, and checking first means an unsupported query is refused (0A000) before anything is read.
 */
export function resolveForTable(table: TableDef, h: Hypertable, spec: KernelSpec): ResolvedSpec {
  const m = {
    columns: table.columns.map((c) => ({ name: c.name, type: PG_TYPES[c.type] ?? 'text' })),
    settings: { timeColumn: h.timeColumn, segmentBy: h.compression?.segmentBy ?? [], orderBy: [] },
  } as unknown as Manifest;
  return resolveSpec(m, spec);
}

/** Partials of rows in a chunk's write buffer (typed rows in table column order), as the kernels would fold them. */
export function bufferedPartials(table: TableDef, segmentBy: readonly string[], r: ResolvedSpec, rows: readonly Value[][]): Partials {
  const p = emptyPartials(r.aggregates, r.groupBy.map((g) => g.name), r.bucket !== null);
  const at = (name: string) => table.columns.findIndex((c) => c.name === name);
  const timeAt = at(r.timeColumn);
  const segAt = new Map([...r.segmentFilters.keys()].map((seg) => [seg, at(segmentBy[seg]!)]));
  const keyAt = r.groupBy.map((g) => at(g.name));
  const keyTypes = r.groupBy.map((g) => g.type);
  const aggAt = r.aggregates.map((a) => (a.column === null ? -1 : at(a.column)));
  const byAt = r.aggregates.map((a) => (a.by === null ? -1 : at(a.by)));
  const shift = r.bucket ? r.bucket.origin % r.bucket.width : 0n;
  const segTypes = new Map([...r.segmentFilters.keys()].map((seg) => [seg, (PG_TYPES[table.columns[segAt.get(seg)!]!.type] ?? 'text') as PgType]));
  for (const row of rows) {
    const t = row[timeAt] as bigint;
    if (t < r.range.lo || t > r.range.hi) continue;
    let keep = true;
    for (const [seg, values] of r.segmentFilters) {
      const v = row[segAt.get(seg)!] as Scalar;
      if (v === null || !values.some((x) => equalValues(segTypes.get(seg)!, v as Exclude<Scalar, null>, x))) keep = false;
    }
    if (!keep) continue;
    const key = keyAt.map((j) => row[j] as Scalar);
    const g = groupOf(p, keyPrefix(keyTypes, key), key, r.bucket ? bucketOf(t, r.bucket.width, shift) : null);
    r.aggregates.forEach((a, i) => {
      const v = aggAt[i]! < 0 ? null : row[aggAt[i]!]!;
      const s: AggState = emptyState(a);
      if (a.fn === 'first' || a.fn === 'last') {
        const by = row[byAt[i]!];
        if (by === null || by === undefined) return;
        s.time = BigInt(by as bigint);
        s.value = v as Scalar;
      } else if (a.column === null) s.count = 1;
      else if (v !== null) {
        s.count = 1;
        if (a.fn === 'sum' || a.fn === 'avg') {
          const float = a.type === 'float4' || a.type === 'float8';
          s.sum = float ? (v as number) : BigInt(v as number | bigint);
          s.nonFinite = float && !Number.isFinite(v as number);
        } else s.value = v as Scalar;
      }
      mergeState(a.fn, g.states[i]!, s);
    });
  }
  return p;
}

/** Final rows of merged partials as the executor's group columns: GROUP BY keys, then aggregates. */
export function groupColumns(plan: PushdownPlan, p: Partials): { keyCols: Value[][]; aggCols: Value[][]; groups: number } {
  const rows = finalize(p);
  const keyCols = plan.keys.map((k) => rows.map((row) => (k.kind === 'bucket' ? row.bucket : (row.key[k.index] as Value))));
  const aggCols = plan.results.map((res, i) =>
    rows.map((row) => {
      const v = row.values[i]!;
      if (v === null) return null;
      // sum(int8) is numeric: the kernels keep it exact as a bigint, the edge prints numeric from text.
      if (res.type === 'numeric' && typeof v === 'bigint') return v.toString();
      if (res.type === 'bool') return v === true || v === 1;
      return v as Value;
    }),
  );
  return { keyCols, aggCols, groups: rows.length };
}
