// Orbit's columnstore work inside an extended-query pipeline (several messages PostgreSQL executes
// before one Sync): it must not end the implicit transaction the pipeline runs in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../src/bytes.js';
import { errorCode, msg, RawClient, type BackendMsg } from '../support/raw-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SETUP = `CREATE EXTENSION IF NOT EXISTS timescaledb;
CREATE TABLE t (time timestamptz NOT NULL, dev int, v float8);
SELECT create_hypertable('t', 'time', chunk_time_interval => INTERVAL '1 day');
ALTER TABLE t SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');
INSERT INTO t SELECT '2024-01-01 00:00+00'::timestamptz + i * INTERVAL '1 hour', i % 3, i FROM generate_series(0, 71) i;
CREATE TABLE r AS SELECT * FROM t;
CREATE TABLE w (x int);
CREATE TABLE u (time timestamptz NOT NULL, dev int, v float8);
SELECT create_hypertable('u', 'time', chunk_time_interval => INTERVAL '1 day');
ALTER TABLE u SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');
INSERT INTO u SELECT * FROM r;
CREATE TABLE ru AS SELECT * FROM r;`;

const parse = (name: string, sql: string) => msg('P', (w) => w.cstring(name).cstring(sql).int16(0));
const bind = (statement: string, portal: string) => msg('B', (w) => w.cstring(portal).cstring(statement).int16(0).int16(0).int16(0));
const execute = (portal: string, maxRows = 0) => msg('E', (w) => w.cstring(portal).int32(maxRows));
const step = (name: string, sql: string) => [parse(name, sql), bind(name, name), execute(name)];
const text = (m: BackendMsg) => new TextDecoder().decode(m.body);

describe('columnstore work in a pipeline', () => {
  let server: TestServer;
  let c: RawClient;
  const run = async (sql: string): Promise<BackendMsg[]> => {
    c.send(msg('Q', (w) => w.cstring(sql)));
    return c.until('Z', 60_000);
  };
  const pipeline = async (...messages: Uint8Array[]): Promise<BackendMsg[]> => {
    c.send(concatBytes([...messages, msg('S')]));
    return c.until('Z', 60_000);
  };
  /** Message types, DataRows' texts, errors' codes and the ReadyForQuery's status. */
  const shape = (out: BackendMsg[]) => out.map((m) => (m.type === 'D' ? `D(${text(m).replace(/[^ -~]/g, '')})` : m.type === 'E' ? `E(${errorCode(m)})` : m.type === 'Z' ? `Z${text(m)}` : m.type));

  beforeAll(async () => {
    server = await startTestServer();
    c = await RawClient.ready(server.port);
    expect((await run(SETUP)).filter((m) => m.type === 'E').map(text)).toEqual([]);
    expect((await run("SELECT compress_chunk(c) FROM show_chunks('t') c; SELECT compress_chunk(c) FROM show_chunks('u') c")).filter((m) => m.type === 'E').map(text)).toEqual([]);
  });
  afterAll(async () => {
    c?.close();
    await server?.close();
  });

  /** The same pipeline over the plain table `r` and over the hypertable `t`, statements named apart. */
  const both = async (messages: (table: string) => Uint8Array[]): Promise<[string[], string[]]> => {
    const plain = shape(await pipeline(...messages('r')));
    await run('DEALLOCATE ALL');
    const hyper = shape(await pipeline(...messages('t')));
    await run('DEALLOCATE ALL');
    return [plain, hyper];
  };
  const count = async (sql: string) => shape(await run(sql)).find((m) => m.startsWith('D('));

  // Runs first: t's cache tables are not filled yet (its aggregates take the fast path).
  it("runs a statement's columnstore work inside the implicit transaction, keeping the suspended portal", async () => {
    const [plain, hyper] = await both((table) => [
      parse('s1', 'SELECT i FROM generate_series(1, 4) i'),
      bind('s1', 'p1'),
      execute('p1', 2),
      ...step('a', `SELECT count(*), sum(v) FROM ${table}`),
      execute('p1'),
    ]);
    expect(plain.join(' ')).toBe('1 2 D(1) D(2) s 1 2 D(722556) C D(3) D(4) C ZI');
    // Refused with 0A000 before; ending the transaction instead lost the portal (34000: portal "p1" does not exist).
    expect(hyper).toEqual(plain);
  });

  it('leaves an earlier write to the implicit transaction, rolled back by a later error', async () => {
    const [plain, hyper] = await both((table) => [
      ...step('i', 'INSERT INTO w VALUES (1)'),
      ...step('j', `SELECT count(*) FROM ${table} a JOIN r b USING (time) WHERE a.v > 3`),
      ...step('z', 'SELECT 1/0'),
    ]);
    expect(plain.join(' ')).toBe('1 2 C 1 2 D(68) C 1 E(22012) ZI');
    expect(hyper).toEqual(plain);
    // Had Orbit's own work committed the transaction, the INSERT would stand: 1 row.
    expect(await count('SELECT count(*) FROM w')).toBe('D(0)');
  });

  it('works inside a BEGIN pipelined with the statements, and leaves the block open', async () => {
    const outputs: string[][] = [];
    for (const table of ['r', 't']) {
      outputs.push(shape(await pipeline(...step(`b${table}`, 'BEGIN'), ...step(`i${table}`, 'INSERT INTO w VALUES (1)'), ...step(`a${table}`, `SELECT count(*), sum(v) FROM ${table}`))));
      // Without the fix: ZI (the block committed by Orbit), and ROLLBACK warned that none was open.
      expect(shape(await run('ROLLBACK')).join(' ')).toBe('C ZI');
    }
    expect(outputs[0]!.join(' ')).toBe('1 2 C 1 2 C 1 2 D(722556) C ZT');
    expect(outputs[1]).toEqual(outputs[0]);
    expect(await count('SELECT count(*) FROM w')).toBe('D(0)');
    await run('DEALLOCATE ALL');
  });

  it('answers from cache tables already filled, keeping the suspended portal', async () => {
    const join = (table: string) => `SELECT count(*) FROM ${table} a JOIN r b USING (time) WHERE a.v > 3`;
    expect(await count(join('t'))).toBe('D(68)');
    const [plain, hyper] = await both((table) => [
      ...step('i', 'INSERT INTO w VALUES (2)'),
      parse('s1', 'SELECT i FROM generate_series(1, 4) i'),
      bind('s1', 'p1'),
      execute('p1', 2),
      ...step('j', join(table)),
      execute('p1'),
    ]);
    expect(plain.join(' ')).toBe('1 2 C 1 2 D(1) D(2) s 1 2 D(68) C D(3) D(4) C ZI');
    expect(hyper).toEqual(plain);
    expect(await count('SELECT count(*) FROM w')).toBe('D(2)');
  });

  it('runs its columnstore work as usual after a COMMIT in the pipeline', async () => {
    const [plain, hyper] = await both((table) => [...step('b', 'BEGIN'), ...step('i', 'INSERT INTO w VALUES (3)'), ...step('c', 'COMMIT'), ...step('a', `SELECT count(*), sum(v) FROM ${table}`)]);
    expect(plain.join(' ')).toBe('1 2 C 1 2 C 1 2 C 1 2 D(722556) C ZI');
    expect(hyper).toEqual(plain);
    expect(await count('SELECT count(*) FROM w WHERE x = 3')).toBe('D(2)');
  });

  it('does no columnstore work after an error in the pipeline, nor in a failed block, and resumes after ROLLBACK TO', async () => {
    for (const steps of [
      (table: string) => [...step('b', 'BEGIN'), ...step('z', 'SELECT 1/0'), ...step('d', `DELETE FROM ${table} WHERE dev = 0`)],
      (table: string) => [...step('z', 'SELECT 1/0'), ...step('b', 'BEGIN'), ...step('u', `UPDATE ${table} SET v = v + 1 WHERE dev = 1`)],
    ]) {
      const out: string[][] = [];
      for (const table of ['r', 't']) {
        out.push(shape(await pipeline(...steps(table))));
        await run('ROLLBACK');
        await run('DEALLOCATE ALL');
      }
      // Without the fix: XX000 (an internal read in the skipped part of the pipeline) and the connection closed.
      expect(out[1]).toEqual(out[0]);
    }
    // A block failed by simple queries: the pipeline's DELETE gets 25P02; after ROLLBACK TO SAVEPOINT, it deletes compressed rows too.
    const outputs: string[][] = [];
    for (const table of ['r', 't']) {
      await run('BEGIN; SAVEPOINT s; SELECT 1/0');
      outputs.push(shape(await pipeline(...step('d1', `DELETE FROM ${table} WHERE dev = 0`))));
      outputs.push(shape(await pipeline(...step('rb', 'ROLLBACK TO SAVEPOINT s'), ...step('d2', `DELETE FROM ${table} WHERE dev = 2`))));
      outputs.push(shape(await run(`SELECT count(*) FROM ${table}`)));
      await run('ROLLBACK');
      await run('DEALLOCATE ALL');
    }
    expect(outputs[0]!.join(' ')).toBe('E(25P02) ZE');
    expect(outputs.slice(3)).toEqual(outputs.slice(0, 3));
  });

  it('runs a batch of INSERTs into the hypertable (executemany: one Parse, then Bind/Execute pairs)', async () => {
    const insert = msg('P', (w) => w.cstring('ins').cstring('INSERT INTO t VALUES ($1, 7, 1)').int16(0));
    expect(shape(await pipeline(insert)).join(' ')).toBe('1 ZI');
    const row = (time: string) => msg('B', (w) => w.cstring('').cstring('ins').int16(0).int16(1).int32(time.length).bytes(new TextEncoder().encode(time)).int16(0));
    const times = ['2024-01-01 00:30+00', '2024-01-02 00:30+00', '2024-01-05 00:30+00'];
    const out = await pipeline(...times.flatMap((time) => [row(time), execute('')]));
    expect(shape(out).join(' ')).toBe('2 C 2 C 2 C ZI');
    expect(await count('SELECT count(*) FROM t WHERE dev = 7')).toBe('D(3)');
    await run('DEALLOCATE ALL');
  });

  /** What a rolled-back pipeline must leave as it was: u's rows, its compressed chunks' manifests, Orbit's temporary tables. */
  const state = async () =>
    shape(
      await run(`SELECT count(*), sum(v), count(*) FILTER (WHERE dev = 1) FROM u;
        SELECT string_agg(cc.manifest, ',' ORDER BY cc.id) FROM _timescaledb_catalog.orbit_columnstore_chunk cc;
        SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relname LIKE 'orbit%'`),
    ).filter((m) => m.startsWith('D('));
  /** Rows of u (compressed chunks and rowstore) read through the general path: a join, which reads the cache tables. */
  const joined = (table: string) => `SELECT count(*), sum(a.v) FROM ${table} a JOIN r b USING (time) WHERE a.dev = 1`;

  // u's cache tables do not exist yet: the pipeline creates them, inside its transaction.
  it('rolls back a write and all of Orbit\'s work for the pipeline (cache tables, decompression) when a later statement fails', async () => {
    const before = await state();
    const [plain, hyper] = await both((table) => {
      const x = table === 'r' ? 'ru' : 'u';
      return [
        ...step('i', `INSERT INTO ${x} VALUES ('2024-01-02 12:30+00', 1, 1000), ('2024-01-10 00:00+00', 1, 2000)`),
        ...step('a', `SELECT count(*), sum(v) FROM ${x}`),
        ...step('g', `SELECT dev, count(*), max(v) FROM ${x} GROUP BY dev ORDER BY dev`),
        ...step('j', joined(x)),
        ...step('d', `DELETE FROM ${x} WHERE dev = 1`),
        // Every batch of the first day's chunk: the chunk is no longer compressed, until the rollback.
        ...step('e', `DELETE FROM ${x} WHERE time < '2024-01-02 00:00+00'`),
        ...step('c', `SELECT count(*), sum(v) FROM ${x}`),
        ...step('z', 'SELECT 1/0'),
      ];
    });
    expect(plain.join(' ')).toBe('1 2 C 1 2 D(745556) C 1 2 D(02469) D(1262000) D(22471) C 1 2 D(24852) C 1 2 C 1 2 C 1 2 D(321520) C 1 E(22012) ZI');
    expect(hyper).toEqual(plain);
    // The INSERT, the DELETE's decompression of u's batches, the cache tables: all undone, and Orbit knows it.
    expect(await state()).toEqual(before);
    expect(shape(await run(joined('u')))).toEqual(shape(await run(joined('ru'))));
    expect(shape(await run('SELECT count(*), sum(v) FROM u'))).toEqual(shape(await run('SELECT count(*), sum(v) FROM ru')));
  });

  it('commits a write, reads over compressed chunks and DML on them at the Sync', async () => {
    const [plain, hyper] = await both((table) => {
      const x = table === 'r' ? 'ru' : 'u';
      return [
        ...step('i', `INSERT INTO ${x} VALUES ('2024-01-02 12:30+00', 1, 1000), ('2024-01-10 00:00+00', 1, 2000)`),
        ...step('a', `SELECT count(*), sum(v) FROM ${x}`),
        ...step('u', `UPDATE ${x} SET v = v + 1 WHERE dev = 2`),
        ...step('d', `DELETE FROM ${x} WHERE dev = 0 AND v < 30`),
        ...step('j', joined(x)),
        ...step('g', `SELECT dev, count(*), sum(v) FROM ${x} GROUP BY dev ORDER BY dev`),
        ...step('s', `SELECT time, v FROM ${x} WHERE dev = 1 ORDER BY time DESC LIMIT 3`),
      ];
    });
    expect(plain.at(-1)).toBe('ZI');
    expect(plain.filter((m) => m.startsWith('E('))).toEqual([]);
    expect(hyper).toEqual(plain);
    for (const sql of ['SELECT count(*), sum(v) FROM %', 'SELECT dev, count(*), sum(v) FROM % GROUP BY dev ORDER BY dev', joined('%')]) {
      expect(shape(await run(sql.replace('%', 'u')))).toEqual(shape(await run(sql.replace('%', 'ru'))));
    }
  });

  it("fails the client's statement, rolling back the pipeline, when a statement of Orbit's own fails there", async () => {
    const [plain, hyper] = await both((table) => {
      const x = table === 'r' ? 'ru' : 'u';
      return [...step('i', 'INSERT INTO w VALUES (9)'), ...step('a', `SELECT count(*) FROM ${x} WHERE v > 1/0`), ...step('b', 'SELECT 2')];
    });
    expect(plain.join(' ')).toBe('1 2 C 1 E(22012) ZI');
    expect(hyper).toEqual(plain);
    expect(await count('SELECT count(*) FROM w WHERE x = 9')).toBe('D(0)');
    // The failure skipped the rest of Orbit's messages (closing its statement): the next pipeline's work still runs.
    const [again, hyperAgain] = await both((table) => [...step('i', 'INSERT INTO w VALUES (9)'), ...step('a', `SELECT count(*) FROM ${table === 'r' ? 'ru' : 'u'} WHERE v > 1/1`)]);
    expect(again.join(' ')).toMatch(/^1 2 C 1 2 D\(\d+\) C ZI$/);
    expect(hyperAgain).toEqual(again);
  });


  it('runs the work of a session running as another role (privilege check, cache tables as their owner) inside the pipeline', async () => {
    await run(`CREATE ROLE pipe_reader; GRANT SELECT ON u, ru, r TO pipe_reader; GRANT INSERT, SELECT ON w TO pipe_reader;
      CREATE ROLE pipe_writer; GRANT INSERT ON w TO pipe_writer`);
    try {
      await run('SET ROLE pipe_reader');
      const [plain, hyper] = await both((table) => {
        const x = table === 'r' ? 'ru' : 'u';
        return [...step('i', 'INSERT INTO w VALUES (11)'), ...step('a', `SELECT count(*), sum(v) FROM ${x}`), ...step('j', joined(x))];
      });
      expect(plain.filter((m) => m.startsWith('E('))).toEqual([]);
      expect(hyper).toEqual(plain);
      await run('RESET ROLE; SET ROLE pipe_writer');
      // No SELECT on u: PostgreSQL's 42501, and the INSERT before it rolled back with the pipeline.
      const [denied, hyperDenied] = await both((table) => [...step('i', 'INSERT INTO w VALUES (12)'), ...step('a', `SELECT count(*), sum(v) FROM ${table === 'r' ? 'ru' : 'u'}`)]);
      expect(denied.join(' ')).toBe('1 2 C 1 E(42501) ZI');
      // Orbit's check leaves the error to the Bind, as PostgreSQL sends it.
      expect(hyperDenied).toEqual(denied);
    } finally {
      await run('RESET ROLE');
    }
    expect(await count('SELECT count(*) FROM w WHERE x = 11')).toBe('D(2)');
    expect(await count('SELECT count(*) FROM w WHERE x = 12')).toBe('D(0)');
  });

  it('runs a batch of unnamed statements (pgx): scans and cache-table reads while the previous portal is open', async () => {
    const unnamed = (sql: string) => [parse('', sql), bind('', ''), execute('')];
    const [plain, hyper] = await both((table) => {
      const x = table === 'r' ? 'ru' : 'u';
      return [
        ...unnamed('INSERT INTO w VALUES (21)'),
        ...unnamed(`SELECT time, v FROM ${x} WHERE dev = 1 ORDER BY time DESC LIMIT 2`),
        // The scan's temporary table is still read by the portal above when this one's work runs
        // (55006 at its DROP): the cache tables serve it inside a pipeline.
        ...unnamed(`SELECT time, v FROM ${x} WHERE dev = 2 ORDER BY time DESC LIMIT 2`),
        ...unnamed(joined(x)),
        ...unnamed(joined(x).replace('dev = 1', 'dev = 2')),
      ];
    });
    expect(plain.filter((m) => m.startsWith('E('))).toEqual([]);
    expect(hyper).toEqual(plain);
    expect(await count('SELECT count(*) FROM w WHERE x = 21')).toBe('D(2)');
  });

  it('refuses a unique index on the hypertable after other statements of the pipeline, rolling it back', async () => {
    const [plain, hyper] = await both((table) => {
      const x = table === 'r' ? 'ru' : 'u';
      return [...step('i', 'INSERT INTO w VALUES (22)'), ...step('x', `CREATE UNIQUE INDEX ${x}_uq ON ${x} (time, dev)`), ...step('q', `SELECT count(*) FROM pg_indexes WHERE indexname = '${x}_uq'`)];
    });
    expect(plain.join(' ')).toBe('1 2 C 1 2 C 1 2 D(1) C ZI');
    // Orbit tries the index on the compressed rows and undoes it: no savepoint can, there. (It was
    // created for good before, and the statement's own CREATE failed with 42P07.)
    expect(hyper.join(' ')).toBe('1 2 C 1 E(0A000) ZI');
    expect(await count("SELECT count(*) FROM pg_indexes WHERE indexname = 'u_uq'")).toBe('D(0)');
    expect(await count('SELECT count(*) FROM w WHERE x = 22')).toBe('D(1)');
    // After a Sync it is checked in Orbit's own transaction, as usual.
    const alone = shape(await pipeline(...step('x', 'CREATE UNIQUE INDEX u_uq ON u (time, dev)')));
    expect(alone.join(' ')).toBe('1 2 C ZI');
    await run('DROP INDEX u_uq; DROP INDEX ru_uq; DEALLOCATE ALL');
  });


  it("puts the session's settings in place outside the pipeline's transaction, so that its rollback keeps them", async () => {
    const other = await RawClient.ready(server.port);
    try {
      await run("SET TimeZone = 'America/New_York'");
      expect(shape(await pipeline(parse('i', 'INSERT INTO w VALUES (41)'))).join(' ')).toBe('1 ZI');
      // Another session takes the backend with its own settings; this one's are put back at its next
      // turn's first round trip: here the Parse over u, after the INSERT's Bind opened the implicit transaction.
      other.send(msg('Q', (w) => w.cstring("SET TimeZone = 'Asia/Tokyo'; SELECT 1")));
      await other.until('Z', 60_000);
      const out = shape(await pipeline(bind('i', 'i'), execute('i'), ...step('a', 'SELECT count(*) FROM u'), ...step('z', 'SELECT 1/0')));
      expect(out.join(' ')).toMatch(/^2 C 1 2 D\(\d+\) C 1 E\(22012\) ZI$/);
      // Put in place inside the rolled-back transaction, they would be gone while Orbit took them as applied.
      expect(shape(await run("SELECT current_setting('TimeZone')")).join(' ')).toBe('T D(America/New_York) C ZI');
    } finally {
      other.close();
      await run('RESET TimeZone; DEALLOCATE ALL');
    }
  });

  it('takes ±infinity in a write\'s time conditions as the stored extremes (their epoch has no bigint)', async () => {
    const [plain, hyper] = await both((table) => {
      const x = table === 'r' ? 'ru' : 'u';
      return [
        ...step('i', 'INSERT INTO w VALUES (51)'),
        ...step('d', `DELETE FROM ${x} WHERE dev = 2 AND time < '-infinity'`),
        ...step('u', `UPDATE ${x} SET v = v + 1000 WHERE dev = 2 AND time > '-infinity' AND time < 'infinity'::timestamptz`),
        ...step('e', `DELETE FROM ${x} WHERE dev = 1 AND time > 'infinity'`),
        ...step('a', `SELECT dev, count(*), sum(v) FROM ${x} GROUP BY dev ORDER BY dev`),
      ];
    });
    expect(plain.filter((m) => m.startsWith('E('))).toEqual([]);
    // Before, inside a pipeline: 0A000 "cannot convert infinity to bigint" from Orbit's evaluation of the constants.
    expect(hyper).toEqual(plain);
    expect(shape(await run('SELECT dev, count(*), sum(v) FROM u GROUP BY dev ORDER BY dev'))).toEqual(shape(await run('SELECT dev, count(*), sum(v) FROM ru GROUP BY dev ORDER BY dev')));
  });
  it('runs INSERT … ON CONFLICT into a compressed chunk inside the pipeline, rolled back by a later error or committed', async () => {
    expect(shape(await run('CREATE UNIQUE INDEX u_td ON u (time, dev); CREATE UNIQUE INDEX ru_td ON ru (time, dev)')).join(' ')).toBe('C C ZI');
    try {
      const upsert = (x: string, fail: boolean) => [
        ...step('i', `INSERT INTO ${x} VALUES ('2024-01-01 04:00+00', 1, -4), ('2024-01-06 00:00+00', 1, 6) ON CONFLICT (time, dev) DO UPDATE SET v = excluded.v`),
        ...step('a', `SELECT count(*), sum(v) FROM ${x}`),
        ...step('s', `SELECT v FROM ${x} WHERE time = '2024-01-01 04:00+00'`),
        ...(fail ? step('z', 'SELECT 1/0') : []),
      ];
      for (const fail of [true, false]) {
        const [plain, hyper] = await both((table) => upsert(table === 'r' ? 'ru' : 'u', fail));
        expect(plain.join(' ')).toMatch(fail ? /^1 2 C 1 2 D\(\d+\S*\) C 1 2 D\(-4\) C 1 E\(22012\) ZI$/ : /^1 2 C 1 2 D\(\d+\S*\) C 1 2 D\(-4\) C ZI$/);
        expect(hyper).toEqual(plain);
        expect(shape(await run("SELECT count(*), sum(v), min(v) FROM u"))).toEqual(shape(await run("SELECT count(*), sum(v), min(v) FROM ru")));
      }
    } finally {
      await run('DROP INDEX u_td; DROP INDEX ru_td');
    }
  });
});
