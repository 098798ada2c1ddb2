// User functions reached without being named in the statement — through an operator, a cast, an
// aggregate's support functions, a column default or generated column, a rule, a row-level
// security policy, a domain or table CHECK constraint, an index expression, an event trigger, a
// trigger reached through a partition, an updatable view or a foreign key's action — would read
// only the rowstore's rows of a hypertable with chunks in the columnstore. Each statement must
// give PostgreSQL's answer or be refused with 0A000 before anything runs
// (session/columnstore/function-guard.ts), never an answer over part of the rows.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit } from '../../src/orbit.js';
import { loadCompressedDays } from '../support/compressed-days.js';
import { countRoundTrips } from '../support/round-trips.js';
import { startTestServer, TEMPLATE } from '../support/server.js';
import { sqlstate } from '../support/sqlstate.js';

/** t's rows (loadCompressedDays): all of them in the columnstore. */
const ROWS = 3 * 1440;

/** Runs `body` on a database of its own, closed after. */
async function onFresh(body: (db: Orbit) => Promise<void>): Promise<void> {
  const fresh = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, jobScheduler: false });
  try {
    await body(fresh);
  } finally {
    await fresh.close();
  }
}

describe('functions reached through other objects over hypertables with chunks in the columnstore', () => {
  let db: Orbit;
  /** The first column of the first row of `sql`, as a number. */
  const n = async (sql: string): Promise<number> => Number(Object.values((await db.query<Record<string, unknown>>(sql)).rows[0]!)[0]);
  /** `sql` is refused with 0A000 (and `then`, run after it, shows that nothing ran). */
  const refused = async (sql: string): Promise<void> => expect(await sqlstate(() => db.exec(sql)), sql).toBe('0A000');

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, jobScheduler: false });
    await loadCompressedDays(db);
    await db.exec(`
      CREATE TABLE log (k bigint);
      -- Reads t: PostgreSQL's answer is ${ROWS}; over the rowstore's rows alone it is 0.
      CREATE FUNCTION count_t() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM t';
      CREATE FUNCTION count_t_imm(x int) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT count(*) FROM public.t';
      -- Reads r, the same rows in a plain table.
      CREATE FUNCTION count_r() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM r';`);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('refuses operators whose function reads it, written, as commutator or negator, and in bodies', async () => {
    await db.exec(`
      CREATE FUNCTION at_least(a int, b int) RETURNS boolean LANGUAGE sql STABLE AS 'SELECT (SELECT count(*) FROM t) >= a + b';
      CREATE FUNCTION at_most(a int, b int) RETURNS boolean LANGUAGE sql STABLE AS 'SELECT (SELECT count(*) FROM t) < a + b';
      CREATE OPERATOR ==> (LEFTARG = int, RIGHTARG = int, FUNCTION = at_least, NEGATOR = !=>);
      CREATE OPERATOR !=> (LEFTARG = int, RIGHTARG = int, FUNCTION = at_most, NEGATOR = ==>);
      CREATE FUNCTION uses_op() RETURNS boolean LANGUAGE sql STABLE AS 'SELECT 1 ==> 1';
      CREATE FUNCTION r_at_least(a int, b int) RETURNS boolean LANGUAGE sql STABLE AS 'SELECT (SELECT count(*) FROM r) >= a + b';
      CREATE OPERATOR ==>> (LEFTARG = int, RIGHTARG = int, FUNCTION = r_at_least);`);
    for (const sql of ['SELECT 1 ==> 1', 'SELECT 1 OPERATOR(public.==>) 1', 'SELECT NOT (1 !=> 1)', 'SELECT uses_op()', 'SELECT count(*) FROM r WHERE 1 ==> 1', 'INSERT INTO log SELECT 1 WHERE 1 ==> 1']) await refused(sql);
    // The extended protocol (parameters) too.
    expect(await sqlstate(() => db.query('SELECT $1::int ==> 1', [1]))).toBe('0A000');
    expect(await n('SELECT count(*) FROM log')).toBe(0);
    // An operator whose function reads no such hypertable runs.
    expect((await db.query('SELECT 1 ==>> 1 AS b')).rows).toEqual([{ b: true }]);
  });

  it('refuses calls leaving out an argument whose default reads it', async () => {
    await db.exec(`CREATE FUNCTION with_default(x bigint DEFAULT count_t()) RETURNS bigint LANGUAGE sql AS 'SELECT x';
      CREATE FUNCTION with_default_plpgsql(x bigint DEFAULT count_t()) RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN RETURN x; END $$;`);
    // PostgreSQL: ${ROWS}; the default over the rowstore's rows alone: 0.
    for (const sql of ['SELECT with_default()', 'SELECT with_default_plpgsql()']) await refused(sql);
  });

  it('refuses aggregates whose support functions read it', async () => {
    await db.exec(`
      CREATE FUNCTION add_count(s bigint, x int) RETURNS bigint LANGUAGE sql STABLE AS 'SELECT s + (SELECT count(*) FROM t)';
      CREATE AGGREGATE sum_counts(int) (SFUNC = add_count, STYPE = bigint, INITCOND = '0');
      CREATE FUNCTION final_count(s bigint) RETURNS bigint LANGUAGE sql STABLE AS 'SELECT s + (SELECT count(*) FROM t)';
      CREATE AGGREGATE plus_count(bigint) (SFUNC = int8pl, STYPE = bigint, FINALFUNC = final_count, INITCOND = '0');
      CREATE FUNCTION add_r(s bigint, x int) RETURNS bigint LANGUAGE sql STABLE AS 'SELECT s + (SELECT count(*) FROM r)';
      CREATE AGGREGATE sum_r(int) (SFUNC = add_r, STYPE = bigint, INITCOND = '0');
      CREATE FUNCTION agg_body() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT plus_count(1) FROM r';`);
    for (const sql of ['SELECT sum_counts(1)', 'SELECT plus_count(k) FROM log', 'SELECT sum_counts(1) OVER ()', 'SELECT agg_body()']) await refused(sql);
    expect(await n('SELECT sum_r(1)')).toBe(ROWS);
  });

  it('refuses statements that could apply a cast whose function reads it, written or implicit', async () => {
    await db.exec(`
      CREATE TYPE wrapped AS (k bigint);
      CREATE FUNCTION wrap(x int) RETURNS wrapped LANGUAGE sql STABLE AS 'SELECT ROW((SELECT count(*) FROM t) + x)::wrapped';
      CREATE CAST (int AS wrapped) WITH FUNCTION wrap(int) AS ASSIGNMENT;
      CREATE TABLE wraps (w wrapped);`);
    // Any statement may apply it: all are refused while it exists (dropping it is not).
    for (const sql of ['SELECT (1::wrapped).k', 'INSERT INTO wraps VALUES (1)', 'SELECT (CAST(2 AS wrapped)).k', 'SELECT count(*) FROM r']) await refused(sql);
    expect((await sqlstate(() => db.query('SELECT 1 + 1'))), 'SELECT 1 + 1').toBe('0A000');
    await db.exec('DROP CAST (int AS wrapped)');
    expect(await n('SELECT count(*) FROM wraps')).toBe(0);
    expect(await n('SELECT count(*) FROM r')).toBe(ROWS);
  });

  it('refuses writes of tables whose column defaults, generated columns, CHECK constraints or index expressions call them', async () => {
    await db.exec(`
      CREATE TABLE defaulted (k int, n bigint DEFAULT count_t());
      CREATE TABLE generated (k int, n bigint GENERATED ALWAYS AS (count_t_imm(k)) STORED);
      CREATE TABLE checked (k int CHECK (k <= count_t()));
      CREATE TABLE indexed (k int);
      -- Made to read t once the index exists (CREATE INDEX runs it: refused while it reads t).
      CREATE FUNCTION count_idx(x int) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT count(*) FROM public.r';
      CREATE UNIQUE INDEX indexed_k ON indexed ((k <= count_idx(k)));
      CREATE OR REPLACE FUNCTION count_idx(x int) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT count(*) FROM public.t';
      CREATE TABLE defaulted_r (k int, n bigint DEFAULT count_r());`);
    for (const sql of [
      'INSERT INTO defaulted (k) VALUES (1)',
      'INSERT INTO generated (k) VALUES (1)',
      'INSERT INTO checked VALUES (5)',
      // PostgreSQL: true and false, no conflict; over the rowstore alone both false (23505).
      'INSERT INTO indexed VALUES (1), (9999)',
      'INSERT INTO log SELECT 1; INSERT INTO defaulted (k) VALUES (1)',
      'COPY defaulted (k) FROM STDIN',
    ]) {
      await refused(sql);
    }
    for (const table of ['defaulted', 'generated', 'checked', 'indexed', 'log']) expect(await n(`SELECT count(*) FROM ${table}`), table).toBe(0);
    // A body writing such a table is refused too.
    await db.exec("CREATE FUNCTION fills() RETURNS void LANGUAGE plpgsql AS $$ BEGIN INSERT INTO defaulted (k) VALUES (1); END $$");
    await refused('SELECT fills()');
    // Reading them is fine; a default reading r runs.
    expect(await n('SELECT count(*) FROM defaulted')).toBe(0);
    await db.exec('INSERT INTO defaulted_r (k) VALUES (1)');
    expect(await n('SELECT n FROM defaulted_r')).toBe(ROWS);
  });

  it('refuses rebuilding indexes whose expressions call them', async () => {
    await db.exec(`CREATE TABLE rebuilt (k int); INSERT INTO rebuilt VALUES (1), (9999);
      CREATE FUNCTION count_rebuilt(x int) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT count(*) FROM public.r';
      CREATE UNIQUE INDEX rebuilt_k ON rebuilt ((k <= count_rebuilt(k)));`);
    await db.exec("CREATE OR REPLACE FUNCTION count_rebuilt(x int) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT count(*) FROM public.t'");
    // PostgreSQL rebuilds it (true and false); over the rowstore's rows alone both are false (23505).
    for (const sql of ['REINDEX TABLE rebuilt', 'REINDEX INDEX rebuilt_k', 'VACUUM FULL rebuilt', 'CLUSTER rebuilt USING rebuilt_k', 'VACUUM FULL']) await refused(sql);
    // Plain VACUUM and ANALYZE compute no index entry.
    await db.exec('VACUUM rebuilt');
  });

  it('refuses statements that could check a domain whose constraint calls them', async () => {
    await db.exec('CREATE DOMAIN capped AS int CHECK (VALUE <= count_t()); CREATE TABLE capped_values (c capped)');
    // PostgreSQL accepts 5; over the rowstore's rows alone the check fails (23514).
    for (const sql of ['SELECT 5::capped', 'INSERT INTO capped_values VALUES (5)']) await refused(sql);
    await db.exec('DROP TABLE capped_values; DROP DOMAIN capped');
  });

  it('refuses writes of tables whose rules call them or read it', async () => {
    await db.exec(`
      CREATE TABLE ruled (k int);
      CREATE RULE ruled_log AS ON INSERT TO ruled DO ALSO INSERT INTO log SELECT count_t();
      CREATE TABLE ruled_direct (k int);
      CREATE RULE ruled_direct_log AS ON UPDATE TO ruled_direct DO ALSO INSERT INTO log SELECT count(*) FROM t;
      CREATE TABLE ruled_r (k int);
      CREATE RULE ruled_r_log AS ON INSERT TO ruled_r DO ALSO INSERT INTO log SELECT count(*) FROM r;`);
    for (const sql of ['INSERT INTO ruled VALUES (1)', 'UPDATE ruled_direct SET k = 2']) await refused(sql);
    expect(await n('SELECT count(*) FROM log')).toBe(0);
    await db.exec('INSERT INTO ruled_r VALUES (1)');
    expect(await n('SELECT k FROM log')).toBe(ROWS);
    await db.exec('DELETE FROM log');
  });

  it('refuses reads of tables whose row-level security policies call them or read it', async () => {
    await db.exec(`
      CREATE TABLE secret (k int); INSERT INTO secret VALUES (1), (100), (99999);
      ALTER TABLE secret ENABLE ROW LEVEL SECURITY;
      CREATE POLICY below_count ON secret USING (k <= count_t());
      CREATE TABLE secret_direct (k int); INSERT INTO secret_direct VALUES (1), (99999);
      ALTER TABLE secret_direct ENABLE ROW LEVEL SECURITY;
      CREATE POLICY below_count ON secret_direct USING (k <= (SELECT count(*) FROM t));
      CREATE ROLE policed; GRANT SELECT ON secret, secret_direct, t, r TO policed;`);
    await db.exec('SET ROLE policed');
    try {
      // PostgreSQL: 2 and 1 rows; over the rowstore's rows alone, none.
      for (const sql of ['SELECT count(*) FROM secret', 'SELECT count(*) FROM secret_direct', 'SELECT * FROM r WHERE v IN (SELECT k FROM secret)', 'CREATE TABLE secret_copy AS SELECT * FROM secret']) {
        await refused(sql);
      }
    } finally {
      await db.exec('RESET ROLE');
    }
    // Without row-level security the policies do not apply.
    await db.exec('ALTER TABLE secret DISABLE ROW LEVEL SECURITY');
    expect(await n('SELECT count(*) FROM secret')).toBe(3);
  });

  it('refuses writes through partitions, updatable views and foreign-key actions to tables whose triggers call them', async () => {
    await db.exec(`
      CREATE FUNCTION log_count() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO log SELECT count(*) FROM t; RETURN NULL; END $$;
      CREATE TABLE parted (k int) PARTITION BY LIST (k);
      CREATE TABLE parted_1 PARTITION OF parted FOR VALUES IN (1);
      CREATE TRIGGER parted_1_log AFTER INSERT ON parted_1 FOR EACH ROW EXECUTE FUNCTION log_count();
      CREATE TABLE base (k int);
      CREATE TRIGGER base_log AFTER INSERT ON base FOR EACH ROW EXECUTE FUNCTION log_count();
      CREATE VIEW base_view AS SELECT * FROM base;
      CREATE TABLE parent (k int PRIMARY KEY); INSERT INTO parent VALUES (1);
      CREATE TABLE child (k int REFERENCES parent ON DELETE CASCADE); INSERT INTO child VALUES (1);
      CREATE TRIGGER child_log AFTER DELETE ON child FOR EACH ROW EXECUTE FUNCTION log_count();`);
    for (const sql of ['INSERT INTO parted VALUES (1)', 'INSERT INTO base_view VALUES (1)', 'DELETE FROM parent']) await refused(sql);
    expect(await n('SELECT count(*) FROM log')).toBe(0);
    expect(await n('SELECT count(*) FROM child')).toBe(1);
  });

  it('refuses writes of tables whose foreign key references it', async () => {
    await db.exec(`CREATE TABLE keyed (time timestamptz PRIMARY KEY, v int) WITH (timescaledb.hypertable);
      INSERT INTO keyed VALUES ('2024-01-01 00:00+00', 1);`);
    await db.exec("SELECT compress_chunk(c) FROM show_chunks('keyed') c");
    await db.exec('CREATE TABLE referring (time timestamptz REFERENCES keyed (time))');
    // PostgreSQL finds the row; the check over the rowstore's rows alone fails it (23503).
    await refused("INSERT INTO referring VALUES ('2024-01-01 00:00+00')");
    expect(await n('SELECT count(*) FROM referring')).toBe(0);
  });

  it('refuses statements while an event trigger whose function reads it is enabled', async () => {
    await db.exec(`
      CREATE FUNCTION log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO log SELECT count(*) FROM t; END $$;
      CREATE EVENT TRIGGER log_ddl ON ddl_command_end EXECUTE FUNCTION log_ddl();`);
    // It may fire for any statement (Orbit's own DDL too): all are refused but those on event triggers.
    for (const sql of ['CREATE TABLE after_event (k int)', 'SELECT count(*) FROM r', 'DROP FUNCTION count_r()']) await refused(sql);
    await db.exec('ALTER EVENT TRIGGER log_ddl DISABLE');
    expect(await n('SELECT count(*) FROM log')).toBe(0);
    await db.exec('ALTER EVENT TRIGGER log_ddl ENABLE');
    await refused('SELECT count(*) FROM log');
    await db.exec('DROP EVENT TRIGGER log_ddl');
    await db.exec('CREATE TABLE after_event (k int)');
    expect(await n('SELECT count(*) FROM log')).toBe(0);
  });

  it('knows what earlier statements of the same query string create', async () => {
    // The catalog is read before the string runs: what its statements create is read from them.
    const strings = [
      "CREATE FUNCTION later_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM t'; SELECT later_count()",
      "CREATE FUNCTION later_plpgsql() RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT count(*) FROM t); END $$; INSERT INTO log SELECT later_plpgsql()",
      // Replaced: the catalog's definition reads r, the new one t.
      "CREATE FUNCTION swapped() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM r'; SELECT 1",
      "CREATE OR REPLACE FUNCTION swapped() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM t'; SELECT swapped()",
      "CREATE OPERATOR ~~> (LEFTARG = int, RIGHTARG = int, FUNCTION = at_least); SELECT 1 ~~> 1",
      "CREATE AGGREGATE later_sum(int) (SFUNC = add_count, STYPE = bigint, INITCOND = '0'); SELECT later_sum(1)",
      "CREATE TABLE later_defaulted (k int, n bigint DEFAULT count_t()); INSERT INTO later_defaulted (k) VALUES (1)",
      'CREATE TABLE later_log (k int); CREATE TRIGGER later_log_count AFTER INSERT ON later_log FOR EACH ROW EXECUTE FUNCTION log_count(); INSERT INTO later_log VALUES (1)',
      // A function another calls, replaced between two calls.
      "SELECT outer_x(); CREATE OR REPLACE FUNCTION inner_x() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM t'; SELECT outer_x()",
      // A statement checked in between sees less than the last one.
      'SELECT count_r(); CREATE TRIGGER later_target_count AFTER INSERT ON later_target FOR EACH ROW EXECUTE FUNCTION log_count(); INSERT INTO later_target VALUES (1)',
      'CREATE TABLE later_ruled (k int); CREATE RULE later_rule AS ON INSERT TO later_ruled DO ALSO INSERT INTO log SELECT count(*) FROM t; INSERT INTO later_ruled VALUES (1)',
      "CREATE TABLE later_secret (k int); ALTER TABLE later_secret ENABLE ROW LEVEL SECURITY; CREATE POLICY p ON later_secret USING (k <= count_t()); SET ROLE policed; SELECT * FROM later_secret",
      "CREATE VIEW later_view AS SELECT count_t() AS k; SELECT * FROM later_view",
      'CREATE TABLE later_keyed (time timestamptz REFERENCES keyed (time)); INSERT INTO later_keyed VALUES (now())',
    ];
    await db.exec(`CREATE TABLE later_target (k int);
      CREATE FUNCTION inner_x() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM r'; CREATE FUNCTION outer_x() RETURNS bigint LANGUAGE sql AS 'SELECT inner_x()';`);
    for (const sql of strings) {
      if (sql.endsWith('SELECT 1')) await db.exec(sql);
      else await refused(sql);
    }
    await db.exec('RESET ROLE');
    // Refused strings left the catalog's definitions as they were: outer_x reads r.
    expect(await n('SELECT outer_x()')).toBe(ROWS);
    expect(await n('SELECT count(*) FROM log')).toBe(0);
    expect(await n("SELECT count(*) FROM pg_class WHERE relname LIKE 'later%' AND relname <> 'later_target'")).toBe(0);
    expect(await n('SELECT count(*) FROM later_target')).toBe(0);
    // Objects that read no such hypertable run as PostgreSQL runs them.
    const results = await db.exec("CREATE FUNCTION later_r() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM r'; SELECT later_r() AS k");
    expect(Number(results.at(-1)!.rows[0]!.k)).toBe(ROWS);
  });

  it('names what reaches the function in the message', async () => {
    const message = async (sql: string): Promise<string | undefined> => {
      try {
        await db.exec(sql);
      } catch (err) {
        return (err as Error).message;
      }
      return undefined;
    };
    expect(await message('SELECT 1 ==> 1')).toBe('using operator ==> (the operator ==>(integer,integer) calls function "at_least"), which reads hypertable "t" with chunks in the columnstore, is not supported by Orbit');
    expect(await message('INSERT INTO defaulted (k) VALUES (1)')).toBe(
      'writing table "defaulted" (the default of column "n" of table "defaulted" calls function "count_t"), which reads hypertable "t" with chunks in the columnstore, is not supported by Orbit',
    );
    expect(await message('UPDATE ruled_direct SET k = 2')).toBe('writing table "ruled_direct" (the rule "ruled_direct_log" of "ruled_direct"), which reads hypertable "t" with chunks in the columnstore, is not supported by Orbit');
  });

  it('finds them while the metadata is stale: after chunks were compressed, and objects created since', async () => {
    await onFresh(async (fresh) => {
    await fresh.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb;
      CREATE TABLE h (time timestamptz NOT NULL, v int) WITH (timescaledb.hypertable);
      INSERT INTO h VALUES ('2024-01-01 00:00+00', 1), ('2024-01-02 00:00+00', 2);
      CREATE FUNCTION more_than(a int, b int) RETURNS boolean LANGUAGE sql STABLE AS 'SELECT (SELECT count(*) FROM h) > a + b';
      CREATE OPERATOR >>> (LEFTARG = int, RIGHTARG = int, FUNCTION = more_than);`);
    const answer = async (sql: string) => (await fresh.query<{ b: boolean }>(sql)).rows[0]!.b;
    // No chunk in the columnstore: PostgreSQL's answer; tables created meanwhile do not make the
    // metadata be read again (nothing to guard).
    expect(await answer('SELECT 0 >>> 1 AS b')).toBe(true);
    const decoder = new TextDecoder();
    const metadata = countRoundTrips(fresh, (messages) => decoder.decode(messages).includes("'chunks', (SELECT json_agg"));
    await fresh.exec('CREATE TABLE plain (k int DEFAULT 1); CREATE INDEX ON plain (k)');
    await fresh.exec('INSERT INTO plain VALUES (1)');
    expect(metadata()).toBe(0);
    await fresh.exec("SELECT compress_chunk(c) FROM show_chunks('h') c");
    expect(await sqlstate(() => fresh.query('SELECT 0 >>> 1 AS b'))).toBe('0A000');
    // Created while the function names are known: the next statement reads them again.
    await fresh.exec("CREATE FUNCTION fewer_than(a int, b int) RETURNS boolean LANGUAGE sql STABLE AS 'SELECT (SELECT count(*) FROM h) < a + b'");
    await fresh.exec('CREATE OPERATOR <<< (LEFTARG = int, RIGHTARG = int, FUNCTION = fewer_than)');
    expect(await sqlstate(() => fresh.query('SELECT 0 <<< 3 AS b'))).toBe('0A000');
    await fresh.exec("SELECT decompress_chunk(c) FROM show_chunks('h') c");
    expect(await answer('SELECT 0 <<< 3 AS b')).toBe(true);
    });
  });

  it('refuses reads of a hypertable with row-level security and chunks in the columnstore', async () => {
    await onFresh(async (fresh) => {
    await loadCompressedDays(fresh);
    await fresh.exec(`CREATE ROLE viewer; GRANT SELECT, INSERT ON t TO viewer;
      ALTER TABLE t ENABLE ROW LEVEL SECURITY; CREATE POLICY hidden ON t USING (current_user = 'nobody') WITH CHECK (true);`);
    // PostgreSQL shows viewer no row; Orbit's batches would show all of them.
    await fresh.exec('SET ROLE viewer');
    for (const sql of ['SELECT count(*) FROM t', "SELECT * FROM t WHERE time < '2024-01-01 00:10+00'", 'SELECT max(v) FROM t']) {
      expect(await sqlstate(() => fresh.query(sql)), sql).toBe('0A000');
    }
    // Rows added need no compressed row.
    await fresh.exec("INSERT INTO t VALUES ('2024-01-05 00:00+00', 'a', 1)");
    await fresh.exec('RESET ROLE');
    await fresh.exec('ALTER TABLE t DISABLE ROW LEVEL SECURITY');
    expect((await fresh.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: ROWS + 1 }]);
    });
  });

  it('refuses them over the wire: simple and extended queries', async () => {
    const server = await startTestServer();
    const client = new pg.Client(server.url);
    try {
      await client.connect();
      await loadCompressedDays({ exec: async (sql: string) => void (await client.query(sql)) } as unknown as Orbit);
      await client.query(`CREATE FUNCTION at_least(a int, b int) RETURNS boolean LANGUAGE sql STABLE AS 'SELECT (SELECT count(*) FROM t) >= a + b';
        CREATE OPERATOR ==> (LEFTARG = int, RIGHTARG = int, FUNCTION = at_least)`);
      expect(await sqlstate(() => client.query('SELECT 1 ==> 1'))).toBe('0A000');
      expect(await sqlstate(() => client.query('SELECT $1::int ==> 1', [1]))).toBe('0A000');
      expect(await sqlstate(() => client.query({ name: 'op', text: 'SELECT $1::int ==> 1', values: [1] }))).toBe('0A000');
    } finally {
      await client.end();
      await server.close();
    }
  });

  it('costs statements no round trip more when no such object exists', async () => {
    await onFresh(async (fresh) => {
    await loadCompressedDays(fresh);
    // User functions, a table with a trigger and a view calling one: the guard's without routes.
    await fresh.exec(`CREATE FUNCTION plus(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b'; CREATE TABLE w (k int DEFAULT 1);
      CREATE FUNCTION keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
      CREATE TRIGGER w_keep BEFORE INSERT ON w FOR EACH ROW EXECUTE FUNCTION keep(); CREATE VIEW pv AS SELECT plus(1, 2) AS p`);
    const decoder = new TextDecoder();
    const routes = countRoundTrips(fresh, (messages) => decoder.decode(messages).includes('hyper(oid)'));
    const trips = countRoundTrips(fresh);
    // (The first write of w reads the definitions, kept after: the guard's cost before routes.)
    await fresh.query('SELECT count(*) FROM r');
    await fresh.query('INSERT INTO w VALUES (0)');
    trips();
    for (const sql of ['SELECT 1 + 2', "SELECT '1'::int", 'INSERT INTO w VALUES (1)', 'SELECT count(*) FROM r', 'SELECT * FROM pv']) {
      await fresh.query(sql);
      expect(trips(), sql).toBe(1);
    }
    expect(routes()).toBe(0);
    // Routes are read (once, with the metadata) only once such an object exists.
    await fresh.exec("CREATE OPERATOR @+@ (LEFTARG = int, RIGHTARG = int, FUNCTION = plus)");
    expect((await fresh.query('SELECT 1 @+@ 2 AS s')).rows).toEqual([{ s: 3 }]);
    expect((await fresh.query('SELECT 1 @+@ 2 AS s')).rows).toEqual([{ s: 3 }]);
    expect(routes()).toBe(1);
    });
  });
});
