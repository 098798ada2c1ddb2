/**
 * Batches: rows → batches → rows is exact (as multisets), every batch holds one segment in orderby
 * order, segments are cut into full 1,000-row batches, and the metadata matches the rows; on seeded
 * random rows of every type with NULLs everywhere, over the WebAssembly and the reference backends.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch, readBatchHeader } from '../../src/columnstore/batch-format.js';
import { columnStats, planBatches, type CompressionSettings } from '../../src/columnstore/batch.js';
import { ReferenceBackend, type CodecBackend } from '../../src/columnstore/codecs/index.js';
import { loadCodecsNode } from '../../src/columnstore/codecs/load-node.js';
import { compareFloat, equalityKey, rowComparator } from '../../src/columnstore/compare.js';
import { allocColumn, type Column, type Rows } from '../../src/columnstore/columns.js';
import { Prng } from '../support/prng.js';
import { ALL_TYPES, randomRows, rowStrings, sorted } from './rows.js';

let wasm: CodecBackend;
beforeAll(async () => {
  wasm = await loadCodecsNode();
});

function roundTrip(backend: CodecBackend, rows: Rows, settings: CompressionSettings): Rows[] {
  const types = rows.columns.map((c) => c.type);
  return planBatches(rows, settings).map((b) => decodeBatch(backend, encodeBatch(backend, b.columns), rows.names, types));
}

function concat(parts: Rows[]): string[] {
  return parts.flatMap(rowStrings);
}

describe('batches', () => {
  it('round-trip random rows of every type exactly, segment by segment in orderby order', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const p = new Prng(seed);
      const n = p.pick([0, 1, 7, 999, 1000, 1001, 2600]);
      const rows = randomRows(p, n, ALL_TYPES, p.pick([0, 0.1, 0.9]));
      const orderable = ALL_TYPES.map((t, i) => [t, i] as const).filter(([t]) => t !== 'opaque' && t !== 'json' && t !== 'jsonb');
      const segmentBy = [p.pick(ALL_TYPES.map((_, i) => `c${i}`))].slice(0, p.int(2));
      const orderBy = Array.from({ length: 1 + p.int(3) }, () => {
        const [, i] = p.pick(orderable);
        return { column: `c${i}`, desc: p.chance(0.5), nullsFirst: p.chance(0.3) ? p.chance(0.5) : undefined };
      });
      const settings: CompressionSettings = { segmentBy, orderBy, timeColumn: 'c0' };
      const planned = planBatches(rows, settings);
      const batches = roundTrip(seed % 2 ? wasm : new ReferenceBackend(), rows, settings);
      expect(sorted(concat(batches)), `seed ${seed}`).toEqual(sorted(rowStrings(rows)));
      const segCols = segmentBy.map((s) => rows.names.indexOf(s));
      const seen = new Set<string>();
      let previousKey: string | undefined;
      batches.forEach((b, k) => {
        const m = planned[k]!.stats.rows;
        expect(m).toBeGreaterThan(0);
        expect(m).toBeLessThanOrEqual(1000);
        // One segment per batch; a segment's batches are consecutive and all but its last are full.
        const keys = new Set(Array.from({ length: m }, (_, i) => segCols.map((c) => equalityKey(b.columns[c]!, i)).join()));
        expect(keys.size).toBe(1);
        const key = [...keys][0]!;
        if (key !== previousKey) {
          expect(seen.has(key)).toBe(false);
          seen.add(key);
        } else expect(planned[k - 1]!.stats.rows).toBe(1000);
        previousKey = key;
        // Orderby order, checked with an independently built comparator chain.
        const cmps = orderBy.map((o) => rowComparator({ column: b.columns[rows.names.indexOf(o.column)]!, desc: o.desc, nullsFirst: o.nullsFirst ?? o.desc }));
        for (let i = 1; i < m; i++) {
          let c = 0;
          for (const cmp of cmps) if ((c = cmp(i - 1, i))) break;
          expect(c, `seed ${seed} batch ${k} row ${i}`).toBeLessThanOrEqual(0);
        }
      });
    }
  });

  it('cuts a segment into 1,000-row batches, and keeps segments apart', () => {
    const n = 2500 + 1200;
    const host = allocColumn('text', n) as Extract<Column, { type: 'text' }>;
    const time = allocColumn('timestamptz', n) as Extract<Column, { type: 'timestamptz' }>;
    for (let i = 0; i < n; i++) {
      host.values[i] = i < 2500 ? 'b' : 'a';
      time.values[i] = BigInt(i);
    }
    const planned = planBatches({ names: ['host', 'time'], columns: [host, time] }, { segmentBy: ['host'], orderBy: [{ column: 'time', desc: true }], timeColumn: 'time' });
    expect(planned.map((b) => [b.stats.segment[0], b.stats.rows])).toEqual([
      ['a', 1000],
      ['a', 200],
      ['b', 1000],
      ['b', 1000],
      ['b', 500],
    ]);
    expect(planned[2]!.stats.max[1]).toBe(2499n);
    expect(planned[2]!.stats.min[1]).toBe(1500n);
    expect(planned[4]!.stats.min[1]).toBe(0n);
  });

  it('orders with PostgreSQL semantics: NaN greatest, -0 = 0, NULLS FIRST/LAST, DESC', () => {
    const values = [3, NaN, -Infinity, 0, -0, Infinity, 1, NaN];
    const f = allocColumn('float8', values.length + 1) as Extract<Column, { type: 'float8' }>;
    values.forEach((v, i) => (f.values[i] = v));
    const withNull = { ...f, nulls: Uint8Array.of(0, 1) }; // row 8 is NULL
    const order = (desc: boolean, nullsFirst: boolean): (number | null)[] => {
      const p = planBatches({ names: ['x'], columns: [withNull] }, { segmentBy: [], orderBy: [{ column: 'x', desc, nullsFirst }], timeColumn: 'x' });
      const c = p[0]!.columns[0] as typeof f;
      return Array.from(c.values, (v, i) => (c.nulls && c.nulls[i >> 3]! & (1 << (i & 7)) ? null : v));
    };
    expect(order(false, false)).toEqual([-Infinity, 0, -0, 1, 3, Infinity, NaN, NaN, null]);
    expect(order(true, true)).toEqual([null, NaN, NaN, Infinity, 3, 1, 0, -0, -Infinity]);
    expect(compareFloat(NaN, Infinity)).toBe(1);
    const stats = columnStats(withNull, values.length + 1);
    expect(stats).toMatchObject({ nullCount: 1, min: -Infinity, sum: null });
    expect(stats.max).toBeNaN();
  });

  it('groups segments by PostgreSQL equality: -0 = 0, NaN = NaN, numeric 1.0 = 1.00, NULLs together', () => {
    const f = allocColumn('float8', 4) as Extract<Column, { type: 'float8' }>;
    f.values.set([0, -0, NaN, NaN]);
    const num = { type: 'numeric', values: ['1.0', '1.00', '2', ''], nulls: Uint8Array.of(8) } as Column;
    const t = allocColumn('int4', 4);
    const rows = { names: ['f', 'n', 't'], columns: [f, num, t] };
    expect(planBatches(rows, { segmentBy: ['f'], orderBy: [], timeColumn: 't' }).map((b) => b.stats.rows)).toEqual([2, 2]);
    expect(planBatches(rows, { segmentBy: ['n'], orderBy: [], timeColumn: 't' }).map((b) => [b.stats.segment[0], b.stats.rows])).toEqual([
      ['1.0', 2],
      ['2', 1],
      [null, 1],
    ]);
  });

  it('keeps exact metadata: NULL counts, min/max, integer sums (NULL past int64)', () => {
    const p = new Prng(7);
    const rows = randomRows(p, 900, ALL_TYPES, 0.2);
    const [b] = planBatches(rows, { segmentBy: [], orderBy: [], timeColumn: 'c0' });
    const i4 = rows.names.indexOf('c4');
    const c = rows.columns[i4] as Extract<Column, { type: 'int4' }>;
    let sum = 0n;
    let nulls = 0;
    c.values.forEach((v, i) => (c.nulls && c.nulls[i >> 3]! & (1 << (i & 7)) ? nulls++ : (sum += BigInt(v))));
    expect(b!.stats.sum[i4]).toBe(sum);
    expect(b!.stats.nullCount[i4]).toBe(nulls);
    const big = allocColumn('int8', 2) as Extract<Column, { type: 'int8' }>;
    big.values.set([(1n << 63n) - 1n, 1n]);
    expect(columnStats(big, 2)).toMatchObject({ min: 1n, max: (1n << 63n) - 1n, sum: null });
    expect(b!.stats.min[ALL_TYPES.indexOf('opaque')]).toBeNull();
  });

  it('decodes only the selected columns, and refuses a batch whose types differ', () => {
    const rows = randomRows(new Prng(3), 50, ALL_TYPES);
    const bytes = encodeBatch(wasm, rows.columns);
    const header = readBatchHeader(bytes);
    expect(header.rows).toBe(50);
    const types = rows.columns.map((c) => c.type);
    const some = decodeBatch(wasm, bytes, rows.names, types, [14, 0]);
    expect(some.names).toEqual(['c14', 'c0']);
    expect(rowStrings(some)).toEqual(rowStrings({ names: some.names, columns: [rows.columns[14]!, rows.columns[0]!] }));
    expect(() => decodeBatch(wasm, bytes, rows.names, [...types].reverse())).toThrow(expect.objectContaining({ code: 'XX001' }));
    expect(() => decodeBatch(wasm, bytes.subarray(0, bytes.length - 1), rows.names, types)).toThrow(expect.objectContaining({ code: 'XX001' }));
  });
});

describe('columnStats of columns without NULLs (their own loops)', () => {
  it('gives what the loop over a NULL bitmap with no NULL set gives: float8 with NaN, ±Infinity, -0; text with repeats', () => {
    const prng = new Prng(11);
    const specials = [NaN, Infinity, -Infinity, -0, 0, 1e-300, -1e300];
    const strings = ['a', 'B', 'b', 'ü', 'host_10', 'host_9', '', 'Z', 'ab'];
    for (let round = 0; round < 300; round++) {
      const n = 1 + prng.int(40);
      const floats = Float64Array.from({ length: n }, () => (prng.int(3) === 0 ? specials[prng.int(specials.length)]! : (prng.int(2000) - 1000) / 7));
      const texts = Array.from({ length: n }, () => strings[prng.int(strings.length)]!);
      const none = new Uint8Array((n + 7) >> 3);
      for (const [type, values] of [['float8', floats], ['text', texts], ['varchar', texts]] as const) {
        const plain = columnStats({ type, values, nulls: null } as Column, n);
        expect(plain).toEqual(columnStats({ type, values, nulls: none } as Column, n));
      }
    }
  });
});

describe('planBatches with text columns held as numbers', () => {
  it('cuts the batches (columns and stats) the strings give, NULLs and repeated values too', () => {
    const strings = ['', 'zeta', 'alpha', 'Beta', 'ünï', 'alpha2'];
    const n = 5000; // 1,250 rows per host: two batches each
    const prng = new Prng(7);
    const ids = new Int32Array(n);
    const nulls = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) {
      ids[i] = 1 + prng.int(strings.length - 1);
      if (prng.int(9) === 0) (ids[i] = 0), (nulls[i >> 3]! |= 1 << (i & 7));
    }
    const host = { type: 'text', values: Array.from({ length: n }, (_, i) => `h${i % 4}`), nulls: null } as Column;
    const time = { type: 'int8', values: BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 7919) % 5000)), nulls: null } as Column;
    const asStrings = { type: 'varchar', values: Array.from(ids, (id) => strings[id]!), nulls } as Column;
    const asIds = { type: 'int4', values: ids, nulls } as Column;
    const settings: CompressionSettings = { segmentBy: ['host'], orderBy: [{ column: 't', desc: true }], timeColumn: 't' };
    const names = ['host', 't', 'tag'];
    const expected = planBatches({ names, columns: [host, time, asStrings] }, settings);
    const got = planBatches({ names, columns: [host, time, asIds] }, settings, undefined, [undefined, undefined, { type: 'varchar', strings }]);
    expect(expected.length).toBeGreaterThan(4);
    expect(got).toEqual(expected);
    // A compared column cannot be given as numbers.
    expect(() => planBatches({ names, columns: [asIds, time, asStrings] }, settings, undefined, [{ type: 'text', strings }])).toThrow(/compared/);
  });
});
