// Clients commit rows while the server is killed with SIGKILL and restarted, repeatedly: every
// acknowledged row is there afterwards, and nothing from an unacknowledged transaction is.
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { startChildServer, tempDir } from '../support/server.js';

const dir = tempDir('orbit-crash-');
afterAll(() => dir.remove());

const CYCLES = 3;
const WRITERS = 4;

it(`keeps every acknowledged commit across ${CYCLES} SIGKILLs`, async () => {
  const acknowledged = new Set<string>();
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const server = await startChildServer(['--data-dir', dir.path, '--listen', '127.0.0.1:0', '--http', 'off']);
    const connect = async () => {
      const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
      c.on('error', () => undefined);
      await c.connect();
      return c;
    };
    const admin = await connect();
    if (cycle === 0) await admin.query('CREATE TABLE acked (writer int, seq int, batch int, PRIMARY KEY (writer, seq, batch))');
    // Everything acknowledged before this crash is there.
    const rows = (await admin.query('SELECT writer, seq, batch FROM acked')).rows as Array<{ writer: number; seq: number; batch: number }>;
    const present = new Set(rows.map((r) => `${r.writer}:${r.seq}:${r.batch}`));
    for (const key of acknowledged) expect(present.has(key), `acknowledged row ${key} lost`).toBe(true);
    // Transactions insert three rows each: a partially visible transaction would break the triple.
    const counts = (await admin.query('SELECT writer, seq, count(*)::int AS n FROM acked GROUP BY writer, seq HAVING count(*) <> 3')).rows;
    expect(counts).toEqual([]);
    await admin.end();

    let stop = false;
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      const c = await connect();
      for (let seq = cycle * 100_000; !stop; seq++) {
        try {
          await c.query('BEGIN');
          for (let b = 0; b < 3; b++) await c.query('INSERT INTO acked VALUES ($1, $2, $3)', [w, seq, b]);
          await c.query('COMMIT');
          for (let b = 0; b < 3; b++) acknowledged.add(`${w}:${seq}:${b}`);
        } catch {
          return; // the server died under us: this transaction was never acknowledged
        }
      }
    });
    await new Promise((r) => setTimeout(r, 700));
    await server.stop('SIGKILL');
    stop = true;
    await Promise.all(writers);
  }
  // A last start checks the final state.
  const server = await startChildServer(['--data-dir', dir.path, '--listen', '127.0.0.1:0', '--http', 'off']);
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
  await c.connect();
  const rows = (await c.query('SELECT writer, seq, batch FROM acked')).rows as Array<{ writer: number; seq: number; batch: number }>;
  const present = new Set(rows.map((r) => `${r.writer}:${r.seq}:${r.batch}`));
  for (const key of acknowledged) expect(present.has(key), `acknowledged row ${key} lost`).toBe(true);
  expect((await c.query('SELECT count(*)::int AS n FROM (SELECT 1 FROM acked GROUP BY writer, seq HAVING count(*) <> 3) x')).rows).toEqual([{ n: 0 }]);
  expect(acknowledged.size).toBeGreaterThan(0);
  await c.end();
  expect(await server.stop('SIGTERM')).toBe(0);
}, 180_000);
