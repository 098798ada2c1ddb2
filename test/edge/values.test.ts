/**
 * The edge profile's text output against PostgreSQL's own (PGlite): float8 shortest form, avg of
 * integers as numeric (numeric_div's scale), timestamptz in several zones, intervals. Inputs are
 * generated from a seed, so every run checks the same values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { divideDecimal } from '../../src/edge/aggregates.js';
import { formatFloat, formatInterval, formatTimestamptz, parseInterval, parseText } from '../../src/edge/values.js';
import type { PGliteRowStore } from '../../src/rowstore/pglite.js';
import { openTestRowStore, random } from '../support/row-store.js';

let pg: PGliteRowStore;

async function column(sql: string): Promise<string[]> {
  const r = await pg.query<{ v: string }>(sql);
  return r.rows.map((x) => x.v);
}

describe('edge values: PostgreSQL text output', () => {
  beforeAll(async () => {
    pg = await openTestRowStore();
  }, 120_000);
  afterAll(async () => {
    await pg?.close();
  });

  it('formats float8 as PostgreSQL 12+ does (shortest round trip, %g thresholds)', async () => {
    const next = random(42);
    const values = [0, -0, 1, -1, 0.1, 1e15, 1e14, 123456789012345, 1e-4, 1e-5, 1.5e-5, 1e20, 5e-324, 1.7976931348623157e308, 2 ** 53, 1 / 3];
    for (let i = 0; i < 300; i++) values.push((next() - 0.5) * 10 ** Math.floor(next() * 40 - 20));
    for (let i = 0; i < 300; i++) values.push((next() - 0.5) * 10 ** Math.floor(next() * 600 - 300));
    // Large integers, where doubles are 2, 4, 8… apart and half-ulp candidates are common.
    for (let i = 0; i < 300; i++) values.push(Math.round((next() - 0.5) * 2 ** (54 + Math.floor(next() * 10))));
    const expected = await column(`SELECT v::float8::text AS v FROM unnest(ARRAY[${values.map((v) => `'${Object.is(v, -0) ? '-0' : String(v)}'`).join(',')}]) WITH ORDINALITY AS t(v, i) ORDER BY i`);
    expect(values.map((v) => formatFloat(v))).toEqual(expected);
  });

  it('divides like numeric_div for avg() of integers', async () => {
    const next = random(7);
    const sets: number[][] = [];
    for (let i = 0; i < 60; i++) sets.push(Array.from({ length: 1 + Math.floor(next() * 50) }, () => Math.floor((next() - 0.3) * 10 ** Math.floor(next() * 9))));
    const expected = await column(sets.map((s) => `SELECT avg(x)::text AS v FROM unnest(ARRAY[${s.join(',')}]::bigint[]) x`).join(' UNION ALL '));
    const got = sets.map((s) => divideDecimal({ n: s.reduce((a, b) => a + BigInt(b), 0n), scale: 0 }, { n: BigInt(s.length), scale: 0 }));
    expect(got).toEqual(expected);
  });

  it('formats timestamptz in the session zone and intervals in postgres style', async () => {
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kathmandu', 'Australia/Lord_Howe'];
    const stamps = ['2024-03-31 00:59:59.5+00', '2024-10-27 01:30:00+00', '1999-12-31 23:59:59.999999+00', '2024-01-01 12:00:00+05:45', '0044-03-15 12:00:00+00'];
    for (const zone of zones) {
      await pg.query(`SET TimeZone = '${zone}'`);
      const expected = await column(`SELECT v::timestamptz::text AS v FROM unnest(ARRAY[${stamps.map((s) => `'${s}'`).join(',')}]) WITH ORDINALITY AS t(v, i) ORDER BY i`);
      expect(stamps.map((s) => formatTimestamptz(parseText('timestamptz', s, zone) as bigint, zone)), zone).toEqual(expected);
    }
    await pg.query('RESET TimeZone');
    const intervals = ['1 hour', '15 minutes', '1 day 02:00:00', '1.5 hours', '2 weeks', '1 month', '1 year 2 months 3 days', '00:00:00.25', '-3 days', '36 hours'];
    const expected = await column(`SELECT v::interval::text AS v FROM unnest(ARRAY[${intervals.map((s) => `'${s}'`).join(',')}]) WITH ORDINALITY AS t(v, i) ORDER BY i`);
    expect(intervals.map((s) => formatInterval(parseInterval(s)))).toEqual(expected);
  });
});
