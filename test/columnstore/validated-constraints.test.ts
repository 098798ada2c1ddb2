// ALTER TABLE that checks the rows already there (a CHECK, FOREIGN KEY or EXCLUDE constraint added
// valid, VALIDATE CONSTRAINT, SET NOT NULL) would be checked by PostgreSQL over the chunk tables
// alone: a CHECK that compressed rows violate was accepted. Refused (0A000) while the hypertable has
// chunks in the columnstore; NOT VALID constraints and other changes still run.
import { describe, expect, it } from 'vitest';
import { inProcessOrbit } from '../support/in-process.js';

describe('constraints checked against compressed rows', () => {
  const fixture = inProcessOrbit(
    `CREATE TABLE ref (id int PRIMARY KEY); INSERT INTO ref VALUES (1);
    CREATE TABLE t (time bigint NOT NULL, v int, n int);
    SELECT create_hypertable('t', 'time', chunk_time_interval => 1000);
    ALTER TABLE t SET (timescaledb.compress);
    INSERT INTO t SELECT g, g, NULLIF(g % 2, 0) FROM generate_series(1, 10) g;`,
    ['t'],
  );
  const code = (sql: string) => fixture.db.query(sql).then(() => 'ok', (e: { code?: string }) => e.code);
  const constraints = async () => (await fixture.db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = 't'::regclass AND contype IN ('c', 'f')")).rows[0]!.n;

  it('refuses what PostgreSQL would check against every row, and changes nothing', async () => {
    for (const sql of [
      'ALTER TABLE t ADD CONSTRAINT ck CHECK (v < 0)',
      'ALTER TABLE t ADD CHECK (v < 0), ADD COLUMN w int',
      'ALTER TABLE t ALTER COLUMN n SET NOT NULL',
      'ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (v) REFERENCES ref (id)',
    ]) {
      expect(await code(sql), sql).toBe('0A000');
    }
    expect(await constraints()).toBe(0);
    expect((await fixture.db.query('SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = $1 AND column_name = $2', ['t', 'w'])).rows).toEqual([{ n: 0 }]);
    expect((await fixture.db.query("SELECT attnotnull FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'n'")).rows).toEqual([{ attnotnull: false }]);
  });

  it('runs NOT VALID constraints (existing rows unchecked, as in PostgreSQL) but not their VALIDATE', async () => {
    expect(await code('ALTER TABLE t ADD CONSTRAINT ck2 CHECK (v < 100) NOT VALID')).toBe('ok');
    expect(await code('ALTER TABLE t VALIDATE CONSTRAINT ck2')).toBe('0A000');
    expect(await code('INSERT INTO t VALUES (5, 500, 1)')).toBe('23514');
    expect(await code('ALTER TABLE t ADD COLUMN z int')).toBe('ok');
    expect((await fixture.db.query('SELECT count(*)::int AS n, count(n)::int AS nn FROM t')).rows).toEqual([{ n: 10, nn: 5 }]);
  });
});
