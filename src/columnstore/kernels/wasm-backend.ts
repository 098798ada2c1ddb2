/**
 * @module columnstore/kernels/wasm-backend
 * The kernel backend over kernels.wasm (built from assembly/kernels/ by scripts/build.mjs). The
 * module is passed in, compiled or as bytes, so this file runs unchanged in Node, browsers and
 * Workers; `load-node.ts` reads the file for Node.
 *
 * Decoded columns are copied into the module's arena (one memcpy each, ~8 KB per 1,000-row column),
 * or, on the fused path (`bucketizeEncoded` / `aggregateEncoded`), only their encoded streams, which
 * the module decodes in place with the codecs' readers compiled in; `aggregateEncodedColumns` takes
 * all of a batch's value columns in one call and its results are read in place. Other per-slot
 * results are copied out into arrays reused from call to call: a result is valid until the
 * next call of the same method. Views are re-created whenever
 * memory.buffer changes (growing memory detaches them).
 */
import { orbitError } from '../../errors.js';
import { corrupt } from '../codecs/format.js';
import type { BucketParams, ColumnAggregates, EncodedColumn, FirstLast, FusedKernels, KernelValues, SlotTable, TimeRange, ValueAggregates } from './backend.js';
import { bucketOutOfRange } from './bucket.js';

interface KernelExports {
  readonly memory: WebAssembly.Memory;
  layout(n: number): number;
  region(i: number): number;
  bucketize(n: number, hasSelection: number, hasBucket: number): number;
  aggregate(n: number, slots: number, type: number, hasNulls: number): void;
  firstLast(n: number, slots: number, hasNulls: number): void;
  bytesPtr(): number;
  bytesRoom(): number;
  decodeTimes(n: number): number;
  uniformSlots(n: number): number;
  decodeValues(rows: number, nonNull: number, kind: number, hasNulls: number): number;
  decodeAggregateUniform(n: number, kind: number): number;
  reserveColumns(bytes: number): number;
  aggregateColumns(desc: number, ncols: number, n: number, nslots: number): number;
}

/** Bytes of one column's descriptor for `aggregateColumns` (assembly/kernels/columns.ts). */
const DESCRIPTOR_BYTES = 32;

function align16(n: number): number {
  return (n + 15) & ~15;
}

/** Region numbers of `region` (assembly/kernels/index.ts). */
const Region = {
  params: 0, times: 1, by: 2, values: 3, nulls: 4, byNulls: 5, selection: 6, slots: 7, slotBucket: 8, slotRows: 9,
  count: 10, sumA: 11, sumB: 12, minima: 13, maxima: 14, flags: 15, firsts: 16, lasts: 17,
} as const;
type Region = (typeof Region)[keyof typeof Region];

/** Element types of `aggregate` (assembly/kernels/aggregate.ts). */
function elementType(values: KernelValues): number {
  if (values instanceof Float64Array) return 0;
  if (values instanceof Float32Array) return 1;
  if (values instanceof BigInt64Array) return 2;
  if (values instanceof Int32Array) return 3;
  return 4;
}

/** Smallest arena: one 1,000-row batch plus room, so ordinary batches never grow memory. */
const MIN_CAPACITY = 1024;

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Stream kinds of `decodeValues` (assembly/kernels/decode.ts), which are also `aggregate` types 0–2. */
function streamKind(type: EncodedColumn['type']): number {
  return type === 'float8' ? 0 : type === 'float4' ? 1 : 2;
}

/**
 * `aggregateColumns`' results in the module's memory: column c's block starts at byte
 * `base + c * stride` (count i32[k], flags i32[k], sumA, sumB, minima, maxima 8-byte [k]).
 */
class ColumnResults implements ColumnAggregates {
  i32 = new Int32Array(0);
  f64 = new Float64Array(0);
  i64 = new BigInt64Array(0);
  base = 0;
  stride = 0;
  slots = 0;

  count(c: number, s: number): number {
    return this.i32[((this.base + c * this.stride) >> 2) + s]!;
  }
  floatFlags(c: number, s: number): number {
    return this.i32[((this.base + c * this.stride) >> 2) + this.slots + s]!;
  }
  /** Byte address of element s of the 8-byte region r (0 sumA, 1 sumB, 2 minima, 3 maxima). */
  private at8(c: number, r: number, s: number): number {
    return ((this.base + c * this.stride + this.slots * 8 + r * this.slots * 8) >> 3) + s;
  }
  sumFloat(c: number, s: number): number {
    return this.f64[this.at8(c, 0, s)]!;
  }
  sumInt(c: number, s: number): bigint {
    return (this.i64[this.at8(c, 1, s)]! << 64n) + BigInt.asUintN(64, this.i64[this.at8(c, 0, s)]!);
  }
  min(c: number, s: number): number | bigint {
    return this.float[c] ? this.f64[this.at8(c, 2, s)]! : this.i64[this.at8(c, 2, s)]!;
  }
  max(c: number, s: number): number | bigint {
    return this.float[c] ? this.f64[this.at8(c, 3, s)]! : this.i64[this.at8(c, 3, s)]!;
  }
  /** Per column: a float column (its min/max are f64). */
  float: boolean[] = [];
}

export class WasmKernels implements FusedKernels {
  readonly name = 'wasm';
  private readonly x: KernelExports;
  private capacity = 0;
  private heap = new Uint8Array(0);
  private readonly at = new Array<number>(18).fill(0);
  private rows = 0;
  private slots = 0;
  /** Every row of the batch is kept, in slot 0 (the one-pass decode + aggregate applies). */
  private uniform = false;
  private bytesPtr = 0;
  private bytesRoom = 0;
  /** Reused result arrays, one per output (see `take`). */
  private readonly outputs: (Int32Array | Float64Array | BigInt64Array | Uint8Array | undefined)[] = [];
  /** Per output: its words (for copying bit patterns) and its last `subarray(0, n)`, reused while n repeats. */
  private readonly outputWords: (Int32Array | undefined)[] = [];
  private readonly sized: (Int32Array | Float64Array | BigInt64Array | Uint8Array | undefined)[] = [];
  /** The module's memory as 32-bit words (regions are 16-byte aligned). */
  private words = new Int32Array(0);
  /** `aggregateEncodedColumns`' area (`reserveColumns`): its address and size, and the results view. */
  private columnsAt = 0;
  private columnsBytes = 0;
  private columnsCapacity = -1;
  private readonly columnResults = new ColumnResults();
  private params = new BigInt64Array(0);

  constructor(instance: WebAssembly.Instance) {
    this.x = instance.exports as unknown as KernelExports;
  }

  /** Instantiates kernels.wasm from a compiled module (Workers) or its bytes. */
  static async create(source: WebAssembly.Module | BufferSource): Promise<WasmKernels> {
    const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
    return new WasmKernels(await WebAssembly.instantiate(module, {}));
  }

  /** Makes room for n rows and refreshes the views. */
  private arena(n: number): Uint8Array {
    if (n > this.capacity) {
      try {
        this.capacity = this.x.layout(Math.max(n, MIN_CAPACITY));
      } catch (cause) {
        throw orbitError('out_of_memory', `cannot grow kernel memory for ${n} rows`, { cause });
      }
      for (let r = 0; r < this.at.length; r++) this.at[r] = this.x.region(r);
      this.bytesPtr = this.x.bytesPtr();
      this.bytesRoom = this.x.bytesRoom();
    }
    if (this.heap.buffer !== this.x.memory.buffer) {
      this.heap = new Uint8Array(this.x.memory.buffer);
      this.words = new Int32Array(this.x.memory.buffer);
    }
    return this.heap;
  }

  private put(region: Region, data: ArrayBufferView): void {
    this.heap.set(bytesOf(data), this.at[region]!);
  }

  /**
   * Copies `n` elements of a slot region into the reused output array `slot` (allocated per
   * capacity, not per call: new ArrayBuffers cost more than the kernels at 1,000 rows). The copy
   * goes word by word (exact bit patterns, NaN payloads included) and allocates nothing: a batch
   * has a few slots, and views over the module's memory per call cost more than the copy.
   */
  private take<T extends Int32Array | Float64Array | BigInt64Array>(region: Region, slot: number, Type: { new (n: number): T; readonly BYTES_PER_ELEMENT: number }, n: number): T {
    let out = this.outputs[slot] as T | undefined;
    if (!out || out.length < this.capacity) {
      this.outputs[slot] = out = new Type(this.capacity);
      this.outputWords[slot] = new Int32Array(out.buffer);
      this.sized[slot] = undefined;
    }
    const to = this.outputWords[slot]!;
    const from = this.words;
    const base = this.at[region]! >> 2;
    const count = n * (Type.BYTES_PER_ELEMENT >> 2);
    for (let i = 0; i < count; i++) to[i] = from[base + i]!;
    let sized = this.sized[slot] as T | undefined;
    if (!sized || sized.length !== n) this.sized[slot] = sized = out.subarray(0, n) as T;
    return sized;
  }

  private putBits(region: Region, bits: Uint8Array, n: number): void {
    this.heap.set(bits.subarray(0, (n + 7) >> 3), this.at[region]!);
  }

  /**
   * Copies an encoded stream into the module and runs a decoder over it; a malformed stream (−1, a
   * length other than the stream's, or a trap) is data_corrupted, as in the codecs.
   */
  private decodeStream(stream: Uint8Array, call: () => number): void {
    if (stream.length > this.bytesRoom) throw corrupt(`a stream of ${stream.length} bytes for ${this.rows} values`);
    this.heap.set(stream, this.bytesPtr);
    let used: number;
    try {
      used = call();
    } catch (cause) {
      throw cause instanceof WebAssembly.RuntimeError ? corrupt(`decoder trapped (${cause.message})`) : cause;
    }
    if (used < 0) throw corrupt('stream is malformed or truncated');
    if (used !== stream.length) throw corrupt(`${stream.length - used} trailing bytes`);
  }

  bucketizeEncoded(times: EncodedColumn, range: TimeRange, bucket: BucketParams | null, selection: Uint8Array | null = null): SlotTable {
    const n = times.rows;
    if (times.nonNull !== n) throw orbitError('internal_error', 'NULLs in the time column reached the kernels');
    this.arena(n);
    this.rows = n;
    this.decodeStream(times.stream, () => this.x.decodeTimes(n));
    if (selection) this.putBits(Region.selection, selection, n);
    return this.bucketizeLoaded(n, range, bucket, selection);
  }

  bucketizeUniform(rows: number): SlotTable {
    this.arena(rows);
    this.rows = rows;
    this.slots = this.x.uniformSlots(rows);
    this.uniform = this.slots === 1;
    return { slots: this.slots, buckets: this.take(Region.slotBucket, 0, BigInt64Array, this.slots), rows: this.take(Region.slotRows, 1, Int32Array, this.slots) };
  }

  aggregateEncoded(values: EncodedColumn): ValueAggregates {
    const n = this.rows;
    if (values.rows !== n) throw orbitError('internal_error', `a column of ${values.rows} rows after bucketize of ${n}`);
    const heap = this.arena(n);
    const kind = streamKind(values.type);
    if (this.uniform && !values.nulls && values.nonNull === n && kind <= 1 && values.stream.length <= this.bytesRoom) {
      // One pass for DECIMAL floats (−2: another codec; the two passes below then decode it).
      heap.set(values.stream, this.bytesPtr);
      const used = this.x.decodeAggregateUniform(n, kind);
      if (used >= 0) {
        if (used !== values.stream.length) throw corrupt(`${values.stream.length - used} trailing bytes`);
        return this.results(kind);
      }
    }
    if (values.nulls) this.putBits(Region.nulls, values.nulls, n);
    if (values.nonNull === 0) heap.fill(0, this.at[Region.values]!, this.at[Region.values]! + n * 8);
    else this.decodeStream(values.stream, () => this.x.decodeValues(n, values.nonNull, kind, values.nulls ? 1 : 0));
    return this.aggregateLoaded(kind, values.nulls !== null);
  }

  aggregateEncodedColumns(columns: readonly EncodedColumn[]): ColumnAggregates {
    const n = this.rows;
    const k = this.slots;
    const ncols = columns.length;
    this.arena(n);
    // Layout: descriptors, per-column results, NULL bitmaps, streams, then the decoders' read slack.
    const stride = align16(40 * k);
    const bitmap = (n + 7) >> 3;
    let size = align16(ncols * DESCRIPTOR_BYTES) + ncols * stride;
    for (const c of columns) {
      if (c.rows !== n) throw orbitError('internal_error', `a column of ${c.rows} rows after bucketize of ${n}`);
      if (c.nulls) size += align16(bitmap);
      size += c.stream.length;
    }
    size += 16;
    if (size > this.columnsBytes || this.columnsCapacity !== this.capacity) {
      const want = Math.max(size, this.columnsBytes * 2, 64 << 10);
      try {
        this.columnsAt = this.x.reserveColumns(want);
      } catch (cause) {
        throw orbitError('out_of_memory', `cannot grow kernel memory for ${want} bytes of columns`, { cause });
      }
      this.columnsBytes = want;
      this.columnsCapacity = this.capacity;
      this.arena(n);
    }
    const heap = this.heap;
    const words = this.words;
    const desc = this.columnsAt;
    const results = desc + align16(ncols * DESCRIPTOR_BYTES);
    let at = results + ncols * stride;
    const r = this.columnResults;
    r.float.length = ncols;
    for (let c = 0; c < ncols; c++) {
      const col = columns[c]!;
      const w = (desc + c * DESCRIPTOR_BYTES) >> 2;
      let nulls = 0;
      if (col.nulls) {
        heap.set(col.nulls.subarray(0, bitmap), at);
        nulls = at;
        at += align16(bitmap);
      }
      heap.set(col.stream, at);
      const kind = streamKind(col.type);
      words[w] = at;
      words[w + 1] = col.stream.length;
      words[w + 2] = kind;
      words[w + 3] = col.nonNull;
      words[w + 4] = nulls;
      words[w + 5] = results + c * stride;
      words[w + 6] = 0;
      at += col.stream.length;
      r.float[c] = kind <= 1;
    }
    let done: number;
    try {
      done = this.x.aggregateColumns(desc, ncols, n, k);
    } catch (cause) {
      throw cause instanceof WebAssembly.RuntimeError ? corrupt(`decoder trapped (${cause.message})`) : cause;
    }
    if (done !== ncols) throw corrupt('stream is malformed or truncated');
    for (let c = 0; c < ncols; c++) {
      const used = words[((desc + c * DESCRIPTOR_BYTES) >> 2) + 6]!;
      const length = columns[c]!.stream.length;
      if (used !== length) throw corrupt(used > length ? 'stream is truncated' : `${length - used} trailing bytes`);
    }
    if (r.i32.buffer !== this.x.memory.buffer) {
      r.i32 = this.words;
      r.f64 = new Float64Array(this.x.memory.buffer);
      r.i64 = new BigInt64Array(this.x.memory.buffer);
    }
    r.base = results;
    r.stride = stride;
    r.slots = k;
    return r;
  }

  bucketize(times: BigInt64Array, range: TimeRange, bucket: BucketParams | null, selection: Uint8Array | null): SlotTable {
    const n = times.length;
    this.arena(n);
    this.put(Region.times, times);
    if (selection) this.putBits(Region.selection, selection, n);
    return this.bucketizeLoaded(n, range, bucket, selection);
  }

  /** bucketize over the times already in the arena. */
  private bucketizeLoaded(n: number, range: TimeRange, bucket: BucketParams | null, selection: Uint8Array | null): SlotTable {
    let params = this.params;
    // One view per memory buffer and arena (a typed array per batch showed in profiles).
    if (params.buffer !== this.heap.buffer || params.byteOffset !== this.at[Region.params]) this.params = params = new BigInt64Array(this.heap.buffer, this.at[Region.params]!, 4);
    params[0] = range.lo;
    params[1] = range.hi;
    params[2] = bucket?.width ?? 1n;
    params[3] = bucket?.origin ?? 0n;
    const slots = this.x.bucketize(n, selection ? 1 : 0, bucket ? 1 : 0);
    if (slots < 0) throw bucketOutOfRange(slots === -1);
    this.rows = n;
    this.slots = slots;
    const rows = this.take(Region.slotRows, 1, Int32Array, slots);
    this.uniform = slots === 1 && rows[0] === n;
    return { slots, buckets: this.take(Region.slotBucket, 0, BigInt64Array, slots), rows };
  }

  aggregate(values: KernelValues, nulls: Uint8Array | null): ValueAggregates {
    const n = this.rows;
    if (values.length !== n) throw orbitError('internal_error', `a column of ${values.length} rows after bucketize of ${n}`);
    this.arena(n);
    this.put(Region.values, values);
    if (nulls) this.putBits(Region.nulls, nulls, n);
    return this.aggregateLoaded(elementType(values), nulls !== null);
  }

  /** aggregate over the values already in the arena, of `aggregate` element type `type`. */
  private aggregateLoaded(type: number, hasNulls: boolean): ValueAggregates {
    this.x.aggregate(this.rows, this.slots, type, hasNulls ? 1 : 0);
    return this.results(type);
  }

  /** The slot regions `aggregate` (or `decodeAggregateUniform`) filled, for element type `type`. */
  private results(type: number): ValueAggregates {
    const k = this.slots;
    const count = this.take(Region.count, 2, Int32Array, k);
    if (type <= 1) {
      const flags = this.take(Region.flags, 3, Int32Array, k);
      let floatFlags = this.outputs[4] as Uint8Array | undefined;
      if (!floatFlags || floatFlags.length < this.capacity) {
        this.outputs[4] = floatFlags = new Uint8Array(this.capacity);
        this.sized[4] = undefined;
      }
      for (let s = 0; s < k; s++) floatFlags[s] = flags[s]!;
      let floatFlagsSized = this.sized[4] as Uint8Array | undefined;
      if (!floatFlagsSized || floatFlagsSized.length !== k) this.sized[4] = floatFlagsSized = floatFlags.subarray(0, k);
      return {
        count,
        sumFloat: this.take(Region.sumA, 5, Float64Array, k),
        floatFlags: floatFlagsSized,
        sumInt: null,
        min: this.take(Region.minima, 6, Float64Array, k),
        max: this.take(Region.maxima, 7, Float64Array, k),
      };
    }
    const lo = this.take(Region.sumA, 8, BigInt64Array, k);
    const hi = this.take(Region.sumB, 9, BigInt64Array, k);
    const sumInt = Array.from(lo, (l, s) => (hi[s]! << 64n) + BigInt.asUintN(64, l));
    return { count, sumFloat: null, floatFlags: null, sumInt, min: this.take(Region.minima, 10, BigInt64Array, k), max: this.take(Region.maxima, 11, BigInt64Array, k) };
  }

  firstLast(by: BigInt64Array, nulls: Uint8Array | null): FirstLast {
    const n = this.rows;
    if (by.length !== n) throw orbitError('internal_error', `a column of ${by.length} rows after bucketize of ${n}`);
    this.arena(n);
    this.put(Region.by, by);
    if (nulls) this.putBits(Region.byNulls, nulls, n);
    this.x.firstLast(n, this.slots, nulls ? 1 : 0);
    return { first: this.take(Region.firsts, 12, Int32Array, this.slots), last: this.take(Region.lasts, 13, Int32Array, this.slots) };
  }
}
