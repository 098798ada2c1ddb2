import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../../../src/columnstore/codecs/index.js';
import { ByteReader, ByteWriter, Codec } from '../../../src/columnstore/codecs/format.js';
import { readTextStream, writeTextStream } from '../../../src/columnstore/codecs/text.js';

const backend = new ReferenceBackend();

/** The stream as the format describes it, built independently: dictionary lengths, UTF-8, ids. */
function expected(values: readonly string[]): number[] {
  const dict = [...new Set(values)];
  const ids = Int32Array.from(values, (v) => dict.indexOf(v));
  const utf8 = dict.map((s) => new TextEncoder().encode(s));
  const raw = new ByteWriter();
  utf8.forEach((b) => raw.varint(b.length));
  utf8.forEach((b) => raw.bytes(b));
  const out = new ByteWriter().byte(Codec.textDict).byte(0).varint(dict.length).varint(raw.length).bytes(raw.finish());
  return [...out.bytes(backend.encodeInts(ids)).finish()];
}

function written(values: readonly string[]): Uint8Array {
  const out = new ByteWriter();
  writeTextStream(backend, values, out);
  return out.finish();
}

describe('text streams of small dictionaries', () => {
  it('are the bytes the format describes: ASCII, non-ASCII, entries of 2-byte varint lengths, up to 255 dictionary bytes', () => {
    const long = 'x'.repeat(130);
    const cases: string[][] = [
      Array.from({ length: 1000 }, () => 'host_7'),
      ['b', 'a', 'b', 'c', 'a', ''],
      ['hôst', 'host', 'hôst'],
      [long, 'y'.repeat(122), long],
      // 2 + 130 + 1 + 122 = 255 bytes; one more byte and the dictionary may be deflated.
      [long, 'y'.repeat(122), 'y'.repeat(122)],
    ];
    for (const values of cases) expect([...written(values)]).toEqual(expected(values));
  });

  it('round-trips larger dictionaries, one after another through the kept index', () => {
    const big = Array.from({ length: 300 }, (_, i) => `value number ${i % 120}`);
    for (const values of [big, ['z', 'z'], big.slice(0, 7)]) {
      const bytes = written(values);
      const r = new ByteReader(bytes);
      expect(r.byte()).toBe(Codec.textDict);
      const text = readTextStream(backend, r, values.length);
      expect(Array.from(text.ids, (id) => text.dictionary[id])).toEqual(values);
    }
  });
});
