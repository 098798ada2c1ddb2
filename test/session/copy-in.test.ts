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
