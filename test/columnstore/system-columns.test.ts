/**
 * What reads of a hypertable with the columnstore enabled do with FROM ONLY and system columns.
 * The rows of compressed chunks come from Orbit's batches through a subquery (or the planner's
 * fast paths), so: FROM ONLY hypertable reads the parent alone, which holds no rows (TimescaleDB's
 * answer too); a system column (tableoid, ctid, xmin, …) read from such a hypertable is 0A000 while
 * any of its chunks is compressed, and PostgreSQL's own answer while none is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit, type Orbit } from '../../src/runtime/node.js';
import { TEMPLATE } from '../support/server.js';

let db: Orbit;

beforeAll(async () => {
  db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, jobScheduler: false });
  await db.exec(`CREATE EXTENSION timescaledb;
    CREATE TABLE m (time timestamptz NOT NULL, d int, v float8);
    SELECT create_hypertable('m', by_range('time', INTERVAL '1 day'));
    ALTER TABLE m SET (timescaledb.compress, timescaledb.compress_segmentby = 'd');
    INSERT INTO m VALUES ('2024-01-01 10:00+00', 1, 1), ('2024-01-02 10:00+00', 2, 2), ('2024-01-02 11:00+00', 2, 3);
    CREATE TABLE other (id int);
    INSERT INTO other VALUES (1);`);
});
afterAll(async () => {
  await db?.close();
});

const ONLY_READS = [
  'SELECT * FROM ONLY m',
  'SELECT count(*)::int AS n FROM ONLY m',
  'SELECT max(v) AS v FROM ONLY m',
  "SELECT time_bucket('1 hour', time) AS b, avg(v) FROM ONLY m GROUP BY 1",
  'SELECT DISTINCT ON (d) d, v FROM ONLY m ORDER BY d, time DESC',
  'SELECT * FROM ONLY m WHERE v > 0 ORDER BY time DESC LIMIT 1',
];

describe('before any chunk is compressed', () => {
  it('answers system columns as PostgreSQL does', async () => {
    const r = await db.query<{ t: string; n: number }>('SELECT tableoid::regclass::text AS t, count(*)::int AS n FROM m GROUP BY 1 ORDER BY 1');
    expect(r.rows.map((x) => x.n)).toEqual([1, 2]);
    expect(r.rows.every((x) => /_hyper_\d+_\d+_chunk$/.test(x.t))).toBe(true);
  });

  it.each(ONLY_READS)('reads no rows with FROM ONLY: %s', async (sql) => {
    const r = await db.query<{ n?: number; v?: number }>(sql);
    expect(r.rows.length === 0 || r.rows.every((x) => x.n === 0 || x.v === null)).toBe(true);
  });
});

describe('with compressed chunks', () => {
  beforeAll(async () => {
    await db.exec("SELECT compress_chunk(c) FROM show_chunks('m') c");
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE is_compressed')).rows).toEqual([{ n: 2 }]);
  });

  it.each([
    ['SELECT tableoid::regclass AS t, count(*) FROM m GROUP BY 1', 'tableoid'],
    ['SELECT ctid, * FROM m', 'ctid'],
    ['SELECT x.xmin FROM m AS x WHERE x.v > 1', 'xmin'],
    ['SELECT count(*) FROM other o JOIN m ON m.d = o.id WHERE m.cmax IS NOT NULL', 'cmax'],
  ])('refuses a system column with 0A000 before running: %s', async (sql, column) => {
    await expect(db.query(sql)).rejects.toMatchObject({ code: '0A000', message: expect.stringContaining(`"${column}"`) });
  });

  it("keeps other tables' system columns", async () => {
    const r = await db.query<{ t: string; n: number }>('SELECT o.tableoid::regclass::text AS t, count(*)::int AS n FROM other o JOIN m ON m.d = o.id GROUP BY 1');
    expect(r.rows).toEqual([{ t: 'other', n: 1 }]);
  });

  it.each(ONLY_READS)('reads no rows with FROM ONLY: %s', async (sql) => {
    const r = await db.query<{ n?: number; v?: number }>(sql);
    expect(r.rows.length === 0 || r.rows.every((x) => x.n === 0 || x.v === null)).toBe(true);
    // …while the hypertable itself has them all.
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM m')).rows).toEqual([{ n: 3 }]);
  });
});
