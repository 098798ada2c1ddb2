/**
 * @module columnstore/codecs/text
 * Text value streams: a per-batch string dictionary in first-occurrence order, then the ids as an
 * integer stream (so runs become RLE and a single string becomes CONSTANT).
 *
 * Body after the codec byte: flags u8, entries varint, raw length varint, [stored length varint
 * if deflated], dictionary bytes (per entry: UTF-8 length varint + UTF-8 bytes), ids stream.
 * The dictionary is deflated (fflate) when that saves ≥ 10% of at least 256 bytes: repetitive
 * high-cardinality strings (log lines, URLs) shrink a lot; small tag dictionaries would not repay
 * the inflate call.
 */
import { deflateSync, inflateSync } from 'fflate';
import type { CodecBackend } from './backend.js';
import { ByteReader, ByteWriter, Codec, TextFlag, corrupt } from './format.js';

const DEFLATE_MIN_BYTES = 256;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Decoded text: a dictionary and one id per value (NULL slots hold id 0). */
export interface TextColumn {
  readonly dictionary: readonly string[];
  readonly ids: Uint32Array;
}

export function writeTextStream(backend: CodecBackend, values: readonly string[], out: ByteWriter): void {
  const index = new Map<string, number>();
  const ids = new Int32Array(values.length);
  const dict = new ByteWriter();
  for (let i = 0; i < values.length; i++) {
    let id = index.get(values[i]!);
    if (id === undefined) {
      id = index.size;
      index.set(values[i]!, id);
      const utf8 = encoder.encode(values[i]!);
      dict.varint(utf8.length).bytes(utf8);
    }
    ids[i] = id;
  }
  const raw = dict.finish();
  const packed = raw.length >= DEFLATE_MIN_BYTES ? deflateSync(raw, { level: 6 }) : null;
  const deflate = packed !== null && packed.length * 10 <= raw.length * 9;
  out.byte(Codec.textDict).byte(deflate ? TextFlag.deflated : 0).varint(index.size).varint(raw.length);
  if (deflate) out.varint(packed.length).bytes(packed);
  else out.bytes(raw);
  out.bytes(backend.encodeInts(ids));
}

/** Reads a text stream (after its codec byte) of `n` values; returns the dictionary and ids. */
export function readTextStream(backend: CodecBackend, r: ByteReader, n: number): TextColumn {
  const flags = r.byte();
  const entries = r.varint();
  const rawLength = r.varint();
  if (entries < 1 || entries > n) throw corrupt(`${entries} dictionary entries for ${n} values`);
  let raw: Uint8Array;
  if (flags & TextFlag.deflated) {
    const stored = r.bytes(r.varint());
    try {
      raw = inflateSync(stored, { out: new Uint8Array(rawLength) });
    } catch (cause) {
      throw corrupt(`dictionary does not inflate (${String(cause)})`);
    }
    if (raw.length !== rawLength) throw corrupt('dictionary length');
  } else {
    raw = r.bytes(rawLength);
  }
  const d = new ByteReader(raw);
  const dictionary = new Array<string>(entries);
  for (let i = 0; i < entries; i++) {
    try {
      dictionary[i] = decoder.decode(d.bytes(d.varint()));
    } catch (cause) {
      throw corrupt(`dictionary entry ${i} is not UTF-8 (${String(cause)})`);
    }
  }
  const ids = new Int32Array(n);
  r.pos += backend.decodeInts(r.buf, r.pos, ids);
  for (let i = 0; i < n; i++) if (ids[i]! < 0 || ids[i]! >= entries) throw corrupt(`text id ${ids[i]}`);
  return { dictionary, ids: new Uint32Array(ids.buffer) };
}
