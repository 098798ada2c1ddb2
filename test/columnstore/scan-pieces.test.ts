// A scan that passes more rows than one piece holds hands them to PostgreSQL in several COPYs
// (session/columnstore/scan-temp-table.ts): Orbit's memory does not grow with the rows passed, and
// the answer is the plain table's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit } from '../../src/orbit.js';
import { countRoundTrips } from '../support/round-trips.js';
import { TEMPLATE } from '../support/server.js';

const ROWS = 240_000;
const VALUES = Array.from({ length: 10 }, (_, k) => `v${k}`);

describe('scan in pieces', () => {
  let db: Orbit;
  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, jobScheduler: false });
    const columns = VALUES.map((v) => `${v} float8`).join(', ');
    const values = VALUES.map((_, k) => `((i * ${k + 7}) % 1000) / 8.0`).join(', ');
    await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb; SET TimeZone = 'UTC';
      CREATE TABLE p (time timestamptz NOT NULL, host text, ${columns});
      INSERT INTO p SELECT '2024-01-01'::timestamptz + i * INTERVAL '1 second', 'h' || (i % 7), ${values} FROM generate_series(1, ${ROWS}) i;
      CREATE TABLE d (LIKE p);
      SELECT create_hypertable('d', 'time', chunk_time_interval => INTERVAL '1 day');
      INSERT INTO d SELECT * FROM p;
      ALTER TABLE d SET (timescaledb.compress, timescaledb.compress_segmentby = 'host');
      SELECT compress_chunk(c) FROM show_chunks('d') c;`);
  }, 120_000);
  afterAll(() => db?.close());

  it('COPYs the rows passed in pieces and answers as the plain table', async () => {
    // A filter on a value column, aggregates of expressions (which the kernels leave to
    // PostgreSQL): the compressed rows that pass go to PostgreSQL, which aggregates.
    const sql = (t: string) => `SELECT host, count(*), min(time), ${VALUES.map((v) => `sum(${v} * 2)`).join(', ')} FROM ${t} WHERE v1 >= 0 GROUP BY host ORDER BY host`;
    const pieces = countRoundTrips(db, (m) => /^COPY [^ ]*orbit_scan_\d+ .* FROM STDIN \(FORMAT binary\)/.test(new TextDecoder().decode(m.subarray(5, 400))));
    const got = await db.query(sql('d'));
    const copies = pieces();
    expect(got.rows).toEqual((await db.query(sql('p'))).rows);
    // Every row passes (12 columns, ~30 MB of tuples): more than one piece of 16 MB.
    expect(copies).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
