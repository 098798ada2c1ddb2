import { describe, expect, it } from 'vitest';
import { binaryTimeValues, textTimeValues } from '../../src/session/copy-chunks.js';
import type { CopyFormat } from '../../src/session/copy-in.js';

const enc = (s: string) => new TextEncoder().encode(s);
const csv: CopyFormat = { kind: 'csv', quote: 0x22, escape: 0x22, header: false, headerMatch: false, delimiter: 0x2c, nullString: '' };
const text: CopyFormat = { kind: 'text', quote: 0x22, escape: 0x22, header: false, headerMatch: false, delimiter: 0x09, nullString: '\\N' };

describe('time values of a COPY piece', () => {
  it('reads the wanted CSV field of every row, once per distinct value', () => {
    const piece = enc('a,2024-01-01 00:00:00,1\nb,2024-01-01 00:00:00,2\nc,"2024-01-02 00:00:00",3\nd,,4\r\ne,2024-01-03 00:00:00,"x\ny"\n');
    expect([...textTimeValues(piece, csv, 1, false)!]).toEqual(['2024-01-01 00:00:00', '2024-01-02 00:00:00', '2024-01-03 00:00:00']);
  });

  it('skips the header line and handles the time field last on a CRLF line', () => {
    const piece = enc('host,time\r\nh1,2024-01-01\r\nh2,2024-01-05\r\n');
    expect([...textTimeValues(piece, { ...csv, header: true }, 1, true)!]).toEqual(['2024-01-01', '2024-01-05']);
  });

  it('treats a quoted empty CSV field as a value and a custom NULL marker as NULL', () => {
    const piece = enc('"",1\nNULL,2\n5,3\n');
    expect([...textTimeValues(piece, { ...csv, nullString: 'NULL' }, 0, false)!]).toEqual(['', '5']);
  });

  it('reads text format and its \\N, and gives up on escapes and non-ASCII bytes', () => {
    expect([...textTimeValues(enc('1\t2024-01-01\n2\t\\N\n'), text, 1, false)!]).toEqual(['2024-01-01']);
    expect(textTimeValues(enc('1\t2024\\-01-01\n'), text, 1, false)).toBeUndefined();
    expect(textTimeValues(enc('1,"2024-01-01 ü"\n'), csv, 1, false)).toBeUndefined();
    expect(textTimeValues(enc('1,"2024""01"\n'), csv, 1, false)).toBeUndefined();
  });

  it('gives up when a row has fewer fields than the time column needs', () => {
    expect(textTimeValues(enc('1,2024-01-01\n2\n'), csv, 1, false)).toBeUndefined();
  });

  it('honours a custom delimiter and a last row without newline', () => {
    expect([...textTimeValues(enc('x|10\ny|20'), { ...csv, delimiter: 0x7c }, 1, false)!]).toEqual(['10', '20']);
  });

  it('decodes binary timestamps, dates and integers to PostgreSQL text input', () => {
    const tuple = (bytes: number[]) => [0, 2, 0, 0, 0, 1, 7, 0, 0, 0, bytes.length, ...bytes];
    const header = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
    const us = (v: bigint) => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigInt64(0, v);
      return [...b];
    };
    // 2000-01-01 00:00:00.000001 and 1999-12-31 23:59:59.5 (negative internal time)
    const piece = new Uint8Array([...header, ...tuple(us(1n)), ...tuple(us(-500_000n)), 0xff, 0xff]);
    expect([...binaryTimeValues(piece, { field: 1, type: 'timestamptz' }, true)!]).toEqual(['2000-01-01 00:00:00.000001+00', '1999-12-31 23:59:59.500000+00']);
    const dates = new Uint8Array([...tuple([0xff, 0xff, 0xff, 0xff]), ...tuple([0, 0, 0, 31])]);
    expect([...binaryTimeValues(dates, { field: 1, type: 'date' }, false)!]).toEqual(['1999-12-31', '2000-02-01']);
    expect(binaryTimeValues(new Uint8Array([...tuple(us(0x7fffffffffffffffn))]), { field: 1, type: 'timestamp' }, false)).toBeUndefined();
  });
});
