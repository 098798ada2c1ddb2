/**
 * Intl-based time zone conversions against PostgreSQL's AT TIME ZONE (PGlite's tz database): every
 * 7 minutes across DST transitions, including the skipped and the repeated hours.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interval } from '../../src/functions/calendar.js';
import { fromLocal, timestamptzPlusInterval, toLocal } from '../../src/functions/time-zone.js';
import type { PGliteRowStore } from '../../src/rowstore/pglite.js';
import { micros, openTestRowStore } from '../support/row-store.js';

let store: PGliteRowStore;

beforeAll(async () => {
  store = await openTestRowStore();
  await store.exec("SET TimeZone = 'UTC'");
}, 120_000);

afterAll(async () => {
  await store?.close();
});

const MINUTE = 60_000_000n;
const us = (col: string) => `(extract(epoch FROM (${col} - TIMESTAMP '2000-01-01')) * 1000000)::bigint::text`;

/** [zone, a UTC instant near one of its transitions] */
const CASES: Array<[string, string]> = [
  ['America/New_York', '2024-11-03 06:00'],
  ['America/New_York', '2024-03-10 07:00'],
  ['Europe/Berlin', '2021-10-31 01:00'],
  ['Australia/Lord_Howe', '2021-04-03 15:00'],
  ['Asia/Amman', '2021-03-25 22:00'],
  ['America/Sao_Paulo', '2018-11-04 03:00'],
  ['Pacific/Chatham', '2021-09-25 14:00'],
  ['Europe/Moscow', '2014-10-25 22:00'],
];

describe('time zone conversions', () => {
  it.each(CASES)('%s around %s: toLocal, fromLocal and + 1 day agree with PostgreSQL', async (zone, at) => {
    const instants = Array.from({ length: 140 }, (_, i) => micros(at) + BigInt(i - 70) * 7n * MINUTE);
    const r = await store.query<{ local: string; back: string; plus: string }>(
      `SELECT ${us(`t AT TIME ZONE $2`)} AS local,
              ${us(`((t AT TIME ZONE 'UTC') AT TIME ZONE $2) AT TIME ZONE 'UTC'`)} AS back
       FROM unnest($1::bigint[]) WITH ORDINALITY AS x(v, n),
            LATERAL (SELECT (TIMESTAMP '2000-01-01' + v * INTERVAL '1 microsecond') AT TIME ZONE 'UTC' AS t) y
       ORDER BY n`,
      [instants.map(String), zone],
    );
    const bad = instants.flatMap((t, i) => {
      const local = toLocal(zone, t);
      // `back` reads the instant's UTC wall-clock as local time in `zone` (ambiguous and skipped times included).
      const back = fromLocal(zone, t);
      const row = r.rows[i]!;
      return String(local) === row.local && String(back) === row.back ? [] : [{ t, local: [String(local), row.local], back: [String(back), row.back] }];
    });
    expect(bad).toEqual([]);

    await store.exec(`SET TimeZone = '${zone}'`);
    const day = interval(0, 1, 0n);
    const p = await store.query<{ v: string }>(
      `SELECT ${us(`((TIMESTAMP '2000-01-01' + v * INTERVAL '1 microsecond') AT TIME ZONE 'UTC' + INTERVAL '1 day') AT TIME ZONE 'UTC'`)} AS v
       FROM unnest($1::bigint[]) WITH ORDINALITY AS x(v, n) ORDER BY n`,
      [instants.map(String)],
    );
    await store.exec("SET TimeZone = 'UTC'");
    expect(instants.map((t) => String(timestamptzPlusInterval(t, day, zone)))).toEqual(p.rows.map((row) => row.v));
  });

  it('reports unknown zones as PostgreSQL does (22023)', () => {
    expect(() => toLocal('Nowhere/Atlantis', 0n)).toThrow(expect.objectContaining({ code: '22023' }));
  });
});
