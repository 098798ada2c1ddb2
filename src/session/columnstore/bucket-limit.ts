/**
 * @module session/columnstore/bucket-limit
 * Ordered append for `… GROUP BY time_bucket(w, time) ORDER BY bucket DESC LIMIT n` (the TSBS
 * groupby-orderby-limit shape). The kernels need only the rows of the result's buckets: Orbit finds
 * n non-empty buckets (the rowstore's newest n, by PostgreSQL, and the buckets of the rows of the
 * newest compressed batches, by their time column and the rows the row predicates keep), and the n-th newest of them, B, bounds
 * the kernels' input to `time >= B`. Every bucket from B on is then complete and at least n exist,
 * so the buckets before B, which only the rowstore partials still reach, fall after the LIMIT.
 * (ASC mirrors it: `time < B + w`.) Returns the aggregate plan with that filter added, or as it
 * was when the bound cannot be had (month widths, infinite times, fewer than n buckets).
 */
import { batchesMatching, columnRange, type Manifest, type Predicate } from '../../columnstore/manifest.js';
import type { Scalar } from '../../columnstore/columns.js';
import type { ColumnStore } from '../../columnstore/store.js';
import { BatchColumns } from '../../columnstore/kernels/batch-columns.js';
import { isFused, resolveRowFilters, rowTests, selectRows, type KernelBackend, type ResolvedRowFilter, type RowFilter, type SlotTable } from '../../columnstore/kernels/index.js';
import type { AggregatePlan } from '../../sql/planner/aggregate-plan.js';
import type { ConstantFilter } from '../../sql/planner/filters.js';
import { aggregateInputsSql, inputValues, type EvaluatedInputs } from './fast-path.js';
import { withFacts, type FactsCache, type FactsMode } from './facts.js';
import { hexSql, rowPredicates } from './predicate-values.js';
import { REUSED_TYPES } from './scan.js';
import { firstError, jsonRows, type InternalRunner } from '../internal-sql.js';

/** time_bucket's default origin, 2000-01-03, in µs since 2000-01-01. */
const ORIGIN = 172_800_000_000n;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

export interface BucketBound {
  readonly plan: AggregatePlan;
  /** Batches whose rows' times were read to find the bound (for EXPLAIN). */
  readonly batchesRead: number;
  readonly bound?: string;
  /**
   * The inputs of the original plan's kernels, evaluated with the bound's own query, and the bound as
   * a kernel filter: `runAggregate(…, original plan, evaluated)` needs no round trip of its own.
   */
  readonly evaluated?: EvaluatedInputs;
}

/** The plan's filters and column types as the bound needs them (undefined: no bound can be had). */
function shape(plan: AggregatePlan) {
  const order = plan.bucketOrder;
  const time = plan.table.columns.find((c) => c.name === plan.table.timeColumn)!;
  if (!order || plan.bucketWidthSql === undefined || (time.typname !== 'timestamptz' && time.typname !== 'timestamp')) return undefined;
  const segments = plan.filters.filter((f) => f.column !== time.name);
  const times = plan.filters.filter((f): f is Extract<ConstantFilter, { op: '<' | '<=' | '>' | '>=' | '=' }> => f.column === time.name && f.op !== 'in');
  const segmentTypes = segments.map((f) => plan.table.columns.find((c) => c.name === f.column)!);
  if (segmentTypes.some((c) => !['text', 'varchar', 'int2', 'int4', 'int8', 'bool'].includes(c.typname))) return undefined;
  return { order, time, segments, times, segmentTypes };
}

/**
 * The one internal statement of the bound: the first n buckets among the rowstore rows (PostgreSQL's
 * time_bucket over the rows the WHERE keeps) and the aggregate's inputs. Undefined when no bound
 * can be had (the plan runs unchanged).
 */
export function bucketLimitSql(plan: AggregatePlan, facts?: FactsMode): string | undefined {
  const s = shape(plan);
  if (!s) return undefined;
  const { order, time, segments, times, segmentTypes } = s;
  const micros = (sql: string) => hexSql(`${time.typname}_send((${sql})::${time.type})`);
  const w = `(${plan.bucketWidthSql})::interval`;
  const limitSql = `((${order.limitSql})::int8 + coalesce((${order.offsetSql ?? '0'})::int8, 0))`;
  // Whether the rowstore holds rows the WHERE keeps is whether it has a bucket among the first n
  // (same WHERE), when n > 0: PostgreSQL then plans one scan of the hypertable, not two (the CASE
  // is folded while planning, before its subqueries are planned, when n is a constant). The
  // manifest keys are the inputs' first value.
  // Kept facts of an empty rowstore: no rowstore buckets, and no scan of the hypertable planned.
  const empty = typeof facts === 'object' && !facts.rowstoreRows;
  const inputs = aggregateInputsSql(empty ? plan : { ...plan, rowstoreExistsSql: `CASE WHEN ${plan.rowstoreRiskSql} THEN NULL WHEN ${limitSql} > 0 THEN EXISTS (SELECT 1 FROM rowstore_buckets) ELSE ${plan.rowstoreExistsSql} END` }, facts);
  return `${empty ? '' : `WITH rowstore_buckets AS (${order.rowstoreSql(limitSql)}) `}SELECT json_build_array(
      (EXTRACT(EPOCH FROM ${w}) * 1000000)::int8::text,
      (EXTRACT(YEAR FROM ${w}) * 12 + EXTRACT(MONTH FROM ${w}))::int,
      ${limitSql},
      json_build_array(${times.map((f) => micros(f.sql)).join(', ')}),
      json_build_array(${segments.map((f, i) => `ARRAY[${(f.op === 'in' ? f.sql : [f.sql]).map((v) => `(${v})::${segmentTypes[i]!.type}::text`).join(', ')}]::text[]`).join(', ')}),
      ${empty ? 'NULL' : `(SELECT json_agg(${hexSql(`${time.typname}_send(b)`)}) FROM rowstore_buckets)`},
      ${inputs})`;
}

/**
 * Finds the bound; `answer`: the output of `bucketLimitSql(plan)` when the caller ran it already,
 * else it runs with `facts` (facts.ts).
 */
export async function boundBucketLimit(store: ColumnStore, kernels: KernelBackend, run: InternalRunner, plan: AggregatePlan, answer?: Uint8Array, facts?: FactsCache): Promise<BucketBound> {
  const unchanged = { plan, batchesRead: 0 };
  const s = shape(plan);
  if (!s || bucketLimitSql(plan) === undefined) return unchanged;
  const { order, time, segments, times, segmentTypes } = s;
  let row: unknown[];
  if (answer) {
    if (firstError(answer)) return unchanged;
    row = jsonRows<unknown[]>(answer)[0]!;
  } else {
    const got = await withFacts(run, facts, plan.table, (mode) => bucketLimitSql(plan, mode)!, (r) => r[6] as unknown[]);
    if (!got) return unchanged;
    row = got.facts ? [...got.row.slice(0, 6), inputValues(plan, got.row[6] as unknown[], got.facts)] : got.row;
  }
  const [widthText, months, limitValue, timeValues, segmentValues, rowstoreBuckets, inputs] = row as [string, number, number | null, string[], Array<Array<string | null>>, string[] | null, unknown[]];
  const keys = inputs[0] as string[] | null;
  // From here on the kernels' inputs are known (one round trip for both), with or without a bound.
  const plain: BucketBound = { plan, batchesRead: 0, evaluated: { values: inputs, filters: [], limit: limitValue } };
  // Row predicates (their entry follows the filters' in the inputs): a bucket counts only when a
  // row passes them, as in the kernels. Constants Orbit does not take: no bound (the kernels refuse).
  let rowFilters: RowFilter[] = [];
  if (plan.predicates.length > 0) {
    const entry = inputs[1 + (plan.bucketWidthSql !== undefined ? 2 : 0) + plan.filters.length] as Array<[string[], unknown[], boolean | null]>;
    const predicates = rowPredicates(plan.predicates, entry);
    if (!predicates) return plain;
    rowFilters = predicates.map((predicate, k) => ({ column: plan.predicates[k]!.column.name, predicate }));
  }
  const width = BigInt(widthText);
  if (months !== 0 || width <= 0n || limitValue === null || limitValue <= 0) return plain;
  const limit = Number(limitValue);
  const bounds = times.map((f, i) => ({ op: f.op, v: int64(timeValues[i]!) }));
  if (bounds.some((b) => b.v === undefined)) return plain;
  const bucketOf = (t: bigint) => {
    const offset = ORIGIN % width;
    const d = t - offset;
    const q = d / width - (d % width < 0n ? 1n : 0n);
    return q * width + offset;
  };

  const found = new Set<bigint>();
  for (const b of rowstoreBuckets ?? []) {
    const v = int64(b);
    if (v === undefined || v === INT64_MAX || v === INT64_MIN) return plain;
    found.add(v);
  }

  // Chunks newest (oldest) first by their time range, and in each the batches that may hold rows
  // the WHERE keeps, newest (oldest) first: once the n-th bucket is known, the older chunks are not
  // looked at, so the cost does not grow with the data before them.
  const manifests = await Promise.all((keys ?? []).map((k) => store.readManifest(k)));
  const chunks: Array<{ m: Manifest; t: number; range: { lo: bigint; hi: bigint } }> = [];
  for (const m of manifests) {
    const t = m.columns.findIndex((c) => c.name === time.name);
    if (t < 0) return plain;
    if (m.batches.length === 0) continue;
    const range = columnRange(m, t);
    // The time column is NOT NULL: a chunk without int64 time statistics is not taken.
    if (!range) return plain;
    chunks.push({ m, t, range });
  }
  chunks.sort((a, b) => (order.desc ? cmp(b.range.hi, a.range.hi) : cmp(a.range.lo, b.range.lo)));
  // The first n buckets found (newest first for DESC) and the n-th of them, the bound.
  let top: bigint[] = [];
  const kth = (): bigint | undefined => {
    if (found.size < limit) return undefined;
    top = [...found].sort((a, b) => (order.desc ? cmp(b, a) : cmp(a, b))).slice(0, limit);
    return top[limit - 1];
  };
  let read = 0;
  let bound = kth();
  const lo = bounds.reduce((x, { op, v }) => (op === '>=' || op === '=' ? max(x, v!) : op === '>' ? max(x, v! + 1n) : x), INT64_MIN);
  const hi = bounds.reduce((x, { op, v }) => (op === '<=' || op === '=' ? min(x, v!) : op === '<' ? min(x, v! - 1n) : x), INT64_MAX);
  // A batch (or chunk) wholly before the n-th bucket cannot add a bucket among the first n; nor can
  // one whose buckets from the bound on are all among them already (the first n found being n
  // consecutive buckets, and the batch's reaching no further than the first). Candidates come in
  // that order, so the first such batch ends the search.
  const past = (first: bigint, last: bigint) => {
    if (bound === undefined) return false;
    const closed = (order.desc ? top[0]! - bound : bound - top[0]!) === BigInt(limit - 1) * width;
    return order.desc ? last < bound || (closed && bucketOf(min(last, hi)) <= top[0]!) : bucketOf(first) > bound || (closed && bucketOf(max(first, lo)) >= top[0]!);
  };
  // The row predicates' selection bitmap, reused from batch to batch (bucketize copies it in).
  let bits = new Uint8Array(128);
  for (const { m, t, range } of chunks) {
    if (past(range.lo, range.hi) || lo > hi) break;
    const preds: Predicate[] = bounds.map(({ op, v }) => ({ column: time.name, op, value: v! }));
    let matching = new Set(batchesMatching(m, preds));
    for (const [i, f] of segments.entries()) {
      const items = segmentValues[i]!.map((v) => scalarOf(v, segmentTypes[i]!.typname));
      const any = new Set(items.flatMap((value) => (value === null ? [] : batchesMatching(m, [{ column: f.column, op: '=', value }]))));
      matching = new Set([...matching].filter((b) => any.has(b)));
    }
    const candidates: Array<{ batch: number; first: bigint; last: bigint }> = [];
    for (const b of matching) {
      const { min, max } = m.batches[b]!;
      if (typeof min[t] !== 'bigint' || typeof max[t] !== 'bigint') return plain;
      candidates.push({ batch: b, first: min[t] as bigint, last: max[t] as bigint });
    }
    candidates.sort((a, b) => (order.desc ? cmp(b.last, a.last) : cmp(a.first, b.first)));
    const reader = new BatchColumns(store, m, REUSED_TYPES);
    let resolved: ResolvedRowFilter[];
    try {
      resolved = resolveRowFilters(m, rowFilters);
    } catch {
      // A column this chunk lacks, a filter the kernels refuse: they answer without a bound, or refuse.
      return plain;
    }
    for (const c of candidates) {
      if (past(c.first, c.last)) break;
      // Infinite times (the manifest's extremes) have no bucket the kernels could give.
      if (c.first === INT64_MIN || c.last === INT64_MAX) return plain;
      // The rows the row predicates keep (all: null; none: the batch adds no bucket).
      const tests = rowTests(resolved, m.batches[c.batch]!);
      if (!tests) continue;
      const rows = m.batches[c.batch]!.rows;
      if (bits.length < (rows + 7) >> 3) bits = new Uint8Array((rows + 7) >> 3);
      const selection = tests.length > 0 ? await selectRows(reader, c.batch, rows, tests, bits) : null;
      if (selection === undefined) continue;
      // Only rows whose bucket can still be among the first n: from the n-th bucket on (DESC), up to its end (ASC).
      const range = { lo: order.desc && bound !== undefined ? max(lo, bound) : lo, hi: !order.desc && bound !== undefined ? min(hi, bound + width - 1n) : hi };
      const bucket = { width, origin: ORIGIN };
      // The batch's distinct buckets, by the kernels; no await between bucketize and reading its slots.
      let table: SlotTable;
      if (isFused(kernels)) {
        const encoded = (await reader.encoded(c.batch, [time.name])).get(time.name)!;
        table = kernels.bucketizeEncoded(encoded, range, bucket, selection);
      } else {
        const values = (await reader.read(c.batch, [time.name])).get(time.name)!.values as BigInt64Array;
        table = kernels.bucketize(values, range, bucket, selection);
      }
      read++;
      for (let slot = 0; slot < table.slots; slot++) found.add(table.buckets[slot]!);
      bound = kth();
    }
  }
  const literal = bound === undefined ? undefined : timestampLiteral(order.desc ? bound : bound + width, time.typname === 'timestamptz');
  if (literal === undefined) return { ...plain, batchesRead: read };
  const filter: ConstantFilter = { column: time.name, op: order.desc ? '>=' : '<', sql: `${literal}::${time.type}` };
  return {
    plan: { ...plan, filters: [...plan.filters, filter] },
    batchesRead: read,
    bound: `${time.name} ${filter.op} ${filter.sql}`,
    evaluated: { values: inputs, limit: limitValue, filters: [{ column: time.name, op: filter.op as '>=' | '<', value: order.desc ? bound! : bound! + width }] },
  };
}

/** µs since 2000-01-01 as a SQL timestamp literal (UTC for timestamptz); undefined outside years 1-9999. */
function timestampLiteral(us: bigint, tz: boolean): string | undefined {
  const ms = us / 1000n - (us % 1000n < 0n ? 1n : 0n);
  const rest = us - ms * 1000n;
  const date = new Date(Number(ms) + 946_684_800_000);
  const iso = date.toISOString();
  if (!/^\d{4}-/.test(iso) || date.getUTCFullYear() < 1) return undefined;
  return `'${iso.slice(0, 10)} ${iso.slice(11, 23)}${String(rest).padStart(3, '0')}${tz ? '+00' : ''}'`;
}

/** A `*_send` value (json bytea "\\x…", 8 bytes big-endian) as an int64; undefined for NULL. */
function int64(hex: string | null): bigint | undefined {
  if (hex === null) return undefined;
  return BigInt.asIntN(64, BigInt(`0x${hex.slice(2)}`));
}

function scalarOf(text: string | null, typname: string): Scalar {
  if (text === null) return null;
  if (typname === 'int8') return BigInt(text);
  if (typname === 'int2' || typname === 'int4') return Number(text);
  if (typname === 'bool') return text === 'true';
  return text;
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
