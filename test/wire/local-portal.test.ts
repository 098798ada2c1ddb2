// A statement with parameters whose rows Orbit makes from the compressed chunks (an aggregate, the
// kernels' partials alone) is answered by Orbit itself while PostgreSQL is idle: ParseComplete,
// the statement's description, BindComplete, RowDescription, DataRows, PortalSuspended and
// CommandComplete (session/local-portal.ts), with no round trip to PostgreSQL once the statement's
// text was parsed there. Every answer is compared with PostgreSQL's over a plain table `r` of the
// same rows, bound the same way; the round trips are counted, so these tests fail if the shortcut
// is off.
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../src/bytes.js';
import { loadCompressedDays } from '../support/compressed-days.js';
import { errorCode, msg, RawClient, type BackendMsg } from '../support/raw-client.js';
import { countRoundTrips } from '../support/round-trips.js';
import { startTestServer, utcClient, type TestServer } from '../support/server.js';

let server: TestServer;
let client: pg.Client;
let trips: () => number;

beforeAll(async () => {
  server = await startTestServer();
  await loadCompressedDays(server.orbit);
  trips = countRoundTrips(server.orbit);
  client = await utcClient(server);
});
afterAll(async () => {
  await client?.end();
  await server?.close();
});

const AGGREGATE = (x: string) => `SELECT time_bucket($1, time) AS b, max(v) AS mx, count(*) AS n FROM ${x} WHERE host = $2 AND time >= $3 AND time < $4 GROUP BY b ORDER BY b`;

/** Windows of one host (hours of Jan 2nd, 2024). */
const WINDOWS: unknown[][] = [3, 7, 11, 15, 17].map((h, i) => ['1 hour', 'abc'[i % 3], new Date(Date.UTC(2024, 0, 2, h)), `2024-01-02T${String(h + 5).padStart(2, '0')}:00:00Z`]);

function text(rows: Array<Record<string, unknown>>): string[] {
  return rows.map((row) => JSON.stringify(Object.values(row).map((v) => (v instanceof Date ? v.toISOString() : v instanceof Buffer ? v.toString('hex') : v))));
}

/**
 * Runs `run(x, values)` over `r` for every window, then over `t` for each in turn (PostgreSQL runs
 * nothing in between); the answers must agree. Returns the round trips of each run over `t`.
 */
async function roundTrips(run: (x: string, values: unknown[]) => Promise<Array<Record<string, unknown>>>, windows = WINDOWS): Promise<number[]> {
  const want: string[][] = [];
  for (const values of windows) want.push(text(await run('r', values)));
  const per: number[] = [];
  for (const [i, values] of windows.entries()) {
    trips();
    const got = text(await run('t', values));
    per.push(trips());
    expect(got, JSON.stringify(values)).toEqual(want[i]);
  }
  expect(want.flat().length).toBeGreaterThan(0);
  return per;
}

/** The unnamed Parse of AGGREGATE(x) and a Bind of one window's text values with result `formats`. */
function parseBind(x: string, formats: number[] = []): Uint8Array[] {
  const values = ['1 hour', 'b', '2024-01-02T03:00:00Z', '2024-01-02T09:00:00Z'];
  return [
    msg('P', (w) => w.cstring('').cstring(AGGREGATE(x)).int16(0)),
    msg('B', (w) => {
      w.cstring('').cstring('').int16(0).int16(values.length);
      for (const v of values) w.int32(Buffer.byteLength(v)).bytes(new TextEncoder().encode(v));
      w.int16(formats.length);
      for (const f of formats) w.int16(f);
    }),
  ];
}

describe('statements with parameters answered by Orbit while PostgreSQL is idle', () => {
  it('needs no round trip for a repeated statement of node-postgres, unnamed and named', async () => {
    const unnamed = await roundTrips(async (x, values) => (await client.query(AGGREGATE(x), values)).rows);
    expect(unnamed.slice(1)).toEqual([0, 0, 0, 0]);
    // A named statement's Parse prepares its cache tables (a write): the kept facts settle over the
    // next two runs (session/columnstore/facts.ts), one round trip each.
    const named = await roundTrips(async (x, values) => (await client.query({ name: `agg_${x}`, text: AGGREGATE(x), values })).rows);
    expect(named.slice(1)).toEqual([1, 1, 0, 0]);
  });

  it('answers NULLs and empty results as PostgreSQL does', async () => {
    const windows = [
      ['1 hour', null, '2024-01-02T00:00:00Z', '2024-01-02T05:00:00Z'],
      ['1 hour', 'a', '2024-01-05T00:00:00Z', '2024-01-06T00:00:00Z'],
      ['1 hour', 'a', null, '2024-01-02T05:00:00Z'],
      ['1 day', 'b', '2024-01-01T00:00:00Z', '2024-01-04T00:00:00Z'],
    ];
    const want: string[][] = [];
    for (const values of windows) want.push(text((await client.query(AGGREGATE('r'), values)).rows));
    for (const [i, values] of windows.entries()) expect(text((await client.query(AGGREGATE('t'), values)).rows), JSON.stringify(values)).toEqual(want[i]);
    expect(want[3]).toHaveLength(3);
  });

  it('answers ORDER BY the bucket LIMIT n with its bound n', async () => {
    const limited = (x: string) => `${AGGREGATE(x)} LIMIT $5`;
    const per = await roundTrips(async (x, values) => (await client.query(limited(x), values)).rows, WINDOWS.map((w, i) => [...w, [2, null, 0, 4, 3][i]]));
    // The rowstore's first n buckets are PostgreSQL's to list (session/columnstore/bucket-limit.ts): one round trip.
    expect(per.slice(-2)).toEqual([1, 1]);
  });

  it('leaves binary results to PostgreSQL', async () => {
    const binary = await roundTrips(async (x, values) => (await client.query({ text: AGGREGATE(x), values, binary: true } as pg.QueryConfig)).rows);
    // The fast path's statement is parsed and bound on PostgreSQL every time.
    expect(Math.min(...binary)).toBeGreaterThan(0);
  });

  it('answers postgres.js, prepared and not, as PostgreSQL does', async () => {
    for (const prepare of [true, false]) {
      const sql = postgres({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres', max: 1, prepare, onnotice: () => undefined, connection: { TimeZone: 'UTC' } });
      try {
        const per = await roundTrips((x, [width, host, from, to]) => sql.unsafe(AGGREGATE(x), [width as string, host as string, from as Date, to as string]));
        expect(per.slice(-2), `prepare: ${prepare}`).toEqual([0, 0]);
      } finally {
        await sql.end();
      }
    }
  });

  it('suspends a portal at an Execute’s row limit as PostgreSQL does', async () => {
    const c = await RawClient.ready(server.port, { TimeZone: 'UTC' });
    try {
      /** Parse, Bind (text results), Describe of the portal, an Execute per limit, Sync. */
      const run = async (x: string, limits: number[]): Promise<string[]> => {
        c.send(concatBytes([...parseBind(x), msg('D', (w) => w.byte('P'.charCodeAt(0)).cstring('')), ...limits.map((n) => msg('E', (w) => w.cstring('').int32(n))), msg('S')]));
        return (await c.until('Z')).map((m: BackendMsg) => `${m.type} ${Buffer.from(m.body).toString('latin1')}`);
      };
      // Six rows: two, then the four left (PostgreSQL suspends at exactly its limit too), then none.
      const limits = [2, 4, 0, 1];
      const want = await run('r', limits);
      expect(want.filter((m) => m[0] === 's')).toHaveLength(2);
      expect(await run('t', limits)).toEqual(want);
      expect(await run('t', [0, 3])).toEqual(await run('r', [0, 3]));
      expect(await run('t', [5, 5, 5])).toEqual(await run('r', [5, 5, 5]));
      const last = await run('r', [2, 0]);
      expect(await run('t', [2, 0])).toEqual(last);
      trips();
      expect(await run('t', [2, 0])).toEqual(last);
      expect(trips()).toBe(0);
    } finally {
      c.close();
    }
  });

  it('reports the transaction block a pipeline began before the statement', async () => {
    const c = await RawClient.ready(server.port, { TimeZone: 'UTC' });
    try {
      const run = async (x: string): Promise<string[]> => {
        const begin = [msg('P', (w) => w.cstring('').cstring('BEGIN').int16(0)), msg('B', (w) => w.cstring('').cstring('').int16(0).int16(0).int16(0)), msg('E', (w) => w.cstring('').int32(0))];
        c.send(concatBytes([...begin, ...parseBind(x), msg('E', (w) => w.cstring('').int32(0)), msg('S')]));
        const out = (await c.until('Z')).map((m) => `${m.type} ${Buffer.from(m.body).toString('latin1')}`);
        c.send(msg('Q', (w) => w.cstring('ROLLBACK')));
        await c.until('Z');
        return out;
      };
      const want = await run('r');
      expect(want.at(-1)).toBe('Z T');
      for (let i = 0; i < 3; i++) expect(await run('t')).toEqual(want);
    } finally {
      c.close();
    }
  });

  it('answers nothing after an error until Sync, as PostgreSQL skips', async () => {
    const c = await RawClient.ready(server.port, { TimeZone: 'UTC' });
    try {
      // Bind (the portal Orbit answers), a Describe of a statement that does not exist, then Execute.
      const run = async (x: string): Promise<string> => {
        c.send(concatBytes([...parseBind(x), msg('D', (w) => w.byte('S'.charCodeAt(0)).cstring('nope')), msg('E', (w) => w.cstring('').int32(0)), msg('S')]));
        return (await c.until('Z')).map((m) => (m.type === 'E' ? `E ${errorCode(m)}` : m.type)).join(' ');
      };
      const want = await run('r');
      expect(want).toBe('1 2 E 26000 Z');
      for (let i = 0; i < 3; i++) expect(await run('t')).toBe(want);
    } finally {
      c.close();
    }
  });

  it('gives PostgreSQL’s error for result format codes that do not fit the columns', async () => {
    const c = await RawClient.ready(server.port, { TimeZone: 'UTC' });
    try {
      const run = async (x: string, formats: number[]): Promise<string> => {
        c.send(concatBytes([...parseBind(x, formats), msg('E', (w) => w.cstring('').int32(0)), msg('S')]));
        return (await c.until('Z')).map((m) => (m.type === 'E' ? `E ${errorCode(m)}` : m.type)).join(' ');
      };
      for (const formats of [[0, 0], [0, 0, 0], [0]]) expect(await run('t', formats), JSON.stringify(formats)).toBe(await run('r', formats));
      expect(await run('t', [0, 0])).toMatch(/^1 E 08P01 Z$/);
    } finally {
      c.close();
    }
  });

  it('leaves another session’s unnamed statement alone', async () => {
    const a = await RawClient.ready(server.port, { TimeZone: 'UTC' });
    const b = await RawClient.ready(server.port);
    const [parse] = parseBind('t');
    try {
      // PostgreSQL parses this text once; a later Parse of it is answered by Orbit.
      a.send(concatBytes([parse, msg('S')]));
      await a.until('Z');
      // B parses its unnamed statement and Syncs (as lib/pq does), binding it only later.
      b.send(concatBytes([msg('P', (w) => w.cstring('').cstring('SELECT count(*) FROM r').int16(0)), msg('S')]));
      await b.until('Z');
      trips();
      a.send(concatBytes([parse, msg('C', (w) => w.byte('S'.charCodeAt(0)).cstring('')), msg('S')]));
      expect((await a.until('Z')).map((m) => m.type).join('')).toBe('13Z');
      expect(trips()).toBe(0);
      b.send(concatBytes([msg('B', (w) => w.cstring('').cstring('').int16(0).int16(0).int16(0)), msg('E', (w) => w.cstring('').int32(0)), msg('S')]));
      expect((await b.until('Z')).map((m) => m.type).join('')).toBe('2DCZ');
    } finally {
      a.close();
      b.close();
    }
  });

  it('gives PostgreSQL’s errors, and goes on', async () => {
    const error = (x: string, values: unknown[]) => client.query(AGGREGATE(x), values).then(() => 'no error', (e: { code?: string; message: string }) => `${e.code} ${e.message}`);
    await roundTrips(async (x, values) => (await client.query(AGGREGATE(x), values)).rows);
    for (const bad of [['1 hour', 'a', 'not a time', '2024-01-02T00:00:00Z'], ['0 minutes', 'a', '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'], ['1 hour', 'a', '2024-01-01T00:00:00Z']]) {
      const want = await error('r', bad);
      expect(want).toMatch(/^(22007|22023|08P01) /);
      expect(await error('t', bad)).toBe(want);
    }
    // An unknown table or a syntax error at Parse, as before.
    for (const sql of ['SELECT max(v) FROM t_missing WHERE host = $1', 'SELECT max(v) FROM t WHERE host = $1 GROUP']) {
      const got = await client.query(sql, ['a']).then(() => 'no error', (e: { code?: string }) => e.code);
      expect(got).toBe(sql.includes('missing') ? '42P01' : '42601');
    }
    const after = await roundTrips(async (x, values) => (await client.query(AGGREGATE(x), values)).rows);
    expect(after.slice(1)).toEqual([0, 0, 0, 0]);
  });

  it('sees another session’s write between executions', async () => {
    const other = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
    await other.connect();
    try {
      const values = ['1 day', 'a', '2024-01-01T00:00:00Z', '2024-01-06T00:00:00Z'];
      const run = async (x: string) => text((await client.query(AGGREGATE(x), values)).rows);
      const before = await run('r');
      expect(await run('t')).toEqual(before);
      trips();
      expect(await run('t')).toEqual(before);
      expect(trips()).toBe(0);
      await other.query("INSERT INTO t VALUES ('2024-01-05 12:00+00', 'a', 1000); INSERT INTO r VALUES ('2024-01-05 12:00+00', 'a', 1000)");
      const after = await run('r');
      expect(after).toHaveLength(before.length + 1);
      expect(await run('t')).toEqual(after);
      expect(await run('t')).toEqual(after);
    } finally {
      await other.end();
    }
  });
  it('reads a bound integer for an integer column itself, within its range', async () => {
    await server.orbit.exec(`SET timezone TO 'UTC'; CREATE TABLE ti (time timestamptz NOT NULL, dev int4, v float8);
      SELECT create_hypertable('ti', 'time', chunk_time_interval => INTERVAL '1 day');
      ALTER TABLE ti SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');
      INSERT INTO ti SELECT '2024-01-01 00:00+00'::timestamptz + i * INTERVAL '1 minute', i % 4, i FROM generate_series(0, 2879) i;
      CREATE TABLE ri AS SELECT * FROM ti;`);
    await server.orbit.exec("SELECT compress_chunk(c) FROM show_chunks('ti') c");
    const sql = (x: string) => `SELECT time_bucket('1 hour', time) AS b, sum(v) AS s FROM ${x}i WHERE dev = $1 AND time >= $2 AND time < $3 GROUP BY b ORDER BY b`;
    const windows = [0, 1, 2, 3, 2, 1].map((dev, i) => [dev, `2024-01-01T0${i}:00:00Z`, `2024-01-01T1${i}:00:00Z`]);
    const per = await roundTrips(async (x, values) => (await client.query(sql(x), values)).rows, windows);
    expect(per.slice(-3)).toEqual([0, 0, 0]);
    // Out of int4's range: PostgreSQL's error.
    const error = (x: string) => client.query(sql(x), [2147483648, '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z']).then(() => 'no error', (e: { code?: string }) => e.code);
    expect(await error('t')).toBe(await error('r'));
  });
});
