// A last point's target list is evaluated by PostgreSQL for every row its sort reads, so one that
// casts (or calls anything that may fail) is left to PostgreSQL (sql/planner/last-point.ts): from
// the candidate rows alone Orbit answered where PostgreSQL fails on an older row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit } from '../../src/orbit.js';
import { TEMPLATE } from '../support/server.js';

describe('last points whose target list casts', () => {
  let db: Orbit;

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, columnstore: { reuseResults: false } });
    await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb;
      CREATE TABLE t (time timestamptz NOT NULL, host text, s text);
      SELECT create_hypertable('t', 'time');
      ALTER TABLE t SET (timescaledb.compress, timescaledb.compress_segmentby = 'host');
      INSERT INTO t VALUES ('2024-01-01', 'a', 'abc'), ('2024-01-01 01:00', 'a', '7');
      CREATE TABLE r AS SELECT * FROM t;`);
    await db.exec("SELECT compress_chunk(x) FROM show_chunks('t') x");
  });
  afterAll(async () => {
    await db?.close();
  });

  // PostgreSQL casts every row its sort reads, the older 'abc' too: its error, not the newest row's 7.
  it('fails as PostgreSQL does on a row older than the last point', async () => {
    const q = (x: string) => `SELECT DISTINCT ON (host) host, s::int AS n FROM ${x} ORDER BY host, time DESC`;
    const answer = (x: string) => db.query(q(x)).then((r) => JSON.stringify(r.rows), (e: { code?: string }) => `error ${e.code}`);
    expect(await answer('t')).toBe(await answer('r'));
  });
});
