/**
 * The TypeScript time_bucket against the extension's SQL time_bucket run by PGlite, on seeded random
 * inputs and on hand-picked edge cases (DST transitions, pre-epoch times, range limits, errors).
 * Fixed expectations come from TimescaleDB's regression outputs (test/expected/timestamp.out).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floorDiv, interval, USECS_PER_DAY, type Interval } from '../../src/functions/calendar.js';
import {
  DEFAULT_ORIGIN,
  IntegerType,
  timeBucketDate,
  timeBucketInteger,
  timeBucketTimestamp,
  timeBucketTimestamptz,
} from '../../src/functions/time-bucket.js';
import type { PGliteRowStore } from '../../src/rowstore/pglite.js';
import { days, micros, openTestRowStore, random } from '../support/row-store.js';

let store: PGliteRowStore;

// Conversions between PostgreSQL values and the representation of src/functions, independent of the
// session TimeZone (so that tests of session-dependent offsets can change it).
const CONVERSIONS = `
CREATE FUNCTION pg_temp.us_ts(x bigint) RETURNS timestamp LANGUAGE sql AS $$
  SELECT CASE WHEN x = 9223372036854775807 THEN 'infinity'::timestamp
              WHEN x = -9223372036854775808 THEN '-infinity'::timestamp
              ELSE TIMESTAMP '2000-01-01' + floor(x / 86400000000.0) * INTERVAL '1 day'
                   + (x - floor(x / 86400000000.0)::bigint * 86400000000) * INTERVAL '1 microsecond' END $$;
CREATE FUNCTION pg_temp.ts_us(t timestamp) RETURNS bigint LANGUAGE sql AS $$
  SELECT CASE WHEN t = 'infinity' THEN 9223372036854775807 WHEN t = '-infinity' THEN -9223372036854775808
              ELSE (extract(epoch FROM (t - TIMESTAMP '2000-01-01')) * 1000000)::bigint END $$;
CREATE FUNCTION pg_temp.us_tstz(x bigint) RETURNS timestamptz LANGUAGE sql AS $$ SELECT pg_temp.us_ts(x) AT TIME ZONE 'UTC' $$;
CREATE FUNCTION pg_temp.tstz_us(t timestamptz) RETURNS bigint LANGUAGE sql AS $$ SELECT pg_temp.ts_us(t AT TIME ZONE 'UTC') $$;
CREATE FUNCTION pg_temp.day_date(x integer) RETURNS date LANGUAGE sql AS $$
  SELECT CASE WHEN x = 2147483647 THEN 'infinity'::date WHEN x = -2147483648 THEN '-infinity'::date ELSE DATE '2000-01-01' + x END $$;
CREATE FUNCTION pg_temp.date_day(d date) RETURNS integer LANGUAGE sql AS $$
  SELECT CASE WHEN d = 'infinity' THEN 2147483647 WHEN d = '-infinity' THEN -2147483648 ELSE d - DATE '2000-01-01' END $$;
CREATE FUNCTION pg_temp.iv(m integer, d integer, u bigint) RETURNS interval LANGUAGE sql AS $$
  SELECT make_interval(months => m, days => d) + u * INTERVAL '1 microsecond' $$;
`;

beforeAll(async () => {
  store = await openTestRowStore();
  await store.exec(`SET TimeZone = 'UTC'; CREATE EXTENSION timescaledb; ${CONVERSIONS}`);
}, 120_000);

afterAll(async () => {
  await store?.close();
});

const DAY = USECS_PER_DAY;
const HOUR = 3_600_000_000n;
const MINUTE = 60_000_000n;
const iv = (months: number, d: number, us: bigint | number = 0n): Interval => interval(months, d, us);
const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** One SQL value, or `ERROR <sqlstate>`. */
async function sql(expr: string): Promise<string> {
  try {
    const r = await store.query<{ v: unknown }>(`SELECT (${expr})::text AS v`);
    return String(r.rows[0]!.v);
  } catch (err) {
    return `ERROR ${(err as { code?: string }).code}`;
  }
}

function ts(fn: () => bigint | number): string {
  try {
    return String(fn());
  } catch (err) {
    return `ERROR ${(err as { code?: string }).code}`;
  }
}

/** A column of inputs: its SQL type, its value per case, and the SQL converting it (`$` is the raw value). */
type Column<C> = readonly [sqlType: string, value: (c: C) => bigint | number | string | undefined, conversion?: string];

/**
 * Evaluates `expr` once per case in a single query and returns the cases where SQL and TypeScript
 * disagree. The inputs arrive as arrays, are converted in a subquery the planner keeps apart (OFFSET
 * 0), so that `expr` sees plain columns as it would in a real query. Inputs must not make SQL raise.
 */
async function compareRows<C>(cases: C[], columns: Record<string, Column<C>>, expr: string, tsOf: (c: C) => bigint | number): Promise<unknown[]> {
  if (cases.length === 0) return [];
  const names = Object.keys(columns);
  const params = names.map((n) => cases.map((c) => (columns[n]![1](c) === undefined ? null : String(columns[n]![1](c)))));
  const unnest = names.map((n, i) => `$${i + 1}::${columns[n]![0]}[]`).join(', ');
  const converted = names.map((n) => `${(columns[n]![2] ?? '$').replace('$', `raw_${n}`)} AS ${n}`).join(', ');
  const r = await store.query<{ v: string }>(
    `SELECT (${expr})::text AS v FROM (SELECT n, ${converted} FROM unnest(${unnest}) WITH ORDINALITY AS x(${names.map((n) => `raw_${n}`).join(', ')}, n) OFFSET 0) y ORDER BY n`,
    params,
  );
  const bad: unknown[] = [];
  cases.forEach((c, i) => {
    const expected = String(tsOf(c));
    if (r.rows[i]!.v !== expected) bad.push({ case: c, sql: r.rows[i]!.v, ts: expected });
  });
  return bad;
}

/** An interval in PostgreSQL's input syntax, field by field. */
const intervalText = (i: Interval | undefined) => (i === undefined ? undefined : `${i.months} mons ${i.days} days ${i.micros} microseconds`);
const intervalColumn = <C>(get: (c: C) => Interval | undefined): Column<C> => ['text', (c) => intervalText(get(c)), '$::interval'];
const timestampColumn = <C>(get: (c: C) => bigint | undefined): Column<C> => ['bigint', get, 'pg_temp.us_ts($)'];
const timestamptzColumn = <C>(get: (c: C) => bigint | undefined): Column<C> => ['bigint', get, 'pg_temp.us_tstz($)'];
const dateColumn = <C>(get: (c: C) => number | undefined): Column<C> => ['integer', get, 'pg_temp.day_date($)'];

/** Splits cases by which optional arguments they use (each shape calls a different overload). */
function byShape<C extends { origin?: unknown; offset?: unknown }>(cases: C[]): Array<[string, C[]]> {
  const shapes: Record<string, C[]> = { plain: [], origin: [], offset: [] };
  for (const c of cases) shapes[c.origin !== undefined ? 'origin' : c.offset !== undefined ? 'offset' : 'plain']!.push(c);
  return Object.entries(shapes);
}

const rng = random(20240611);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));

/** A timestamp between years `fromYear` and `toYear`, to the microsecond. */
function randomMicros(fromYear: number, toYear: number): bigint {
  const lo = floorDiv(micros(`${String(fromYear).padStart(4, '0')}-01-01`), DAY);
  const hi = floorDiv(micros(`${String(toYear).padStart(4, '0')}-01-01`), DAY);
  const day = lo + BigInt(Math.floor(rng() * Number(hi - lo)));
  const within = pick([0n, BigInt(int(0, 86_399)) * 1_000_000n, BigInt(Math.floor(rng() * 86_400_000_000))]);
  return day * DAY + within;
}

function randomFixedWidth(): Interval {
  const unit = pick([1n, 1000n, 1_000_000n, MINUTE, HOUR]);
  const kind = int(0, 3);
  if (kind === 0) return iv(0, 0, unit * BigInt(pick([1, 2, 5, 7, 10, 15, 30, 45, 90, 1000])));
  if (kind === 1) return iv(0, pick([1, 2, 3, 7, 14, 30, 100]));
  if (kind === 2) return iv(0, int(1, 10), HOUR * BigInt(int(0, 23)));
  return iv(0, 0, HOUR * BigInt(pick([24, 36, 48, 168])));
}

function randomWidth(): Interval {
  return rng() < 0.7 ? randomFixedWidth() : iv(pick([1, 2, 3, 4, 5, 6, 7, 12, 18, 24, 120]), 0);
}

function randomOffset(): Interval {
  return pick([iv(0, 0, MINUTE * BigInt(int(-600, 600))), iv(0, int(-3, 3), 0n), iv(int(-2, 2), 0), iv(0, 0, BigInt(int(-1e9, 1e9)))]);
}

describe('time_bucket on timestamp', () => {
  it('matches TimescaleDB regression outputs', () => {
    const week = iv(0, 7);
    expect(timeBucketTimestamp(week, micros('2018-09-16'))).toBe(micros('2018-09-10'));
    expect(timeBucketTimestamp(week, micros('2018-09-17'))).toBe(micros('2018-09-17'));
    expect(timeBucketTimestamp(iv(0, 2), micros('2011-01-02 01:01:01'))).toBe(micros('2011-01-01'));
    expect(timeBucketTimestamp(iv(0, 0, 2000n), micros('2011-01-02 01:01:01.111'))).toBe(micros('2011-01-02 01:01:01.110'));
    expect(timeBucketTimestamp(iv(0, 0, 5n * MINUTE), micros('1970-01-01 00:59:59.999999'))).toBe(micros('1970-01-01 00:55:00'));
    expect(timeBucketTimestamp(iv(0, 0, 5n * MINUTE), micros('2011-01-02 01:01:59.999999'), { offset: iv(0, 0, 2n * MINUTE) })).toBe(
      micros('2011-01-02 00:57:00'),
    );
    expect(timeBucketTimestamp(week, micros('2000-01-01'), { origin: micros('2000-01-01') })).toBe(micros('2000-01-01'));
    expect(timeBucketTimestamp(week, micros('3018-09-13'), { origin: micros('1970-01-01') })).toBe(micros('3018-09-10'));
    expect(timeBucketTimestamp(iv(3, 0), micros('2021-11-22'))).toBe(micros('2021-10-01'));
    expect(timeBucketTimestamp(iv(12, 0), micros('2021-11-22'), { origin: micros('2021-06-01') })).toBe(micros('2021-06-01'));
  });

  it('agrees with SQL on random widths, times (4000 BC to 9999), origins and offsets', async () => {
    const cases = Array.from({ length: 1500 }, () => {
      const width = randomWidth();
      const t = randomMicros(1, 9999);
      const variant = int(0, 2);
      return { width, t, origin: variant === 1 ? randomMicros(1900, 2100) : undefined, offset: variant === 2 ? randomOffset() : undefined };
    });
    cases.push(...Array.from({ length: 100 }, () => ({ width: randomFixedWidth(), t: -BigInt(Math.floor(rng() * 1e17)) - micros('0001-01-01'), origin: undefined, offset: undefined })));
    const bad: unknown[] = [];
    for (const [shape, group] of byShape(cases)) {
      const extra = shape === 'origin' ? ', org' : shape === 'offset' ? ', "offset" => off' : '';
      bad.push(
        ...(await compareRows(
          group,
          { w: intervalColumn((c) => c.width), t: timestampColumn((c) => c.t), org: timestampColumn((c) => c.origin), off: intervalColumn((c) => c.offset) },
          `pg_temp.ts_us(time_bucket(w, t${extra}))`,
          (c) => timeBucketTimestamp(c.width, c.t, { origin: c.origin, offset: c.offset }),
        )),
      );
    }
    expect(bad).toEqual([]);
  });
});

describe('time_bucket on timestamptz', () => {
  it('buckets in UTC by default', () => {
    // 2018-09-17 00:00 EDT is Monday 04:00 UTC: the week bucket starts Monday 00:00 UTC.
    expect(timeBucketTimestamptz(iv(0, 7), micros('2018-09-17 04:00'))).toBe(micros('2018-09-17'));
    expect(timeBucketTimestamptz(iv(1, 0), micros('2021-01-01 00:30'))).toBe(micros('2021-01-01'));
  });

  it('agrees with SQL on random inputs, including offsets with days under a DST session time zone', async () => {
    for (const session of ['UTC', 'America/New_York']) {
      await store.exec(`SET TimeZone = ${quote(session)}`);
      const cases = Array.from({ length: 700 }, () => {
        const variant = int(0, 2);
        return {
          width: randomWidth(),
          t: randomMicros(1900, 2100),
          origin: variant === 1 ? randomMicros(1900, 2100) : undefined,
          offset: variant === 2 ? randomOffset() : undefined,
        };
      });
      const bad: unknown[] = [];
      for (const [shape, group] of byShape(cases)) {
        const extra = shape === 'origin' ? ', org' : shape === 'offset' ? ', "offset" => off' : '';
        bad.push(
          ...(await compareRows(
            group,
            { w: intervalColumn((c) => c.width), t: timestamptzColumn((c) => c.t), org: timestamptzColumn((c) => c.origin), off: intervalColumn((c) => c.offset) },
            `pg_temp.tstz_us(time_bucket(w, t${extra}))`,
            (c) => timeBucketTimestamptz(c.width, c.t, { origin: c.origin, offset: c.offset, sessionTimeZone: session }),
          )),
        );
      }
      expect(bad, `session TimeZone ${session}`).toEqual([]);
    }
    await store.exec(`SET TimeZone = 'UTC'`);
  });
});

const ZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Asia/Amman', 'America/Sao_Paulo', 'Pacific/Chatham', 'Europe/London'];

/** UTC instants of DST transitions (and a day around them) to sweep densely. */
const TRANSITIONS: Array<[string, string]> = [
  ['America/New_York', '2024-11-03 06:00'],
  ['America/New_York', '2024-03-10 07:00'],
  ['Europe/Berlin', '2021-03-28 01:00'],
  ['Europe/Berlin', '2021-10-31 01:00'],
  ['Australia/Lord_Howe', '2021-04-03 15:00'],
  ['Australia/Lord_Howe', '2021-10-02 15:30'],
  ['Asia/Amman', '2021-03-25 22:00'],
  ['America/Sao_Paulo', '2018-11-04 03:00'],
  ['America/Sao_Paulo', '2019-02-17 02:00'],
  ['Pacific/Chatham', '2021-04-03 14:00'],
];

describe('time_bucket with a timezone', () => {
  it('keeps each DST fall-back hour in its own bucket, never after the input (#9136)', () => {
    const nyOrigin = micros('2000-01-01 05:00');
    const zone = { timezone: 'America/New_York', origin: nyOrigin };
    // 01:30 EDT (05:30 UTC) and 01:30 EST (06:30 UTC) on 2024-11-03.
    expect(timeBucketTimestamptz(iv(0, 0, HOUR), micros('2024-11-03 05:30'), zone)).toBe(micros('2024-11-03 05:00'));
    expect(timeBucketTimestamptz(iv(0, 0, HOUR), micros('2024-11-03 06:30'), zone)).toBe(micros('2024-11-03 06:00'));
    // Local day buckets: midnight New York time.
    expect(timeBucketTimestamptz(iv(0, 1), micros('2024-11-03 12:00'), { timezone: 'America/New_York' })).toBe(micros('2024-11-03 04:00'));
  });

  it('applies the offset to the instant, not to local time (#7059)', () => {
    // Asia/Amman skipped 00:00-01:00 on 2021-03-26; 01:00 local (22:00 UTC) minus 15 minutes is 23:45 on the 25th.
    const r = timeBucketTimestamptz(iv(0, 1), micros('2021-03-25 22:00'), { timezone: 'Asia/Amman', offset: iv(0, 0, 15n * MINUTE) });
    expect(r).toBe(micros('2021-03-24 22:15'));
  });

  it('agrees with SQL across DST transitions, densely, for every width and origin kind', async () => {
    const widths = [iv(0, 0, 15n * MINUTE), iv(0, 0, HOUR), iv(0, 0, 2n * HOUR), iv(0, 0, 3n * HOUR), iv(0, 1), iv(0, 7), iv(1, 0), iv(3, 0)];
    const cases: Array<{ zone: string; width: Interval; t: bigint; origin?: bigint; offset?: Interval }> = [];
    for (const [zone, at] of TRANSITIONS) {
      for (let m = -8n * 60n; m <= 8n * 60n; m += 10n) {
        const t = micros(at) + m * MINUTE + 17_000_000n;
        for (const width of widths) {
          cases.push({ zone, width, t });
          cases.push({ zone, width, t, origin: micros('2000-01-01 05:00') });
          cases.push({ zone, width, t, offset: iv(0, 0, 20n * MINUTE) });
        }
      }
    }
    // The five-argument form with NULLs is what a call omitting origin or "offset" runs.
    const bad = await compareRows(
      cases,
      { w: intervalColumn((c) => c.width), t: timestamptzColumn((c) => c.t), zone: ['text', (c) => c.zone], org: timestamptzColumn((c) => c.origin), off: intervalColumn((c) => c.offset) },
      'pg_temp.tstz_us(time_bucket(w, t, zone, org, off))',
      (c) => timeBucketTimestamptz(c.width, c.t, { timezone: c.zone, origin: c.origin, offset: c.offset }),
    );
    expect(bad).toEqual([]);
  });

  it('agrees with SQL on random zones, times (1900-2100), origins and offsets', async () => {
    const cases = Array.from({ length: 1500 }, () => ({
      zone: pick(ZONES),
      width: randomWidth(),
      t: randomMicros(1900, 2100),
      origin: rng() < 0.5 ? randomMicros(1900, 2100) : undefined,
      offset: rng() < 0.5 ? randomOffset() : undefined,
    }));
    const bad = await compareRows(
      cases,
      { w: intervalColumn((c) => c.width), t: timestamptzColumn((c) => c.t), zone: ['text', (c) => c.zone], org: timestamptzColumn((c) => c.origin), off: intervalColumn((c) => c.offset) },
      'pg_temp.tstz_us(time_bucket(w, t, zone, org, off))',
      (c) => timeBucketTimestamptz(c.width, c.t, { timezone: c.zone, origin: c.origin, offset: c.offset }),
    );
    expect(bad).toEqual([]);
  });
});

describe('time_bucket on date', () => {
  it('matches TimescaleDB regression outputs', () => {
    expect(timeBucketDate(iv(0, 4), days('2017-11-04'))).toBe(days('2017-11-01'));
    expect(timeBucketDate(iv(0, 4), days('2017-11-06'), { offset: iv(0, 2) })).toBe(days('2017-11-03'));
    expect(timeBucketDate(iv(0, 7), days('2018-09-16'))).toBe(days('2018-09-10'));
    expect(timeBucketDate(iv(0, 7), days('1999-12-31'), { origin: days('2000-01-01') })).toBe(days('1999-12-25'));
    expect(timeBucketDate(iv(5, 0), days('2020-06-01'))).toBe(days('2020-06-01'));
    expect(timeBucketDate(iv(5, 0), days('2020-10-01'))).toBe(days('2020-06-01'));
  });

  it('agrees with SQL on random widths, dates, origins and offsets', async () => {
    const dayWidths = () => pick([iv(0, int(1, 40)), iv(0, 7 * int(1, 8)), iv(0, 0, 24n * HOUR * BigInt(int(1, 5))), iv(0, 1, 24n * HOUR)]);
    const cases = Array.from({ length: 1500 }, () => {
      const variant = int(0, 2);
      return {
        width: rng() < 0.6 ? dayWidths() : iv(pick([1, 2, 3, 5, 12, 13]), 0),
        d: Number(floorDiv(randomMicros(1, 9999), DAY)),
        origin: variant === 1 ? Number(floorDiv(randomMicros(1800, 2200), DAY)) : undefined,
        offset: variant === 2 ? pick([iv(0, int(-10, 10)), iv(int(-3, 3), 0), iv(0, 0, 24n * HOUR)]) : undefined,
      };
    });
    const bad: unknown[] = [];
    for (const [shape, group] of byShape(cases)) {
      const extra = shape === 'origin' ? ', org' : shape === 'offset' ? ', "offset" => off' : '';
      bad.push(
        ...(await compareRows(
          group,
          { w: intervalColumn((c) => c.width), d: dateColumn((c) => c.d), org: dateColumn((c) => c.origin), off: intervalColumn((c) => c.offset) },
          `pg_temp.date_day(time_bucket(w, d${extra}))`,
          (c) => timeBucketDate(c.width, c.d, { origin: c.origin, offset: c.offset }),
        )),
      );
    }
    expect(bad).toEqual([]);
  });
});

describe('time_bucket on integers', () => {
  it('matches TimescaleDB regression outputs', () => {
    const b = (w: number, t: number, offset?: number) => Number(timeBucketInteger(BigInt(w), BigInt(t), { type: IntegerType.smallint, offset: offset === undefined ? undefined : BigInt(offset) }));
    expect([-11, -10, -9, -1, 0, 1, 99, 100].map((t) => b(10, t))).toEqual([-20, -10, -10, -10, 0, 0, 90, 100]);
    expect([-9, -8, -7, 1, 2, 101].map((t) => b(10, t, 2))).toEqual([-18, -8, -8, -8, 2, 92]);
    expect([-13, -12, -3, -2, 97, 98].map((t) => b(10, t, -2))).toEqual([-22, -12, -12, -2, 88, 98]);
    expect(b(10, -32760)).toBe(-32760);
    expect(b(10, 32767)).toBe(32760);
    expect(ts(() => b(10, -32768))).toBe('ERROR 22003');
    expect(ts(() => b(10, -32761))).toBe('ERROR 22003');
    expect(ts(() => b(10, -32768, 32767))).toBe('ERROR 22003');
    expect(ts(() => b(10, 32767, -32768))).toBe('ERROR 22003');
    expect(ts(() => timeBucketInteger(10n, -9223372036854775801n))).toBe('ERROR 22003');
  });

  it('agrees with SQL on random values, including the ends of each range and errors', async () => {
    const types = [
      { type: IntegerType.smallint, bits: 16 },
      { type: IntegerType.integer, bits: 32 },
      { type: IntegerType.bigint, bits: 64 },
    ];
    const bad: unknown[] = [];
    for (const { type, bits } of types) {
      const max = 2n ** BigInt(bits - 1) - 1n;
      const min = -max - 1n;
      const value = () => pick([min, min + 1n, max, max - 1n, 0n, BigInt(int(-1000, 1000)), min + BigInt(int(0, 50)), max - BigInt(int(0, 50))]);
      for (let i = 0; i < 150; i++) {
        const width = pick([1n, 2n, 3n, 7n, 10n, 1000n, BigInt(int(1, 30000)), 0n, -5n, max]);
        const t = value();
        const offset = rng() < 0.5 ? value() : undefined;
        const expr = `time_bucket(${width}::${type}, (${t})::${type}${offset === undefined ? '' : `, (${offset})::${type}`})`;
        const got = await sql(expr);
        const expected = ts(() => timeBucketInteger(width, t, { type, offset }));
        if (got !== expected) bad.push({ expr, sql: got, ts: expected });
      }
    }
    expect(bad).toEqual([]);
  });
});

describe('errors and special values', () => {
  const INF = 2n ** 63n - 1n;
  const BC_4714 = -211_813_488_000_000_000n + 3_661_000_000n;
  const AD_294276 = 9_223_371_331_199_999_900n;
  type Kind = 'ts' | 'tstz' | 'date';
  const cases: Array<[string, Kind, () => bigint | number]> = [
    ["time_bucket('0 days', TIMESTAMP '2020-01-01')", 'ts', () => timeBucketTimestamp(iv(0, 0), micros('2020-01-01'))],
    ["time_bucket('-1 hour', TIMESTAMPTZ '2020-01-01+00')", 'tstz', () => timeBucketTimestamptz(iv(0, 0, -HOUR), micros('2020-01-01'))],
    ["time_bucket('1 day -24 hours', TIMESTAMP '2020-01-01')", 'ts', () => timeBucketTimestamp(iv(0, 1, -24n * HOUR), micros('2020-01-01'))],
    ["time_bucket('-1 month', TIMESTAMP '2020-01-01')", 'ts', () => timeBucketTimestamp(iv(-1, 0), micros('2020-01-01'))],
    ["time_bucket('1 month 1 day', TIMESTAMP '2020-01-01')", 'ts', () => timeBucketTimestamp(iv(1, 1), micros('2020-01-01'))],
    ["time_bucket('1 month 1 second', TIMESTAMPTZ '2020-01-01+00')", 'tstz', () => timeBucketTimestamptz(iv(1, 0, 1_000_000n), micros('2020-01-01'))],
    ["time_bucket('1 hour', DATE '2012-01-01')", 'date', () => timeBucketDate(iv(0, 0, HOUR), days('2012-01-01'))],
    ["time_bucket('25 hours', DATE '2012-01-01')", 'date', () => timeBucketDate(iv(0, 0, 25n * HOUR), days('2012-01-01'))],
    ["time_bucket('-1 day', DATE '2012-01-01')", 'date', () => timeBucketDate(iv(0, -1), days('2012-01-01'))],
    ["time_bucket('-2 months', DATE '2012-01-01')", 'date', () => timeBucketDate(iv(-2, 0), days('2012-01-01'))],
    ["time_bucket('1 day', DATE '2012-01-01', \"offset\" => '1 hour')", 'date', () => timeBucketDate(iv(0, 1), days('2012-01-01'), { offset: iv(0, 0, HOUR) })],
    ["time_bucket('-1 day', 'infinity'::timestamp)", 'ts', () => timeBucketTimestamp(iv(0, -1), INF)],
    ["time_bucket('1 week', '-infinity'::timestamptz)", 'tstz', () => timeBucketTimestamptz(iv(0, 7), -INF - 1n)],
    ["time_bucket('1 month', 'infinity'::date)", 'date', () => timeBucketDate(iv(1, 0), 2 ** 31 - 1)],
    ["time_bucket('1 hour', 'infinity'::timestamptz, 'Europe/Berlin')", 'tstz', () => timeBucketTimestamptz(iv(0, 0, HOUR), INF, { timezone: 'Europe/Berlin' })],
    ["time_bucket('1 hour', TIMESTAMPTZ '2020-01-01+00', 'Nowhere/Atlantis')", 'tstz', () => timeBucketTimestamptz(iv(0, 0, HOUR), micros('2020-01-01'), { timezone: 'Nowhere/Atlantis' })],
    ["time_bucket('1 week', TIMESTAMP '4714-11-24 01:01:01 BC')", 'ts', () => timeBucketTimestamp(iv(0, 7), BC_4714)],
    ["time_bucket('1 week', TIMESTAMP '294276-12-31 23:59:59.9999')", 'ts', () => timeBucketTimestamp(iv(0, 7), AD_294276)],
  ];
  const convert: Record<Kind, string> = { ts: 'pg_temp.ts_us', tstz: 'pg_temp.tstz_us', date: 'pg_temp.date_day' };

  it.each(cases)('%s', async (expr, kind, fn) => {
    expect(await sql(`${convert[kind]}(${expr})`)).toBe(ts(fn));
  });

  it('uses the documented default origin and keeps the range ends in range', async () => {
    expect(DEFAULT_ORIGIN).toBe(micros('2000-01-03'));
    expect(await sql("time_bucket('1 week', TIMESTAMP '4714-11-24 01:01:01 BC')")).toBe('4714-11-24 00:00:00 BC');
    expect(await sql("time_bucket('1 week', TIMESTAMP '294276-12-31 23:59:59.9999')")).toBe('294276-12-25 00:00:00');
  });
});
