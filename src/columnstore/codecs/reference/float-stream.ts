/**
 * @module columnstore/codecs/reference/float-stream
 * Reference float streams (mirrors assembly/codecs/float-stream.ts byte for byte): CONSTANT,
 * DECIMAL (bit-exact scaled integers with exceptions) and GORILLA. Bit patterns are read through
 * integer views, never through JS numbers, so NaN payloads survive.
 */
import type { FloatValues } from '../backend.js';
import { ByteWriter, Codec, corrupt, type ByteReader } from '../format.js';
import { gorillaRead, gorillaWrite } from './gorilla.js';
import { readIntStream, writeIntStream } from './int-stream.js';

const MAX_K = 18;
const TWO_53 = 2 ** 53;
const POW10 = Array.from({ length: MAX_K + 1 }, (_, k) => Number(`1e${k}`));

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const f64Bits = new BigUint64Array(f64.buffer);

/** Bit patterns of the values, zero-extended to u64. */
export function patternsOf(values: FloatValues): bigint[] {
  if (values instanceof Float32Array) {
    return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length), BigInt);
  }
  return Array.from(new BigUint64Array(values.buffer, values.byteOffset, values.length));
}

/** Writes u64 patterns into `out` through an integer view (keeps NaN payloads). */
export function storePatterns(patterns: readonly bigint[], out: FloatValues): void {
  if (out instanceof Float32Array) {
    const view = new Uint32Array(out.buffer, out.byteOffset, out.length);
    patterns.forEach((p, i) => (view[i] = Number(p)));
  } else {
    new BigUint64Array(out.buffer, out.byteOffset, out.length).set(patterns);
  }
}

/** WebAssembly's f64.nearest: round half to even. */
function nearest(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function scaledBits(m: number, p: number, is32: boolean): bigint {
  if (is32) {
    f32[0] = m / p;
    return BigInt(f32Bits[0]!);
  }
  f64[0] = m / p;
  return f64Bits[0]!;
}

/** Mantissa of a value at scale p if it round-trips bit-exactly, else null. */
function mantissa(value: number, pattern: bigint, p: number, is32: boolean): number | null {
  let m = nearest(value * p);
  if (!(Math.abs(m) < TWO_53)) return null;
  m = m === 0 ? 0 : m; // an i64 has no -0
  return scaledBits(m, p, is32) === pattern ? m : null;
}

function chooseK(values: FloatValues, patterns: readonly bigint[], is32: boolean): number {
  const n = values.length;
  const counts = new Array<number>(MAX_K + 2).fill(0);
  const stride = Math.max(1, n >> 6);
  let samples = 0;
  for (let i = 0; i < n; i += stride) {
    let k = 0;
    while (k <= MAX_K && mantissa(values[i]!, patterns[i]!, POW10[k]!, is32) === null) k++;
    counts[k]!++;
    samples++;
  }
  if (counts[MAX_K + 1]! * 8 > samples) return -1;
  let passed = 0;
  for (let k = 0; k <= MAX_K; k++) {
    passed += counts[k]!;
    if ((samples - passed) * 16 <= samples) return k;
  }
  return -1;
}

function decimalWrite(values: FloatValues, patterns: readonly bigint[], is32: boolean, k: number, out: ByteWriter): boolean {
  const n = values.length;
  const p = POW10[k]!;
  const ms = values.length ? Array.from(values, (v, i) => mantissa(v, patterns[i]!, p, is32)) : [];
  let fill = ms.find((m) => m !== null);
  if (fill === undefined || fill === null) return false;
  const exceptions: number[] = [];
  const mantissas = new Array<bigint>(n);
  for (let i = 0; i < n; i++) {
    const m = ms[i]!;
    if (m === null) {
      if ((exceptions.length + 1) * 16 > n) return false;
      exceptions.push(i);
    } else {
      fill = m;
    }
    mantissas[i] = BigInt(fill);
  }
  out.byte(Codec.decimal).byte(k).varint(exceptions.length);
  let prev = -1;
  for (const i of exceptions) {
    out.varint(i - prev - 1);
    prev = i;
    const bits = patterns[i]!;
    for (let b = 0n; b < (is32 ? 32n : 64n); b += 8n) out.byte(Number((bits >> b) & 0xffn));
  }
  writeIntStream(mantissas, out);
  return true;
}

export function writeFloatStream(values: FloatValues, out: ByteWriter): void {
  const is32 = values instanceof Float32Array;
  const patterns = patternsOf(values);
  if (patterns.every((p) => p === patterns[0])) {
    out.byte(Codec.constant);
    for (let b = 0n; b < (is32 ? 32n : 64n); b += 8n) out.byte(Number((patterns[0]! >> b) & 0xffn));
    return;
  }
  const k = chooseK(values, patterns, is32);
  if (k >= 0) {
    // DECIMAL may give up part-way (too many exceptions): rewind and write Gorilla instead.
    const mark = out.length;
    if (decimalWrite(values, patterns, is32, k, out)) {
      const decimalLength = out.length - mark;
      if (decimalLength <= values.length * 4) return;
      // Above 4 B/value keep whichever of DECIMAL and Gorilla is smaller (ties: DECIMAL).
      const trial = new ByteWriter();
      gorillaWrite(patterns, is32, trial);
      if (trial.length >= decimalLength - 1) return;
      out.length = mark;
      out.byte(Codec.gorilla).bytes(trial.finish());
      return;
    }
    out.length = mark;
  }
  out.byte(Codec.gorilla);
  gorillaWrite(patterns, is32, out);
}

function readPattern(r: ByteReader, is32: boolean): bigint {
  let v = 0n;
  for (let b = 0n; b < (is32 ? 32n : 64n); b += 8n) v |= BigInt(r.byte()) << b;
  return v;
}

export function readFloatStream(r: ByteReader, out: FloatValues): void {
  const n = out.length;
  const is32 = out instanceof Float32Array;
  const codec = r.byte();
  if (codec === Codec.constant) {
    storePatterns(new Array<bigint>(n).fill(readPattern(r, is32)), out);
    return;
  }
  if (codec === Codec.gorilla) {
    storePatterns(gorillaRead(r, n, is32), out);
    return;
  }
  if (codec !== Codec.decimal) throw corrupt(`float codec ${codec}`);
  const k = r.byte();
  if (k > MAX_K) throw corrupt(`decimal scale ${k}`);
  const e = r.varint();
  if (e > n) throw corrupt(`${e} exceptions for ${n} values`);
  const exceptions: [number, bigint][] = [];
  let i = -1;
  for (let j = 0; j < e; j++) {
    i += r.varint() + 1;
    if (i >= n) throw corrupt('exception position out of range');
    exceptions.push([i, readPattern(r, is32)]);
  }
  const p = POW10[k]!;
  const mantissas = readIntStream(r, n);
  for (let j = 0; j < n; j++) out[j] = Number(mantissas[j]!) / p;
  const patterns = patternsOf(out);
  for (const [at, bits] of exceptions) patterns[at] = bits;
  storePatterns(patterns, out);
}
