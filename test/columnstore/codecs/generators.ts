/**
 * @module test/columnstore/codecs/generators
 * Seeded column generators for the codec property tests: random and adversarial values per kind
 * (extremes, NaN payloads, -0.0, subnormals, 2^53 boundaries, runs, low cardinality, …) under
 * several NULL patterns.
 */
import type { ColumnInput } from '../../../src/columnstore/codecs/index.js';
import { Prng } from '../../support/prng.js';

export interface Case {
  readonly name: string;
  readonly column: ColumnInput;
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const SIZES = [1, 2, 3, 127, 128, 129, 257, 1000];

function sizes(rng: Prng): number[] {
  return [...SIZES, 1 + rng.int(1000), 1 + rng.int(1000)];
}

/** Integer sequences (i64 BigInts) by name. */
function intSequences(rng: Prng, n: number): Record<string, bigint[]> {
  const seq = (f: (i: number) => bigint) => Array.from({ length: n }, (_, i) => f(i));
  const extremes = [I64_MIN, I64_MAX, 0n, -1n, 1n, I64_MIN + 1n, I64_MAX - 1n];
  const boundaries = [2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n), -(2n ** 53n) - 1n];
  let walk = rng.i64() >> 8n;
  const palette = Array.from({ length: 1 + rng.int(40) }, () => rng.i64());
  let run = 0;
  let runValue = 0n;
  return {
    regular: seq((i) => 1_700_000_000_000_000n + BigInt(i) * 10_000_000n),
    jitter: seq((i) => 1_700_000_000_000_000n + BigInt(i) * 10_000_000n + BigInt(rng.int(1_000_000)) - 500_000n),
    descending: seq((i) => 1_000_000n - BigInt(i) * 7n),
    duplicateTimes: seq((i) => 1_700_000_000_000_000n + BigInt(Math.floor(i / 3)) * 1_000_000n),
    random: seq(() => rng.i64()),
    extremes: seq(() => rng.pick(extremes)),
    alternating: seq((i) => (i % 2 ? I64_MAX : I64_MIN)),
    boundaries: seq(() => rng.pick(boundaries)),
    walk: seq(() => (walk = BigInt.asIntN(64, walk + BigInt(rng.int(2001) - 1000)))),
    hugeDeltas: seq(() => (rng.chance(0.5) ? rng.i64() >> BigInt(rng.int(3)) : BigInt(rng.int(10)))),
    constant: seq(() => palette[0]!),
    runs: seq(() => {
      if (run-- <= 0) [run, runValue] = [rng.int(50), rng.pick(palette)];
      return runValue;
    }),
    lowCardinality: seq(() => rng.pick(palette)),
    smallInts: seq(() => BigInt(rng.int(100))),
  };
}

/** NULL bitmaps by name (null = no bitmap). */
function nullPatterns(rng: Prng, n: number): Record<string, Uint8Array | null> {
  const bitmap = (p: (i: number) => boolean) => {
    const b = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) if (p(i)) b[i >> 3]! |= 1 << (i & 7);
    return b;
  };
  return {
    none: null,
    sparse: bitmap(() => rng.chance(0.05)),
    half: bitmap(() => rng.chance(0.5)),
    mostly: bitmap(() => rng.chance(0.97)),
    ends: bitmap((i) => i === 0 || i === n - 1),
    all: bitmap(() => true),
  };
}

function withNulls(rng: Prng, n: number, name: string, make: (nulls: Uint8Array | null) => ColumnInput): Case[] {
  const patterns = Object.entries(nullPatterns(rng, n));
  // Every sequence runs without NULLs; one other pattern per sequence keeps the suite quick.
  const [nullName, nulls] = patterns[1 + rng.int(patterns.length - 1)]!;
  return [
    { name: `${name} n=${n}`, column: make(null) },
    { name: `${name} n=${n} nulls=${nullName}`, column: make(nulls) },
  ];
}

export function intCases(kind: 'int64' | 'timestamp' | 'int32' | 'int16', seed: number): Case[] {
  const rng = new Prng(seed);
  const cases: Case[] = [];
  for (const n of sizes(rng)) {
    for (const [name, v] of Object.entries(intSequences(rng, n))) {
      cases.push(
        ...withNulls(rng, n, name, (nulls) => {
          if (kind === 'int32') return { kind, values: Int32Array.from(v, (x) => Number(BigInt.asIntN(32, x))), nulls };
          if (kind === 'int16') return { kind, values: Int16Array.from(v, (x) => Number(BigInt.asIntN(16, x))), nulls };
          return { kind, values: BigInt64Array.from(v), nulls };
        }),
      );
    }
  }
  return cases;
}

/** Float64Array µs timestamps: integers up to ±2^63 (beyond 2^53 only the representable ones). */
export function timestampNumberCases(seed: number): Case[] {
  const rng = new Prng(seed);
  const cases: Case[] = [];
  for (const n of sizes(rng)) {
    const seqs: Record<string, number[]> = {
      regular: Array.from({ length: n }, (_, i) => 1_700_000_000_000_000 + i * 10_000_000),
      boundaries: Array.from({ length: n }, () => rng.pick([2 ** 53, 2 ** 53 - 1, -(2 ** 53), 2 ** 62, -(2 ** 63), 0])),
      jitter: Array.from({ length: n }, (_, i) => 946_684_800_000_000 + i * 1_000_000 + rng.int(1000)),
    };
    for (const [name, v] of Object.entries(seqs)) {
      cases.push(...withNulls(rng, n, name, (nulls) => ({ kind: 'timestamp', values: Float64Array.from(v), nulls })));
    }
  }
  return cases;
}

const F64_SPECIALS = [
  0x7ff8000000000000n, // canonical NaN
  0x7ff0000000000001n, // signalling NaN, lowest payload
  0xfff8000000000001n, // negative quiet NaN with payload
  0x7fffffffffffffffn, // NaN, all payload bits
  0x7ff0000000000000n, // +Infinity
  0xfff0000000000000n, // -Infinity
  0x8000000000000000n, // -0.0
  0x0000000000000000n, // +0.0
  0x0000000000000001n, // smallest subnormal
  0x000fffffffffffffn, // largest subnormal
  0x0010000000000000n, // smallest normal
  0x7fefffffffffffffn, // MAX_VALUE
  0xffefffffffffffffn, // -MAX_VALUE
];
const F32_SPECIALS = [0x7fc00000n, 0x7f800001n, 0xffc00001n, 0x7f800000n, 0xff800000n, 0x80000000n, 0n, 1n, 0x007fffffn, 0x7f7fffffn];

/** Float sequences as bit patterns (u64, or u32 for float32). */
function floatSequences(rng: Prng, n: number, is32: boolean): Record<string, bigint[]> {
  const view = is32 ? new Float32Array(1) : new Float64Array(1);
  const bits = is32 ? new Uint32Array(view.buffer) : new BigUint64Array(view.buffer);
  const pattern = (x: number): bigint => {
    view[0] = x;
    return BigInt(bits[0]!);
  };
  const seq = (f: (i: number) => bigint) => Array.from({ length: n }, (_, i) => f(i));
  const specials = is32 ? F32_SPECIALS : F64_SPECIALS;
  const k = rng.int(is32 ? 4 : 7);
  let m = rng.int(1e8);
  const decimal = () => pattern((m += rng.int(2_000_001) - 1_000_000) / 10 ** k);
  const randomBits = () => (is32 ? rng.u64() & 0xffffffffn : rng.u64());
  return {
    decimalWalk: seq(decimal),
    integral: seq(() => pattern(rng.int(100) * (rng.chance(0.5) ? 1 : -1))),
    decimalFewSpecials: seq((i) => (i % 23 === 5 ? rng.pick(specials) : decimal())),
    decimalManySpecials: seq((i) => (i % 5 === 0 ? rng.pick(specials) : decimal())),
    near2to53: seq(() => pattern(2 ** 53 - rng.int(4) * (rng.chance(0.5) ? 1 : 2) + (rng.chance(0.2) ? 2 : 0))),
    specials: seq(() => rng.pick(specials)),
    randomBits: seq(randomBits),
    uniform: seq(() => pattern(rng.next() * 100)),
    mixedScale: seq((i) => pattern(i % 7 ? (rng.int(10000) / 100) : 0.1 + 0.2)),
    tiny: seq(() => pattern(rng.next() * 1e-300)),
    constant: seq(() => specials[2]!),
    alternatingZeros: seq((i) => (i % 2 ? pattern(-0) : pattern(0.1))),
  };
}

export function floatCases(kind: 'float64' | 'float32', seed: number): Case[] {
  const rng = new Prng(seed);
  const is32 = kind === 'float32';
  const cases: Case[] = [];
  for (const n of sizes(rng)) {
    for (const [name, p] of Object.entries(floatSequences(rng, n, is32))) {
      cases.push(
        ...withNulls(rng, n, name, (nulls) => {
          if (is32) {
            const values = new Float32Array(n);
            new Uint32Array(values.buffer).set(p.map(Number));
            return { kind: 'float32', values, nulls };
          }
          const values = new Float64Array(n);
          new BigUint64Array(values.buffer).set(p);
          return { kind: 'float64', values, nulls };
        }),
      );
    }
  }
  return cases;
}

export function booleanCases(seed: number): Case[] {
  const rng = new Prng(seed);
  const cases: Case[] = [];
  for (const n of sizes(rng)) {
    let run = 0;
    let value = 0;
    const seqs: Record<string, number[]> = {
      random: Array.from({ length: n }, () => rng.int(2)),
      runs: Array.from({ length: n }, () => (run-- <= 0 ? ([run, value] = [rng.int(100), 1 - value])[1] : value)),
      allTrue: new Array<number>(n).fill(1),
      alternating: Array.from({ length: n }, (_, i) => i & 1),
      anyByte: Array.from({ length: n }, () => rng.int(256)),
    };
    for (const [name, v] of Object.entries(seqs)) {
      cases.push(...withNulls(rng, n, name, (nulls) => ({ kind: 'boolean', values: Uint8Array.from(v), nulls })));
    }
  }
  return cases;
}

export function textCases(seed: number): Case[] {
  const rng = new Prng(seed);
  const cases: Case[] = [];
  const words = ['', 'host_0', 'host_1', 'ünïcødé', '日本語', '😀 emoji', 'a\u0000b', 'x'.repeat(300)];
  for (const n of sizes(rng)) {
    const seqs: Record<string, (string | null)[]> = {
      hostnames: Array.from({ length: n }, (_, i) => `host_${Math.floor(i / 10) % 100}`),
      constant: new Array<string>(n).fill('us-east-1'),
      unicode: Array.from({ length: n }, () => rng.pick(words)),
      unique: Array.from({ length: n }, (_, i) => `GET /api/v1/items/${i * 7919}?session=${rng.int(1e9)}`),
      withNullEntries: Array.from({ length: n }, () => (rng.chance(0.3) ? null : rng.pick(words))),
    };
    for (const [name, v] of Object.entries(seqs)) {
      cases.push(...withNulls(rng, n, name, (nulls) => ({ kind: 'text', values: v, nulls })));
    }
  }
  return cases;
}
