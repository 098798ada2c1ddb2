// SQL that PostgreSQL runs by itself — user functions and procedures (sql, plpgsql), DO blocks,
// triggers, jobs — never passes through Orbit, so it would read only the rowstore's rows of a
// hypertable with chunks in the columnstore. Such statements are refused with 0A000 before anything
// runs (session/columnstore/function-guard.ts); SQL that reads no such hypertable runs as before,
// and statements calling no function of the user's cost no round trip more.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit, Queryable } from '../../src/orbit.js';
import { BUILTIN_FUNCTIONS } from '../../src/sql/builtin-functions.js';
import { loadCompressedDays } from '../support/compressed-days.js';
import { RawClient, msg, types } from '../support/raw-client.js';
import { countRoundTrips } from '../support/round-trips.js';
import { startTestServer, TEMPLATE } from '../support/server.js';
import { sqlstate } from '../support/sqlstate.js';

async function errorOf(run: () => Promise<unknown>): Promise<{ code?: string; message: string; detail?: string }> {
  try {
    await run();
  } catch (err) {
    const e = err as { code?: string; message: string; detail?: string };
    return { code: e.code, message: e.message, ...(e.detail ? { detail: e.detail } : {}) };
  }
  throw new Error('expected an error');
}

/** The first column of the first row of `sql`, as a number. */
async function firstNumber(db: Queryable, sql: string): Promise<number> {
  return Number(Object.values((await db.query<Record<string, unknown>>(sql)).rows[0]!)[0]);
}

describe('SQL PostgreSQL runs by itself over hypertables with chunks in the columnstore', () => {
  let db: Orbit;
  /** `sql` fails with 0A000, `message` and `detail`. */
  const refused = async (sql: string, message: string, detail?: string): Promise<void> =>
    expect(await errorOf(() => db.exec(sql))).toEqual({ code: '0A000', message, ...(detail ? { detail } : {}) });
  const n = (sql: string): Promise<number> => firstNumber(db, sql);

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, jobScheduler: false });
    // t: every chunk in the columnstore; r: the same rows in a plain table.
    await loadCompressedDays(db);
    // u: the columnstore enabled, no chunk in it.
    await db.exec(`CREATE TABLE u (time timestamptz NOT NULL, host text, v float8) WITH (timescaledb.hypertable, timescaledb.segmentby = 'host');
      INSERT INTO u VALUES ('2024-01-01 00:00+00', 'a', 1), ('2024-01-01 00:01+00', 'b', 2);
      CREATE TABLE log (what text);`);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('refuses calls of functions whose SQL reads it, in any form, with nothing changed', async () => {
    await db.exec(`
      CREATE FUNCTION count_sql() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM t';
      CREATE FUNCTION count_plpgsql() RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE k bigint; BEGIN INSERT INTO log VALUES ('plpgsql'); SELECT count(*) INTO k FROM public.t; RETURN k; END $$;
      CREATE FUNCTION rows_of() RETURNS SETOF t LANGUAGE sql AS 'SELECT * FROM t';
      CREATE FUNCTION count_atomic() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(*) FROM t; END;
      CREATE FUNCTION outer_count() RETURNS bigint LANGUAGE sql AS 'SELECT count_sql() + 1';
      CREATE FUNCTION in_assignment() RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE k bigint; BEGIN k := (SELECT max(v) FROM t); RETURN k; END $$;
      CREATE FUNCTION in_loop() RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE x record; k bigint := 0; BEGIN FOR x IN SELECT * FROM t LOOP k := k + 1; END LOOP; RETURN k; END $$;
      CREATE FUNCTION dynamic_read(name text) RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE k bigint; BEGIN EXECUTE format('SELECT count(*) FROM %I', name) INTO k; RETURN k; END $$;
      CREATE FUNCTION constant_execute() RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE k bigint; BEGIN EXECUTE 'SELECT count(*) FROM t' INTO k; RETURN k; END $$;
      CREATE FUNCTION pasted_where(cond text) RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE k bigint; BEGIN EXECUTE format('SELECT count(*) FROM r WHERE %s', cond) INTO k; RETURN k; END $$;`);
    const statements = [
      'SELECT count_sql()',
      'SELECT count_plpgsql()',
      'SELECT count(*) FROM rows_of()',
      'SELECT * FROM r WHERE v > (SELECT count_atomic())',
      'SELECT outer_count()',
      'SELECT in_assignment()',
      'SELECT in_loop()',
      "SELECT dynamic_read('r')",
      'SELECT constant_execute()',
      // %s pastes SQL text in: here a subquery reading t.
      "SELECT pasted_where('v < (SELECT count(*) FROM t)')",
      'INSERT INTO log SELECT count_sql()::text',
      'CREATE TABLE copied AS SELECT count_sql()',
    ];
    for (const sql of statements) expect(await sqlstate(() => db.query(sql)), sql).toBe('0A000');
    // A SQL PREPAREd statement at its EXECUTE.
    await db.exec('PREPARE counted AS SELECT count_sql()');
    expect(await sqlstate(() => db.query('EXECUTE counted'))).toBe('0A000');
    // EXECUTE under CREATE TABLE AS and EXPLAIN ANALYZE runs it too.
    expect(await sqlstate(() => db.query('CREATE TABLE counted_copy AS EXECUTE counted'))).toBe('0A000');
    expect(await sqlstate(() => db.query('EXPLAIN ANALYZE EXECUTE counted'))).toBe('0A000');
    // And a prepared read of t itself gets its compressed rows there.
    await db.exec('PREPARE all_t AS SELECT * FROM t; CREATE TABLE t_copy AS EXECUTE all_t');
    expect(await n('SELECT count(*) FROM t_copy')).toBe(await n('SELECT count(*) FROM r'));
    await db.exec('DROP TABLE t_copy; DEALLOCATE all_t');
    // The extended protocol (parameters) too.
    expect(await sqlstate(() => db.query('SELECT count_sql() + $1', [1]))).toBe('0A000');
    expect(await n('SELECT count(*) FROM log')).toBe(0);
    expect(await n("SELECT count(*) FROM pg_class WHERE relname IN ('copied', 'counted_copy')")).toBe(0);

    await refused('SELECT count_sql()', 'calling function "count_sql", which reads hypertable "t" with chunks in the columnstore, is not supported by Orbit');
    await refused('SELECT outer_count()', 'calling function "outer_count", which reads hypertable "t" with chunks in the columnstore, is not supported by Orbit', 'It does so through function "count_sql".');
    expect((await errorOf(() => db.query("SELECT dynamic_read('r')"))).message).toContain('runs dynamic SQL (EXECUTE)');
  });

  it('refuses CALL, DO blocks, writes firing such triggers and run_job, with nothing changed', async () => {
    await db.exec(`
      CREATE PROCEDURE note_count() LANGUAGE plpgsql AS $$ BEGIN INSERT INTO log SELECT count(*)::text FROM t; END $$;
      CREATE TABLE audited (k bigint);
      CREATE FUNCTION fill_k() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.k := (SELECT count(*) FROM t); RETURN NEW; END $$;
      CREATE TRIGGER audited_k BEFORE INSERT ON audited FOR EACH ROW EXECUTE FUNCTION fill_k();
      CREATE PROCEDURE count_job(job_id int, config jsonb) LANGUAGE plpgsql AS $$ BEGIN INSERT INTO log SELECT count(*)::text FROM t; END $$;`);
    const job = await n("SELECT add_job('count_job', '1 hour', scheduled => false)");
    const statements = [
      'CALL note_count()',
      "DO $$ BEGIN INSERT INTO log SELECT count(*)::text FROM t; END $$",
      'INSERT INTO audited VALUES (0)',
      'INSERT INTO audited SELECT 1 FROM r LIMIT 1',
      `CALL run_job(${job})`,
      `CALL public.count_job(${job}, '{}')`,
    ];
    for (const sql of statements) expect(await sqlstate(() => db.exec(sql)), sql).toBe('0A000');
    expect(await n('SELECT count(*) FROM log')).toBe(0);
    expect(await n('SELECT count(*) FROM audited')).toBe(0);
    await refused('INSERT INTO audited VALUES (0)', 'writing table "audited" (its trigger calls function "fill_k"), which reads hypertable "t" with chunks in the columnstore, is not supported by Orbit');
    await refused('DO $$ BEGIN PERFORM count(*) FROM t; END $$', 'a DO block, which reads hypertable "t" with chunks in the columnstore, is not supported by Orbit');
    await db.exec(`SELECT delete_job(${job})`);
  });

  it('runs SQL that reads no such hypertable as before', async () => {
    await db.exec(`
      CREATE FUNCTION plus_one(x int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT x + 1';
      CREATE FUNCTION count_u() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM u';
      CREATE FUNCTION count_r() RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT count(*) FROM r); END $$;
      CREATE FUNCTION add_row(x regclass) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN EXECUTE format('INSERT INTO %I VALUES (%L, %L, %L)', x::text, '2024-01-04 00:00+00', 'z', 1); END $$;
      CREATE TABLE events (id int);
      CREATE FUNCTION to_t() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO t VALUES ('2024-01-04 00:00+00', 'e', NEW.id); RETURN NEW; END $$;
      CREATE TRIGGER events_to_t AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION to_t();`);
    expect(await n('SELECT plus_one(41)')).toBe(42);
    // A function in a statement Orbit plans over t: the statement reads t itself.
    expect(await n('SELECT count(*) FROM t WHERE v > plus_one(10)')).toBe(await n('SELECT count(*) FROM r WHERE v > plus_one(10)'));
    expect(await n('SELECT count_u()')).toBe(2);
    expect(await n('SELECT count_r()')).toBe(3 * 1440);
    expect(await sqlstate(() => db.exec('DO $$ BEGIN PERFORM count(*) FROM r; END $$'))).toBeUndefined();
    // A table named at run time may be one whose trigger reads t (audited's, above).
    await refused("SELECT add_row('r')", 'calling function "add_row", which reads hypertable "t" with chunks in the columnstore, is not supported by Orbit', 'It does so through trigger function "fill_k" of a table named at run time.');
    await db.exec('DROP TABLE audited');
    // Rows added (a plain INSERT into a hypertable without a unique index needs no compressed row).
    await db.exec("SELECT add_row('t'), add_row('r')");
    await db.exec('INSERT INTO events VALUES (7)');
    expect(await n('SELECT count(*) FROM t')).toBe(3 * 1440 + 2);
    await db.exec("DELETE FROM t WHERE time >= '2024-01-04'; DELETE FROM r WHERE time >= '2024-01-04'");
  });

  it('keeps views refused, and refuses materialized views and continuous aggregates over it by name', async () => {
    await db.exec('CREATE VIEW tv AS SELECT * FROM t');
    await refused('SELECT count(*) FROM tv', 'reading view "tv" over a hypertable with chunks in the columnstore is not supported by Orbit');
    // A view calling such a function, itself or through the view it reads.
    await db.exec('CREATE VIEW counts AS SELECT count_sql() AS k; CREATE VIEW counts_plus AS SELECT k + 1 AS k FROM counts; CREATE VIEW rv AS SELECT * FROM r');
    for (const view of ['counts', 'counts_plus']) {
      await refused(`SELECT * FROM ${view}`, `reading view "${view}" (it calls function "count_sql"), which reads hypertable "t" with chunks in the columnstore, is not supported by Orbit`);
    }
    expect(await n('SELECT count(*) FROM rv')).toBe(3 * 1440);
    await refused('CREATE MATERIALIZED VIEW tm AS SELECT host, count(*) FROM t GROUP BY host', 'materialized view "tm" over hypertable "t" with chunks in the columnstore is not supported by Orbit');
    await refused("CREATE MATERIALIZED VIEW tc WITH (timescaledb.continuous) AS SELECT time_bucket('1 hour', time) b, count(*) FROM t GROUP BY b", 'continuous aggregates are not supported by Orbit (materialized view "tc" over "t")');
    expect(await sqlstate(() => db.exec("CREATE MATERIALIZED VIEW uc WITH (timescaledb.continuous) AS SELECT time_bucket('1 hour', time) b, count(*) FROM u GROUP BY b"))).toBe('0A000');
    // Over a hypertable without chunks in the columnstore: PostgreSQL's own.
    await db.exec('CREATE MATERIALIZED VIEW um AS SELECT host, count(*)::int AS n FROM u GROUP BY host');
    expect((await db.query('SELECT * FROM um ORDER BY host')).rows).toEqual([
      { host: 'a', n: 1 },
      { host: 'b', n: 1 },
    ]);
  });

  it('fills tables from it with CREATE TABLE AS, SELECT INTO and INSERT … SELECT', async () => {
    await db.exec('CREATE TABLE c1 AS SELECT * FROM t; SELECT * INTO c2 FROM t WHERE host = \'a\'; CREATE TABLE c3 (k bigint); INSERT INTO c3 SELECT count(*) FROM t');
    expect(await n('SELECT count(*) FROM c1')).toBe(3 * 1440);
    expect(await n('SELECT count(*) FROM c2')).toBe(1440);
    expect(await n('SELECT k FROM c3')).toBe(3 * 1440);
  });

  it('costs statements that call no function of the user’s no round trip more', async () => {
    const trips = countRoundTrips(db);
    const tsbs = "SELECT time_bucket('1 hour', time) AS b, max(v) AS mx FROM t WHERE host IN ('a', 'b') AND time >= '2024-01-02T00:00:00Z' AND time < '2024-01-02T12:00:00Z' GROUP BY b ORDER BY b";
    await db.query(tsbs);
    await db.query(tsbs);
    trips();
    // With functions of the user's defined, read and kept: no round trip while PostgreSQL is idle.
    await db.query(tsbs);
    expect(trips()).toBe(0);
    // A new function (the metadata is read again): built-in calls alone need no catalog lookup.
    await db.exec("CREATE FUNCTION other_f() RETURNS int LANGUAGE sql AS 'SELECT 1'");
    trips();
    await db.query('SELECT now() IS NOT NULL');
    expect(trips()).toBe(1);
    // A call of the user's: the metadata (two statements, as for any statement naming a table) and
    // the definitions once, then nothing more.
    await db.query('SELECT other_f()');
    expect(trips()).toBe(4);
    await db.query('SELECT other_f()');
    expect(trips()).toBe(1);
  });

  it('reads no function names while no hypertable has compressed chunks, and reads them before checking once one has', async () => {
    const fresh = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, jobScheduler: false });
    try {
      await fresh.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb;
        CREATE TABLE h (time timestamptz NOT NULL, host text, v float8) WITH (timescaledb.hypertable, timescaledb.segmentby = 'host');
        INSERT INTO h VALUES ('2024-01-01 00:00+00', 'a', 1), ('2024-01-02 00:00+00', 'b', 2);
        CREATE FUNCTION count_h() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM h';
        -- Shadows no built-in for text: PostgreSQL resolves abs('x') to it.
        CREATE FUNCTION abs(text) RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM h';`);
      const decoder = new TextDecoder();
      const names = countRoundTrips(fresh, (messages) => decoder.decode(messages).includes("'viewCalls'"));
      for (let i = 0; i < 5; i++) await fresh.exec(`CREATE TABLE loop_${i} (a int); DROP TABLE loop_${i}`);
      expect(await firstNumber(fresh, 'SELECT count_h()')).toBe(2);
      expect(names()).toBe(0);
      await fresh.exec("SELECT compress_chunk(c) FROM show_chunks('h') c");
      expect(await sqlstate(() => fresh.query("SELECT abs('x')"))).toBe('0A000');
      expect(await sqlstate(() => fresh.query('SELECT count_h()'))).toBe('0A000');
      expect(names()).toBe(1);
    } finally {
      await fresh.close();
    }
  });

  it('fails a scheduled job whose procedure reads it, logged as the job’s error', async () => {
    const scheduled = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE });
    try {
      await loadCompressedDays(scheduled);
      await scheduled.exec(`CREATE TABLE log (what text);
        CREATE PROCEDURE count_job(job_id int, config jsonb) LANGUAGE plpgsql AS $$ BEGIN INSERT INTO log SELECT count(*)::text FROM t; END $$;`);
      const logged: unknown[] = [];
      const warn = console.warn;
      console.warn = (...args: unknown[]) => logged.push(args);
      try {
        await scheduled.query("SELECT add_job('count_job', '1 hour', initial_start => now())");
        const deadline = Date.now() + 30_000;
        let errors: Array<Record<string, unknown>> = [];
        while (errors.length === 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
          errors = (await scheduled.query<Record<string, unknown>>('SELECT proc_name, sqlerrcode FROM timescaledb_information.job_errors')).rows;
        }
        expect(errors).toEqual([{ proc_name: 'count_job', sqlerrcode: '0A000' }]);
      } finally {
        console.warn = warn;
      }
      expect((await scheduled.query('SELECT count(*)::int AS n FROM log')).rows).toEqual([{ n: 0 }]);
    } finally {
      await scheduled.close();
    }
  });

  it('refuses them over the wire: simple and extended queries, named statements, in a transaction block', async () => {
    const server = await startTestServer();
    const client = new pg.Client(server.url);
    try {
      await client.connect();
      await loadCompressedDays({ exec: async (sql: string) => void (await client.query(sql)) } as unknown as Queryable);
      await client.query("CREATE FUNCTION count_sql() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM t'");
      expect(await sqlstate(() => client.query('SELECT count_sql()'))).toBe('0A000');
      expect(await sqlstate(() => client.query('SELECT count_sql() + $1', [1]))).toBe('0A000');
      for (let i = 0; i < 2; i++) expect(await sqlstate(() => client.query({ name: 'counted', text: 'SELECT count_sql() + $1', values: [i] }))).toBe('0A000');
      await client.query('BEGIN');
      expect(await sqlstate(() => client.query('SELECT count_sql()'))).toBe('0A000');
      expect(await sqlstate(() => client.query('SELECT 1'))).toBe('25P02');
      await client.query('ROLLBACK');
      expect((await client.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 3 * 1440 }]);
      // A statement a Parse prepared before the chunks were compressed, run by SQL EXECUTE after.
      await client.query("SELECT decompress_chunk(c) FROM show_chunks('t') c");
      await client.query({ name: 'before', text: 'SELECT count_sql()' });
      await client.query({ name: 'via', text: 'EXECUTE before' });
      await client.query("SELECT compress_chunk(c) FROM show_chunks('t') c");
      expect(await sqlstate(() => client.query('EXECUTE before'))).toBe('0A000');
      expect(await sqlstate(() => client.query('EXECUTE via'))).toBe('0A000');
      expect(await sqlstate(() => client.query({ name: 'via', text: 'EXECUTE before' }))).toBe('0A000');
      // A SQL PREPARE that fails keeps the statement before it (under the session's backend name).
      await client.query('PREPARE p AS SELECT count_sql()');
      expect(await sqlstate(() => client.query('PREPARE p AS SELECT 1'))).toBe('42P05');
      expect(await sqlstate(() => client.query('EXECUTE p'))).toBe('0A000');
      // A pipeline's implicit transaction replaces the function, calls it (read anew), then fails
      // before Sync: the original is back, and refused again.
      const raw = await RawClient.ready(server.port);
      try {
        const run = (sql: string) => [msg('P', (w) => w.cstring('').cstring(sql).int16(0)), msg('B', (w) => w.cstring('').cstring('').int16(0).int16(0).int16(0)), msg('E', (w) => w.cstring('').int32(0))];
        const replace = "CREATE OR REPLACE FUNCTION count_sql() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT 7::bigint'";
        for (const m of [...run(replace), ...run('SELECT count_sql()'), ...run('SELECT 1/0'), msg('S')]) raw.send(m);
        expect(types(await raw.until('Z'))).toBe('12C12DC1EZ');
      } finally {
        raw.close();
      }
      expect(await sqlstate(() => client.query('SELECT count_sql()'))).toBe('0A000');
    } finally {
      await client.end();
      await server.close();
    }
  });

  it('checks an EXECUTE as the statement PostgreSQL holds under its name', async () => {
    // count_sql reads t (first test). A PREPARE that fails keeps the statement before it.
    await db.exec('PREPARE held AS SELECT count_sql()');
    expect(await sqlstate(() => db.exec('PREPARE held AS SELECT 1'))).toBe('42P05');
    expect(await sqlstate(() => db.query('EXECUTE held'))).toBe('0A000');
    await db.exec('PREPARE fine AS SELECT 1 AS one');
    expect(await sqlstate(() => db.exec('PREPARE fine AS SELECT count_sql()'))).toBe('42P05');
    expect(await sqlstate(() => db.exec('PREPARE fine AS SELECT count_sql(), no_such_function()'))).toBe('42883');
    expect((await db.query('EXECUTE fine')).rows).toEqual([{ one: 1 }]);
    // Not transactional: a DEALLOCATE and a PREPARE rolled back stay done.
    await db.exec('BEGIN; DEALLOCATE fine; PREPARE fine AS SELECT count_sql(); ROLLBACK');
    expect(await sqlstate(() => db.query('EXECUTE fine'))).toBe('0A000');
    // DEALLOCATE, DEALLOCATE ALL and DISCARD ALL drop them: EXECUTE fails as PostgreSQL fails it.
    await db.exec('DEALLOCATE fine');
    expect(await sqlstate(() => db.query('EXECUTE fine'))).toBe('26000');
    await db.exec('DEALLOCATE ALL');
    expect(await sqlstate(() => db.query('EXECUTE held'))).toBe('26000');
    await db.exec('PREPARE held AS SELECT count_sql()');
    await db.exec('DISCARD ALL');
    expect(await sqlstate(() => db.query('EXECUTE held'))).toBe('26000');
    // In one text, an EXECUTE runs the PREPARE of its name before it (refused: nothing ran).
    expect(await sqlstate(() => db.exec('PREPARE held AS SELECT 1; DEALLOCATE held; PREPARE held AS SELECT count_sql(); EXECUTE held'))).toBe('0A000');
    expect((await db.exec('PREPARE held AS SELECT count_sql(); DEALLOCATE held; PREPARE held AS SELECT 2 AS two; EXECUTE held')).at(-1)!.rows).toEqual([{ two: 2 }]);
    await db.exec('DEALLOCATE ALL');
  });

  it('forgets definitions read inside a transaction when its end may have undone them', async () => {
    const reads = "CREATE OR REPLACE FUNCTION swapped() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM t'";
    const reads_not = "CREATE OR REPLACE FUNCTION swapped() RETURNS bigint LANGUAGE sql AS 'SELECT 7::bigint'";
    const swapped = () => sqlstate(() => db.query('SELECT swapped()'));
    await db.exec(reads);
    expect(await swapped()).toBe('0A000');
    // Replaced and called (read anew) inside a transaction block, then rolled back.
    await db.exec(`BEGIN; ${reads_not}`);
    expect(await swapped()).toBeUndefined();
    await db.exec('ROLLBACK');
    expect(await swapped()).toBe('0A000');
    // Back to a savepoint: refused inside the block still.
    await db.exec(`BEGIN; SAVEPOINT s; ${reads_not}`);
    expect(await swapped()).toBeUndefined();
    await db.exec('ROLLBACK TO SAVEPOINT s');
    expect(await swapped()).toBe('0A000');
    await db.exec('ROLLBACK');
    // A COMMIT that fails (a deferred unique constraint) rolls back.
    await db.exec('CREATE TABLE deferred_u (k int UNIQUE DEFERRABLE INITIALLY DEFERRED)');
    await db.exec(`BEGIN; INSERT INTO deferred_u VALUES (1), (1); ${reads_not}`);
    expect(await swapped()).toBeUndefined();
    expect(await sqlstate(() => db.exec('COMMIT'))).toBe('23505');
    expect(await swapped()).toBe('0A000');
    // A COMMIT keeps the new definition.
    await db.exec(`BEGIN; ${reads_not}`);
    expect(await swapped()).toBeUndefined();
    await db.exec('COMMIT');
    expect(await swapped()).toBeUndefined();
    await db.exec('DROP FUNCTION swapped(); DROP TABLE deferred_u');
  });

  it('knows every function PostgreSQL and the extension define for SQL to call by name', async () => {
    const names = await db.query<{ name: string }>(`SELECT DISTINCT lower(proname) AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE (n.nspname IN ('pg_catalog', 'information_schema')
          OR (n.nspname NOT LIKE '\\_timescaledb%' AND EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')))
        AND p.prorettype NOT IN ('cstring'::regtype, 'internal'::regtype, 'trigger'::regtype, 'language_handler'::regtype, 'index_am_handler'::regtype,
          'table_am_handler'::regtype, 'fdw_handler'::regtype, 'tsm_handler'::regtype, 'event_trigger'::regtype)
        AND NOT EXISTS (SELECT FROM unnest(p.proargtypes) a WHERE a IN ('internal'::regtype, 'cstring'::regtype))
        AND NOT EXISTS (SELECT FROM pg_operator o WHERE o.oprcode = p.oid)`);
    expect(names.rows.map((r) => r.name).filter((name) => !BUILTIN_FUNCTIONS.has(name))).toEqual([]);
  });
});
