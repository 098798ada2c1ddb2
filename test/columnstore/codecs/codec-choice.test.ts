/**
 * Which codec each batch gets, the sizes that follow (against codec_anchors.md), and how malformed
 * input fails (SQLSTATE XX001 data_corrupted, never a wrong answer from a well-formed prefix).
 * Runs for both backends.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Codec,
  ReferenceBackend,
  decodeColumn,
  encodeColumn,
  readColumnHeader,
  type CodecBackend,
  type ColumnInput,
} from '../../../src/columnstore/codecs/index.js';
import { loadCodecsNode } from '../../../src/columnstore/codecs/load-node.js';
import { OrbitError } from '../../../src/errors.js';
import { Prng } from '../../support/prng.js';

const backends: Record<string, CodecBackend> = { reference: new ReferenceBackend() };
beforeAll(async () => {
  backends.wasm = await loadCodecsNode();
});

const N = 1000;
const rng = new Prng(7);
const regular = BigInt64Array.from({ length: N }, (_, i) => 1_704_067_200_000_000n + BigInt(i) * 10_000_000n);
let level = 50;
/** TSBS-like: a clamped random walk with 6 decimals. */
const sixDecimals = Float64Array.from({ length: N }, () => {
  level = Math.min(100, Math.max(0, level + (rng.next() - 0.5) * 2));
  return Math.round(level * 1e6) / 1e6;
});
const uniform = Float64Array.from({ length: N }, () => rng.next());

/** The body's codec and, for nested streams, the byte after it. */
function codecOf(bytes: Uint8Array): Codec {
  return readColumnHeader(bytes).codec;
}

describe.each(['wasm', 'reference'])('%s backend', (name) => {
  const enc = (c: ColumnInput) => encodeColumn(backends[name]!, c);

  it('packs regular timestamps to ~0.03 B/value (delta-of-delta, width-0 blocks)', () => {
    const bytes = enc({ kind: 'timestamp', values: regular });
    expect(codecOf(bytes)).toBe(Codec.pack);
    expect(bytes[readColumnHeader(bytes).bodyOffset + 1]).toBe(2); // order 2
    expect(bytes.length).toBeLessThan(40);
  });

  it('recognises 6-decimal floats as scaled integers (< 3.2 B/value) and falls back to Gorilla', () => {
    const decimal = enc({ kind: 'float64', values: sixDecimals });
    expect(codecOf(decimal)).toBe(Codec.decimal);
    expect(decimal[readColumnHeader(decimal).bodyOffset + 1]).toBe(6); // k
    expect(decimal.length / N).toBeLessThan(3.2);
    expect(codecOf(enc({ kind: 'float64', values: uniform }))).toBe(Codec.gorilla);
  });

  it('prefers Gorilla when a large k fits 2^53 but packs worse (full-precision values below 90)', () => {
    const full = sixDecimals.map((v, i) => Math.min(89, v) + Math.sin(i) * 1e-3);
    const bytes = enc({ kind: 'float64', values: full });
    expect(codecOf(bytes)).toBe(Codec.gorilla);
    expect(bytes.length / N).toBeLessThan(7);
  });

  it('keeps a few NaN/-0.0 as exceptions, and gives up on many', () => {
    const few = sixDecimals.slice();
    few[10] = NaN;
    few[500] = -0;
    expect(codecOf(enc({ kind: 'float64', values: few }))).toBe(Codec.decimal);
    const many = sixDecimals.map((v, i) => (i % 10 ? v : -0));
    expect(codecOf(enc({ kind: 'float64', values: many }))).toBe(Codec.gorilla);
  });

  it('chooses CONSTANT, RLE and DICT for repeated values', () => {
    expect(codecOf(enc({ kind: 'int64', values: new BigInt64Array(N).fill(-5n) }))).toBe(Codec.constant);
    expect(codecOf(enc({ kind: 'float64', values: new Float64Array(N).fill(NaN) }))).toBe(Codec.constant);
    const runs = BigInt64Array.from({ length: N }, (_, i) => BigInt(Math.floor(i / 100)) * 1_000_000_007n);
    expect(codecOf(enc({ kind: 'int64', values: runs }))).toBe(Codec.rle);
    const palette = [3n, 1n << 60n, -(1n << 61n), 77n];
    const codes = BigInt64Array.from({ length: N }, () => rng.pick(palette));
    const dict = enc({ kind: 'int64', values: codes });
    expect(codecOf(dict)).toBe(Codec.dict);
    expect(dict.length).toBeLessThan(320);
    const flags = Uint8Array.from({ length: N }, (_, i) => (i < 700 ? 1 : 0));
    expect(codecOf(enc({ kind: 'boolean', values: flags }))).toBe(Codec.rle);
  });

  it('stores a constant tag as one dictionary entry and a CONSTANT id stream', () => {
    const bytes = enc({ kind: 'text', values: new Array<string>(N).fill('host_42') });
    expect(codecOf(bytes)).toBe(Codec.textDict);
    expect(bytes.length).toBeLessThan(24);
  });

  it('deflates a large, repetitive dictionary only', () => {
    const urls = Array.from({ length: N }, (_, i) => `https://example.com/api/v1/items/${i}?expand=owner`);
    const bytes = enc({ kind: 'text', values: urls });
    expect(bytes[readColumnHeader(bytes).bodyOffset + 1]).toBe(1); // deflated
    const hosts = enc({ kind: 'text', values: Array.from({ length: N }, (_, i) => `host_${i % 10}`) });
    expect(hosts[readColumnHeader(hosts).bodyOffset + 1]).toBe(0);
  });

  it('writes all-NULL columns as a header only', () => {
    const nulls = new Uint8Array(N / 8).fill(0xff);
    const bytes = enc({ kind: 'float64', values: new Float64Array(N), nulls });
    expect(codecOf(bytes)).toBe(Codec.allNull);
    expect(bytes.length).toBeLessThan(10);
    const decoded = decodeColumn(backends[name]!, bytes);
    expect(decoded.nulls).toEqual(nulls);
  });

  it('rejects timestamps given as non-integral or out-of-range numbers (22003)', () => {
    for (const bad of [1.5, 2 ** 63, NaN, Infinity]) {
      const values = Float64Array.from([0, bad]);
      expect(() => enc({ kind: 'timestamp', values })).toThrow(expect.objectContaining({ code: '22003' }));
    }
  });

  it('fails on malformed input with XX001, or decodes without crashing', () => {
    const backend = backends[name]!;
    const samples = [
      enc({ kind: 'timestamp', values: regular }),
      enc({ kind: 'float64', values: sixDecimals }),
      enc({ kind: 'float64', values: uniform.subarray(0, 100) }),
      enc({ kind: 'text', values: Array.from({ length: 50 }, (_, i) => `h${i % 7}`) }),
    ];
    for (const good of samples) {
      expect(() => decodeColumn(backend, good.subarray(0, good.length - 1))).toThrow(OrbitError);
      expect(() => decodeColumn(backend, Uint8Array.from([...good, 0]))).toThrow(expect.objectContaining({ code: 'XX001' }));
      const badVersion = good.slice();
      badVersion[0] = 9;
      expect(() => decodeColumn(backend, badVersion)).toThrow(expect.objectContaining({ code: 'XX001' }));
      for (let t = 0; t < 200; t++) {
        const flipped = good.slice();
        flipped[rng.int(flipped.length)]! ^= 1 << rng.int(8);
        try {
          decodeColumn(backend, flipped);
        } catch (e) {
          expect(e, `flip ${t}`).toMatchObject({ code: 'XX001' });
        }
      }
    }
  });
});
