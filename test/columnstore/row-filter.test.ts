// Row filters of the scan path against PostgreSQL's comparison semantics (the differential test in
// planner.test.ts checks them against PostgreSQL itself; these pin the edge cases).
import { describe, expect, it } from 'vitest';
import type { Column } from '../../src/columnstore/columns.js';
import { canFilter, filterRows, verdictOf } from '../../src/columnstore/row-filter.js';
import { compareFloat } from '../../src/columnstore/compare.js';

const floats = (xs: Array<number | null>): Column => {
  const nulls = new Uint8Array((xs.length + 7) >> 3);
  xs.forEach((x, i) => x === null && (nulls[i >> 3]! |= 1 << (i & 7)));
  return { type: 'float8', values: Float64Array.from(xs.map((x) => x ?? 0)), nulls };
};
const rows = (c: Column, n: number, p: Parameters<typeof filterRows>[2]) => [...filterRows(c, n, p)];

describe('row filters', () => {
  const v = floats([1, NaN, -0, 0, Infinity, -Infinity, null]);
  it('orders floats as PostgreSQL: NaN above everything and equal to itself, -0 = 0, NULL never', () => {
    expect(rows(v, 7, { op: '>', values: [1e308] })).toEqual([1, 4]);
    expect(rows(v, 7, { op: '=', values: [NaN] })).toEqual([1]);
    expect(rows(v, 7, { op: '<', values: [NaN] })).toEqual([0, 2, 3, 4, 5]);
    expect(rows(v, 7, { op: '=', values: [0] })).toEqual([2, 3]);
    expect(rows(v, 7, { op: '<>', values: [0] })).toEqual([0, 1, 4, 5]);
    expect(rows(v, 7, { op: '>=', values: [-Infinity] })).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rows(v, 7, { op: 'is null' })).toEqual([6]);
    expect(rows(v, 7, { op: 'is not null' })).toEqual([0, 1, 2, 3, 4, 5]);
  });
  it('ranges against a number keep the rows float8_cmp keeps, NaN greatest, on float8 and float4, with a selection', () => {
    const xs = [1, NaN, -0, 0, Infinity, -Infinity, null, 1e308, -1e-300, 0.1, 3.4e38];
    const edges = [0, -0, 1, 0.1, -1e-300, Infinity, -Infinity, 1e308, 3.4e38];
    for (const type of ['float8', 'float4'] as const) {
      const c = floats(xs);
      const col: Column = type === 'float8' ? c : { type, values: Float32Array.from(c.values as Float64Array), nulls: c.nulls };
      for (const x of edges) {
        for (const op of ['<', '<=', '>', '>='] as const) {
          const want = xs.flatMap((_, i) => {
            if (xs[i] === null) return [];
            const r = compareFloat(col.values[i] as number, x);
            return (op === '<' ? r < 0 : op === '<=' ? r <= 0 : op === '>' ? r > 0 : r >= 0) ? [i] : [];
          });
          expect(rows(col, xs.length, { op, values: [x] }), `${type} ${op} ${x}`).toEqual(want);
          const sel = Uint32Array.from([1, 2, 6, 7]);
          expect([...filterRows(col, xs.length, { op, values: [x] }, sel)], `${type} ${op} ${x} selected`).toEqual(want.filter((i) => sel.includes(i)));
        }
      }
    }
  });
  it('ranges keep the same rows without a NULL bitmap, on floats and on int64 columns with and without NULLs', () => {
    const xs = [1, NaN, -0, 0, Infinity, -Infinity, 1e308, -1e-300, 0.1, 3.4e38, 1, 0.1];
    const col: Column = { type: 'float8', values: Float64Array.from(xs), nulls: null };
    const ints = [-(2n ** 63n), -1n, 0n, 1n, 5n, 2n ** 63n - 1n, 5n, 0n];
    const nulls = Uint8Array.from([0b0100_0010]);
    for (const op of ['<', '<=', '>', '>='] as const) {
      const holds = (r: number) => (op === '<' ? r < 0 : op === '<=' ? r <= 0 : op === '>' ? r > 0 : r >= 0);
      for (const x of [0, -0, 1, 0.1, -Infinity, Infinity, 3.4e38]) {
        const want = xs.flatMap((v, i) => (holds(compareFloat(v, x)) ? [i] : []));
        expect(rows(col, xs.length, { op, values: [x] }), `float8 ${op} ${x}`).toEqual(want);
      }
      for (const x of [-(2n ** 63n), 0n, 1n, 5n, 2n ** 63n - 1n]) {
        for (const type of ['int8', 'timestamptz', 'timestamp'] as const) {
          const want = ints.flatMap((v, i) => (holds(v < x ? -1 : v > x ? 1 : 0) ? [i] : []));
          expect(rows({ type, values: BigInt64Array.from(ints), nulls: null }, ints.length, { op, values: [x] }), `${type} ${op} ${x}`).toEqual(want);
          const withNulls: Column = { type, values: BigInt64Array.from(ints), nulls };
          const sel = Uint32Array.from([0, 1, 2, 5, 6]);
          expect([...filterRows(withNulls, ints.length, { op, values: [x] }, sel)], `${type} ${op} ${x} with NULLs, selected`).toEqual(want.filter((i) => sel.includes(i) && i !== 1 && i !== 6));
        }
      }
    }
  });
  it('never holds a comparison with NULL; IN ignores NULL items', () => {
    expect(rows(v, 7, { op: '<', values: [null] })).toEqual([]);
    expect(rows(v, 7, { op: 'in', values: [null, 1, NaN] })).toEqual([0, 1]);
  });
  it('compares integers with bigint constants beyond their range, and narrows a selection', () => {
    const n: Column = { type: 'int4', values: Int32Array.from([-5, 0, 7, 2147483647]), nulls: null };
    expect(rows(n, 4, { op: '<', values: [2n ** 40n] })).toEqual([0, 1, 2, 3]);
    expect(rows(n, 4, { op: '>', values: [-(2n ** 63n)] })).toEqual([0, 1, 2, 3]);
    expect([...filterRows(n, 4, { op: '>=', values: [0n] }, Uint32Array.from([0, 2, 3]))]).toEqual([2, 3]);
    const t: Column = { type: 'timestamptz', values: BigInt64Array.from([-(2n ** 63n), 0n, 2n ** 63n - 1n]), nulls: null };
    expect(rows(t, 3, { op: '<', values: [2n ** 63n - 1n] })).toEqual([0, 1]);
  });
  it('compares text by equality only', () => {
    const s: Column = { type: 'text', values: ['a', 'A', 'é', ''], nulls: null };
    expect(rows(s, 4, { op: '=', values: ['a'] })).toEqual([0]);
    expect(rows(s, 4, { op: '<>', values: ['a'] })).toEqual([1, 2, 3]);
    expect(rows(s, 4, { op: 'in', values: ['é', ''] })).toEqual([2, 3]);
    expect(canFilter('text', { op: '<', values: ['a'] })).toBe(false);
    expect(canFilter('numeric', { op: '=', values: ['1'] })).toBe(false);
    expect(canFilter('numeric', { op: 'is null' })).toBe(true);
  });

  it("reads a batch's statistics as PostgreSQL's comparison would on every row: none, all or some", () => {
    // 10 rows, no NULLs, float min -0 and max NaN (NaN is the max once present).
    expect(verdictOf('float8', { op: '>', values: [1e308] }, 10, 0, -0, NaN)).toBe('some');
    expect(verdictOf('float8', { op: '=', values: [NaN] }, 10, 0, -0, 5)).toBe('none');
    expect(verdictOf('float8', { op: '>=', values: [0] }, 10, 0, -0, NaN)).toBe('all');
    expect(verdictOf('float8', { op: '=', values: [0] }, 10, 0, -0, 0)).toBe('all');
    expect(verdictOf('float8', { op: '<>', values: [0] }, 10, 0, -0, 0)).toBe('none');
    // NULLs pass no comparison: never 'all' with one; a batch of NULLs only passes none.
    expect(verdictOf('int4', { op: '<', values: [100] }, 10, 1, 1, 5)).toBe('some');
    expect(verdictOf('int4', { op: '<', values: [100] }, 10, 10, null, null)).toBe('none');
    expect(verdictOf('int4', { op: 'is null' }, 10, 10, null, null)).toBe('all');
    expect(verdictOf('int4', { op: 'is not null' }, 10, 0, 1, 5)).toBe('all');
    expect(verdictOf('int4', { op: '>', values: [null] }, 10, 0, 1, 5)).toBe('none');
    expect(verdictOf('int8', { op: 'in', values: [7n, null, 3n] }, 10, 0, 3n, 3n)).toBe('all');
    expect(verdictOf('int8', { op: 'in', values: [7n, 0n] }, 10, 0, 1n, 5n)).toBe('none');
    // Text statistics are in byte order: equality only.
    expect(verdictOf('text', { op: '=', values: ['b'] }, 10, 0, 'c', 'd')).toBe('none');
    expect(verdictOf('text', { op: '<>', values: ['c'] }, 10, 0, 'c', 'c')).toBe('none');
    expect(verdictOf('bool', { op: '=', values: [true] }, 10, 0, true, true)).toBe('all');
    // No statistics: any row may pass.
    expect(verdictOf('float4', { op: '<', values: [1] }, 10, 0, null, null)).toBe('some');
  });
});
