import { describe, expect, it } from 'vitest';
import { scanRows } from '../../src/session/copy-in.js';

const enc = (s: string) => new TextEncoder().encode(s);
const csv = { kind: 'csv' as const, quote: 0x22, escape: 0x22 };
const text = { kind: 'text' as const, quote: 0x22, escape: 0x22 };

describe('scanRows', () => {
  it('cuts CSV after the last complete row, respecting quoted newlines and doubled quotes', () => {
    expect(scanRows(enc('1,a\n2,"b\nc"\n3,"x""y"\n4,par'), csv)).toEqual({ end: 21, rows: 3 });
    expect(scanRows(enc('1,"open\nstill open'), csv)).toEqual({ end: 0, rows: 0 });
  });

  it('waits when a quote at the end might be doubled', () => {
    expect(scanRows(enc('1,a\n2,"b"'), csv)).toEqual({ end: 4, rows: 1 });
  });

  it('honours a distinct ESCAPE character', () => {
    const f = { kind: 'csv' as const, quote: 0x22, escape: 0x5c };
    expect(scanRows(enc('1,"a\\"\nb"\n2\n'), f)).toEqual({ end: 12, rows: 2 });
  });

  it('treats backslash-escaped newlines in text format as data', () => {
    expect(scanRows(enc('a\\\nb\tc\nd\n'), text)).toEqual({ end: 9, rows: 2 });
    expect(scanRows(enc('a\\\\\nb\n'), text)).toEqual({ end: 6, rows: 2 });
  });
});

describe('CopyIn pieces', () => {
  it('cuts the stream at row boundaries and repeats the binary header in every piece', async () => {
    const { loadParser, parseSql } = await import('../../src/sql/parser.js');
    const { classify } = await import('../../src/sql/classify.js');
    const { CopyIn } = await import('../../src/session/copy-in.js');
    const { readQuery } = await import('../../src/wire/protocol/frontend.js');
    await loadParser();
    const sent: string[] = [];
    const copyData: Uint8Array[] = [];
    // A fake backend: records each COPY piece and answers COPY <n> with the piece's tuple count.
    const run = async (messages: Uint8Array) => {
      const view = new DataView(messages.buffer, messages.byteOffset, messages.byteLength);
      let pos = 0;
      while (pos < messages.length) {
        const type = messages[pos]!;
        const len = view.getInt32(pos + 1);
        const body = messages.subarray(pos + 5, pos + 1 + len);
        if (type === 0x51) sent.push(readQuery(body));
        if (type === 0x64) copyData.push(body.slice());
        pos += 1 + len;
      }
      return new Uint8Array([0x43, 0, 0, 0, 11, ...enc('COPY 1'), 0, 0x5a, 0, 0, 0, 5, 0x49]);
    };
    const stmt = classify(parseSql('COPY t FROM STDIN WITH (FORMAT binary)')[0]!);
    const copy = new CopyIn(stmt, 40, false);
    const header = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
    const tuple = [0, 1, 0, 0, 0, 4, 0, 0, 0, 7]; // one int4 field
    const stream = new Uint8Array([...header, ...Array.from({ length: 10 }, () => tuple).flat(), 0xff, 0xff]);
    for (let i = 0; i < stream.length; i += 7) await copy.data(stream.subarray(i, i + 7), run);
    await copy.finish(run);
    expect(copyData.length).toBeGreaterThan(2);
    for (const piece of copyData) expect([...piece.subarray(0, 11)]).toEqual(header.slice(0, 11));
    const tuples = copyData.reduce((n, p) => n + (p.length - 19 - (p.at(-1) === 0xff ? 2 : 0)) / tuple.length, 0);
    expect(tuples).toBe(10);
    expect(sent.filter((q) => q.startsWith('COPY'))).toHaveLength(copyData.length);
    expect(sent[0]).toBe('BEGIN');
    expect(sent.at(-1)).toBe('COMMIT');
  });
});
