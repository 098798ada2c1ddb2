/**
 * src/edge/copy.ts's CopyReader: COPY data cut into chunks anywhere — inside a CSV quoted field,
 * between CR and LF, between a doubled quote, inside a multi-byte UTF-8 character — reads to exactly
 * the rows the same data read whole gives, in pieces of at most the piece size; errors carry
 * PostgreSQL's COPY context with the line number over the whole stream.
 */
import { describe, expect, it } from 'vitest';
import type { TableDef } from '../../src/edge/catalog.js';
import { CopyReader, type CopyPlan } from '../../src/edge/copy.js';
import type { Value } from '../../src/edge/values.js';
import { OrbitError } from '../../src/errors.js';
import { Prng } from '../support/prng.js';

const TABLE: TableDef = {
  name: 'cpu',
  columns: [
    { name: 'time', type: 'timestamptz', notNull: true },
    { name: 'host', type: 'text', notNull: false },
    { name: 'usage', type: 'float8', notNull: false },
    { name: 'n', type: 'int4', notNull: false },
  ],
};

function plan(csv: boolean, extra: Partial<CopyPlan> = {}): CopyPlan {
  return { table: TABLE, positions: [0, 1, 2, 3], csv, delimiter: csv ? ',' : '\t', nullString: csv ? '' : '\\N', header: false, quote: '"', escape: '"', ...extra };
}

/** Reads `chunks` (bytes or strings) through one reader; returns its pieces. */
function read(p: CopyPlan, chunks: Array<Uint8Array | string>, pieceRows = 7): Value[][][] {
  const reader = new CopyReader(p, 'UTC', pieceRows);
  const pieces: Value[][][] = [];
  for (const c of chunks) for (const piece of reader.push(c)) pieces.push(piece);
  for (const piece of reader.end()) pieces.push(piece);
  return pieces;
}

/** `bytes` cut at random places (often one byte apart, so every kind of boundary is hit). */
function cut(bytes: Uint8Array, rng: Prng): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = Math.min(bytes.length - at, rng.chance(0.5) ? 1 + rng.int(3) : 1 + rng.int(40));
    out.push(bytes.slice(at, at + n));
    at += n;
  }
  return out;
}

const HOSTS = ['host_a', 'host, "b"', 'line\nbreak', 'crlf\r\nin field', 'ünïcödé 日本', '', '""', 'tab\there'];

function csvData(rng: Prng, rows: number, eol: string): string {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const host = rng.pick(HOSTS);
    const quoted = host === '' ? (rng.chance(0.5) ? '""' : '') : /[",\r\n]/.test(host) || rng.chance(0.3) ? `"${host.replace(/"/g, '""')}"` : host;
    const usage = rng.chance(0.1) ? '' : String(rng.int(400) / 4);
    lines.push(`2024-01-01 00:${String(i % 60).padStart(2, '0')}:00+00,${quoted},${usage},${i}`);
  }
  return lines.join(eol) + (rng.chance(0.8) ? eol : '');
}

function textData(rng: Prng, rows: number): string {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    const host = rng.pick(['host_a', 'back\\\\slash', 'esc\\nnewline', 'ünï 日本', '\\N', 'oct\\101hex\\x41']);
    lines.push(`2024-01-01 00:00:${String(i % 60).padStart(2, '0')}+00\t${host}\t${rng.chance(0.1) ? '\\N' : i / 4}\t${i}`);
  }
  return lines.join(rng.chance(0.5) ? '\n' : '\r\n') + '\n';
}

describe('edge COPY reader', () => {
  it('reads CSV cut anywhere to the rows it reads whole, in bounded pieces', () => {
    const rng = new Prng(5);
    for (let round = 0; round < 40; round++) {
      const data = csvData(rng, 1 + rng.int(60), rng.chance(0.5) ? '\n' : '\r\n');
      const whole = read(plan(true), [data]);
      const bytes = new TextEncoder().encode(data);
      const pieces = read(plan(true), cut(bytes, rng));
      expect(pieces, data).toEqual(whole);
      expect(pieces.every((p) => p.length <= 7)).toBe(true);
      expect(pieces.flat().length).toBe(data.split(/\r?\n(?=2024)/).length);
    }
  });

  it('reads text format cut anywhere to the rows it reads whole', () => {
    const rng = new Prng(6);
    for (let round = 0; round < 40; round++) {
      const data = textData(rng, 1 + rng.int(60));
      const whole = read(plan(false), [data]);
      expect(read(plan(false), cut(new TextEncoder().encode(data), rng))).toEqual(whole);
      expect(whole.flat().length).toBe(data.trimEnd().split('\n').length);
    }
    const [[row]] = read(plan(false), ['2024-01-01 00:00:00+00\tesc\\nx\\101\\x41\t\\N\t1\n']) as [[Value[]]];
    expect(row).toEqual([row![0], 'esc\nxAA', null, 1]);
  });

  it('stops at the end marker and skips a header line', () => {
    expect(read(plan(false), ['2024-01-01 00:00:00+00\ta\t1\t1\n\\.\n', 'ignored\n']).flat().length).toBe(1);
    expect(read(plan(true, { header: true }), ['time,host,usage,n\n2024-01-01 00:00:00+00,a,1,', '1\n']).flat()).toEqual([[expect.anything(), 'a', 1, 1]]);
    // A final record without a line end, and a final empty field.
    expect(read(plan(true), ['2024-01-01 00:00:00+00,a,1,2']).flat()[0]!.slice(1)).toEqual(['a', 1, 2]);
    expect(read(plan(true), ['2024-01-01 00:00:00+00,a,1,']).flat()[0]!.slice(1)).toEqual(['a', 1, null]);
  });

  it("reports PostgreSQL's errors with the line over the whole stream", () => {
    const lines = Array.from({ length: 30 }, (_, i) => `2024-01-01 00:00:00+00,h,1,${i}`);
    const error = (data: string[]): OrbitError => {
      try {
        read(plan(true), data, 4);
      } catch (err) {
        return err as OrbitError;
      }
      throw new Error('no error');
    };
    const bad = [...lines.slice(0, 25), '2024-01-01 00:00:00+00,h,1,x', ...lines.slice(25)].join('\n');
    const e = error([bad.slice(0, 500), bad.slice(500)]);
    expect({ code: e.code, message: e.message, where: e.where }).toEqual({ code: '22P02', message: 'invalid input syntax for type integer: "x"', where: 'COPY cpu, line 26, column n: "x"' });
    const short = error([[...lines.slice(0, 9), '2024-01-01 00:00:00+00,h'].join('\n')]);
    expect({ code: short.code, message: short.message, where: short.where }).toEqual({ code: '22P04', message: 'missing data for column "usage"', where: 'COPY cpu, line 10' });
    expect(error(['2024-01-01 00:00:00+00,"open']).message).toBe('unterminated CSV quoted field');
    expect(error([',h,1,1\n']).code).toBe('23502');
  });
});
