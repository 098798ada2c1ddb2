// Direct-to-columnstore INSERT … VALUES (session/direct-ingest/insert.ts) over the simple and extended protocols:
// the same rows as a plain table receiving the same statements, rows in batches rather than chunk
// tables, and the ordinary INSERT (with PostgreSQL's errors) whenever Orbit is not sure; an
// acknowledged INSERT survives SIGKILL.
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { msg, RawClient, types } from '../support/raw-client.js';
import { openOrbit, type Orbit } from '../../src/runtime/node.js';
import { startChildServer, startTestServer, tempDir, TEMPLATE, type TestServer } from '../support/server.js';

const COLUMNS = '(time timestamptz NOT NULL, host text, v float8, n numeric, i int8, b bool, note text)';

/** A seeded generator, so a failure is reproducible. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** One row of literals; `odd` adds spellings Orbit leaves to PostgreSQL (the INSERT then runs as usual). */
function literal(r: () => number, k: number, odd = false): string {
  const t = new Date(Date.UTC(2024, 2, 30) + Math.floor(r() * 4 * 86_400_000)).toISOString();
  const pick = <T,>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const v = pick(['NULL', '0', '-0', '1.5', '-2.25e3', (r() * 1000).toFixed(6), `'NaN'`, `'Infinity'`, `'-Infinity'`, '123456789012345678']);
  const n = pick(['NULL', '0.50', '-0.00', '007.10', '12', '-3.14159', ...(odd ? [`'1e3'`, `' 5 '`] : [])]);
  const i = pick(['NULL', '0', '-9223372036854775808', '9223372036854775807', String(k)]);
  const b = pick(['NULL', 'true', 'false', `'t'`, `'f'`]);
  const note = pick(['NULL', `''`, `'plain'`, `'it''s'`, `'naïve ü'`, `'a,b;c'`]);
  // Times with offsets, as ISO with T and Z, and in the session's zone (no offset).
  const time = pick([`'${t}'`, `'${t.replace('T', ' ').replace('Z', '+02:00')}'`, ...(odd ? [`'${t.slice(0, 19)}'`] : [])]);
  return `(${time}, 'h${k % 5}', ${v}, ${n}, ${i}, ${b}, ${note})`;
}

/** A server with hypertable `d` (direct compress, segmentby host) and plain table `p` of the same columns. */
async function startWithTables(): Promise<{ server: TestServer; client: pg.Client }> {
  const server = await startTestServer();
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  await client.query(`CREATE EXTENSION IF NOT EXISTS timescaledb;
    CREATE TABLE d ${COLUMNS} WITH (timescaledb.hypertable, timescaledb.partition_column = 'time',
      timescaledb.segmentby = 'host', timescaledb.chunk_interval = '1 day');
    CREATE TABLE p ${COLUMNS};`);
  return { server, client };
}

describe('direct-to-columnstore INSERT', () => {
  let server: TestServer;
  let client: pg.Client;
  const q = async (sql: string) => (await client.query(sql)).rows;

  beforeAll(async () => {
    ({ server, client } = await startWithTables());
  });
  afterAll(async () => {
    await client?.end();
    await server?.close();
  });

  const compare = async () => {
    const order = 'ORDER BY time, host, v NULLS FIRST, n NULLS FIRST, i NULLS FIRST, b NULLS FIRST, note NULLS FIRST';
    expect(await q(`SELECT * FROM d ${order}`)).toEqual(await q(`SELECT * FROM p ${order}`));
    const agg = 'SELECT host, count(*), count(v), sum(n), min(i), max(i), bool_or(b), string_agg(note, \'|\' ORDER BY note) FROM TBL GROUP BY host ORDER BY host';
    expect(await q(agg.replace('TBL', 'd'))).toEqual(await q(agg.replace('TBL', 'p')));
  };

  it('writes batches holding exactly the rows a plain table gets', async () => {
    const r = random(7);
    for (let s = 0; s < 4; s++) {
      const rows = Array.from({ length: 150 + Math.floor(r() * 200) }, (_, k) => literal(r, k)).join(', ');
      const a = await client.query(`INSERT INTO d VALUES ${rows}`);
      const b = await client.query(`INSERT INTO p VALUES ${rows}`);
      expect(a.command).toBe('INSERT');
      expect(a.rowCount).toBe(b.rowCount);
    }
    await compare();
    // The rows are in the columnstore: every chunk compressed, chunk tables empty.
    const chunks = await q(`SELECT is_compressed, pg_relation_size(format('%I.%I', chunk_schema, chunk_name)::regclass)::int AS heap
      FROM timescaledb_information.chunks WHERE hypertable_name = 'd'`);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.every((c) => c.is_compressed && c.heap === 0)).toBe(true);
    const stats = await q(`SELECT before_compression_total_bytes, after_compression_total_bytes FROM chunk_compression_stats('d')`);
    expect(stats.every((s) => s.before_compression_total_bytes === null && Number(s.after_compression_total_bytes) > 0)).toBe(true);
  });

  it('gives spellings it does not read itself to PostgreSQL, in any session time zone', async () => {
    const r = random(9);
    for (const zone of ['Europe/Berlin', 'UTC']) {
      await client.query(`SET TIME ZONE '${zone}'`);
      for (let s = 0; s < 3; s++) {
        const rows = Array.from({ length: 100 + Math.floor(r() * 100) }, (_, k) => literal(r, k, true)).join(', ');
        await client.query(`INSERT INTO d VALUES ${rows}`);
        await client.query(`INSERT INTO p VALUES ${rows}`);
      }
    }
    await compare();
  });

  it('keeps the ordinary INSERT for what it does not read itself, with PostgreSQL errors and nothing left behind', async () => {
    const r = random(11);
    const rows = Array.from({ length: 120 }, (_, k) => literal(r, k));
    const before = await q('SELECT count(*)::int AS n FROM d');
    // A bad value: PostgreSQL's own error (22P02), and no row of the statement stays.
    const bad = [...rows];
    bad[60] = `('2024-03-30 10:00:00+00', 'h1', 'abc', 1, 1, true, 'x')`;
    await expect(client.query(`INSERT INTO d VALUES ${bad.join(', ')}`)).rejects.toMatchObject({ code: '22P02', message: 'invalid input syntax for type double precision: "abc"' });
    // Out of range for int8 and a NULL time: 22003 and 23502 as PostgreSQL reports them.
    const big = [...rows];
    big[3] = `('2024-03-30 10:00:00+00', 'h1', 1, 1, 9223372036854775808, true, 'x')`;
    await expect(client.query(`INSERT INTO d VALUES ${big.join(', ')}`)).rejects.toMatchObject({ code: '22003' });
    const nulltime = [...rows];
    nulltime[5] = `(NULL, 'h1', 1, 1, 1, true, 'x')`;
    await expect(client.query(`INSERT INTO d VALUES ${nulltime.join(', ')}`)).rejects.toMatchObject({ code: '23502' });
    expect(await q('SELECT count(*)::int AS n FROM d')).toEqual(before);
    // TRUE into a text column is 'true' in PostgreSQL, an expression is evaluated by it, RETURNING answers.
    const special = Array.from({ length: 100 }, (_, k) => `('2024-03-31 0${k % 10}:00:00+00', 'h9', ${k} * 2, 1, ${k}, true, ${k % 2 ? 'true' : "'x'"})`).join(', ');
    for (const t of ['d', 'p']) await client.query(`INSERT INTO ${t} VALUES ${special.replace(/'x'/g, 'true')}`);
    const returning = await client.query(`INSERT INTO d VALUES ${rows.join(', ')} RETURNING host`);
    await client.query(`INSERT INTO p VALUES ${rows.join(', ')}`);
    expect(returning.rowCount).toBe(120);
    await compare();
  });

  it('follows the transaction block, and small INSERTs stay in the row store', async () => {
    const r = random(13);
    const rows = Array.from({ length: 150 }, (_, k) => literal(r, k)).join(', ');
    const before = await q('SELECT count(*)::int AS n FROM d');
    await client.query('BEGIN');
    await client.query(`INSERT INTO d VALUES ${rows}`);
    expect((await q('SELECT count(*)::int AS n FROM d'))[0].n).toBe(before[0].n + 150);
    await client.query('ROLLBACK');
    expect(await q('SELECT count(*)::int AS n FROM d')).toEqual(before);
    await client.query('BEGIN');
    await client.query(`INSERT INTO d VALUES ${rows}`);
    await client.query(`INSERT INTO p VALUES ${rows}`);
    await client.query('COMMIT');
    await compare();
    // Under 100 rows: the ordinary path (rows in the chunk table of a new chunk).
    await client.query(`INSERT INTO d VALUES ('2024-05-01 00:00:00+00', 'h1', 1, 1, 1, true, 'small'), ('2024-05-01 00:00:10+00', 'h2', 2, 2, 2, false, 'small')`);
    const small = await q(`SELECT is_compressed FROM timescaledb_information.chunks WHERE hypertable_name = 'd' AND range_start <= '2024-05-01' AND range_end > '2024-05-01'`);
    expect(small).toEqual([{ is_compressed: false }]);
    // Switched off for the table: the ordinary path too.
    await client.query('ALTER TABLE d SET (timescaledb.direct_compress = false)');
    await client.query(`INSERT INTO d VALUES ${Array.from({ length: 100 }, (_, k) => `('2024-05-03 00:${String(k % 60).padStart(2, '0')}:00+00', 'h1', ${k}, 1, 1, true, 'off')`).join(', ')}`);
    const off = await q(`SELECT is_compressed FROM timescaledb_information.chunks WHERE hypertable_name = 'd' AND range_start <= '2024-05-03' AND range_end > '2024-05-03'`);
    expect(off).toEqual([{ is_compressed: false }]);
    // A hypertable made by create_hypertable writes batches directly only when the session asks.
    await client.query(`CREATE TABLE e ${COLUMNS}; SELECT create_hypertable('e', by_range('time', INTERVAL '1 day'));
      ALTER TABLE e SET (timescaledb.compress, timescaledb.compress_segmentby = 'host')`);
    const hundred = Array.from({ length: 100 }, (_, k) => `('2024-06-0${1 + (k % 2)} 00:00:${String(k % 60).padStart(2, '0')}+00', 'h1', ${k}, 1, 1, true, 'e')`).join(', ');
    await client.query(`INSERT INTO e VALUES ${hundred}`);
    await client.query('SET timescaledb.enable_direct_compress_insert = on');
    await client.query(`INSERT INTO e VALUES ${hundred.replace(/2024-06-0/g, '2024-07-0')}`);
    await client.query('RESET timescaledb.enable_direct_compress_insert');
    const e = await q(`SELECT to_char(range_start, 'MM') AS m, is_compressed FROM timescaledb_information.chunks WHERE hypertable_name = 'e' ORDER BY range_start`);
    expect(e).toEqual([
      { m: '06', is_compressed: false },
      { m: '06', is_compressed: false },
      { m: '07', is_compressed: true },
      { m: '07', is_compressed: true },
    ]);
    expect(await q('SELECT count(*)::int AS n, sum(v)::int AS s FROM e')).toEqual([{ n: 200, s: 9900 }]);
  });
});

/** One row of values for `$n` parameters: what node-postgres and postgres.js send as text. */
type Value = string | number | boolean | Date | null;

function paramRow(r: () => number, k: number): Value[] {
  const pick = <T,>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const t = new Date(Date.UTC(2024, 2, 30) + Math.floor(r() * 4 * 86_400_000));
  return [
    pick([t, t.toISOString(), t.toISOString().replace('T', ' ').replace('Z', '+02:00')]),
    `h${k % 5}`,
    pick<Value>([null, 0, 1.5, -2250, Number((r() * 1000).toFixed(6)), 'NaN', 'Infinity', '-0']),
    pick([null, '0.50', '-3.14159', '12']),
    pick([null, '-9223372036854775808', String(k)]),
    pick<Value>([null, true, false, 't']),
    pick([null, '', 'plain', "it's", 'tab\there', 'back\\slash', 'quo"te', 'a,b', '\\N', 'naïve ü']),
  ];
}

describe('direct-to-columnstore INSERT in-process', () => {
  let db: Orbit;
  const q = async (sql: string) => (await db.query<Record<string, number>>(sql)).rows;
  /** Heap pages of d's chunk tables (0: every row is in batches). */
  const heap = async () => (await q(`SELECT coalesce(sum(pg_relation_size(format('%I.%I', chunk_schema, chunk_name)::regclass)), 0)::int AS heap FROM timescaledb_information.chunks WHERE hypertable_name = 'd'`))[0]!.heap;

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, jobScheduler: false });
    await db.exec(`CREATE EXTENSION timescaledb;
      CREATE TABLE d ${COLUMNS} WITH (timescaledb.hypertable, timescaledb.partition_column = 'time',
        timescaledb.segmentby = 'host', timescaledb.chunk_interval = '1 day');
      CREATE TABLE p ${COLUMNS};`);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('writes query() and exec() INSERTs of constants as batches, with PostgreSQL errors and nothing left by a bad one', async () => {
    const r = random(17);
    for (let s = 0; s < 3; s++) {
      const rows = Array.from({ length: 150 + Math.floor(r() * 100) }, (_, k) => literal(r, k)).join(', ');
      const a = s === 2 ? (await db.exec(`INSERT INTO d VALUES ${rows}`))[0] : await db.query(`INSERT INTO d VALUES ${rows}`);
      const b = await db.query(`INSERT INTO p VALUES ${rows}`);
      expect(a).toEqual({ rows: [], fields: [], affectedRows: b.affectedRows });
    }
    expect(await heap()).toBe(0);
    const order = 'ORDER BY time, host, v NULLS FIRST, n NULLS FIRST, i NULLS FIRST, b NULLS FIRST, note NULLS FIRST';
    expect(await q(`SELECT * FROM d ${order}`)).toEqual(await q(`SELECT * FROM p ${order}`));
    const before = await q('SELECT count(*)::int AS n FROM d');
    const bad = Array.from({ length: 120 }, (_, k) => literal(r, k));
    bad[70] = `('2024-03-30 10:00:00+00', 'h1', 'abc', 1, 1, true, 'x')`;
    await expect(db.query(`INSERT INTO d VALUES ${bad.join(', ')}`)).rejects.toMatchObject({ code: '22P02', message: 'invalid input syntax for type double precision: "abc"' });
    expect(await q('SELECT count(*)::int AS n FROM d')).toEqual(before);
  });

  it('leaves INSERTs with parameters and inside a transaction to PostgreSQL', async () => {
    const r = random(19);
    const rows = Array.from({ length: 150 }, (_, k) => literal(r, k)).join(', ');
    await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO d VALUES ${rows}`);
    });
    const inBlock = await heap();
    expect(inBlock).toBeGreaterThan(0);
    const values = Array.from({ length: 120 }, (_, k) => `('2024-04-01 00:00:00+00', 'h${k % 3}', $1, 1, ${k}, true, 'x')`).join(', ');
    expect((await db.query(`INSERT INTO d VALUES ${values}`, [1.5])).affectedRows).toBe(120);
    expect(await heap()).toBeGreaterThan(inBlock);
  });
});

describe('direct-to-columnstore INSERT over the extended protocol', () => {
  let server: TestServer;
  let client: pg.Client;
  let sql: postgres.Sql;
  const q = async (text: string) => (await client.query(text)).rows;
  const insert = (table: string, rows: Value[][]) =>
    client.query(`INSERT INTO ${table} VALUES ${rows.map((row, i) => `(${row.map((_, j) => `$${i * row.length + j + 1}`).join(', ')})`).join(', ')}`, rows.flat());
  const heaps = async () =>
    q(`SELECT bool_and(is_compressed) AS compressed, sum(pg_relation_size(format('%I.%I', chunk_schema, chunk_name)::regclass))::int AS heap
      FROM timescaledb_information.chunks WHERE hypertable_name = 'd'`);
  const compare = async () => {
    const order = 'ORDER BY time, host, v NULLS FIRST, n NULLS FIRST, i NULLS FIRST, b NULLS FIRST, note NULLS FIRST';
    expect(await q(`SELECT * FROM d ${order}`)).toEqual(await q(`SELECT * FROM p ${order}`));
  };

  beforeAll(async () => {
    ({ server, client } = await startWithTables());
    sql = postgres(server.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await sql?.end();
    await client?.end();
    await server?.close();
  });

  it('writes the bound rows of node-postgres and postgres.js INSERTs as batches', async () => {
    const r = random(21);
    for (let s = 0; s < 3; s++) {
      const rows = Array.from({ length: 120 + Math.floor(r() * 150) }, (_, k) => paramRow(r, k));
      const a = await insert('d', rows);
      await insert('p', rows);
      expect(a.command).toBe('INSERT');
      expect(a.rowCount).toBe(rows.length);
    }
    // postgres.js declares Date parameters as timestamptz (the column's type) and the rest unspecified.
    const objects = Array.from({ length: 150 }, (_, k) => {
      const [time, host, v, n, i, b, note] = paramRow(r, k);
      return { time: time instanceof Date ? time : new Date(String(time)), host, v, n, i, b, note };
    });
    const result = await sql`INSERT INTO d ${sql(objects)}`;
    await sql`INSERT INTO p ${sql(objects)}`;
    expect(result.count).toBe(150);
    // More than 32,767 parameters (PostgreSQL counts them unsigned, up to 65,535).
    const many = Array.from({ length: 5000 }, (_, k) => ({ ...objects[k % 150]!, host: `m${k % 10}` }));
    expect((await sql`INSERT INTO d ${sql(many)}`).count).toBe(5000);
    await sql`INSERT INTO p ${sql(many)}`;
    await compare();
    expect(await heaps()).toEqual([{ compressed: true, heap: 0 }]);
  });

  it('leaves typed parameters, bad values and errors to PostgreSQL, with nothing left behind', async () => {
    const r = random(23);
    const before = await q('SELECT count(*)::int AS n FROM d');
    const rows = Array.from({ length: 110 }, (_, k) => paramRow(r, k));
    const bad = rows.map((row) => [...row]);
    bad[70]![2] = 'abc';
    await expect(insert('d', bad)).rejects.toMatchObject({ code: '22P02', message: 'invalid input syntax for type double precision: "abc"' });
    const nulltime = rows.map((row) => [...row]);
    nulltime[3]![0] = null;
    await expect(insert('d', nulltime)).rejects.toMatchObject({ code: '23502' });
    // An unknown column fails at Parse; the held Bind is skipped as PostgreSQL skips it.
    await expect(client.query(`INSERT INTO d (time, nope) VALUES ${rows.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ')}`, rows.flatMap((row) => [row[0], 1]))).rejects.toMatchObject({ code: '42703' });
    expect(await q('SELECT count(*)::int AS n FROM d')).toEqual(before);
    // The connection answers normally afterwards, and a transaction block's ROLLBACK takes the rows back.
    await client.query('BEGIN');
    await insert('d', rows);
    expect((await q('SELECT count(*)::int AS n FROM d'))[0].n).toBe(before[0].n + 110);
    await client.query('ROLLBACK');
    expect(await q('SELECT count(*)::int AS n FROM d')).toEqual(before);
    // postgres.js declares a Date as timestamptz and a boolean as bool: into a text column PostgreSQL
    // casts them (its own output format, not the text sent).
    const declared = rows.map(([time, host, v], k) => ({ time: time instanceof Date ? time : new Date(String(time)), host, v, note: k % 2 ? new Date(Date.UTC(2024, 0, 1, 0, k)) : k % 3 === 0 }));
    await sql`INSERT INTO d ${sql(declared)}`;
    await sql`INSERT INTO p ${sql(declared)}`;
    expect(await q(`SELECT count(*)::int AS n FROM d WHERE note LIKE '2024-01-01 %' OR note IN ('true', 'false')`)).toEqual([{ n: 110 }]);
    // A newline inside a value: the ordinary INSERT (rows are split at newlines before parsing).
    const multiline = rows.map((row) => [row[0], row[1], 'line\none']);
    await client.query(`INSERT INTO d (time, host, note) VALUES ${multiline.map((_, i) => `($${3 * i + 1}, $${3 * i + 2}, $${3 * i + 3})`).join(', ')}`, multiline.flat());
    await client.query(`INSERT INTO p (time, host, note) VALUES ${multiline.map((_, i) => `($${3 * i + 1}, $${3 * i + 2}, $${3 * i + 3})`).join(', ')}`, multiline.flat());
    await sql.begin(async (tx) => {
      await tx`INSERT INTO d ${tx(rows.map(([time, host, v]) => ({ time: time instanceof Date ? time : new Date(String(time)), host, v })))}`;
      await tx`INSERT INTO p ${tx(rows.map(([time, host, v]) => ({ time: time instanceof Date ? time : new Date(String(time)), host, v })))}`;
    });
    await compare();
  });

  it('runs directly only alone before Sync: a pipeline sharing its implicit transaction goes the ordinary way', async () => {
    const raw = await RawClient.ready(server.port);
    const n = 120;
    const text = `INSERT INTO d (time, host, v) VALUES ${Array.from({ length: n }, (_, i) => `($${3 * i + 1}, $${3 * i + 2}, $${3 * i + 3})`).join(', ')}`;
    const values = Array.from({ length: n }, (_, i) => [`2024-04-20 00:00:${String(i % 60).padStart(2, '0')}+00`, `p${i % 3}`, String(i)]).flat();
    const enc = new TextEncoder();
    const parse = (sql: string) => msg('P', (w) => w.cstring('').cstring(sql).int16(0));
    const bind = (params: string[]) =>
      msg('B', (w) => {
        w.cstring('').cstring('').int16(0).int16(params.length);
        for (const p of params) w.int32(enc.encode(p).length).bytes(enc.encode(p));
        w.int16(0);
      });
    const describe = msg('D', (w) => w.byte(0x50).cstring(''));
    const execute = msg('E', (w) => w.cstring('').int32(0));
    const count = async () => (await q(`SELECT count(*)::int AS n FROM d WHERE time >= '2024-04-20' AND time < '2024-04-21'`))[0].n;
    try {
      // Alone: ParseComplete, BindComplete, NoData, CommandComplete, ReadyForQuery, rows in batches.
      raw.send(new Uint8Array([...parse(text), ...bind(values), ...describe, ...execute, ...msg('S')]));
      const alone = await raw.until('Z');
      expect(types(alone)).toBe('12nCZ');
      expect(new TextDecoder().decode(alone[3]!.body)).toBe(`INSERT 0 ${n}\0`);
      expect(await count()).toBe(n);
      expect(await q(`SELECT is_compressed, pg_relation_size(format('%I.%I', chunk_schema, chunk_name)::regclass)::int AS heap
        FROM timescaledb_information.chunks WHERE hypertable_name = 'd' AND range_start <= '2024-04-20' AND range_end > '2024-04-20'`)).toEqual([{ is_compressed: true, heap: 0 }]);
      // Followed by a failing statement before Sync: PostgreSQL rolls both back.
      raw.send(new Uint8Array([...parse(text), ...bind(values), ...execute, ...parse('SELECT 1/0'), ...bind([]), ...execute, ...msg('S')]));
      expect(types(await raw.until('Z'))).toBe('12C1EZ'); // 1/0 fails when planned, at Bind
      expect(await count()).toBe(n);
      // A bad value: PostgreSQL's error from Bind, where it reads parameters; nothing written.
      raw.send(new Uint8Array([...parse(text), ...bind(values.map((v, i) => (i === 5 ? 'x' : v))), ...execute, ...msg('S')]));
      const bad = await raw.until('Z');
      expect(types(bad)).toBe('1EZ');
      expect(await count()).toBe(n);
    } finally {
      raw.close();
    }
  });

  it('leaves unordered chunks that a compaction policy rewrites as one sorted set of batches', async () => {
    await client.query(`CREATE TABLE k ${COLUMNS} WITH (timescaledb.hypertable, timescaledb.partition_column = 'time',
      timescaledb.segmentby = 'host', timescaledb.chunk_interval = '1 day'); CREATE TABLE kp ${COLUMNS}`);
    const chunks = () =>
      q(`SELECT to_char(c.range_start, 'DD') AS day, ch.status, o.batch_count FROM _timescaledb_catalog.chunk ch
        JOIN _timescaledb_catalog.orbit_columnstore_chunk o ON o.chunk_id = ch.id
        JOIN timescaledb_information.chunks c ON c.chunk_name = ch.table_name WHERE c.hypertable_name = 'k' ORDER BY 1`);
    // Three INSERTs into the same three days: each chunk gets three batch sets overlapping in time.
    for (let s = 0; s < 3; s++) {
      const rows: Value[][] = Array.from({ length: 240 }, (_, k) => [new Date(Date.UTC(2024, 4, 10 + (k % 3), 0, k, s)), `c${k % 4}`, k, null, null, null, null]);
      for (const t of ['k', 'kp']) await insert(t, rows);
    }
    // A few rows through the row store into the third day's chunk: a partial chunk, the columnstore policy's work.
    await client.query(`INSERT INTO k (time, host, v) VALUES ('2024-05-12 12:00:00+00', 'late', 1), ('2024-05-12 13:00:00+00', 'late', 2)`);
    await client.query(`INSERT INTO kp (time, host, v) VALUES ('2024-05-12 12:00:00+00', 'late', 1), ('2024-05-12 13:00:00+00', 'late', 2)`);
    const before = await chunks();
    // COMPRESSED | UNORDERED (1 | 2).
    expect(before.map((c) => c.status)).toEqual([3, 3, 3]);
    const [{ id }] = await q(`SELECT add_compaction_policy('k', max_chunks => 1) AS id`);
    await client.query(`CALL run_job(${id})`);
    expect((await chunks()).map((c) => c.status)).toEqual([1, 3, 3]);
    await client.query(`SELECT alter_job(${id}, config => jsonb_build_object('hypertable_id', (config->>'hypertable_id')::int)) FROM timescaledb_information.jobs WHERE job_id = ${id}`);
    await client.query(`CALL run_job(${id})`);
    const after = await chunks();
    expect(after.map((c) => c.status)).toEqual([1, 1, 3]);
    // One sorted set: a batch per segment (60 rows each), where there were three.
    expect(before.map((c) => c.batch_count)).toEqual([12, 12, 12]);
    expect(after.map((c) => c.batch_count)).toEqual([4, 4, 12]);
    const order = 'ORDER BY time, host, v';
    expect(await q(`SELECT time, host, v FROM k ${order}`)).toEqual(await q(`SELECT time, host, v FROM kp ${order}`));
  });
});

describe('direct-to-columnstore INSERT durability', { timeout: 240_000 }, () => {
  const dir = tempDir('orbit-direct-insert-');
  afterAll(() => dir.remove());

  it('keeps an acknowledged INSERT across SIGKILL', async () => {
    const args = ['--data-dir', dir.path, '--listen', '127.0.0.1:0', '--http', 'off'];
    const open = async (port: number) => {
      const c = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
      await c.connect();
      return c;
    };
    let server = await startChildServer(args);
    let client = await open(server.port);
    await client.query(`CREATE EXTENSION IF NOT EXISTS timescaledb; CREATE TABLE d ${COLUMNS} WITH (timescaledb.hypertable,
      timescaledb.partition_column = 'time', timescaledb.segmentby = 'host', timescaledb.chunk_interval = '1 day')`);
    // Literals over the simple protocol, parameters over the extended one.
    const r = random(23);
    await client.query(`INSERT INTO d VALUES ${Array.from({ length: 400 }, (_, k) => literal(r, k)).join(', ')}`);
    const rows = Array.from({ length: 300 }, (_, k) => paramRow(r, k));
    await client.query(`INSERT INTO d VALUES ${rows.map((row, i) => `(${row.map((_, j) => `$${i * row.length + j + 1}`).join(', ')})`).join(', ')}`, rows.flat());
    const state = async (c: pg.Client) => ({
      rows: (await c.query('SELECT * FROM d ORDER BY time, host, v NULLS FIRST, n NULLS FIRST, i NULLS FIRST, b NULLS FIRST, note NULLS FIRST')).rows,
      chunks: (
        await c.query(`SELECT chunk_name, is_compressed, pg_relation_size(format('%I.%I', chunk_schema, chunk_name)::regclass)::int AS heap
          FROM timescaledb_information.chunks WHERE hypertable_name = 'd' ORDER BY 1`)
      ).rows,
    });
    const acknowledged = await state(client);
    expect(acknowledged.rows.length).toBe(700);
    // Both INSERTs wrote batches: every chunk compressed, its table empty.
    expect(acknowledged.chunks.every((c) => c.is_compressed && c.heap === 0)).toBe(true);
    await client.end().catch(() => undefined);
    await server.stop('SIGKILL');

    server = await startChildServer(args);
    client = await open(server.port);
    try {
      expect(await state(client)).toEqual(acknowledged);
    } finally {
      await client.end();
      await server.stop();
    }
  });
});
