// Named arguments whose names PostgreSQL reads only quoted (`"offset" =>`, a reserved word) survive
// Orbit's rewrites of statements over compressed chunks (src/sql/deparse.ts): before, the deparser
// printed `offset => …` and the statement failed with a syntax error where PostgreSQL answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit } from '../../src/orbit.js';
import { deparseSync } from '../../src/sql/deparse.js';
import { loadParser, parseSql } from '../../src/sql/parser.js';
import { loadCompressedDays } from '../support/compressed-days.js';
import { TEMPLATE } from '../support/server.js';

describe('named arguments in rewritten statements', () => {
  let db: Orbit;

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, columnstore: { reuseResults: false } });
    await loadCompressedDays(db);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('deparses reserved, mixed-case and plain names as PostgreSQL reads them', async () => {
    await loadParser();
    const [s] = parseSql(`SELECT f(x => 1, "offset" => 2, "Mixed" => 3, "select" => 4)`);
    expect(deparseSync({ [s!.type]: s!.node } as never, { pretty: false })).toBe('SELECT f(x => 1, "offset" => 2, "Mixed" => 3, "select" => 4)');
  });

  it('answers over compressed chunks as over a plain table', async () => {
    for (const q of [
      (x: string) => `SELECT time_bucket('1 day', time, "offset" => '2 hours'::interval) AS b, count(*) AS n FROM ${x} GROUP BY b ORDER BY b`,
      (x: string) => `SELECT count(*) AS n FROM ${x} WHERE time_bucket('1 hour', time, "offset" => '30 minutes'::interval) > '2024-01-02'`,
      (x: string) => `SELECT host, count(*) AS n FROM ${x} a JOIN (SELECT time_bucket('1 day', time, "offset" => '1 hour'::interval) AS d FROM ${x} LIMIT 1) z ON true GROUP BY host ORDER BY host`,
    ]) {
      expect((await db.query(q('t'))).rows, q('t')).toEqual((await db.query(q('r'))).rows);
    }
  });
});
