// The `orbit` command as a user runs it: help, startup errors without stack traces, clean shutdown,
// SCRAM logins over TCP and WebSocket, and psql through `orbit bridge`.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { neonConfig, Client as NeonClient } from '@neondatabase/serverless';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ws from 'ws';
import { startChildServer, tempDir, type ChildServer } from '../support/server.js';

const run = promisify(execFile);
const dir = tempDir('orbit-cli-');
afterAll(() => dir.remove());

async function orbit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['bin/orbit.js', ...args], { timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A config file with `settings` (server settings), in the test's directory. */
function settingsConfig(settings: Record<string, unknown>): string {
  const path = join(dir.path, `config-${Object.keys(settings).join('-')}.json`);
  writeFileSync(path, JSON.stringify({ settings }));
  return path;
}

describe('orbit command', () => {
  it('documents every flag in --help', async () => {
    const r = await orbit(['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['serve', 'bridge', '--data-dir', '--listen', '--http', '--auth', '--auth-local', '--user', '--config', '--idle-in-transaction-timeout', '--no-job-scheduler', '--batch-cache-mb', '--cache-table-mb', '--ws']) {
      expect(r.stdout).toContain(flag);
    }
  });

  it('rejects a batch cache size that is not a positive number of MiB', async () => {
    const r = await orbit(['serve', '--data-dir', 'memory://', '--listen', '127.0.0.1:0', '--http', 'off', '--batch-cache-mb', 'lots']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('orbit: --batch-cache-mb takes a number of MiB, got "lots"\n');
  });

  it('rejects a cache table budget that is not a positive number of MiB', async () => {
    const r = await orbit(['serve', '--data-dir', 'memory://', '--listen', '127.0.0.1:0', '--http', 'off', '--cache-table-mb', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('orbit: --cache-table-mb takes a number of MiB, got "0"\n');
  });

  it('rejects server settings it does not know', async () => {
    const r = await orbit(['serve', '--data-dir', 'memory://', '--listen', '127.0.0.1:0', '--http', 'off', '--config', settingsConfig({ 'timescaledb.no_such_setting': 1 })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown setting "timescaledb.no_such_setting"');
  });

  it('prints its version', async () => {
    const { version } = JSON.parse((await import('node:fs')).readFileSync('package.json', 'utf8')) as { version: string };
    expect((await orbit(['--version'])).stdout).toBe(`orbit ${version}\n`);
  });

  it('fails clearly, without a stack trace, when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await orbit(['serve', '--data-dir', join(dir.path, 'taken'), '--listen', `127.0.0.1:${port}`, '--http', 'off']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the address is already in use`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      blocker.close();
    }
  });

  it('fails clearly when the data directory cannot be used', async () => {
    const file = join(dir.path, 'not-a-dir');
    writeFileSync(file, 'x');
    const r = await orbit(['serve', '--data-dir', join(file, 'sub'), '--listen', '127.0.0.1:0', '--http', 'off']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot use data directory');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const ro = join(dir.path, 'read-only');
    writeFileSync(join(dir.path, 'placeholder'), '');
    await run('mkdir', ['-p', ro]);
    chmodSync(ro, 0o500);
    if (process.getuid?.() !== 0) {
      const r2 = await orbit(['serve', '--data-dir', ro, '--listen', '127.0.0.1:0', '--http', 'off']);
      expect(r2.stderr).toContain('permission denied');
    }
  });

  it('shuts down cleanly on SIGINT and SIGTERM', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const s = await startChildServer(['--data-dir', join(dir.path, 'signals'), '--listen', '127.0.0.1:0', '--http', '127.0.0.1:0']);
      const c = new pg.Client({ host: '127.0.0.1', port: s.port, user: 'postgres', database: 'postgres' });
      c.on('error', () => undefined);
      await c.connect();
      await c.query('SELECT 1');
      expect(await s.stop(signal)).toBe(0);
      expect(s.output()).toContain('shutting down');
    }
  });
});

describe('authentication and the bridge', () => {
  let server: ChildServer;
  beforeAll(async () => {
    server = await startChildServer([
      '--data-dir', join(dir.path, 'auth'),
      '--listen', '127.0.0.1:0',
      '--http', '127.0.0.1:0',
      '--auth-local', 'scram-sha-256',
      '--user', 'postgres:admin-secret',
      '--user', 'alice:wonderland',
      '--config', settingsConfig({ 'timescaledb.enable_job_execution_logging': true }),
    ]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const connect = (user: string, password: string) => {
    const c = new pg.Client({ host: '127.0.0.1', port: server.port, user, password, database: 'postgres' });
    c.on('error', () => undefined);
    return c;
  };

  it('logs in with SCRAM-SHA-256 and rejects a wrong password with 28P01', async () => {
    const ok = connect('alice', 'wonderland');
    await ok.connect();
    expect((await ok.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    // (The config file's server settings are in effect.)
    expect((await ok.query('SHOW timescaledb.enable_job_execution_logging')).rows).toEqual([{ 'timescaledb.enable_job_execution_logging': 'on' }]);
    await ok.end();
    await expect(connect('alice', 'wrong').connect()).rejects.toMatchObject({ code: '28P01' });
    await expect(connect('nobody', 'x').connect()).rejects.toMatchObject({ code: '28P01' });
  });

  it('logs in roles created with CREATE ROLE ... PASSWORD', async () => {
    const admin = connect('postgres', 'admin-secret');
    await admin.connect();
    await admin.query("CREATE ROLE bob LOGIN PASSWORD 'builder'");
    await admin.end();
    const bob = connect('bob', 'builder');
    await bob.connect();
    expect((await bob.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    await bob.end();
    await expect(connect('bob', 'nope').connect()).rejects.toMatchObject({ code: '28P01' });
  });

  it('authenticates the WebSocket endpoint the same way', async () => {
    neonConfig.webSocketConstructor = ws;
    neonConfig.wsProxy = () => `127.0.0.1:${server.httpPort}/v2`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;
    const good = new NeonClient({ host: 'orbit.local', user: 'alice', password: 'wonderland', database: 'postgres' });
    await good.connect();
    expect((await good.query('SELECT 3 AS three')).rows).toEqual([{ three: 3 }]);
    await Promise.race([good.end(), new Promise((r) => setTimeout(r, 500))]);
    const bad = new NeonClient({ host: 'orbit.local', user: 'alice', password: 'nope', database: 'postgres' });
    bad.on('error', () => undefined);
    await expect(bad.connect()).rejects.toMatchObject({ code: '28P01' });
  });

  it('lets psql reach the WebSocket endpoint through orbit bridge', async () => {
    const bridge = spawn(process.execPath, ['bin/orbit.js', 'bridge', '--ws', `ws://127.0.0.1:${server.httpPort}/`, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const port = await new Promise<number>((resolve, reject) => {
      bridge.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /bridge ready \(127\.0\.0\.1:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      bridge.on('exit', () => reject(new Error(`bridge exited: ${out}`)));
    });
    try {
      const r = await run('psql', ['-X', '-At', '-h', '127.0.0.1', '-p', String(port), '-U', 'alice', '-d', 'postgres', '-c', "SELECT 'through the bridge'", '-c', 'SELECT 6*7'], {
        env: { ...process.env, PGPASSWORD: 'wonderland', PGSSLMODE: 'prefer' },
      });
      expect(r.stdout).toBe('through the bridge\n42\n');
    } finally {
      bridge.kill('SIGTERM');
    }
  });
});
