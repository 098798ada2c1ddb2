/**
 * @module columnstore/codecs/wasm-backend
 * The codec backend over codecs.wasm (built from assembly/codecs/ by scripts/build.mjs). The
 * module is passed in, compiled or as bytes, so this file runs unchanged in Node, browsers and
 * Workers (which accept only precompiled modules); `load-node.ts` reads the file for Node.
 *
 * Each call copies its input into the module's arena and its output back out: one memcpy each
 * way, into arrays the caller owns. Views are re-created whenever memory.buffer changes (growing
 * memory detaches them).
 */
import { orbitError } from '../../errors.js';
import type { CodecBackend, FloatValues, IntValues, RangeOp, StreamAt } from './backend.js';
import { corrupt } from './format.js';
import { checkRows, notInteger } from './values.js';

interface CodecsExports {
  readonly memory: WebAssembly.Memory;
  layout(n: number): number;
  bytesPtr(): number;
  valuesPtr(): number;
  bytesSize(): number;
  widen(n: number, type: number): number;
  narrow(n: number, type: number): void;
  encodeInts(n: number): number;
  decodeInts(n: number): number;
  encodeFloats(n: number, is32: number): number;
  decodeFloats(n: number, is32: number): number;
  selectionPtr(): number;
  decodeIntsAt(n: number, count: number): number;
  decodeFloatsAt(n: number, is32: number, count: number): number;
  streamsPtr(): number;
  decodeColumnsAt(streams: number, count: number): number;
  decodeFloatsWhere(n: number, is32: number, op: number, x: number): number;
  whereBytes(): number;
}

const RANGE_OPS: Readonly<Record<RangeOp, number>> = { '<': 0, '<=': 1, '>': 2, '>=': 3 };

/** decodeColumnsAt's table size (assembly/codecs/index.ts). */
const MAX_STREAMS = 256;

/** Element types understood by `widen`/`narrow` (assembly/codecs/index.ts). */
const ElementType = { i64: 0, f64: 1, i32: 2, i16: 3, u8: 4 } as const;

function elementType(values: IntValues): number {
  if (values instanceof BigInt64Array) return ElementType.i64;
  if (values instanceof Float64Array) return ElementType.f64;
  if (values instanceof Int32Array) return ElementType.i32;
  if (values instanceof Int16Array) return ElementType.i16;
  return ElementType.u8;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Smallest arena: one 1000-row batch plus room, so ordinary batches never grow memory. */
const MIN_CAPACITY = 1024;

export class WasmBackend implements CodecBackend {
  readonly name = 'wasm';
  private readonly x: CodecsExports;
  private capacity = 0;
  private heap = new Uint8Array(0);
  /** The same memory as u32s (the selection region is 16-byte aligned). */
  private words = new Uint32Array(0);
  private bytesPtr = 0;
  private valuesPtr = 0;
  private selectionPtr = 0;
  private bytesRoom = 0;

  constructor(instance: WebAssembly.Instance) {
    this.x = instance.exports as unknown as CodecsExports;
  }

  /** Bytes of the module's linear memory (it counts toward a Worker isolate's 128 MB). */
  get memoryBytes(): number {
    return this.x.memory.buffer.byteLength;
  }

  /** Instantiates codecs.wasm from a compiled module (Workers) or its bytes. */
  static async create(source: WebAssembly.Module | BufferSource): Promise<WasmBackend> {
    const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
    return new WasmBackend(await WebAssembly.instantiate(module, {}));
  }

  /** Makes room for n values and refreshes the views. */
  private arena(n: number): Uint8Array {
    if (n > this.capacity) {
      try {
        this.capacity = this.x.layout(Math.max(n, MIN_CAPACITY));
      } catch (cause) {
        throw orbitError('out_of_memory', `cannot grow codec memory for ${n} values`, { cause });
      }
      this.bytesPtr = this.x.bytesPtr();
      this.valuesPtr = this.x.valuesPtr();
      this.selectionPtr = this.x.selectionPtr();
      this.bytesRoom = this.x.bytesSize() - 16;
    }
    if (this.heap.buffer !== this.x.memory.buffer) {
      this.heap = new Uint8Array(this.x.memory.buffer);
      this.words = new Uint32Array(this.x.memory.buffer);
    }
    return this.heap;
  }

  /** Copies the encoded input in (at most what a stream of n values can use); returns its length. */
  private loadBytes(bytes: Uint8Array, offset: number, n: number): number {
    const heap = this.arena(n);
    const len = Math.min(bytes.length - offset, this.bytesRoom);
    heap.set(bytes.subarray(offset, offset + len), this.bytesPtr);
    return len;
  }

  /**
   * Runs a decoder export over the encoded input and copies `out.byteLength` bytes of values out.
   * Returns bytes read; a malformed stream (−1, overlong, or a trap) is data_corrupted.
   */
  private decode(bytes: Uint8Array, offset: number, out: ArrayBufferView, n: number, call: () => number): number {
    const available = this.loadBytes(bytes, offset, n);
    let used: number;
    try {
      used = call();
    } catch (cause) {
      throw cause instanceof WebAssembly.RuntimeError ? corrupt(`decoder trapped (${cause.message})`) : cause;
    }
    if (used < 0 || used > available) throw corrupt('stream is malformed or truncated');
    bytesOf(out).set(this.heap.subarray(this.valuesPtr, this.valuesPtr + out.byteLength));
    return used;
  }

  /**
   * Copies the rows a decodeIntsAt/decodeFloatsAt keeps into the module (after `loadBytes` laid the
   * arena out for n), checking them on the way (checkRows' conditions): a plain loop, since a scan
   * passes a few dozen rows per column and a view plus `set` per call cost more than the copy.
   */
  private loadRows(n: number, rows: Uint32Array, room: number): void {
    const count = rows.length;
    if (count > room) checkRows(n, rows, room);
    const words = this.words;
    const base = this.selectionPtr >>> 2;
    let previous = -1;
    for (let j = 0; j < count; j++) {
      const r = rows[j]!;
      if (r >= n || r <= previous) checkRows(n, rows, room);
      words[base + j] = r;
      previous = r;
    }
  }

  encodeInts(values: IntValues): Uint8Array {
    const n = values.length;
    const heap = this.arena(n);
    heap.set(bytesOf(values), this.valuesPtr);
    const bad = this.x.widen(n, elementType(values));
    if (bad >= 0) throw notInteger(bad, values[bad] as number);
    const len = this.x.encodeInts(n);
    // A view: the caller copies it into its writer (no buffer per stream).
    return heap.subarray(this.bytesPtr, this.bytesPtr + len);
  }

  decodeInts(bytes: Uint8Array, offset: number, out: IntValues): number {
    const n = out.length;
    return this.decode(bytes, offset, out, n, () => {
      const used = this.x.decodeInts(n);
      if (used >= 0) this.x.narrow(n, elementType(out));
      return used;
    });
  }

  decodeIntsAt(bytes: Uint8Array, offset: number, n: number, rows: Uint32Array, out: IntValues): number {
    const count = rows.length;
    const kept = out.subarray(0, count);
    return this.decode(bytes, offset, kept, n, () => {
      this.loadRows(n, rows, out.length);
      const used = this.x.decodeIntsAt(n, count);
      if (used >= 0) this.x.narrow(count, elementType(out));
      return used;
    });
  }

  encodeFloats(values: FloatValues): Uint8Array {
    const n = values.length;
    const heap = this.arena(n);
    heap.set(bytesOf(values), this.valuesPtr);
    const len = this.x.encodeFloats(n, values instanceof Float32Array ? 1 : 0);
    return heap.subarray(this.bytesPtr, this.bytesPtr + len);
  }

  decodeFloats(bytes: Uint8Array, offset: number, out: FloatValues): number {
    const n = out.length;
    return this.decode(bytes, offset, out, n, () => this.x.decodeFloats(n, out instanceof Float32Array ? 1 : 0));
  }

  decodeFloatsAt(bytes: Uint8Array, offset: number, n: number, rows: Uint32Array, out: FloatValues): number {
    const count = rows.length;
    return this.decode(bytes, offset, out.subarray(0, count), n, () => {
      this.loadRows(n, rows, out.length);
      return this.x.decodeFloatsAt(n, out instanceof Float32Array ? 1 : 0, count);
    });
  }

  decodeManyAt(streams: readonly StreamAt[], n: number, rows: Uint32Array, used: number[]): void {
    const count = rows.length;
    const k = streams.length;
    let total = 0;
    let room = Infinity;
    for (const s of streams) {
      total += s.bytes.length - s.offset;
      room = Math.min(room, s.out.length);
    }
    if (k > MAX_STREAMS) {
      streams.forEach((s, i) => (used[i] = s.float ? this.decodeFloatsAt(s.bytes, s.offset, n, rows, s.out) : this.decodeIntsAt(s.bytes, s.offset, n, rows, s.out)));
      return;
    }
    // Room for every stream's bytes (10 per value of capacity) and k·count values.
    const heap = this.arena(Math.max(n, k * count, Math.ceil(total / 10)));
    const table = this.x.streamsPtr() >>> 2;
    const words = this.words;
    let at = 0;
    for (let i = 0; i < k; i++) {
      const s = streams[i]!;
      heap.set(s.bytes.subarray(s.offset), this.bytesPtr + at);
      words[table + 4 * i] = at;
      words[table + 4 * i + 1] = n;
      words[table + 4 * i + 2] = !s.float ? 0 : s.out instanceof Float32Array ? 2 : 1;
      at += s.bytes.length - s.offset;
    }
    this.loadRows(n, rows, room);
    let failed: number;
    try {
      failed = this.x.decodeColumnsAt(k, count);
    } catch (cause) {
      throw cause instanceof WebAssembly.RuntimeError ? corrupt(`decoder trapped (${cause.message})`) : cause;
    }
    if (failed < 0) throw corrupt('stream is malformed or truncated');
    for (let i = 0; i < k; i++) {
      const s = streams[i]!;
      used[i] = words[table + 4 * i + 3]!;
      if (used[i]! > s.bytes.length - s.offset) throw corrupt('stream is malformed or truncated');
      const from = this.valuesPtr + i * count * 8;
      bytesOf(s.out).set(this.heap.subarray(from, from + count * s.out.BYTES_PER_ELEMENT));
    }
  }

  decodeFloatsWhere(bytes: Uint8Array, offset: number, n: number, op: RangeOp, x: number, rows: Uint32Array, out: FloatValues): { count: number; used: number } {
    if (rows.length < n || out.length < n) throw new RangeError(`room for ${n} rows and values needed`);
    if (Number.isNaN(x)) throw new RangeError('decodeFloatsWhere compares with a number, not NaN');
    const available = this.loadBytes(bytes, offset, n);
    let count: number;
    try {
      count = this.x.decodeFloatsWhere(n, out instanceof Float32Array ? 1 : 0, RANGE_OPS[op], x);
    } catch (cause) {
      throw cause instanceof WebAssembly.RuntimeError ? corrupt(`decoder trapped (${cause.message})`) : cause;
    }
    const used = this.x.whereBytes();
    if (count < 0 || used > available) throw corrupt('stream is malformed or truncated');
    const words = this.words;
    const base = this.selectionPtr >>> 2;
    for (let j = 0; j < count; j++) rows[j] = words[base + j]!;
    bytesOf(out).set(this.heap.subarray(this.valuesPtr, this.valuesPtr + count * out.BYTES_PER_ELEMENT));
    return { count, used };
  }
}
