/**
 * The kernels against PostgreSQL itself (PGlite): the same rows compressed in Orbit's batch store and
 * plain in a PGlite table, the same aggregates as SQL (time_bucket as date_bin from TimescaleDB's
 * origin, first/last as ordered array_agg). Values are dyadic so float sums are exact in any order,
 * and times distinct so first/last have no ties: the results must be equal, not just close.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodecBackend } from '../../src/columnstore/codecs/index.js';
import { loadCodecsNode } from '../../src/columnstore/codecs/load-node.js';
import type { Scalar } from '../../src/columnstore/columns.js';
import { aggregateChunk, finalize, numericDivide, ReferenceKernels, type AggregateCall, type AggregateSpec, type KernelBackend } from '../../src/columnstore/kernels/index.js';
import { loadKernelsNode } from '../../src/columnstore/kernels/load-node.js';
import type { Manifest } from '../../src/columnstore/manifest.js';
import { writeCopyBinary } from '../../src/columnstore/pg-binary-writer.js';
import { ColumnStore } from '../../src/columnstore/store.js';
import type { PGliteRowStore } from '../../src/rowstore/pglite.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import { Prng } from '../support/prng.js';
import { openTestRowStore } from '../support/row-store.js';
import { COLUMNS, HOUR, kernelRows } from './kernel-rows.js';

let pg: PGliteRowStore;
let codecs: CodecBackend;
let wasm: KernelBackend;
let store: ColumnStore;
let manifest: Manifest;
const EPOCH_2000 = 946_684_800_000_000n;

beforeAll(async () => {
  [pg, codecs, wasm] = await Promise.all([openTestRowStore(), loadCodecsNode(), loadKernelsNode()]);
  const rows = kernelRows(new Prng(2026), 5000, { awkward: true, distinctTimes: true, dyadic: true, noNegativeZero: true });
  store = new ColumnStore(new MemoryStorage(), codecs);
  manifest = await store.writeChunk(1, 1, rows, { segmentBy: ['host', 'dev'], orderBy: [{ column: 'time', desc: true }], timeColumn: 'time' });
  await pg.db.exec(`SET timezone = 'UTC'; CREATE TABLE t (${COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ')})`);
  await pg.db.query(`COPY t FROM '/dev/blob' WITH (FORMAT binary)`, [], { blob: new Blob([writeCopyBinary(rows.columns) as Uint8Array<ArrayBuffer>]) });
}, 60_000);
afterAll(async () => {
  await pg?.close();
});

const TIME_TYPES = new Set(['time', 'ts']);
/** µs since 2000-01-01 of a timestamp(tz) expression, exact (extract returns numeric). */
function micros(expr: string, tz: boolean): string {
  return tz ? `(extract(epoch FROM ${expr}) * 1000000 - ${EPOCH_2000})::bigint::text` : `(extract(epoch FROM ${expr} - TIMESTAMP '2000-01-01') * 1000000)::bigint::text`;
}

function sqlOf(a: AggregateCall): string {
  if (!a.column) return 'count(*)::text';
  const c = a.column;
  const text = (e: string): string => (TIME_TYPES.has(c) && a.fn !== 'count' ? micros(e, c === 'time') : `${e}::text`);
  if (a.fn === 'first' || a.fn === 'last') {
    const by = a.by ?? 'time';
    return text(`(array_agg(${c} ORDER BY ${by} ${a.fn === 'first' ? 'ASC' : 'DESC'}) FILTER (WHERE ${by} IS NOT NULL))[1]`);
  }
  return text(`${a.fn}(${c})`);
}

function sqlQuery(spec: AggregateSpec, where: string): string {
  const keys = [...(spec.groupBy ?? []).map((g) => `${g}::text`)];
  if (spec.bucket) keys.push(micros(`date_bin('${spec.bucket.widthUs} microseconds', time, TIMESTAMPTZ '2000-01-03 00:00:00+00')`, true));
  const list = [...keys, ...spec.aggregates.map(sqlOf)].map((e, i) => `${e} AS c${i}`).join(', ');
  const group = keys.length ? ` GROUP BY ${keys.map((_, i) => i + 1).join(', ')}` : '';
  return `SELECT ${list} FROM t${where ? ` WHERE ${where}` : ''}${group}`;
}

/** Our value as PostgreSQL's text would parse back: floats by value (float4 rounded), the rest as text. */
function norm(v: Scalar): string {
  if (v === null) return '∅';
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  return String(v);
}

function normPg(text: string | null, a: AggregateCall | null): string {
  if (text === null) return '∅';
  if (!a || !a.column || a.fn === 'count' || !['f8', 'f4'].includes(a.column)) return text;
  const n = Number(text);
  return norm(a.column === 'f4' && a.fn !== 'avg' ? Math.fround(n) : n);
}

async function compare(spec: AggregateSpec, where: string, kernels: KernelBackend): Promise<number> {
  const ours = finalize(await aggregateChunk(store, manifest, spec, kernels)).map((r) =>
    [...r.key.map(norm), ...(r.bucket === null ? [] : [String(r.bucket)]), ...r.values.map(norm)].join(' | '),
  );
  const keys = (spec.groupBy?.length ?? 0) + (spec.bucket ? 1 : 0);
  const res = await pg.db.query<Record<string, string | null>>(sqlQuery(spec, where));
  const theirs = res.rows.map((row) => Object.values(row).map((v, i) => normPg(v, i < keys ? null : spec.aggregates[i - keys]!)).join(' | '));
  expect(ours.sort()).toEqual(theirs.sort());
  return ours.length;
}

const ALL: AggregateCall[] = [
  { fn: 'count' },
  { fn: 'count', column: 'note' },
  { fn: 'sum', column: 'f8' },
  { fn: 'sum', column: 'f4' },
  { fn: 'sum', column: 'i2' },
  { fn: 'sum', column: 'i4' },
  { fn: 'sum', column: 'i8' },
  { fn: 'avg', column: 'f8' },
  { fn: 'avg', column: 'f4' },
  { fn: 'avg', column: 'i2' },
  { fn: 'avg', column: 'i8' },
  { fn: 'min', column: 'f8' },
  { fn: 'max', column: 'f4' },
  { fn: 'min', column: 'i8' },
  { fn: 'max', column: 'i2' },
  { fn: 'max', column: 'ts' },
  { fn: 'first', column: 'f8' },
  { fn: 'last', column: 'i4' },
  { fn: 'first', column: 'note', by: 'ts' },
  { fn: 'last', column: 'ts' },
];

describe.each([
  ['wasm', () => wasm],
  ['reference', () => new ReferenceKernels()],
])('kernels (%s) = PostgreSQL', (_, kernels) => {
  it('whole table, no groups', async () => {
    expect(await compare({ aggregates: ALL }, '', kernels())).toBe(1);
  });

  it('time_bucket(1 hour) per host and dev, with NULL hosts', async () => {
    expect(await compare({ bucket: { widthUs: HOUR }, groupBy: ['host', 'dev'], aggregates: ALL }, '', kernels())).toBeGreaterThan(50);
  });

  it('a time window cutting batches and buckets, host IN (…)', async () => {
    const lo = manifest.batches[3]!.min[0] as bigint;
    const hi = lo + 7n * HOUR + 123n;
    const spec: AggregateSpec = {
      bucket: { widthUs: 15n * 60_000_000n },
      groupBy: ['host'],
      filters: [{ column: 'time', op: '>=', value: lo }, { column: 'time', op: '<', value: hi }, { column: 'host', op: 'in', values: ['a', 'é', null] }],
      aggregates: ALL,
    };
    const where = `time >= TIMESTAMPTZ '2000-01-01 00:00:00+00' + ${lo} * INTERVAL '1 microsecond' AND time < TIMESTAMPTZ '2000-01-01 00:00:00+00' + ${hi} * INTERVAL '1 microsecond' AND host IN ('a', 'é', NULL)`;
    expect(await compare(spec, where, kernels())).toBeGreaterThan(5);
  });

  it('a daily bucket over pre-2000 times, and an empty window', async () => {
    await compare({ bucket: { widthUs: 24n * HOUR }, groupBy: ['dev'], aggregates: ALL }, '', kernels());
    const empty: AggregateSpec = { filters: [{ column: 'time', op: '<', value: -(10n ** 17n) }], aggregates: ALL };
    expect(await compare(empty, `time < TIMESTAMPTZ '2000-01-01 00:00:00+00' - ${10n ** 17n} * INTERVAL '1 microsecond'`, kernels())).toBe(1);
  });
});

describe('NULL-free DECIMAL floats, decoded and aggregated in one pass by runs of a bucket (wasm) = PostgreSQL', () => {
  let plain: Manifest;
  beforeAll(async () => {
    // The same kind of rows without NULLs in f8/f4 (their NULL rows hold 0): dyadic values of 3
    // decimals, stored DECIMAL without exceptions, in batches spanning many 1-hour buckets; one
    // segment's rows get NaN and ±Infinity (exceptions: that batch takes the two passes).
    const rows = kernelRows(new Prng(77), 4000, { awkward: false, distinctTimes: true, dyadic: true, noNegativeZero: true });
    const host = rows.columns[1]!;
    const awkward = [NaN, Infinity, -Infinity];
    for (const c of [3, 4]) {
      const col = rows.columns[c]!;
      (col as { nulls: Uint8Array | null }).nulls = null;
      for (let i = 0, k = 0; i < rows.columns[0]!.values.length; i++) {
        if (!(host.nulls && host.nulls[i >> 3]! & (1 << (i & 7))) && (host.values as string[])[i] === 'c' && i % 97 === 0) (col.values as Float64Array)[i] = awkward[k++ % 3]!;
      }
    }
    plain = await store.writeChunk(1, 2, rows, { segmentBy: ['host', 'dev'], orderBy: [{ column: 'time', desc: true }], timeColumn: 'time' });
    await pg.db.exec('CREATE TABLE t2 (LIKE t)');
    await pg.db.query(`COPY t2 FROM '/dev/blob' WITH (FORMAT binary)`, [], { blob: new Blob([writeCopyBinary(rows.columns) as Uint8Array<ArrayBuffer>]) });
  }, 60_000);

  it('sum/avg/min/max/count per hour and host, whole table and a window cutting batches', async () => {
    const aggregates: AggregateCall[] = [
      { fn: 'count' }, { fn: 'avg', column: 'f8' }, { fn: 'sum', column: 'f8' }, { fn: 'min', column: 'f8' }, { fn: 'max', column: 'f8' },
      { fn: 'avg', column: 'f4' }, { fn: 'sum', column: 'f4' }, { fn: 'min', column: 'f4' }, { fn: 'max', column: 'f4' }, { fn: 'count', column: 'f4' },
    ];
    const run = async (spec: AggregateSpec, where: string): Promise<number> => {
      const ours = finalize(await aggregateChunk(store, plain, spec, wasm)).map((r) =>
        [...r.key.map(norm), ...(r.bucket === null ? [] : [String(r.bucket)]), ...r.values.map(norm)].join(' | '),
      );
      const keys = (spec.groupBy?.length ?? 0) + (spec.bucket ? 1 : 0);
      const res = await pg.db.query<Record<string, string | null>>(sqlQuery(spec, where).replace(' FROM t', ' FROM t2'));
      const theirs = res.rows.map((row) => Object.values(row).map((v, i) => normPg(v, i < keys ? null : spec.aggregates[i - keys]!)).join(' | '));
      expect(ours.sort()).toEqual(theirs.sort());
      return ours.length;
    };
    expect(await run({ bucket: { widthUs: HOUR }, groupBy: ['host'], aggregates }, '')).toBeGreaterThan(500);
    const lo = plain.batches[2]!.min[0] as bigint;
    const hi = lo + 40n * HOUR + 17n;
    const where = `time >= TIMESTAMPTZ '2000-01-01 00:00:00+00' + ${lo} * INTERVAL '1 microsecond' AND time < TIMESTAMPTZ '2000-01-01 00:00:00+00' + ${hi} * INTERVAL '1 microsecond'`;
    const window: AggregateSpec = { bucket: { widthUs: HOUR }, groupBy: ['host', 'dev'], filters: [{ column: 'time', op: '>=', value: lo }, { column: 'time', op: '<', value: hi }], aggregates };
    expect(await run(window, where)).toBeGreaterThan(20);
  });
});

it('avg of integers prints like numeric_div', async () => {
  const pairs: [bigint, bigint][] = [[10n ** 20n + 1n, 3n], [0n, 3n], [-7n, 2n], [123456789n, 1000n], [5n, 7n], [-1n, 3000n], [(1n << 63n) * 1000n - 1n, 999n], [9999n, 10000n], [10000n, 9999n]];
  for (const [a, b] of pairs) {
    const r = await pg.db.query<{ q: string }>(`SELECT (${a}::numeric / ${b}::numeric)::text AS q`);
    expect(numericDivide(a, b), `${a} / ${b}`).toBe(r.rows[0]!.q);
  }
});
