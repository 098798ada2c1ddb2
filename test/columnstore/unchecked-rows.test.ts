// Checks of existing rows PostgreSQL makes over its own tables, which do not hold the rows of
// compressed chunks (session/columnstore/unchecked-rows.ts): a domain constraint was accepted over
// violating compressed rows (and then every read failed decoding them into the domain); it is now
// checked against them, as PostgreSQL checks the same rows in the rowstore. A foreign key
// referencing a hypertable with compressed chunks failed with a false 23503: refused (0A000), and
// checked by PostgreSQL once the chunks are decompressed.
import { describe, expect, it } from 'vitest';
import type { Orbit } from '../../src/orbit.js';
import { inProcessOrbit } from '../support/in-process.js';

const SETUP = `CREATE DOMAIN posint AS int;
  ALTER DOMAIN posint ADD CONSTRAINT nz CHECK (VALUE <> 0) NOT VALID;
  CREATE DOMAIN sub AS posint;
  CREATE TABLE t (time bigint NOT NULL, a posint, b sub);
  SELECT create_hypertable('t', 'time', chunk_time_interval => 1000);
  ALTER TABLE t SET (timescaledb.compress);
  INSERT INTO t VALUES (1, -7, 3), (2, NULL, NULL);
  CREATE TABLE k (time bigint NOT NULL, id int, PRIMARY KEY (time, id));
  SELECT create_hypertable('k', 'time', chunk_time_interval => 1000);
  ALTER TABLE k SET (timescaledb.compress);
  INSERT INTO k VALUES (1, 5);
  CREATE TABLE o (time bigint, id int);
  INSERT INTO o VALUES (1, 5);`;

const ROWS = [{ time: '1', a: -7, b: 3 }, { time: '2', a: null, b: null }];

/** Each statement's answer in a transaction rolled back: ok, or its SQLSTATE and message. */
async function outcomes(db: Orbit, statements: readonly string[]): Promise<Array<{ code?: string; message?: string }>> {
  const out = [];
  for (const sql of statements) {
    await db.exec('BEGIN');
    try {
      await db.query(sql);
      out.push({});
    } catch (e) {
      out.push({ code: (e as { code: string }).code, message: (e as Error).message });
    } finally {
      await db.exec('ROLLBACK');
    }
  }
  return out;
}

const DOMAIN_STATEMENTS = [
  'ALTER DOMAIN posint ADD CONSTRAINT pos CHECK (VALUE > 0)',
  'ALTER DOMAIN public.posint SET NOT NULL',
  'ALTER DOMAIN posint ADD CONSTRAINT nn NOT NULL',
  // A domain over it: a column of that one has the new constraint too.
  'ALTER DOMAIN sub ADD CONSTRAINT pos CHECK (VALUE > 5)',
  'ALTER DOMAIN posint ADD CONSTRAINT small CHECK (VALUE < 100)',
  'ALTER DOMAIN posint VALIDATE CONSTRAINT nz',
  'ALTER DOMAIN posint ADD CONSTRAINT pos CHECK (VALUE > -100) NOT VALID',
];

describe('domain constraints over a hypertable with compressed chunks', () => {
  const fixture = inProcessOrbit(SETUP, ['t', 'k']);

  it('check the compressed rows as PostgreSQL checks the rowstore', async () => {
    const db = fixture.db;
    // Once with the cache tables empty, once filled (PostgreSQL checks those too, by their names).
    const compressed = await outcomes(db, DOMAIN_STATEMENTS);
    await db.query('SELECT count(*) FROM t');
    expect(await outcomes(db, DOMAIN_STATEMENTS)).toEqual(compressed);
    expect((await db.query('SELECT time::text, a, b FROM t ORDER BY time')).rows).toEqual(ROWS);
    await db.exec("SELECT decompress_chunk(c) FROM show_chunks('t') c");
    const rowstore = await outcomes(db, DOMAIN_STATEMENTS);
    expect(rowstore[0]).toEqual({ code: '23514', message: 'column "a" of table "_hyper_1_1_chunk" contains values that violate the new constraint' });
    for (const [i, sql] of DOMAIN_STATEMENTS.entries()) expect(compressed[i], sql).toEqual(rowstore[i]);
    await db.exec("SELECT compress_chunk(c) FROM show_chunks('t') c");
  });

  it('are refused (0A000) NOT VALID over violating compressed rows, and in a DO block', async () => {
    const db = fixture.db;
    for (const sql of ['ALTER DOMAIN posint ADD CONSTRAINT pos CHECK (VALUE > 0) NOT VALID', 'DO $$ BEGIN ALTER DOMAIN posint ADD CONSTRAINT pos CHECK (VALUE > 0); END $$']) {
      await expect(db.query(sql), sql).rejects.toMatchObject({ code: '0A000' });
    }
    const constraints = await db.query("SELECT count(*)::int AS n FROM pg_constraint WHERE contypid IN ('posint'::regtype, 'sub'::regtype)");
    expect(constraints.rows).toEqual([{ n: 1 }]);
    expect((await db.query('SELECT time::text, a, b FROM t ORDER BY time')).rows).toEqual(ROWS);
  });
});

describe('foreign keys referencing a hypertable with compressed chunks', () => {
  const fixture = inProcessOrbit(SETUP, ['t', 'k']);

  it('are refused (0A000) where PostgreSQL would check the rows, and made without a check', async () => {
    const db = fixture.db;
    // PostgreSQL's check does not see k's compressed rows: it failed with 23503.
    await expect(db.query('ALTER TABLE o ADD FOREIGN KEY (time, id) REFERENCES k (time, id)')).rejects.toMatchObject({ code: '0A000' });
    await expect(db.query('DO $$ BEGIN ALTER TABLE o ADD FOREIGN KEY (time, id) REFERENCES k (time, id); END $$')).rejects.toMatchObject({ code: '0A000' });
    await db.exec('ALTER TABLE o ADD CONSTRAINT f FOREIGN KEY (time, id) REFERENCES k (time, id) NOT VALID');
    await expect(db.query('ALTER TABLE o VALIDATE CONSTRAINT f')).rejects.toMatchObject({ code: '0A000' });
    await db.exec('ALTER TABLE o ADD CONSTRAINT g FOREIGN KEY (time, id) REFERENCES k (time, id) NOT VALID');
    await db.exec('CREATE TABLE o2 (time bigint, id int, FOREIGN KEY (time, id) REFERENCES k (time, id))');
    const keys = await db.query("SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'o'::regclass AND conname IN ('f', 'g') ORDER BY 1");
    expect(keys.rows).toEqual([{ conname: 'f', convalidated: false }, { conname: 'g', convalidated: false }]);
  });

  it('are checked by PostgreSQL once the chunks are back in the rowstore', async () => {
    const db = fixture.db;
    await db.exec("SELECT decompress_chunk(c) FROM show_chunks('k') c");
    await db.exec('ALTER TABLE o VALIDATE CONSTRAINT f; ALTER TABLE o ADD FOREIGN KEY (time, id) REFERENCES k (time, id)');
  });
});

describe('rows violating a NOT VALID domain constraint', () => {
  const fixture = inProcessOrbit(`CREATE DOMAIN posint AS int;
    CREATE DOMAIN sub AS posint;
    CREATE TABLE t (time bigint NOT NULL, a sub);
    SELECT create_hypertable('t', 'time', chunk_time_interval => 1000);
    ALTER TABLE t SET (timescaledb.compress);
    INSERT INTO t VALUES (1, -7), (2, NULL), (3000, 5);
    ALTER DOMAIN posint ADD CONSTRAINT pos CHECK (VALUE > 0) NOT VALID;`);

  it('keep their chunk in the rowstore (0A000): decoded into the domain they would fail every read', async () => {
    const db = fixture.db;
    await expect(db.query("SELECT compress_chunk(c) FROM show_chunks('t') c")).rejects.toMatchObject({ code: '0A000' });
    const chunks = await db.query('SELECT range_start_integer AS s, is_compressed AS c FROM timescaledb_information.chunks ORDER BY 1');
    expect(chunks.rows).toEqual([{ s: 0, c: false }, { s: 3000, c: true }]);
    // As PostgreSQL answers: NOT VALID leaves the rows there as they are.
    expect((await db.query('SELECT time::int, a FROM t ORDER BY time')).rows).toEqual([{ time: 1, a: -7 }, { time: 2, a: null }, { time: 3000, a: 5 }]);
  });
});
