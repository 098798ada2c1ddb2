// The strict text parsers of direct ingest against PostgreSQL's own input functions (PGlite): every
// spelling a parser accepts must give exactly PostgreSQL's value, and nothing PostgreSQL rejects may
// be accepted (such rows go to PostgreSQL, which raises the error).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocColumn, type Column, type PgType } from '../../src/columnstore/columns.js';
import { byteFieldParser } from '../../src/columnstore/text-input-bytes.js';
import { fieldParser } from '../../src/columnstore/text-input.js';
import type { PGliteRowStore } from '../../src/rowstore/pglite.js';
import { openTestRowStore, random } from '../support/row-store.js';

let pg: PGliteRowStore;
beforeAll(async () => {
  pg = await openTestRowStore();
  await pg.exec("SET TIME ZONE 'UTC'");
});
afterAll(async () => pg?.close());

/** PostgreSQL's value of `text` as `type`, in the parsers' storage units as text; undefined on error. */
async function postgresValue(type: PgType, text: string): Promise<string | undefined> {
  const expr: Record<string, string> = {
    int2: '$1::int2::text',
    int4: '$1::int4::text',
    int8: '$1::int8::text',
    float8: "encode(float8send($1::float8), 'hex')",
    numeric: '$1::numeric::text',
    bool: "CASE WHEN $1::bool THEN '1' ELSE '0' END",
    date: "($1::date - DATE '2000-01-01')::text",
    timestamp: "(extract(epoch FROM $1::timestamp) * 1000000 - 946684800000000)::bigint::text",
    timestamptz: "(extract(epoch FROM $1::timestamptz) * 1000000 - 946684800000000)::bigint::text",
    uuid: "replace($1::uuid::text, '-', '')",
    text: '$1::text',
  };
  try {
    const r = await pg.query<{ v: string }>(`SELECT ${expr[type]} AS v`, [text]);
    return r.rows[0]!.v;
  } catch {
    return undefined;
  }
}

function ourValue(type: PgType, text: string): string | undefined {
  const parse = fieldParser(type, { utc: true })!;
  const c = allocColumn(type, 1);
  if (!parse(c, 0, text)) return undefined;
  return shown(type, c, 0);
}

const encoder = new TextEncoder();

/**
 * The byte parser's value of `text` as a CSV field followed by `after` (',' or '\n'; '' = the end of
 * the data), read at an offset into the buffer; undefined when it leaves the field to the text parser.
 */
function ourByteValue(type: PgType, text: string, after: string): string | undefined {
  const parse = byteFieldParser(type, { utc: true }, { delimiter: 0x2c, special: 0x22 });
  if (!parse) return undefined;
  const bytes = encoder.encode(`x,${text}${after}`);
  const c = allocColumn(type, 2);
  const end = parse(c, 1, bytes, 2, bytes.length);
  if (end !== bytes.length - after.length) return undefined;
  return shown(type, c, 1);
}

function shown(type: PgType, c: Column, row: number): string {
  const v = (c.values as ArrayLike<unknown>)[row];
  switch (type) {
    case 'float8': {
      const b = new DataView(new ArrayBuffer(8));
      b.setFloat64(0, v as number);
      return [...new Uint8Array(b.buffer)].map((x) => x.toString(16).padStart(2, '0')).join('');
    }
    case 'uuid':
      return [...(c.values as Uint8Array).subarray(row * 16, row * 16 + 16)].map((x) => x.toString(16).padStart(2, '0')).join('');
    default:
      return String(v);
  }
}

const CASES: Record<string, string[]> = {
  int2: ['0', '-0', '+7', '32767', '32768', '-32768', '-32769', '007', '', '-', '+', '1.0', ' 1', '1 ', '1e2', '0x10'],
  int4: ['2147483647', '2147483648', '-2147483648', '-2147483649', '000000000000000000001', '123456789012345', '1_000'],
  int8: ['9223372036854775807', '9223372036854775808', '-9223372036854775808', '-9223372036854775809', '+0', '12345678901234567890'],
  float8: [
    '0', '-0', '+0', '1', '1.', '.5', '-.5', '1e308', '1e309', '-1e309', '4.9e-324', '2e-324', '1e-400', '0e-400', '2.2250738585072014e-308',
    'NaN', 'nan', 'Infinity', '-Infinity', 'inf', '+Infinity', 'infinity', '1e', '1e+', '0x10', '-0x10', '0b1', '0o7', ' 1', '1 ', '', '.', '-',
    '123456789012345678901234567890', '0.1', '0.30000000000000004', '1_0', '1,5', '00012', '-00.00100e-3', '9007199254740993',
  ],
  numeric: ['0', '-0', '-0.00', '007.50', '.5', '5.', '-', '', '1e3', 'NaN', '-12345678901234567890.123456789', '+1', '0.000', '1.2.3', ' 1'],
  bool: ['t', 'f', 'true', 'false', 'TRUE', 'yes', '1', 'on', ''],
  date: ['2024-02-29', '2023-02-29', '2000-01-01', '0001-01-01', '0000-01-01', '9999-12-31', '2024-13-01', '2024-00-10', '2024-1-01', '2024-01-32', '2100-02-29', '2000-02-29'],
  timestamp: [
    '2024-03-10 02:30:00', '2024-01-01', '2024-01-01 00:00:00.5', '2024-01-01T12:34:56.123456', '2024-01-01 12:34:56.1234567', '2024-01-01 24:00:00',
    '2024-01-01 23:59:60', '2024-01-01 12:34', '2024-01-01 12:34:56.', '2024-01-01 12:34:56+02', '1999-12-31 23:59:59.999999',
  ],
  timestamptz: [
    '2024-03-10 02:30:00', '2024-01-01 00:00:00+00', '2024-01-01 00:00:00Z', '2024-01-01 00:00:00-05', '2024-01-01 00:00:00+05:30', '2024-01-01 00:00:00+0530',
    '2024-01-01 00:00:00+15:59', '2024-01-01 00:00:00+16', '2024-01-01 00:00:00-15', '2024-01-01 00:00:00+5', '2024-01-01 00:00:00 UTC', '2024-01-01 00:00:00+05:3',
    '2024-01-01 00:00:00.000001-08', '2024-01-01T00:00:00z',
  ],
  uuid: ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'a0eebc999c0b4ef8bb6d6bb9bd380a11', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', 'g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
  text: ['', 'x', 'ünï', ' spaced '],
};

function randomStrings(type: string, n: number, seed: number): string[] {
  const r = random(seed);
  const out: string[] = [];
  const digits = (k: number) => Array.from({ length: k }, () => Math.floor(r() * 10)).join('');
  for (let i = 0; i < n; i++) {
    const sign = r() < 0.3 ? '-' : r() < 0.1 ? '+' : '';
    switch (type) {
      case 'float8':
      case 'numeric': {
        const frac = r() < 0.6 ? `.${digits(1 + Math.floor(r() * 20))}` : '';
        const exp = type === 'float8' && r() < 0.3 ? `e${r() < 0.5 ? '-' : ''}${Math.floor(r() * 330)}` : '';
        out.push(`${sign}${digits(1 + Math.floor(r() * 20))}${frac}${exp}`);
        break;
      }
      case 'int2':
      case 'int4':
      case 'int8':
        out.push(`${sign}${digits(1 + Math.floor(r() * 20))}`);
        break;
      default: {
        const y = String(1 + Math.floor(r() * 9999)).padStart(4, '0');
        const m = String(Math.floor(r() * 14)).padStart(2, '0');
        const d = String(Math.floor(r() * 33)).padStart(2, '0');
        const t = `${String(Math.floor(r() * 25)).padStart(2, '0')}:${String(Math.floor(r() * 61)).padStart(2, '0')}:${String(Math.floor(r() * 61)).padStart(2, '0')}`;
        const f = r() < 0.5 ? `.${digits(1 + Math.floor(r() * 7))}` : '';
        const z = type === 'timestamptz' ? ['', 'Z', '+00', `-${String(Math.floor(r() * 17)).padStart(2, '0')}`, `+${String(Math.floor(r() * 17)).padStart(2, '0')}:${String(Math.floor(r() * 61)).padStart(2, '0')}`][Math.floor(r() * 5)] : '';
        out.push(type === 'date' ? `${y}-${m}-${d}` : `${y}-${m}-${d}${r() < 0.5 ? ' ' : 'T'}${t}${f}${z}`);
      }
    }
  }
  return out;
}

/** Short decimals and ISO times: the spellings the byte parsers read themselves. */
function commonStrings(type: string, n: number, seed: number): string[] {
  const r = random(seed);
  const digits = (k: number) => Array.from({ length: k }, () => Math.floor(r() * 10)).join('');
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const sign = r() < 0.3 ? '-' : r() < 0.1 ? '+' : '';
    if (type === 'float8') out.push(`${sign}${digits(Math.floor(r() * 9))}${r() < 0.8 ? '.' : ''}${digits(Math.floor(r() * 10))}`);
    else if (type.startsWith('int')) out.push(`${sign}${digits(1 + Math.floor(r() * (type === 'int2' ? 5 : type === 'int4' ? 10 : 16)))}`);
    else if (type === 'text') out.push(`tag_${digits(Math.floor(r() * 3))}${r() < 0.1 ? 'ü' : ''}`);
    else {
      const ms = Date.UTC(1900, 0, 1) + Math.floor(r() * 300 * 365.25 * 86_400_000);
      const iso = new Date(ms).toISOString();
      const s = [iso, iso.slice(0, 19), iso.slice(0, 10), iso.replace('T', ' ').replace('Z', '+05:30'), `${iso.slice(0, 23)}${digits(3)}-0800`, iso.slice(0, 21)][Math.floor(r() * 6)]!;
      out.push(type === 'date' ? s.slice(0, 10) : s);
    }
  }
  return out;
}

describe('text input parsers', () => {
  for (const type of Object.keys(CASES)) {
    it(`${type}: every accepted spelling has PostgreSQL's value`, async () => {
      const strings = [...CASES[type]!, ...(type === 'bool' || type === 'uuid' || type === 'text' ? [] : randomStrings(type, 300, type.length * 7919))];
      let accepted = 0;
      for (const s of strings) {
        const ours = ourValue(type as PgType, s);
        if (ours === undefined) continue;
        accepted++;
        expect({ s, v: ours }).toEqual({ s, v: await postgresValue(type as PgType, s) });
      }
      // The parsers are not vacuous: the canonical spellings are read by Orbit.
      expect(accepted).toBeGreaterThanOrEqual(type === 'text' ? 4 : 2);
    });
  }

  for (const type of ['int2', 'int4', 'int8', 'float8', 'date', 'timestamp', 'timestamptz', 'text']) {
    it(`${type}: the byte parser reads only what the text parser reads, to the same value`, async () => {
      const strings = [...CASES[type]!, ...randomStrings(type, 300, type.length * 7919), ...commonStrings(type, 3000, type.length * 31)];
      let read = 0;
      for (const s of strings) {
        const text = ourValue(type as PgType, s);
        for (const after of [',', '\n', '']) {
          const bytes = ourByteValue(type as PgType, s, after);
          if (bytes === undefined) continue;
          read++;
          expect({ s, v: bytes }).toEqual({ s, v: text });
        }
      }
      // The canonical spellings are read from the bytes, and match PostgreSQL.
      expect(read).toBeGreaterThan(3000);
      for (const s of commonStrings(type, 50, 5)) {
        const bytes = ourByteValue(type as PgType, s, ',');
        if (bytes !== undefined) expect({ s, v: bytes }).toEqual({ s, v: await postgresValue(type as PgType, s) });
      }
    });
  }
});
