// PostgreSQL checks a role's privileges where it starts the statement: at Bind for a SELECT
// (PortalStart), at Execute for INSERT, UPDATE, DELETE and EXPLAIN, before its CopyInResponse for a
// COPY FROM; Parse and Describe of a statement the role may not run succeed. Orbit's own work for the
// columnstore runs earlier (at Parse, before answering COPY): its privilege check must not move the
// error, nor let a role learn what it may not read (EXPLAIN's counts). Every sequence is sent for the
// hypertable `t` (every chunk compressed) and for the plain table `r` of the same rows, the oracle:
// the same messages, SQLSTATEs and transaction states must come back at the same points.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../src/bytes.js';
import { loadCompressedDays } from '../support/compressed-days.js';
import { errorCode, errorFields, msg, RawClient, type BackendMsg } from '../support/raw-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
const opened: RawClient[] = [];

const parse = (name: string, sql: string) => msg('P', (w) => w.cstring(name).cstring(sql).int16(0));
const bind = (statement: string, values: string[] = []) =>
  msg('B', (w) => {
    w.cstring('').cstring(statement).int16(0).int16(values.length);
    for (const v of values) w.int32(Buffer.byteLength(v)).bytes(new TextEncoder().encode(v));
    w.int16(0);
  });
const describeStatement = (name: string) => msg('D', (w) => w.byte('S'.charCodeAt(0)).cstring(name));
const execute = () => msg('E', (w) => w.cstring('').int32(0));
const sync = () => msg('S');
const query = (sql: string) => msg('Q', (w) => w.cstring(sql));
const copyData = (text: string) => msg('d', (w) => w.bytes(new TextEncoder().encode(text)));
const text = (m: BackendMsg) => new TextDecoder().decode(m.body);

/** Message types, errors with their code and message (the table's name as X), data rows' texts, ReadyForQuery's status. */
function shape(out: BackendMsg[], table: string): string {
  const named = (s: string) => s.replaceAll(`table ${table}`, 'table X');
  return out.map((m) => (m.type === 'E' ? `E(${errorCode(m)} ${named(errorFields(m).M ?? '')})` : m.type === 'D' ? `D(${text(m).replace(/[^ -~]/g, '')})` : m.type === 'Z' ? `Z${text(m)}` : m.type)).join(' ');
}

beforeAll(async () => {
  server = await startTestServer();
  await loadCompressedDays(server.orbit);
  await server.orbit.exec(`CREATE ROLE outsider LOGIN; CREATE ROLE reader LOGIN; GRANT SELECT ON t, r TO reader;
    CREATE ROLE colsonly LOGIN; GRANT SELECT (time, host) ON t, r TO colsonly`);
});
afterAll(async () => {
  for (const c of opened) c.close();
  await server?.close();
});

async function as(user: string): Promise<RawClient> {
  const c = await RawClient.ready(server.port, { user });
  opened.push(c);
  return c;
}

/** Sends `messages`, reads up to `syncs` ReadyForQuery; the shape of what came back. */
async function send(c: RawClient, table: string, messages: Uint8Array[], syncs = 1): Promise<string> {
  c.send(concatBytes(messages));
  const out: BackendMsg[] = [];
  for (let i = 0; i < syncs; i++) out.push(...(await c.until('Z', 60_000)));
  return shape(out, table);
}

/** The sequences a client preparing statements sends, each answered for `sql(table)`. */
async function sequences(c: RawClient, sql: (table: string) => string, table: string, values: string[] = []): Promise<string[]> {
  const q = sql(table);
  const got = [
    // (a) Parse/Bind/Execute/Sync, unnamed and named.
    await send(c, table, [parse('', q), bind('', values), execute(), sync()]),
    await send(c, table, [parse('a', q), bind('a', values), execute(), sync()]),
    // (b) Parse/Describe S/Sync: no error.
    await send(c, table, [parse('', q), describeStatement(''), sync()]),
    await send(c, table, [parse('b', q), describeStatement('b'), sync()]),
    // (c) Parse/Sync, then Bind/Execute/Sync.
    await send(c, table, [parse('c', q), sync()]),
    await send(c, table, [bind('c', values), execute(), sync()]),
    // Inside a transaction block the Parse leaves it usable; the Bind's error aborts it.
    await send(c, table, [query('BEGIN'), parse('d', q), describeStatement('d'), sync(), query('SELECT 1'), bind('d', values), execute(), sync(), query('ROLLBACK')], 5),
    // A pipeline: the Parse follows a statement in the same implicit transaction.
    await send(c, table, [parse('', 'SELECT 1'), bind(''), execute(), parse('e', q), describeStatement('e'), bind('e', values), execute(), sync()]),
  ];
  // (d) The simple protocol (statements without parameters).
  if (values.length === 0) got.push(await send(c, table, [query(q)]), await send(c, table, [query('BEGIN'), query(q), query('SELECT 1'), query('ROLLBACK')], 4));
  await send(c, table, [query('DEALLOCATE ALL')]);
  return got;
}

const READS: Array<[string, (x: string) => string, string[]?]> = [
  ['an aggregate over time_bucket (fast path)', (x) => `SELECT time_bucket('1 day', time) AS day, count(*)::int AS n, max(v) AS mx FROM ${x} GROUP BY 1 ORDER BY 1`],
  ['a last point (fast path)', (x) => `SELECT DISTINCT ON (host) host, time, v FROM ${x} ORDER BY host, time DESC`],
  ['a scan', (x) => `SELECT time, host, v FROM ${x} WHERE host = 'b' AND time < '2024-01-01 00:10+00' ORDER BY time`],
  ['a join (general path, cache tables)', (x) => `SELECT count(*)::int AS n FROM ${x} a JOIN ${x} b USING (time, host)`],
  ['an aggregate with parameters', (x) => `SELECT time_bucket($1::interval, time) AS b, max(v) AS mx FROM ${x} WHERE host = $2 GROUP BY b ORDER BY b`, ['1 day', 'a']],
];

describe('privilege errors over the extended protocol, as PostgreSQL sends them', () => {
  for (const [what, sql, values] of READS) {
    it(`refuses ${what} to a role without SELECT at Bind, not at Parse`, async () => {
      const c = await as('outsider');
      const plain = await sequences(c, sql, 'r', values);
      expect(plain.slice(0, 4)).toEqual([
        '1 E(42501 permission denied for table X) ZI',
        '1 E(42501 permission denied for table X) ZI',
        '1 t T ZI',
        '1 t T ZI',
      ]);
      // In a block: the Parse and Describe leave it usable (SELECT 1 answers), the Bind aborts it.
      expect(plain[6]).toMatch(/^C ZT 1 t T ZT T D\(1\) C ZT E\(42501 permission denied for table X\) ZE C ZI$/);
      expect(await sequences(c, sql, 't', values)).toEqual(plain);
    }, 120_000);
  }

  it('refuses a column the role may not read at Bind, as PostgreSQL does', async () => {
    const c = await as('colsonly');
    const sql = (x: string) => `SELECT host, max(v) AS mx FROM ${x} GROUP BY host ORDER BY host`;
    const plain = await sequences(c, sql, 'r');
    expect(plain[0]).toBe('1 E(42501 permission denied for table X) ZI');
    expect(await sequences(c, sql, 't')).toEqual(plain);
  }, 120_000);

  it('refuses EXPLAIN of a statement the role may not run, as PostgreSQL does (no counts of batches or rows)', async () => {
    const explains = [
      (x: string) => `EXPLAIN SELECT time_bucket('1 day', time) AS d, max(v) FROM ${x} GROUP BY 1`,
      (x: string) => `EXPLAIN ANALYZE SELECT time_bucket('1 day', time) AS d, count(*) FROM ${x} GROUP BY 1`,
      (x: string) => `EXPLAIN (ANALYZE, COSTS OFF) SELECT time, host, v FROM ${x} WHERE host = 'b'`,
      (x: string) => `EXPLAIN SELECT DISTINCT ON (host) host, time, v FROM ${x} ORDER BY host, time DESC`,
    ];
    for (const user of ['outsider', 'colsonly']) {
      const c = await as(user);
      for (const sql of user === 'outsider' ? explains : [(x: string) => `EXPLAIN ANALYZE SELECT max(v) FROM ${x}`]) {
        const plain = await send(c, 'r', [query(sql('r'))]);
        expect(plain, sql('r')).toBe('E(42501 permission denied for table X) ZI');
        expect(await send(c, 't', [query(sql('t'))]), `${user}: ${sql('t')}`).toBe(plain);
        // Over the extended protocol EXPLAIN (a utility statement) fails at Execute.
        const extended = await send(c, 'r', [parse('', sql('r')), bind(''), execute(), sync()]);
        expect(await send(c, 't', [parse('', sql('t')), bind(''), execute(), sync()]), `${user}: ${sql('t')}`).toBe(extended);
      }
    }
  }, 120_000);

  it('answers other statements reading the hypertable as PostgreSQL does for a role without SELECT on it or on some of its columns', async () => {
    const others = [
      (x: string) => `COPY ${x} TO STDOUT`,
      (x: string) => `COPY (SELECT time_bucket('1 day', time) AS d, max(v) FROM ${x} GROUP BY 1) TO STDOUT`,
      (x: string) => `PREPARE p_${x} AS SELECT max(v) FROM ${x}; EXECUTE p_${x}; DEALLOCATE p_${x}`,
      (x: string) => `BEGIN; DECLARE c CURSOR FOR SELECT time_bucket('1 day', time) AS d, max(v) FROM ${x} GROUP BY 1; FETCH ALL c; COMMIT`,
      (x: string) => `SELECT (SELECT max(v) FROM ${x})`,
    ];
    for (const user of ['outsider', 'colsonly']) {
      const c = await as(user);
      for (const sql of others) {
        const plain = await send(c, 'r', [query(sql('r')), query('ROLLBACK')], 2);
        expect(plain, sql('r')).toMatch(/E\(42501 permission denied for table X\)/);
        expect(await send(c, 't', [query(sql('t')), query('ROLLBACK')], 2), `${user}: ${sql('t')}`).toBe(plain);
      }
    }
  }, 120_000);

  it('answers a role with SELECT on some columns as PostgreSQL does, or refuses with 0A000 what Orbit reads every column for', async () => {
    const c = await as('colsonly');
    const answered = [
      (x: string) => `SELECT host, count(*)::int AS n FROM ${x} GROUP BY host ORDER BY host`,
      (x: string) => `SELECT time_bucket('1 day', time) AS d, count(*)::int AS n FROM ${x} GROUP BY 1 ORDER BY 1`,
      (x: string) => `SELECT time, host FROM ${x} WHERE host = 'b' ORDER BY time LIMIT 3`,
    ];
    for (const sql of answered) {
      const plain = await send(c, 'r', [query(sql('r'))]);
      expect(plain, sql('r')).toMatch(/^T( D\(.+\))+ C ZI$/);
      expect(await send(c, 't', [query(sql('t'))]), sql('t')).toEqual(plain);
      const extended = await send(c, 'r', [parse('', sql('r')), bind(''), execute(), sync()]);
      expect(await send(c, 't', [parse('', sql('t')), bind(''), execute(), sync()]), sql('t')).toEqual(extended);
    }
    for (const sql of answered.slice(0, 2)) {
      const extended = await send(c, 'r', [parse('n', sql('r')), bind('n'), execute(), sync(), query('DEALLOCATE n')], 2);
      expect(await send(c, 't', [parse('n', sql('t')), bind('n'), execute(), sync(), query('DEALLOCATE n')], 2), sql('t')).toEqual(extended);
    }
    // The general path and a last point read every column of the hypertable in PostgreSQL.
    const refused = [
      (x: string) => `SELECT count(*)::int AS n FROM ${x} a JOIN ${x} b USING (time, host)`,
      (x: string) => `SELECT DISTINCT ON (host) host, time FROM ${x} ORDER BY host, time DESC`,
      (x: string) => `SELECT host FROM ${x} WHERE time IN (SELECT max(time) FROM ${x})`,
    ];
    for (const sql of refused) {
      expect(await send(c, 'r', [query(sql('r'))]), sql('r')).toMatch(/^T( D\(.+\))+ C ZI$/);
      expect(await send(c, 't', [query(sql('t'))]), sql('t')).toMatch(/^E\(0A000 reading hypertable "t" with SELECT on some of its columns only is not supported by Orbit for this query\) ZI$/);
      expect(await send(c, 't', [parse('', sql('t')), bind(''), execute(), sync()]), sql('t')).toMatch(/^E\(0A000 .*\) ZI$/);
    }
    // A named statement's scan takes the general path (at its Bind: its Parse succeeds).
    expect(await send(c, 't', [parse('s', answered[2]!('t')), bind('s'), execute(), sync()])).toMatch(/^1 E\(0A000 .*\) ZI$/);
    await send(c, 't', [query('DEALLOCATE ALL')]);
  }, 120_000);

  it('answers a statement parsed while the role could not read the hypertable with every row once it can', async () => {
    const c = await as('outsider');
    const sql = (x: string) => `SELECT time_bucket('1 day', time) AS day, count(*)::int AS n, max(v) AS mx FROM ${x} GROUP BY 1 ORDER BY 1`;
    const join = (x: string) => `SELECT count(*)::int AS n, sum(a.v) AS s FROM ${x} a JOIN ${x} b USING (time, host)`;
    const answers = async (table: string) => {
      const parsed = [
        await send(c, table, [parse('g1', sql(table)), parse('g2', join(table)), parse('', join(table)), sync()]),
        await send(c, table, [query(`SET ROLE reader`)]),
      ];
      const bound = [await send(c, table, [bind('g1'), execute(), bind('g2'), execute(), bind(''), execute(), sync()])];
      await send(c, table, [query('RESET ROLE; DEALLOCATE ALL')]);
      return [...parsed, ...bound];
    };
    await server.orbit.exec('GRANT reader TO outsider WITH INHERIT FALSE');
    try {
      const plain = await answers('r');
      expect(plain[2]).toMatch(/^2 D\(.+\) D.* C 2 D\(.+\) C 2 D\(.+\) C ZI$/);
      expect(await answers('t')).toEqual(plain);
    } finally {
      await server.orbit.exec('REVOKE reader FROM outsider');
    }
  }, 120_000);

  it('refuses with 0A000 a write bound while its role was denied it and executed after a change of role', async () => {
    // `ru`, a copy of `r`, is the oracle here: the UPDATE changes it.
    await server.orbit.exec('CREATE TABLE ru AS SELECT * FROM r; CREATE ROLE updater; GRANT SELECT, UPDATE ON t, ru TO updater; GRANT updater TO outsider WITH INHERIT FALSE');
    const c = await as('outsider');
    const portal = (name: string, statement: string) => msg('B', (w) => w.cstring(name).cstring(statement).int16(0).int16(0).int16(0));
    const run = (name: string) => msg('E', (w) => w.cstring(name).int32(0));
    const updated = async (x: string) => (await server.orbit.query(`SELECT count(*)::int AS n FROM ${x} WHERE v = -1`)).rows;
    try {
      const sequence = (x: string) => [parse('u', `UPDATE ${x} SET v = -1 WHERE host = 'a'`), parse('s', 'SET ROLE updater'), portal('p1', 'u'), portal('p2', 's'), run('p2'), run('p1'), sync(), query('RESET ROLE; DEALLOCATE ALL')];
      // PostgreSQL checks the UPDATE's privileges at its Execute, as the role then in effect.
      expect(await send(c, 'ru', sequence('ru'), 2)).toBe('1 1 2 2 C C ZI C C ZI');
      expect(await updated('ru')).toEqual([{ n: 1440 }]);
      // Orbit did not decompress the rows it would update at the Bind: it refuses rather than miss them.
      expect(await send(c, 't', sequence('t'), 2)).toMatch(/^1 1 2 2 C E\(0A000 .*\) ZI C C ZI$/);
      expect(await updated('t')).toEqual([{ n: 0 }]);
      // Without the change of role, PostgreSQL's own error at the Execute.
      expect(await send(c, 't', [parse('u', "UPDATE t SET v = -1 WHERE host = 'a'"), portal('p1', 'u'), run('p1'), sync(), query('DEALLOCATE ALL')], 2)).toBe('1 2 E(42501 permission denied for table X) ZI C ZI');
    } finally {
      await server.orbit.exec('REVOKE updater FROM outsider');
    }
  }, 120_000);

  it('refuses INSERT, UPDATE and DELETE at Execute and COPY FROM before its CopyInResponse, as PostgreSQL does', async () => {
    const c = await as('reader');
    const values = ['2024-03-01 00:00+00', 'a', '1', '2024-03-01 00:01+00', 'b', '2'];
    const writes = async (x: string) => {
      const insert = `INSERT INTO ${x} VALUES ($1, $2, $3), ($4, $5, $6)`;
      const got = [
        await send(c, x, [parse('', insert), bind('', values), execute(), sync()]),
        await send(c, x, [parse('i', insert), describeStatement('i'), sync()]),
        await send(c, x, [bind('i', values), execute(), sync()]),
        await send(c, x, [query(`INSERT INTO ${x} VALUES ('2024-03-01 00:00+00', 'a', 1), ('2024-03-01 00:01+00', 'b', 2)`)]),
        // The data after the error is ignored (no COPY is in progress).
        await send(c, x, [query(`COPY ${x} FROM STDIN`), copyData('2024-03-01 00:00+00\ta\t1\n'), msg('c'), query('SELECT 1')], 2),
        await send(c, x, [query(`COPY ${x} (time, host) FROM STDIN`), copyData('2024-03-01 00:00+00\ta\n'), msg('c'), query('SELECT 1')], 2),
      ];
      // UPDATE and DELETE of compressed rows: PostgreSQL refuses them at Execute, before Orbit decompresses anything.
      for (const write of [`UPDATE ${x} SET v = 0 WHERE host = 'a'`, `DELETE FROM ${x} WHERE host = $1`]) {
        const params = write.includes('$1') ? ['a'] : [];
        got.push(
          await send(c, x, [parse('', write), bind('', params), execute(), sync()]),
          await send(c, x, [parse('w', write), describeStatement('w'), sync()]),
          await send(c, x, [bind('w', params), execute(), sync()]),
        );
        if (params.length === 0) got.push(await send(c, x, [query(write)]));
      }
      await send(c, x, [query('DEALLOCATE ALL')]);
      return got;
    };
    const plain = await writes('r');
    expect(plain[0]).toBe('1 2 E(42501 permission denied for table X) ZI');
    expect(plain[4]).toBe('E(42501 permission denied for table X) ZI T D(1) C ZI');
    expect(plain.slice(6, 9)).toEqual(['1 2 E(42501 permission denied for table X) ZI', '1 t n ZI', '2 E(42501 permission denied for table X) ZI']);
    expect(await writes('t')).toEqual(plain);
    // Nothing written, nothing decompressed.
    const sums = (x: string) => server.orbit.query(`SELECT count(*)::int AS n, sum(v) AS s FROM ${x}`);
    expect((await sums('t')).rows).toEqual((await sums('r')).rows);
    expect((await server.orbit.query("SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE hypertable_name = 't' AND is_compressed")).rows).toEqual([{ n: 3 }]);
  }, 120_000);
});
