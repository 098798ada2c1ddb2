// Group keys and first()/last() values of types the batches keep as binary (uuid; interval, inet,
// arrays, … as their send form) are left to PostgreSQL: the kernels took them and then could not
// hand them to the final statement as text, failing with 0A000 where PostgreSQL answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit } from '../../src/orbit.js';
import { TEMPLATE } from '../support/server.js';

describe('aggregates over binary-kept types', () => {
  let db: Orbit;

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, jobScheduler: false });
    await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb; SET timezone TO 'UTC';
      CREATE TABLE ht (time timestamptz NOT NULL, id uuid, span interval, addr inet, i int);
      SELECT create_hypertable('ht', 'time', chunk_time_interval => INTERVAL '1 day');
      ALTER TABLE ht SET (timescaledb.compress, timescaledb.compress_segmentby = 'id');
      INSERT INTO ht SELECT '2024-01-01 00:00+00'::timestamptz + g * INTERVAL '1 hour',
        ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1' || g % 3)::uuid, g * INTERVAL '1 minute', ('10.0.0.' || g % 5)::inet, g
        FROM generate_series(0, 59) g;
      CREATE TABLE ref AS SELECT * FROM ht;`);
    await db.exec("SELECT compress_chunk(x) FROM show_chunks('ht') x");
  });
  afterAll(async () => {
    await db?.close();
  });

  it.each([
    'SELECT id, count(*), sum(i) FROM {t} GROUP BY id ORDER BY id',
    "SELECT time_bucket('1 day', time) AS b, id, count(*) FROM {t} GROUP BY b, id ORDER BY b, id",
    "SELECT time_bucket('1 day', time) AS b, first(span, time), last(addr, time), last(id, time) FROM {t} GROUP BY b ORDER BY b",
  ])('%s', async (sql) => {
    const answer = (t: string) => db.query(sql.replaceAll('{t}', t)).then((r) => JSON.stringify(r.rows), (e: { code?: string }) => `error ${e.code}`);
    expect(await answer('ht')).toBe(await answer('ref'));
  });
});
