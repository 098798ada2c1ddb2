/** The demo's CSV reader (web-demo/src/csv.ts): RFC 4180 fields and the header rules of the import. */
import { describe, expect, it } from 'vitest';
import { CsvError, parseCsv, readingsFromCsv } from '../../web-demo/src/csv.js';

describe('parseCsv', () => {
  it('reads quoted fields, doubled quotes, CRLF, a BOM and a missing final newline', () => {
    expect(parseCsv('\ufeffa,b\r\n"x, y","say ""hi"""\r\n"multi\nline",\n1,2')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['multi\nline', ''],
      ['1', '2'],
    ]);
  });

  it('skips blank lines and rejects an unterminated quote', () => {
    expect(parseCsv('a\n\n\nb\n')).toEqual([['a'], ['b']]);
    expect(() => parseCsv('a,"b\n')).toThrow(CsvError);
  });
});

describe('readingsFromCsv', () => {
  it('takes time, sensor and value by header name, in any order, ignoring other columns', () => {
    expect(readingsFromCsv('Value,extra,Sensor,TIME\n1.5,x,a,2026-01-01T00:00:00Z\n,y,b, 2026-01-01 00:01 \n')).toEqual({
      time: ['2026-01-01T00:00:00Z', '2026-01-01 00:01'],
      sensor: ['a', 'b'],
      value: ['1.5', ''],
    });
  });

  it('names a missing column and a line with the wrong number of fields', () => {
    expect(() => readingsFromCsv('time,value\n')).toThrow(/no "sensor" column/);
    expect(() => readingsFromCsv('time,sensor,value\n2026-01-01,a\n')).toThrow(/line 2 has 2 fields/);
    expect(() => readingsFromCsv('')).toThrow(/empty/);
  });
});
