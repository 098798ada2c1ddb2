// Only a statement's own UPDATE/DELETE/MERGE target (and an EXECUTEd one's) has its compressed
// batches turned back into rows before it runs. One nested in a data-modifying WITH, or run by
// EXPLAIN ANALYZE, wrote the rowstore's rows only: `WITH d AS (DELETE FROM ht WHERE i > 95
// RETURNING *) SELECT count(*) FROM d` answered 0 and left the compressed rows, where PostgreSQL
// deletes 16. Such statements are refused (0A000); plain nested INSERTs, PREPARE and EXPLAIN
// without ANALYZE run as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit } from '../../src/orbit.js';
import { TEMPLATE } from '../support/server.js';

describe('writes nested in a statement, on a hypertable with compressed chunks', () => {
  let db: Orbit;

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, jobScheduler: false });
    await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb;
      CREATE TABLE ht (time timestamptz NOT NULL, host text, i int);
      SELECT create_hypertable('ht', 'time', chunk_time_interval => INTERVAL '1 day');
      ALTER TABLE ht SET (timescaledb.compress, timescaledb.compress_segmentby = 'host');
      INSERT INTO ht SELECT '2024-01-01 00:00+00'::timestamptz + g * INTERVAL '37 minutes', 'h' || g % 3, g % 100 FROM generate_series(0, 400) g;`);
    await db.exec("SELECT compress_chunk(x) FROM show_chunks('ht') x");
  });
  afterAll(async () => {
    await db?.close();
  });

  const count = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM ht')).rows[0]!.n;
  const code = (sql: string) => db.exec(sql).then(() => 'ok', (e: { code?: string }) => e.code);

  it('refuses UPDATE, DELETE and MERGE nested in WITH or run by EXPLAIN ANALYZE', async () => {
    expect(await code('WITH d AS (DELETE FROM ht WHERE i > 95 RETURNING *) SELECT count(*) FROM d')).toBe('0A000');
    expect(await code('WITH u AS (UPDATE ht SET i = 0 WHERE i > 95 RETURNING *) SELECT count(*) FROM u')).toBe('0A000');
    expect(await code('EXPLAIN ANALYZE DELETE FROM ht WHERE i > 95')).toBe('0A000');
    expect(await count()).toBe(401);
  });

  it('runs nested plain INSERTs, PREPAREd writes and EXPLAIN without ANALYZE', async () => {
    expect(await code("WITH n AS (INSERT INTO ht VALUES ('2024-01-02 00:00:30+00', 'h1', 1000) RETURNING *) SELECT count(*) FROM n")).toBe('ok');
    expect(await count()).toBe(402);
    expect(await code('EXPLAIN DELETE FROM ht WHERE i > 95')).toBe('ok');
    expect(await code('PREPARE p AS DELETE FROM ht WHERE i > 95; EXECUTE p')).toBe('ok');
    // i in 96..99 (16 rows) and the inserted 1000.
    expect(await count()).toBe(385);
  });
});
