import { describe, expect, it } from 'vitest';
import { decodeTransfer, encodeTransfer } from '../../src/edge/chunk-transfer.js';

const header = { table: 'cpu', source: 'node:cs/1/2/1/manifest', rangeStart: 1_700_000_000_000_000, rangeEnd: 1_700_604_800_000_000 };

describe('edge chunk transfer format', () => {
  it('round-trips the header, manifest and batches', () => {
    const bytes = encodeTransfer(header, new Uint8Array([1, 2, 3]), [new Uint8Array([4]), new Uint8Array(0), new Uint8Array([5, 6])]);
    const t = decodeTransfer(bytes);
    expect(t.header).toEqual({ ...header, manifestBytes: 3, batchBytes: [1, 0, 2] });
    expect(Array.from(t.manifest)).toEqual([1, 2, 3]);
    expect(t.batches.map((b) => Array.from(b))).toEqual([[4], [], [5, 6]]);
  });

  it('refuses truncated, padded or foreign bodies', () => {
    const bytes = encodeTransfer(header, new Uint8Array([1, 2, 3]), [new Uint8Array([4, 5])]);
    expect(() => decodeTransfer(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated body/);
    const padded = new Uint8Array(bytes.length + 1);
    padded.set(bytes);
    expect(() => decodeTransfer(padded)).toThrow(/trailing bytes/);
    expect(() => decodeTransfer(new TextEncoder().encode('PK\u0003\u0004 not ours'))).toThrow(/not an Orbit chunk transfer/);
    expect(() => decodeTransfer(encodeTransfer({ ...header, rangeEnd: header.rangeStart }, new Uint8Array(0), []))).toThrow(/range/);
  });
});
