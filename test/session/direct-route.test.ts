import { describe, expect, it } from 'vitest';
import { rowsByChunk, type ChunkRange } from '../../src/session/direct-ingest/route.js';

const range = (id: number, start: bigint, end: bigint): ChunkRange => ({ id, start, end, lo: Number(start), hi: Number(end) });
const ranges = [range(7, 0n, 10n), range(8, 10n, 20n), range(9, 20n, 30n)];

describe('rowsByChunk', () => {
  it('gives all rows to the one chunk holding them (no index list)', () => {
    expect([...rowsByChunk(ranges, Float64Array.from([11, 12, 19, 10]))]).toEqual([[8, undefined]]);
    // Rows of one chunk that is not the first range.
    expect([...rowsByChunk(ranges, [25n, 21n])]).toEqual([[9, undefined]]);
  });

  it('lists the rows of each chunk in row order, doubles or BigInts', () => {
    const want = [
      [8, [0, 3]],
      [7, [1, 4]],
      [9, [2]],
    ];
    expect([...rowsByChunk(ranges, Float64Array.from([15, 3, 29, 10, 0]))]).toEqual(want);
    expect([...rowsByChunk(ranges, [15n, 3n, 29n, 10n, 0n])]).toEqual(want);
  });
});
