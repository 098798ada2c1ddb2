// The general read path's cache tables (session/columnstore/cache-tables.ts) stay within the
// backend's budget (ColumnStoreOptions.cacheTableBytes): chunks no statement is reading are dropped,
// least recently used first, and decoded again when read; answers stay PostgreSQL's, inside
// transaction blocks and across their rollback too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit } from '../../src/orbit.js';
import { TEMPLATE } from '../support/server.js';

const DAYS = 8;
/** Budget: about three days' decoded rows (a child of 1,440 rows × 3 devices takes ~250 KB). */
const BUDGET = 800 << 10;

/** Bytes and number of the cache tables' children now. */
async function cached(db: Orbit): Promise<{ bytes: number; children: number }> {
  const r = await db.query<{ bytes: string; children: number }>(
    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::int8::text AS bytes, count(*)::int AS children FROM pg_class c WHERE c.relnamespace = pg_my_temp_schema() AND c.relname LIKE 'orbit\\_cs\\_%\\_v%'",
  );
  return { bytes: Number(r.rows[0]!.bytes), children: r.rows[0]!.children };
}

/** A window function over one day (greatest/least: bounds the scan path does not take, the cache tables do). */
function day(d: number, table = 'm'): string {
  const lo = `'2024-01-01 00:00+00'::timestamptz + ${d} * INTERVAL '1 day'`;
  return `SELECT dev, time, v, sum(v) OVER (PARTITION BY dev ORDER BY time ROWS 2 PRECEDING) AS w FROM ${table} WHERE time >= greatest(${lo}, '2000-01-01') AND time < least(${lo} + INTERVAL '1 day', 'infinity') ORDER BY dev, time`;
}

describe('cache tables within a budget', () => {
  let db: Orbit;
  const answer = async (sql: string) => JSON.stringify((await db.query(sql)).rows);
  const same = async (sql: string, ref: string) => expect(await answer(sql), sql).toEqual(await answer(ref));

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, columnstore: { cacheTableBytes: BUDGET } });
    await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb;
      CREATE TABLE m (time timestamptz NOT NULL, dev int, v float8);
      SELECT create_hypertable('m', 'time', chunk_time_interval => INTERVAL '1 day');
      INSERT INTO m SELECT '2024-01-01 00:00+00'::timestamptz + (i / 3) * INTERVAL '1 minute', i % 3, (i * 7919 % 1000) / 8.0 FROM generate_series(0, ${DAYS * 1440 * 3 - 1}) i;
      CREATE TABLE ref AS SELECT * FROM m;
      ALTER TABLE m SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');
      SELECT compress_chunk(c) FROM show_chunks('m') c;`);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('keeps the decoded rows within the budget while statements read chunk after chunk', async () => {
    for (let d = 0; d < DAYS; d++) {
      await same(day(d), day(d, 'ref'));
      expect((await cached(db)).bytes, `after day ${d}`).toBeLessThanOrEqual(BUDGET);
    }
    expect((await cached(db)).children).toBeGreaterThan(1);
    // An evicted chunk is decoded again when read.
    await same(day(0), day(0, 'ref'));
    // A join over every chunk needs more than the budget: it gets it, and the next statement drops the excess.
    const join = 'SELECT a.dev, count(*) AS n, sum(a.v - b.v) AS s FROM m a JOIN m b ON b.time = a.time + INTERVAL \'1 minute\' AND b.dev = a.dev GROUP BY a.dev ORDER BY a.dev';
    await same(join, join.replaceAll(' m ', ' ref '));
    expect((await cached(db)).children).toBe(DAYS);
    await same(day(5), day(5, 'ref'));
    expect((await cached(db)).bytes).toBeLessThanOrEqual(BUDGET);
    await same(join, join.replaceAll(' m ', ' ref '));
  });

  it('drops in a transaction block are undone by its rollback, and answers stay right', async () => {
    await db.exec(`CREATE TABLE m2 (time timestamptz NOT NULL, dev int, v float8);
      SELECT create_hypertable('m2', 'time', chunk_time_interval => INTERVAL '1 day');
      INSERT INTO m2 SELECT time, dev, v * 2 FROM ref WHERE time < '2024-01-04 00:00+00';
      CREATE TABLE ref2 AS SELECT * FROM m2;
      ALTER TABLE m2 SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');
      SELECT compress_chunk(c) FROM show_chunks('m2') c;`);
    const all2 = 'SELECT dev, time, v, lag(v) OVER (PARTITION BY dev ORDER BY time) AS p FROM m2 ORDER BY dev, time';
    const ofM = async () => (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relname LIKE 'orbit\\_cs\\_' || (SELECT id FROM _timescaledb_catalog.hypertable WHERE table_name = 'm') || '\\_%'")).rows[0]!.n;
    for (const d of [1, 2, 3]) await same(day(d), day(d, 'ref'));
    expect(await ofM()).toBe(3);

    // m2's chunks (all of them: a transaction block decodes every chunk) push m's out, inside the block.
    await db.exec('BEGIN');
    await same(all2, all2.replace('m2', 'ref2'));
    expect(await ofM()).toBeLessThan(3);
    // m again inside the block: decoded anew; m2's chunks, read earlier in the block, are kept.
    await same(day(2), day(2, 'ref'));
    await same(all2, all2.replace('m2', 'ref2'));
    await db.exec('ROLLBACK');
    // The rollback brought m's chunks back (and took away what the block filled): no second copy, no error.
    expect(await ofM()).toBe(3);
    for (const d of [1, 2, 3, 4]) await same(day(d), day(d, 'ref'));
    await same(all2, all2.replace('m2', 'ref2'));

    // Committed, the drops stay, and m's chunks are decoded again when read.
    await db.exec('BEGIN');
    await same(all2, all2.replace('m2', 'ref2'));
    await db.exec('COMMIT');
    for (const d of [1, 2, 3]) await same(day(d), day(d, 'ref'));
    expect((await cached(db)).bytes).toBeLessThanOrEqual(BUDGET);
  });

  it('drops as the cache tables\' owner for a session running as another role', async () => {
    await db.exec('CREATE ROLE rita; GRANT SELECT ON m, ref, m2, ref2 TO rita; SET ROLE rita');
    try {
      for (let d = 0; d < DAYS; d++) {
        await same(day(d), day(d, 'ref'));
        expect((await cached(db)).bytes, `after day ${d}`).toBeLessThanOrEqual(BUDGET);
      }
      expect((await db.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u).toBe('rita');
    } finally {
      await db.exec('RESET ROLE');
    }
  });

  it('keeps the chunks an open cursor reads', async () => {
    const all2 = 'SELECT dev, time, v FROM m2 WHERE v >= 0 OR v IS NULL ORDER BY dev, time';
    const rows = (await db.query(day(6, 'ref'))).rows;
    await db.exec('BEGIN');
    await db.exec(`DECLARE c CURSOR FOR ${day(6)}`);
    const first = (await db.query('FETCH 100 FROM c')).rows;
    // m2 needs room: the cursor's chunk is neither dropped nor in the way.
    await same(`SELECT dev, count(*), sum(v) FROM (${all2}) s GROUP BY dev ORDER BY dev`, `SELECT dev, count(*), sum(v) FROM (${all2.replace('m2', 'ref2')}) s GROUP BY dev ORDER BY dev`);
    const rest = (await db.query('FETCH ALL FROM c')).rows;
    await db.exec('COMMIT');
    expect(JSON.stringify([...first, ...rest])).toEqual(JSON.stringify(rows));
  });
});
