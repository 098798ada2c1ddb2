// Privileges granted on a hypertable reach its chunks, as in TimescaleDB (catalog/extension/
// chunk-privileges.ts), and the decompression before an UPDATE/DELETE of compressed rows is Orbit's
// own work (session/columnstore/dml.ts): it needs no privilege on the chunks, and a role that may not
// write the hypertable gets PostgreSQL's 42501 on it with nothing decompressed.
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyIn } from '../support/copy-in.js';
import { failure, roleClients } from '../support/role-clients.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let admin: pg.Client;
const { connect, closeAll } = roleClients(() => server.port);

/** A hypertable `name` of 3 days × 24 hours × devices 0..2, its chunks compressed when `compressed`. */
async function hypertable(name: string, compressed: boolean): Promise<void> {
  await admin.query(`CREATE TABLE ${name} (time timestamptz NOT NULL, dev int, v float8);
    SELECT create_hypertable('${name}', 'time', chunk_time_interval => INTERVAL '1 day');
    INSERT INTO ${name} SELECT '2024-01-01'::timestamptz + g * INTERVAL '1 hour', g % 3, g FROM generate_series(0, 71) g`);
  if (compressed) await admin.query(`ALTER TABLE ${name} SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev'); SELECT compress_chunk(c) FROM show_chunks('${name}') c`);
}

/** The rows of `name` held in the columnstore (Orbit's catalog), and all its rows (admin's view). */
async function where(name: string): Promise<{ compressed: number; all: number }> {
  const r = await admin.query(
    `SELECT (SELECT coalesce(sum(cc.row_count), 0)::int FROM _timescaledb_catalog.chunk ch
               JOIN _timescaledb_catalog.hypertable h ON h.id = ch.hypertable_id
               JOIN _timescaledb_catalog.orbit_columnstore_chunk cc ON cc.id = ch.compressed_chunk_id
             WHERE h.table_name = $1 AND NOT ch.dropped) AS compressed,
            (SELECT count(*)::int FROM ${name}) AS all`,
    [name],
  );
  return r.rows[0] as { compressed: number; all: number };
}

async function chunksOf(name: string): Promise<string[]> {
  return (await admin.query(`SELECT c::text AS c FROM show_chunks('${name}') c`)).rows.map((r) => r.c as string);
}

beforeAll(async () => {
  server = await startTestServer();
  admin = await connect('postgres');
  await admin.query(`CREATE EXTENSION IF NOT EXISTS timescaledb; CREATE ROLE rita LOGIN; CREATE ROLE uma LOGIN; CREATE ROLE bob LOGIN; CREATE ROLE nobody LOGIN;
    GRANT USAGE ON SCHEMA public TO rita, uma, bob, nobody`);
});

afterAll(async () => {
  await closeAll();
  await server?.close();
});

describe('a role granted ALL on a hypertable', () => {
  it.each([
    ['rowstore', false],
    ['compressed', true],
  ])('reads and writes it through the hypertable (%s): SELECT, INSERT, UPDATE, DELETE, COPY', async (kind, compressed) => {
    const name = `all_${kind}`;
    await hypertable(name, compressed);
    await admin.query(`GRANT ALL ON ${name} TO rita`);
    const rita = await connect('rita');
    expect((await rita.query(`SELECT count(*)::int AS n FROM ${name}`)).rows).toEqual([{ n: 72 }]);
    await rita.query(`INSERT INTO ${name} VALUES ('2024-01-01 05:30', 1, 1000), ('2024-02-01 05:30', 1, 1001)`);
    expect((await rita.query(`UPDATE ${name} SET v = -v WHERE dev = 0`)).rowCount).toBe(24);
    expect((await rita.query(`UPDATE ${name} SET v = v * 10 WHERE dev = $1`, [1])).rowCount).toBe(26);
    expect((await rita.query(`DELETE FROM ${name} WHERE dev = 2`)).rowCount).toBe(24);
    const sql = postgres({ host: '127.0.0.1', port: server.port, user: 'rita', database: 'postgres', onnotice: () => undefined });
    try {
      await copyIn(sql, `COPY ${name} FROM STDIN`, '2024-01-02 07:30:00+00\t2\t5\n2024-03-01 00:00:00+00\t2\t6\n');
    } finally {
      await sql.end();
    }
    const r = await rita.query(`SELECT dev, count(*)::int AS n, sum(v)::float8 AS s FROM ${name} GROUP BY dev ORDER BY dev`);
    expect(r.rows).toEqual([
      { dev: 0, n: 24, s: -(Array.from({ length: 24 }, (_, i) => i * 3).reduce((a, b) => a + b, 0)) },
      { dev: 1, n: 26, s: 10 * (Array.from({ length: 24 }, (_, i) => i * 3 + 1).reduce((a, b) => a + b, 0) + 2001) },
      { dev: 2, n: 2, s: 11 },
    ]);
  });
});

describe('chunks carry the hypertable\'s privileges', () => {
  it('GRANT and REVOKE on the hypertable reach its chunks, existing and new; a failed GRANT changes nothing', async () => {
    await hypertable('acl', false);
    const bob = await connect('bob');
    const [first] = await chunksOf('acl');
    expect((await failure(bob.query(`SELECT count(*) FROM ${first}`))).code).toBe('42501');
    await admin.query('GRANT SELECT ON acl TO bob');
    expect((await bob.query(`SELECT count(*)::int AS n FROM ${first}`)).rows).toEqual([{ n: 24 }]);
    await admin.query("INSERT INTO acl VALUES ('2024-05-01', 0, 0)");
    const fresh = (await chunksOf('acl')).at(-1)!;
    expect((await bob.query(`SELECT count(*)::int AS n FROM ${fresh}`)).rows).toEqual([{ n: 1 }]);
    // A grant on one chunk by name stays when the hypertable's privileges change.
    await admin.query(`GRANT DELETE ON ${first} TO bob`);
    await admin.query('REVOKE SELECT ON acl FROM bob');
    expect((await failure(bob.query(`SELECT count(*) FROM ${first}`))).code).toBe('42501');
    expect((await failure(bob.query(`SELECT count(*) FROM ${fresh}`))).code).toBe('42501');
    expect((await admin.query(`SELECT has_table_privilege('bob', '${first}', 'DELETE') AS d`)).rows).toEqual([{ d: true }]);
    expect((await failure(admin.query('GRANT SELECT ON acl, no_such_table TO bob'))).code).toBe('42P01');
    await admin.query('BEGIN');
    await admin.query('GRANT SELECT ON acl TO bob');
    await admin.query('ROLLBACK');
    expect((await failure(bob.query(`SELECT count(*) FROM ${first}`))).code).toBe('42501');
  });

  it('takes column lists, ALL TABLES IN SCHEMA, grant options and CASCADE', async () => {
    await hypertable('acl_cols', false);
    const [first] = await chunksOf('acl_cols');
    const bob = await connect('bob');
    await admin.query('GRANT SELECT (dev, v) ON acl_cols TO bob');
    expect((await bob.query(`SELECT count(v)::int AS n FROM ${first}`)).rows).toEqual([{ n: 24 }]);
    expect((await failure(bob.query(`SELECT time FROM ${first}`))).code).toBe('42501');
    await admin.query('GRANT SELECT ON ALL TABLES IN SCHEMA public TO bob');
    expect((await bob.query(`SELECT count(time)::int AS n FROM ${first}`)).rows).toEqual([{ n: 24 }]);
    await admin.query('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM bob');
    expect((await failure(bob.query(`SELECT v FROM ${first}`))).code).toBe('42501');
    // rita grants what she was granted with GRANT OPTION; REVOKE … CASCADE takes bob's grant from the chunks too.
    await admin.query('GRANT SELECT ON acl_cols TO rita WITH GRANT OPTION');
    const rita = await connect('rita');
    await rita.query('GRANT SELECT ON acl_cols TO bob');
    expect((await bob.query(`SELECT count(*)::int AS n FROM ${first}`)).rows).toEqual([{ n: 24 }]);
    expect((await failure(admin.query('REVOKE GRANT OPTION FOR SELECT ON acl_cols FROM rita'))).code).toBe('2BP01');
    expect((await bob.query(`SELECT count(*)::int AS n FROM ${first}`)).rows).toEqual([{ n: 24 }]);
    await admin.query('REVOKE GRANT OPTION FOR SELECT ON acl_cols FROM rita CASCADE');
    expect((await failure(bob.query(`SELECT count(*) FROM ${first}`))).code).toBe('42501');
    expect((await rita.query(`SELECT count(*)::int AS n FROM ${first}`)).rows).toEqual([{ n: 24 }]);
  });

  it('takes an owner\'s REVOKE ALL from itself', async () => {
    await admin.query(`CREATE TABLE own (time timestamptz NOT NULL, v float8);
      SELECT create_hypertable('own', 'time', chunk_time_interval => INTERVAL '1 day');
      ALTER TABLE own OWNER TO rita; INSERT INTO own VALUES ('2024-01-01', 1)`);
    const [chunk] = await chunksOf('own');
    const rita = await connect('rita');
    await rita.query('REVOKE ALL ON own FROM rita');
    expect((await failure(rita.query(`SELECT count(*) FROM ${chunk}`))).code).toBe('42501');
    await rita.query('GRANT SELECT ON own TO rita');
    expect((await rita.query(`SELECT count(*)::int AS n FROM ${chunk}`)).rows).toEqual([{ n: 1 }]);
  });

  it('reaches chunks made by migrate_data, space partitioning and direct ingest', async () => {
    await admin.query(`CREATE TABLE mig (time timestamptz NOT NULL, dev int, v float8); GRANT SELECT ON mig TO bob WITH GRANT OPTION;
      INSERT INTO mig VALUES ('2024-01-01', 1, 1), ('2024-01-05', 2, 2);
      SELECT create_hypertable('mig', 'time', migrate_data => true, chunk_time_interval => INTERVAL '1 day');
      CREATE TABLE sp (time timestamptz NOT NULL, dev int, v float8);
      SELECT create_hypertable('sp', 'time', partitioning_column => 'dev', number_partitions => 2, chunk_time_interval => INTERVAL '1 day');
      GRANT SELECT ON sp TO bob; INSERT INTO sp VALUES ('2024-01-01', 1, 1), ('2024-01-01', 2, 2);
      CREATE TABLE di (time timestamptz NOT NULL, dev int, v float8) WITH (timescaledb.hypertable);
      GRANT SELECT ON di TO bob; INSERT INTO di VALUES ('2024-01-01', 1, 1), ('2024-01-02', 2, 2)`);
    const bob = await connect('bob');
    // create_hypertable's rebuild keeps the grant option (and the grantor) of each grant.
    expect((await admin.query("SELECT has_table_privilege('bob', 'mig', 'SELECT WITH GRANT OPTION') AS g")).rows).toEqual([{ g: true }]);
    for (const name of ['mig', 'sp']) {
      const chunks = await chunksOf(name);
      expect(chunks.length).toBe(2);
      let n = 0;
      for (const c of chunks) n += (await bob.query(`SELECT count(*)::int AS n FROM ${c}`)).rows[0].n as number;
      expect(n).toBe(2);
    }
    for (const c of await chunksOf('di')) await bob.query(`SELECT count(*) FROM ${c}`);
  });
});

describe('decompression before a write', () => {
  it('lets a role with UPDATE and SELECT (no INSERT) update compressed rows', async () => {
    await hypertable('upd', true);
    await admin.query('GRANT SELECT, UPDATE ON upd TO uma');
    const uma = await connect('uma');
    expect((await uma.query('UPDATE upd SET v = -v WHERE dev = 0')).rowCount).toBe(24);
    expect((await uma.query('UPDATE upd SET v = -v WHERE dev = $1', [1])).rowCount).toBe(24);
    expect((await uma.query('SELECT count(*)::int AS n FROM upd WHERE v < 0')).rows).toEqual([{ n: 47 }]);
  });

  it('lets such a role update compressed rows of a hypertable another role (not a superuser) owns', async () => {
    await admin.query('GRANT CREATE ON SCHEMA public TO rita');
    const rita = await connect('rita');
    await rita.query(`CREATE TABLE owned (time timestamptz NOT NULL, dev int, v float8);
      SELECT create_hypertable('owned', 'time', chunk_time_interval => INTERVAL '1 day');
      INSERT INTO owned SELECT '2024-01-01'::timestamptz + g * INTERVAL '1 hour', g % 3, g FROM generate_series(0, 47) g;
      ALTER TABLE owned SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev'); SELECT compress_chunk(c) FROM show_chunks('owned') c;
      GRANT SELECT, UPDATE ON owned TO uma`);
    const uma = await connect('uma');
    expect((await uma.query('UPDATE owned SET v = -v WHERE dev = 0')).rowCount).toBe(16);
    expect((await uma.query('SELECT count(*)::int AS n FROM owned WHERE v < 0')).rows).toEqual([{ n: 15 }]);
  });

  it('refuses a role without UPDATE with 42501 on the hypertable and decompresses nothing', async () => {
    await hypertable('ro', true);
    await admin.query('GRANT SELECT ON ro TO nobody');
    const before = await where('ro');
    expect(before).toEqual({ compressed: 72, all: 72 });
    const nobody = await connect('nobody');
    const denied = { code: '42501', message: 'permission denied for table ro' };
    expect(await failure(nobody.query('UPDATE ro SET v = -v WHERE dev = 0'))).toEqual(denied);
    expect(await failure(nobody.query('UPDATE ro SET v = -v WHERE dev = $1', [0]))).toEqual(denied);
    expect(await failure(nobody.query('DELETE FROM ro WHERE dev = $1', [0]))).toEqual(denied);
    await nobody.query('BEGIN');
    expect(await failure(nobody.query('UPDATE ro SET v = -v WHERE dev = $1', [0]))).toEqual(denied);
    await nobody.query('ROLLBACK');
    expect(await where('ro')).toEqual(before);
    expect((await nobody.query('SELECT sum(v)::float8 AS s FROM ro')).rows).toEqual([{ s: (71 * 72) / 2 }]);
  });

  it('checks a named statement prepared while the role could update, run again after REVOKE', async () => {
    await hypertable('ro_named', false);
    await admin.query('GRANT SELECT, UPDATE ON ro_named TO nobody');
    const nobody = await connect('nobody');
    const named = { name: 'negate', text: 'UPDATE ro_named SET v = -v WHERE dev = $1' };
    expect((await nobody.query({ ...named, values: [99] })).rowCount).toBe(0);
    await admin.query(`ALTER TABLE ro_named SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');
      SELECT compress_chunk(c) FROM show_chunks('ro_named') c; REVOKE UPDATE ON ro_named FROM nobody`);
    expect(await failure(nobody.query({ ...named, values: [0] }))).toEqual({ code: '42501', message: 'permission denied for table ro_named' });
    expect(await where('ro_named')).toEqual({ compressed: 72, all: 72 });
  });
});
