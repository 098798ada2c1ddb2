/**
 * COPY … FROM STDIN in-process (`Orbit.copyFrom`, session/embedded-copy.ts): every kind of source,
 * direct ingest into a hypertable with the columnstore, the session's settings, errors with their
 * line and nothing left behind, a source that fails, and what copyFrom refuses.
 */
import { writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit, type Orbit } from '../../src/runtime/node.js';
import { TEMPLATE, tempDir } from '../support/server.js';

let db: Orbit;

beforeAll(async () => {
  db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, jobScheduler: false });
  await db.exec(`CREATE EXTENSION timescaledb;
    CREATE TABLE plain (id int, name text, at timestamptz);
    CREATE TABLE metrics (time timestamptz NOT NULL, device text, value float8)
      WITH (timescaledb.hypertable, timescaledb.partition_column = 'time', timescaledb.segmentby = 'device', timescaledb.chunk_interval = '1 day');`);
});

afterAll(async () => {
  await db?.close();
});

/** `n` csv rows of metrics, one a minute from 2024-01-01 UTC, over three devices. */
function metricsCsv(n: number, from = 0): string {
  let s = '';
  for (let i = from; i < from + n; i++) s += `${new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString()},d${i % 3},${i / 4}\n`;
  return s;
}

const summary = async (): Promise<unknown> =>
  (await db.query('SELECT count(*)::int AS n, sum(value) AS total, count(DISTINCT device)::int AS devices FROM metrics')).rows[0];

describe('copyFrom', () => {
  it('reads a string, bytes, a Blob, a ReadableStream, a Node stream and iterables of pieces', async () => {
    const text = '1\tone\t2024-01-01 00:00:00+00\n2\ttwo\t\\N\n';
    const bytes = new TextEncoder().encode('3\tthree\t2024-01-02 00:00:00+00\n');
    expect(await db.copyFrom('COPY plain FROM STDIN', text)).toEqual({ rows: [], fields: [], affectedRows: 2 });
    expect((await db.copyFrom('COPY plain FROM STDIN', bytes)).affectedRows).toBe(1);
    expect((await db.copyFrom('COPY plain (id, name) FROM STDIN (FORMAT csv)', new Blob(['4,"fo,ur"\n5,five\n']))).affectedRows).toBe(2);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        // A row cut between two pieces, in the middle of a multi-byte character.
        const row = new TextEncoder().encode('6\tsix é\t\\N\n');
        controller.enqueue(row.subarray(0, 8));
        controller.enqueue(row.subarray(8));
        controller.close();
      },
    });
    expect((await db.copyFrom('COPY plain FROM STDIN', stream)).affectedRows).toBe(1);
    expect((await db.copyFrom('COPY plain FROM STDIN', Readable.from([Buffer.from('7\tseven\t\\N\n'), Buffer.from('8\teight\t\\N\n')]))).affectedRows).toBe(2);
    async function* generated(): AsyncGenerator<string> {
      yield '9\tni';
      yield 'ne 😀\t\\N\n';
    }
    expect((await db.copyFrom('COPY plain FROM STDIN', generated())).affectedRows).toBe(1);
    expect((await db.copyFrom('COPY plain FROM STDIN', ['10\tten\t\\N\n'])).affectedRows).toBe(1);
    const rows = await db.query<{ id: number; name: string; at: Date | null }>('SELECT id, name, at FROM plain ORDER BY id');
    expect(rows.rows.map((r) => r.name)).toEqual(['one', 'two', 'three', 'fo,ur', 'five', 'six é', 'seven', 'eight', 'nine 😀', 'ten']);
    expect(rows.rows[0]!.at).toEqual(new Date('2024-01-01T00:00:00Z'));
  });

  it('writes a hypertable created WITH (timescaledb.hypertable) to the columnstore directly', async () => {
    // Large enough to take several pieces (1 MiB each) and to seal batches.
    const csv = metricsCsv(60_000);
    expect((await db.copyFrom('COPY metrics FROM STDIN (FORMAT csv)', csv)).affectedRows).toBe(60_000);
    expect(await summary()).toEqual({ n: 60_000, total: (59_999 * 60_000) / 2 / 4, devices: 3 });
    const chunks = await db.query<{ compressed: number; total: number }>(
      'SELECT count(*) FILTER (WHERE is_compressed)::int AS compressed, count(*)::int AS total FROM timescaledb_information.chunks',
    );
    // 60,000 minutes: 42 days, every chunk written as batches.
    expect(chunks.rows[0]).toEqual({ compressed: 42, total: 42 });
  });

  it('fails the whole COPY on a bad row with its line, leaving nothing', async () => {
    const before = await summary();
    const bad = metricsCsv(30_000, 100_000).replace(/,([\d.]+)\n((?:[^\n]*\n){9})$/, ',x\n$2');
    await expect(db.copyFrom('COPY metrics FROM STDIN (FORMAT csv)', bad)).rejects.toMatchObject({
      code: '22P02',
      message: 'invalid input syntax for type double precision: "x"',
      where: 'COPY metrics, line 29991, column value: "x"',
    });
    expect(await summary()).toEqual(before);
    // The session that ran it is gone: the next statements run as usual.
    expect((await db.copyFrom('COPY metrics FROM STDIN (FORMAT csv)', metricsCsv(10, 200_000))).affectedRows).toBe(10);
  });

  it('reads a file open for reading (a FileHandle) into one kept buffer: rows across its reads, a bad row failing it all', async () => {
    const dir = tempDir();
    try {
      // ~2.6 MB: three reads of 1 MiB, rows cut between them.
      const good = join(dir.path, 'good.csv');
      writeFileSync(good, metricsCsv(60_000, 300_000));
      const before = (await summary()) as { n: number };
      const file = await open(good);
      try {
        expect((await db.copyFrom('COPY metrics FROM STDIN (FORMAT csv)', file)).affectedRows).toBe(60_000);
      } finally {
        await file.close();
      }
      const after = (await db.query<{ n: number; total: number }>('SELECT count(*)::int AS n, sum(value) AS total FROM metrics WHERE time >= $1', [new Date(Date.UTC(2024, 0, 1) + 300_000 * 60_000)])).rows[0];
      expect(after).toEqual({ n: 60_000, total: ((300_000 + 359_999) * 60_000) / 2 / 4 });
      expect(((await summary()) as { n: number }).n).toBe(before.n + 60_000);
      const bad = join(dir.path, 'bad.csv');
      writeFileSync(bad, metricsCsv(30_000, 400_000).replace(/,([\d.]+)\n((?:[^\n]*\n){9})$/, ',x\n$2'));
      const file2 = await open(bad);
      try {
        await expect(db.copyFrom('COPY metrics FROM STDIN (FORMAT csv)', file2)).rejects.toMatchObject({ code: '22P02', where: 'COPY metrics, line 29991, column value: "x"' });
      } finally {
        await file2.close();
      }
      expect(((await summary()) as { n: number }).n).toBe(before.n + 60_000);
    } finally {
      dir.remove();
    }
  });

  it('cancels the COPY when the source fails, leaving nothing, and rethrows the source error', async () => {
    const before = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM plain')).rows[0]!.n;
    async function* broken(): AsyncGenerator<string> {
      yield '100\thundred\t\\N\n';
      throw new Error('disk went away');
    }
    await expect(db.copyFrom('COPY plain FROM STDIN', broken())).rejects.toThrow('disk went away');
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM plain')).rows[0]!.n).toBe(before);
  });

  it("reads values with the session's settings", async () => {
    await db.exec("SET TimeZone = 'America/New_York'; SET DateStyle = 'SQL, DMY'");
    try {
      await db.copyFrom('COPY plain FROM STDIN (FORMAT csv)', '20,tz,02/03/2024 10:00\n');
      const r = await db.query<{ utc: string }>("SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS utc FROM plain WHERE id = 20");
      // 2 March (day first), 10:00 in New York = 15:00 UTC.
      expect(r.rows).toEqual([{ utc: '2024-03-02 15:00' }]);
    } finally {
      await db.exec('RESET TimeZone; RESET DateStyle');
    }
  });

  it('refuses what is not a COPY FROM STDIN, and a COPY inside an open transaction', async () => {
    await expect(db.copyFrom('INSERT INTO plain VALUES (1)', '')).rejects.toMatchObject({ code: '22023' });
    await expect(db.copyFrom('COPY plain TO STDOUT', '')).rejects.toMatchObject({ code: '22023' });
    await expect(db.copyFrom('COPY plain FROM STDIN; SELECT 1', '')).rejects.toMatchObject({ code: '22023' });
    await expect(db.copyFrom('COPY plain FROM STDIN (FORMAT nope)', '')).rejects.toMatchObject({ code: '22023', message: 'COPY format "nope" not recognized' });
    await expect(db.copyFrom('COPY nowhere FROM STDIN', '')).rejects.toMatchObject({ code: '42P01' });
    await expect(db.copyFrom('COPY plain FROM STDIN WITH (', '')).rejects.toMatchObject({ code: '42601' });
    // query() and exec() point to it.
    await expect(db.query('COPY plain FROM STDIN')).rejects.toMatchObject({ code: '0A000', hint: expect.stringContaining('copyFrom(sql, data)') });
    await db.query('BEGIN');
    try {
      await expect(db.copyFrom('COPY plain FROM STDIN', '1\tx\t\\N\n')).rejects.toMatchObject({ code: '0A000' });
    } finally {
      await db.query('ROLLBACK');
    }
  });
});

describe('copyFrom on a file data directory', () => {
  it('keeps the rows once it has resolved', async () => {
    const dir = tempDir('orbit-embedded-copy-');
    try {
      let file = await openOrbit({ dataDir: dir.path, templatePath: TEMPLATE, jobScheduler: false });
      await file.exec(`CREATE EXTENSION timescaledb;
        CREATE TABLE metrics (time timestamptz NOT NULL, device text, value float8)
          WITH (timescaledb.hypertable, timescaledb.partition_column = 'time', timescaledb.segmentby = 'device', timescaledb.chunk_interval = '1 day');`);
      await file.copyFrom('COPY metrics FROM STDIN (FORMAT csv)', metricsCsv(5000));
      await file.close();
      file = await openOrbit({ dataDir: dir.path, templatePath: TEMPLATE, jobScheduler: false });
      try {
        expect((await file.query('SELECT count(*)::int AS n, sum(value) AS total FROM metrics')).rows).toEqual([{ n: 5000, total: (4999 * 5000) / 2 / 4 }]);
      } finally {
        await file.close();
      }
    } finally {
      dir.remove();
    }
  });
});
