/**
 * pgbench 15 (Debian postgresql-contrib) against Orbit: initialisation with client-side COPY, the
 * TPC-B-like builtin in the simple, extended and prepared query modes with concurrent clients, and a
 * custom script that checks every client keeps its own settings while others interleave.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { libpqEnv, run, type RunResult } from './run.js';

let server: TestServer;
let dir: string;

beforeAll(async () => {
  // A shorter idle-in-transaction timeout than the default 60 s: a session stuck inside a
  // transaction (see the prepared-mode test) then fails the run in seconds, not minutes.
  server = await startTestServer({ session: { idleInTransactionTimeoutMs: 15_000 } });
  dir = mkdtempSync(join(tmpdir(), 'orbit-pgbench-'));
});

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function pgbench(args: readonly string[]): Promise<RunResult> {
  return run('pgbench', args, { env: libpqEnv(server.port), timeoutMs: 150_000 });
}

async function sql(text: string): Promise<string> {
  const r = await run('psql', ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', text], { env: libpqEnv(server.port) });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

/** The summary lines every successful run must print. */
function expectCleanRun(r: RunResult, mode: string, transactions: number): void {
  const output = r.stdout + r.stderr;
  expect(output).not.toMatch(/error|aborted/i);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(`query mode: ${mode}\n`);
  expect(r.stdout).toContain(`number of transactions actually processed: ${transactions}/${transactions}\n`);
  expect(r.stdout).toContain('number of failed transactions: 0 (0.000%)\n');
}

async function expectBalancesAgree(): Promise<void> {
  const [accounts, branches, tellers] = (await sql(
    'SELECT (SELECT sum(abalance) FROM pgbench_accounts), (SELECT sum(bbalance) FROM pgbench_branches), (SELECT sum(tbalance) FROM pgbench_tellers)',
  )).trim().split('|');
  expect(branches).toBe(accounts);
  expect(tellers).toBe(accounts);
}

describe('pgbench', () => {
  it('initialises scale 1 (client-side COPY of 100,000 accounts, vacuum, primary keys)', async () => {
    const r = await pgbench(['-i', '-s', '1']);
    expect(r.stderr).toContain('100000 of 100000 tuples (100%) done');
    expect(r.stderr).toContain('creating primary keys...');
    expect(r.stderr).toMatch(/done in [\d.]+ s/);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(await sql('SELECT count(*) FROM pgbench_accounts')).toBe('100000\n');
    expect(await sql('SELECT count(*), sum(bbalance) FROM pgbench_branches')).toBe('1|0\n');
    expect(await sql('SELECT count(*) FROM pgbench_tellers')).toBe('10\n');
    expect(await sql("SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint WHERE conrelid::regclass::text LIKE 'pgbench_%' AND contype = 'p'")).toBe(
      'pgbench_accounts_pkey,pgbench_branches_pkey,pgbench_tellers_pkey\n',
    );
  }, 120_000);

  it('runs -c 4 -j 2 -t 50 in the simple query mode', async () => {
    expectCleanRun(await pgbench(['-c', '4', '-j', '2', '-t', '50']), 'simple', 200);
    expect(await sql('SELECT count(*) FROM pgbench_history')).toBe('200\n');
    await expectBalancesAgree();
  }, 120_000);

  it('runs -c 4 -j 2 -t 50 -M extended', async () => {
    expectCleanRun(await pgbench(['-c', '4', '-j', '2', '-t', '50', '-M', 'extended']), 'extended', 200);
    expect(await sql('SELECT count(*) FROM pgbench_history')).toBe('200\n');
    await expectBalancesAgree();
  }, 120_000);

  it('runs -c 4 -j 4 -t 50 -M prepared (one client per thread)', async () => {
    expectCleanRun(await pgbench(['-c', '4', '-j', '4', '-t', '50', '-M', 'prepared']), 'prepared', 200);
    expect(await sql('SELECT count(*) FROM pgbench_history')).toBe('200\n');
    await expectBalancesAgree();
  }, 120_000);

  it('runs -c 4 -j 2 -t 50 -M prepared (two clients share a thread)', async () => {
    // pgbench 15 prepares each statement with a blocking PQprepare (Parse + Sync) the first time a
    // client reaches it. With two clients on one thread, client 1's Parse must be answered while
    // client 0 sits inside BEGIN waiting for that same thread; PostgreSQL answers it at once.
    expectCleanRun(await pgbench(['-c', '4', '-j', '2', '-t', '50', '-M', 'prepared']), 'prepared', 200);
    await expectBalancesAgree();
  }, 120_000);

  it('keeps each client session its own settings while four clients interleave', async () => {
    const script = join(dir, 'settings.sql');
    // Every client names itself, moves its time zone, and checks both survive the other clients'
    // transactions; a mismatch divides by zero and aborts the client.
    writeFileSync(script, [
      "SELECT set_config('application_name', 'pgb_' || :client_id, false), set_config('TimeZone', 'Etc/GMT-' || :client_id, false);",
      "SELECT 1 / (current_setting('application_name') = 'pgb_' || :client_id AND current_setting('TimeZone') = 'Etc/GMT-' || :client_id)::int;",
      'BEGIN;',
      "UPDATE pgbench_branches SET bbalance = bbalance + 0 WHERE bid = 1;",
      "SELECT 1 / (current_setting('application_name') = 'pgb_' || :client_id)::int;",
      'END;',
      "SELECT 1 / (extract(timezone_hour FROM '2024-01-01 00:00:00+00'::timestamptz) = :client_id)::int;",
    ].join('\n') + '\n');
    const r = await pgbench(['-n', '-c', '4', '-j', '2', '-t', '50', '-f', script]);
    expectCleanRun(r, 'simple', 200);
    expect(await sql("SHOW application_name")).toBe('psql\n');
    expect(await sql('SHOW TimeZone')).toBe('UTC\n');
  }, 120_000);
});
