// 50 clients interleave transactions, settings and prepared statements over one backend; every
// result is checked against what that client alone should see.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
  await c.connect();
  await c.query('CREATE TABLE ledger (client int, step int, amount int)');
  await c.end();
});
afterAll(async () => {
  await server?.close();
});

const CLIENTS = 50;
const ROUNDS = 6;
const ZONES = ['UTC', 'Asia/Tokyo', 'America/New_York', 'Europe/Berlin', 'Australia/Sydney'];

// Deterministic pseudo-random choices per client (no Math.random in tests).
function rng(seed: number): () => number {
  let s = seed * 2654435761;
  return () => {
    s = (s ^ (s << 13)) >>> 0;
    s = (s ^ (s >>> 17)) >>> 0;
    s = (s ^ (s << 5)) >>> 0;
    return s / 0x100000000;
  };
}

async function clientWork(id: number): Promise<{ committed: number }> {
  const rand = rng(id + 1);
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres', application_name: `client-${id}` });
  await c.connect();
  const zone = ZONES[id % ZONES.length]!;
  let committed = 0;
  try {
    await c.query(`SET TimeZone = '${zone}'`);
    await c.query(`SET application_name = 'worker-${id}'`);
    const stmt = { name: 'mine', text: `SELECT $1::int * ${id} AS v, current_setting('TimeZone') AS tz, current_setting('application_name') AS app` };
    for (let round = 0; round < ROUNDS; round++) {
      // Settings and the session's own named statement are intact whatever ran in between.
      const r = await c.query({ ...stmt, values: [round] });
      expect(r.rows).toEqual([{ v: round * id, tz: zone, app: `worker-${id}` }]);
      await c.query('BEGIN');
      await c.query('INSERT INTO ledger VALUES ($1, $2, $3)', [id, round, 1]);
      if (rand() < 0.3) await new Promise((res) => setTimeout(res, rand() * 5));
      // Uncommitted rows are visible to their own transaction only.
      const mine = await c.query('SELECT count(*)::int AS n FROM ledger WHERE client = $1', [id]);
      expect(mine.rows[0].n).toBe(committed + 1);
      if (rand() < 0.5) {
        await c.query('COMMIT');
        committed++;
      } else if (rand() < 0.5) {
        await c.query('ROLLBACK');
      } else {
        // A failed statement aborts the transaction; COMMIT then rolls back.
        await expect(c.query('SELECT 1/0')).rejects.toMatchObject({ code: '22012' });
        await expect(c.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
        const end = await c.query('COMMIT');
        expect(end.command).toBe('ROLLBACK');
      }
      const after = await c.query('SELECT count(*)::int AS n FROM ledger WHERE client = $1', [id]);
      expect(after.rows[0].n).toBe(committed);
    }
    const show = await c.query('SHOW TimeZone');
    expect(show.rows[0].TimeZone).toBe(zone);
  } finally {
    await c.end();
  }
  return { committed };
}

it(`${CLIENTS} clients interleave transactions, settings and prepared statements`, async () => {
  const results = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => clientWork(i)));
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
  await c.connect();
  try {
    const rows = (await c.query('SELECT client, count(*)::int AS n FROM ledger GROUP BY client ORDER BY client')).rows as Array<{ client: number; n: number }>;
    const expected = results.map((r, client) => ({ client, n: r.committed })).filter((r) => r.n > 0);
    expect(rows).toEqual(expected);
    // A fresh session starts from the server defaults, not from any client's settings.
    expect((await c.query('SHOW TimeZone')).rows[0].TimeZone).toBe('UTC');
    expect((await c.query('SHOW application_name')).rows[0].application_name).toBe('');
  } finally {
    await c.end();
  }
  expect(server.registry.size).toBe(0);
});
