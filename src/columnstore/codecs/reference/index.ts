/**
 * @module columnstore/codecs/reference
 * The plain-TypeScript codec backend: BigInt arithmetic, byte-identical output to codecs.wasm.
 * Tests cross-check the WebAssembly against it; it is also the fallback where WebAssembly cannot
 * be instantiated (about 100× slower).
 */
import type { CodecBackend, FloatValues, IntValues, RangeOp, StreamAt } from '../backend.js';
import { ByteReader, ByteWriter } from '../format.js';
import { readFloatStream, writeFloatStream } from './float-stream.js';
import { readIntStream, writeIntStream } from './int-stream.js';
import { checkRows, notInteger, takeInto } from '../values.js';

function toBigInts(values: IntValues): bigint[] {
  if (values instanceof BigInt64Array) return Array.from(values);
  const out = new Array<bigint>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (values instanceof Float64Array && !(Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 63)) throw notInteger(i, v);
    out[i] = BigInt(v);
  }
  return out;
}

function store(v: readonly bigint[], out: IntValues): void {
  if (out instanceof BigInt64Array) out.set(v);
  else if (out instanceof Float64Array) v.forEach((x, i) => (out[i] = Number(x)));
  else if (out instanceof Int32Array) v.forEach((x, i) => (out[i] = Number(BigInt.asIntN(32, x))));
  else if (out instanceof Int16Array) v.forEach((x, i) => (out[i] = Number(BigInt.asIntN(16, x))));
  else v.forEach((x, i) => (out[i] = Number(BigInt.asUintN(8, x))));
}

/** Decodes all n values (`decode`), then takes `rows` of them into `out`; returns the bytes read. */
function decodeAt<T extends IntValues | FloatValues>(n: number, rows: Uint32Array, out: T, decode: (all: T) => number): number {
  checkRows(n, rows, out.length);
  const all = new (out.constructor as new (n: number) => T)(n);
  const used = decode(all);
  takeInto(all, rows, out);
  return used;
}

export class ReferenceBackend implements CodecBackend {
  readonly name = 'reference';

  encodeInts(values: IntValues): Uint8Array {
    const out = new ByteWriter();
    writeIntStream(toBigInts(values), out);
    return out.finish();
  }

  decodeInts(bytes: Uint8Array, offset: number, out: IntValues): number {
    const r = new ByteReader(bytes, offset);
    store(readIntStream(r, out.length), out);
    return r.pos - offset;
  }

  encodeFloats(values: FloatValues): Uint8Array {
    const out = new ByteWriter();
    writeFloatStream(values, out);
    return out.finish();
  }

  decodeFloats(bytes: Uint8Array, offset: number, out: FloatValues): number {
    const r = new ByteReader(bytes, offset);
    readFloatStream(r, out);
    return r.pos - offset;
  }

  decodeIntsAt(bytes: Uint8Array, offset: number, n: number, rows: Uint32Array, out: IntValues): number {
    return decodeAt(n, rows, out, (all) => this.decodeInts(bytes, offset, all));
  }

  decodeFloatsAt(bytes: Uint8Array, offset: number, n: number, rows: Uint32Array, out: FloatValues): number {
    return decodeAt(n, rows, out, (all) => this.decodeFloats(bytes, offset, all));
  }

  decodeManyAt(streams: readonly StreamAt[], n: number, rows: Uint32Array, used: number[]): void {
    streams.forEach((s, i) => (used[i] = s.float ? this.decodeFloatsAt(s.bytes, s.offset, n, rows, s.out) : this.decodeIntsAt(s.bytes, s.offset, n, rows, s.out)));
  }

  decodeFloatsWhere(bytes: Uint8Array, offset: number, n: number, op: RangeOp, x: number, rows: Uint32Array, out: FloatValues): { count: number; used: number } {
    if (rows.length < n || out.length < n) throw new RangeError(`room for ${n} rows and values needed`);
    const used = this.decodeFloats(bytes, offset, out.subarray(0, n));
    let count = 0;
    for (let i = 0; i < n; i++) {
      const v = out[i]!;
      if (op === '<' ? v < x : op === '<=' ? v <= x : op === '>' ? v > x || v !== v : v >= x || v !== v) rows[count++] = i;
    }
    // Moved through integer lanes: a NaN's payload is kept.
    const kept = rows.subarray(0, count);
    takeInto(out, kept, out);
    return { count, used };
  }
}
