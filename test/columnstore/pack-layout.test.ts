/**
 * The batch store's object layout (pack-layout.ts): batches packed into objects up to a limit.
 * Packs written and read through the store are test/columnstore/store-packs.test.ts's.
 */
import { describe, expect, it } from 'vitest';
import { packBatches } from '../../src/columnstore/pack-layout.js';

describe('packBatches', () => {
  it('fills packs up to the limit, a larger batch alone, offsets back to back', () => {
    const sizes = [3, 4, 2, 10, 1, 1];
    const objects = sizes.map((n, i) => new Uint8Array(n).fill(i + 1));
    const { packs, at } = packBatches(objects, 5, 8);
    expect(at).toEqual([
      { no: 5, offset: 0 },
      { no: 5, offset: 3 },
      { no: 6, offset: 0 },
      { no: 7, offset: 0 },
      { no: 8, offset: 0 },
      { no: 8, offset: 1 },
    ]);
    expect(packs.map((p) => [...p])).toEqual([[1, 1, 1, 2, 2, 2, 2], [3, 3], [...objects[3]!], [5, 6]]);
    expect(packBatches([], 0, 8)).toEqual({ packs: [], at: [] });
  });

  it('makes a pack of batches lying one after another in one buffer a view of them (no copy)', () => {
    const flush = new Uint8Array(new SharedArrayBuffer(12)).map((_, i) => i + 1);
    // 3 + 4 bytes, then 5 bytes alone; then one not adjacent (a gap before it) is copied.
    const objects = [flush.subarray(0, 3), flush.subarray(3, 7), flush.subarray(7, 12)];
    const { packs, at } = packBatches(objects, 0, 8);
    expect(at).toEqual([{ no: 0, offset: 0 }, { no: 0, offset: 3 }, { no: 1, offset: 0 }]);
    expect(packs.map((p) => [p.buffer === flush.buffer, p.byteOffset, [...p]])).toEqual([
      [true, 0, [1, 2, 3, 4, 5, 6, 7]],
      [true, 7, [8, 9, 10, 11, 12]],
    ]);
    const gap = packBatches([flush.subarray(0, 2), flush.subarray(3, 5)], 0, 8).packs;
    expect(gap.map((p) => [p.buffer === flush.buffer, [...p]])).toEqual([[false, [1, 2, 4, 5]]]);
  });
});
