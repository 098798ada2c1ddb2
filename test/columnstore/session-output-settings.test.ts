// Orbit's own SQL under the session's settings (bytea_output, standard_conforming_strings,
// default_transaction_read_only). The WHERE constants Orbit compares stored
// values with come back from PostgreSQL as binary send forms in json, which prints a bytea by bytea_output: under 'escape' they were read as garbage:
// scans and last points kept no row (0 where PostgreSQL has 7), the kernels' row predicates every
// row (count 300 for 200). session/columnstore/predicate-values.ts hexSql prints them as hex
// whatever the setting; bucket limits read their times so too.
import { describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/orbit.js';
import { inProcessOrbit } from '../support/in-process.js';

describe("Orbit's SQL under the session's bytea_output and standard_conforming_strings", () => {
  const fixture = inProcessOrbit(
    `CREATE TABLE ht (time timestamptz NOT NULL, dev text, v int);
    SELECT create_hypertable('ht', 'time', chunk_time_interval => interval '1 day');
    ALTER TABLE ht SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');
    INSERT INTO ht SELECT '2024-03-09'::timestamptz + g * interval '97 minutes', 'd' || g % 3, g FROM generate_series(1, 300) g;
    CREATE TABLE p AS SELECT * FROM ht;
    CREATE TABLE hb (time timestamptz NOT NULL, dev text, t text);
    SELECT create_hypertable('hb', 'time', chunk_time_interval => interval '1 day');
    ALTER TABLE hb SET (timescaledb.compress, timescaledb.compress_segmentby = 'dev');
    INSERT INTO hb SELECT '2024-03-09'::timestamptz + g * interval '97 minutes', 'd' || chr(92) || g % 3, 'a' || chr(92) || 'b' || g FROM generate_series(1, 300) g;
    CREATE TABLE pb AS SELECT * FROM hb;`,
    ['ht', 'hb'],
  );
  const queries = [
    (t: string) => `SELECT time, v FROM ${t} WHERE time < '2024-03-09 12:00+00' ORDER BY time`,
    (t: string) => `SELECT dev, count(*), max(v) FROM ${t} WHERE v > 100 GROUP BY dev ORDER BY dev`,
    (t: string) => `SELECT time_bucket('1 hour', time) AS b, count(*) FROM ${t} WHERE v < 200 GROUP BY b ORDER BY b DESC LIMIT 2`,
    (t: string) => `SELECT DISTINCT ON (dev) dev, v FROM ${t} WHERE time < '2024-03-10' ORDER BY dev, time DESC`,
  ];
  /** Runs `fn` in a session of its own with `setting` applied (settings must not leak into other tests). */
  const under = async (setting: string, fn: (s: Queryable) => Promise<void>) => {
    const s = fixture.db.session();
    try {
      await s.exec(setting);
      await fn(s);
    } finally {
      await s.close();
    }
  };

  it("reads the WHERE constants under bytea_output = 'escape' as under the default", async () => {
    await under("SET bytea_output = 'escape'", async (s) => {
      expect((await s.query(queries[0]!('p'))).rows).toHaveLength(7);
      for (const q of queries) expect((await s.query(q('ht'))).rows, q('ht')).toEqual((await s.query(q('p'))).rows);
    });
  });

  // The last point's candidates and the kernels' partial rows reach the final statement as array
  // literals; '…' under standard_conforming_strings = off took their escaping backslashes away
  // (E'a\\b' came back as 'ab', the segment E'd\\1' as 'd1').
  it("keeps backslashes under standard_conforming_strings = 'off'", async () => {
    await under('SET standard_conforming_strings = off', async (s) => {
      for (const q of [
        (t: string) => `SELECT DISTINCT ON (dev) dev, time, t FROM ${t} ORDER BY dev, time DESC`,
        (t: string) => `SELECT dev, count(*), max(t) FROM ${t} GROUP BY dev HAVING count(*) > 0 ORDER BY dev`,
      ]) {
        const want = (await s.query(q('pb'))).rows;
        expect(JSON.stringify(want)).toContain('\\\\b');
        expect((await s.query(q('hb'))).rows, q('hb')).toEqual(want);
      }
      // A '…' string's backslashes are escapes then; Orbit's parser read 'a\\b5' as a\\b5 (count 0
      // where PostgreSQL counts 1): refused. E'…' strings mean the same either way and run.
      const bs = '\\\\';
      expect((await s.query(`SELECT count(*)::int AS n FROM pb WHERE t = 'a${bs}b5'`)).rows).toEqual([{ n: 1 }]);
      await expect(s.query(`SELECT count(*)::int AS n FROM hb WHERE t = 'a${bs}b5'`)).rejects.toMatchObject({ code: '0A000' });
      expect((await s.query(`SELECT count(*)::int AS n FROM hb WHERE t = E'a${bs}b5'`)).rows).toEqual([{ n: 1 }]);
    });
  });

  // The general path fills temporary cache tables in a transaction Orbit opens; under
  // default_transaction_read_only it failed (25006, DROP TABLE) where PostgreSQL answers.
  it('reads through the cache tables in a read-only session', async () => {
    await under('SET default_transaction_read_only = on', async (s) => {
      const join = (t: string) => `SELECT count(*)::int AS n, sum(a.v)::int AS s FROM ${t} a JOIN ${t} b USING (time)`;
      expect((await s.query(join('ht'))).rows).toEqual((await s.query(join('p'))).rows);
      await expect(s.query("DELETE FROM ht WHERE dev = 'd1'")).rejects.toMatchObject({ code: '25006' });
    });
  });
});
