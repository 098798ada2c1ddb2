// The kernels' partial rows reach PostgreSQL as array constants (session/columnstore/fast-path.ts):
// group values that array_in must see quoted (NULL spelled as text, empty, spaces, quotes,
// backslashes, delimiters, braces, non-ASCII) and unquoted numbers and timestamps must come back
// exactly as PostgreSQL answers over a plain table with the same rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit } from '../../src/orbit.js';
import { TEMPLATE } from '../support/server.js';

const HOSTS = ['NULL', 'null', '', 'a b', ' lead', 'x"y', 'back\\slash', 'comma,', '{brace}', 'ünï', 'plain_1', '-1.5', 'NaN'];

describe('kernel partials as array constants', () => {
  let db: Orbit;
  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE });
    const rows = HOSTS.flatMap((h, i) =>
      [0, 1, 2].map((k) => `('2024-01-0${1 + k} 0${i % 10}:00:00+00', '${h.replace(/'/g, "''")}', ${k === 2 ? "'NaN'" : (i * 1.25 - k).toFixed(2)}, ${i * 10 + k})`),
    );
    await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb; SET timezone TO 'UTC';
      CREATE TABLE t (time timestamptz NOT NULL, host text, v float8, n int);
      SELECT create_hypertable('t', 'time', chunk_time_interval => INTERVAL '1 day');
      INSERT INTO t VALUES ${rows.join(', ')};
      CREATE TABLE ref AS SELECT * FROM t;`);
    await db.exec(`ALTER TABLE t SET (timescaledb.compress, timescaledb.compress_segmentby = 'host');
      SELECT compress_chunk(c) FROM show_chunks('t') c;`);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('answers as PostgreSQL does over a plain table', async () => {
    const before = await db.query<{ relname: string }>("SELECT relname FROM pg_class WHERE relname LIKE 'orbit\\_cs\\_%' AND relpersistence = 't'");
    expect(before.rows.map((r) => r.relname)).toEqual([]);
    for (const q of [
      'SELECT host, count(*) AS c FROM t GROUP BY host ORDER BY host',
      'SELECT host, max(v) AS c FROM t GROUP BY host ORDER BY host',
      'SELECT host, sum(n) AS c FROM t GROUP BY host ORDER BY host',
      'SELECT host, min(time) AS c FROM t GROUP BY host ORDER BY host',
      'SELECT host, count(*) AS c, max(v) AS v, sum(n) AS n, min(time) AS t FROM t GROUP BY host ORDER BY host',
      "SELECT time_bucket('1 day', time) AS d, host, avg(v) AS v, last(n, time) AS n FROM t GROUP BY d, host ORDER BY d, host",
    ]) {
      const mine = await db.query(q);
      const theirs = await db.query(q.replace(' FROM t ', ' FROM ref '));
      expect(mine.rows.length).toBeGreaterThan(HOSTS.length - 1);
      expect(JSON.stringify(mine.rows), q).toBe(JSON.stringify(theirs.rows));
      // The kernels answered: no cache tables were made.
      const r = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'orbit\\_cs\\_%' AND relpersistence = 't'");
      expect(r.rows[0]!.n, q).toBe(0);
    }
  });
});
