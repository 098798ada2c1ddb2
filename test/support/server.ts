/**
 * Test servers: an in-process Orbit server on ephemeral ports, or a child `orbit serve` process
 * (for crash tests and CLI behaviour).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { serve, type RunningServer, type ServeOptions } from '../../src/runtime/node.js';

export const TEMPLATE = 'dist/pgdata-template.tar.gz';

export interface TestServer extends RunningServer {
  readonly port: number;
  readonly httpPort: number;
  /** A connection string for libpq-style clients. */
  readonly url: string;
}

/**
 * Without the job scheduler unless asked for: tables created WITH (timescaledb.hypertable) get a
 * columnstore policy due at once, whose background runs would compress test data at random moments
 * (TimescaleDB's own regression tests stop background workers likewise).
 */
export async function startTestServer(options: Partial<ServeOptions> = {}): Promise<TestServer> {
  const server = await serve({
    dataDir: 'memory://',
    jobScheduler: false,
    listen: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    templatePath: TEMPLATE,
    // The direct COPY threads start at the first direct COPY, not with every test server (they cost
    // about a second of CPU each under tsx); `orbit serve` itself starts them at open (test/cli).
    copyThreadsAtOpen: false,
    ...options,
  });
  const port = server.tcp?.port ?? 0;
  return Object.assign(server, {
    port,
    httpPort: server.http?.port ?? 0,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
  });
}

/** A node-postgres client of `server`, logged in as `user`. */
export async function clientAs(server: TestServer, user: string): Promise<pg.Client> {
  const client = new pg.Client({ host: '127.0.0.1', port: server.port, user, database: 'postgres' });
  await client.connect();
  return client;
}

/** A node-postgres client of `server`, connected as postgres, its session in UTC. */
export async function utcClient(server: TestServer): Promise<pg.Client> {
  const client = await clientAs(server, 'postgres');
  await client.query("SET timezone TO 'UTC'");
  return client;
}

export function tempDir(prefix = 'orbit-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface ChildServer {
  readonly process: ChildProcess;
  readonly port: number;
  readonly httpPort: number;
  /** Everything the process printed so far. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `node bin/orbit.js serve --no-job-scheduler ...` (see startTestServer) and waits for its ready line. */
export function startChildServer(args: string[], timeoutMs = 60_000): Promise<ChildServer> {
  const child = spawn(process.execPath, ['bin/orbit.js', 'serve', '--no-job-scheduler', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), timeoutMs);
    const check = () => {
      const ready = /orbit: ready \(([^)]*)\)/.exec(out);
      if (ready) {
        const tcp = /PostgreSQL on [^,]*:(\d+)/.exec(ready[1]!);
        const http = /WebSocket on [^,]*:(\d+)/.exec(ready[1]!);
        clearTimeout(timer);
        resolve({
          process: child,
          port: Number(tcp?.[1] ?? 0),
          httpPort: Number(http?.[1] ?? 0),
          output: () => out,
          stop: async (signal = 'SIGTERM') => {
            if (child.exitCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
}

/**
 * For a describe block: a test server (startTestServer) and a pg client connected to it, made before
 * its tests and closed after them; read them inside tests (`wire.server`, `wire.client`).
 */
export function serverWithClient(options: Partial<ServeOptions> = {}): { readonly server: TestServer; readonly client: pg.Client } {
  let server: TestServer | undefined;
  let client: pg.Client | undefined;
  beforeAll(async () => {
    server = await startTestServer(options);
    client = new pg.Client({ connectionString: server.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await server?.close();
  });
  return {
    get server() {
      return server!;
    },
    get client() {
      return client!;
    },
  };
}
