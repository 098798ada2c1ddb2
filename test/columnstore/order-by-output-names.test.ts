// ORDER BY and DISTINCT ON name output columns before the table's, and PostgreSQL names
// `time::text` "time": `SELECT time::text … ORDER BY time LIMIT 3` sorts the text, and
// `SELECT DISTINCT ON (dev) time AS dev …` keeps one row per time. The scan's ordered append
// (sql/planner/scan.ts) took the first batches by time, and the last point (sql/planner/last-point.ts)
// one row per segment: both gave other rows than PostgreSQL.
import { describe, expect, it } from 'vitest';
import { inProcessOrbit } from '../support/in-process.js';

describe('ORDER BY / DISTINCT ON an output column named like the time or segment column', () => {
  const fixture = inProcessOrbit(`CREATE TABLE ht (time bigint NOT NULL, dev text, v int);
    SELECT create_hypertable('ht', 'time', chunk_time_interval => 100);
    ALTER TABLE ht SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');
    INSERT INTO ht SELECT g, 'd' || g % 2, g FROM generate_series(1, 300) g;`);
  const queries = [
    'SELECT time::text, v FROM ht ORDER BY time LIMIT 3',
    'SELECT CAST(time AS text), v FROM ht WHERE v > 5 ORDER BY time DESC LIMIT 3',
    'SELECT DISTINCT ON (dev) time AS dev, v FROM ht ORDER BY dev, time DESC LIMIT 3',
    'SELECT DISTINCT ON (dev) dev, v AS time FROM ht ORDER BY dev, time DESC',
  ];

  it('sorts that column, as PostgreSQL does', async () => {
    const db = fixture.db;
    const before: unknown[][] = [];
    for (const sql of queries) before.push((await db.query(sql)).rows);
    expect(before[0]).toEqual([
      { time: '1', v: 1 },
      { time: '10', v: 10 },
      { time: '100', v: 100 },
    ]);
    expect(before[2]).toHaveLength(3);
    await db.exec("SELECT compress_chunk(c) FROM show_chunks('ht') c");
    for (const [i, sql] of queries.entries()) expect((await db.query(sql)).rows, sql).toEqual(before[i]);
  });
});
