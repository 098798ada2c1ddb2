// Statements with parameters over a hypertable whose chunks are compressed: the fast path takes
// them with their bound values written out as literals of the parameters' types
// (session/bound-literals.ts), instead of decoding the chunks into cache tables. Every answer is
// compared with PostgreSQL's over a plain table `r` of the same rows, bound the same way.
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCompressedDays } from '../support/compressed-days.js';
import { innerRowStore } from '../support/round-trips.js';
import { startTestServer, utcClient, type TestServer } from '../support/server.js';

let server: TestServer;
let client: pg.Client;
/** Texts of the statements the row store received since the last call. */
let statements: () => string[];

beforeAll(async () => {
  server = await startTestServer();
  await loadCompressedDays(server.orbit);
  const store = innerRowStore(server.orbit);
  const raw = store.execProtocolRaw.bind(store);
  let seen: string[] = [];
  store.execProtocolRaw = (messages) => {
    seen.push(Buffer.from(messages).toString('latin1'));
    return raw(messages);
  };
  statements = () => {
    const out = seen;
    seen = [];
    return out;
  };
  client = await utcClient(server);
});
afterAll(async () => {
  await client?.end();
  await server?.close();
});

const AGGREGATE = (x: string) =>
  `SELECT time_bucket($1, time) AS b, host, max(v) AS mx, count(*) AS n FROM ${x} WHERE host IN ($2, $3) AND time >= $4 AND time < $5 GROUP BY b, host ORDER BY b, host`;

/** Chunks decoded into cache tables (the general path). */
const FILL = /COPY pg_temp\.orbit_cs_/;

/** The statements Binds in `batch` (frontend messages) go to. */
function bound(batch: string): string[] {
  const out: string[] = [];
  for (let pos = 0; pos + 5 <= batch.length; ) {
    const len = ((batch.charCodeAt(pos + 1) << 24) | (batch.charCodeAt(pos + 2) << 16) | (batch.charCodeAt(pos + 3) << 8) | batch.charCodeAt(pos + 4)) >>> 0;
    if (batch[pos] === 'B') out.push(batch.slice(pos + 5, pos + 1 + len).split('\0')[1]!);
    pos += 1 + len;
  }
  return out;
}

/**
 * Whether the statements sent for a query show the fast path: no decoding into cache tables, and
 * a Bind only of the session's fast-path statement (`orbit_fast_path_<session>`), if any (Orbit
 * answers a portal whose rows it made itself).
 */
function fastPath(sent: string[]): boolean {
  return !sent.some((s) => FILL.test(s)) && sent.flatMap(bound).every((name) => name.startsWith('orbit_fast_path_'));
}

/** Rows as comparable text. */
function text(rows: Array<Record<string, unknown>>): string[] {
  return rows.map((row) => JSON.stringify(Object.values(row).map((v) => (v instanceof Date ? v.toISOString() : v))));
}

/** node-postgres's answer for `sql(x)` with `values`, over `t` and over `r`; also whether `t`'s took the fast path. */
async function both(sql: (x: string) => string, values: unknown[], name?: string): Promise<{ got: string[]; want: string[]; fast: boolean }> {
  const want = text((await client.query(name ? { name: `${name}_r`, text: sql('r'), values } : { text: sql('r'), values })).rows);
  statements();
  const got = text((await client.query(name ? { name, text: sql('t'), values } : { text: sql('t'), values })).rows);
  return { got, want, fast: fastPath(statements()) };
}

describe('statements with parameters over compressed chunks', () => {
  it('takes the fast path with the values bound, unnamed and named, as PostgreSQL answers', async () => {
    const windows: unknown[][] = [
      ['1 hour', 'a', 'b', '2024-01-02T03:00:00Z', '2024-01-02T09:30:00Z'],
      ['15 minutes', 'c', 'zz', '2024-01-01 22:00:00+02', '2024-01-02 01:00:00-01:30'],
      ['1 day', "it's", 'b', new Date('2024-01-01T12:00:00Z'), new Date('2024-01-03T00:00:00Z')],
      // Not read by Orbit itself (a width in clock form, a spelled date, seven fraction digits): PostgreSQL evaluates them, still the fast path.
      ['01:30:00', "'a", 'a', 'Jan 1 2024 00:00 UTC', '2024-01-02T00:00:00.1234567Z'],
    ];
    for (const values of windows) {
      for (const name of [undefined, 'agg']) {
        const { got, want, fast } = await both(AGGREGATE, values, name);
        expect(got, JSON.stringify(values)).toEqual(want);
        expect(want.length).toBeGreaterThan(0);
        expect(fast, `${name} ${JSON.stringify(values)}`).toBe(true);
      }
    }
    // A backslash (its meaning in a literal depends on standard_conforming_strings) is not written out: the general path.
    const general = await both(AGGREGATE, ['1 hour', 'a\\b', 'c', '2024-01-01T00:00:00Z', '2024-01-01T03:00:00Z']);
    expect(general.got).toEqual(general.want);
    expect(general.want.length).toBeGreaterThan(0);
    expect(general.fast).toBe(false);
  });

  it('binds NULLs, parameters in the output and the LIMIT', async () => {
    const nulls = await both(AGGREGATE, ['1 hour', null, 'a', null, '2024-01-03T00:00:00Z']);
    expect(nulls.got).toEqual(nulls.want);
    const shaped = (x: string) => `SELECT host, count(*) + $1::int AS n, $2::text AS tag FROM ${x} WHERE time < $3 GROUP BY host ORDER BY host LIMIT $4`;
    const out = await both(shaped, [100, 'x', '2024-01-02T00:00:00Z', 2]);
    expect(out.got).toEqual(out.want);
    expect(out.got).toHaveLength(2);
    expect(out.fast).toBe(true);
  });

  it('leaves what the fast path does not take to the general path, with its answers and errors', async () => {
    const scan = (x: string) => `SELECT time, host, v FROM ${x} WHERE time >= $1 AND time < $2 AND host = $3 ORDER BY time`;
    const rows = await both(scan, ['2024-01-02T10:00:00Z', '2024-01-02T10:30:00Z', 'b']);
    expect(rows.got).toEqual(rows.want);
    expect(rows.got).toHaveLength(10);
    for (const bad of [['1 hour', 'a', 'b', 'not a time', '2024-01-02T00:00:00Z'], ['0 minutes', 'a', 'b', '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z']]) {
      const want = await client.query(AGGREGATE('r'), bad).then(() => 'no error', (e: { code?: string; message: string }) => `${e.code} ${e.message}`);
      const got = await client.query(AGGREGATE('t'), bad).then(() => 'no error', (e: { code?: string; message: string }) => `${e.code} ${e.message}`);
      expect(got).toBe(want);
      expect(got).not.toBe('no error');
    }
    // The connection goes on.
    const again = await both(AGGREGATE, ['1 hour', 'a', 'c', '2024-01-01T00:00:00Z', '2024-01-01T05:00:00Z']);
    expect(again.got).toEqual(again.want);
  });

  it('sees a transaction block’s own rows', async () => {
    await client.query('BEGIN');
    try {
      await client.query("INSERT INTO t VALUES ('2024-01-02 03:30+00', 'a', 999); INSERT INTO r VALUES ('2024-01-02 03:30+00', 'a', 999)");
      const { got, want } = await both(AGGREGATE, ['1 hour', 'a', 'b', '2024-01-02T03:00:00Z', '2024-01-02T04:00:00Z']);
      expect(got).toEqual(want);
      expect(got.join()).toContain('999');
    } finally {
      await client.query('ROLLBACK');
    }
  });

  it('answers postgres.js (named statements, its own parameter types) as PostgreSQL does', async () => {
    const sql = postgres({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres', max: 1, onnotice: () => undefined, connection: { TimeZone: 'UTC' } });
    try {
      for (const hour of [3, 7, 11]) {
        const from = new Date(Date.UTC(2024, 0, 2, hour));
        const to = new Date(Date.UTC(2024, 0, 2, hour + 5));
        const want = await sql`SELECT time_bucket('1 hour', time) AS b, max(v) AS mx FROM r WHERE host = ${'c'} AND time >= ${from} AND time < ${to} GROUP BY b ORDER BY b`;
        statements();
        const got = await sql`SELECT time_bucket('1 hour', time) AS b, max(v) AS mx FROM t WHERE host = ${'c'} AND time >= ${from} AND time < ${to} GROUP BY b ORDER BY b`;
        expect(fastPath(statements())).toBe(true);
        expect(text([...got])).toEqual(text([...want]));
        expect(got.length).toBe(5);
      }
    } finally {
      await sql.end();
    }
  });
});
