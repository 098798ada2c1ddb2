// A hypertable's owner owns its chunks, as in TimescaleDB: ALTER TABLE … OWNER TO and REASSIGN OWNED
// re-own them (catalog/extension/hypertable-catalog.ts). The rows Orbit moves from the default
// partition into chunks are moved with the owner's rights, hypertable by hypertable
// (catalog/extension/chunks.ts). Decompressing for a write fires no user trigger, whoever owns the
// chunk (session/columnstore/copy-batches.ts).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleClients } from '../support/role-clients.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let admin: pg.Client;
const { connect, closeAll } = roleClients(() => server.port);

/** The notices a client gets from `sql`, as "SQLSTATE message". */
async function notices(client: pg.Client, sql: string): Promise<string[]> {
  const got: string[] = [];
  const listen = (n: { code?: string; message?: string }) => got.push(`${n.code} ${n.message}`);
  client.on('notice', listen);
  try {
    await client.query(sql);
  } finally {
    client.off('notice', listen);
  }
  return got;
}

/** How many rows of hypertable `name` wait in its default partition, and how many chunks it has. */
async function routed(name: string): Promise<{ waiting: number; chunks: number }> {
  const r = await admin.query(
    `SELECT (SELECT count(*)::int FROM _timescaledb_catalog.chunk c JOIN _timescaledb_catalog.hypertable h ON h.id = c.hypertable_id
             WHERE h.table_name = $1 AND NOT c.dropped) AS chunks,
            (SELECT h.associated_schema_name || '.' || h.associated_table_prefix || '_default' FROM _timescaledb_catalog.hypertable h
             WHERE h.table_name = $1) AS def`,
    [name],
  );
  const { chunks, def } = r.rows[0] as { chunks: number; def: string };
  const waiting = (await admin.query(`SELECT count(*)::int AS n FROM ${def}`)).rows[0].n as number;
  return { waiting, chunks };
}

/** The owners of hypertable `name` and of each of its partitions (chunks, slice tables, default partition). */
async function owners(name: string): Promise<string[]> {
  const r = await admin.query(
    `SELECT DISTINCT pg_get_userbyid(c.relowner) AS o FROM pg_partition_tree($1::regclass) t JOIN pg_class c ON c.oid = t.relid ORDER BY 1`,
    [name],
  );
  return r.rows.map((x) => x.o as string);
}

beforeAll(async () => {
  server = await startTestServer();
  admin = await connect('postgres');
  await admin.query(`CREATE EXTENSION IF NOT EXISTS timescaledb; CREATE ROLE rita LOGIN; CREATE ROLE uma LOGIN; CREATE ROLE bob LOGIN;
    GRANT USAGE, CREATE ON SCHEMA public TO rita; GRANT USAGE ON SCHEMA public TO uma, bob`);
});

afterAll(async () => {
  await closeAll();
  await server?.close();
});

describe('routing rows into chunks', () => {
  it("evaluates a hypertable's CHECK constraints as its owner, not as the extension's owner", async () => {
    const rita = await connect('rita');
    await rita.query(`CREATE TABLE guarded (time timestamptz NOT NULL, v int, CHECK (current_user <> 'postgres'));
      SELECT create_hypertable('guarded', 'time', chunk_time_interval => INTERVAL '1 day')`);
    expect(await notices(rita, `INSERT INTO guarded SELECT '2024-01-01'::timestamptz + g * INTERVAL '1 hour', g FROM generate_series(0, 47) g`)).toEqual([]);
    expect(await routed('guarded')).toEqual({ waiting: 0, chunks: 2 });
    // The superuser's hypertable is routed as before.
    await admin.query(`CREATE TABLE plain (time timestamptz NOT NULL, v int); SELECT create_hypertable('plain', 'time', chunk_time_interval => INTERVAL '1 day')`);
    expect(await notices(admin, `INSERT INTO plain VALUES ('2024-01-01', 1), ('2024-01-03', 2)`)).toEqual([]);
    expect(await routed('plain')).toEqual({ waiting: 0, chunks: 2 });
  });

  it("gives the owner's code no way back to the extension owner's rights while rows move", async () => {
    const rita = await connect('rita');
    // Harmless as rita; as a superuser (or after switching back to one) it makes rita a superuser.
    await rita.query(`CREATE FUNCTION climb() RETURNS boolean LANGUAGE plpgsql AS $$
      BEGIN
        BEGIN
          PERFORM set_config('role', 'none', true);
        EXCEPTION WHEN OTHERS THEN NULL;
        END;
        IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
          ALTER ROLE rita SUPERUSER;
        END IF;
        RETURN true;
      END $$;
      CREATE TABLE climbing (time timestamptz NOT NULL, v int CHECK (climb()));
      SELECT create_hypertable('climbing', 'time', chunk_time_interval => INTERVAL '1 day');
      INSERT INTO climbing VALUES ('2024-01-01', 1), ('2024-01-03', 2)`);
    expect(await routed('climbing')).toEqual({ waiting: 0, chunks: 2 });
    expect((await admin.query(`SELECT rolsuper FROM pg_roles WHERE rolname = 'rita'`)).rows).toEqual([{ rolsuper: false }]);
  });

  it('routes every other hypertable when one cannot be routed, and names that one in a warning', async () => {
    const rita = await connect('rita');
    // Holds for the role inserting (bob), not for the owner the rows are moved as.
    await rita.query(`CREATE TABLE bobs (time timestamptz NOT NULL, v int, CHECK (current_user = 'bob'));
      SELECT create_hypertable('bobs', 'time', chunk_time_interval => INTERVAL '1 day'); GRANT INSERT, SELECT ON bobs TO bob`);
    try {
      const bob = await connect('bob');
      const left = '23514 rows of hypertable public.bobs were left in its default partition: new row for relation';
      expect((await notices(bob, `INSERT INTO bobs VALUES ('2024-01-01', 1), ('2024-01-05', 2)`)).map((n) => n.slice(0, left.length))).toEqual([left]);
      expect((await bob.query('SELECT count(*)::int AS n FROM bobs')).rows).toEqual([{ n: 2 }]);
      await admin.query(`CREATE TABLE other (time timestamptz NOT NULL, v int); SELECT create_hypertable('other', 'time', chunk_time_interval => INTERVAL '1 day')`);
      await admin.query(`INSERT INTO other VALUES ('2024-01-01', 1), ('2024-01-03', 2)`);
      expect(await routed('other')).toEqual({ waiting: 0, chunks: 2 });
      expect((await admin.query(`SELECT count(*)::int AS n FROM show_chunks('other')`)).rows).toEqual([{ n: 2 }]);
      expect((await admin.query('SELECT _timescaledb_functions.route_default_rows() AS n')).rows).toEqual([{ n: '0' }]);
      expect(await routed('bobs')).toEqual({ waiting: 2, chunks: 0 });
    } finally {
      // Its rows would keep failing every later routing (with a warning each time).
      await admin.query('DROP TABLE bobs');
    }
  });
});

describe('ALTER TABLE … OWNER TO on a hypertable', () => {
  beforeAll(async () => {
    await admin.query(`CREATE TABLE m (time timestamptz NOT NULL, dev int, v int); SELECT create_hypertable('m', 'time', chunk_time_interval => INTERVAL '1 day');
      INSERT INTO m SELECT '2024-01-01'::timestamptz + g * INTERVAL '1 hour', g % 3, g FROM generate_series(0, 71) g;
      CREATE TABLE sp (time timestamptz NOT NULL, dev int, v int); SELECT create_hypertable('sp', 'time', 'dev', 2, chunk_time_interval => INTERVAL '1 day');
      INSERT INTO sp SELECT '2024-01-01'::timestamptz + g * INTERVAL '1 hour', g % 3, g FROM generate_series(0, 71) g`);
  });

  it('re-owns its chunks, slice tables and default partition, in the same transaction', async () => {
    await admin.query('BEGIN; ALTER TABLE m OWNER TO rita; ALTER TABLE sp OWNER TO rita; ROLLBACK');
    expect(await owners('m')).toEqual(['postgres']);
    await admin.query('ALTER TABLE m OWNER TO rita; ALTER TABLE sp OWNER TO rita');
    expect(await owners('m')).toEqual(['rita']);
    expect(await owners('sp')).toEqual(['rita']);
    // The chunks made later are the new owner's too.
    await admin.query(`INSERT INTO m VALUES ('2024-02-01', 1, 1); INSERT INTO sp VALUES ('2024-02-01', 1, 1)`);
    expect(await owners('m')).toEqual(['rita']);
    expect(await owners('sp')).toEqual(['rita']);
  });

  it('REASSIGN OWNED moves them along, and GRANTs made afterwards name the new owner as grantor on every chunk', async () => {
    await admin.query('REASSIGN OWNED BY rita TO uma');
    expect(await owners('m')).toEqual(['uma']);
    const uma = await connect('uma');
    await uma.query('GRANT SELECT ON m TO bob');
    const r = await admin.query(
      `SELECT DISTINCT pg_get_userbyid(x.grantor) AS grantor FROM pg_partition_tree('m'::regclass) t JOIN pg_class c ON c.oid = t.relid,
         aclexplode(c.relacl) x WHERE x.grantee = 'bob'::regrole`,
    );
    expect(r.rows).toEqual([{ grantor: 'uma' }]);
    const bob = await connect('bob');
    expect((await bob.query('SELECT count(*)::int AS n FROM m')).rows).toEqual([{ n: 73 }]);
  });
});

describe('decompression before a write', () => {
  it("fires none of the chunk's user triggers when its owner is not a superuser", async () => {
    const rita = await connect('rita');
    await rita.query(`CREATE TABLE fired (op text);
      CREATE FUNCTION note() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO fired VALUES (TG_OP); RETURN NEW; END $$;
      CREATE TABLE trg (time timestamptz NOT NULL, dev int, v float8);
      SELECT create_hypertable('trg', 'time', chunk_time_interval => INTERVAL '1 day');
      INSERT INTO trg SELECT '2024-01-01'::timestamptz + g * INTERVAL '1 hour', g % 3, g FROM generate_series(0, 47) g;
      ALTER TABLE trg SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev'); SELECT compress_chunk(c) FROM show_chunks('trg') c;
      CREATE TRIGGER note AFTER INSERT OR UPDATE ON trg FOR EACH ROW EXECUTE FUNCTION note();
      GRANT SELECT, UPDATE ON trg TO uma; GRANT INSERT ON fired TO uma`);
    expect((await rita.query('UPDATE trg SET v = -v WHERE dev = 0')).rowCount).toBe(16);
    const uma = await connect('uma');
    expect((await uma.query('UPDATE trg SET v = -v WHERE dev = $1', [1])).rowCount).toBe(16);
    // The UPDATEs' own triggers fire, once per row updated; the decompressed rows fire no INSERT trigger.
    expect((await rita.query('SELECT op, count(*)::int AS n FROM fired GROUP BY op ORDER BY op')).rows).toEqual([{ op: 'UPDATE', n: 32 }]);
  });
});
