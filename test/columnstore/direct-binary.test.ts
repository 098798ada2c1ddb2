// Binary COPY into a direct-to-columnstore hypertable, read by Orbit (columnstore/pg-binary.ts
// receiveCopyTuples): the same bytes COPYed into the hypertable and into a plain table read back
// identically; every error is PostgreSQL's own (SQLSTATE, message, detail, line) and leaves nothing;
// pieces Orbit reads never reach PostgreSQL's staging table, and what it does not read does.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorFields, msg, RawClient, type BackendMsg } from '../support/raw-client.js';
import { countRoundTrips } from '../support/round-trips.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { Prng } from '../support/prng.js';
import { PieceReader } from '../../src/session/direct-ingest/read.js';

const COLUMNS = 'time timestamptz NOT NULL, dev int4, tag text, v float8, f float4, b bool, d date, ts timestamp, big int8, s int2, vc varchar';
const NAMES = ['time', 'dev', 'tag', 'v', 'f', 'b', 'd', 'ts', 'big', 's', 'vc'];
const direct = (name: string, columns = COLUMNS) =>
  `CREATE TABLE ${name} (${columns}) WITH (timescaledb.hypertable, timescaledb.partition_column = 'time', timescaledb.chunk_interval = '1 day', timescaledb.segmentby = 'dev')`;

type Field = Uint8Array | null;
const be = (size: number, set: (v: DataView) => void): Uint8Array => {
  const b = new Uint8Array(size);
  set(new DataView(b.buffer));
  return b;
};
const i2 = (n: number) => be(2, (v) => v.setInt16(0, n));
const i4 = (n: number) => be(4, (v) => v.setInt32(0, n));
const i8 = (n: bigint) => be(8, (v) => v.setBigInt64(0, n));
const f4 = (n: number) => be(4, (v) => v.setFloat32(0, n));
const f8 = (n: number) => be(8, (v) => v.setFloat64(0, n));
const utf8 = (s: string) => new TextEncoder().encode(s);
/** µs since 2000-01-01 of an ISO time. */
const micros = (iso: string) => (BigInt(Date.parse(iso)) - 946_684_800_000n) * 1000n;
const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00];
const MIN_TS = -211813488000000000n;
const END_TS = 9223371331200000000n;
const INT64_MAX = (1n << 63n) - 1n;

function header(flags = 0, extension = new Uint8Array(0)): Uint8Array {
  return Uint8Array.from([...SIGNATURE, ...i4(flags), ...i4(extension.length), ...extension]);
}

function tuples(rows: readonly Field[][]): Uint8Array {
  const parts: number[] = [];
  for (const row of rows) {
    parts.push(...i2(row.length));
    for (const f of row) parts.push(...(f === null ? i4(-1) : [...i4(f.length), ...f]));
  }
  return Uint8Array.from(parts);
}

function file(rows: readonly Field[][], trailer = true): Uint8Array {
  return concat([header(), tuples(rows), trailer ? i2(-1) : new Uint8Array(0)]);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

/** Random rows of every type Orbit reads, with the edge values each type's receive function accepts. */
function randomRows(n: number, seed: number): Field[][] {
  const prng = new Prng(seed);
  const r = () => prng.next();
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const nan = be(8, (v) => v.setBigUint64(0, 0x7ff8_0000_0000_0001n)); // a NaN with a payload
  const floats = [f8(NaN), f8(Infinity), f8(-Infinity), f8(-0), f8(5e-324), f8(1.7976931348623157e308), nan, f8(1.5)];
  const floats4 = [f4(NaN), f4(Infinity), f4(-Infinity), f4(-0), f4(1.401298464324817e-45), f4(3.4028234663852886e38), f4(0.1)];
  const texts = ['plain', '', 'ünïcode', '日本語', '🚀 rocket', 'tab\there', 'line\nbreak', 'back\\slash', 'quote"d'];
  const times = [-(1n << 63n), INT64_MAX, MIN_TS, END_TS - 1n, 0n, micros('1999-12-31T23:59:59.999Z')];
  const dates = [-0x80000000, 0x7fffffff, -2451545, 2147483494 - 2451545 - 1, 0];
  const base = micros('2024-03-08T00:00:00Z');
  const rows: Field[][] = [];
  for (let i = 0; i < n; i++) {
    const maybe = (f: () => Uint8Array, p = 0.1): Field => (r() < p ? null : f());
    rows.push([
      i8(base + BigInt(Math.floor(r() * 4 * 86_400e6))),
      maybe(() => i4(Math.floor(r() * 7) - 3), 0.05),
      maybe(() => utf8(pick(texts) + (i % 50))),
      maybe(() => (r() < 0.3 ? pick(floats) : f8((r() - 0.5) * 10 ** Math.floor(r() * 12 - 4)))),
      maybe(() => (r() < 0.3 ? pick(floats4) : f4(r() * 1000))),
      maybe(() => Uint8Array.of(pick([0, 1, 2, 255]))),
      maybe(() => i4(r() < 0.2 ? pick(dates) : Math.floor((r() - 0.5) * 20_000))),
      maybe(() => i8(r() < 0.2 ? pick(times) : base + BigInt(Math.floor((r() - 0.5) * 1e15)))),
      maybe(() => i8(r() < 0.1 ? pick([-(1n << 63n), INT64_MAX]) : BigInt(Math.floor((r() - 0.5) * 2 ** 52)) * 1000n)),
      maybe(() => i2(r() < 0.1 ? pick([-32768, 32767]) : Math.floor((r() - 0.5) * 1000))),
      maybe(() => utf8(pick(texts))),
    ]);
  }
  return rows;
}

describe('binary COPY into a direct-to-columnstore hypertable', { timeout: 240_000 }, () => {
  let server: TestServer;
  let client: pg.Client;
  let raw: RawClient;
  /** Round trips that COPY into the staging table (PostgreSQL reading a piece), since the last call. */
  let staged: () => number;
  /** The largest piece PostgreSQL read (with its messages) since `both` began. */
  let stagedBytes = 0;
  const asText = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;
  const rowsOf = async (table: string) =>
    (await client.query({ text: `SELECT ${NAMES.join(', ')} FROM ${table} ORDER BY ${NAMES.join(', ')}`, types: asText, rowMode: 'array' })).rows;
  const count = async (table: string) => Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  const heapRows = async (table: string) =>
    Number((await client.query(`SELECT coalesce(sum((xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM ONLY %s', c), false, true, '')))[1]::text::int), 0) AS n FROM show_chunks('${table}') c`)).rows[0].n);

  /** COPYs `messages` (CopyData bodies) into `table` over the raw client; the answer up to ReadyForQuery. */
  const copy = async (table: string, messages: readonly Uint8Array[], columns = '', options = ''): Promise<BackendMsg[]> => {
    raw.send(msg('Q', (w) => w.cstring(`COPY ${table}${columns} FROM STDIN (FORMAT binary${options})`)));
    const start = await raw.until('G');
    if (start.at(-1)?.type !== 'G') return start;
    raw.send(concat(messages.map((m) => msg('d', (w) => w.bytes(m)))));
    raw.send(msg('c'));
    return raw.until('Z', 60_000);
  };
  /** The answer's error fields PostgreSQL sets (the table name made `T`), or the command tag. */
  const outcome = (answer: BackendMsg[], table: string) => {
    const e = answer.find((m) => m.type === 'E');
    if (!e) return new TextDecoder().decode(answer.find((m) => m.type === 'C')?.body).replace(/\0$/, '');
    const f = errorFields(e);
    const name = (s: string | undefined) => s?.replace(new RegExp(`\\b${table}\\b`, 'g'), 'T');
    return { C: f.C, M: name(f.M), D: name(f.D), W: name(f.W), S: f.S };
  };
  /** The same bytes into the hypertable and the plain table: both answers (table names as `T`). */
  const both = async (d: string, p: string, messages: readonly Uint8Array[], columns = '', options = '') => {
    staged();
    stagedBytes = 0;
    const got = outcome(await copy(d, messages, columns, options), d);
    const stagedPieces = staged();
    const want = outcome(await copy(p, messages, columns, options), p);
    return { got, want, stagedPieces };
  };

  beforeAll(async () => {
    // The reader thread from the start: pieces of the first COPYs are read there too.
    server = await startTestServer({ copyThreadsAtOpen: true });
    client = new pg.Client({ connectionString: server.url });
    await client.connect();
    await client.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
    raw = await RawClient.ready(server.port);
    staged = countRoundTrips(server.orbit, (m) => {
      const hit = Buffer.from(m.buffer, m.byteOffset, m.byteLength).includes('COPY orbit_direct_copy FROM');
      if (hit) stagedBytes = Math.max(stagedBytes, m.length);
      return hit;
    });
  });
  afterAll(async () => {
    raw?.close();
    await client?.end();
    await server?.close();
  });

  it('reads every type Orbit stores as PostgreSQL does, over several pieces, without PostgreSQL', async () => {
    await client.query(`${direct('b1')}; CREATE TABLE p1 (${COLUMNS})`);
    // > 4 MiB: pieces cut inside CopyData messages of an odd size, some read on the reader thread.
    const data = file(randomRows(120_000, 1));
    expect(data.length).toBeGreaterThan(8 << 20);
    const messages: Uint8Array[] = [];
    for (let i = 0; i < data.length; i += 65_537) messages.push(data.subarray(i, i + 65_537));
    // Pieces of about 4 MiB, whichever thread reads them (the main thread reads some, and all its
    // pieces pass here; a piece read on the reader thread that was not yet routed must not leave the
    // rest uncut).
    const parse = PieceReader.prototype.parse;
    let largest = 0;
    PieceReader.prototype.parse = function (this: PieceReader, piece: Uint8Array, first: boolean) {
      largest = Math.max(largest, piece.length);
      return parse.call(this, piece, first);
    };
    const { got, want, stagedPieces } = await both('b1', 'p1', messages).finally(() => (PieceReader.prototype.parse = parse));
    expect(largest).toBeLessThan(5 << 20);
    expect(got).toBe('COPY 120000');
    expect(want).toBe('COPY 120000');
    expect(stagedPieces).toBe(0);
    expect(await heapRows('b1')).toBe(0);
    expect(await rowsOf('b1')).toEqual(await rowsOf('p1'));
    // A column list in another order, a column left out (NULL).
    await client.query(`${direct('b1c')}; CREATE TABLE p1c (${COLUMNS})`);
    const listed = randomRows(500, 2).map((r) => [r[3]!, r[0]!, r[2]!]);
    const r2 = await both('b1c', 'p1c', [file(listed)], ' (v, time, tag)');
    expect(r2).toMatchObject({ got: 'COPY 500', want: 'COPY 500', stagedPieces: 0 });
    expect(await rowsOf('b1c')).toEqual(await rowsOf('p1c'));
  });

  it('reads tuples split across CopyData messages anywhere', async () => {
    await client.query(`${direct('b2')}; CREATE TABLE p2 (${COLUMNS})`);
    const rows = randomRows(3, 3);
    const data = file(rows);
    // Every message one byte long, then every two-message split.
    const bytes = Array.from(data, (b) => Uint8Array.of(b));
    expect(await both('b2', 'p2', bytes)).toMatchObject({ got: 'COPY 3', want: 'COPY 3', stagedPieces: 0 });
    for (let k = 1; k < data.length; k++) {
      const { got, stagedPieces } = await both('b2', 'p2', [data.subarray(0, k), data.subarray(k)]);
      expect([k, got, stagedPieces]).toEqual([k, 'COPY 3', 0]);
    }
    expect(await count('b2')).toBe(3 * data.length);
    expect(await rowsOf('b2')).toEqual(await rowsOf('p2'));
  });

  it('accepts the headers and ends PostgreSQL accepts', async () => {
    await client.query(`${direct('b3')}; CREATE TABLE p3 (${COLUMNS})`);
    const body = tuples(randomRows(20, 4));
    const cases: Uint8Array[][] = [
      [header(0x0000_ffff), body, i2(-1)], // non-critical flags
      [header(0, utf8('extension!')), body, i2(-1)], // a header extension, skipped
      [header(), body], // no trailer
      [header()], // no tuples
    ];
    for (const messages of cases) {
      const r = await both('b3', 'p3', messages);
      expect(r.got).toEqual(r.want);
      expect(r.stagedPieces).toBe(0);
    }
    expect(await rowsOf('b3')).toEqual(await rowsOf('p3'));
  });

  it("gives PostgreSQL's errors with its line numbers, deep in a multi-piece stream too, and leaves nothing", async () => {
    await client.query(`${direct('e1')}; CREATE TABLE e1p (${COLUMNS})`);
    const rows = randomRows(60_000, 5);
    const good = randomRows(1, 6)[0]!;
    /** The rows with row `line` (1-based) made `row`. */
    const at = (line: number, row: Field[]) => rows.map((r, i) => (i === line - 1 ? row : r));
    const set = (col: number, f: Field) => good.map((g, i) => (i === col ? f : g));
    const cases: Array<[string, Uint8Array[]]> = [
      ['bad signature', [Uint8Array.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x58]), file(rows.slice(0, 10)).subarray(6)]], // "PGCOPX"
      ['OIDs', [header(1 << 16), tuples(rows.slice(0, 10)), i2(-1)]],
      ['critical flag', [header(1 << 17), tuples(rows.slice(0, 10)), i2(-1)]],
      ['negative extension length', [concat([Uint8Array.from(SIGNATURE), i4(0), i4(-1)])]],
      ['empty', []],
      ['field count', [file(at(55_001, good.slice(0, 10)))]],
      ['field count, first row', [file(at(1, [...good, good[0]!]))]],
      ['data after the trailer', [file(rows.slice(0, 1000)), Uint8Array.of(0)]],
      ['data after the trailer, same message', [concat([file(rows.slice(0, 1000)), tuples(rows.slice(0, 1))])]],
      ['data after the trailer, > 4 MiB', [concat([file(rows), tuples(rows.slice(0, 1000))])]],
      ['int4 too short', [file(at(41_234, set(1, i2(1))))]],
      ['int4 too long', [file(at(41_234, set(1, i8(1n))))]],
      ['int2 too long', [file(at(3, set(9, i4(1))))]],
      ['int8 too short', [file(at(50_000, set(8, i4(1))))]],
      ['float8 too short', [file(at(20_000, set(3, f4(1))))]],
      ['float4 too long', [file(at(20_000, set(4, f8(1))))]],
      ['bool of two bytes', [file(at(7, set(5, Uint8Array.of(1, 0))))]],
      ['bool of no bytes', [file(at(7, set(5, new Uint8Array(0))))]],
      ['timestamptz at END_TIMESTAMP', [file(at(30_000, set(0, i8(END_TS))))]],
      ['timestamp below MIN_TIMESTAMP', [file(at(30_000, set(7, i8(MIN_TS - 1n))))]],
      ['timestamp past the end', [file(at(30_001, set(7, i8(INT64_MAX - 1n))))]],
      ['date past the end', [file(at(59_999, set(6, i4(2147483494 - 2451545))))]],
      ['date before the start', [file(at(59_999, set(6, i4(-2451546))))]],
      ['text not UTF-8', [file(at(45_000, set(2, Uint8Array.of(0x61, 0xc3, 0x28))))]],
      ['text with a surrogate', [file(at(45_000, set(10, Uint8Array.of(0xed, 0xa0, 0x80))))]],
      ['text with NUL', [file(at(45_000, set(2, Uint8Array.of(0x61, 0, 0x62))))]],
      ['NULL time', [file(at(33_333, set(0, null)))]],
      ['field size -2', [concat([file(rows.slice(0, 5), false), i2(11), i4(-2)])]],
      ['truncated tuple', [file(rows.slice(0, 5000), false).subarray(0, -3)]],
      ['stray byte', [file(rows.slice(0, 5), false), Uint8Array.of(0)]],
    ];
    for (const [name, messages] of cases) {
      const r = await both('e1', 'e1p', messages);
      if (process.env.ORBIT_SHOW_ERRORS) console.log(name, JSON.stringify(r.got));
      expect([name, r.got]).toEqual([name, r.want]);
      // PostgreSQL read the piece with the error (except where it accepts what it finds).
      if (typeof r.want === 'object') expect([name, r.stagedPieces]).toEqual([name, 1]);
      // Pieces are cut at about 4 MiB (the first one too, read on the reader thread or not).
      expect(stagedBytes).toBeLessThan(5 << 20);
      expect(await count('e1')).toBe(await count('e1p'));
    }
    // Options binary COPY does not take: PostgreSQL's error (through the row store path).
    for (const options of [', HEADER', ", DELIMITER ','", ", NULL ''", ", QUOTE '\"'"]) {
      const r = await both('e1', 'e1p', [file(rows.slice(0, 10))], '', options);
      expect([options, r.got]).toEqual([options, r.want]);
      expect(r.got).toMatchObject({ S: 'ERROR' });
    }
    // The errors were PostgreSQL's (not a generic 22P04 of Orbit's).
    expect(await count('e1')).toBeLessThan(100);
  });

  it('hands PostgreSQL the pieces of types and columns Orbit does not read', async () => {
    const cols = 'time timestamptz NOT NULL, dev int4, n numeric, vc varchar(4)';
    await client.query(`${direct('n1', cols)}; CREATE TABLE n1p (${cols}); ${direct('n2', cols)}; CREATE TABLE n2p (${cols})`);
    const num = (digits: number[], weight: number) => concat([i2(digits.length), i2(weight), i2(0), i2(2), ...digits.map(i2)]);
    const rows: Field[][] = Array.from({ length: 100 }, (_, i) => [i8(micros('2024-03-08T00:00:00Z') + BigInt(i) * 60_000_000n), i4(i), num([1, 2345], 0), utf8('ab')]);
    const r = await both('n1', 'n1p', [file(rows)]);
    expect(r).toMatchObject({ got: 'COPY 100', want: 'COPY 100', stagedPieces: 1 });
    expect((await client.query('SELECT n::text, vc FROM n1 ORDER BY time LIMIT 1')).rows).toEqual((await client.query('SELECT n::text, vc FROM n1p ORDER BY time LIMIT 1')).rows);
    // varchar(4): PostgreSQL's length check.
    const long = rows.map((row, i) => (i === 50 ? [row[0]!, row[1]!, row[2]!, utf8('abcde')] : row));
    const e = await both('n2', 'n2p', [file(long)]);
    expect(e.got).toEqual(e.want);
    expect(e.got).toMatchObject({ C: '22001' });
    expect(await count('n2')).toBe(0);
  });
});
