/**
 * @module columnstore/kernels/aggregate
 * Aggregate queries over compressed chunks (docs/design/columnstore.md, "Kernels"): per batch,
 * either the manifest's statistics alone or the kernels over the few columns the query reads.
 *
 * 1. Batches are skipped by their segment values and time min/max (`batchesMatching`, and = / IN
 *    on segmentby columns), and by row filters their statistics show no row to pass.
 * 2. A batch entirely inside the time range and within one bucket, every row passing the row
 *    filters, whose aggregates the manifest holds (count(*), count(col), min/max, integer
 *    sum/avg), is answered from the manifest: no read. Row filters that some rows only may pass
 *    make a selection bitmap, which bucketize takes (rows outside it get no slot).
 * 3. Otherwise only the time column, the aggregated columns and the first/last ordering columns are
 *    decoded; count(col) reads only the column's NULL bitmap unless the column is decoded anyway.
 * Segmentby columns are constant within a batch, so a batch's groups are its time buckets: the
 * kernels' slots.
 */
import { orbitError } from '../../errors.js';
import { readBatchHeader } from '../batch-format.js';
import { readColumnHeader } from '../codecs/index.js';
import { ByteReader } from '../codecs/format.js';
import { scalarAt, type Column, type PgType, type Scalar } from '../columns.js';
import { batchesMatching, batchesWithSegment, intersect, type Manifest, type Predicate } from '../manifest.js';
import type { ColumnStore } from '../store.js';
import type { BatchStats } from '../batch.js';
import { FloatFlags, isFused, LARGE_FLOAT, type ColumnAggregates, type EncodedColumn, type KernelBackend, type KernelValues, type SlotTable, type ValueAggregates, type FirstLast } from './backend.js';
import { BatchColumns } from './batch-columns.js';
import { bucketOf } from './bucket.js';
import { emptyPartials, groupOf, keyPrefix, mergePartials, mergeState, type AggState, type GroupPartial, type Partials } from './partials.js';
import { equalValues, resolveSpec, type AggregateSpec, type ResolvedAggregate, type ResolvedRowFilter, type ResolvedSpec } from './spec.js';
import { filterRows, floatRangeOf, verdictOf } from '../row-filter.js';

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
/** Keeps every row: batches known to lie wholly inside the query's range. */
const ALL_TIME = { lo: -(1n << 63n), hi: (1n << 63n) - 1n };
const KERNEL_TYPES: ReadonlySet<PgType> = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'timestamptz', 'timestamp', 'date']);

/** Whether the manifest's statistics answer `a` for a whole batch. */
function fromStats(a: ResolvedAggregate, stats: BatchStats, col: number): AggState | null {
  const nonNull = col < 0 ? stats.rows : stats.rows - stats.nullCount[col]!;
  const state: AggState = { count: nonNull, sum: 0n, nonFinite: false, maxAbs: 0, value: null, time: null };
  switch (a.fn) {
    case 'count':
      return state;
    case 'min':
    case 'max':
      state.value = nonNull ? (a.fn === 'min' ? stats.min[col]! : stats.max[col]!) : null;
      return state;
    case 'sum':
    case 'avg': {
      if (a.type === 'float4' || a.type === 'float8') return null;
      const sum = stats.sum[col];
      if (nonNull && (sum === null || sum === undefined)) return null;
      state.sum = sum ?? 0n;
      return state;
    }
    default:
      return null;
  }
}

/** The NULL bitmap of one column of a batch, read from its header without decoding values. */
async function nullsOf(store: ColumnStore, m: Manifest, batchNo: number, col: number): Promise<Uint8Array | null> {
  const bytes = await store.batchObject(m, batchNo);
  const { offset, length, type } = readBatchHeader(bytes).columns[col]!;
  let section = bytes.subarray(offset, offset + length);
  if (type === 'uuid' || type === 'opaque') {
    const r = new ByteReader(section);
    section = r.bytes(r.varint());
  }
  return readColumnHeader(section).nulls;
}

function kernelValues(c: Column): KernelValues {
  if (!KERNEL_TYPES.has(c.type)) throw orbitError('internal_error', `no kernel for ${c.type}`);
  return c.values as KernelValues;
}

/** The state of aggregate `a` in slot `s` of a decoded batch. */
function slotState(a: ResolvedAggregate, s: number, table: SlotTable, agg?: ValueAggregates, fl?: FirstLast, value?: Column, by?: BigInt64Array): AggState {
  const state: AggState = { count: 0, sum: 0n, nonFinite: false, maxAbs: 0, value: null, time: null };
  if (a.fn === 'first' || a.fn === 'last') {
    const row = (a.fn === 'first' ? fl!.first : fl!.last)[s]!;
    if (row >= 0) {
      state.time = by![row]!;
      state.value = scalarAt(value!, row);
    }
    return state;
  }
  if (a.column === null) {
    state.count = table.rows[s]!;
    return state;
  }
  state.count = agg!.count[s]!;
  if (a.fn === 'sum' || a.fn === 'avg') {
    state.sum = agg!.sumFloat ? agg!.sumFloat[s]! : agg!.sumInt![s]!;
    if (agg!.floatFlags && state.count > 0) foldFloatInputs(state, agg!.floatFlags[s]!, agg!.min[s] as number, agg!.max[s] as number);
  } else if (a.fn === 'min' || a.fn === 'max') {
    state.value = extremeOf(a, agg!, s);
  }
  return state;
}

/** min or max (per `a.fn`) of slot `s`, as the column's values are held elsewhere. */
function extremeOf(a: ResolvedAggregate, agg: ValueAggregates, s: number): number | bigint {
  const v = (a.fn === 'min' ? agg.min : agg.max)[s]!;
  // int2/int4/date are numbers elsewhere (manifest, decoded rows); the kernel widened them.
  return typeof v === 'bigint' && a.type !== 'int8' && a.type !== 'timestamptz' && a.type !== 'timestamp' ? Number(v) : v;
}

/**
 * Folds slot `s` of a value column's kernel results into `into`: mergeState(fn, into, slotState(…))
 * without the intermediate state (one per slot and aggregate per batch adds up over a scan).
 */
function foldSlot(a: ResolvedAggregate, into: AggState, agg: ValueAggregates, s: number): void {
  const count = agg.count[s]!;
  switch (a.fn) {
    case 'count':
      into.count += count;
      return;
    case 'sum':
    case 'avg':
      into.count += count;
      into.sum = agg.sumFloat ? (into.sum as number) + agg.sumFloat[s]! : (into.sum as bigint) + agg.sumInt![s]!;
      if (agg.floatFlags && count > 0) foldFloatInputs(into, agg.floatFlags[s]!, agg.min[s] as number, agg.max[s] as number);
      return;
    case 'min':
    case 'max':
      if (count > 0) foldExtreme(a, into, extremeOf(a, agg, s), count);
      return;
    default:
      throw orbitError('internal_error', `${a.fn} is not a value column's kernel aggregate`);
  }
}

/**
 * A float slot's flags and min/max into `into`'s nonFinite and maxAbs. With a non-finite value the
 * min/max no longer bound the finite ones; the flags do (LARGE_FLOAT, or above it: Infinity).
 */
function foldFloatInputs(into: AggState, flags: number, min: number, max: number): void {
  const large = flags & FloatFlags.largeFinite ? Infinity : LARGE_FLOAT;
  const m = flags & FloatFlags.nonFinite ? large : Math.max(-min, max);
  if (flags & FloatFlags.nonFinite) into.nonFinite = true;
  if (m > into.maxAbs) into.maxAbs = m;
}

/** A slot's min or max (`count` rows) into `into`, in PostgreSQL's float order (NaN above everything), as mergeState's less/greater. */
function foldExtreme(a: ResolvedAggregate, into: AggState, from: number | bigint, count: number): void {
  const to = into.value as number | bigint;
  const better = a.fn === 'min' ? from < to || (to !== to && from === from) : from > to || (from !== from && to === to);
  if (into.count === 0 || better) into.value = from;
  into.count += count;
}

/**
 * Folds slot `s` of column `c` of a fused backend's results into `into`, as foldSlot does with a
 * column's ValueAggregates.
 */
function foldColumn(a: ResolvedAggregate, into: AggState, r: ColumnAggregates, c: number, s: number): void {
  const count = r.count(c, s);
  switch (a.fn) {
    case 'count':
      into.count += count;
      return;
    case 'sum':
    case 'avg':
      into.count += count;
      if (a.type === 'float4' || a.type === 'float8') {
        into.sum = (into.sum as number) + r.sumFloat(c, s);
        if (count > 0) foldFloatInputs(into, r.floatFlags(c, s), r.min(c, s) as number, r.max(c, s) as number);
      } else into.sum = (into.sum as bigint) + r.sumInt(c, s);
      return;
    case 'min':
    case 'max': {
      if (count === 0) return;
      let from = a.fn === 'min' ? r.min(c, s) : r.max(c, s);
      // int2/int4/date are numbers elsewhere (manifest, decoded rows); the kernel widened them.
      if (typeof from === 'bigint' && a.type !== 'int8' && a.type !== 'timestamptz' && a.type !== 'timestamp') from = Number(from);
      foldExtreme(a, into, from, count);
      return;
    }
    default:
      throw orbitError('internal_error', `${a.fn} is not a value column's kernel aggregate`);
  }
}

/** Which columns a batch's kernels read, and how: the same for every batch of a chunk with the same `timed`. */
interface ColumnPlan {
  readonly names: ReadonlySet<string>;
  readonly nullOnly: ReadonlySet<string>;
  readonly encodedNames: ReadonlySet<string>;
  readonly encodedList: readonly string[];
  readonly decodedNames: readonly string[];
  /** encodedList's index of the time column (−1: not read encoded). */
  readonly timeAt: number;
  /** Fused: the value columns aggregated in one call, as indexes into encodedList. */
  readonly valueAt: readonly number[];
  /** Per aggregate: its column's index among valueAt, or −1 (another route). */
  readonly valueOf: readonly number[];
  /** Arrays reused from batch to batch (filled after the batch's last await, used before the next). */
  readonly encodedBuf: EncodedColumn[];
  readonly valueBuf: EncodedColumn[];
  readonly groups: GroupPartial[];
  /** Some aggregate takes another route than count(*) or the fused call. */
  readonly others: boolean;
}

/** `timed`: the time column is read (the batch is not wholly inside the range and one bucket). */
function columnPlan(r: ResolvedSpec, kernels: KernelBackend, timed: boolean): ColumnPlan {
  const aggs = r.aggregates;
  const names = new Set<string>(timed ? [r.timeColumn] : []);
  for (const a of aggs) {
    if (a.by) names.add(a.by);
    if (a.column !== null && a.fn !== 'count') names.add(a.column);
  }
  // count(col) needs only NULLs: a column's bitmap, read from its header unless it is decoded
  // anyway; counted by the kernels over zeros unless the column is decoded for its own kernel.
  const nullOnly = new Set<string>();
  for (const a of aggs) if (a.fn === 'count' && a.column !== null && !(names.has(a.column) && KERNEL_TYPES.has(a.type!))) nullOnly.add(a.column);
  // A fused backend decodes the time column and the aggregated value columns itself, from their
  // encoded streams; first/last columns (whose values come back as rows) are decoded here.
  const encodedNames = new Set<string>();
  if (isFused(kernels)) {
    if (timed) encodedNames.add(r.timeColumn);
    for (const a of aggs) if (a.column !== null && a.fn !== 'first' && a.fn !== 'last' && names.has(a.column) && KERNEL_TYPES.has(a.type!)) encodedNames.add(a.column);
  }
  const decodedNames = [...names].filter((n) => !encodedNames.has(n) || aggs.some((a) => a.by === n || ((a.fn === 'first' || a.fn === 'last') && a.column === n)));
  const encodedList = [...encodedNames];
  const values: string[] = [];
  const valueOf = aggs.map((a) => {
    if (a.column === null || a.fn === 'first' || a.fn === 'last' || nullOnly.has(a.column) || !encodedNames.has(a.column)) return -1;
    if (!values.includes(a.column)) values.push(a.column);
    return values.indexOf(a.column);
  });
  return {
    names, nullOnly, encodedNames, encodedList, decodedNames,
    timeAt: encodedList.indexOf(r.timeColumn),
    valueAt: values.map((v) => encodedList.indexOf(v)),
    valueOf,
    encodedBuf: [],
    valueBuf: [],
    groups: [],
    others: aggs.some((a, i) => a.column !== null && valueOf[i]! < 0),
  };
}

/**
 * Runs the kernels over one batch. `uniform` is set when the manifest shows every row kept and in
 * one bucket (null = no bucketing): the time column is then not decoded, only counted.
 */
async function decodeBatchInto(p: Partials, r: ResolvedSpec, reader: BatchColumns, store: ColumnStore, m: Manifest, batchNo: number, key: readonly Scalar[], prefix: string, kernels: KernelBackend, uniform: bigint | null | undefined, plans: Map<boolean, ColumnPlan>, selection: Uint8Array | null): Promise<void> {
  const aggs = r.aggregates;
  const timed = uniform === undefined;
  let plan = plans.get(timed);
  if (!plan) plans.set(timed, (plan = columnPlan(r, kernels, timed)));
  const { names, nullOnly, encodedList, decodedNames, valueAt, valueOf } = plan;
  const fused = isFused(kernels) ? kernels : null;
  const encoded = encodedList.length ? await reader.encodedInto(batchNo, encodedList, plan.encodedBuf) : plan.encodedBuf;
  const decoded = decodedNames.length ? await reader.read(batchNo, decodedNames) : null;
  let bitmaps: Map<string, Uint8Array | null> | undefined;
  for (const name of nullOnly) (bitmaps ??= new Map()).set(name, names.has(name) ? decoded!.get(name)!.nulls : await nullsOf(store, m, batchNo, m.columns.findIndex((c) => c.name === name)));
  const rows = m.batches[batchNo]!.rows;
  // From bucketize on, no await: a backend holds one batch's slots, and concurrent queries may share it.
  let table: SlotTable;
  // The row filters' selection, when they keep some rows only, narrows the rows kept here.
  if (uniform !== undefined) table = fused && !selection ? fused.bucketizeUniform(rows) : kernels.bucketize(reader.zeros(rows), ALL_TIME, null, selection);
  else if (fused) table = fused.bucketizeEncoded(encoded[plan.timeAt]!, r.range, r.bucket, selection);
  else table = kernels.bucketize(decoded!.get(r.timeColumn)!.values as BigInt64Array, r.range, r.bucket, selection);
  if (table.slots === 0) return;

  const groups = plan.groups;
  for (let s = 0; s < table.slots; s++) groups[s] = groupOf(p, prefix, key, uniform !== undefined ? uniform : r.bucket ? table.buckets[s]! : null);
  // count(*): the slot's rows.
  for (let i = 0; i < aggs.length; i++) if (aggs[i]!.column === null) for (let s = 0; s < table.slots; s++) groups[s]!.states[i]!.count += table.rows[s]!;
  // The value columns a fused backend decodes: one call for all of them.
  if (valueAt.length) {
    const buf = plan.valueBuf;
    for (let c = 0; c < valueAt.length; c++) buf[c] = encoded[valueAt[c]!]!;
    buf.length = valueAt.length;
    const res = fused!.aggregateEncodedColumns(buf);
    for (let i = 0; i < aggs.length; i++) {
      const c = valueOf[i]!;
      if (c < 0) continue;
      for (let s = 0; s < table.slots; s++) foldColumn(aggs[i]!, groups[s]!.states[i]!, res, c, s);
    }
  }
  if (!plan.others) return;
  // The other routes: count(col) of NULL bitmaps, columns decoded here, first/last.
  const column = (name: string): Column => decoded!.get(name)!;
  const fold = (i: number, state: (s: number) => AggState): void => {
    for (let s = 0; s < table.slots; s++) mergeState(aggs[i]!.fn, groups[s]!.states[i]!, state(s));
  };
  // Each kernel result is folded in before the next call of that kernel (backends reuse arrays).
  const done = new Set<string>();
  let zeros: Int16Array | undefined;
  for (let j = 0; j < aggs.length; j++) {
    const a = aggs[j]!;
    if (a.column === null || a.fn === 'first' || a.fn === 'last' || valueOf[j]! >= 0 || done.has(a.column)) continue;
    done.add(a.column);
    let agg: ValueAggregates;
    if (nullOnly.has(a.column)) {
      // count(col) of a type without a kernel: the NULL bitmap over a column of zeros.
      zeros ??= new Int16Array(rows);
      agg = kernels.aggregate(zeros, bitmaps!.get(a.column)!);
    } else {
      const c = column(a.column);
      agg = kernels.aggregate(kernelValues(c), c.nulls);
    }
    for (let i = 0; i < aggs.length; i++) {
      const b = aggs[i]!;
      if (b.column !== a.column || b.fn === 'first' || b.fn === 'last') continue;
      for (let s = 0; s < table.slots; s++) foldSlot(b, groups[s]!.states[i]!, agg, s);
    }
  }
  for (const a of aggs) {
    if (!a.by || done.has(`by:${a.by}`)) continue;
    done.add(`by:${a.by}`);
    const by = column(a.by);
    const fl = kernels.firstLast(by.values as BigInt64Array, by.nulls);
    aggs.forEach((b, i) => b.by === a.by && fold(i, (s) => slotState(b, s, table, undefined, fl, column(b.column!), by.values as BigInt64Array)));
  }
}

/**
 * The row filters a batch's statistics leave to be tested row by row (none: every row passes);
 * undefined when they show that no row passes one of them.
 */
export function rowTests(filters: readonly ResolvedRowFilter[], stats: BatchStats): ResolvedRowFilter[] | undefined {
  const tests: ResolvedRowFilter[] = [];
  for (const f of filters) {
    const v = verdictOf(f.type, f.predicate, stats.rows, stats.nullCount[f.index]!, stats.min[f.index] ?? null, stats.max[f.index] ?? null);
    if (v === 'none') return undefined;
    if (v === 'some') tests.push(f);
  }
  return tests;
}

/**
 * The rows of a batch that pass `tests` (ANDed), as a selection bitmap in `bits` (bit i = row i;
 * room for the batch's rows); null when every row passes, undefined when none does.
 */
export async function selectRows(reader: BatchColumns, batchNo: number, rows: number, tests: readonly ResolvedRowFilter[], bits: Uint8Array): Promise<Uint8Array | null | undefined> {
  let selection: Uint32Array | undefined;
  // A lone float range test over a NULL-free column (usage_user > 90): decoded and tested in one call.
  const range = tests.length === 1 ? floatRangeOf(tests[0]!.predicate) : undefined;
  const filtered = range && (await reader.filterAt(batchNo, tests[0]!.column, range.op, range.x));
  if (filtered) selection = filtered.rows;
  else {
    const decoded = await reader.read(batchNo, [...new Set(tests.map((t) => t.column))]);
    for (const t of tests) selection = filterRows(decoded.get(t.column)!, rows, t.predicate, selection);
  }
  if (selection!.length === 0) return undefined;
  if (selection!.length === rows) return null;
  bits.fill(0, 0, (rows + 7) >> 3);
  for (const i of selection!) bits[i >> 3] |= 1 << (i & 7);
  return bits;
}

/**
 * Partial aggregates of one compressed chunk. Throws 0A000 for what the kernels do not support (see
 * `resolveSpec`), so the caller can run the query through PostgreSQL instead; time_bucket's range
 * errors (22003, 22008) and corrupt batches (XX001) as PostgreSQL and the store raise them.
 */
export async function aggregateChunk(store: ColumnStore, manifest: Manifest, spec: AggregateSpec, kernels: KernelBackend): Promise<Partials> {
  const r = resolveSpec(manifest, spec);
  const p = emptyPartials(r.aggregates, r.groupBy.map((g) => g.name), r.bucket !== null);
  const { lo, hi } = r.range;
  const timeCol = manifest.columns.findIndex((c) => c.name === r.timeColumn);
  const cols = r.aggregates.map((a) => (a.column === null ? -1 : manifest.columns.findIndex((c) => c.name === a.column)));
  p.stats.batches = manifest.batches.length;
  const predicates: Predicate[] = [];
  if (lo > INT64_MIN) predicates.push({ column: r.timeColumn, op: '>=', value: lo });
  if (hi < INT64_MAX) predicates.push({ column: r.timeColumn, op: '<=', value: hi });
  // Segmentby filters pick their batches from the manifest's index (the per-batch test below stays).
  let only: number[] | undefined;
  for (const [seg, values] of r.segmentFilters) {
    const hit = batchesWithSegment(manifest, seg, values);
    if (hit) only = only ? intersect(only, hit) : hit;
  }
  const candidates = lo > hi ? [] : batchesMatching(manifest, predicates, only);
  const types = r.groupBy.map((g) => g.type);
  const segTypes = manifest.settings.segmentBy.map((name) => manifest.columns.find((c) => c.name === name)!.type);
  const shift = r.bucket ? r.bucket.origin % r.bucket.width : 0n;
  const reader = new BatchColumns(store, manifest, KERNEL_TYPES).plan(candidates);
  const plans = new Map<boolean, ColumnPlan>();
  // The row filters' selection bitmap, reused from batch to batch (the kernels copy it in).
  let bits: Uint8Array | undefined;
  const maxRows = Math.max(0, ...candidates.map((b) => manifest.batches[b]!.rows));
  let key: Scalar[] | undefined;
  let prefix = '';

  for (const batchNo of candidates) {
    const stats = manifest.batches[batchNo]!;
    let segmentOk = true;
    for (const [seg, values] of r.segmentFilters) {
      const v = stats.segment[seg]!;
      if (v === null || !values.some((x) => equalValues(segTypes[seg]!, v, x))) segmentOk = false;
    }
    if (!segmentOk || stats.rows === 0) continue;
    if (stats.nullCount[timeCol]! > 0) {
      throw orbitError('feature_not_supported', `columnstore kernels do not support NULLs in the time column "${r.timeColumn}"`);
    }
    // Row filters the statistics cannot settle are tested row by row; one that no row passes skips the batch.
    const left = rowTests(r.rowFilters, stats);
    if (!left) continue;
    const tests = left.length > 0 ? left : undefined;
    // A segment's batches follow one another: its key and prefix are made once.
    if (!key || r.groupBy.some((g, i) => !Object.is(stats.segment[g.segment], key![i]))) {
      key = r.groupBy.map((g) => stats.segment[g.segment]!);
      prefix = keyPrefix(types, key);
    }
    const tmin = stats.min[timeCol] as bigint;
    const tmax = stats.max[timeCol] as bigint;
    let uniform: bigint | null | undefined;
    if (tmin >= lo && tmax <= hi) {
      const first = r.bucket ? bucketOf(tmin, r.bucket.width, shift) : null;
      if (first === null || bucketOf(tmax, r.bucket!.width, shift) === first) {
        uniform = first;
        // The statistics describe every row of the batch: only when every row is kept.
        const states = tests ? [] : r.aggregates.map((a, i) => fromStats(a, stats, cols[i]!));
        if (!tests && states.every((s) => s !== null)) {
          const g = groupOf(p, prefix, key, first);
          states.forEach((s, i) => mergeState(r.aggregates[i]!.fn, g.states[i]!, s!));
          p.stats.fromManifest++;
          continue;
        }
      }
    }
    const selection = tests ? await selectRows(reader, batchNo, stats.rows, tests, (bits ??= new Uint8Array((maxRows + 7) >> 3))) : null;
    p.stats.decoded++;
    if (selection === undefined) continue;
    await decodeBatchInto(p, r, reader, store, manifest, batchNo, key, prefix, kernels, uniform, plans, selection);
  }
  p.stats.skipped = p.stats.batches - p.stats.fromManifest - p.stats.decoded;
  return p;
}

/** Partial aggregates of several chunks (of one hypertable), merged in the order given. */
export async function aggregateChunks(store: ColumnStore, manifests: readonly Manifest[], spec: AggregateSpec, kernels: KernelBackend): Promise<Partials | null> {
  let out: Partials | null = null;
  for (const m of manifests) {
    const p = await aggregateChunk(store, m, spec, kernels);
    out = out ? mergePartials(out, p) : p;
  }
  return out;
}

