// Cache tables dropped to stay within the budget (session/columnstore/cache-budget.ts) are never
// ones a portal bound earlier in the same extended-query sequence will read: its plan names them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../src/bytes.js';
import { msg, RawClient, type BackendMsg } from '../support/raw-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** About three of the chunks below (each decodes into ~230 KB). */
const BUDGET = 800 << 10;

const SETUP = `CREATE EXTENSION IF NOT EXISTS timescaledb;
CREATE TABLE m (time timestamptz NOT NULL, dev int, v float8);
SELECT create_hypertable('m', 'time', chunk_time_interval => INTERVAL '1 day');
INSERT INTO m SELECT '2024-01-01 00:00+00'::timestamptz + (i / 3) * INTERVAL '1 minute', i % 3, i / 8.0 FROM generate_series(0, 4 * 1440 * 3 - 1) i;
CREATE TABLE m2 (LIKE m);
SELECT create_hypertable('m2', 'time', chunk_time_interval => INTERVAL '1 day');
INSERT INTO m2 SELECT * FROM m;
CREATE TABLE out (dev int, n int8);
ALTER TABLE m SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');
ALTER TABLE m2 SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');
SELECT compress_chunk(c) FROM show_chunks('m') c;
SELECT compress_chunk(c) FROM show_chunks('m2') c;`;

describe('cache tables within a budget, with portals', () => {
  let server: TestServer;
  let c: RawClient;
  const run = async (sql: string): Promise<BackendMsg[]> => {
    c.send(msg('Q', (w) => w.cstring(sql)));
    return c.until('Z', 60_000);
  };

  beforeAll(async () => {
    server = await startTestServer({ columnstore: { cacheTableBytes: BUDGET } });
    c = await RawClient.ready(server.port);
    expect((await run(SETUP)).filter((m) => m.type === 'E')).toEqual([]);
  });
  afterAll(async () => {
    c?.close();
    await server?.close();
  });

  /**
   * p1, an INSERT … SELECT that PostgreSQL starts at its Execute, reads every chunk of m; p2's Bind
   * fills m2's, past the budget, before p1 runs. The output up to the ReadyForQuery.
   */
  const portals = async (names: [string, string]): Promise<BackendMsg[]> => {
    const bind = (statement: string, portal: string) => msg('B', (w) => w.cstring(portal).cstring(statement).int16(0).int16(0).int16(0));
    c.send(
      concatBytes([
        msg('P', (w) => w.cstring(names[0]).cstring('INSERT INTO out SELECT dev, count(*) FROM m GROUP BY dev, time_bucket(\'1 hour\', time) HAVING count(*) > 0 ORDER BY 1').int16(0)),
        bind(names[0], 'p1'),
        msg('P', (w) => w.cstring(names[1]).cstring('SELECT sum(lag) FROM (SELECT lag(v) OVER (PARTITION BY dev ORDER BY time) FROM m2) s').int16(0)),
        bind(names[1], 'p2'),
        msg('E', (w) => w.cstring('p1').int32(0)),
        msg('E', (w) => w.cstring('p2').int32(0)),
        msg('S'),
      ]),
    );
    const out = await c.until('Z', 60_000);
    expect(out.filter((m) => m.type === 'E').map((m) => new TextDecoder().decode(m.body))).toEqual([]);
    return out;
  };
  const inserted = async () => {
    const row = (await run("SELECT count(*)::text || ' ' || sum(n)::text FROM out")).find((m) => m.type === 'D')!;
    expect(new TextDecoder().decode(row.body)).toContain(`${4 * 24 * 3} ${4 * 1440 * 3}`);
  };

  it('keeps the chunks of a bound portal that has not run yet', async () => {
    // In a transaction block (the next test runs it without one).
    await run('BEGIN');
    await portals(['s1', 's2']);
    await run('COMMIT');
    await inserted();
  });

  it("fills chunks past the budget inside a pipeline's implicit transaction, keeping the bound portal's", async () => {
    // Without BEGIN: the work of p2's Bind runs inside the implicit transaction p1's Bind opened
    // (refused with 0A000 before), and the Sync commits p1's INSERT.
    await run('TRUNCATE out');
    const out = await portals(['s3', 's4']);
    expect(new TextDecoder().decode(out.at(-1)!.body)).toBe('I');
    await inserted();
  });
});
