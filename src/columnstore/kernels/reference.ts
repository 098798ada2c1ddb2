/**
 * @module columnstore/kernels/reference
 * The kernels in plain TypeScript (BigInt for times and integer sums), statement for statement the
 * semantics of assembly/kernels/: tests require identical results from both. Also the fallback
 * where WebAssembly cannot be instantiated.
 */
import { isNull } from '../codecs/values.js';
import { bucketOf } from './bucket.js';
import { floatFlagsOf, type BucketParams, type FirstLast, type KernelBackend, type KernelValues, type SlotTable, type TimeRange, type ValueAggregates } from './backend.js';

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function bitSet(bits: Uint8Array, i: number): boolean {
  return (bits[i >> 3]! & (1 << (i & 7))) !== 0;
}

export class ReferenceKernels implements KernelBackend {
  readonly name = 'reference';
  private slotOfRow = new Int32Array(0);
  private slots = 0;

  bucketize(times: BigInt64Array, range: TimeRange, bucket: BucketParams | null, selection: Uint8Array | null): SlotTable {
    const n = times.length;
    const slotOfRow = new Int32Array(n);
    const buckets: bigint[] = [];
    const rows: number[] = [];
    const index = new Map<bigint, number>();
    const shift = bucket ? bucket.origin % bucket.width : 0n;
    for (let i = 0; i < n; i++) {
      const t = times[i]!;
      if (t < range.lo || t > range.hi || (selection && !bitSet(selection, i))) {
        slotOfRow[i] = -1;
        continue;
      }
      const b = bucket ? bucketOf(t, bucket.width, shift) : 0n;
      let s = index.get(b);
      if (s === undefined) {
        index.set(b, (s = buckets.length));
        buckets.push(b);
        rows.push(0);
      }
      slotOfRow[i] = s;
      rows[s]!++;
    }
    this.slotOfRow = slotOfRow;
    this.slots = buckets.length;
    return { slots: buckets.length, buckets: BigInt64Array.from(buckets), rows: Int32Array.from(rows) };
  }

  aggregate(values: KernelValues, nulls: Uint8Array | null): ValueAggregates {
    const k = this.slots;
    const count = new Int32Array(k);
    if (values instanceof Float64Array || values instanceof Float32Array) {
      const sum = new Float64Array(k).fill(-0);
      const floatFlags = new Uint8Array(k);
      const min = new Float64Array(k).fill(NaN);
      const max = new Float64Array(k).fill(-Infinity);
      this.each(nulls, (i, s) => {
        const v = values[i]!;
        count[s]!++;
        sum[s]! += v;
        floatFlags[s] = floatFlags[s]! | floatFlagsOf(v);
        const lo = min[s]!;
        if (v < lo || (lo !== lo && v === v)) min[s] = v;
        const hi = max[s]!;
        if (v > hi || (v !== v && hi === hi)) max[s] = v;
      });
      return { count, sumFloat: sum, floatFlags, sumInt: null, min, max };
    }
    const sum = new Array<bigint>(k).fill(0n);
    const min = new BigInt64Array(k).fill(INT64_MAX);
    const max = new BigInt64Array(k).fill(INT64_MIN);
    this.each(nulls, (i, s) => {
      const v = BigInt(values[i]!);
      count[s]!++;
      sum[s]! += v;
      if (v < min[s]!) min[s] = v;
      if (v > max[s]!) max[s] = v;
    });
    return { count, sumFloat: null, floatFlags: null, sumInt: sum, min, max };
  }

  firstLast(by: BigInt64Array, nulls: Uint8Array | null): FirstLast {
    const first = new Int32Array(this.slots).fill(-1);
    const last = new Int32Array(this.slots).fill(-1);
    this.each(nulls, (i, s) => {
      const t = by[i]!;
      if (first[s]! < 0 || t < by[first[s]!]!) first[s] = i;
      if (last[s]! < 0 || t > by[last[s]!]!) last[s] = i;
    });
    return { first, last };
  }

  /** Kept, non-NULL rows in order. */
  private each(nulls: Uint8Array | null, f: (row: number, slot: number) => void): void {
    const slotOfRow = this.slotOfRow;
    for (let i = 0; i < slotOfRow.length; i++) {
      const s = slotOfRow[i]!;
      if (s >= 0 && !(nulls && isNull(nulls, i))) f(i, s);
    }
  }
}
