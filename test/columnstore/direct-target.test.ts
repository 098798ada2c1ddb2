// Which COPYs and INSERTs write straight into the columnstore (src/session/direct-ingest/target.ts):
// only as a role that may insert into the columns they list — otherwise PostgreSQL's own 42501 and
// nothing written — never under row security, and as the enable_direct_compress_* settings say.
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyIn, psqlCopy } from '../support/copy-in.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let admin: pg.Client;
const opened: Array<{ end(): Promise<unknown> }> = [];

/** libpq URL of `user` (UTF8, for Orbit to read the rows itself). */
const urlOf = (user: string) => `postgres://${user}@127.0.0.1:${server.port}/postgres?client_encoding=UTF8`;

async function connect(user: string): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user, database: 'postgres' });
  await c.connect();
  opened.push(c);
  return c;
}

function sqlOf(user: string): postgres.Sql {
  const sql = postgres(urlOf(user), { max: 1, onnotice: () => undefined });
  opened.push(sql);
  return sql;
}

/** `n` rows on day `day` of March 2024 (one chunk a day), as CSV, text, or INSERT values. */
function rows(day: number, n = 300): string[][] {
  const date = `2024-03-${String(day).padStart(2, '0')}`;
  return Array.from({ length: n }, (_, i) => [`${date} ${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00+00`, `h${i % 3}`, `${i}.5`]);
}
const csv = (r: string[][]) => r.map((x) => x.join(',') + '\n').join('');
const text = (r: string[][]) => r.map((x) => x.join('\t') + '\n').join('');
const values = (r: string[][]) => r.map((x) => `('${x[0]}', '${x[1]}', ${x[2]})`).join(', ');

/** Rows of `table` on `day`, and whether its chunk is compressed (direct) or not (row store); undefined: no chunk. */
async function landed(table: string, day: number): Promise<{ n: number; direct: boolean | undefined }> {
  const from = `2024-03-${String(day).padStart(2, '0')}`;
  const n = (await admin.query(`SELECT count(*)::int AS n FROM ${table} WHERE time >= '${from}' AND time < '${from}'::date + 1`)).rows[0].n;
  const chunk = await admin.query(`SELECT is_compressed FROM timescaledb_information.chunks WHERE hypertable_name = '${table}' AND range_start = '${from}'`);
  return { n, direct: chunk.rows[0]?.is_compressed };
}

const TABLE = (name: string, extra = '') =>
  `CREATE TABLE ${name} (time timestamptz NOT NULL, host text, v float8) WITH (timescaledb.hypertable, timescaledb.partition_column = 'time',
    timescaledb.chunk_interval = '1 day', timescaledb.segmentby = 'host'${extra})`;

beforeAll(async () => {
  server = await startTestServer();
  admin = await connect('postgres');
  await admin.query(`CREATE EXTENSION IF NOT EXISTS timescaledb; ${TABLE('d')};
    CREATE ROLE reader LOGIN; CREATE ROLE writer LOGIN; CREATE ROLE partial LOGIN; CREATE ROLE blind LOGIN;
    GRANT SELECT ON d TO reader, writer, partial; GRANT INSERT ON d TO writer, blind; GRANT INSERT (time, host) ON d TO partial`);
});

afterAll(async () => {
  for (const c of opened) await c.end().catch(() => undefined);
  await server?.close();
});

describe('direct ingest privileges', () => {
  const DENIED = 'ERROR:  42501: permission denied for table d';

  it('refuses COPY and INSERT of a role with SELECT only, with PostgreSQL\'s 42501, writing nothing', async () => {
    const csvCopy = await psqlCopy(urlOf('reader'), 'COPY d FROM STDIN (FORMAT csv)', csv(rows(1)));
    expect(csvCopy.code).not.toBe(0);
    expect(csvCopy.stderr).toContain(DENIED);
    const textCopy = await psqlCopy(urlOf('reader'), 'COPY d (time, host, v) FROM STDIN', text(rows(1)));
    expect(textCopy.stderr).toContain(DENIED);
    const reader = await connect('reader');
    await expect(reader.query(`INSERT INTO d VALUES ${values(rows(1))}`)).rejects.toMatchObject({ code: '42501', message: 'permission denied for table d' });
    // Over the extended protocol, with parameters.
    const params = rows(1).map((_, i) => `($${3 * i + 1}, $${3 * i + 2}, $${3 * i + 3})`).join(', ');
    await expect(reader.query(`INSERT INTO d VALUES ${params}`, rows(1).flat())).rejects.toMatchObject({ code: '42501', message: 'permission denied for table d' });
    // A superuser session that SET ROLE reader is refused likewise.
    const c = await connect('postgres');
    await c.query('SET ROLE reader');
    await expect(c.query(`INSERT INTO d VALUES ${values(rows(1))}`)).rejects.toMatchObject({ code: '42501' });
    expect(await landed('d', 1)).toEqual({ n: 0, direct: undefined });
  });

  it('writes directly for a role with INSERT', async () => {
    await copyIn(sqlOf('writer'), 'COPY d FROM STDIN (FORMAT csv)', csv(rows(2)));
    expect(await landed('d', 2)).toEqual({ n: 300, direct: true });
    await (await connect('writer')).query(`INSERT INTO d VALUES ${values(rows(3))}`);
    expect(await landed('d', 3)).toEqual({ n: 300, direct: true });
  });

  it('follows INSERT privileges on some columns: the listed ones must all be granted', async () => {
    const two = (r: string[][]) => r.map((x) => x.slice(0, 2));
    await copyIn(sqlOf('partial'), 'COPY d (time, host) FROM STDIN (FORMAT csv)', csv(two(rows(4))));
    expect(await landed('d', 4)).toEqual({ n: 300, direct: true });
    const all = await psqlCopy(urlOf('partial'), 'COPY d FROM STDIN (FORMAT csv)', csv(rows(5)));
    expect(all.stderr).toContain(DENIED);
    const partial = await connect('partial');
    await partial.query(`INSERT INTO d (time, host) VALUES ${two(rows(6)).map((x) => `('${x[0]}', '${x[1]}')`).join(', ')}`);
    expect(await landed('d', 6)).toEqual({ n: 300, direct: true });
    await expect(partial.query(`INSERT INTO d VALUES ${values(rows(5))}`)).rejects.toMatchObject({ code: '42501', message: 'permission denied for table d' });
    await expect(partial.query(`INSERT INTO d (time, v) VALUES ${rows(5).map((x) => `('${x[0]}', ${x[2]})`).join(', ')}`)).rejects.toMatchObject({ code: '42501' });
    expect(await landed('d', 5)).toEqual({ n: 0, direct: undefined });
  });

  it('loads the COPY of a role with INSERT but not SELECT, which may not create the staging table LIKE the hypertable', async () => {
    // Escapes: PostgreSQL would read these rows in a staging table; the row store path takes them.
    const escaped = rows(7).map((x) => [x[0]!, `${x[1]}\\tx`, x[2]!]);
    await copyIn(sqlOf('blind'), 'COPY d FROM STDIN', text(escaped));
    expect(await landed('d', 7)).toEqual({ n: 300, direct: false });
    expect((await admin.query("SELECT count(*)::int AS n FROM d WHERE host = E'h1\\tx'")).rows).toEqual([{ n: 100 }]);
  });

  it('keeps a table with row level security on the row store path, where PostgreSQL applies its policies', async () => {
    await admin.query(`${TABLE('s')}; ALTER TABLE s ENABLE ROW LEVEL SECURITY; GRANT SELECT, INSERT ON s TO writer;
      CREATE POLICY ok ON s TO writer USING (true) WITH CHECK (host <> 'h2')`);
    // PostgreSQL refuses COPY FROM under row security (0A000) and checks each INSERTed row.
    const copy = await psqlCopy(urlOf('writer'), 'COPY s FROM STDIN (FORMAT csv)', csv(rows(8)));
    expect(copy.stderr).toContain('ERROR:  0A000: COPY FROM not supported with row-level security');
    const writer = await connect('writer');
    await expect(writer.query(`INSERT INTO s VALUES ${values(rows(8))}`)).rejects.toMatchObject({ code: '42501', message: 'new row violates row-level security policy for table "s"' });
    await writer.query(`INSERT INTO s VALUES ${values(rows(8).filter((x) => x[1] !== 'h2'))}`);
    expect(await landed('s', 8)).toEqual({ n: 200, direct: false });
    // The owner is not subject to the policies, but the table keeps the row store path for it too.
    await copyIn(sqlOf('postgres'), 'COPY s FROM STDIN (FORMAT csv)', csv(rows(9)));
    expect(await landed('s', 9)).toEqual({ n: 300, direct: false });
  });
});

describe('the enable_direct_compress settings', () => {
  it('send COPY and INSERT to the row store when off (SET, SET LOCAL, set_config), and leave it to the table option when unset', async () => {
    await admin.query(TABLE('g'));
    const sql = sqlOf('postgres');
    const copy = (day: number) => copyIn(sql, 'COPY g FROM STDIN (FORMAT csv)', csv(rows(day)));
    const insert = (day: number) => sql.unsafe(`INSERT INTO g VALUES ${values(rows(day))}`);
    const direct = async (day: number) => {
      const l = await landed('g', day);
      expect(l.n).toBe(300);
      return l.direct;
    };
    expect(await sql`SHOW timescaledb.enable_direct_compress_copy`).toEqual([{ 'timescaledb.enable_direct_compress_copy': '' }]);
    await copy(1);
    await insert(2);
    expect([await direct(1), await direct(2)]).toEqual([true, true]);
    await sql`SET timescaledb.enable_direct_compress_copy = off`;
    await copy(3);
    await insert(4);
    await sql`SET timescaledb.enable_direct_compress_insert = false`;
    await insert(5);
    expect([await direct(3), await direct(4), await direct(5)]).toEqual([false, true, false]);
    await sql`RESET timescaledb.enable_direct_compress_copy`;
    await sql`RESET timescaledb.enable_direct_compress_insert`;
    await copy(6);
    expect(await direct(6)).toBe(true);
    await sql.begin(async (tx) => {
      await tx`SET LOCAL timescaledb.enable_direct_compress_copy = 'OFF'`;
      await tx`SELECT set_config('timescaledb.enable_direct_compress_insert', '0', true)`;
      await copyIn(tx, 'COPY g FROM STDIN (FORMAT csv)', csv(rows(7)));
      await tx.unsafe(`INSERT INTO g VALUES ${values(rows(8))}`);
    });
    await insert(9);
    expect([await direct(7), await direct(8), await direct(9)]).toEqual([false, false, true]);
  });
});
