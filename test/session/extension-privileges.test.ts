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
  // Made by the superuser (a role that is not one cannot create hypertables yet) and given away:
  // chunks created from then on belong to owner1, as the hypertable does.
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
