// The writers of printed rows against the formatters they shortcut: every field DataRowWriter
// writes is the formatter's text, and every value ObjectRows builds is the parser's value of that
// text, over random and edge values of each type, with NULLs, selections and constant columns
// (the compiled builder and the template one). The end-to-end differential is scan-rows.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { types } from '@electric-sql/pglite';
import type { Column, PgType } from '../../src/columnstore/columns.js';
import { DataRowWriter } from '../../src/columnstore/data-rows.js';
import { formatterOf, type ValueOf } from '../../src/columnstore/pg-text.js';
import { ObjectRows, useTemplateRows } from '../../src/columnstore/row-objects.js';
import { valueOfType } from '../../src/rowstore/typed-query.js';
import { Prng } from '../support/prng.js';

const N = 4000;
const US_PER_DAY = 86_400_000_000n;

function floats(random: Prng): Float64Array {
  const r = () => random.next();
  const specials = [NaN, Infinity, -Infinity, -0, 0, 1e-4, 9.999999999999999e-5, 1e15, 999999999999999, 999999999999999.9, 0.1, 0.30000000000000004, 5e-324, 2 ** 53, 123456789.12345679, -1e-4];
  return Float64Array.from({ length: N }, (_, i) => {
    switch (i % 6) {
      case 0:
        return specials[Math.floor(r() * specials.length)]!;
      case 1:
        // Full precision, any magnitude.
        return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
      case 2:
        // Decimals with 0–9 places, up to 15 digits.
        return Number(((r() - 0.5) * 10 ** Math.floor(r() * 12)).toFixed(Math.floor(r() * 10)));
      case 3:
        return Math.round(r() * 10000) / 100;
      case 4:
        return Number((r() * 1e15).toFixed(Math.floor(r() * 3)));
      default:
        return Math.floor((r() - 0.5) * 2 ** 40);
    }
  });
}

function times(random: Prng): BigInt64Array {
  const r = () => random.next();
  const edges = [0n, -1n, 1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n - 1n, -(2n ** 53n), 2n ** 53n, -63_200_000_000_000_000n, 315_537_897_599_999_999n, -31_556_908_800_000_000n, 252_455_615_999_999_999n, US_PER_DAY - 1n, -US_PER_DAY];
  return BigInt64Array.from({ length: N }, (_, i) => {
    if (i % 5 === 0) return edges[Math.floor(r() * edges.length)]!;
    // Whole seconds, sub-second fractions, and anywhere in the int64 range.
    const us = BigInt(Math.floor((r() - 0.5) * 2 ** 52)) * (i % 5 === 1 ? 1_000_000n : 1n);
    return i % 5 === 4 ? BigInt.asIntN(64, us * 4099n) : us;
  });
}

function column(type: PgType, random: Prng, withNulls: boolean): Column {
  const r = () => random.next();
  const nulls = withNulls ? Uint8Array.from({ length: (N + 7) >> 3 }, () => Math.floor(r() * 256) & Math.floor(r() * 256)) : null;
  switch (type) {
    case 'float8':
      return { type, values: floats(random), nulls };
    case 'int4':
      return { type, values: Int32Array.from({ length: N }, (_, i) => (i % 7 === 0 ? [2 ** 31 - 1, -(2 ** 31), 0, -1][i % 4]! : Math.floor((r() - 0.5) * 2 ** 32))), nulls };
    case 'int2':
      return { type, values: Int16Array.from({ length: N }, () => Math.floor((r() - 0.5) * 2 ** 16)), nulls };
    case 'int8':
      return { type, values: times(random), nulls };
    case 'timestamptz':
    case 'timestamp':
      return { type, values: times(random), nulls };
    case 'date':
      return { type, values: Int32Array.from({ length: N }, (_, i) => (i % 9 === 0 ? [2 ** 31 - 1, -(2 ** 31), -730_120, 2_932_896, -365_243][i % 5]! : Math.floor((r() - 0.5) * 2 * 3_000_000))), nulls };
    case 'text':
      return { type, values: Array.from({ length: N }, (_, i) => ['a', 'é日本', '', 'host_12', 'long'.repeat(50 + (i % 3))][i % 5]!), nulls };
    default:
      throw new Error(type);
  }
}

/** Fields of DataRow messages, as latin1 strings (one character per byte) or null. */
function fields(bytes: Uint8Array): Array<Array<string | null>> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rows: Array<Array<string | null>> = [];
  for (let pos = 0; pos < bytes.length; ) {
    expect(bytes[pos]).toBe(0x44);
    const end = pos + 1 + view.getInt32(pos + 1);
    const n = view.getInt16(pos + 5);
    let p = pos + 7;
    const row: Array<string | null> = [];
    for (let j = 0; j < n; j++) {
      const len = view.getInt32(p);
      p += 4;
      row.push(len < 0 ? null : Buffer.from(bytes.subarray(p, p + len)).toString('latin1'));
      if (len > 0) p += len;
    }
    expect(p).toBe(end);
    rows.push(row);
    pos = end;
  }
  return rows;
}

const TYPES: PgType[] = ['timestamptz', 'text', 'float8', 'int4', 'int2', 'int8', 'timestamp', 'date', 'float8'];
const OIDS: Partial<Record<PgType, number>> = { timestamptz: 1184, text: 25, float8: 701, int4: 23, int2: 21, int8: 20, timestamp: 1114, date: 1082 };

/** A batch: every type, some columns with NULLs, some constant (one value repeated), a selection. */
function batch(seed: number) {
  const random = new Prng(seed);
  const columns = TYPES.map((t, j) => column(t, random, j % 2 === 0));
  const constant = TYPES.map((_, j) => j === 1 || j === 7);
  for (let j = 0; j < columns.length; j++) {
    if (!constant[j]) continue;
    const c = columns[j]!;
    (c.values as { fill(v: unknown): unknown }).fill(c.values[3]);
    if (c.nulls) c.nulls.fill(seed % 2 === 0 ? 0 : 0xff);
  }
  const rows = seed % 3 === 0 ? undefined : Uint32Array.from({ length: N / 2 }, (_, i) => i * 2 + (seed % 2));
  return { columns, constant, rows, count: rows ? rows.length : N };
}

const expectedText = (c: Column, i: number) => (c.nulls !== null && (c.nulls[i >> 3]! & (1 << (i & 7))) !== 0 ? null : formatterOf(c.type)!(c, i));
/** A value as a string keeping -0, NaN, bigint and Date (also invalid ones) apart. */
const show = (v: unknown) => (typeof v === 'number' && Object.is(v, -0) ? '-0' : v instanceof Date ? `D${v.getTime()}` : typeof v === 'bigint' ? `${v}n` : (JSON.stringify(v) ?? String(v)));

describe('DataRowWriter', () => {
  it('writes the formatters’ text of every value', () => {
    for (let seed = 1; seed <= 6; seed++) {
      const { columns, constant, rows, count } = batch(seed);
      const w = new DataRowWriter(64);
      w.append(columns, columns.map((c) => formatterOf(c.type)!), rows, count, constant);
      // Each piece holds whole rows.
      const got = w.bytes().flatMap((b) => fields(b));
      expect(got.length).toBe(count);
      expect(w.rows).toBe(count);
      for (let x = 0; x < count; x++) {
        const i = rows ? rows[x]! : x;
        const want = columns.map((c, j) => expectedText(c, constant[j] ? 0 : i)).map((s) => (s === null ? null : Buffer.from(s, 'utf8').toString('latin1')));
        if (JSON.stringify(got[x]) !== JSON.stringify(want)) expect(got[x], `seed ${seed} row ${x}`).toEqual(want);
      }
    }
  });
});

describe('DataRowWriter across batches', () => {
  it('writes each batch’s own constant fields when one writer takes batches whose constants recur', () => {
    // Each batch comes twice; the constant text column is NULL in odd seeds' batches and the same
    // text in the others, so blocks differ by a NULL alone as well as by a value.
    const seeds = [1, 2, 3, 4, 5, 6, 2, 1, 4, 3, 6, 5];
    const w = new DataRowWriter(64);
    const want: Array<Array<string | null>> = [];
    for (const seed of seeds) {
      const { columns, constant, rows, count } = batch(seed);
      if (seed % 2 === 1) columns[1] = { ...columns[1]!, nulls: new Uint8Array((N + 7) >> 3).fill(0xff) } as Column;
      w.append(columns, columns.map((c) => formatterOf(c.type)!), rows, count, constant);
      for (let x = 0; x < count; x++) {
        const i = rows ? rows[x]! : x;
        want.push(columns.map((c, j) => expectedText(c, constant[j] ? 0 : i)).map((s) => (s === null ? null : Buffer.from(s, 'utf8').toString('latin1'))));
      }
    }
    const got = w.bytes().flatMap((b) => fields(b));
    expect(got.length).toBe(want.length);
    for (let x = 0; x < want.length; x++) if (JSON.stringify(got[x]) !== JSON.stringify(want[x])) expect(got[x], `row ${x}`).toEqual(want[x]);
  });
});

describe('ObjectRows', () => {
  afterEach(() => useTemplateRows(false));
  for (const template of [false, true]) {
    it(`gives the parsers’ values of the text (${template ? 'template' : 'compiled'} rows)`, () => {
      useTemplateRows(template);
      for (let seed = 1; seed <= 6; seed++) {
        const { columns, constant, rows, count } = batch(seed);
        const values = columns.map((c) => valueOfType(OIDS[c.type]!, types.parsers) as ValueOf);
        // A name repeated: the later column wins.
        const names = TYPES.map((t, j) => (j === 8 ? 'float8' : `${t}_${j}`)).map((n, j) => (j === 2 ? 'float8' : n));
        const out = new ObjectRows(names);
        out.append(columns, columns.map((c) => formatterOf(c.type)!), values, rows, count, constant);
        expect(out.rows.length).toBe(count);
        // Every Date is the row's own (a constant column's too), as the parser makes them.
        const dates = out.rows.flatMap((row) => Object.values(row).filter((v) => v instanceof Date));
        expect(new Set(dates).size).toBe(dates.length);
        for (let x = 0; x < count; x++) {
          const i = rows ? rows[x]! : x;
          const want: Record<string, unknown> = {};
          columns.forEach((c, j) => {
            const text = expectedText(c, constant[j] ? 0 : i);
            const parse = (parsers: Record<number, (x: string, oid: number) => unknown>) => (parsers[OIDS[c.type]!] ? parsers[OIDS[c.type]!]!(text!, OIDS[c.type]!) : text);
            want[names[j]!] = text === null ? null : parse(types.parsers as Record<number, (x: string, oid: number) => unknown>);
          });
          const a = Object.entries(out.rows[x]!).map(([k, v]) => `${k}=${show(v)}`);
          const b = Object.entries(want).map(([k, v]) => `${k}=${show(v)}`);
          if (a.join('|') !== b.join('|')) expect(a, `seed ${seed} row ${x}`).toEqual(b);
        }
      }
    });
  }
});
