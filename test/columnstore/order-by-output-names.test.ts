// ORDER BY and DISTINCT ON name output columns before the table's, and PostgreSQL names
// `time::text` "time": `SELECT time::text … ORDER BY time LIMIT 3` sorts the text, and
// `SELECT DISTINCT ON (dev) time AS dev …` keeps one row per time. The scan's ordered append
// (sql/planner/scan.ts) took the first batches by time, and the last point (sql/planner/last-point.ts)
// one row per segment: both gave other rows than PostgreSQL. The aggregates' final statement
// (sql/planner/aggregates.ts) ordered by its partial column g1 where an output column was named g1,
// and answered where PostgreSQL finds ORDER BY dev ambiguous (42702).
import { describe, expect, it } from 'vitest';
import { inProcessOrbit } from '../support/in-process.js';

describe('ORDER BY / DISTINCT ON an output column named like the time or segment column', () => {
  const fixture = inProcessOrbit(`CREATE TABLE ht (time bigint NOT NULL, dev text, v int);
    SELECT create_hypertable('ht', 'time', chunk_time_interval => 100);
    ALTER TABLE ht SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');
    INSERT INTO ht SELECT g, 'd' || g % 2, g FROM generate_series(1, 300) g;
    CREATE TABLE hz (time timestamptz NOT NULL, dev text, v int);
    SELECT create_hypertable('hz', 'time', chunk_time_interval => interval '1 day');
    ALTER TABLE hz SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');
    INSERT INTO hz SELECT '2024-01-01'::timestamptz + g * interval '1 hour', 'd' || g % 2, g FROM generate_series(1, 300) g;`);
  const queries = [
    'SELECT time::text, v FROM ht ORDER BY time LIMIT 3',
    'SELECT CAST(time AS text), v FROM ht WHERE v > 5 ORDER BY time DESC LIMIT 3',
    'SELECT DISTINCT ON (dev) time AS dev, v FROM ht ORDER BY dev, time DESC LIMIT 3',
    'SELECT DISTINCT ON (dev) dev, v AS time FROM ht ORDER BY dev, time DESC',
    'SELECT max(v) AS g1 FROM hz GROUP BY dev HAVING count(*) > 0 ORDER BY dev',
    'SELECT dev, count(*) AS dev FROM hz GROUP BY dev ORDER BY dev',
  ];
  const answer = (db: typeof fixture.db, sql: string) => db.query(sql).then((r) => r.rows, (e: { code?: string }) => e.code);

  it('sorts that column, as PostgreSQL does', async () => {
    const db = fixture.db;
    const before: unknown[] = [];
    for (const sql of queries) before.push(await answer(db, sql));
    expect(before[0]).toEqual([
      { time: '1', v: 1 },
      { time: '10', v: 10 },
      { time: '100', v: 100 },
    ]);
    expect(before[2]).toHaveLength(3);
    expect(before[4]).toEqual([{ g1: 300 }, { g1: 299 }]);
    expect(before[5]).toBe('42702');
    await db.exec("SELECT compress_chunk(c) FROM show_chunks('ht') c; SELECT compress_chunk(c) FROM show_chunks('hz') c");
    for (const [i, sql] of queries.entries()) expect(await answer(db, sql), sql).toEqual(before[i]);
  });
});
