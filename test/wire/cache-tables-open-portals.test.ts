// A portal (or cursor) left open inside a transaction block or a pipeline's implicit transaction
// keeps reading the cache-table children it was bound over, with its own snapshot, while a later
// DML decompresses batches (a new chunk version) and a later statement reads the new version
// (session/columnstore/cache-tables.ts: the stale child is emptied, not dropped, while in use).
// Portals of the fast paths (aggregate, last point, scan) answer as of their Bind too. Every
// sequence runs on hypertable `m` (compressed chunks) and on `r`, a plain table of the same rows:
// PostgreSQL's answers over `r` are the oracle.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../src/bytes.js';
import { pathTracker, type Path } from '../support/fast-paths.js';
import { errorCode, msg, RawClient, type BackendMsg } from '../support/raw-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SETUP = `CREATE EXTENSION IF NOT EXISTS timescaledb;
CREATE TABLE m (time timestamptz NOT NULL, dev int, v float8);
SELECT create_hypertable('m', 'time', chunk_time_interval => INTERVAL '1 day');
INSERT INTO m SELECT '2024-01-01 00:00+00'::timestamptz + i * INTERVAL '20 minutes', i % 3, i FROM generate_series(0, 3 * 72 - 1) i;
CREATE TABLE r AS SELECT * FROM m;
ALTER TABLE m SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');`;

/** A statement of the general path (a subquery: no fast path, no scan path) reading every chunk. */
const READ = (x: string) => `SELECT count(*), sum(v), md5(string_agg(concat_ws(' ', time, dev, v), ',' ORDER BY time, dev, v)) FROM (SELECT * FROM ${x} OFFSET 0) s`;

/** A RowDescription's columns as `name::type OID` (its table OID and column number fields differ between r and m). */
function columns(body: Buffer): string {
  const out: string[] = [];
  let at = 2;
  for (let i = body.readInt16BE(0); i > 0; i--) {
    const end = body.indexOf(0, at);
    out.push(`${body.toString('utf8', at, end)}::${body.readInt32BE(end + 7)}`);
    at = end + 19;
  }
  return out.join(', ');
}

/** How the transaction ends. */
type End = 'COMMIT' | 'ROLLBACK' | 'pipeline' | 'pipeline, error';

interface Shape {
  readonly query: (x: string) => string;
  readonly named: boolean;
  readonly path: Path;
}

describe('cache tables with portals open across DML', () => {
  const paths = pathTracker();
  let server: TestServer;
  let c: RawClient;
  /** A message as text: its type, then its SQLSTATE (errors), its columns (RowDescription) or its body (the rest). */
  const show = (m: BackendMsg) => `${m.type} ${m.type === 'E' ? errorCode(m) : m.type === 'T' ? columns(Buffer.from(m.body)) : Buffer.from(m.body).toString('latin1')}`;
  const run = async (sql: string): Promise<string[]> => {
    c.send(msg('Q', (w) => w.cstring(sql)));
    return (await c.until('Z', 60_000)).map(show);
  };
  const send = async (...messages: Uint8Array[]): Promise<string[]> => {
    c.send(concatBytes([...messages, msg('S')]));
    return (await c.until('Z', 60_000)).map(show);
  };
  const parse = (name: string, sql: string) => msg('P', (w) => w.cstring(name).cstring(sql).int16(0));
  const bind = (portal: string, statement: string) => msg('B', (w) => w.cstring(portal).cstring(statement).int16(0).int16(0).int16(0));
  const execute = (portal: string, rows: number) => msg('E', (w) => w.cstring(portal).int32(rows));

  beforeAll(async () => {
    server = await startTestServer();
    c = await RawClient.ready(server.port, { TimeZone: 'UTC' });
    expect((await run(SETUP)).filter((m) => m.startsWith('E'))).toEqual([]);
  });
  afterAll(async () => {
    paths.restore();
    c?.close();
    await server?.close();
  });

  /** Ends what a failed sequence left open, and compresses every chunk of m again (r's rows stay as they are). */
  const recompress = async () => {
    await run('ROLLBACK');
    await run('RESET ROLE');
    expect((await run("SELECT count(compress_chunk(c, true)) FROM show_chunks('m') c")).filter((m) => m.startsWith('E'))).toEqual([]);
  };
  /** The cache tables' children: one per compressed chunk once a statement read them all (none stale left behind). */
  const children = async () => (await run(String.raw`SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relname ~ '^orbit_cs_\d+_\d+_v'`)).find((m) => m.startsWith('D'));

  /**
   * A named portal of `query` over `x` executed for two rows (suspended), `dml`, a statement reading
   * every chunk (in a block also a scan, whose temporary table the portal may be reading: it then
   * takes the cache tables), the portal's remaining rows, then the transaction's end and the statement after it.
   * `end`: COMMIT or ROLLBACK of a transaction block (the statement also runs before it), or the
   * Sync of one pipeline (its implicit transaction), after an error (`1/0`: rolled back) or not.
   * The whole output, and the path the portal's statement took.
   */
  const portalAcrossDml = async (x: string, dml: string, end: End, { query, named }: Shape): Promise<{ out: string[]; path: Path }> => {
    paths.take();
    const name = named ? `q_${x}` : '';
    const portal = [parse(name, query(x)), bind(`p_${x}`, name), execute(`p_${x}`, 2)];
    const statement = (sql: string) => [parse('', sql), bind('', ''), execute('', 0)];
    const out: string[] = [];
    let path: Path;
    if (end === 'COMMIT' || end === 'ROLLBACK') {
      out.push(...(await run('BEGIN')), ...(await send(...portal)));
      path = paths.take();
      out.push(...(await run(dml.replaceAll('$x', x))), ...(await run(READ(x))), ...(await run(`SELECT time, dev, v FROM ${x} WHERE dev = 1 AND time >= '2024-01-02 12:00+00' ORDER BY time`)));
      out.push(...(await send(execute(`p_${x}`, 0))));
      out.push(...(await run(READ(x))), ...(await run(end)));
    } else {
      out.push(...(await send(...portal, ...statement(dml.replaceAll('$x', x)), ...statement(READ(x)), execute(`p_${x}`, 0), ...(end === 'pipeline, error' ? statement('SELECT 1/0') : []))));
      path = paths.take();
    }
    out.push(...(await run(READ(x))));
    if (named) out.push(...(await send(msg('C', (w) => w.byte('S'.charCodeAt(0)).cstring(name)))));
    return { out, path };
  };

  /**
   * Statement shapes, named or not (the portal is named either way), with the path each takes at
   * its Bind inside a transaction block (the scan's only for a statement run at once: unnamed).
   */
  const SHAPES: Shape[] = [
    { query: (x) => `SELECT time, dev, v FROM ${x} ORDER BY time, dev`, named: true, path: 'general' },
    { query: (x) => `SELECT time, dev, v FROM ${x} WHERE time >= '2024-01-01 12:00+00' ORDER BY time, dev`, named: false, path: 'scan' },
    { query: (x) => `SELECT dev, count(*), sum(v), max(time) FROM ${x} GROUP BY dev ORDER BY dev`, named: true, path: 'aggregate' },
    { query: (x) => `SELECT time_bucket('1 day', time) AS b, count(*), avg(v) FROM ${x} GROUP BY b ORDER BY b`, named: true, path: 'aggregate' },
    { query: (x) => `SELECT DISTINCT ON (dev) dev, time, v FROM ${x} ORDER BY dev, time DESC`, named: true, path: 'last point' },
  ];
  const SEQUENCES: Array<[string, End]> = [
    ['UPDATE $x SET v = v + 1000 WHERE dev = 1', 'COMMIT'],
    ['DELETE FROM $x WHERE dev = 2', 'ROLLBACK'],
    ["INSERT INTO $x VALUES ('2024-01-02 00:00+00', 1, -1) ON CONFLICT DO NOTHING", 'COMMIT'],
    ["UPDATE $x SET v = v * 2, time = time + INTERVAL '1 minute' WHERE dev = 0", 'ROLLBACK'],
    ['UPDATE $x SET v = -v WHERE dev = 1', 'pipeline'],
    ['DELETE FROM $x WHERE dev = 0', 'pipeline, error'],
  ];

  for (const [dml, end] of SEQUENCES) {
    it(`keeps a suspended portal's rows as of its Bind across ${dml.split(' ')[0]}, then ${end}`, async () => {
      for (const shape of SHAPES) {
        await recompress();
        const want = await portalAcrossDml('r', dml, end, shape);
        expect(want.out.filter((m) => m.startsWith('s')), shape.query('r')).toHaveLength(1);
        const got = await portalAcrossDml('m', dml, end, shape);
        expect(got.out, shape.query('m')).toEqual(want.out);
        if (!end.startsWith('pipeline')) expect(got.path, shape.query('m')).toBe(shape.path);
        expect(await children()).toBe('D \u0000\u0001\u0000\u0000\u0000\u00013');
      }
    });
  }

  it('keeps a cursor’s rows as of its DECLARE across an UPDATE (simple protocol), as the superuser and as another role', async () => {
    const cursor = async (x: string, end: string) => [
      ...(await run(`BEGIN; DECLARE c CURSOR FOR SELECT time, dev, v FROM ${x} ORDER BY time, dev`)),
      ...(await run('FETCH 3 FROM c')),
      ...(await run(`UPDATE ${x} SET v = -v WHERE dev = 0`)),
      ...(await run(READ(x))),
      ...(await run('FETCH ALL FROM c')),
      ...(await run(`CLOSE c; ${READ(x)}; ${end}`)),
      ...(await run(READ(x))),
    ];
    // As another role, the cache tables are dropped and emptied as their owner (session/roles.ts).
    // The chunks' own grant: the decompression writes into them as the session, and a GRANT on the
    // hypertable does not reach its chunks (reported, not fixed here).
    expect((await run('CREATE ROLE rita; GRANT SELECT, UPDATE ON m, r TO rita; GRANT INSERT, UPDATE ON ALL TABLES IN SCHEMA _timescaledb_internal TO rita')).filter((m) => m.startsWith('E'))).toEqual([]);
    for (const role of ['postgres', 'rita']) {
      for (const end of ['ROLLBACK', 'COMMIT']) {
        await recompress();
        await run(`SET ROLE ${role}`);
        const want = await cursor('r', end);
        expect(await cursor('m', end), `${role} ${end}`).toEqual(want);
        expect(await children()).toBe('D \u0000\u0001\u0000\u0000\u0000\u00013');
        await run('RESET ROLE');
      }
    }
  });

  it('keeps a cursor’s rows across an UPDATE rolled back to a savepoint, and reads the chunks as before it', async () => {
    const cursor = async (x: string) => [
      ...(await run(`BEGIN; DECLARE c CURSOR FOR SELECT time, dev, v FROM ${x} ORDER BY time, dev; FETCH 3 FROM c`)),
      ...(await run(`SAVEPOINT s; UPDATE ${x} SET v = -v WHERE dev = 1`)),
      ...(await run(READ(x))),
      ...(await run('ROLLBACK TO SAVEPOINT s')),
      ...(await run(READ(x))),
      ...(await run(`UPDATE ${x} SET v = v + 1 WHERE dev = 2; ${READ(x)}`)),
      ...(await run('FETCH ALL FROM c')),
      ...(await run(`CLOSE c; ${READ(x)}; COMMIT`)),
      ...(await run(READ(x))),
    ];
    await recompress();
    const want = await cursor('r');
    expect(await cursor('m')).toEqual(want);
    expect(await children()).toBe('D \u0000\u0001\u0000\u0000\u0000\u00013');
  });

  it('answers an unnamed portal Orbit answers itself (a text parameter) as of its Bind, across DML in the pipeline', async () => {
    const query = (x: string) => `SELECT dev, count(*) AS n, sum(v) AS s FROM ${x} WHERE dev >= $1 GROUP BY dev ORDER BY dev`;
    const pipeline = async (x: string) => {
      await recompress();
      paths.take();
      const out = await send(
        msg('P', (w) => w.cstring('').cstring(query(x)).int16(0)),
        msg('B', (w) => w.cstring('').cstring('').int16(0).int16(1).int32(1).bytes(new TextEncoder().encode('0')).int16(0)),
        execute('', 2),
        parse('u', `UPDATE ${x} SET v = v + 1000 WHERE dev = 2`),
        bind('pu', 'u'),
        execute('pu', 0),
        execute('', 0),
      );
      const path = paths.take();
      await send(msg('C', (w) => w.byte('S'.charCodeAt(0)).cstring('u')));
      return { out: [...out, ...(await run(READ(x)))], path };
    };
    const want = await pipeline('r');
    expect(want.out.filter((m) => m.startsWith('s'))).toHaveLength(1);
    const got = await pipeline('m');
    expect(got.out).toEqual(want.out);
    expect(got.path).toBe('aggregate');
  });
});
