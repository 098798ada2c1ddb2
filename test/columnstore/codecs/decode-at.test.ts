/**
 * decodeIntsAt / decodeFloatsAt (a scan decoding only the rows its filter kept): for every generated
 * value stream and several row selections, both backends give exactly the full decode's values at
 * those rows, compacted; frame-of-reference streams (read at the rows only) and DECIMAL exceptions
 * among them included.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ReferenceBackend, type CodecBackend, type FloatValues, type IntValues, type StreamAt } from '../../../src/columnstore/codecs/index.js';
import { loadCodecsNode } from '../../../src/columnstore/codecs/load-node.js';
import { Prng } from '../../support/prng.js';
import { floatCases, intCases } from './generators.js';

let wasm: CodecBackend;
const reference = new ReferenceBackend();

beforeAll(async () => {
  wasm = await loadCodecsNode();
});

/** Selections of rows of a stream of n values: none, all, the ends, block edges, sparse and dense. */
function selections(n: number, rng: Prng): Uint32Array[] {
  const pick = (p: (i: number) => boolean) => Uint32Array.from(Array.from({ length: n }, (_, i) => i).filter(p));
  return [
    new Uint32Array(0),
    pick(() => true),
    Uint32Array.of(0),
    Uint32Array.of(n - 1),
    pick((i) => i % 128 === 127 || i % 128 === 0),
    pick(() => rng.chance(0.08)),
    pick(() => rng.chance(0.6)),
  ];
}

function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** The full decode's values at `rows`, as bytes (no JS number conversion: NaN payloads kept). */
function taken(all: IntValues | FloatValues, rows: Uint32Array): Buffer {
  const size = all.BYTES_PER_ELEMENT;
  const bytes = bytesOf(all);
  return Buffer.concat(Array.from(rows, (r) => bytes.subarray(r * size, (r + 1) * size)));
}

/**
 * Checks a decode at rows (`at`) of one stream against its full decode (`full`, by the WebAssembly
 * backend), for every selection and both backends: the same bytes read, the same values as bytes
 * (NaN payloads and -0 kept).
 */
function checkAt<T extends IntValues | FloatValues>(name: string, like: T, rng: Prng, full: (all: T) => number, at: (backend: CodecBackend, rows: Uint32Array, out: T) => number): void {
  const n = like.length;
  const make = () => new (like.constructor as new (n: number) => T)(n);
  const all = make();
  const used = full(all);
  for (const rows of selections(n, rng)) {
    for (const backend of [wasm, reference]) {
      const out = make();
      expect(at(backend, rows, out), `${name} via ${backend.name}`).toBe(used);
      expect(bytesOf(out.subarray(0, rows.length)).equals(taken(all, rows)), `${name}, ${rows.length} rows via ${backend.name}`).toBe(true);
    }
  }
}

/** TSBS-like decimals (six places, uniform: frame of reference), some with exceptions among them. */
function tsbsFloats(n: number, rng: Prng, specials: boolean): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => (specials && i % 23 === 7 ? rng.pick([NaN, -0, Infinity, 0.1 + 0.2]) : rng.int(100_000_000) / 1e6));
}

describe('decoding only some rows of a value stream', () => {
  it('gives the full decode at the rows asked for, for every integer stream and selection', () => {
    const rng = new Prng(41);
    let frameOfReference = 0;
    for (const kind of ['int64', 'timestamp', 'int32', 'int16'] as const) {
      for (const { name, column } of intCases(kind, 7)) {
        if (column.nulls) continue;
        const values = column.values as IntValues;
        const n = values.length;
        const stream = wasm.encodeInts(values).slice();
        if (stream[0] === 2 && stream[1] === 0) frameOfReference++;
        checkAt(`${kind} ${name}`, values, rng, (all) => wasm.decodeInts(stream, 0, all), (backend, rows, out) => backend.decodeIntsAt(stream, 0, n, rows, out));
      }
    }
    expect(frameOfReference).toBeGreaterThan(10);
  });

  it('gives the full decode at the rows asked for, for every float stream and selection (DECIMAL exceptions included)', () => {
    const rng = new Prng(43);
    const cases = [...floatCases('float64', 9), ...floatCases('float32', 11)].filter((c) => !c.column.nulls).map((c) => ({ name: c.name, values: c.column.values as FloatValues }));
    for (const n of [1, 127, 128, 129, 1000]) {
      cases.push({ name: `tsbs n=${n}`, values: tsbsFloats(n, rng, false) }, { name: `tsbs with exceptions n=${n}`, values: tsbsFloats(n, rng, true) });
      cases.push({ name: `tsbs float4 n=${n}`, values: Float32Array.from(tsbsFloats(n, rng, true)) });
    }
    let decimalByFrame = 0;
    for (const { name, values } of cases) {
      const n = values.length;
      const stream = wasm.encodeFloats(values).slice();
      // DECIMAL (5), k, no exceptions, then a PACK (2) of order 0.
      if (stream[0] === 5 && stream[2] === 0 && stream[3] === 2 && stream[4] === 0) decimalByFrame++;
      checkAt(name, values, rng, (all) => wasm.decodeFloats(stream, 0, all), (backend, rows, out) => backend.decodeFloatsAt(stream, 0, n, rows, out));
    }
    expect(decimalByFrame).toBeGreaterThan(3);
  });

  it('decodes several streams at the same rows in one go as it decodes each alone', () => {
    const rng = new Prng(47);
    for (const n of [1, 200, 1000]) {
      // Twelve streams of every kind: frame of reference, deltas, DECIMAL with exceptions, Gorilla, float4, constant.
      const ints = [
        BigInt64Array.from({ length: n }, () => BigInt(rng.int(1 << 30)) - 7n),
        BigInt64Array.from({ length: n }, (_, i) => 757_382_400_000_000n + BigInt(i) * 10_000_000n),
        BigInt64Array.from({ length: n }, () => rng.i64()),
        new BigInt64Array(n).fill(-5n),
      ];
      const floats: FloatValues[] = [
        ...Array.from({ length: 5 }, () => tsbsFloats(n, rng, false)),
        tsbsFloats(n, rng, true),
        Float64Array.from({ length: n }, () => rng.next()),
        Float32Array.from(tsbsFloats(n, rng, true)),
      ];
      const streams = [...ints.map((v) => ({ bytes: wasm.encodeInts(v).slice(), float: false as const, like: v })), ...floats.map((v) => ({ bytes: wasm.encodeFloats(v).slice(), float: true as const, like: v }))];
      for (const rows of selections(n, rng)) {
        for (const backend of [wasm, reference]) {
          // Each stream at an offset inside a larger array, as a column inside its batch object.
          const many: StreamAt[] = streams.map((s) => {
            const bytes = new Uint8Array(s.bytes.length + 3);
            bytes.set(s.bytes, 3);
            const out = new (s.like.constructor as new (n: number) => BigInt64Array | FloatValues)(n);
            return s.float ? { bytes, offset: 3, float: true, out: out as FloatValues } : { bytes, offset: 3, float: false, out: out as BigInt64Array };
          });
          const used: number[] = [];
          backend.decodeManyAt(many, n, rows, used);
          streams.forEach((s, i) => {
            const alone = new (s.like.constructor as new (n: number) => BigInt64Array | FloatValues)(n);
            const want = s.float ? wasm.decodeFloatsAt(s.bytes, 0, n, rows, alone as FloatValues) : wasm.decodeIntsAt(s.bytes, 0, n, rows, alone as BigInt64Array);
            expect(used[i], `stream ${i} n=${n} via ${backend.name}`).toBe(want);
            expect(bytesOf(many[i]!.out.subarray(0, rows.length)).equals(bytesOf(alone.subarray(0, rows.length))), `stream ${i} n=${n}, ${rows.length} rows via ${backend.name}`).toBe(true);
          });
        }
      }
    }
    // A malformed stream among others is corrupt data.
    const good = wasm.encodeFloats(tsbsFloats(300, rng, false)).slice();
    const bad = wasm.encodeInts(BigInt64Array.from({ length: 300 }, (_, i) => BigInt((i * 7919) % 1000))).slice();
    bad[10] = 65;
    const out = () => new Float64Array(300);
    expect(() => wasm.decodeManyAt([{ bytes: good, offset: 0, float: true, out: out() }, { bytes: bad, offset: 0, float: false, out: new BigInt64Array(300) }], 300, Uint32Array.of(4, 9), [])).toThrow(expect.objectContaining({ code: 'XX001' }));
  });

  it('filters a float stream as it decodes it, ordering NaN above every number', () => {
    const rng = new Prng(53);
    const cases = [...floatCases('float64', 13), ...floatCases('float32', 17)].filter((c) => !c.column.nulls).map((c) => ({ name: c.name, values: c.column.values as FloatValues }));
    cases.push({ name: 'tsbs', values: tsbsFloats(1000, rng, true) });
    for (const { name, values } of cases) {
      const n = values.length;
      const stream = wasm.encodeFloats(values).slice();
      const all = new (values.constructor as new (n: number) => FloatValues)(n);
      const used = wasm.decodeFloats(stream, 0, all);
      for (const op of ['<', '<=', '>', '>='] as const) {
        for (const x of [0, -0, 90, rng.next() * 100 - 50, Infinity, -Infinity, values[rng.int(n)]!].filter((v) => !Number.isNaN(v))) {
          const want = Uint32Array.from(Array.from(all.keys()).filter((i) => {
            const v = all[i]!;
            return op === '<' ? v < x : op === '<=' ? v <= x : op === '>' ? v > x || Number.isNaN(v) : v >= x || Number.isNaN(v);
          }));
          for (const backend of [wasm, reference]) {
            const rows = new Uint32Array(n);
            const out = new (values.constructor as new (n: number) => FloatValues)(n);
            const r = backend.decodeFloatsWhere(stream, 0, n, op, x, rows, out);
            expect(r.used, `${name} via ${backend.name}`).toBe(used);
            expect([...rows.subarray(0, r.count)], `${name} ${op} ${x} via ${backend.name}`).toEqual([...want]);
            expect(bytesOf(out.subarray(0, r.count)).equals(taken(all, want)), `${name} ${op} ${x} values via ${backend.name}`).toBe(true);
          }
        }
      }
    }
  });

  it('refuses rows out of order, past the stream or beyond the output, and malformed streams as corrupt', () => {
    const values = Float64Array.from({ length: 300 }, (_, i) => (i * 7919) % 1000 / 100);
    const stream = wasm.encodeFloats(values).slice();
    for (const backend of [wasm, reference]) {
      const out = new Float64Array(300);
      expect(() => backend.decodeFloatsAt(stream, 0, 300, Uint32Array.of(3, 2), out)).toThrow(RangeError);
      expect(() => backend.decodeFloatsAt(stream, 0, 300, Uint32Array.of(5, 5), out)).toThrow(RangeError);
      expect(() => backend.decodeFloatsAt(stream, 0, 300, Uint32Array.of(300), out)).toThrow(RangeError);
      expect(() => backend.decodeFloatsAt(stream, 0, 300, Uint32Array.of(1, 2), new Float64Array(1))).toThrow(RangeError);
    }
    // A frame-of-reference block claiming 65-bit values.
    const ints = wasm.encodeInts(BigInt64Array.from({ length: 200 }, (_, i) => BigInt((i * 7919) % 1000))).slice();
    expect([ints[0], ints[1]]).toEqual([2, 0]);
    const bad = ints.slice();
    bad[10] = 65;
    expect(() => wasm.decodeIntsAt(bad, 0, 200, Uint32Array.of(1), new BigInt64Array(200))).toThrow(expect.objectContaining({ code: 'XX001' }));
  });
});
