/**
 * @module test/support/prng
 * A seeded generator for property tests (SplitMix64 over BigInt state): raw 64-bit patterns for
 * adversarial integers and floats, plus the usual uniform helpers. Same seed, same data, every run.
 */
export class Prng {
  private state: bigint;

  constructor(seed: number) {
    this.state = BigInt.asUintN(64, BigInt(seed) * 0x9e3779b97f4a7c15n);
  }

  /** A uniform u64. */
  u64(): bigint {
    this.state = BigInt.asUintN(64, this.state + 0x9e3779b97f4a7c15n);
    let z = this.state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  }

  i64(): bigint {
    return BigInt.asIntN(64, this.u64());
  }

  /** Uniform in [0, 1). */
  next(): number {
    return Number(this.u64() >> 11n) / 2 ** 53;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

const f64 = new Float64Array(1);
const f64Bits = new BigUint64Array(f64.buffer);

/** The float64 with bit pattern `bits` (for NaN payloads, write through an integer view instead). */
export function fromBits(bits: bigint): number {
  f64Bits[0] = bits;
  return f64[0]!;
}
