import { describe, expect, it } from 'vitest';
import { allocColumn, type Column } from '../../src/columnstore/columns.js';
import { concatColumns, mergeCandidates } from '../../src/edge/compaction.js';

const sets = (...rows: number[]) => rows.map((n, i) => ({ key: `m${i}`, rows: n }));

describe('edge compaction: which batch sets a seal merges', () => {
  it('merges like a binary counter: smaller sets join while they hold no more rows than gathered', () => {
    expect(mergeCandidates([], 1000, 50_000)).toEqual([]);
    expect(mergeCandidates(sets(1000), 1000, 50_000).map((m) => m.key)).toEqual(['m0']);
    expect(mergeCandidates(sets(2000), 1000, 50_000)).toEqual([]);
    // 2000 + 1000 fresh: the 1000 joins (total 2000), then the 2000 joins (total 4000).
    expect(mergeCandidates(sets(2000, 1000), 1000, 50_000).map((m) => m.key)).toEqual(['m1', 'm0']);
  });

  it('keeps few sets over many seals, each row rewritten about log2 times', () => {
    let stored: Array<{ key: string; rows: number }> = [];
    let rewritten = 0;
    for (let seal = 0; seal < 36; seal++) {
      const merged = mergeCandidates(stored, 1000, 1_000_000);
      rewritten += merged.reduce((n, m) => n + m.rows, 0);
      stored = stored.filter((m) => !merged.includes(m));
      stored.push({ key: `s${seal}`, rows: 1000 + merged.reduce((n, m) => n + m.rows, 0) });
    }
    expect(stored.map((m) => m.rows).sort((a, b) => b - a)).toEqual([32_000, 4000]);
    expect(rewritten).toBeLessThanOrEqual(36_000 * 6);
  });

  it('stops at the row budget', () => {
    expect(mergeCandidates(sets(1000, 1000, 1000), 1000, 2500).map((m) => m.key)).toEqual(['m0']);
  });
});

describe('edge compaction: concatColumns', () => {
  const col = <T extends Column['type']>(type: T, values: unknown[], nullAt: number[] = []): Column => {
    const c = allocColumn(type, values.length);
    values.forEach((v, i) => ((c.values as unknown as unknown[])[i] = v));
    let nulls: Uint8Array | null = null;
    for (const i of nullAt) (nulls ??= new Uint8Array((values.length + 7) >> 3))[i >> 3]! |= 1 << (i & 7);
    return { ...c, nulls } as Column;
  };

  it('joins typed, bigint and text columns with their NULL bitmaps at any bit offset', () => {
    const f = concatColumns([col('float8', [1.5, 2.5, 3]), col('float8', [4, 5], [1]), col('float8', [6, 7, 8, 9, 10], [0, 4])]);
    expect(Array.from(f.values as Float64Array)).toEqual([1.5, 2.5, 3, 4, 5, 6, 7, 8, 9, 10]);
    const nullRows = Array.from({ length: 10 }, (_, i) => i).filter((i) => (f.nulls![i >> 3]! >> (i & 7)) & 1);
    expect(nullRows).toEqual([4, 5, 9]);
    const t = concatColumns([col('timestamptz', [1n, 2n]), col('timestamptz', [3n])]);
    expect(Array.from(t.values as BigInt64Array)).toEqual([1n, 2n, 3n]);
    expect(t.nulls).toBeNull();
    const s = concatColumns([col('text', ['a']), col('text', ['b', 'c'], [0])]);
    expect(s.values).toEqual(['a', 'b', 'c']);
    expect(s.nulls![0]).toBe(0b010);
  });
});
