// `=`/IN constants on segmentby columns of types whose text the kernels compare: char(n) keeps its
// padding in the batches while its text (a cast of the constant) drops it, so its filters are left
// to PostgreSQL (session/columnstore/fast-path.ts, SEGMENT_TYPES). Answers compared with a plain table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit } from '../../src/orbit.js';
import { TEMPLATE } from '../support/server.js';

describe('segmentby constants of char(n)', () => {
  let db: Orbit;

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, columnstore: { reuseResults: false } });
    await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb;
      CREATE TABLE t (time timestamptz NOT NULL, c char(3), v float8);
      SELECT create_hypertable('t', 'time');
      ALTER TABLE t SET (timescaledb.compress, timescaledb.compress_segmentby = 'c');
      INSERT INTO t VALUES ('2024-01-01', 'a', 1), ('2024-01-01 01:00', 'ab', 2), ('2024-01-01 02:00', 'a b', 4);
      CREATE TABLE r AS SELECT * FROM t;`);
    await db.exec("SELECT compress_chunk(x) FROM show_chunks('t') x");
  });
  afterAll(async () => {
    await db?.close();
  });

  it('filters as PostgreSQL does', async () => {
    for (const where of ["c = 'a'", "c IN ('a', 'ab')", "c = 'a  '", "c = 'ab '::char(3)", "c = 'a b'"]) {
      for (const q of [(x: string) => `SELECT count(*) AS n, sum(v) AS s FROM ${x} WHERE ${where}`, (x: string) => `SELECT c, count(*) AS n FROM ${x} WHERE ${where} GROUP BY c ORDER BY c`]) {
        expect((await db.query(q('t'))).rows, q('t')).toEqual((await db.query(q('r'))).rows);
      }
    }
  });
});
