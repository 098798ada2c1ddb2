/**
 * Runs real client programs (psql, pgbench, Python drivers, the JVM) against a test server and
 * collects what they print. Client suites share it; it is not a test file itself.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Written to the child's stdin, which is then closed. */
  readonly input?: string | Buffer;
  readonly timeoutMs?: number;
  readonly cwd?: string;
}

/** Debian's python sees the Debian client modules (psycopg2, psycopg 3.1, asyncpg); pyenv's does not. */
export const PYTHON = '/usr/bin/python3';
export const PGJDBC_JAR = '/usr/share/java/postgresql.jar';
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/**
 * libpq reads these from the environment; a developer's own settings must not leak into a test
 * (a PGPASSWORD or PGDATABASE from the shell would change what the client sends).
 */
const LIBPQ_VARIABLES = [
  'PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGPASSFILE', 'PGDATABASE', 'PGSERVICE',
  'PGSERVICEFILE', 'PGOPTIONS', 'PGAPPNAME', 'PGSSLMODE', 'PGTZ', 'PGDATESTYLE', 'PGCLIENTENCODING', 'PGTARGETSESSIONATTRS',
];

export function libpqEnv(port: number, extra: Readonly<Record<string, string | undefined>> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of LIBPQ_VARIABLES) delete env[k];
  return {
    ...env,
    PGHOST: '127.0.0.1',
    PGPORT: String(port),
    PGUSER: 'postgres',
    PGDATABASE: 'postgres',
    PGCONNECT_TIMEOUT: '20',
    // No password prompt from a client that unexpectedly meets an auth request.
    PGPASSFILE: '/nonexistent/orbit-test-pgpass',
    LC_ALL: 'C.UTF-8',
    ...extra,
  };
}

export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: (options.env ?? process.env) as NodeJS.ProcessEnv,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 110_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    // A client that exits early (a failed COPY) closes its stdin: that is not an error here.
    child.stdin.on('error', () => undefined);
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

/** Runs a Python fixture that prints one JSON document on stdout. */
export async function runPythonJson<T = Record<string, unknown>>(script: string, args: readonly string[], timeoutMs = 110_000): Promise<T> {
  const r = await run(PYTHON, [FIXTURES + script, ...args], { timeoutMs, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  if (r.code !== 0) throw new Error(`${script} exited with ${r.code ?? r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`${script} did not print JSON\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}
