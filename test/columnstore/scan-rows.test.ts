// Differential test of scans that print their compressed rows themselves (columnstore/pg-text.ts):
// the same statement answered with the rows printed by Orbit and through PostgreSQL (a target list
// with one more expression, which keeps the general path and its row order), compared as the exact
// bytes of every field on the wire and as the JS values of the in-process query, under random
// predicates, several time zones, DateStyles and extra_float_digits settings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit } from '../../src/orbit.js';
import { float4Text, float8Text, timestampText } from '../../src/columnstore/pg-text.js';
import type { BackendMsg } from '../support/raw-client.js';
import { startRawSession, type RawSession } from '../support/raw-session.js';
import { TEMPLATE } from '../support/server.js';
import { Prng } from '../support/prng.js';

const COLUMNS = 'time, tz2, ts, d, host, tag, v, f, n, s, b, ok, num';
const FLOATS = ["'NaN'", "'Infinity'", "'-Infinity'", "'-0'", '0', 'NULL', '1e-5', '1e15', '1e16', '1e22', '5e-324', '1.7976931348623157e308', '-2.5e-7', '123456789012345.6', '0.1', '100000'];
const FLOAT4S = ["'NaN'", "'-0'", 'NULL', '1e-5', '1e6', '123456', '1234567', '3.4028235e38', '1e-45', '0.1', '16777217', "'Infinity'"];

function setupSql(random: Prng): string[] {
  const rand = () => random.next();
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const rows: string[] = [];
  for (let i = 0; i < 3000; i++) {
    // Around the 2024-03-10 DST change in America/New_York, with fractional seconds.
    const t = `'2024-03-09 00:00:00+00'::timestamptz + ${(i * 7919) % (3 * 86400)} * INTERVAL '1 second' + ${i % 7 === 0 ? (i % 1000) * 1000 + 1 : 0} * INTERVAL '1 microsecond'`;
    const tz2 = pick(["'0044-03-15 12:00:00+00 BC'", "'12000-01-01 00:00:00.5+00'", "'infinity'", "'-infinity'", "'1900-01-01 00:00:00+00'", "'2024-03-10 07:30:00.000123+00'", 'NULL', "'1969-12-31 23:59:59.999999+00'"]);
    const ts = pick(["'4713-01-01 00:00:00 BC'", "'294276-12-31 23:59:59.999999'", "'2000-02-29 12:34:56.78'", "'infinity'", 'NULL', "'1999-12-31 23:59:59'", "'0001-01-01 00:00:00'"]);
    const d = pick(["'0001-01-01 BC'", "'5874897-12-31'", "'2024-02-29'", "'-infinity'", 'NULL', "'1970-01-01'", "'10000-01-01'"]);
    const host = pick(["'a'", "'b'", "'é日本'", 'NULL']);
    const tag = pick(["'x'", "'y z'", 'NULL', "''"]);
    // Specials, full-precision values of every magnitude, short decimals.
    const v = rand() < 0.3 ? pick(FLOATS) : rand() < 0.4 ? String((rand() - 0.5) * 10 ** Math.floor(rand() * 50 - 25)) : (rand() * 200 - 50).toFixed(Math.floor(rand() * 8));
    const f = rand() < 0.3 ? pick(FLOAT4S) : String(Math.fround(rand() * 1000 - 100));
    const n = rand() < 0.05 ? 'NULL' : pick(['2147483647', '-2147483648', String(Math.floor(rand() * 200 - 100))]);
    const s = rand() < 0.05 ? 'NULL' : pick(['32767', '-32768', String(Math.floor(rand() * 200 - 100))]);
    const b = rand() < 0.05 ? 'NULL' : pick(['9223372036854775807', '-9223372036854775808', String(Math.floor(rand() * 1e12) - 5e11)]);
    const ok = pick(['true', 'false', 'NULL']);
    const num = pick(["'1.50'", "'NaN'", "'-0.001'", "'12345678901234567890.123'", 'NULL', '0', "'Infinity'"]);
    rows.push(`(${t}, ${tz2}, ${ts}, ${d}, ${host}, ${tag}, ${v}, ${f}, ${n}, ${s}, ${b}, ${ok}, ${num})`);
  }
  return [
    `CREATE EXTENSION IF NOT EXISTS timescaledb;
     CREATE TABLE r (time timestamptz NOT NULL, tz2 timestamptz, ts timestamp, d date, host text, tag varchar(8), v float8, f real, n int, s smallint, b bigint, ok bool, num numeric);
     SELECT create_hypertable('r', 'time', chunk_time_interval => INTERVAL '1 day');`,
    `INSERT INTO r VALUES ${rows.join(', ')}`,
    `ALTER TABLE r SET (timescaledb.compress, timescaledb.compress_segmentby = 'host', timescaledb.compress_orderby = 'time DESC');
     SELECT compress_chunk(c) FROM show_chunks('r') c`,
  ];
}

const SETTINGS = [
  "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET extra_float_digits = 1",
  "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, DMY'; SET extra_float_digits = 3",
  "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET extra_float_digits = 0",
  "SET TimeZone = 'UTC'; SET DateStyle = 'SQL, DMY'; SET extra_float_digits = 1",
  "SET TimeZone = 'UTC'; SET DateStyle = 'Postgres'; SET extra_float_digits = 2",
  "SET TimeZone = 'America/New_York'; SET DateStyle = 'ISO'; SET extra_float_digits = 1",
  "SET TimeZone = 'Asia/Kolkata'; SET DateStyle = 'ISO'; SET extra_float_digits = 1",
  "SET TimeZone = 'Australia/Lord_Howe'; SET DateStyle = 'German'; SET extra_float_digits = 1",
  "SET TimeZone = 'Etc/UTC'; SET DateStyle = 'ISO'; SET extra_float_digits = -5",
];

function queries(random: Prng, count: number): string[] {
  const rand = () => random.next();
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const preds = [
    () => `v > ${(rand() * 150 - 20).toFixed(1)}`,
    () => pick(["v = 'NaN'", "v > '-Infinity'", 'v <> 0', 'v IS NULL', 'v IS NOT NULL', 'v < 1e-3']),
    () => `f ${pick(['<', '>='])} ${pick(['5::real', "'5.5'", "'NaN'::real", '2.5::float8'])}`,
    () => `n ${pick(['<', '<=', '>', '>=', '=', '<>'])} ${Math.floor(rand() * 200 - 100)}`,
    () => pick(["host = 'a'", "host IN ('b', 'é日本')", 'host IS NULL', "tag = 'x'"]),
    () => `time >= '2024-03-${pick(['09', '10', '11'])} ${String(Math.floor(rand() * 24)).padStart(2, '0')}:00'`,
    () => `time < '2024-03-${pick(['10', '11', '12'])} ${String(Math.floor(rand() * 24)).padStart(2, '0')}:30'`,
    () => pick(['ok = true', 'ok IS NULL', 'b > 0', 's < 0']),
  ];
  const targets = ['*', COLUMNS, 'v, f', 'ts, d, num, host', 'time AS "T", v AS x, r.tag', 'r.*', 'b, s, n, ok', 'tz2, f'];
  return Array.from({ length: count }, () => {
    const where = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(preds)());
    return `SELECT ${pick(targets)} FROM r WHERE ${where.join(' AND ')}`;
  });
}

/** A DataRow's fields (latin1: one character per byte; NULL as null) but its last `drop`. */
function dataRowFields(body: Uint8Array, drop: number): Array<string | null> {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const out: Array<string | null> = [];
  let p = 2;
  for (let i = 0; i < view.getInt16(0); i++) {
    const len = view.getInt32(p);
    p += 4;
    out.push(len < 0 ? null : Buffer.from(body.subarray(p, p + len)).toString('latin1'));
    if (len > 0) p += len;
  }
  return out.slice(0, out.length - drop);
}

/** The same statement kept on the general path (one more output column, dropped again). */
const general = (q: string) => q.replace(' FROM r', ', NULL::int AS orbit_zz FROM r');

describe('scan: printed rows on the wire', () => {
  let session: RawSession;
  beforeAll(async () => {
    session = await startRawSession(setupSql(new Prng(1126)));
  }, 120_000);
  afterAll(async () => {
    await session?.close();
  });

  const run = (sql: string): Promise<BackendMsg[]> => session.run(sql);
  /** Every field's bytes (latin1: one character per byte), the description without table/column, the tag. */
  const shape = (ms: BackendMsg[], drop: number) => {
    const fields = (body: Uint8Array) => dataRowFields(body, drop);
    const describe = (body: Uint8Array) => {
      const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
      const out: string[] = [];
      let p = 2;
      for (let i = 0; i < view.getInt16(0); i++) {
        const zero = body.indexOf(0, p);
        out.push(`${Buffer.from(body.subarray(p, zero)).toString('utf8')} ${view.getInt32(zero + 7)} ${view.getInt16(zero + 11)} ${view.getInt32(zero + 13)} ${view.getInt16(zero + 17)}`);
        p = zero + 19;
      }
      return out.slice(0, out.length - drop);
    };
    const tag = (body: Uint8Array) => Buffer.from(body.subarray(0, body.length - 1)).toString();
    return ms.map((m) => (m.type === 'D' ? fields(m.body) : m.type === 'T' ? describe(m.body) : m.type === 'C' ? tag(m.body) : m.type === 'E' ? `E ${Buffer.from(m.body).toString('latin1')}` : m.type));
  };

  it('sends the bytes PostgreSQL sends, in its order, under each setting', async () => {
    const random = new Prng(7);
    let rows = 0;
    for (const settings of SETTINGS) {
      expect(shape(await run(settings), 0).filter((x) => typeof x === 'string' && x.startsWith('E'))).toEqual([]);
      for (const q of queries(random, 12)) {
        const direct = shape(await run(q), 0);
        const expected = shape(await run(general(q)), 1);
        expect(direct, `${settings}: ${q}`).toEqual(expected);
        rows += direct.filter(Array.isArray).length;
      }
    }
    expect(rows).toBeGreaterThan(1000);
  }, 300_000);
});

describe('scan: printed rows in process', () => {
  let db: Orbit;
  let id: number;
  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE });
    for (const sql of setupSql(new Prng(1126))) await db.exec(sql);
    id = (await db.query<{ id: number }>("SELECT id FROM _timescaledb_catalog.hypertable WHERE table_name = 'r'")).rows[0]!.id;
  }, 120_000);
  afterAll(async () => {
    await db?.close();
  });
  /** Rows as strings keeping -0, NaN, bigint and Date apart. */
  const values = (rows: Array<Record<string, unknown>>, drop: boolean) =>
    rows.map((row) => {
      const entries = Object.entries(row).filter(([k]) => !drop || k !== 'orbit_zz');
      return entries.map(([k, v]) => `${k}=${typeof v === 'number' && Object.is(v, -0) ? '-0' : v instanceof Date ? `D${v.getTime()}` : typeof v === 'bigint' ? `${v}n` : JSON.stringify(v) ?? String(v)}`).join('|');
    });
  /**
   * Rows the scan table holds after the last statement. Printed rows leave the table alone (no
   * transaction is opened for them), so it is emptied before each statement looked at: 0 then
   * means the rows were printed. An ordered append (rows through the table) creates it first.
   */
  const tableRows = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_temp.orbit_scan_${id}`)).rows[0]!.n;
  const emptyTable = async () => {
    await db.query('SELECT * FROM r WHERE v > 0 ORDER BY time DESC LIMIT 1');
    await db.exec(`TRUNCATE pg_temp.orbit_scan_${id}`);
  };

  it('returns the values the general path returns, printing the rows itself when it can', async () => {
    const random = new Prng(11);
    let printed = 0;
    for (const settings of SETTINGS) {
      await db.exec(settings);
      for (const q of queries(random, 10)) {
        await emptyTable();
        const direct = await db.query(q);
        const took = (await tableRows()) === 0 && direct.rows.length > 0;
        const expected = await db.query(general(q));
        expect(values(direct.rows, false), `${settings}: ${q}`).toEqual(values(expected.rows, true));
        expect(direct.fields, q).toEqual(expected.fields.slice(0, -1));
        if (took) printed++;
        // UTC, ISO, extra_float_digits > 0: always printed (when there are rows).
        if (settings.includes("'UTC'; SET DateStyle = 'ISO, MDY'") && direct.rows.length > 0) expect(took, q).toBe(true);
        if (/extra_float_digits = (0|-5)|SQL|Postgres|German/.test(settings)) expect(took, q).toBe(false);
      }
    }
    expect(printed).toBeGreaterThan(10);
  }, 300_000);

  it('opens no transaction for printed rows: the scan table is left as it was', async () => {
    await db.exec("SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET extra_float_digits = 1");
    // An ordered append passes its rows through the table (TRUNCATE, COPY, COMMIT).
    await db.query('SELECT * FROM r WHERE v > 0 ORDER BY time DESC LIMIT 1');
    const before = await tableRows();
    expect(before).toBeGreaterThan(0);
    const q = "SELECT * FROM r WHERE v > 90 AND time >= '2024-03-10' AND time < '2024-03-11'";
    const direct = await db.query(q);
    expect(direct.rows.length).toBeGreaterThan(0);
    expect(await tableRows()).toBe(before);
    expect(values(direct.rows, false)).toEqual(values((await db.query(general(q))).rows, true));
  });

  it('adds the rowstore rows of a partly compressed chunk before the printed ones', async () => {
    await db.exec("SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET extra_float_digits = 1");
    await db.exec("INSERT INTO r (time, v, f, host) VALUES ('2024-03-10 12:00:00.5+00', 99.5, 1.5, 'late'), ('2024-03-10 12:00:01+00', 'NaN', NULL, 'late')");
    const q = "SELECT * FROM r WHERE v > 90 AND time >= '2024-03-10' AND time < '2024-03-11'";
    await emptyTable();
    const direct = await db.query(q);
    expect(await tableRows()).toBe(0);
    expect(values(direct.rows, false)).toEqual(values((await db.query(general(q))).rows, true));
    expect(direct.rows.filter((r) => r.host === 'late')).toHaveLength(2);
    await db.exec("DELETE FROM r WHERE host = 'late'");
  });
});

describe('pg-text formatting', () => {
  it('lays out floats and times as PostgreSQL does', () => {
    expect([1e-5, 1e15, 1e16, 1e22, 5e-324, 1.7976931348623157e308, 1e14, 0.0001, -0, 123.456, -1.5e-7].map(float8Text)).toEqual(['1e-05', '1e+15', '1e+16', '1e+22', '5e-324', '1.7976931348623157e+308', '100000000000000', '0.0001', '-0', '123.456', '-1.5e-07']);
    expect([1e6, 123456, 1234567, 0.1, 1e-45, 3.4028234663852886e38].map((x) => float4Text(Math.fround(x)))).toEqual(['1e+06', '123456', '1.234567e+06', '0.1', '1e-45', '3.4028235e+38']);
    expect(timestampText(0n, '+00')).toBe('2000-01-01 00:00:00+00');
    expect(timestampText(-63_200_000_000_000_000n, '')).toMatch(/ BC$/);
  });
});

/**
 * Batches whose filter keeps some rows decode the other columns at those rows only
 * (BatchColumns.readAt: frame-of-reference decimals read value by value, columns with NULLs decoded
 * whole and taken); batches where every row or no row passes too. Compared with the general path
 * on the wire (bytes) and in process (values).
 */
describe('scan: columns decoded at the rows passed', () => {
  const setup = (): string[] => {
    const random = new Prng(2024);
    const rows: string[] = [];
    for (let i = 0; i < 2400; i++) {
      const host = `h${i % 6}`;
      const t = `'2024-01-01 00:00:00+00'::timestamptz + ${Math.floor(i / 6) * 10} * INTERVAL '1 second'`;
      // Six-place decimals (frame of reference, as TSBS's); w NULL now and then, only on h1; k never NULL.
      const u = (random.int(100_000_000) / 1e6).toFixed(6);
      const w = host === 'h1' && random.chance(0.1) ? 'NULL' : (random.int(1_000_000) / 1e4).toFixed(4);
      // h2's u is always above 50 (every row of its batches passes `u > 50`); h3's lies below 10 or
      // above 90 (its batches' min and max keep them for `u > 20 AND u < 80`, which no row meets).
      const u2 = host === 'h2' ? String(50.5 + Number(u) / 4) : host === 'h3' ? String(Number(u) < 50 ? Number(u) / 5 : 90 + Number(u) / 10) : u;
      const k = random.int(1000) - 500;
      const big = random.int(1_000_000) * 1_000_003 - 7;
      const note = random.pick(["'a'", "'bé'", 'NULL']);
      // z: NULL-free with NaN, ±Infinity and -0 among decimals (filtered as it is decoded).
      const z = random.chance(0.1) ? random.pick(["'NaN'", "'Infinity'", "'-Infinity'", "'-0'", '0']) : (random.int(2_000_000) / 1e4 - 100).toFixed(4);
      rows.push(`(${t}, '${host}', ${u2}, ${w}, ${k}, ${big}, ${note}, ${(random.int(2000) / 8 - 100).toFixed(3)}::real, ${z})`);
    }
    return [
      `CREATE EXTENSION IF NOT EXISTS timescaledb;
       CREATE TABLE m (time timestamptz NOT NULL, host text, u float8, w float8, k int, big bigint, note text, r real, z float8 NOT NULL);
       SELECT create_hypertable('m', 'time', chunk_time_interval => INTERVAL '1 hour');`,
      `INSERT INTO m VALUES ${rows.join(', ')}`,
      // The same rows in a plain table: what PostgreSQL itself answers (the general path shares the scan's filter).
      'CREATE TABLE m_plain AS SELECT * FROM m',
      `ALTER TABLE m SET (timescaledb.compress, timescaledb.compress_segmentby = 'host', timescaledb.compress_orderby = 'time');
       SELECT compress_chunk(c) FROM show_chunks('m') c`,
      "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET extra_float_digits = 1",
    ];
  };
  const QUERIES = [
    'SELECT * FROM m WHERE u > 50',
    'SELECT * FROM m WHERE u > 90 AND time >= \'2024-01-01 00:20\' AND time < \'2024-01-01 03:10\'',
    'SELECT time, w, big, note, r FROM m WHERE u < 3.5',
    'SELECT * FROM m WHERE u > 20 AND u < 80',
    'SELECT u, k, w FROM m WHERE w > 95 AND u > 10',
    'SELECT * FROM m WHERE u >= 0',
    'SELECT * FROM m WHERE r > 100',
    'SELECT * FROM m WHERE z > 90',
    'SELECT time, z, u FROM m WHERE z >= 0',
    'SELECT z FROM m WHERE z < -99.5',
    'SELECT z, host FROM m WHERE z <= 0 AND time < \'2024-01-01 02:00\'',
    "SELECT * FROM m WHERE z > 'Infinity'",
  ];
  const general = (q: string) => q.replace(' FROM m', ', NULL::int AS orbit_zz FROM m');

  it('sends the bytes PostgreSQL sends', async () => {
    const session = await startRawSession(setup());
    try {
      const fields = (ms: BackendMsg[], drop: number) => ms.filter((m) => m.type === 'D').map((m) => dataRowFields(m.body, drop).join('|'));
      let total = 0;
      for (const q of QUERIES) {
        const direct = fields(await session.run(q), 0);
        expect(direct, q).toEqual(fields(await session.run(general(q)), 1));
        expect([...direct].sort(), q).toEqual(fields(await session.run(q.replace(' FROM m', ' FROM m_plain')), 0).sort());
        total += direct.length;
      }
      expect(total).toBeGreaterThan(2000);
      // h3's batches pass no row; the NULLs of w are among the rows.
      expect(fields(await session.run("SELECT * FROM m WHERE host = 'h3' AND u > 20 AND u < 80"), 0)).toEqual([]);
      expect(fields(await session.run("SELECT w FROM m WHERE u > 20 AND host = 'h1'"), 0)).toContain('');
    } finally {
      await session.close();
    }
  }, 120_000);

  it('gives the values the general path and a plain table give, in process', async () => {
    const db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE });
    try {
      for (const sql of setup()) await db.exec(sql);
      const show = (rows: Array<Record<string, unknown>>) =>
        rows.map((row) => Object.entries(row).filter(([k]) => k !== 'orbit_zz').map(([k, v]) => `${k}=${v instanceof Date ? v.getTime() : String(v)}`).join('|'));
      for (const q of QUERIES) {
        const direct = show((await db.query(q)).rows);
        expect(direct, q).toEqual(show((await db.query(general(q))).rows));
        expect([...direct].sort(), q).toEqual(show((await db.query(q.replace(' FROM m', ' FROM m_plain'))).rows).sort());
      }
    } finally {
      await db.close();
    }
  }, 120_000);
});
