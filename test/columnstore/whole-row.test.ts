// A hypertable with compressed chunks is read through a subquery (sql/rewrite/columnstore-reads.ts,
// or the scan's, sql/planner/scan.ts), whose whole row is a record, not the table's row type: it
// was refused (0A000) or came back as a record (pg_typeof record, RowDescription type 2249). Each
// statement here must answer the same rows with the same types before and after compress_chunk
// (sql/rewrite/whole-row.ts types the row as the table's).
import { beforeAll, describe, expect, it } from 'vitest';
import type { Orbit } from '../../src/orbit.js';
import { inProcessOrbit } from '../support/in-process.js';
import { serverWithClient } from '../support/server.js';
import { rolledBack } from '../support/sqlstate.js';

const SETUP = `CREATE TABLE ht (time bigint NOT NULL, gone int, v int, ht_id int);
  SELECT create_hypertable('ht', 'time', chunk_time_interval => 1000);
  ALTER TABLE ht DROP COLUMN gone;
  ALTER TABLE ht SET (timescaledb.compress);
  INSERT INTO ht SELECT g, g, g FROM generate_series(1, 5) g;
  INSERT INTO ht SELECT g, g, g FROM generate_series(2001, 2002) g;
  CREATE FUNCTION vv(r ht) RETURNS int LANGUAGE sql AS 'SELECT r.v';
  CREATE TABLE o (k int);
  INSERT INTO o VALUES (1), (7), (2001);
  CREATE TABLE o2 (x int, ht int);
  INSERT INTO o2 VALUES (42, 43);
  CREATE TABLE ht_copy (LIKE ht);
  CREATE TABLE m (time bigint NOT NULL, m int);
  SELECT create_hypertable('m', 'time', chunk_time_interval => 1000);
  ALTER TABLE m SET (timescaledb.compress);
  INSERT INTO m VALUES (1, 10), (2, 20);`;

const COMPRESS = "SELECT compress_chunk(c) FROM show_chunks('ht') c; SELECT compress_chunk(c) FROM show_chunks('m') c";

const STATEMENTS = [
  // The row's type shows.
  'SELECT pg_typeof(x)::text AS t FROM ht x LIMIT 1',
  'SELECT vv(ht) AS t FROM ht ORDER BY 1',
  'SELECT x FROM ht x ORDER BY time',
  'SELECT x, x.*::text, (x).v, x.vv, (x).vv FROM ht x ORDER BY time',
  'SELECT (x::ht).v, x::text FROM ht x ORDER BY time',
  'SELECT x FROM ht x WHERE x = ROW(3, 3, 3)::ht',
  'SELECT x < ROW(3, 0, 0)::ht AS lt FROM ht x ORDER BY time',
  'SELECT array_agg(x ORDER BY time), max(x) FROM ht x',
  'SELECT first(x, time), last(x, time) FROM ht x',
  'SELECT (x).* FROM ht x ORDER BY time',
  'SELECT ROW(x.*), to_json(x), x IS NOT DISTINCT FROM NULL AS d FROM ht x ORDER BY time',
  'SELECT count(x) AS c, json_agg(x.* ORDER BY time) AS j FROM ht x',
  // In GROUP BY, ORDER BY, DISTINCT; an output name is the output column.
  'SELECT x, count(*) FROM ht x GROUP BY x ORDER BY x DESC',
  'SELECT x AS y, count(*) FROM ht x GROUP BY x ORDER BY 1',
  'SELECT DISTINCT x FROM ht x ORDER BY x',
  'SELECT DISTINCT ON (ht_id) x FROM ht x ORDER BY ht_id, time DESC',
  'SELECT time FROM ht x ORDER BY x DESC',
  'SELECT v AS x FROM ht x ORDER BY x',
  // An outer join's missing row stays NULL (not a row of NULLs).
  'SELECT o.k, x, x IS NULL AS n, to_jsonb(x) AS j, count(x) OVER () AS c FROM o LEFT JOIN ht x ON x.time = o.k ORDER BY 1',
  'SELECT o.k, y FROM o LEFT JOIN LATERAL (SELECT x FROM ht x WHERE x.time = o.k) s(y) ON true ORDER BY 1',
  // Subqueries, CTEs, set operations, other FROM items.
  'SELECT (SELECT x FROM ht x WHERE x.time = 2)',
  'SELECT (SELECT x) FROM ht x ORDER BY 1',
  'SELECT x FROM ht x WHERE x IN (SELECT y FROM ht y WHERE y.time < 3) ORDER BY 1',
  'SELECT x FROM ht x WHERE time = 3 UNION ALL SELECT y FROM ht y WHERE time = 4 ORDER BY 1',
  'WITH c AS (SELECT x FROM ht x) SELECT * FROM c ORDER BY 1',
  'WITH c AS (SELECT 1 AS q) SELECT x FROM ht x, c ORDER BY 1',
  'SELECT x FROM ht x JOIN (SELECT 1 AS y) s ON true ORDER BY 1',
  'SELECT x FROM ht x, (VALUES (1)) v ORDER BY 1',
  'SELECT x FROM ht x, o WHERE o.k = x.time ORDER BY 1',
  'SELECT a.time, b FROM ht a JOIN ht b ON a.time = b.time ORDER BY 1',
  // x.* in the target list expands into columns (the top SELECT's own targets).
  'SELECT x.* FROM ht x JOIN ht y USING (time) ORDER BY time LIMIT 2',
  'SELECT x.time, z FROM ht x, LATERAL vv(x) AS z ORDER BY 1',
  'SELECT x FROM ht x(a, b) ORDER BY a',
  // A column of that name (of another FROM item, an outer query, a CTE, the table itself) is the column.
  'SELECT x FROM ht x, o2 ORDER BY 1',
  'SELECT ht FROM ht, o2 ORDER BY 1',
  'SELECT (SELECT x FROM ht x LIMIT 1) FROM o2',
  'WITH c(x) AS (SELECT 1) SELECT x FROM ht x, c ORDER BY 1',
  'SELECT x FROM ht x, (VALUES (1)) v(x) ORDER BY 1',
  'SELECT x, s FROM ht x, LATERAL (SELECT x.v AS x) s ORDER BY 1',
  // … but only where PostgreSQL sees it: not in an ON clause for an item before the join, not in a
  // CTE for a later CTE of the name.
  "SELECT o.k FROM o2, ht x JOIN o ON x.time = o.k AND pg_typeof(x)::text = 'ht' ORDER BY 1",
  'WITH a AS (SELECT x FROM ht x, o2 LIMIT 1), o2 AS (SELECT 1 AS q) SELECT * FROM a',
  'SELECT m FROM m ORDER BY 1',
  'SELECT m.m, pg_typeof(m.*)::text AS t FROM m ORDER BY 1',
  'SELECT ht_id FROM ht ORDER BY time LIMIT 1',
  // With time bounds (the planner's scan would otherwise take them).
  'SELECT x FROM ht x WHERE time > 2000 ORDER BY 1',
  'SELECT pg_typeof(x)::text AS t FROM ht x WHERE time > 2000',
  'SELECT ht FROM ht WHERE time = 2',
  'SELECT x FROM ht x ORDER BY time DESC LIMIT 2',
  'SELECT last(x, time) FROM ht x WHERE time > 2000',
  'SELECT time_bucket(1000, time) AS b, count(x), array_agg(x ORDER BY time) FROM ht x GROUP BY 1 ORDER BY 1',
  // Writes reading the row.
  'UPDATE o SET k = vv(x) FROM ht x WHERE x.time = o.k RETURNING o.k, x',
  'INSERT INTO ht_copy SELECT (x).* FROM ht x WHERE time < 3 RETURNING *',
];

type Answer = { rows: unknown[]; types: Array<[string, number]> } | { code: string };

async function answers(db: Orbit): Promise<Answer[]> {
  const out: Answer[] = [];
  for (const sql of STATEMENTS) {
    out.push(
      await rolledBack(db, sql, (r) => {
        const rows = sql.startsWith('INSERT') ? [...r.rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) : r.rows;
        return { rows, types: r.fields.map((f): [string, number] => [f.name, f.dataTypeID]) };
      }),
    );
  }
  return out;
}

describe('whole-row references to a hypertable with compressed chunks', () => {
  const fixture = inProcessOrbit(SETUP);

  it('answer the same rows with the same types as before compress_chunk', async () => {
    const db = fixture.db;
    const before = await answers(db);
    expect(before[0]).toMatchObject({ rows: [{ t: 'ht' }] });
    await db.exec(COMPRESS);
    const after = await answers(db);
    for (const [i, sql] of STATEMENTS.entries()) expect(after[i], sql).toEqual(before[i]);
  });

  it('are refused (0A000) next to a FROM item whose columns Orbit does not know', async () => {
    // A function's columns depend on its result type; `s` here could have a column x.
    for (const sql of ['SELECT x FROM ht x, generate_series(1, 1) g', 'SELECT x FROM ht x, (SELECT * FROM o2) s']) {
      await expect(fixture.db.query(sql), sql).rejects.toMatchObject({ code: '0A000' });
    }
    // Qualified, the reference is the row whatever the other items' columns.
    expect((await fixture.db.query('SELECT vv(x.*) AS v FROM ht x, generate_series(1, 1) g ORDER BY 1 LIMIT 1')).rows).toEqual([{ v: 1 }]);
  });
});

describe('whole-row references after the table changed', () => {
  const fixture = inProcessOrbit(`CREATE TABLE h (time bigint NOT NULL, a int, b text);
    SELECT create_hypertable('h', 'time', chunk_time_interval => 1000);
    ALTER TABLE h SET (timescaledb.compress);
    INSERT INTO h SELECT g, g, g::text FROM generate_series(1, 3) g;
    CREATE TABLE o (k int);
    INSERT INTO o VALUES (2), (9);`, ['h']);

  it('type the row with columns added and dropped since compression as the rowstore does', async () => {
    const db = fixture.db;
    await db.exec('ALTER TABLE h ADD COLUMN c int DEFAULT 7; ALTER TABLE h DROP COLUMN a');
    const sql = ['SELECT x, pg_typeof(x)::text AS t FROM h x ORDER BY time', 'SELECT o.k, x FROM o LEFT JOIN h x ON x.time = o.k ORDER BY 1'];
    const compressed = [];
    for (const s of sql) compressed.push(await db.query(s));
    await db.exec("SELECT decompress_chunk(c) FROM show_chunks('h') c");
    for (const [i, s] of sql.entries()) {
      const r = await db.query(s);
      expect({ rows: compressed[i]!.rows, types: compressed[i]!.fields.map((f) => f.dataTypeID) }, s).toEqual({ rows: r.rows, types: r.fields.map((f) => f.dataTypeID) });
    }
    expect(compressed[0]!.rows[0]).toEqual({ x: '(1,1,7)', t: 'h' });
  });
});

describe('whole-row references over the wire', () => {
  const wire = serverWithClient();
  beforeAll(async () => {
    await wire.client.query(`CREATE EXTENSION IF NOT EXISTS timescaledb; ${SETUP}`);
    await wire.client.query(COMPRESS);
  });

  it("describe the row's column with the table's row type", async () => {
    const oid = Number((await wire.client.query("SELECT 'ht'::regtype::oid AS oid")).rows[0].oid);
    const simple = await wire.client.query('SELECT x FROM ht x ORDER BY time LIMIT 1');
    expect(simple.fields.map((f) => f.dataTypeID)).toEqual([oid]);
    expect(simple.rows).toEqual([{ x: '(1,1,1)' }]);
    // The extended protocol, with a parameter (the general path, not the planner's scan).
    const extended = await wire.client.query('SELECT x FROM ht x WHERE time > $1 ORDER BY time', [2000]);
    expect(extended.fields.map((f) => f.dataTypeID)).toEqual([oid]);
    expect(extended.rows).toEqual([{ x: '(2001,2001,2001)' }, { x: '(2002,2002,2002)' }]);
  });
});
