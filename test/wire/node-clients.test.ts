// node-postgres, postgres.js and the Neon serverless driver (over WebSocket) against a real server.
import { neonConfig, Client as NeonClient } from '@neondatabase/serverless';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ws from 'ws';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

function pgClient(): pg.Client {
  return new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
}

describe('node-postgres', () => {
  it('runs simple and extended queries with typed results', async () => {
    const c = pgClient();
    await c.connect();
    try {
      await c.query('CREATE TABLE np_t (id int PRIMARY KEY, ts timestamptz, v numeric, j jsonb)');
      await c.query('INSERT INTO np_t VALUES ($1, $2, $3, $4), ($5, $6, $7, $8)', [1, '2024-01-01T00:00:00Z', '1.50', { a: 1 }, 2, '2024-01-02T12:00:00Z', '2.25', JSON.stringify([1, 2])]);
      const r = await c.query('SELECT id, ts, v, j FROM np_t WHERE id = $1', [2]);
      expect(r.rows).toEqual([{ id: 2, ts: new Date('2024-01-02T12:00:00Z'), v: '2.25', j: [1, 2] }]);
      expect(r.fields.map((f) => f.dataTypeID)).toEqual([23, 1184, 1700, 3802]);
      const multi = (await c.query('SELECT 1 AS a; SELECT 2 AS b')) as unknown as pg.QueryResult[];
      expect(multi.map((x) => x.rows)).toEqual([[{ a: 1 }], [{ b: 2 }]]);
    } finally {
      await c.end();
    }
  });

  it('reports SQLSTATEs and stays usable after errors', async () => {
    const c = pgClient();
    await c.connect();
    try {
      await expect(c.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
      await expect(c.query('SELEC 1')).rejects.toMatchObject({ code: '42601', position: '1' });
      await expect(c.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
      await expect(c.query('INSERT INTO np_t VALUES (1)')).rejects.toMatchObject({ code: '23505' });
      await expect(c.query('SELECT $1::int', ['x'])).rejects.toMatchObject({ code: '22P02' });
      expect((await c.query('SELECT 42 AS x')).rows).toEqual([{ x: 42 }]);
    } finally {
      await c.end();
    }
  });

  it('passes notices through with their SQLSTATE', async () => {
    const c = pgClient();
    await c.connect();
    try {
      const notices: Array<{ code?: string; message: string; severity?: string }> = [];
      c.on('notice', (n) => notices.push({ code: n.code, message: n.message ?? '', severity: n.severity }));
      await c.query("DO $$ BEGIN RAISE NOTICE 'hello %', 42; RAISE WARNING 'careful' USING ERRCODE = '01000'; END $$");
      await c.query('DROP TABLE IF EXISTS never_existed');
      expect(notices).toEqual([
        { code: '00000', message: 'hello 42', severity: 'NOTICE' },
        { code: '01000', message: 'careful', severity: 'WARNING' },
        { code: '00000', message: 'table "never_existed" does not exist, skipping', severity: 'NOTICE' },
      ]);
    } finally {
      await c.end();
    }
  });

  it('keeps named prepared statements per connection', async () => {
    const a = pgClient();
    const b = pgClient();
    await a.connect();
    await b.connect();
    try {
      const qa = { name: 'q1', text: "SELECT 'from a' AS who, $1::int AS n" };
      const qb = { name: 'q1', text: "SELECT 'from b' AS who, $1::int * 10 AS n" };
      for (let i = 0; i < 5; i++) {
        expect((await a.query({ ...qa, values: [i] })).rows).toEqual([{ who: 'from a', n: i }]);
        expect((await b.query({ ...qb, values: [i] })).rows).toEqual([{ who: 'from b', n: i * 10 }]);
      }
    } finally {
      await a.end();
      await b.end();
    }
  });

  it('keeps settings per connection and reports ParameterStatus changes', async () => {
    const a = pgClient();
    const b = pgClient();
    await a.connect();
    await b.connect();
    try {
      await a.query("SET TimeZone = 'Asia/Tokyo'");
      await a.query('SET search_path = pg_catalog');
      expect((await a.query('SHOW TimeZone')).rows).toEqual([{ TimeZone: 'Asia/Tokyo' }]);
      expect((await b.query('SHOW TimeZone')).rows).toEqual([{ TimeZone: 'UTC' }]);
      expect((await b.query('SHOW search_path')).rows[0].search_path).not.toBe('pg_catalog');
      expect((a as unknown as { connection: { parameters?: Record<string, string> } }).connection).toBeDefined();
      const r = await a.query("SELECT '2024-01-01 00:00:00+00'::timestamptz::text AS t");
      expect(r.rows).toEqual([{ t: '2024-01-01 09:00:00+09' }]);
    } finally {
      await a.end();
      await b.end();
    }
  });

  it('isolates an open transaction from other connections', async () => {
    const a = pgClient();
    const b = pgClient();
    await a.connect();
    await b.connect();
    try {
      await a.query('CREATE TABLE np_tx (v int)');
      await a.query('BEGIN');
      await a.query('INSERT INTO np_tx VALUES (1)');
      // b waits for a's transaction to end, then sees only committed rows.
      const seen = b.query('SELECT count(*)::int AS n FROM np_tx');
      await new Promise((r) => setTimeout(r, 100));
      await a.query('ROLLBACK');
      expect((await seen).rows).toEqual([{ n: 0 }]);
    } finally {
      await a.end();
      await b.end();
    }
  });

  it('rolls back a transaction whose client disconnects', async () => {
    const a = pgClient();
    await a.connect();
    await a.query('CREATE TABLE np_disc (v int)');
    await a.query('BEGIN');
    await a.query('INSERT INTO np_disc VALUES (1)');
    a.on('error', () => undefined);
    (a as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    const b = pgClient();
    await b.connect();
    try {
      expect((await b.query('SELECT count(*)::int AS n FROM np_disc')).rows).toEqual([{ n: 0 }]);
      expect((await b.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await b.end();
    }
  });

  it('works through a pool with more clients than connections', async () => {
    const pool = new pg.Pool({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres', max: 4 });
    try {
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => pool.query('SELECT $1::int * 2 AS d', [i])));
      expect(results.map((r) => r.rows[0].d)).toEqual(Array.from({ length: 40 }, (_, i) => i * 2));
    } finally {
      await pool.end();
    }
  });

  it('refuses temporary tables with 0A000 and keeps the transaction semantics', async () => {
    const c = pgClient();
    await c.connect();
    try {
      await expect(c.query('CREATE TEMP TABLE tt (a int)')).rejects.toMatchObject({ code: '0A000' });
      await c.query('BEGIN');
      await expect(c.query('CREATE TEMPORARY TABLE tt (a int)')).rejects.toMatchObject({ code: '0A000' });
      await expect(c.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
      await c.query('ROLLBACK');
      await expect(c.query({ text: 'CREATE TEMP TABLE tt (a int)', values: [] })).rejects.toMatchObject({ code: '0A000' });
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await c.end();
    }
  });

  it('refuses cursors WITH HOLD and runs ordinary cursors', async () => {
    const c = pgClient();
    await c.connect();
    try {
      await expect(c.query('DECLARE held CURSOR WITH HOLD FOR SELECT 1')).rejects.toMatchObject({ code: '0A000' });
      await c.query('BEGIN');
      await c.query('DECLARE cur CURSOR FOR SELECT g FROM generate_series(1, 5) g');
      expect((await c.query('FETCH 2 FROM cur')).rows).toEqual([{ g: 1 }, { g: 2 }]);
      await c.query('CLOSE ALL');
      await c.query('COMMIT');
    } finally {
      await c.end();
    }
  });

  it('refuses session-level advisory locks and allows transaction-level ones', async () => {
    const c = pgClient();
    await c.connect();
    try {
      await expect(c.query('SELECT pg_advisory_lock(42)')).rejects.toMatchObject({ code: '0A000' });
      await expect(c.query('SELECT pg_try_advisory_lock($1)', [42])).rejects.toMatchObject({ code: '0A000' });
      await c.query('BEGIN');
      expect((await c.query('SELECT pg_try_advisory_xact_lock(42) AS got')).rows).toEqual([{ got: true }]);
      await c.query('COMMIT');
      expect((await c.query('SELECT pg_advisory_unlock_all()')).rowCount).toBe(1);
    } finally {
      await c.end();
    }
  });

  it('delivers LISTEN/NOTIFY to the listening connection only', async () => {
    const a = pgClient();
    const b = pgClient();
    const c = pgClient();
    await Promise.all([a.connect(), b.connect(), c.connect()]);
    try {
      const got: Record<string, string[]> = { a: [], b: [], c: [] };
      a.on('notification', (n) => got.a!.push(`${n.channel}:${n.payload}`));
      b.on('notification', (n) => got.b!.push(`${n.channel}:${n.payload}`));
      c.on('notification', (n) => got.c!.push(`${n.channel}:${n.payload}`));
      await a.query('LISTEN ch1');
      await b.query('LISTEN ch1');
      await b.query('UNLISTEN *');
      await c.query("NOTIFY ch1, 'hello'");
      await c.query("SELECT pg_notify('ch1', 'again')");
      await new Promise((r) => setTimeout(r, 100));
      await a.query('SELECT 1');
      expect(got).toEqual({ a: ['ch1:hello', 'ch1:again'], b: [], c: [] });
    } finally {
      await Promise.all([a.end(), b.end(), c.end()]);
    }
  });
});

describe('postgres.js', () => {
  it('runs parameterised queries (Parse/Describe/Flush, then Bind) and transactions', async () => {
    const sql = postgres({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres', max: 3, onnotice: () => undefined });
    try {
      await sql`CREATE TABLE pj_t (id int PRIMARY KEY, name text, at timestamptz)`;
      await sql`INSERT INTO pj_t ${sql([{ id: 1, name: 'a', at: new Date('2024-03-01T00:00:00Z') }, { id: 2, name: 'b', at: new Date('2024-03-02T00:00:00Z') }])}`;
      const rows = await sql`SELECT id, name, at FROM pj_t WHERE id >= ${1} ORDER BY id`;
      expect(rows.map((r) => ({ ...r }))).toEqual([
        { id: 1, name: 'a', at: new Date('2024-03-01T00:00:00Z') },
        { id: 2, name: 'b', at: new Date('2024-03-02T00:00:00Z') },
      ]);
      await expect(
        sql.begin(async (tx) => {
          await tx`INSERT INTO pj_t VALUES (3, 'c', now())`;
          await tx`INSERT INTO pj_t VALUES (1, 'dup', now())`;
        }),
      ).rejects.toMatchObject({ code: '23505' });
      expect((await sql`SELECT count(*)::int AS n FROM pj_t`)[0]).toEqual({ n: 2 });
      const many = await Promise.all(Array.from({ length: 30 }, (_, i) => sql`SELECT ${i}::int + 1 AS v`));
      expect(many.map((r) => r[0]!.v)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      const unsafe = await sql.unsafe('SELECT 1 AS a; SELECT 2 AS b');
      expect(unsafe.map((r: unknown) => [...(r as Iterable<unknown>)])).toEqual([[{ a: 1 }], [{ b: 2 }]]);
    } finally {
      await sql.end();
    }
  });
});

describe('@neondatabase/serverless over WebSocket', () => {
  it('connects and queries through the WebSocket endpoint', async () => {
    neonConfig.webSocketConstructor = ws;
    neonConfig.wsProxy = () => `127.0.0.1:${server.httpPort}/v2`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;
    const c = new NeonClient({ host: 'orbit.local', user: 'postgres', database: 'postgres', password: 'unused' });
    await c.connect();
    try {
      const r = await c.query('SELECT $1::int + 1 AS n, $2::text AS s', [41, 'hi']);
      expect(r.rows).toEqual([{ n: 42, s: 'hi' }]);
      await expect(c.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
      expect((await c.query('SELECT 7 AS seven')).rows).toEqual([{ seven: 7 }]);
    } finally {
      await Promise.race([c.end(), new Promise((r) => setTimeout(r, 1000))]);
    }
  });
});
