// An aggregate whose rows Orbit makes needs no round trip to PostgreSQL when PostgreSQL has run
// nothing since the table's facts were last confirmed and its constants are literals Orbit reads
// exactly (session/columnstore/local-inputs.ts). Every answer is compared with PostgreSQL's over a
// plain table `r` of the same rows; constants Orbit does not read, anything run in between, a
// transaction block and other settings must take PostgreSQL's way again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit, Queryable } from '../../src/orbit.js';
import { loadCompressedDays } from '../support/compressed-days.js';
import { countRoundTrips } from '../support/round-trips.js';
import { TEMPLATE } from '../support/server.js';

/** Statement shapes (rows made by Orbit) with constants `c`, for table `x`. */
const SHAPES = [
  (x: string, c: Constants) => `SELECT time_bucket(${c.width}, time) AS b, max(v) AS mx, count(*) AS n FROM ${x} WHERE host IN (${c.hosts}) AND time >= ${c.from} AND time < ${c.to} GROUP BY b ORDER BY b`,
  (x: string, c: Constants) => `SELECT host, avg(v) AS a, min(time) AS lo, sum(v) AS s FROM ${x} WHERE time >= ${c.from} AND time < ${c.to} GROUP BY host ORDER BY host`,
  (x: string, c: Constants) => `SELECT time_bucket(${c.width}, time) AS b, host, min(v) AS mn FROM ${x} WHERE host = ${c.host} AND time BETWEEN ${c.from} AND ${c.to} GROUP BY b, host ORDER BY b, host`,
  // No timestamptz in the result: its rows are Orbit's in any time zone.
  (x: string, c: Constants) => `SELECT host, count(*) AS n, max(v) AS mx FROM ${x} WHERE time >= ${c.from} AND time < ${c.to} GROUP BY host ORDER BY host`,
  // Row predicates with literals Orbit types and reads as PostgreSQL does (numeric, integer, text).
  (x: string, c: Constants) => `SELECT host, count(*) AS n, min(v) AS mn FROM ${x} WHERE time >= ${c.from} AND time < ${c.to} AND v > 10.25 AND v <> 12 AND host <> 'b' AND v IS NOT NULL GROUP BY host ORDER BY host`,
];
const NONE = SHAPES.map(() => 0);

interface Constants {
  readonly width: string;
  readonly hosts: string;
  readonly host: string;
  readonly from: string;
  readonly to: string;
}

/** Constants in each literal form Orbit reads itself. */
const LOCAL: Constants[] = [
  { width: "'1 hour'", hosts: "'a', 'b'", host: "'c'", from: "'2024-01-02T03:00:00Z'", to: "'2024-01-02T09:30:00.5Z'" },
  { width: "'15 minutes'::interval", hosts: "'c'::text, 'zz', NULL", host: "'a'", from: "'2024-01-01 22:00:00+02'", to: "TIMESTAMPTZ '2024-01-02 01:00:00-01:30'" },
  { width: "INTERVAL '1 day'", hosts: "'b', 'it''s'", host: "'b'", from: "CAST('2024-01-01 12:00:00.123456+00' AS timestamp with time zone)", to: "'2024-01-03 00:00:00Z'" },
  // Without an offset: read in the session's time zone, UTC here.
  { width: "'2 weeks'", hosts: "'a'", host: "'a'", from: "'2024-01-01 10:00:00'", to: "'2024-01-02 11:00:00'" },
];

/** Constants PostgreSQL must evaluate (other forms, months, an expression, a rounded fraction). */
const REMOTE: Constants[] = [
  { width: "'1 month'", hosts: "'a'", host: "'a'", from: "'2024-01-01T00:00:00Z'", to: "'2024-01-02T00:00:00Z'" },
  { width: "'1 hour'", hosts: "'a'", host: "'a'", from: "'2024-01-01T00:00:00Z'::timestamptz + INTERVAL '3 hours'", to: "'2024-01-02T00:00:00Z'" },
  { width: "'90 min'", hosts: "lower('A')", host: "'a'", from: "'2024-01-01T00:00:00.1234567Z'", to: "'Jan 2 2024 00:00 UTC'" },
  { width: "'1:30'", hosts: "'a'", host: "'a'", from: "'2024-01-01T00:00:00Z'", to: "'2024-01-02T00:00:00Z'" },
];

function text(rows: Array<Record<string, unknown>>): string[] {
  return rows.map((row) => JSON.stringify(Object.values(row).map((v) => (v instanceof Date ? v.toISOString() : v))));
}

describe('columnstore fast path: aggregates without a round trip while PostgreSQL is idle', () => {
  let db: Orbit;
  let trips: () => number;

  /** PostgreSQL's answers over `r` for every shape with constants `c` (through `on`). */
  async function wanted(c: Constants, on: Queryable = db): Promise<string[][]> {
    const out: string[][] = [];
    for (const shape of SHAPES) out.push(text((await on.query<Record<string, unknown>>(shape('r', c))).rows));
    return out;
  }

  /** Runs every shape over `t` with constants `c`; returns the round trips each took. */
  async function answers(c: Constants, want: string[][], on: Queryable = db): Promise<number[]> {
    const per: number[] = [];
    for (const [i, shape] of SHAPES.entries()) {
      trips();
      const got = await on.query<Record<string, unknown>>(shape('t', c));
      per.push(trips());
      expect(text(got.rows), shape('t', c)).toEqual(want[i]);
    }
    return per;
  }

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, columnstore: { reuseResults: false } });
    await loadCompressedDays(db);
    trips = countRoundTrips(db);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('answers literals Orbit reads without a round trip, as PostgreSQL does', async () => {
    const want = await Promise.all(LOCAL.map((c) => wanted(c)));
    // The first statement of each shape asks (facts, the description of its result).
    expect((await answers(LOCAL[0]!, want[0]!)).every((n) => n > 0)).toBe(true);
    for (const [i, c] of LOCAL.entries()) expect(await answers(c, want[i]!), JSON.stringify(c)).toEqual(NONE);
  });

  it('leaves other constants to PostgreSQL, with its answers and errors', async () => {
    for (const c of REMOTE) {
      const want = await wanted(c);
      await answers(LOCAL[0]!, await wanted(LOCAL[0]!));
      // Each has a constant of the first shape PostgreSQL must evaluate.
      expect((await answers(c, want))[0], JSON.stringify(c)).toBeGreaterThan(0);
    }
    // An impossible date and a zero width: PostgreSQL's errors, as over the plain table.
    for (const bad of [{ ...LOCAL[0]!, from: "'2024-02-30T00:00:00Z'" }, { ...LOCAL[0]!, width: "'0 minutes'" }]) {
      const expected = await db.query(SHAPES[0]!('r', bad)).then(() => 'no error', (e: { code?: string; message: string }) => `${e.code} ${e.message}`);
      await answers(LOCAL[0]!, await wanted(LOCAL[0]!));
      const got = await db.query(SHAPES[0]!('t', bad)).then(() => 'no error', (e: { code?: string; message: string }) => `${e.code} ${e.message}`);
      expect(got).toBe(expected);
    }
  });

  it('answers NULL bounds, widths and keys as PostgreSQL does', async () => {
    for (const q of [
      (x: string) => `SELECT host, max(v) AS mx FROM ${x} WHERE time >= NULL GROUP BY host ORDER BY host`,
      (x: string) => `SELECT max(v) AS mx, count(*) AS n FROM ${x} WHERE time < NULL::timestamptz`,
      (x: string) => `SELECT time_bucket(NULL::interval, time) AS b, max(v) AS mx FROM ${x} GROUP BY b ORDER BY b`,
      (x: string) => `SELECT host, count(*) AS n FROM ${x} WHERE host IN (NULL, 'b') GROUP BY host ORDER BY host`,
    ]) {
      const want = text((await db.query<Record<string, unknown>>(q('r'))).rows);
      expect(text((await db.query<Record<string, unknown>>(q('t'))).rows), q('t')).toEqual(want);
    }
  });

  it('leaves a volatile function in a constant to PostgreSQL, which calls it for every row', async () => {
    await db.exec(`CREATE TABLE calls (n int); CREATE FUNCTION bound() RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
      BEGIN INSERT INTO calls VALUES (1); RETURN '2024-01-02 00:00+00'; END $$`);
    const counts: number[] = [];
    for (const x of ['r', 't']) {
      await db.exec('TRUNCATE calls');
      const rows = text((await db.query<Record<string, unknown>>(`SELECT host, count(*) AS n FROM ${x} WHERE time >= bound() GROUP BY host ORDER BY host`)).rows);
      expect(rows).toHaveLength(3);
      counts.push(Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM calls')).rows[0]!.n));
    }
    expect(counts[0]).toBeGreaterThan(1);
    expect(counts[1]).toBe(counts[0]);
  });

  it('asks again after anything PostgreSQL ran: another session’s write, a function’s, a plain SELECT', async () => {
    const c = LOCAL[1]!;
    const before = await wanted(c);
    await answers(c, before);
    expect(await answers(c, before)).toEqual(NONE);
    // A plain SELECT in between: the next statement asks (the one after it need not).
    await db.query('SELECT 1');
    expect(await answers(c, before)).toEqual([1, ...NONE.slice(1)]);
    // Another session writes a row the statements keep into t's rowstore (and r).
    const other = db.session();
    try {
      await other.exec("INSERT INTO t VALUES ('2024-01-01 23:30+00', 'c', 1000); INSERT INTO r VALUES ('2024-01-01 23:30+00', 'c', 1000)");
    } finally {
      await other.close();
    }
    const want = await wanted(c);
    await answers(c, want);
    // Back into the batches: the rowstore is empty again, and quiet answers resume.
    await db.exec("SELECT compress_chunk(ch, if_not_compressed => true) FROM show_chunks('t') ch");
    await answers(c, want);
    expect(await answers(c, want)).toEqual(NONE);
    // A row that only a function's dynamic SQL writes (no statement names the table).
    await db.exec(`CREATE FUNCTION add_row(x regclass) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN EXECUTE format('INSERT INTO %I VALUES (%L, %L, %L)', x::text, '2024-01-02 00:10+00', 'a', 2000); END $$`);
    await db.exec("SELECT add_row('t'), add_row('r')");
    const after = await wanted(c);
    expect(after).not.toEqual(want);
    await answers(c, after);
  });

  it('answers a last point without a round trip, and sees a write in between', async () => {
    const last = (x: string) => `SELECT DISTINCT ON (host) host, time, v FROM ${x} ORDER BY host, time DESC`;
    await db.exec("SELECT compress_chunk(ch, if_not_compressed => true) FROM show_chunks('t') ch");
    const want = text((await db.query<Record<string, unknown>>(last('r'))).rows);
    await db.query(last('t'));
    await db.query(last('t'));
    trips();
    expect(text((await db.query<Record<string, unknown>>(last('t'))).rows)).toEqual(want);
    expect(trips()).toBe(0);
    // A newer row for one host, in the rowstore, written by another session.
    const other = db.session();
    try {
      await other.exec("INSERT INTO t VALUES ('2024-01-05 00:00+00', 'b', 7); INSERT INTO r VALUES ('2024-01-05 00:00+00', 'b', 7)");
    } finally {
      await other.close();
    }
    const after = text((await db.query<Record<string, unknown>>(last('r'))).rows);
    expect(after).not.toEqual(want);
    expect(text((await db.query<Record<string, unknown>>(last('t'))).rows)).toEqual(after);
  });

  it('takes PostgreSQL’s way inside a transaction block and under other settings', async () => {
    const c = LOCAL[3]!;
    await db.exec("SELECT compress_chunk(ch, if_not_compressed => true) FROM show_chunks('t') ch");
    const want = await wanted(c);
    await answers(c, want);
    await db.transaction(async (tx) => {
      const per = await answers(c, want, tx);
      expect(per.every((n) => n > 0)).toBe(true);
      // The block's own row is seen.
      await tx.exec("INSERT INTO t VALUES ('2024-01-01 10:30+00', 'a', -5); INSERT INTO r VALUES ('2024-01-01 10:30+00', 'a', -5)");
      await answers(c, await wanted(c, tx), tx);
    });
    // Another time zone: the offset-less literal means another instant, which PostgreSQL reads.
    await db.exec("SELECT compress_chunk(ch, if_not_compressed => true) FROM show_chunks('t') ch; SET timezone TO 'America/New_York'");
    try {
      const there = await wanted(c);
      await answers(c, there);
      expect((await answers(c, there))[3]).toBeGreaterThan(0);
      // Literals with offsets mean the same instants in any zone: read by Orbit again.
      // (The other shapes print timestamptz in New York: their final statements are PostgreSQL's.)
      const offsets = await wanted(LOCAL[0]!);
      const q = SHAPES[3]!('t', LOCAL[0]!);
      await db.query(q);
      trips();
      const got = await db.query<Record<string, unknown>>(q);
      expect(trips()).toBe(0);
      expect(text(got.rows)).toEqual(offsets[3]);
    } finally {
      await db.exec("SET timezone TO 'UTC'");
    }
  });
});
