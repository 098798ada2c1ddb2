// Session behaviour over one backend: idle-in-transaction timeout, cancel of a waiting statement,
// ParameterStatus reports, pipelined extended queries from two sessions, prepared-statement renaming.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readErrorFields } from '../../src/wire/protocol/backend.js';
import { MessageWriter } from '../../src/wire/protocol/writer.js';
import { errorCode, msg, RawClient, types } from '../support/raw-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ session: { idleInTransactionTimeoutMs: 1500 } });
});
afterAll(async () => {
  await server?.close();
});

const query = (sql: string) => msg('Q', (w) => w.cstring(sql));
const parse = (name: string, sql: string) => msg('P', (w) => w.cstring(name).cstring(sql).int16(0));
const bind = (stmt: string) => msg('B', (w) => w.cstring('').cstring(stmt).int16(0).int16(0).int16(0));
const execute = () => msg('E', (w) => w.cstring('').int32(0));
const sync = () => msg('S');
const flush = () => msg('H');

function client(): pg.Client {
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
  c.on('error', () => undefined);
  return c;
}

describe('idle in transaction', () => {
  it('ends a session idle inside a transaction with 25P03 and frees the backend', async () => {
    const a = await RawClient.ready(server.port);
    a.send(query('CREATE TABLE idle_t (v int)'));
    await a.until('Z');
    const b = client();
    await b.connect();
    a.send(query('BEGIN; INSERT INTO idle_t VALUES (1)'));
    expect(types(await a.until('Z'))).toBe('CCZ');
    const started = Date.now();
    const r = await b.query('SELECT count(*)::int AS n FROM idle_t');
    expect(r.rows).toEqual([{ n: 0 }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const m = await a.next();
    expect(readErrorFields(m!.body)).toMatchObject({ S: 'FATAL', C: '25P03' });
    expect(await a.next()).toBeUndefined();
    await b.end();
  });

  it('does not count a long statement as idle time', async () => {
    const a = client();
    await a.connect();
    await a.query('BEGIN');
    await a.query('SELECT pg_sleep(2)');
    expect((await a.query('SELECT 1 AS still_here')).rows).toEqual([{ still_here: 1 }]);
    await a.query('COMMIT');
    await a.end();
  });
});

describe('startup', () => {
  it('lets a client connect while another holds a transaction, if an identical client connected before', async () => {
    const first = client();
    await first.connect();
    await first.end();
    const holder = client();
    await holder.connect();
    await holder.query('BEGIN');
    const started = Date.now();
    const late = client();
    await late.connect();
    expect(Date.now() - started).toBeLessThan(1000);
    await holder.query('COMMIT');
    expect((await late.query('SHOW TimeZone')).rows).toEqual([{ TimeZone: 'UTC' }]);
    await late.end();
    await holder.end();
  });
});

describe('cancel', () => {
  it('cancels a statement waiting for the backend with 57014', async () => {
    const holder = await RawClient.ready(server.port);
    const waiter = client();
    await waiter.connect();
    holder.send(query('BEGIN'));
    await holder.until('Z');
    const pending = waiter.query('SELECT 1');
    await new Promise((r) => setTimeout(r, 50));
    // node-pg's cancel opens a second connection with a CancelRequest carrying the BackendKeyData.
    const { processID, secretKey } = waiter as unknown as { processID: number; secretKey: number };
    const cancel = await RawClient.connect(server.port);
    cancel.send(new MessageWriter().begin().int32(80877102).int32(processID).int32(secretKey).end().flush());
    await expect(pending).rejects.toMatchObject({ code: '57014' });
    holder.send(query('ROLLBACK'));
    await holder.until('Z');
    expect((await waiter.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    holder.close();
    await waiter.end();
  });
});

describe('protocol', () => {
  it('reports ParameterStatus at startup and after SET', async () => {
    const c = await RawClient.connect(server.port);
    const { writeStartup } = await import('../../src/wire/protocol/frontend.js');
    c.send(writeStartup({ user: 'postgres', database: 'postgres', application_name: 'probe', client_encoding: 'UTF8' }));
    const startup = await c.until('Z');
    const params = Object.fromEntries(
      startup
        .filter((m) => m.type === 'S')
        .map((m) => {
          const [k, v] = new TextDecoder().decode(m.body).split('\0');
          return [k, v];
        }),
    );
    expect(params).toMatchObject({
      application_name: 'probe',
      client_encoding: 'UTF8',
      DateStyle: 'ISO, MDY',
      integer_datetimes: 'on',
      standard_conforming_strings: 'on',
      TimeZone: 'UTC',
      server_encoding: 'UTF8',
    });
    expect(params.server_version).toMatch(/^\d+\.\d+/);
    expect(startup.map((m) => m.type)).toContain('K');
    c.send(query("SET TimeZone = 'Europe/Paris'"));
    const after = await c.until('Z');
    const changed = after.filter((m) => m.type === 'S').map((m) => new TextDecoder().decode(m.body).split('\0').slice(0, 2));
    expect(changed).toEqual([['TimeZone', 'Europe/Paris']]);
    c.close();
  });

  it('acknowledges a named Parse+Sync while another session is in a transaction (libpq PQprepare)', async () => {
    const holder = await RawClient.ready(server.port);
    const other = await RawClient.ready(server.port);
    holder.send(query('BEGIN'));
    await holder.until('Z');
    other.send(parse('s_ok', 'SELECT 40 + 2 AS n'));
    other.send(parse('s_bad', 'SELECT * FROM no_such_table_here'));
    other.send(sync());
    expect(types(await other.until('Z', 1000))).toBe('11Z');
    holder.send(query('COMMIT'));
    await holder.until('Z');
    other.send(bind('s_ok'));
    other.send(execute());
    other.send(sync());
    const ok = await other.until('Z');
    expect(types(ok)).toBe('2DCZ');
    expect(new TextDecoder().decode(ok[1]!.body.subarray(6))).toBe('42');
    // PostgreSQL would have said this at Parse; with the Parse deferred it comes at first use.
    other.send(bind('s_bad'));
    other.send(execute());
    other.send(sync());
    expect(errorCode((await other.until('Z')).find((m) => m.type === 'E'))).toBe('42P01');
    holder.close();
    other.close();
  });

  it('never interleaves two sessions’ extended-query sequences', async () => {
    const a = await RawClient.ready(server.port);
    const b = await RawClient.ready(server.port);
    // A parses its unnamed statement and flushes, B runs a whole P/B/E/S, then A binds and executes.
    a.send(parse('', "SELECT 'A' AS who"));
    a.send(flush());
    expect(types(await a.until('1'))).toBe('1');
    b.send(parse('', "SELECT 'B' AS who"));
    b.send(bind(''));
    b.send(execute());
    b.send(sync());
    await new Promise((r) => setTimeout(r, 50));
    a.send(bind(''));
    a.send(execute());
    a.send(sync());
    const ra = await a.until('Z');
    const rb = await b.until('Z');
    const rowOf = (ms: typeof ra) => new TextDecoder().decode(ms.find((m) => m.type === 'D')!.body.subarray(6));
    expect(rowOf(ra)).toBe('A');
    expect(rowOf(rb)).toBe('B');
    a.close();
    b.close();
  });

  it('keeps an unnamed statement across another session’s turn (lib/pq’s Parse+Sync, Bind+Sync)', async () => {
    const a = await RawClient.ready(server.port);
    const b = await RawClient.ready(server.port);
    a.send(parse('', 'SELECT 41 + 1 AS n'));
    a.send(sync());
    expect(types(await a.until('Z'))).toBe('1Z');
    b.send(query("SELECT 'other'"));
    await b.until('Z');
    b.send(parse('', 'SELECT 0 AS n'));
    b.send(sync());
    await b.until('Z');
    a.send(bind(''));
    a.send(execute());
    a.send(sync());
    const ra = await a.until('Z');
    expect(types(ra)).toBe('2DCZ');
    expect(new TextDecoder().decode(ra[1]!.body.subarray(6))).toBe('42');
    a.close();
    b.close();
  });

  it('keeps SQL-level PREPARE names per session and survives another session’s DEALLOCATE ALL', async () => {
    const a = await RawClient.ready(server.port);
    const b = await RawClient.ready(server.port);
    a.send(query("PREPARE p(int) AS SELECT $1 * 2 AS v; EXECUTE p(21)"));
    expect(types(await a.until('Z'))).toBe('CTDCZ');
    b.send(query('PREPARE p AS SELECT 1'));
    expect(types(await b.until('Z'))).toBe('CZ');
    a.send(parse('s1', 'SELECT 7 AS seven'));
    a.send(sync());
    await a.until('Z');
    b.send(query('DEALLOCATE ALL'));
    expect(types(await b.until('Z'))).toBe('CZ');
    a.send(bind('s1'));
    a.send(execute());
    a.send(sync());
    expect(types(await a.until('Z'))).toBe('2DCZ');
    b.send(query('EXECUTE p'));
    expect(errorCode((await b.until('Z')).find((m) => m.type === 'E'))).toBe('26000');
    a.close();
    b.close();
  });
});
