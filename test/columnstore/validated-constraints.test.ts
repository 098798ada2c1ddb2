// ALTER TABLE that checks the rows already there (a CHECK, FOREIGN KEY or NOT NULL constraint added
// valid, VALIDATE CONSTRAINT, SET NOT NULL) on a hypertable with compressed chunks: PostgreSQL alone
// checks the chunk tables only, so the rows of the batches are checked too
// (session/columnstore/validated-constraints.ts). The oracle is the same data never compressed:
// the same outcome, SQLSTATE, message and detail, and the same catalog after it.
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { inProcessOrbit } from '../support/in-process.js';
import { serverWithClient } from '../support/server.js';

// Column a breaks constraints only in compressed rows (7, NULL), b only in rowstore rows (8, NULL),
// m in both (PostgreSQL names the chunk it checks first), c nowhere. Chunks 1 and 2 are compressed
// in `compressed`; chunk 3 gets its rows afterwards.
const SETUP = `CREATE TABLE ref (id int PRIMARY KEY); INSERT INTO ref VALUES (1), (2);
  CREATE TABLE ref2 (x int, y int, PRIMARY KEY (x, y)); INSERT INTO ref2 VALUES (1, 1), (2, 2), (7, 1);
  CREATE TABLE t (time bigint NOT NULL, a int, b int, c int, m int);
  SELECT create_hypertable('t', 'time', chunk_time_interval => 1000);
  ALTER TABLE t SET (timescaledb.compress);
  INSERT INTO t VALUES (100, 1, 1, 1, 1), (200, 2, 2, 2, 2), (1100, 7, 1, 1, 7), (1200, NULL, 2, 2, NULL);`;
const ROWSTORE = ['INSERT INTO t VALUES (5100, 1, 8, 1, 8)', 'INSERT INTO t VALUES (5200, 2, NULL, 2, NULL)'];

type Db = { query(sql: string): Promise<{ rows: unknown[] }>; exec(sql: string): Promise<unknown> };
const outcome = (db: Db, sql: string) =>
  db.exec(sql).then(
    () => 'ok',
    (e: { code?: string; message: string; detail?: string }) => `${e.code}: ${e.message}${e.detail ? ` (${e.detail})` : ''}`,
  );
const catalog = async (db: Db) => [
  (await db.query("SELECT conname, contype, convalidated FROM pg_constraint WHERE conrelid = 't'::regclass AND contype <> 'p' ORDER BY 1")).rows,
  (await db.query("SELECT attname, attnotnull FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 ORDER BY attnum")).rows,
];
/** Undoes what a statement that succeeded added. */
const RESET = `ALTER TABLE t DROP CONSTRAINT IF EXISTS ck, DROP CONSTRAINT IF EXISTS fk, DROP CONSTRAINT IF EXISTS nn,
  ALTER COLUMN a DROP NOT NULL, ALTER COLUMN b DROP NOT NULL, ALTER COLUMN c DROP NOT NULL, ALTER COLUMN m DROP NOT NULL`;

/** Each case per column: the statements (the last one checks the rows) and what the oracle gives. */
const CASES = (x: string) => [
  `ALTER TABLE t ADD CONSTRAINT ck CHECK (${x} IN (1, 2))`,
  `ALTER TABLE t ADD CONSTRAINT ck CHECK (${x} < 5) NOT VALID; ALTER TABLE t VALIDATE CONSTRAINT ck`,
  `ALTER TABLE t ALTER COLUMN ${x} SET NOT NULL`,
  `ALTER TABLE t ADD CONSTRAINT nn NOT NULL ${x}`,
  `ALTER TABLE t ADD CONSTRAINT nn NOT NULL ${x} NOT VALID; ALTER TABLE t VALIDATE CONSTRAINT nn`,
  `ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (${x}) REFERENCES ref (id)`,
  `ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (${x}) REFERENCES ref (id) NOT VALID; ALTER TABLE t VALIDATE CONSTRAINT fk`,
  `ALTER TABLE t ADD CONSTRAINT ck CHECK (${x} > 0), ALTER COLUMN ${x} SET NOT NULL`,
];

describe('constraints validated over compressed rows, against the same rows uncompressed', () => {
  const compressed = inProcessOrbit(SETUP, ['t']);
  const oracle = inProcessOrbit(SETUP);
  beforeAll(async () => {
    for (const sql of ROWSTORE) {
      await compressed.db.exec(sql);
      await oracle.db.exec(sql);
    }
  });

  it('the fixture: a and chunks 1–2 in the columnstore, b in the rowstore', async () => {
    const chunks = "SELECT chunk_name, is_compressed FROM timescaledb_information.chunks WHERE hypertable_name = 't' ORDER BY 1";
    expect((await compressed.db.query(chunks)).rows).toEqual(['1', '2', '3'].map((i) => ({ chunk_name: `_hyper_1_${i}_chunk`, is_compressed: i !== '3' })));
    expect((await oracle.db.query(chunks)).rows).toEqual(['1', '2', '3'].map((i) => ({ chunk_name: `_hyper_1_${i}_chunk`, is_compressed: false })));
  });

  for (const [x, what] of [['a', 'compressed rows'], ['b', 'rowstore rows'], ['m', 'compressed and rowstore rows'], ['c', 'no rows']] as const) {
    it(`violations in ${what} (column ${x}): outcome and catalog as PostgreSQL's`, async () => {
      for (const sql of CASES(x)) {
        const expected = await outcome(oracle.db, sql);
        expect(await outcome(compressed.db, sql), sql).toBe(expected);
        expect(await catalog(compressed.db), sql).toEqual(await catalog(oracle.db));
        if (x === 'c') expect(expected, sql).toBe('ok');
        else expect(expected, sql).toMatch(new RegExp(`^23(514|502|503): .*_hyper_1_${x === 'b' ? 3 : 2}_chunk`));
        await compressed.db.exec(RESET);
        await oracle.db.exec(RESET);
      }
    });
  }

  it('a NULL passes a CHECK; a key with a NULL passes MATCH SIMPLE, not MATCH FULL', async () => {
    for (const sql of ['ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0)', 'ALTER TABLE t ADD CONSTRAINT ck CHECK (a IN (1, 2, 7))']) {
      expect(await outcome(compressed.db, sql), sql).toBe('ok');
      await compressed.db.exec(RESET);
    }
    // Two-column keys: (a, c) is (NULL, 2) in a compressed row, (c, a) is (1, 7).
    for (const [sql, expected] of [
      ['ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a, c) REFERENCES ref2 (x, y)', 'ok'],
      ['ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a, c) REFERENCES ref2 (x, y) MATCH FULL', '23503: insert or update on table "_hyper_1_2_chunk" violates foreign key constraint "fk" (MATCH FULL does not allow mixing of null and nonnull key values.)'],
      ['ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (c, a) REFERENCES ref2 (x, y)', '23503: insert or update on table "_hyper_1_2_chunk" violates foreign key constraint "fk" (Key (c, a)=(1, 7) is not present in table "ref2".)'],
    ]) {
      expect(await outcome(oracle.db, sql!), sql).toBe(expected);
      expect(await outcome(compressed.db, sql!), sql).toBe(expected);
      await compressed.db.exec(RESET);
      await oracle.db.exec(RESET);
    }
  });

  it('in a query string, after statements making what the constraint names, and with its own BEGIN … COMMIT', async () => {
    for (const sql of [
      'CREATE TABLE ref3 (id int PRIMARY KEY); INSERT INTO ref3 VALUES (1), (2); ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES ref3 (id)',
      'CREATE FUNCTION small(int) RETURNS bool LANGUAGE sql IMMUTABLE AS $$ SELECT $1 < 5 $$; ALTER TABLE t ADD CONSTRAINT ck CHECK (small(a))',
      'BEGIN; ALTER TABLE t ADD CONSTRAINT ck CHECK (a < 5); COMMIT',
      'BEGIN; ALTER TABLE t ADD CONSTRAINT ck CHECK (c < 5); COMMIT',
    ]) {
      const expected = await outcome(oracle.db, sql);
      expect(await outcome(compressed.db, sql), sql).toBe(expected);
      // A failed string with its own BEGIN leaves the block open (aborted), as in PostgreSQL.
      await compressed.db.exec('ROLLBACK');
      await oracle.db.exec('ROLLBACK');
      expect(await catalog(compressed.db), sql).toEqual(await catalog(oracle.db));
      expect(expected, sql).toMatch(sql.includes('(c < 5)') ? /^ok$/ : /^23(514|503): .*"_hyper_1_2_chunk"/);
      await compressed.db.exec(RESET);
      await oracle.db.exec(RESET);
    }
    expect((await compressed.db.query("SELECT to_regclass('ref3') IS NULL AS gone, to_regprocedure('small(int)') IS NULL AS gone_too")).rows).toEqual([{ gone: true, gone_too: true }]);
  });

  it('a CHECK added over compressed rows is enforced on new rows, direct ingest included', async () => {
    await compressed.db.exec('ALTER TABLE t ADD CONSTRAINT ck CHECK (c < 5)');
    try {
      expect(await outcome(compressed.db, 'INSERT INTO t VALUES (300, 1, 1, 9)')).toMatch(/^23514: new row for relation "_hyper_1_1_chunk" violates check constraint "ck"/);
      await compressed.db.exec('SET timescaledb.enable_direct_compress_insert = on');
      expect(await outcome(compressed.db, 'INSERT INTO t VALUES (7100, 1, 1, 1), (7200, 1, 1, 9)')).toMatch(/^23514: /);
      const copy = await compressed.db.copyFrom('COPY t FROM STDIN', ['8100\t1\t1\t1\t1\n8200\t1\t1\t9\t1\n']).then(() => 'ok', (e: { code?: string }) => e.code);
      expect(copy).toBe('23514');
      expect((await compressed.db.query('SELECT count(*)::int AS n FROM t WHERE time > 7000')).rows).toEqual([{ n: 0 }]);
      // SET NOT NULL over compressed rows: direct ingest (on without a CHECK) refuses NULLs too.
      await compressed.db.exec('ALTER TABLE t DROP CONSTRAINT ck; ALTER TABLE t ALTER COLUMN c SET NOT NULL');
      expect(await outcome(compressed.db, 'INSERT INTO t VALUES (7100, 1, 1, 1), (7200, 1, 1, NULL)')).toMatch(/^23502: /);
      const nulls = await compressed.db.copyFrom('COPY t FROM STDIN', ['8100\t1\t1\t1\t1\n8200\t1\t1\t\\N\t1\n']).then(() => 'ok', (e: { code?: string }) => e.code);
      expect(nulls).toBe('23502');
      expect(await outcome(compressed.db, 'INSERT INTO t VALUES (7100, 1, 1, 1), (7200, 1, 1, 2)')).toBe('ok');
      expect((await compressed.db.query('SELECT count(*)::int AS n FROM t WHERE time > 7000')).rows).toEqual([{ n: 2 }]);
      await compressed.db.exec('DELETE FROM t WHERE time > 7000');
    } finally {
      await compressed.db.exec('RESET timescaledb.enable_direct_compress_insert');
      await compressed.db.exec(RESET);
    }
  });

  it('keeps refusing what it cannot check: an exclusion constraint, a constraint on a compressed chunk by name', async () => {
    expect(await outcome(compressed.db, 'ALTER TABLE t ADD CONSTRAINT ex EXCLUDE (time WITH =)')).toMatch(/^0A000: /);
    expect(await outcome(compressed.db, 'ALTER TABLE _timescaledb_internal._hyper_1_2_chunk ADD CONSTRAINT ck CHECK (a IN (1, 2))')).toMatch(/^0A000: adding a CHECK constraint on chunk "_hyper_1_2_chunk"/);
    expect(await outcome(compressed.db, 'ALTER TABLE _timescaledb_internal._hyper_1_2_chunk ALTER COLUMN a SET NOT NULL')).toMatch(/^0A000: /);
    // ONLY: PostgreSQL's own refusal for a partitioned table, as for the oracle.
    const only = 'ALTER TABLE ONLY t ADD CONSTRAINT ck CHECK (a IN (1, 2))';
    expect(await outcome(compressed.db, only)).toBe(await outcome(oracle.db, only));
    // A column added NOT NULL with a literal default holds it in every row; without one, NULL.
    for (const sql of ['ALTER TABLE t ADD COLUMN d int NOT NULL DEFAULT 3', 'ALTER TABLE t ADD COLUMN e int NOT NULL DEFAULT NULL']) {
      expect(await outcome(compressed.db, sql), sql).toBe(await outcome(oracle.db, sql));
    }
    await compressed.db.exec('ALTER TABLE t DROP COLUMN d');
    await oracle.db.exec('ALTER TABLE t DROP COLUMN d');
    expect(await catalog(compressed.db)).toEqual(await catalog(oracle.db));
  });

  it('runs NOT VALID constraints (existing rows unchecked, new ones checked) and other changes', async () => {
    expect(await outcome(compressed.db, 'ALTER TABLE t ADD CONSTRAINT ck CHECK (a < 5) NOT VALID')).toBe('ok');
    expect(await outcome(compressed.db, 'INSERT INTO t VALUES (5, 500, 1, 1)')).toMatch(/^23514: /);
    expect(await outcome(compressed.db, 'ALTER TABLE t ADD COLUMN z int')).toBe('ok');
    expect((await compressed.db.query('SELECT count(*)::int AS n, count(a)::int AS na FROM t')).rows).toEqual([{ n: 6, na: 5 }]);
    await compressed.db.exec('ALTER TABLE t DROP COLUMN z');
    await compressed.db.exec(RESET);
  });
});

describe('constraints validated over compressed rows, over the wire', () => {
  const wire = serverWithClient();
  beforeAll(async () => {
    await wire.client.query(`CREATE EXTENSION IF NOT EXISTS timescaledb; ${SETUP}`);
    await wire.client.query("SELECT compress_chunk(c) FROM show_chunks('t') c");
  });
  const error = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string; message: string; detail?: string }) => `${e.code}: ${e.message}${e.detail ? ` (${e.detail})` : ''}`);
  const constraints = async () => (await wire.client.query("SELECT conname FROM pg_constraint WHERE conrelid = 't'::regclass AND contype IN ('c', 'f') ORDER BY 1")).rows;

  it('simple and extended protocol, a multi-statement string', async () => {
    const violated = '23514: check constraint "ck" of relation "_hyper_1_2_chunk" is violated by some row';
    expect(await error(wire.client.query('ALTER TABLE t ADD CONSTRAINT ck CHECK (a IN (1, 2))'))).toBe(violated);
    expect(await error(wire.client.query({ name: 'add_ck', text: 'ALTER TABLE t ADD CONSTRAINT ck CHECK (a IN (1, 2))' }))).toBe(violated);
    expect(await error(wire.client.query('CREATE TABLE other (x int); ALTER TABLE t ADD CONSTRAINT ck CHECK (a IN (1, 2)); SELECT 1'))).toBe(violated);
    expect((await wire.client.query("SELECT to_regclass('other') IS NULL AS gone")).rows).toEqual([{ gone: true }]);
    // The unnamed statement (extended protocol, node-postgres' queryMode missing from its types).
    expect(await error(wire.client.query({ text: 'ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES ref (id)', queryMode: 'extended' } as pg.QueryConfig))).toBe(
      '23503: insert or update on table "_hyper_1_2_chunk" violates foreign key constraint "fk" (Key (a)=(7) is not present in table "ref".)',
    );
    expect(await constraints()).toEqual([]);
    expect(await error(wire.client.query({ name: 'add_ok', text: 'ALTER TABLE t ADD CONSTRAINT ck CHECK (c > 0)' }))).toBe('ok');
    expect(await constraints()).toEqual([{ conname: 'ck' }]);
    await wire.client.query('ALTER TABLE t DROP CONSTRAINT ck');
  });

  it('inside a transaction block: a violation aborts it and changes nothing; a valid one commits', async () => {
    await wire.client.query('BEGIN');
    await wire.client.query('CREATE TABLE other (x int)');
    expect(await error(wire.client.query('ALTER TABLE t ALTER COLUMN a SET NOT NULL'))).toBe('23502: column "a" of relation "_hyper_1_2_chunk" contains null values');
    expect(await error(wire.client.query('SELECT 1'))).toMatch(/^25P02: /);
    await wire.client.query('ROLLBACK');
    expect((await wire.client.query("SELECT attnotnull FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'a'")).rows).toEqual([{ attnotnull: false }]);
    await wire.client.query('BEGIN');
    await wire.client.query('ALTER TABLE t ADD CONSTRAINT ck CHECK (c > 0) NOT VALID');
    expect(await error(wire.client.query('ALTER TABLE t VALIDATE CONSTRAINT ck'))).toBe('ok');
    expect(await error(wire.client.query('ALTER TABLE t ALTER COLUMN c SET NOT NULL'))).toBe('ok');
    await wire.client.query('COMMIT');
    expect((await wire.client.query("SELECT convalidated FROM pg_constraint WHERE conrelid = 't'::regclass AND conname = 'ck'")).rows).toEqual([{ convalidated: true }]);
    expect(await error(wire.client.query('INSERT INTO t VALUES (300, 1, 1, NULL)'))).toMatch(/^23502: /);
  });
});
