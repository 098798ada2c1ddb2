/**
 * @module columnstore/codecs/text
 * Text value streams: a per-batch string dictionary in first-occurrence order, then the ids as an
 * integer stream (so runs become RLE and a single string becomes CONSTANT).
 *
 * Body after the codec byte: flags u8, entries varint, raw length varint, [stored length varint
 * if deflated], dictionary bytes (every entry's UTF-8 length as a varint, then all the UTF-8 bytes,
 * so an ASCII dictionary is encoded and decoded with one TextEncoder/TextDecoder call), ids stream.
 * Strings round-trip exactly unless they hold lone surrogates (not valid UTF-8, nor PostgreSQL text).
 * The dictionary is deflated (fflate) when that saves ≥ 10% of at least 256 bytes: repetitive
 * high-cardinality strings (log lines, URLs) shrink a lot; small tag dictionaries would not repay
 * the inflate call.
 */
import { deflateSync, inflateSync } from 'fflate';
import type { CodecBackend } from './backend.js';
import { ByteReader, ByteWriter, Codec, TextFlag, corrupt } from './format.js';

const DEFLATE_MIN_BYTES = 256;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decoded text: a dictionary and one id per value (NULL slots hold id 0). */
export interface TextColumn {
  readonly dictionary: readonly string[];
  readonly ids: Uint32Array;
}

/** Dictionary bytes: lengths, then the UTF-8 of every entry. */
function dictionaryBytes(strings: readonly string[]): Uint8Array {
  const joined = strings.join('');
  let utf8: Uint8Array = encoder.encode(joined);
  let lengths: number[];
  if (utf8.length === joined.length) {
    lengths = strings.map((s) => s.length); // ASCII: one byte per UTF-16 unit
  } else {
    // Per entry: joining could pair one entry's trailing lone surrogate with the next one's.
    const parts = strings.map((s) => encoder.encode(s));
    lengths = parts.map((p) => p.length);
    const all = new ByteWriter(utf8.length);
    parts.forEach((p) => all.bytes(p));
    utf8 = all.finish();
  }
  const out = new ByteWriter(utf8.length + strings.length * 2);
  lengths.forEach((len) => out.varint(len));
  return out.bytes(utf8).finish();
}

/**
 * The index and ids of writeTextStream, kept between calls (it does not call itself): a stream per
 * text column and batch otherwise took a Map and an ids array (a buffer V8 counts as external
 * memory) each time.
 */
const INDEX = new Map<string, number>();
let IDS = new Int32Array(1024);

export function writeTextStream(backend: CodecBackend, values: readonly string[], out: ByteWriter): void {
  const index = INDEX;
  index.clear();
  if (IDS.length < values.length) IDS = new Int32Array(values.length);
  const ids = IDS.subarray(0, values.length);
  // Runs of one value (tags within a segment) skip the hash lookup: comparing short strings is cheaper.
  let previous: string | undefined;
  let previousId = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === previous) {
      ids[i] = previousId;
      continue;
    }
    let id = index.get(v);
    if (id === undefined) {
      id = index.size;
      index.set(v, id);
    }
    ids[i] = previousId = id;
    previous = v;
  }
  const entries = [...index.keys()];
  // Not kept past the call: the strings are the caller's.
  index.clear();
  if (writeSmallAscii(entries, out)) {
    out.bytes(backend.encodeInts(ids));
    return;
  }
  const raw = dictionaryBytes(entries);
  const packed = raw.length >= DEFLATE_MIN_BYTES ? deflateSync(raw, { level: 6 }) : null;
  const deflate = packed !== null && packed.length * 10 <= raw.length * 9;
  out.byte(Codec.textDict).byte(deflate ? TextFlag.deflated : 0).varint(entries.length).varint(raw.length);
  if (deflate) out.varint(packed.length).bytes(packed);
  else out.bytes(raw);
  out.bytes(backend.encodeInts(ids));
}

/**
 * The dictionary part of the stream, as the general path writes it, for a dictionary of ASCII
 * strings too small to deflate (the usual tags): written straight into `out`, without a
 * TextEncoder call and its buffers. False (nothing written) for any other dictionary.
 */
function writeSmallAscii(strings: readonly string[], out: ByteWriter): boolean {
  let raw = 0;
  for (const s of strings) {
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
    raw += s.length + varintLength(s.length);
    if (raw >= DEFLATE_MIN_BYTES) return false;
  }
  out.byte(Codec.textDict).byte(0).varint(strings.length).varint(raw);
  for (const s of strings) out.varint(s.length);
  for (const s of strings) for (let i = 0; i < s.length; i++) out.byte(s.charCodeAt(i));
  return true;
}

function varintLength(v: number): number {
  let n = 1;
  for (; v >= 0x80; v = Math.floor(v / 0x80)) n++;
  return n;
}

function utf8(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw corrupt(`dictionary is not UTF-8 (${String(cause)})`);
  }
}

/** ASCII bytes as a string without TextDecoder, whose per-call cost dominates small dictionaries. */
function ascii(bytes: Uint8Array): string | null {
  if (bytes.length > 8192) return null;
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) return null;
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

function readDictionary(raw: Uint8Array, entries: number): string[] {
  const d = new ByteReader(raw);
  const lengths = new Array<number>(entries);
  let total = 0;
  for (let i = 0; i < entries; i++) total += lengths[i] = d.varint();
  const blob = d.bytes(raw.length - d.pos);
  if (total !== blob.length) throw corrupt('dictionary lengths');
  let all = ascii(blob);
  if (all === null) {
    all = utf8(blob);
    if (all.length !== blob.length) all = null;
  }
  const out = new Array<string>(entries);
  for (let i = 0, at = 0; i < entries; at += lengths[i++]!) {
    out[i] = all !== null ? all.slice(at, at + lengths[i]!) : utf8(blob.subarray(at, at + lengths[i]!));
  }
  return out;
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
  const dictionary = readDictionary(raw, entries);
  const ids = new Int32Array(n);
  r.pos += backend.decodeInts(r.buf, r.pos, ids);
  let bad = 0;
  for (let i = 0; i < n; i++) bad |= +(ids[i]! < 0 || ids[i]! >= entries);
  if (bad) throw corrupt('text id beyond the dictionary');
  return { dictionary, ids: new Uint32Array(ids.buffer) };
}
