/**
 * @module columnstore/codecs/reference/int-stream
 * Reference integer streams (mirrors assembly/codecs/int-stream.ts byte for byte): CONSTANT, PACK
 * (order 0/1/2 differencing + zig-zag + 128-value bit-packed blocks), RLE and DICT, with the same
 * choice rules.
 */
import { Codec, corrupt, type ByteReader, type ByteWriter } from '../format.js';
import { BLOCK, bitWidth, i64, packBits, packedBytes, u64, unpackBits, unzigzag, varintLength, zigzag } from './bits.js';

const DICT_MIN_VALUES = 16;
const DICT_MAX = 256;

function residuals(v: readonly bigint[], order: number, base: bigint): bigint[] {
  const n = v.length;
  const count = Math.max(0, n - order);
  const out = new Array<bigint>(count);
  for (let i = 0; i < count; i++) {
    if (order === 0) out[i] = u64(v[i]! - base);
    else if (order === 1) out[i] = zigzag(i64(v[i + 1]! - v[i]!));
    else out[i] = zigzag(i64(v[i + 2]! - 2n * v[i + 1]! + v[i]!));
  }
  return out;
}

function minOf(v: readonly bigint[]): bigint {
  let m = v[0]!;
  for (const x of v) if (x < m) m = x;
  return m;
}

function blockWidths(res: readonly bigint[]): number[] {
  const widths: number[] = [];
  for (let b = 0; b < res.length; b += BLOCK) {
    let bits = 0n;
    for (let i = b; i < Math.min(b + BLOCK, res.length); i++) bits |= res[i]!;
    widths.push(bitWidth(bits));
  }
  return widths;
}

function orderSize(v: readonly bigint[], order: number, base: bigint): number {
  let size = 1 + 8;
  if (order === 2 && v.length >= 2) size += varintLength(zigzag(i64(v[1]! - v[0]!)));
  const res = residuals(v, order, base);
  blockWidths(res).forEach((w, j) => (size += 1 + packedBytes(Math.min(BLOCK, res.length - j * BLOCK), w)));
  return size;
}

/** Smallest PACK size (ties to the lower order) and its order. */
export function packSize(v: readonly bigint[]): { size: number; order: number } {
  const base = minOf(v);
  let best = { size: orderSize(v, 0, base), order: 0 };
  for (let order = 1; order <= 2; order++) {
    const size = orderSize(v, order, base);
    if (size < best.size) best = { size, order };
  }
  return best;
}

export function packWrite(v: readonly bigint[], out: ByteWriter): void {
  const { order } = packSize(v);
  const base = minOf(v);
  out.byte(order).u64(u64(order === 0 ? base : v[0]!));
  if (order === 2 && v.length >= 2) out.varint64(zigzag(i64(v[1]! - v[0]!)));
  const res = residuals(v, order, base);
  blockWidths(res).forEach((w, j) => {
    out.byte(w);
    packBits(res.slice(j * BLOCK, (j + 1) * BLOCK), w, out);
  });
}

export function packRead(r: ByteReader, n: number): bigint[] {
  const order = r.byte();
  if (order > 2) throw corrupt(`PACK order ${order}`);
  const first = i64(r.u64());
  const d1 = order === 2 && n >= 2 ? unzigzag(r.varint64()) : 0n;
  const count = Math.max(0, n - order);
  const res: bigint[] = [];
  for (let b = 0; b < count; b += BLOCK) {
    const width = r.byte();
    if (width > 64) throw corrupt(`bit width ${width}`);
    for (const x of unpackBits(r, Math.min(BLOCK, count - b), width)) res.push(x);
  }
  const out = new Array<bigint>(n);
  if (order === 0) {
    for (let i = 0; i < n; i++) out[i] = i64(res[i]! + first);
  } else if (order === 1) {
    let prev = first;
    out[0] = prev;
    for (let i = 1; i < n; i++) out[i] = prev = i64(prev + unzigzag(res[i - 1]!));
  } else {
    let prev = first;
    let delta = d1;
    out[0] = prev;
    if (n >= 2) out[1] = prev = i64(prev + delta);
    for (let i = 2; i < n; i++) {
      delta = i64(delta + unzigzag(res[i - 2]!));
      out[i] = prev = i64(prev + delta);
    }
  }
  return out;
}

function runs(v: readonly bigint[]): { values: bigint[]; lengths: bigint[] } {
  const values: bigint[] = [];
  const lengths: bigint[] = [];
  let start = 0;
  for (let i = 1; i <= v.length; i++) {
    if (i === v.length || v[i] !== v[start]) {
      values.push(v[start]!);
      lengths.push(BigInt(i - start - 1));
      start = i;
    }
  }
  return { values, lengths };
}

/** First-occurrence dictionary, or null past DICT_MAX distinct values. */
function buildDict(v: readonly bigint[]): { values: bigint[]; ids: bigint[] } | null {
  const index = new Map<bigint, number>();
  const values: bigint[] = [];
  const ids = new Array<bigint>(v.length);
  for (let i = 0; i < v.length; i++) {
    let id = index.get(v[i]!);
    if (id === undefined) {
      if (values.length === DICT_MAX) return null;
      id = values.length;
      index.set(v[i]!, id);
      values.push(v[i]!);
    }
    ids[i] = BigInt(id);
  }
  return { values, ids };
}

/** Writes n ≥ 1 i64 values as an integer stream. */
export function writeIntStream(v: readonly bigint[], out: ByteWriter): void {
  const n = v.length;
  const rle = runs(v);
  if (rle.values.length === 1) {
    out.byte(Codec.constant).varint64(zigzag(v[0]!));
    return;
  }
  let codec: Codec = Codec.pack;
  let best = packSize(v).size;
  const nRuns = rle.values.length;
  if (nRuns * 2 <= n) {
    const size = varintLength(BigInt(nRuns)) + packSize(rle.values).size + packSize(rle.lengths).size;
    if (size < best) {
      best = size;
      codec = Codec.rle;
    }
  }
  const dict = n >= DICT_MIN_VALUES ? buildDict(v) : null;
  if (dict) {
    const size = varintLength(BigInt(dict.values.length)) + packSize(dict.values).size + packSize(dict.ids).size;
    if (size < best) codec = Codec.dict;
  }
  out.byte(codec);
  if (codec === Codec.pack) {
    packWrite(v, out);
  } else if (codec === Codec.rle) {
    out.varint(nRuns);
    packWrite(rle.values, out);
    packWrite(rle.lengths, out);
  } else {
    out.varint(dict!.values.length);
    packWrite(dict!.values, out);
    packWrite(dict!.ids, out);
  }
}

/** Reads an integer stream of n values as i64 BigInts. */
export function readIntStream(r: ByteReader, n: number): bigint[] {
  const codec = r.byte();
  if (codec === Codec.constant) return new Array<bigint>(n).fill(unzigzag(r.varint64()));
  if (codec === Codec.pack) return packRead(r, n);
  if (codec === Codec.rle) {
    const nRuns = r.varint();
    if (nRuns < 1 || nRuns > n) throw corrupt(`${nRuns} runs for ${n} values`);
    const values = packRead(r, nRuns);
    const lengths = packRead(r, nRuns);
    const out: bigint[] = [];
    for (let j = 0; j < nRuns; j++) {
      const len = u64(lengths[j]!) + 1n;
      if (len > BigInt(n - out.length)) throw corrupt('runs exceed the value count');
      for (let k = 0n; k < len; k++) out.push(values[j]!);
    }
    if (out.length !== n) throw corrupt('runs fall short of the value count');
    return out;
  }
  if (codec === Codec.dict) {
    const d = r.varint();
    if (d < 1 || d > DICT_MAX) throw corrupt(`dictionary of ${d}`);
    const values = packRead(r, d);
    return packRead(r, n).map((id) => {
      const u = u64(id);
      if (u >= BigInt(d)) throw corrupt(`dictionary id ${u}`);
      return values[Number(u)]!;
    });
  }
  throw corrupt(`integer codec ${codec}`);
}
