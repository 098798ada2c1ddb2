/**
 * @module cli/main
 * The `orbit` command: `serve` (the embedded default: ./orbit-data, TCP 127.0.0.1:5432, HTTP and
 * WebSocket 127.0.0.1:8080) and `bridge` (a local TCP port relayed to an Orbit WebSocket endpoint).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { serve, startBridge, type ServeOptions } from '../runtime/node.js';
import { AuthMethod } from '../wire/auth/index.js';
import { timescaledbStartParams } from '../catalog/extension/settings.js';
import { formatStartupError, parseAddress } from './options.js';

const HELP = `Orbit: TimescaleDB for the browser and the edge.

Usage:
  orbit serve [options]               start Orbit and listen for PostgreSQL clients
  orbit bridge --ws URL [--listen A]  expose an Orbit WebSocket endpoint as a local TCP port
  orbit --help | --version

serve options:
  --data-dir DIR        where data lives (default ./orbit-data; memory:// for an ephemeral database)
  --listen ADDR:PORT    PostgreSQL wire protocol over TCP (default 127.0.0.1:5432; "off" disables)
  --http ADDR:PORT      HTTP and PostgreSQL-over-WebSocket (default 127.0.0.1:8080; "off" disables)
  --auth METHOD         authentication for non-loopback clients: scram-sha-256 (default), password, trust
  --auth-local METHOD   authentication for loopback clients: trust (default), scram-sha-256, password
  --user NAME:PASSWORD  a login user (repeatable); roles made with CREATE ROLE ... PASSWORD also work
  --config FILE         JSON file with any of: dataDir, listen, http, auth, authLocal, users {name: password},
                        idleInTransactionTimeout (ms), jobScheduler (false: as --no-job-scheduler),
                        batchCacheMb, cacheTableMb, settings {name: value} (timescaledb.* settings of
                        postgresql.conf, e.g. timescaledb.enable_job_execution_logging)
  --idle-in-transaction-timeout MS
                        end sessions idle inside a transaction that long (default 60000; 0 = never);
                        other sessions wait while one holds a transaction open
  --no-job-scheduler    do not run jobs and policies when due (CALL run_job(id) still runs one)
  --batch-cache-mb MB   memory for compressed batches read from storage (default 256)
  --cache-table-mb MB   decoded chunks kept per backend for statements the fast paths do not take
                        (default 64)

bridge options:
  --ws URL              the WebSocket endpoint, e.g. ws://127.0.0.1:8080/
  --listen ADDR:PORT    local TCP address (default 127.0.0.1:5432)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === '--version' || command === '-V') {
    process.stdout.write(`orbit ${readVersion()}\n`);
    return 0;
  }
  if (command === 'serve') return runServe(rest);
  if (command === 'bridge') return runBridge(rest);
  process.stderr.write(`orbit: unknown command "${command}"\n\n${HELP}`);
  return 2;
}

async function runServe(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'data-dir': { type: 'string' },
      listen: { type: 'string' },
      http: { type: 'string' },
      auth: { type: 'string' },
      'auth-local': { type: 'string' },
      user: { type: 'string', multiple: true },
      config: { type: 'string' },
      'idle-in-transaction-timeout': { type: 'string' },
      'no-job-scheduler': { type: 'boolean' },
      'batch-cache-mb': { type: 'string' },
      'cache-table-mb': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const config = values.config ? (JSON.parse(readFileSync(values.config, 'utf8')) as Record<string, unknown>) : {};
  const users: Record<string, string> = { ...((config.users as Record<string, string>) ?? {}) };
  for (const u of values.user ?? []) {
    const i = u.indexOf(':');
    if (i <= 0) throw new Error(`--user takes NAME:PASSWORD, got "${u}"`);
    users[u.slice(0, i)] = u.slice(i + 1);
  }
  const timeout = values['idle-in-transaction-timeout'] ?? (config.idleInTransactionTimeout as string | number | undefined);
  const cacheMb = values['batch-cache-mb'] ?? (config.batchCacheMb as string | number | undefined);
  if (cacheMb !== undefined && !(Number(cacheMb) > 0)) throw new Error(`--batch-cache-mb takes a number of MiB, got "${cacheMb}"`);
  const tableMb = values['cache-table-mb'] ?? (config.cacheTableMb as string | number | undefined);
  if (tableMb !== undefined && !(Number(tableMb) > 0)) throw new Error(`--cache-table-mb takes a number of MiB, got "${tableMb}"`);
  const mib = (mb: string | number) => Math.round(Number(mb) * 1024 * 1024);
  const columnstore = { ...(cacheMb === undefined ? {} : { cacheBytes: mib(cacheMb) }), ...(tableMb === undefined ? {} : { cacheTableBytes: mib(tableMb) }) };
  const options: ServeOptions = {
    dataDir: values['data-dir'] ?? (config.dataDir as string | undefined) ?? './orbit-data',
    listen: parseAddress(values.listen ?? (config.listen as string | undefined) ?? '127.0.0.1:5432', '--listen'),
    http: parseAddress(values.http ?? (config.http as string | undefined) ?? '127.0.0.1:8080', '--http'),
    authRemote: authMethod(values.auth ?? (config.auth as string | undefined) ?? AuthMethod.scramSha256),
    authLoopback: authMethod(values['auth-local'] ?? (config.authLocal as string | undefined) ?? AuthMethod.trust),
    users,
    session: timeout === undefined ? undefined : { idleInTransactionTimeoutMs: Number(timeout) },
    jobScheduler: !(values['no-job-scheduler'] ?? config.jobScheduler === false),
    ...(Object.keys(columnstore).length === 0 ? {} : { columnstore }),
    ...(config.settings ? { settings: configSettings(config.settings) } : {}),
  };
  let server;
  try {
    server = await serve(options);
  } catch (err) {
    process.stderr.write(`orbit: ${formatStartupError(err, options)}\n`);
    return 1;
  }
  const parts = [`data in ${options.dataDir}`];
  if (server.tcp) parts.push(`PostgreSQL on ${server.tcp.host}:${server.tcp.port}`);
  if (server.http) parts.push(`HTTP/WebSocket on ${server.http.host}:${server.http.port}`);
  process.stdout.write(`orbit: ready (${parts.join(', ')})\n`);
  await waitForSignal();
  process.stdout.write('orbit: shutting down\n');
  await server.close();
  return 0;
}

/** The config file's `settings`: setting names to values (strings, numbers or booleans). */
function configSettings(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('"settings" in the config file must be an object of setting names to values');
  const settings = Object.fromEntries(Object.entries(value).map(([name, v]) => [name, typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v)]));
  timescaledbStartParams(settings); // unknown names fail here, before anything starts
  return settings;
}

async function runBridge(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ws: { type: 'string' }, listen: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!values.ws) throw new Error('bridge needs --ws URL');
  const addr = parseAddress(values.listen ?? '127.0.0.1:5432', '--listen');
  if (!addr) throw new Error('bridge needs a --listen address');
  let bridge;
  try {
    bridge = await startBridge(values.ws, addr.host, addr.port);
  } catch (err) {
    process.stderr.write(`orbit: ${formatStartupError(err, { listen: addr })}\n`);
    return 1;
  }
  process.stdout.write(`orbit: bridge ready (${bridge.host}:${bridge.port} -> ${values.ws})\n`);
  await waitForSignal();
  await bridge.close();
  return 0;
}

function authMethod(value: string): AuthMethod {
  const methods = Object.values(AuthMethod) as string[];
  if (!methods.includes(value)) throw new Error(`unknown authentication method "${value}" (use ${methods.join(', ')})`);
  return value as AuthMethod;
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

/** The package's version: package.json sits two levels up from dist/cli/ and from src/cli/. */
function readVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`orbit: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
