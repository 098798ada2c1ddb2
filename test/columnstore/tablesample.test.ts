// TABLESAMPLE on a hypertable with compressed chunks is refused (0A000): the compressed rows are
// read through a subquery, which PostgreSQL cannot sample (the rewrite gave it a syntax error,
// 42601). Without compressed chunks it runs as written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit } from '../../src/orbit.js';
import { TEMPLATE } from '../support/server.js';

describe('TABLESAMPLE on a hypertable', () => {
  let db: Orbit;

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, jobScheduler: false });
    await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb;
      CREATE TABLE ht (time bigint NOT NULL, v int);
      SELECT create_hypertable('ht', 'time', chunk_time_interval => 1000);
      ALTER TABLE ht SET (timescaledb.compress);
      INSERT INTO ht SELECT g, g FROM generate_series(1, 100) g;`);
  });
  afterAll(async () => {
    await db?.close();
  });

  const answer = (sql: string) => db.query(sql).then((r) => r.rows, (e: { code?: string }) => e.code);

  it('runs as written without compressed chunks, and is refused with them', async () => {
    expect(await answer('SELECT count(*)::int AS n FROM ht TABLESAMPLE BERNOULLI (100)')).toEqual([{ n: 100 }]);
    await db.exec("SELECT compress_chunk(x) FROM show_chunks('ht') x");
    expect(await answer('SELECT count(*)::int AS n FROM ht TABLESAMPLE BERNOULLI (100)')).toBe('0A000');
    expect(await answer('SELECT * FROM ht TABLESAMPLE SYSTEM (100) REPEATABLE (1) WHERE v > 5 ORDER BY time LIMIT 1')).toBe('0A000');
    expect(await answer('SELECT count(*)::int AS n FROM ht t TABLESAMPLE BERNOULLI (100) JOIN ht u USING (time)')).toBe('0A000');
  });
});
