// Statements of one query string that follow a change of the columnstore's catalog (DROP, RENAME,
// TRUNCATE, drop_chunks, …) are planned after it ran, and a TRUNCATE's chunks are gone before a later
// statement of its transaction reads the hypertable: planned with the string, such statements read
// the batches of chunks the string had dropped or truncated, or of a table renamed away. The answers
// are compared with the same statements over a plain table of the same rows. A TRUNCATE of one
// compressed chunk is refused (its batches would stay).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startTestServer, type TestServer } from '../support/server.js';

describe('statements after a catalog change in the same string or transaction', () => {
  let server: TestServer;
  let c: pg.Client;

  beforeAll(async () => {
    server = await startTestServer({ http: null });
    c = new pg.Client({ connectionString: server.url });
    await c.connect();
    await c.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
  });
  afterAll(async () => {
    await c?.end();
    await server?.close();
  });
  // `ht`: 100 rows in one compressed chunk; `ref`: the same rows in a plain table.
  beforeEach(async () => {
    await c.query(`DROP TABLE IF EXISTS ht, ht2, ref, ref2;
      CREATE TABLE ht (time bigint NOT NULL, v int);
      SELECT create_hypertable('ht', 'time', chunk_time_interval => 1000);
      ALTER TABLE ht SET (timescaledb.compress);
      INSERT INTO ht SELECT g, g FROM generate_series(1, 100) g;
      CREATE TABLE ref AS SELECT * FROM ht;`);
    await c.query("SELECT compress_chunk(x) FROM show_chunks('ht') x");
  });

  /** The results of `sql` as rows of values (a string of several statements: the last one's). */
  const rows = async (sql: string): Promise<unknown> => {
    const r = (await c.query({ text: sql, rowMode: 'array' })) as unknown as pg.QueryArrayResult | pg.QueryArrayResult[];
    return (Array.isArray(r) ? r[r.length - 1]! : r).rows;
  };
  const both = async (sql: string) => {
    const got = await rows(sql.replaceAll('{t}', 'ht'));
    expect(got, sql).toEqual(await rows(sql.replaceAll('{t}', 'ref')));
    return got;
  };

  it.each([
    'TRUNCATE {t}; SELECT count(*), sum(v) FROM {t}',
    'TRUNCATE {t}; INSERT INTO {t} VALUES (50, 50); SELECT count(*), sum(v) FROM {t}',
    'DROP TABLE {t}; CREATE TABLE {t} (time bigint NOT NULL, v int); INSERT INTO {t} VALUES (1, 1); SELECT count(*), sum(v) FROM {t}',
    'ALTER TABLE {t} RENAME TO {t}2; CREATE TABLE {t} (time bigint NOT NULL, v int); SELECT count(*), sum(v) FROM {t}',
    'ALTER TABLE {t} RENAME TO {t}2; SELECT count(*), sum(v) FROM {t}2',
    'DELETE FROM {t} WHERE v > 50; SELECT count(*), sum(v) FROM {t}',
  ])('%s', async (sql) => {
    await both(sql);
  });

  it('in-process: TRUNCATE then a read, in one string', async () => {
    const db = server.orbit;
    const results = await db.exec('TRUNCATE ht; SELECT count(*) AS n FROM ht');
    expect(results[1]!.rows).toEqual([{ n: 0 }]);
  });

  // PostgreSQL would empty the chunk's (empty) table; the batches, its rows, would stay readable.
  it('TRUNCATE of a compressed chunk by name is refused', async () => {
    const chunk = (await c.query("SELECT x::text AS c FROM show_chunks('ht') x")).rows[0].c as string;
    await expect(c.query(`TRUNCATE ${chunk}`)).rejects.toMatchObject({ code: '0A000' });
    await both('SELECT count(*), sum(v) FROM {t}');
  });

  // Parts share one transaction only when Orbit opens it: with the string's own, a read after the
  // change is refused; a change followed by nothing that reads runs as before.
  it('with transaction control in the string', async () => {
    await expect(c.query('BEGIN; TRUNCATE ht; SELECT count(*) FROM ht; COMMIT')).rejects.toMatchObject({ code: '0A000' });
    await c.query('ROLLBACK');
    await c.query('BEGIN; ALTER TABLE ht ADD COLUMN extra int; COMMIT');
    expect(await rows('SELECT count(*), count(extra) FROM ht')).toEqual([['100', '0']]);
    expect((await server.orbit.exec('BEGIN; ALTER TABLE ht DROP COLUMN extra; COMMIT')).length).toBe(3);
  });

  it('drop_chunks then a read, in one string', async () => {
    expect(await rows("SELECT count(*) FROM drop_chunks('ht', older_than => 1000); SELECT count(*), sum(v) FROM ht")).toEqual([['0', null]]);
  });

  it('TRUNCATE in a transaction block, then reads and a write', async () => {
    await c.query('BEGIN');
    await c.query('TRUNCATE ht');
    await c.query('TRUNCATE ref');
    await both('SELECT count(*), sum(v) FROM {t}');
    await both('SELECT * FROM {t} ORDER BY time DESC LIMIT 1');
    await c.query('ROLLBACK');
    await c.query('BEGIN');
    await c.query('TRUNCATE ht');
    await c.query('INSERT INTO ht VALUES (50, 50)');
    expect(await rows('SELECT count(*), sum(v) FROM ht')).toEqual([['1', '50']]);
    await c.query('ROLLBACK');
    // Rolled back: the compressed rows are there again.
    await both('SELECT count(*), sum(v) FROM {t}');
  });
});
