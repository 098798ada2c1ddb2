// A hypertable with compressed chunks is read through a subquery (sql/rewrite/columnstore-reads.ts),
// whose whole row is a record, not the table's row type: pg_typeof said record, a function taking
// the table's type failed with 42883, RowDescription gave type 2249. Refused (0A000) where the type
// shows; JSON building from the row (same names, same output) and `x.*` in a target list still run.
import { describe, expect, it } from 'vitest';
import { inProcessOrbit } from '../support/in-process.js';

describe('whole-row references to a hypertable with compressed chunks', () => {
  const fixture = inProcessOrbit(`CREATE TABLE ht (time bigint NOT NULL, v int, ht_id int);
    SELECT create_hypertable('ht', 'time', chunk_time_interval => 1000);
    ALTER TABLE ht SET (timescaledb.compress);
    INSERT INTO ht SELECT g, g, g FROM generate_series(1, 10) g;
    CREATE FUNCTION vv(r ht) RETURNS int LANGUAGE sql AS 'SELECT r.v';`);
  const typed = ['SELECT pg_typeof(x)::text AS t FROM ht x LIMIT 1', 'SELECT vv(ht) AS t FROM ht ORDER BY 1 LIMIT 1'];
  const json = ['SELECT row_to_json(x) AS j FROM ht x ORDER BY time LIMIT 1', 'SELECT json_agg(x.* ORDER BY time) AS j FROM ht x', 'SELECT x.* FROM ht x ORDER BY time LIMIT 1', 'SELECT count(x) AS j FROM ht x'];

  it('are refused where the row type shows, and answered as PostgreSQL does where it does not', async () => {
    const db = fixture.db;
    const before: unknown[][] = [];
    for (const sql of [...typed, ...json]) before.push((await db.query(sql)).rows);
    expect(before[0]).toEqual([{ t: 'ht' }]);
    await db.exec("SELECT compress_chunk(x) FROM show_chunks('ht') x");
    for (const sql of typed) await expect(db.query(sql), sql).rejects.toMatchObject({ code: '0A000' });
    for (const [i, sql] of json.entries()) expect((await db.query(sql)).rows, sql).toEqual(before[typed.length + i]);
    // A column named like the table is a column, not the row.
    expect((await db.query('SELECT ht_id FROM ht ORDER BY time LIMIT 1')).rows).toEqual([{ ht_id: 1 }]);
  });
});
