// Sessions run as the role that logged in (src/session/roles.ts): node-postgres clients of different
// roles take turns on the one backend; privileges, current_user and SET ROLE follow each session, and
// a role that is not a superuser cannot make itself one.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCompressedDays } from '../support/compressed-days.js';
import { failure, roleClients } from '../support/role-clients.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
const { connect, closeAll } = roleClients(() => server.port);

let admin: pg.Client;

beforeAll(async () => {
  server = await startTestServer();
  admin = await connect('postgres');
  await admin.query(`CREATE ROLE rita LOGIN; CREATE ROLE auditors; GRANT auditors TO rita; CREATE ROLE nolog NOLOGIN;
    CREATE TABLE secrets (x int); INSERT INTO secrets VALUES (1);
    CREATE TABLE audited (x int); INSERT INTO audited VALUES (2); GRANT SELECT ON audited TO auditors`);
});

afterAll(async () => {
  await closeAll();
  await server?.close();
});

describe('login', () => {
  it('runs the session as its role: current_user, session_user, is_superuser', async () => {
    const rita = await connect('rita');
    const r = await rita.query("SELECT current_user AS cu, session_user AS su, current_setting('is_superuser') AS su_flag");
    expect(r.rows).toEqual([{ cu: 'rita', su: 'rita', su_flag: 'off' }]);
    expect((await admin.query('SELECT current_user AS cu')).rows).toEqual([{ cu: 'postgres' }]);
  });

  it('refuses a role that does not exist, or may not log in, with 28000', async () => {
    expect(await failure(connect('nobody'))).toEqual({ code: '28000', message: 'role "nobody" does not exist' });
    expect(await failure(connect('nolog'))).toEqual({ code: '28000', message: 'role "nolog" is not permitted to log in' });
  });
});

describe('privileges', () => {
  it('enforces the role\'s privileges (42501) and follows GRANT', async () => {
    const rita = await connect('rita');
    expect(await failure(rita.query('SELECT x FROM secrets'))).toEqual({ code: '42501', message: 'permission denied for table secrets' });
    await admin.query('GRANT SELECT ON secrets TO rita');
    expect((await rita.query('SELECT x FROM secrets')).rows).toEqual([{ x: 1 }]);
    await admin.query('REVOKE SELECT ON secrets FROM rita');
  });

  it('keeps each session\'s role and SET ROLE while sessions take turns', async () => {
    const rita = await connect('rita');
    const other = await connect('postgres');
    await rita.query('SET ROLE auditors');
    for (let i = 0; i < 3; i++) {
      expect((await rita.query('SELECT current_user AS cu, session_user AS su, x FROM audited')).rows).toEqual([{ cu: 'auditors', su: 'rita', x: 2 }]);
      expect((await other.query('SELECT current_user AS cu, x FROM secrets')).rows).toEqual([{ cu: 'postgres', x: 1 }]);
      expect((await admin.query("SELECT current_user AS cu, current_setting('role') AS role")).rows).toEqual([{ cu: 'postgres', role: 'none' }]);
    }
    await rita.query('RESET ROLE');
    expect((await rita.query('SELECT current_user AS cu')).rows).toEqual([{ cu: 'rita' }]);
    expect(await failure(rita.query('SET ROLE postgres'))).toMatchObject({ code: '42501' });
  });

  it('keeps a role set inside a DO block to its own session', async () => {
    const c = await connect('postgres');
    await c.query('DO $$ BEGIN SET ROLE rita; END $$');
    expect((await admin.query('SELECT current_user AS cu')).rows).toEqual([{ cu: 'postgres' }]);
    expect((await c.query('SELECT current_user AS cu')).rows).toEqual([{ cu: 'rita' }]);
    expect((await admin.query('SELECT current_user AS cu')).rows).toEqual([{ cu: 'postgres' }]);
  });

  it('does not let a role other than a superuser set its session authorization to another role', async () => {
    const rita = await connect('rita');
    expect(await failure(rita.query('SET SESSION AUTHORIZATION postgres'))).toEqual({ code: '42501', message: 'permission denied to set session authorization "postgres"' });
    expect(await failure(rita.query("SELECT set_config('session_authorization', 'postgres', false)"))).toMatchObject({ code: '42501' });
    expect(await failure(rita.query("SELECT 1; SET SESSION AUTHORIZATION postgres; SELECT x FROM secrets"))).toMatchObject({ code: '42501' });
    expect(await failure(rita.query("SELECT set_config(name, 'postgres', false) FROM (VALUES ('session_authorization')) v (name)"))).toMatchObject({ code: '0A000' });
    // To itself, and back to itself (PostgreSQL's DEFAULT: the role that logged in), it may.
    await rita.query('SET SESSION AUTHORIZATION rita');
    await rita.query('SET ROLE auditors; RESET SESSION AUTHORIZATION');
    expect((await rita.query('SELECT current_user AS cu, session_user AS su')).rows).toEqual([{ cu: 'rita', su: 'rita' }]);
    await rita.query('SET SESSION AUTHORIZATION DEFAULT');
    await rita.query('DISCARD ALL');
    expect((await rita.query('SELECT current_user AS cu, session_user AS su')).rows).toEqual([{ cu: 'rita', su: 'rita' }]);
  });

  it('returns a superuser login to itself at DISCARD ALL, as PostgreSQL does', async () => {
    await admin.query('CREATE ROLE boss LOGIN SUPERUSER');
    const boss = await connect('boss');
    await boss.query('SET SESSION AUTHORIZATION rita');
    expect((await boss.query('SELECT session_user AS su')).rows).toEqual([{ su: 'rita' }]);
    await boss.query('DISCARD ALL');
    expect((await boss.query('SELECT session_user AS su, current_user AS cu')).rows).toEqual([{ su: 'boss', cu: 'boss' }]);
  });

  it('lets a superuser session switch roles and return with RESET SESSION AUTHORIZATION', async () => {
    const c = await connect('postgres');
    const set = await c.query('SET SESSION AUTHORIZATION rita');
    expect(set.command).toBe('SET');
    expect((await c.query('SELECT current_user AS cu, session_user AS su')).rows).toEqual([{ cu: 'rita', su: 'rita' }]);
    expect(await failure(c.query('SELECT x FROM secrets'))).toMatchObject({ code: '42501' });
    expect((await admin.query('SELECT current_user AS cu, x FROM secrets')).rows).toEqual([{ cu: 'postgres', x: 1 }]);
    const reset = await c.query('RESET SESSION AUTHORIZATION');
    expect(reset.command).toBe('RESET');
    expect((await c.query('SELECT current_user AS cu, x FROM secrets')).rows).toEqual([{ cu: 'postgres', x: 1 }]);
  });
});

describe('hypertables with the columnstore', () => {
  const AGG = "SELECT time_bucket('1 day', time) AS day, count(*)::int AS n, max(v) AS mx FROM t GROUP BY 1 ORDER BY 1";
  const SCAN = "SELECT time, host, v FROM t WHERE host = 'b' AND time < '2024-01-01 00:10+00' ORDER BY time";
  const LAST = 'SELECT DISTINCT ON (host) host, time, v FROM t ORDER BY host, time DESC';

  beforeAll(async () => {
    await loadCompressedDays(server.orbit);
    await admin.query('CREATE ROLE writer LOGIN; CREATE ROLE outsider LOGIN; GRANT SELECT, INSERT ON t TO writer; GRANT SELECT ON r TO writer');
  });

  it('answers a role with SELECT on the hypertable from its compressed chunks, as the superuser gets it', async () => {
    const writer = await connect('writer');
    for (const q of [AGG, SCAN, LAST]) {
      const want = await admin.query(q);
      expect((await writer.query(q)).rows, q).toEqual(want.rows);
      expect((await writer.query({ text: q, name: `p${q.length}` })).rows, q).toEqual(want.rows);
    }
  });

  it('refuses a role without SELECT on the hypertable (42501), even when every row is compressed', async () => {
    const outsider = await connect('outsider');
    for (const q of [AGG, SCAN, LAST, 'SELECT count(*) FROM t', 'SELECT min(time), max(time) FROM t']) {
      expect(await failure(outsider.query(q)), q).toEqual({ code: '42501', message: 'permission denied for table t' });
      expect(await failure(outsider.query({ text: q, name: `o${q.length}` })), q).toMatchObject({ code: '42501' });
    }
  });

  it('follows column privileges where Orbit\'s own statements read only the statement\'s columns', async () => {
    await admin.query('CREATE ROLE colsonly LOGIN; GRANT SELECT (time, host) ON t TO colsonly');
    const c = await connect('colsonly');
    for (const q of ['SELECT host, count(*)::int AS n FROM t GROUP BY host ORDER BY host', 'SELECT max(time) AS mx FROM t']) {
      expect((await c.query(q)).rows, q).toEqual((await admin.query(q)).rows);
    }
    // The kernels would compute max(v) from the compressed batches: PostgreSQL refuses v first.
    for (const q of [AGG, SCAN, LAST, 'SELECT max(v) FROM t']) {
      expect(await failure(c.query(q)), q).toEqual({ code: '42501', message: 'permission denied for table t' });
      expect(await failure(c.query({ text: q, name: `c${q.length}` })), q).toEqual({ code: '42501', message: 'permission denied for table t' });
    }
  });

  it('answers a role with SELECT on the columns a scan reads', async () => {
    const c = await connect('colsonly');
    const q = "SELECT time, host FROM t WHERE host = 'b' AND time < '2024-01-01 00:10+00' ORDER BY time";
    expect((await c.query(q)).rows).toEqual((await admin.query(q)).rows);
  });

  it('lets a role with INSERT write into new chunks and the columnstore, and read them back', async () => {
    const writer = await connect('writer');
    await writer.query("INSERT INTO t VALUES ('2024-02-01 00:00+00', 'a', 1), ('2024-02-01 00:01+00', 'b', 2), ('2024-02-01 00:02+00', 'c', 3)");
    await writer.query("INSERT INTO t VALUES ('2024-02-05 00:00+00', 'z', 4)");
    const r = await writer.query("SELECT count(*)::int AS n, sum(v) AS s FROM t WHERE time >= '2024-02-01'");
    expect(r.rows).toEqual([{ n: 4, s: 10 }]);
    expect(await failure((await connect('outsider')).query("INSERT INTO t VALUES ('2024-02-01 00:00+00', 'a', 1)"))).toMatchObject({ code: '42501' });
  });

  it('shares the cache tables a role filled first with the superuser and other roles', async () => {
    await admin.query(`CREATE TABLE u (time timestamptz NOT NULL, host text, v float8);
      SELECT create_hypertable('u', 'time', chunk_time_interval => INTERVAL '1 day');
      ALTER TABLE u SET (timescaledb.compress, timescaledb.compress_segmentby = 'host');
      INSERT INTO u SELECT time, host, v FROM t WHERE time < '2024-01-03';
      GRANT SELECT ON u TO writer, auditors`);
    await admin.query("SELECT compress_chunk(c) FROM show_chunks('u') c");
    const qs = [AGG, SCAN, LAST, 'SELECT host, count(*)::int AS n FROM u GROUP BY host ORDER BY host'].map((q) => q.replace(' FROM t ', ' FROM u '));
    const writer = await connect('writer');
    const rita = await connect('rita');
    const outsider = await connect('outsider');
    for (const q of qs) {
      const got = await writer.query(q);
      expect(got.rows.length, q).toBeGreaterThan(0);
      expect((await admin.query(q)).rows, q).toEqual(got.rows);
      await rita.query('SET ROLE auditors');
      expect((await rita.query(q)).rows, q).toEqual(got.rows);
      await rita.query('RESET ROLE');
      expect(await failure(outsider.query(q)), q).toEqual({ code: '42501', message: 'permission denied for table u' });
    }
    // Orbit's cache tables are Orbit's: a role cannot name them.
    for (const name of ['orbit_cs_1', 'pg_temp.orbit_scan_1', 'orbit_last_2']) {
      expect(await failure(writer.query(`SELECT * FROM ${name}`)), name).toMatchObject({ code: '42501' });
    }
  });

  it('lets any role rebuild the cache tables another role filled, after the hypertable changed', async () => {
    const JOIN = 'SELECT count(*)::int AS n, sum(a.v) AS s FROM u a JOIN u b USING (time, host)';
    const writer = await connect('writer');
    const rita = await connect('rita');
    const before = await writer.query(JOIN);
    expect(before.rows[0].n).toBeGreaterThan(0);
    await admin.query('ALTER TABLE u ADD COLUMN note text');
    await rita.query('SET ROLE auditors');
    expect((await rita.query(JOIN)).rows).toEqual(before.rows);
    expect((await rita.query("SELECT count(note)::int AS n FROM u WHERE host = 'a'")).rows).toEqual([{ n: 0 }]);
    expect((await admin.query(JOIN)).rows).toEqual(before.rows);
  });

  it('keeps a SET LOCAL ROLE of a transaction block while Orbit works on its cache tables', async () => {
    const c = await connect('postgres');
    const want = await admin.query(SCAN);
    await c.query('BEGIN');
    await c.query('SET LOCAL ROLE writer');
    expect((await c.query(SCAN)).rows).toEqual(want.rows);
    expect((await c.query(AGG.replace('FROM t', "FROM t WHERE time < '2024-01-02'"))).rows.length).toBe(1);
    expect((await c.query('SELECT current_user AS cu')).rows).toEqual([{ cu: 'writer' }]);
    expect(await failure(c.query('SELECT count(*) FROM secrets'))).toMatchObject({ code: '42501' });
    await c.query('ROLLBACK');
    await c.query('BEGIN');
    await c.query("SELECT set_config('role', 'outsider', true)");
    expect(await failure(c.query(AGG))).toEqual({ code: '42501', message: 'permission denied for table t' });
    await c.query('ROLLBACK');
    expect((await c.query('SELECT current_user AS cu')).rows).toEqual([{ cu: 'postgres' }]);
  });

  it('refuses compress_chunk to a role that does not own the hypertable (42501), as TimescaleDB does', async () => {
    const writer = await connect('writer');
    const e = await failure(writer.query("SELECT compress_chunk(c) FROM show_chunks('t') c"));
    expect(e.code).toBe('42501');
  });
});
