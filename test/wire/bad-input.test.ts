// Malformed protocol messages, garbage bytes, invalid SQL and values: each gets PostgreSQL's error,
// and other connections keep working.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeStartup } from '../../src/wire/protocol/frontend.js';
import { MessageWriter } from '../../src/wire/protocol/writer.js';
import { errorCode, errorFields, msg, RawClient, types } from '../support/raw-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let bystander: pg.Client;

beforeAll(async () => {
  server = await startTestServer();
  bystander = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
  await bystander.connect();
  await bystander.query('BEGIN');
  await bystander.query('CREATE TABLE bystander (v int)');
  await bystander.query('INSERT INTO bystander VALUES (1)');
  await bystander.query('COMMIT');
});
afterAll(async () => {
  await bystander?.end();
  await server?.close();
});

async function bystanderStillWorks(): Promise<void> {
  expect((await bystander.query('SELECT count(*)::int AS n FROM bystander')).rows).toEqual([{ n: 1 }]);
}

const query = (sql: string) => msg('Q', (w) => w.cstring(sql));
const sync = () => msg('S');

describe('startup phase', () => {
  it('answers SSLRequest and GSSENCRequest with N', async () => {
    const c = await RawClient.connect(server.port);
    const w = new MessageWriter().begin().int32(80877103).end();
    c.send(w.flush());
    const reply = await new Promise<Buffer>((r) => c.socket.once('data', r));
    expect([...reply]).toEqual([0x4e]);
    c.close();
  });

  it('rejects garbage with a FATAL protocol violation', async () => {
    const c = await RawClient.connect(server.port);
    c.send(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const m = await c.next();
    expect(m?.type).toBe('E');
    expect(errorFields(m!)).toMatchObject({ S: 'FATAL', C: '08P01' });
    expect(await c.next()).toBeUndefined();
    await bystanderStillWorks();
  });

  it('rejects protocol 2.0 and a missing user', async () => {
    const c = await RawClient.connect(server.port);
    c.send(new MessageWriter().begin().int32(2 << 16).cstring('user').cstring('x').byte(0).end().flush());
    expect(errorCode(await c.next())).toBe('0A000');
    const d = await RawClient.connect(server.port);
    d.send(writeStartup({ database: 'postgres' }));
    expect(errorCode(await d.next())).toBe('28000');
    const e = await RawClient.connect(server.port);
    e.send(writeStartup({ user: 'postgres', database: 'nope' }));
    expect(errorCode(await e.next())).toBe('3D000');
  });

  it('rejects an invalid setting in the startup packet', async () => {
    const c = await RawClient.connect(server.port);
    c.send(writeStartup({ user: 'postgres', database: 'postgres', TimeZone: 'Mars/Olympus' }));
    const m = await c.next();
    expect(errorFields(m!)).toMatchObject({ S: 'FATAL', C: '22023' });
    await bystanderStillWorks();
  });
});

describe('after startup', () => {
  it('ends the connection on an unknown message type', async () => {
    const c = await RawClient.ready(server.port);
    c.send(msg('!'));
    const m = await c.next();
    expect(errorFields(m!)).toMatchObject({ S: 'FATAL', C: '08P01' });
    expect(await c.next()).toBeUndefined();
    await bystanderStillWorks();
  });

  it('ends the connection on an invalid message length', async () => {
    const c = await RawClient.ready(server.port);
    c.send(new Uint8Array([0x51, 0, 0, 0, 2]));
    expect(errorFields((await c.next())!)).toMatchObject({ S: 'FATAL', C: '08P01' });
    await bystanderStillWorks();
  });

  it('answers a malformed Parse with 08P01 and recovers at Sync', async () => {
    const c = await RawClient.ready(server.port);
    c.send(new Uint8Array([0x50, 0, 0, 0, 8, 0x61, 0x62, 0x63, 0x64])); // no terminators
    c.send(sync());
    const ms = await c.until('Z');
    expect(errorCode(ms.find((m) => m.type === 'E'))).toBe('08P01');
    c.send(query('SELECT 1'));
    expect(types(await c.until('Z'))).toBe('TDCZ');
    c.close();
  });

  it('gives PostgreSQL errors for bad SQL and values, and stays usable', async () => {
    const c = await RawClient.ready(server.port);
    const cases: Array<[string, string]> = [
      ['SELEC 1', '42601'],
      ["SELECT 'abc'::int", '22P02'],
      ['SELECT * FROM missing_table', '42P01'],
      ['SELECT 1/0', '22012'],
      ["SELECT '2024-13-45'::date", '22008'],
    ];
    for (const [sql, code] of cases) {
      c.send(query(sql));
      const ms = await c.until('Z');
      expect(errorCode(ms.find((m) => m.type === 'E')), sql).toBe(code);
    }
    c.send(query(''));
    expect(types(await c.until('Z'))).toBe('IZ');
    c.send(query('-- just a comment'));
    expect(types(await c.until('Z'))).toBe('IZ');
    c.close();
    await bystanderStillWorks();
  });

  it('reports binding to a missing statement and a wrong parameter count', async () => {
    const c = await RawClient.ready(server.port);
    c.send(msg('B', (w) => w.cstring('').cstring('nope').int16(0).int16(0).int16(0)));
    c.send(sync());
    expect(errorCode((await c.until('Z')).find((m) => m.type === 'E'))).toBe('26000');
    c.send(msg('P', (w) => w.cstring('').cstring('SELECT $1::int').int16(0)));
    c.send(msg('B', (w) => w.cstring('').cstring('').int16(0).int16(0).int16(0)));
    c.send(sync());
    const ms = await c.until('Z');
    expect(types(ms)).toBe('1EZ');
    expect(errorCode(ms[1])).toBe('08P01');
    c.close();
  });

  it('keeps other connections working while one sends garbage mid-stream', async () => {
    const c = await RawClient.ready(server.port);
    c.send(new Uint8Array(Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff)));
    expect(errorFields((await c.next())!)).toMatchObject({ S: 'FATAL', C: '08P01' });
    expect(await c.next()).toBeUndefined();
    await bystanderStillWorks();
    c.close();
  });
});
