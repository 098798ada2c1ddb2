// The WHERE constants Orbit compares stored values with come back from PostgreSQL as binary send
// forms in json, which prints a bytea by bytea_output: under 'escape' they were read as garbage:
// scans and last points kept no row (0 where PostgreSQL has 7), the kernels' row predicates every
// row (count 300 for 200). session/columnstore/predicate-values.ts hexSql prints them as hex
// whatever the setting; bucket limits read their times so too.
import { describe, expect, it } from 'vitest';
import { inProcessOrbit } from '../support/in-process.js';

describe("bytea_output = 'escape'", () => {
  const fixture = inProcessOrbit(
    `CREATE TABLE ht (time timestamptz NOT NULL, dev text, v int);
    SELECT create_hypertable('ht', 'time', chunk_time_interval => interval '1 day');
    ALTER TABLE ht SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');
    INSERT INTO ht SELECT '2024-03-09'::timestamptz + g * interval '97 minutes', 'd' || g % 3, g FROM generate_series(1, 300) g;
    CREATE TABLE p AS SELECT * FROM ht;`,
    ['ht'],
  );
  const queries = [
    (t: string) => `SELECT time, v FROM ${t} WHERE time < '2024-03-09 12:00+00' ORDER BY time`,
    (t: string) => `SELECT dev, count(*), max(v) FROM ${t} WHERE v > 100 GROUP BY dev ORDER BY dev`,
    (t: string) => `SELECT time_bucket('1 hour', time) AS b, count(*) FROM ${t} WHERE v < 200 GROUP BY b ORDER BY b DESC LIMIT 2`,
    (t: string) => `SELECT DISTINCT ON (dev) dev, v FROM ${t} WHERE time < '2024-03-10' ORDER BY dev, time DESC`,
  ];

  it('reads the WHERE constants as under the default', async () => {
    const s = fixture.db.session();
    try {
      await s.exec("SET bytea_output = 'escape'");
      expect((await s.query(queries[0]!('p'))).rows).toHaveLength(7);
      for (const q of queries) expect((await s.query(q('ht'))).rows, q('ht')).toEqual((await s.query(q('p'))).rows);
    } finally {
      await s.close();
    }
  });
});
