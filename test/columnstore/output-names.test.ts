// An unnamed output column of a statement the kernels answer gets the name PostgreSQL gives it
// (FigureColname: `coalesce`, `case`, `greatest`, `array`, …), not `?column?`: the final statement
// names its columns, so the name is Orbit's to get right. Compared with a plain table.
import { describe, expect, it } from 'vitest';
import { inProcessOrbit } from '../support/in-process.js';

describe('output column names over compressed chunks', () => {
  const fixture = inProcessOrbit(
    `CREATE TABLE ht (time timestamptz NOT NULL, dev int, v float8);
    SELECT create_hypertable('ht', 'time', chunk_time_interval => INTERVAL '1 day');
    ALTER TABLE ht SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');
    INSERT INTO ht SELECT '2024-01-01'::timestamptz + g * INTERVAL '1 hour', g % 3, g FROM generate_series(0, 71) g;
    CREATE TABLE ref AS SELECT * FROM ht;`,
    ['ht'],
  );
  const shapes = [
    'SELECT dev, coalesce(max(v), 0) FROM X GROUP BY dev ORDER BY dev',
    'SELECT dev, CASE WHEN max(v) > 10 THEN 1 ELSE 0 END FROM X GROUP BY dev ORDER BY dev',
    'SELECT dev, greatest(max(v), 1), least(min(v), 1) FROM X GROUP BY dev ORDER BY dev',
    'SELECT dev, ARRAY[max(v)], (count(*), 1) FROM X GROUP BY dev ORDER BY dev',
    "SELECT time_bucket('1 day', time), max(v) + 1, -min(v), count(*)::text FROM X GROUP BY 1 ORDER BY 1",
    'SELECT dev, nullif(count(*), 0), max(v) IS NULL FROM X GROUP BY dev ORDER BY dev',
  ];

  it('are the names PostgreSQL gives', async () => {
    for (const shape of shapes) {
      const want = await fixture.db.query(shape.replace('X', 'ref'));
      const got = await fixture.db.query(shape.replace('X', 'ht'));
      expect(got.fields.map((f) => f.name), shape).toEqual(want.fields.map((f) => f.name));
      expect(got.rows, shape).toEqual(want.rows);
    }
  });
});
