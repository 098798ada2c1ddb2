// Who may call the extension's functions (src/catalog/extension/privileges.ts): its SECURITY DEFINER
// functions are Orbit's internals, executable by the backend's role alone; the user-facing ones check
// ownership of the hypertable as TimescaleDB does (42501 "must be owner of hypertable"); the owner,
// logged in as itself, still ingests, converts, queries and runs its policies and jobs.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { psqlCopy } from '../support/copy-in.js';
import { clientAs, startTestServer, tempDir, type TestServer } from '../support/server.js';

let server: TestServer;
let admin: pg.Client;
const opened: pg.Client[] = [];

async function connect(user: string): Promise<pg.Client> {
  const c = await clientAs(server, user);
  opened.push(c);
  return c;
}

/** Every SECURITY DEFINER function in the extension or its schemas: name, argument types, whether `role` may execute it. */
const DEFINERS = (role: string) => `SELECT p.oid::regproc::text AS name, p.prorettype = 'event_trigger'::regtype AS event_trigger,
    ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) t) AS args, has_function_privilege('${role}', p.oid, 'EXECUTE') AS may
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE p.prosecdef AND (n.nspname LIKE '\\_timescaledb\\_%' OR n.nspname LIKE 'timescaledb\\_%'
    OR EXISTS (SELECT FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid WHERE d.objid = p.oid AND d.deptype = 'e' AND e.extname = 'timescaledb'))
  ORDER BY 1`;

const csv = (day: number) =>
  Array.from({ length: 48 }, (_, i) => `2024-03-${String(day).padStart(2, '0')} ${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00+00,h${i % 3},${i}\n`).join('');

beforeAll(async () => {
  server = await startTestServer();
  admin = await connect('postgres');
  // Made by the superuser and given away: chunks created from then on belong to owner1, as the
  // hypertable does (a role making its own hypertables: below).
  await admin.query(`CREATE EXTENSION IF NOT EXISTS timescaledb;
    CREATE ROLE owner1 LOGIN; CREATE ROLE reader LOGIN; GRANT CREATE ON SCHEMA public TO owner1;
    CREATE TABLE d (time timestamptz NOT NULL, host text, v float8) WITH (timescaledb.hypertable, timescaledb.partition_column = 'time',
      timescaledb.chunk_interval = '1 day', timescaledb.segmentby = 'host');
    SELECT remove_compression_policy('d');
    ALTER TABLE d OWNER TO owner1; GRANT SELECT ON d TO reader`);
});

afterAll(async () => {
  for (const c of opened) await c.end().catch(() => undefined);
  await server?.close();
});

describe('the owner of a hypertable, logged in as itself', () => {
  it('loads it by direct COPY and INSERT, converts its chunks and queries them', async () => {
    const owner = await connect('owner1');
    expect(await psqlCopy(`${server.url.replace('postgres@', 'owner1@')}?client_encoding=UTF8`, 'COPY d FROM STDIN (FORMAT csv)', csv(1) + csv(2))).toEqual({ code: 0, stderr: '' });
    await owner.query("INSERT INTO d SELECT '2024-03-03'::timestamptz + i * INTERVAL '30 minutes', 'h' || i % 3, i FROM generate_series(0, 47) i");
    const chunks = await owner.query("SELECT chunk_name, is_compressed FROM timescaledb_information.chunks WHERE hypertable_name = 'd' ORDER BY range_start");
    expect(chunks.rows.map((r) => r.is_compressed)).toEqual([true, true, false]);
    await owner.query("SELECT compress_chunk(c) FROM show_chunks('d') c");
    await owner.query("SELECT decompress_chunk(c) FROM show_chunks('d', newer_than => '2024-03-03'::timestamptz) c");
    expect((await owner.query('SELECT count(*)::int AS n, sum(v)::int AS s FROM d')).rows).toEqual([{ n: 144, s: 3 * 1128 }]);
    const owners = await admin.query("SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid IN (SELECT show_chunks('d'))");
    expect(owners.rows).toEqual([{ owner: 'owner1' }]);
  });

  it('adds, alters, runs and removes its policies and jobs', async () => {
    const owner = await connect('owner1');
    const id = (await owner.query("SELECT add_compression_policy('d', INTERVAL '1 day') AS id")).rows[0].id as number;
    expect((await owner.query(`SELECT owner::text FROM timescaledb_information.jobs WHERE job_id = ${id}`)).rows).toEqual([{ owner: 'owner1' }]);
    await owner.query(`SELECT alter_job(${id}, scheduled => false)`);
    await owner.query(`CALL run_job(${id})`);
    const compressed = await owner.query("SELECT bool_and(is_compressed) AS all FROM timescaledb_information.chunks WHERE hypertable_name = 'd'");
    expect(compressed.rows).toEqual([{ all: true }]);
    expect((await owner.query("SELECT remove_compression_policy('d') AS removed")).rows).toEqual([{ removed: true }]);
    await owner.query(`CREATE PROCEDURE note(job_id integer, config jsonb) LANGUAGE sql AS $$ SELECT 1 $$;
      SELECT add_job('note', INTERVAL '1 hour', scheduled => false)`);
    const job = (await owner.query("SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = 'note'")).rows[0].job_id as number;
    await owner.query(`CALL run_job(${job})`);
    await owner.query(`SELECT delete_job(${job})`);
    expect((await owner.query("SELECT count(*)::int AS n FROM timescaledb_information.jobs WHERE owner = 'owner1'::regrole")).rows).toEqual([{ n: 0 }]);
  });

  it('renames and drops it, the event triggers (executable by no role) keeping the catalog', async () => {
    await admin.query("CREATE TABLE e (time timestamptz NOT NULL); SELECT create_hypertable('e', 'time'); ALTER TABLE e OWNER TO owner1");
    const owner = await connect('owner1');
    await owner.query("INSERT INTO e VALUES ('2024-03-01'); ALTER TABLE e RENAME TO e2");
    const names = "SELECT table_name::text FROM _timescaledb_catalog.hypertable WHERE table_name LIKE 'e%'";
    expect((await admin.query(names)).rows).toEqual([{ table_name: 'e2' }]);
    await owner.query('DROP TABLE e2');
    expect((await admin.query(names)).rows).toEqual([]);
  });
});

describe('a role that owns its tables but is not a superuser', () => {
  const denied = (table: string) => ({ code: '42501', message: `must be owner of hypertable "${table}"` });
  const hypertables = "SELECT hypertable_name::text AS name, owner::text, num_dimensions::int AS dims, compression_enabled AS cs FROM timescaledb_information.hypertables WHERE hypertable_name LIKE 'm_' ORDER BY 1";

  beforeAll(async () => {
    await admin.query('CREATE ROLE owner2 LOGIN; CREATE ROLE stranger LOGIN; GRANT CREATE ON SCHEMA public TO owner2, stranger; CREATE SCHEMA closed');
  });

  it('makes hypertables each way, adds a dimension, enables the columnstore and loads them', async () => {
    const owner = await connect('owner2');
    await owner.query(`CREATE TABLE m1 (time timestamptz NOT NULL, host text, v float8);
      CREATE TABLE hits (n int); CREATE FUNCTION hit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO hits VALUES (1); RETURN NEW; END $$;
      CREATE TRIGGER hit AFTER INSERT ON m1 FOR EACH ROW EXECUTE FUNCTION hit();
      INSERT INTO m1 VALUES ('2024-03-01 01:00+00', 'h0', 1), ('2024-03-02 01:00+00', 'h1', 2);
      SELECT create_hypertable('m1', 'time', chunk_time_interval => INTERVAL '1 day', migrate_data => true);
      CREATE TABLE m2 (time timestamptz NOT NULL, host text, v float8);
      SELECT create_hypertable('m2', by_range('time', INTERVAL '1 day'));
      CREATE TABLE m3 (time timestamptz NOT NULL, host text, v float8) WITH (timescaledb.hypertable, timescaledb.partition_column = 'time',
        timescaledb.chunk_interval = '1 day', timescaledb.segmentby = 'host');
      SELECT add_dimension('m2', by_hash('host', 2));
      SELECT set_number_partitions('m2', 3);
      SELECT set_chunk_time_interval('m1', INTERVAL '2 days');
      ALTER TABLE m1 SET (timescaledb.compress, timescaledb.compress_segmentby = 'host');
      ALTER TABLE m2 SET (timescaledb.enable_columnstore, timescaledb.segmentby = 'host', timescaledb.orderby = 'time DESC')`);
    // The rows moved into chunks without firing the trigger again (2: their own INSERT), which is back for new rows.
    expect((await owner.query('SELECT count(*)::int AS n FROM hits')).rows).toEqual([{ n: 2 }]);
    for (const t of ['m1', 'm2', 'm3']) {
      await owner.query(`INSERT INTO ${t} SELECT '2024-03-03'::timestamptz + i * INTERVAL '1 hour', 'h' || i % 3, i FROM generate_series(0, 47) i`);
    }
    expect((await owner.query('SELECT count(*)::int AS n FROM hits')).rows).toEqual([{ n: 50 }]);
    expect((await owner.query(hypertables)).rows).toEqual([
      { name: 'm1', owner: 'owner2', dims: 1, cs: true },
      { name: 'm2', owner: 'owner2', dims: 2, cs: true },
      { name: 'm3', owner: 'owner2', dims: 1, cs: true },
    ]);
    const dims = await owner.query("SELECT hypertable_name::text AS t, column_name::text AS c, time_interval::text AS iv, num_partitions AS n FROM timescaledb_information.dimensions WHERE hypertable_name LIKE 'm_' ORDER BY 1, 2");
    expect(dims.rows).toEqual([
      { t: 'm1', c: 'time', iv: '2 days', n: null },
      { t: 'm2', c: 'host', iv: null, n: 3 },
      { t: 'm2', c: 'time', iv: '1 day', n: null },
      { t: 'm3', c: 'time', iv: '1 day', n: null },
    ]);
    const settings = await owner.query("SELECT hypertable::text AS t, segmentby, orderby FROM timescaledb_information.hypertable_columnstore_settings WHERE hypertable::text LIKE 'm_' ORDER BY 1");
    expect(settings.rows).toEqual([
      { t: 'm1', segmentby: 'host', orderby: '"time" DESC' },
      { t: 'm2', segmentby: 'host', orderby: '"time" DESC' },
      { t: 'm3', segmentby: 'host', orderby: '"time" DESC' },
    ]);
    expect((await owner.query('SELECT (SELECT count(*) FROM m1)::int AS m1, (SELECT count(*) FROM m2)::int AS m2, (SELECT count(*) FROM m3)::int AS m3')).rows)
      .toEqual([{ m1: 50, m2: 48, m3: 48 }]);
    const owners = await admin.query("SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid IN (SELECT show_chunks('m1') UNION ALL SELECT show_chunks('m2'))");
    expect(owners.rows).toEqual([{ owner: 'owner2' }]);
  });

  it('adds and runs its retention and columnstore policies', async () => {
    const owner = await connect('owner2');
    const id = async (q: string) => Object.values((await owner.query(q)).rows[0] as Record<string, number>)[0]!;
    const columnstore = await id("SELECT add_compression_policy('m2', INTERVAL '1 day')");
    await owner.query("CALL remove_columnstore_policy('m3'); CALL add_columnstore_policy('m3', after => INTERVAL '1 day')");
    const retention = await id("SELECT add_retention_policy('m1', INTERVAL '1 day')");
    const m3 = await id("SELECT job_id FROM timescaledb_information.jobs WHERE hypertable_name = 'm3'");
    for (const job of [columnstore, m3, retention]) await owner.query(`CALL run_job(${job})`);
    const chunks = await owner.query("SELECT hypertable_name::text AS t, count(*)::int AS n, bool_and(is_compressed) AS cs FROM timescaledb_information.chunks WHERE hypertable_name LIKE 'm_' GROUP BY 1 ORDER BY 1");
    expect(chunks.rows).toEqual([
      { t: 'm2', n: 6, cs: true },
      { t: 'm3', n: 2, cs: true },
    ]);
    expect((await owner.query('SELECT (SELECT count(*) FROM m1)::int AS m1, (SELECT sum(v) FROM m2)::int AS m2')).rows).toEqual([{ m1: 0, m2: 1128 }]);
    expect((await admin.query("SELECT count(*)::int AS n FROM _timescaledb_catalog.chunk c JOIN _timescaledb_catalog.hypertable h ON h.id = c.hypertable_id WHERE h.table_name = 'm1'")).rows).toEqual([{ n: 0 }]);
    await owner.query("SELECT drop_chunks('m2', older_than => '2024-03-04'::timestamptz)");
    expect((await owner.query("SELECT count(*)::int AS n FROM show_chunks('m2')")).rows).toEqual([{ n: 3 }]);
  });

  it('sets the integer now function of its integer hypertable', async () => {
    const owner = await connect('owner2');
    await owner.query(`CREATE TABLE i1 (t bigint NOT NULL, v float8); SELECT create_hypertable('i1', by_range('t', 100));
      CREATE FUNCTION i1_now() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT 1000::bigint $$;
      SELECT set_integer_now_func('i1', 'i1_now')`);
    const dims = await owner.query("SELECT integer_now_func::text AS f FROM timescaledb_information.dimensions WHERE hypertable_name = 'i1'");
    expect(dims.rows).toEqual([{ f: 'i1_now' }]);
  });

  it('may not make hypertables in a schema it may not create in', async () => {
    const owner = await connect('owner2');
    await owner.query('CREATE TABLE m4 (time timestamptz NOT NULL)');
    await expect(owner.query("SELECT create_hypertable('m4', 'time', associated_schema_name => 'closed')"))
      .rejects.toMatchObject({ code: '42501', message: 'permissions denied: cannot create chunks in schema "closed"' });
  });

  it('is the only one (with superusers) who may change them: 42501 for another role', async () => {
    await admin.query('CREATE TABLE public.m5 (time timestamptz NOT NULL, host text); ALTER TABLE m5 OWNER TO owner2');
    const other = await connect('stranger');
    for (const [q, table] of [
      ["SELECT create_hypertable('m5', 'time')", 'm5'],
      ["SELECT create_hypertable('m5', by_range('time'))", 'm5'],
      ["SELECT add_dimension('m2', by_hash('v', 2))", 'm2'],
      ["SELECT add_dimension('m2', 'v', number_partitions => 2)", 'm2'],
      ["SELECT set_chunk_time_interval('m2', INTERVAL '1 week')", 'm2'],
      ["SELECT set_number_partitions('m2', 2)", 'm2'],
      ["SELECT add_retention_policy('m2', INTERVAL '1 day')", 'm2'],
      ["SELECT add_compression_policy('m1', INTERVAL '1 day')", 'm1'],
      ["SELECT drop_chunks('m2', older_than => '2024-03-06'::timestamptz)", 'm2'],
      ["SELECT set_integer_now_func('i1', 'i1_now', replace_if_exists => true)", 'i1'],
    ] as const) {
      await expect(other.query(q), q).rejects.toMatchObject(denied(table));
    }
    for (const q of ["ALTER TABLE m2 SET (timescaledb.compress, timescaledb.compress_segmentby = 'v')", "ALTER TABLE m1 SET (timescaledb.chunk_interval = '1 week')"]) {
      await expect(other.query(q), q).rejects.toMatchObject({ code: '42501', message: `must be owner of table ${q.split(' ')[2]}` });
    }
    const jobs = (await admin.query("SELECT job_id FROM timescaledb_information.jobs WHERE owner = 'owner2'::regrole")).rows as Array<{ job_id: number }>;
    expect(jobs.length).toBe(3);
    for (const { job_id } of jobs) await expect(other.query(`CALL run_job(${job_id})`)).rejects.toMatchObject({ code: '42501' });
    // The catalog requests the functions make: as itself only, and refused for a table it does not own.
    const call = (caller: string, table: string) =>
      `INSERT INTO _timescaledb_catalog.orbit_owner_call (caller, op, rel, args) VALUES ('${caller}', 'create_hypertable', '${table}', '{"dim": {"column_name": "time", "is_open": true}}')`;
    await expect(other.query(call('owner2', 'm5'))).rejects.toMatchObject({ code: '42501', message: 'new row violates row-level security policy for table "orbit_owner_call"' });
    await expect(other.query(call('stranger', 'm5'))).rejects.toMatchObject(denied('m5'));
    await expect(other.query(call('stranger', 'm4'))).rejects.toMatchObject(denied('m4'));
    expect((await admin.query("SELECT count(*)::int AS n FROM _timescaledb_catalog.hypertable WHERE table_name IN ('m4', 'm5')")).rows).toEqual([{ n: 0 }]);
    expect((await admin.query('SELECT count(*)::int AS n FROM _timescaledb_catalog.orbit_owner_call')).rows).toEqual([{ n: 0 }]);
    expect((await other.query(hypertables)).rows.map((r) => r.dims)).toEqual([1, 2, 1]);
  });
  it('sees the history and errors of its own jobs only, as TimescaleDB shows them', async () => {
    await admin.query(`INSERT INTO _timescaledb_internal.bgw_job_stat_history (job_id, execution_start, execution_finish, succeeded, data)
      SELECT job_id, now(), now(), false, '{"error_data": {"sqlerrcode": "23505", "message": "Key (v)=(secret) already exists"}}'
      FROM timescaledb_information.jobs WHERE owner = 'owner2'::regrole`);
    const errors = 'SELECT count(*)::int AS n FROM timescaledb_information.job_errors';
    const history = 'SELECT count(*)::int AS n FROM timescaledb_information.job_history';
    expect((await (await connect('owner2')).query(errors)).rows).toEqual([{ n: 3 }]);
    expect((await admin.query(history)).rows).toEqual([{ n: 3 }]);
    const other = await connect('stranger');
    expect((await other.query(errors)).rows).toEqual([{ n: 0 }]);
    expect((await other.query(history)).rows).toEqual([{ n: 0 }]);
    await expect(other.query('SELECT count(*) FROM _timescaledb_internal.bgw_job_stat_history')).rejects.toMatchObject({ code: '42501' });
  });
});

describe('a role with SELECT on the hypertable only', () => {
  it('may not execute any SECURITY DEFINER function of the extension (42501), the backend\'s role may', async () => {
    const definers = (await admin.query(DEFINERS('reader'))).rows as Array<{ name: string; event_trigger: boolean; args: string[]; may: boolean }>;
    expect(definers.length).toBeGreaterThan(10);
    expect(definers.filter((f) => f.may).map((f) => f.name)).toEqual([]);
    expect((await admin.query(DEFINERS('postgres'))).rows.every((f) => f.may)).toBe(true);
    const reader = await connect('reader');
    // Event trigger functions cannot be called at all; the others are refused before they run.
    for (const f of definers.filter((x) => !x.event_trigger)) {
      const args = f.args.map((t) => `NULL::${t === 'anyelement' ? 'timestamptz' : t}`).join(', ');
      await expect(reader.query(`SELECT ${f.name}(${args})`), f.name).rejects.toMatchObject({ code: '42501', message: `permission denied for function ${f.name.replace(/^.*\./, '')}` });
    }
  });

  it('gets TimescaleDB\'s 42501 "must be owner of hypertable" from the functions that change it', async () => {
    const reader = await connect('reader');
    const denied = { code: '42501', message: 'must be owner of hypertable "d"' };
    for (const q of [
      "SELECT compress_chunk(c) FROM show_chunks('d') c",
      "SELECT decompress_chunk(c) FROM show_chunks('d') c",
      "SELECT add_compression_policy('d', INTERVAL '1 day')",
      "SELECT remove_compression_policy('d', if_exists => true)",
      "SELECT add_retention_policy('d', INTERVAL '1 year')",
      "SELECT drop_chunks('d', older_than => '2024-03-02'::timestamptz)",
      "SELECT set_chunk_time_interval('d', INTERVAL '1 week')",
      "SELECT _timescaledb_functions.orbit_set_direct_compress('d', false)",
    ]) {
      await expect(reader.query(q), q).rejects.toMatchObject(denied);
    }
    const chunks = await admin.query("SELECT count(*) FILTER (WHERE is_compressed)::int AS compressed, count(*)::int AS n FROM timescaledb_information.chunks WHERE hypertable_name = 'd'");
    expect(chunks.rows).toEqual([{ compressed: 3, n: 3 }]);
  });

  it('may not write the catalog rows the user-facing functions write as their caller', async () => {
    const reader = await connect('reader');
    const chunk = (await admin.query("SELECT id FROM _timescaledb_catalog.chunk ORDER BY id LIMIT 1")).rows[0].id as number;
    for (const q of [
      `INSERT INTO _timescaledb_catalog.orbit_columnstore_request (chunk_id, op) VALUES (${chunk}, 'decompress')`,
      "INSERT INTO _timescaledb_catalog.orbit_direct_compress VALUES ((SELECT id FROM _timescaledb_catalog.hypertable WHERE table_name = 'd'), false) ON CONFLICT (hypertable_id) DO UPDATE SET enabled = false",
      `INSERT INTO _timescaledb_config.bgw_job (application_name, schedule_interval, max_runtime, max_retries, retry_period, proc_schema, proc_name, owner)
         VALUES ('x', '1 hour', '0', -1, '1 hour', 'public', 'note', 'owner1')`,
      "UPDATE _timescaledb_internal.bgw_job_stat SET next_start = now() RETURNING job_id",
    ]) {
      const r = await reader.query(q).then((x) => ({ rows: x.rowCount }), (e: { code?: string }) => ({ code: e.code }));
      expect(r, q).toEqual(q.startsWith('UPDATE') ? { rows: 0 } : { code: '42501' });
    }
  });
});

it('takes EXECUTE on the internal functions from PUBLIC again when it opens a data directory installed with it', async () => {
  const dir = tempDir();
  const restart = () => startTestServer({ dataDir: dir.path });
  let s = await restart();
  try {
    const c = new pg.Client({ connectionString: s.url });
    await c.connect();
    await c.query(`CREATE EXTENSION timescaledb; CREATE ROLE reader LOGIN;
      GRANT EXECUTE ON FUNCTION _timescaledb_functions.route_default_rows(regclass) TO PUBLIC;
      ALTER FUNCTION _timescaledb_functions.orbit_request_conversion(integer, text) SECURITY DEFINER;
      ALTER TABLE _timescaledb_config.bgw_job DISABLE ROW LEVEL SECURITY`);
    await c.end();
    await s.close();
    s = await restart();
    const again = new pg.Client({ connectionString: s.url });
    await again.connect();
    const definers = (await again.query(DEFINERS('reader'))).rows as Array<{ name: string; may: boolean }>;
    expect(definers.filter((f) => f.may)).toEqual([]);
    expect(definers.map((f) => f.name)).not.toContain('_timescaledb_functions.orbit_request_conversion');
    const rls = await again.query("SELECT relrowsecurity FROM pg_class WHERE oid = '_timescaledb_config.bgw_job'::regclass");
    expect(rls.rows).toEqual([{ relrowsecurity: true }]);
    await again.end();
  } finally {
    await s.close();
    dir.remove();
  }
});
