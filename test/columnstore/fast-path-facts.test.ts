// The fast path's internal statements keep what they read from the catalog and the rowstore (the
// manifest keys, whether the rowstore has rows, collations) while PostgreSQL's snapshot shows that
// nothing was written since (session/columnstore/facts.ts). Writes Orbit cannot see in a statement's
// text — rows a function inserts, another session's, the current transaction's own — and another
// user must be seen at once; every answer is compared with PostgreSQL's over a plain table `r`
// holding the same rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit } from '../../src/runtime/node.js';
import type { Orbit, Queryable } from '../../src/orbit.js';
import { innerRowStore } from '../support/round-trips.js';
import { loadCompressedDays } from '../support/compressed-days.js';
import { TEMPLATE } from '../support/server.js';

/** One statement per fast-path shape with kept facts (rows made by Orbit, bucket LIMIT, last point), for `t` or `r`. */
const QUERIES = [
  (x: string) => `SELECT host, count(*) AS n, max(v) AS mx, min(time) AS lo FROM ${x} GROUP BY host ORDER BY host`,
  (x: string) => `SELECT time_bucket('1 hour', time) AS b, max(v) AS mx FROM ${x} WHERE host IN ('a', 'b') AND time < '2024-01-03 05:00+00' GROUP BY b ORDER BY b DESC LIMIT 3`,
  (x: string) => `SELECT DISTINCT ON (host) host, time, v FROM ${x} ORDER BY host, time DESC`,
];

function text(rows: Array<Record<string, unknown>>): string[] {
  return rows.map((row) => JSON.stringify(Object.values(row).map((v) => (v instanceof Date ? v.toISOString() : v))));
}

/** The simple-query texts the row store receives, from now on. */
function recordStatements(db: Orbit): string[] {
  const store = innerRowStore(db);
  const raw = store.execProtocolRaw.bind(store);
  const texts: string[] = [];
  store.execProtocolRaw = (messages) => {
    if (messages[0] === 0x51) texts.push(new TextDecoder().decode(messages.subarray(5, messages.length - 1)));
    return raw(messages);
  };
  return texts;
}

describe('columnstore fast path: kept catalog and rowstore facts', () => {
  let db: Orbit;
  let statements: string[];

  /** Every query over `t` through `on` answers as PostgreSQL over `r`. */
  async function check(on: Queryable = db): Promise<void> {
    for (const q of QUERIES) {
      const got = await on.query<Record<string, unknown>>(q('t'));
      const want = await on.query<Record<string, unknown>>(q('r'));
      expect(text(got.rows), q('t')).toEqual(text(want.rows));
    }
  }

  /** Internal statements since the last call that read the catalog (facts read anew). */
  function catalogReads(): number {
    const n = statements.filter((s) => s.includes('_timescaledb_catalog.orbit_columnstore_chunk')).length;
    statements.length = 0;
    return n;
  }

  /** Runs `fn` on a session of its own. */
  async function inSession(fn: (s: ReturnType<Orbit['session']>) => Promise<void>): Promise<void> {
    const s = db.session();
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  }

  /** Rows added to `t`'s rowstore go back into its batches: the rowstore is empty again. */
  async function recompress(): Promise<void> {
    await db.exec("SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('t') c");
    await check();
  }

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, columnstore: { reuseResults: false } });
    await loadCompressedDays(db);
    await db.exec(`CREATE FUNCTION add_rows(x regclass, v float8) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN EXECUTE format('INSERT INTO %I VALUES (%L, %L, %L)', x::text, '2024-01-03 04:30+00', 'b', v); END $$`);
    statements = recordStatements(db);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('reads the catalog once while nothing is written, and again after a write', async () => {
    await check();
    catalogReads();
    await check();
    expect(catalogReads()).toBe(0);
    // Rows a function inserts (no statement names the table): read anew once.
    await db.exec("SELECT add_rows('t', 1000), add_rows('r', 1000)");
    await check();
    expect(catalogReads()).toBeGreaterThan(0);
    await check();
    await check();
    expect(catalogReads()).toBe(0);
  });

  it('sends one internal statement per query while every query follows a write', async () => {
    await recompress();
    await check();
    const probes = () => {
      const n = statements.filter((s) => s.includes('pg_current_snapshot()')).length;
      statements.length = 0;
      return n;
    };
    const perQuery: number[] = [];
    for (let i = 0; i < 4; i++) {
      await db.exec(`SELECT add_rows('t', ${10 + i}), add_rows('r', ${10 + i})`);
      probes();
      await db.query(QUERIES[0]!('t'));
      perQuery.push(probes());
    }
    // The first finds its kept facts stale and reads them again; the others send the full form at once.
    expect(perQuery).toEqual([2, 1, 1, 1]);
    await check();
    await check();
    expect(catalogReads()).toBeGreaterThan(0);
    await check();
    expect(catalogReads()).toBe(0);
  });

  it('sees rows a function inserts, and those of another session', async () => {
    await recompress();
    await db.exec("SELECT add_rows('t', 2000), add_rows('r', 2000)");
    await check();
    await inSession(async (s) => {
      await recompress();
      await check(s);
      await s.exec("SELECT add_rows('t', 3000), add_rows('r', 3000)");
      await check();
      await check(s);
    });
  });

  it('sees the current transaction block’s own rows, and none after ROLLBACK', async () => {
    await recompress();
    await inSession(async (s) => {
      await check(s);
      await s.exec('BEGIN');
      await check(s);
      await s.exec("SELECT add_rows('t', 4000), add_rows('r', 4000)");
      await check(s);
      const inside = await s.query<Record<string, unknown>>(QUERIES[1]!('t'));
      expect(JSON.stringify(inside.rows)).toContain('4000');
      await s.exec('ROLLBACK');
      await check(s);
      await check();
    });
  });

  it('reads them anew for another user', async () => {
    await db.exec('CREATE ROLE facts_reader');
    await recompress();
    await check();
    await inSession(async (s) => {
      await s.exec('SET ROLE facts_reader');
      for (const q of QUERIES) await expect(s.query(q('t')), q('t')).rejects.toMatchObject({ code: '42501' });
      await s.exec('RESET ROLE');
      await check(s);
    });
  });

  it('leaves a user with column privileges only to PostgreSQL, which checks them', async () => {
    await db.exec('CREATE ROLE facts_columns; GRANT SELECT (v) ON t TO facts_columns');
    await recompress();
    await inSession(async (s) => {
      await s.exec('SET ROLE facts_columns');
      // Each names host or time, which it may not read.
      for (const q of QUERIES) await expect(s.query(q('t')), q('t')).rejects.toMatchObject({ code: '42501' });
    });
  });
});

describe('columnstore fast path with reuse of results: whole-table privilege', () => {
  let db: Orbit;
  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE });
    await loadCompressedDays(db);
    await db.exec('CREATE ROLE reuse_columns; GRANT SELECT (v) ON t TO reuse_columns');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('leaves a user with column privileges only to PostgreSQL in the forms without kept facts too', async () => {
    // A result Orbit does not make itself (an expression over an aggregate) and the bucket limit,
    // their results reused: the internal statements of the full form (these two returned rows of
    // host and time to this user before); the last point for good measure.
    const queries = [
      (x: string) => `SELECT host, max(v) + 1 AS m FROM ${x} GROUP BY host ORDER BY host`,
      (x: string) => `SELECT time_bucket('1 hour', time) AS b, max(v) + 1 AS m FROM ${x} GROUP BY b ORDER BY b DESC LIMIT 3`,
      (x: string) => `SELECT DISTINCT ON (host) host, time, v FROM ${x} ORDER BY host, time DESC`,
    ];
    for (const q of queries) await db.query(q('t'));
    const s = db.session();
    try {
      await s.exec('SET ROLE reuse_columns');
      for (const q of queries) await expect(s.query(q('t')), q('t')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await s.close();
    }
  });
});
