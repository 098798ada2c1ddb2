// Direct-to-columnstore COPY through real clients: the same data COPYed into a hypertable created
// WITH (timescaledb.hypertable) and into a plain table must read back identically; errors carry
// PostgreSQL's SQLSTATE, message and line; failures and rollbacks leave nothing; an acknowledged
// COPY survives SIGKILL and an interrupted one leaves no rows.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyIn, pieces, psqlCopy } from '../support/copy-in.js';
import { startChildServer, startTestServer, tempDir, type TestServer } from '../support/server.js';

const COLUMNS = 'time timestamptz NOT NULL, dev int, tag text, v float8, n numeric, b bool, d date, ts timestamp, big int8';
const NAMES = ['time', 'dev', 'tag', 'v', 'n', 'b', 'd', 'ts', 'big'];
const direct = (name: string, extra = "timescaledb.segmentby = 'dev'") =>
  `CREATE TABLE ${name} (${COLUMNS}) WITH (timescaledb.hypertable, timescaledb.partition_column = 'time', timescaledb.chunk_interval = '1 day', ${extra})`;

/** Deterministic PRNG (mulberry32) so a failure can be reproduced. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Field = string | null;

/** Random rows as field texts (null = SQL NULL), spread over several days around a DST change. */
function randomRows(n: number, seed: number, offsets: boolean): Field[][] {
  const r = rng(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const floats = ['NaN', 'Infinity', '-Infinity', '-0', '0', '1e308', '4.9e-324', '1.5', '-2.25e-7', '123456789.123456789', '1.'];
  const texts = ['plain', 'with,comma', 'with\ttab', 'quote"d', 'line\nbreak', '', 'back\\slash', 'ünïcode', ' spaced '];
  const rows: Field[][] = [];
  const base = Date.parse('2024-03-08T00:00:00Z');
  for (let i = 0; i < n; i++) {
    const ms = base + Math.floor(r() * 5 * 86_400_000);
    const iso = new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
    const frac = r() < 0.3 ? `.${String(Math.floor(r() * 1e6)).padStart(6, '0').slice(0, 1 + Math.floor(r() * 6))}` : '';
    const whole = iso.slice(0, 19) + frac;
    const zone = offsets ? pick(['+00', '-05', '+05:30', 'Z', '-0800', '+01:00']) : '';
    const v = r() < 0.1 ? null : r() < 0.3 ? pick(floats) : String((r() - 0.5) * 10 ** Math.floor(r() * 12 - 4));
    const scale = Math.floor(r() * 5);
    const num = r() < 0.1 ? null : ((r() - 0.5) * 10 ** Math.floor(r() * 8)).toFixed(scale);
    rows.push([
      zone ? whole + zone : whole,
      r() < 0.05 ? null : String(Math.floor(r() * 7)),
      r() < 0.1 ? null : pick(texts) + i,
      v,
      num === '-0' ? '0' : num,
      r() < 0.2 ? null : pick(['t', 'f', 'true', 'false']),
      r() < 0.1 ? null : iso.slice(0, 10),
      r() < 0.1 ? null : whole,
      r() < 0.1 ? null : String(BigInt(Math.floor((r() - 0.5) * 2 ** 52)) * 1000n),
    ]);
  }
  return rows;
}

function csv(rows: Field[][]): string {
  const quote = (f: Field) => (f === null ? '' : /[",\n]/.test(f) || f === '' ? `"${f.replace(/"/g, '""')}"` : f);
  return rows.map((row) => row.map(quote).join(',') + '\n').join('');
}

function text(rows: Field[][]): string {
  const esc = (f: Field) => (f === null ? '\\N' : f.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n'));
  return rows.map((row) => row.map(esc).join('\t') + '\n').join('');
}

describe('direct-to-columnstore COPY', { timeout: 240_000 }, () => {
  let server: TestServer;
  let client: pg.Client;
  let sql: postgres.Sql;
  /** Every value as PostgreSQL's text output. */
  const asText = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;
  const rowsOf = async (table: string) =>
    (await client.query({ text: `SELECT ${NAMES.join(', ')} FROM ${table} ORDER BY ${NAMES.join(', ')}`, types: asText, rowMode: 'array' })).rows;
  const aggregatesOf = async (table: string) =>
    (
      await client.query({
        text: `SELECT count(*), count(v), sum(n), min(time), max(time), count(DISTINCT tag), sum(big), count(*) FILTER (WHERE b), min(ts), max(d) FROM ${table}`,
        types: asText,
        rowMode: 'array',
      })
    ).rows;
  const heapRows = async (table: string) =>
    Number((await client.query(`SELECT coalesce(sum((xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM ONLY %s', c), false, true, '')))[1]::text::int), 0) AS n FROM show_chunks('${table}') c`)).rows[0].n);
  const compressedAll = async (table: string) =>
    (await client.query(`SELECT bool_and(is_compressed) AS all, count(*)::int AS n FROM timescaledb_information.chunks WHERE hypertable_name = '${table}'`)).rows[0];

  beforeAll(async () => {
    server = await startTestServer();
    client = new pg.Client({ connectionString: server.url });
    await client.connect();
    await client.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
    sql = postgres(server.url, { max: 1, onnotice: () => undefined });
  });
  afterAll(async () => {
    await sql?.end();
    await client?.end();
    await server?.close();
  });

  it('reads CSV (quoted fields, HEADER, NULLs, special floats, UTC) exactly as PostgreSQL does', async () => {
    await client.query(`${direct('d1')}; CREATE TABLE p1 (${COLUMNS})`);
    const rows = randomRows(20_000, 1, true);
    const data = `${NAMES.join(',')}\n${csv(rows)}`;
    await sql`SET TIME ZONE 'UTC'`;
    await copyIn(sql, 'COPY d1 FROM STDIN (FORMAT csv, HEADER)', data);
    await copyIn(sql, 'COPY p1 FROM STDIN (FORMAT csv, HEADER)', data);
    expect(await rowsOf('d1')).toEqual(await rowsOf('p1'));
    expect(await aggregatesOf('d1')).toEqual(await aggregatesOf('p1'));
    const state = await compressedAll('d1');
    expect(state.all).toBe(true);
    expect(state.n).toBeGreaterThan(4);
    expect(await heapRows('d1')).toBe(0);
  });

  it('checks a HEADER MATCH line as PostgreSQL does: loads on a match, 22P04 and nothing loaded otherwise', async () => {
    await client.query(`${direct('hm')}; CREATE TABLE hmp (${COLUMNS})`);
    // Canonical values: Orbit reads the rows itself.
    const rows: Field[][] = Array.from({ length: 2_000 }, (_, i) => {
      const day = `2024-03-${String(8 + (i % 3)).padStart(2, '0')}`;
      const time = `${day} 00:00:${String(i % 60).padStart(2, '0')}`;
      return [`${time}+00`, String(i % 7), `tag_${i % 5}`, `${i}.5`, '1.25', 't', day, time, String(i)];
    });
    const count = async () => (await client.query('SELECT count(*)::int AS n FROM hm')).rows[0].n;
    const header = (names: string[], delimiter: string) => names.join(delimiter) + '\n';
    await copyIn(sql, 'COPY hm FROM STDIN (FORMAT csv, HEADER MATCH)', header(NAMES, ',') + csv(rows));
    // A quoted name: PostgreSQL reads the whole first piece, header and all.
    await copyIn(sql, 'COPY hm FROM STDIN (FORMAT csv, HEADER MATCH)', header(['"time"', ...NAMES.slice(1)], ',') + csv(rows));
    await copyIn(sql, 'COPY hm FROM STDIN (FORMAT text, HEADER MATCH)', header(NAMES, '\t') + text(rows));
    expect(await count()).toBe(6_000);
    expect((await compressedAll('hm')).all).toBe(true);
    expect(await heapRows('hm')).toBe(0);
    const swapped = [NAMES[0]!, NAMES[2]!, NAMES[1]!, ...NAMES.slice(3)];
    const mismatches: Array<[string, string, string]> = [
      ['csv', header(['wrong', ...NAMES.slice(1)], ',') + csv(rows), 'column name mismatch in header line field 1: got "wrong", expected "time"'],
      ['csv', header(NAMES.slice(0, 2), ',') + csv(rows), 'wrong number of fields in header line: got 2, expected 9'],
      ['text', header(swapped, '\t') + text(rows), 'column name mismatch in header line field 2: got "tag", expected "dev"'],
    ];
    // psql's client encoding follows the locale: UTF8, for Orbit to read the rows.
    const url = `${server.url}?client_encoding=UTF8`;
    for (const [format, data, message] of mismatches) {
      const got = await psqlCopy(url, `COPY hm FROM STDIN (FORMAT ${format}, HEADER MATCH)`, data);
      const want = await psqlCopy(url, `COPY hmp FROM STDIN (FORMAT ${format}, HEADER MATCH)`, data);
      expect(got.stderr).toContain(`ERROR:  22P04: ${message}`);
      expect(got.stderr.replace(/\bhm\b/g, 'T')).toBe(want.stderr.replace(/\bhmp\b/g, 'T'));
    }
    expect(await count()).toBe(6_000);
  });

  it('reads canonical rows from the bytes as PostgreSQL does: quoted fields mid-row, NULLs, a long first row, other delimiters and NULL strings', async () => {
    await client.query(`${direct('d9')}; CREATE TABLE p9 (${COLUMNS})`);
    const r = rng(9);
    const base = Date.parse('2024-03-08T00:00:00Z');
    // Spellings the byte parsers read (plus, now and then, one a CSV quote or the text parser takes).
    const canonical = (i: number): Field[] => {
      const iso = new Date(base + Math.floor(r() * 3 * 86_400_000)).toISOString();
      return [
        r() < 0.5 ? iso : iso.replace('T', ' ').replace('Z', r() < 0.5 ? '+05:30' : ''),
        r() < 0.05 ? null : String(Math.floor(r() * 7) - 3),
        r() < 0.05 ? null : r() < 0.02 ? `quoted,${i}` : `tag_${Math.floor(r() * 20)}${r() < 0.1 ? 'ü' : ''}`,
        r() < 0.05 ? null : r() < 0.05 ? '1e-3' : ((r() - 0.5) * 10 ** Math.floor(r() * 8)).toFixed(Math.floor(r() * 7)),
        r() < 0.1 ? null : (r() * 1000).toFixed(2),
        r() < 0.1 ? null : r() < 0.5 ? 't' : 'false',
        r() < 0.1 ? null : iso.slice(0, 10),
        r() < 0.1 ? null : iso.slice(0, 19).replace('T', ' '),
        r() < 0.1 ? null : String(Math.floor((r() - 0.5) * 2 ** 50)),
      ];
    };
    const rows = Array.from({ length: 30_000 }, (_, i) => canonical(i));
    // A first row far longer than the rest: the column buffers, sized from it, must grow.
    rows[0]![2] = 'x'.repeat(3000);
    await sql`SET TIME ZONE 'UTC'`;
    const data = csv(rows);
    for (const t of ['d9', 'p9']) await copyIn(sql, `COPY ${t} FROM STDIN (FORMAT csv)`, data);
    const semicolons = rows.slice(0, 5_000).map((row) => row.map((f) => (f === null ? 'NA' : f.replace(/,/g, ' '))).join(';') + '\n').join('');
    for (const t of ['d9', 'p9']) await copyIn(sql, `COPY ${t} FROM STDIN (FORMAT csv, DELIMITER ';', NULL 'NA')`, semicolons);
    for (const t of ['d9', 'p9']) await copyIn(sql, `COPY ${t} FROM STDIN`, text(rows.slice(5_000, 15_000)));
    expect(await rowsOf('d9')).toEqual(await rowsOf('p9'));
    expect(await aggregatesOf('d9')).toEqual(await aggregatesOf('p9'));
    expect((await compressedAll('d9')).all).toBe(true);
    expect(await heapRows('d9')).toBe(0);
  });

  it('reads text format with escapes, a non-UTC session with and without offsets, a column list and omitted columns', async () => {
    await client.query(`${direct('d2')}; CREATE TABLE p2 (${COLUMNS})`);
    await sql`SET TIME ZONE 'America/New_York'`;
    try {
      for (const [seed, offsets] of [[2, false], [3, true]] as const) {
        const rows = randomRows(8_000, seed, offsets);
        const data = text(rows);
        await copyIn(sql, 'COPY d2 FROM STDIN', data);
        await copyIn(sql, 'COPY p2 FROM STDIN', data);
      }
      // Another column order and omitted columns (NULL there).
      const order = [3, 0, 2, 1];
      const some = randomRows(3_000, 4, true).map((row) => order.map((i) => row[i]!));
      const list = order.map((i) => NAMES[i]).join(', ');
      await copyIn(sql, `COPY d2 (${list}) FROM STDIN (FORMAT csv)`, csv(some));
      await copyIn(sql, `COPY p2 (${list}) FROM STDIN (FORMAT csv)`, csv(some));
      expect(await rowsOf('d2')).toEqual(await rowsOf('p2'));
      expect(await aggregatesOf('d2')).toEqual(await aggregatesOf('p2'));
    } finally {
      await sql`SET TIME ZONE 'UTC'`;
    }
    expect((await compressedAll('d2')).all).toBe(true);
    expect(await heapRows('d2')).toBe(0);
  });

  it('reads binary COPY (psql \\copy) to the same rows', async () => {
    await client.query(`${direct('d3')}; CREATE TABLE p3 (${COLUMNS})`);
    await copyIn(sql, 'COPY p3 FROM STDIN (FORMAT csv)', csv(randomRows(20_000, 13, true)));
    // psql's \copy both ways (postgres.js's COPY TO readable leaves its connection waiting here).
    const file = join(tmpdir(), `orbit-direct-${process.pid}.bin`);
    const psql = (command: string) =>
      new Promise<number | null>((resolve) => spawn('psql', ['-X', '-q', '-d', server.url, '-c', command], { stdio: 'ignore' }).on('close', resolve));
    expect(await psql(`\\copy p3 TO '${file}' WITH (FORMAT binary)`)).toBe(0);
    expect(await psql(`\\copy d3 FROM '${file}' WITH (FORMAT binary)`)).toBe(0);
    rmSync(file, { force: true });
    expect(await rowsOf('d3')).toEqual(await rowsOf('p3'));
    expect(await heapRows('d3')).toBe(0);
  });

  it('appends a second COPY to the same chunks; recompress and decompress keep the rows', async () => {
    await client.query(`${direct('d4')}; CREATE TABLE p4 (${COLUMNS})`);
    for (const seed of [5, 6]) {
      const data = csv(randomRows(5_000, seed, true));
      await copyIn(sql, 'COPY d4 FROM STDIN (FORMAT csv)', data);
      await copyIn(sql, 'COPY p4 FROM STDIN (FORMAT csv)', data);
    }
    const expected = await rowsOf('p4');
    expect(await rowsOf('d4')).toEqual(expected);
    expect(await compressedAll('d4')).toMatchObject({ all: true });
    await client.query("SELECT compress_chunk(c, recompress => true) FROM show_chunks('d4') c");
    expect(await rowsOf('d4')).toEqual(expected);
    await client.query("SELECT decompress_chunk(c) FROM show_chunks('d4') c");
    expect(await rowsOf('d4')).toEqual(expected);
    expect(await heapRows('d4')).toBe(10_000);
  });

  it('reports bad values deep in a multi-piece stream like PostgreSQL, with the line number, and leaves nothing', async () => {
    await client.query(`${direct('e1')}; CREATE TABLE e1p (${COLUMNS}); ${direct('e1n', "timescaledb.segmentby = 'dev'")}; ALTER TABLE e1n ALTER COLUMN v SET NOT NULL`);
    await copyIn(sql, 'COPY e1 FROM STDIN (FORMAT csv)', csv(randomRows(1_000, 7, true)));
    const before = (await client.query('SELECT count(*)::int AS n FROM e1')).rows[0].n;
    const rows = randomRows(60_000, 8, true); // > 4 MiB: several pieces
    const cases: Array<[number, number, string]> = [
      [55_001, 3, 'abc'], // float
      [41_234, 0, '2024-02-30 00:00:00+00'], // timestamp
      [3, 1, '12x'], // int, first piece
      [50_000, 8, '99999999999999999999'], // int8 out of range
    ];
    for (const [line, column, bad] of cases) {
      const copy = rows.map((r) => r.slice());
      copy[line - 1]![column] = bad;
      const data = csv(copy);
      expect(data.length).toBeGreaterThan(4 << 20);
      const got = await psqlCopy(server.url, 'COPY e1 FROM STDIN (FORMAT csv)', data);
      const want = await psqlCopy(server.url, 'COPY e1p FROM STDIN (FORMAT csv)', data);
      expect(got.code).not.toBe(0);
      // PostgreSQL counts physical lines in CSV (quoted newlines included).
      const physical = csv(copy.slice(0, line - 1)).split('\n').length;
      expect(got.stderr).toContain(`line ${physical}, column ${NAMES[column]}`);
      expect(got.stderr.replace(/\be1\b/g, 'T')).toBe(want.stderr.replace(/\be1p\b/g, 'T'));
      expect((await client.query('SELECT count(*)::int AS n FROM e1')).rows[0].n).toBe(before);
    }
    expect((await client.query('SELECT count(*)::int AS n FROM e1p')).rows[0].n).toBe(0);

    // NOT NULL: 23502 naming the hypertable.
    const nulls = rows.slice(0, 30_000).map((r, i) => (i === 29_000 ? [r[0]!, r[1]!, r[2]!, null, ...r.slice(4)] : [...r.slice(0, 3), '1', ...r.slice(4)]));
    const nn = await psqlCopy(server.url, 'COPY e1n FROM STDIN (FORMAT csv)', csv(nulls));
    // The relation named is an internal one (as TimescaleDB names the chunk); the CONTEXT names the hypertable.
    expect(nn.stderr).toMatch(/ERROR: {2}23502: null value in column "v" of relation "[^"]+" violates not-null constraint/);
    expect(nn.stderr).toContain(`COPY e1n, line ${csv(nulls.slice(0, 29_000)).split('\n').length}:`);
    expect((await client.query('SELECT count(*)::int AS n FROM e1n')).rows[0].n).toBe(0);

    // Extra and missing columns: 22P04.
    const extra = await psqlCopy(server.url, 'COPY e1 FROM STDIN (FORMAT csv)', csv(rows.slice(0, 100)) + csv([[...rows[0]!, 'x']]));
    expect(extra.stderr).toContain('ERROR:  22P04: extra data after last expected column');
    expect(extra.stderr).toContain(`COPY e1, line ${csv(rows.slice(0, 100)).split('\n').length}:`);
    const missing = await psqlCopy(server.url, 'COPY e1 FROM STDIN (FORMAT csv)', csv(rows.slice(0, 10)) + csv([rows[0]!.slice(0, 4)]));
    expect(missing.stderr).toContain('ERROR:  22P04: missing data for column "n"');
    expect(missing.stderr).toContain(`COPY e1, line ${csv(rows.slice(0, 10)).split('\n').length}:`);
    expect((await client.query('SELECT count(*)::int AS n FROM e1')).rows[0].n).toBe(before);
  });

  it('leaves nothing after CopyFail or ROLLBACK and shows a COPY committed in a transaction block', async () => {
    await client.query(direct('t1'));
    const data = csv(randomRows(2_000, 9, true));
    const js = postgres(server.url, { max: 1, onnotice: () => undefined });
    try {
      const w = await js`COPY t1 FROM STDIN (FORMAT csv)`.writable();
      w.write(data.slice(0, 20_000));
      const failed = new Promise((resolve) => w.on('error', resolve).on('close', resolve));
      w.destroy(new Error('client gave up'));
      await failed;
      await js`SELECT 1`;
    } finally {
      await js.end();
    }
    expect((await client.query('SELECT count(*)::int AS n FROM t1')).rows[0].n).toBe(0);

    await expect(
      sql.begin(async (tx) => {
        await pipeline(Readable.from(pieces(data)), await tx`COPY t1 FROM STDIN (FORMAT csv)`.writable());
        expect((await tx`SELECT count(*)::int AS n FROM t1`)[0]!.n).toBe(2_000);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await client.query('SELECT count(*)::int AS n FROM t1')).rows[0].n).toBe(0);

    await sql.begin(async (tx) => {
      await pipeline(Readable.from(pieces(data)), await tx`COPY t1 FROM STDIN (FORMAT csv)`.writable());
    });
    expect((await client.query('SELECT count(*)::int AS n FROM t1')).rows[0].n).toBe(2_000);
    expect(await heapRows('t1')).toBe(0);
  });

  it('reads two COPYs that PostgreSQL must parse within one transaction block', async () => {
    await client.query(direct('t2'));
    // Text format with escapes: each COPY goes through the staging table, created anew per COPY.
    const data = (k: number) => `2024-03-08 00:00:0${k}+00\t1\ttab\\there\t1.5\tt\n`;
    await sql.begin(async (tx) => {
      for (const k of [1, 2]) await pipeline(Readable.from([data(k)]), await tx.unsafe('COPY t2 (time, dev, tag, v, b) FROM STDIN').writable());
    });
    expect((await client.query('SELECT count(*)::int AS n, min(tag) AS tag FROM t2')).rows).toEqual([{ n: 2, tag: 'tab\there' }]);
  });

  it('keeps the row store path where PostgreSQL must check rows, and the settings choose', async () => {
    const data = csv(randomRows(500, 10, true));
    const path = async (table: string, setup: string, session?: string): Promise<'direct' | 'rowstore'> => {
      await client.query(setup);
      if (session) await sql.unsafe(session);
      try {
        await copyIn(sql, `COPY ${table} FROM STDIN (FORMAT csv)`, data);
      } finally {
        if (session) await sql`RESET timescaledb.enable_direct_compress_copy`;
      }
      expect((await client.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n).toBe(500);
      return (await heapRows(table)) === 0 ? 'direct' : 'rowstore';
    };
    expect(await path('u1', `${direct('u1')}; CREATE UNIQUE INDEX ON u1 (time, dev, tag)`)).toBe('rowstore');
    expect(
      await path('u2', `${direct('u2')}; CREATE FUNCTION u2f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
        CREATE TRIGGER u2t BEFORE INSERT ON u2 FOR EACH ROW EXECUTE FUNCTION u2f()`),
    ).toBe('rowstore');
    expect(await path('u3', `${direct('u3')}; ALTER TABLE u3 ADD CHECK (dev IS NULL OR dev >= 0)`)).toBe('rowstore');
    expect(
      await path('u4', `CREATE TABLE u4 (${COLUMNS}); SELECT create_hypertable('u4', 'time'); ALTER TABLE u4 SET (timescaledb.compress)`),
    ).toBe('rowstore');
    expect(await path('u5', direct('u5', 'timescaledb.direct_compress = false'))).toBe('rowstore');
    expect(await path('u7', `${direct('u7', 'timescaledb.direct_compress = false')}; ALTER TABLE u7 SET (timescaledb.direct_compress = true)`)).toBe('direct');
    expect(await path('u8', direct('u8', 'timescaledb.direct_compress = false'), 'SET timescaledb.enable_direct_compress_copy = on')).toBe('direct');
  });
});

describe('direct-to-columnstore COPY durability', { timeout: 240_000 }, () => {
  const dir = tempDir('orbit-direct-');
  afterAll(() => dir.remove());
  const objects = () => {
    const root = join(dir.path, 'objects', 'cs');
    const out: string[] = [];
    const walk = (p: string, rel: string) => {
      for (const e of readdirSync(p, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(p, e.name), `${rel}/${e.name}`);
        else out.push(`${rel}/${e.name}`);
      }
    };
    if (existsSync(root)) walk(root, '');
    return out.sort();
  };

  it('keeps an acknowledged COPY across SIGKILL and drops one killed before CopyDone', async () => {
    const args = ['--data-dir', dir.path, '--listen', '127.0.0.1:0', '--http', 'off'];
    let server = await startChildServer(args);
    let url = `postgres://postgres@127.0.0.1:${server.port}/postgres`;
    let sql = postgres(url, { max: 1, onnotice: () => undefined });
    await sql.unsafe(`CREATE EXTENSION IF NOT EXISTS timescaledb; ${direct('k')}`);
    await copyIn(sql, 'COPY k FROM STDIN (FORMAT csv)', csv(randomRows(30_000, 11, true)));
    const summary = async (s: postgres.Sql) => (await s`SELECT count(*)::int AS n, sum(dev)::int AS s, max(time)::text AS hi FROM k`)[0];
    const acknowledged = await summary(sql);
    expect(acknowledged!.n).toBe(30_000);
    await sql.end({ timeout: 0 }).catch(() => undefined);
    await server.stop('SIGKILL');

    server = await startChildServer(args);
    url = `postgres://postgres@127.0.0.1:${server.port}/postgres`;
    sql = postgres(url, { max: 1, onnotice: () => undefined });
    expect(await summary(sql)).toEqual(acknowledged);
    const kept = objects();
    expect(kept.length).toBeGreaterThan(0);

    // Enough rows (> FLUSH_ROWS in one chunk) that batch objects are written before CopyDone.
    const w = await sql`COPY k FROM STDIN (FORMAT csv)`.writable();
    // The connection dies with the server: its error is expected.
    w.on('error', () => undefined);
    const more = csv(randomRows(300_000, 12, true).map((r) => ['2024-03-09 12:00:00+00', ...r.slice(1)]));
    for (const p of pieces(more)) if (!w.write(p)) await new Promise((r) => w.once('drain', r));
    // Wait until the server has written objects of the unfinished COPY.
    for (let i = 0; i < 200 && objects().length === kept.length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(objects().length).toBeGreaterThan(kept.length);
    await server.stop('SIGKILL');
    w.destroy();
    await sql.end({ timeout: 0 }).catch(() => undefined);

    server = await startChildServer(args);
    sql = postgres(`postgres://postgres@127.0.0.1:${server.port}/postgres`, { max: 1, onnotice: () => undefined });
    try {
      expect(await summary(sql)).toEqual(acknowledged);
      expect(objects()).toEqual(kept);
    } finally {
      await sql.end();
      await server.stop();
    }
  });
});
