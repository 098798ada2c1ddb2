/**
 * Orbit over TCP: `orbit serve` in its own process, psql streaming the CSV with \copy (one COPY
 * FROM STDIN over the wire). Peak memory is the server process's VmHWM.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CPU_TABLE_SQL } from '../data/cpu-csv.js';
import type { CopyResult, CopySystem } from './system.js';

const run = promisify(execFile);

export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/** Orbit over TCP loading into `cpu` after `setupSql` ran on the new table. */
function orbitTcpSystem(name: string, setupSql: string): CopySystem {
  return {
    name,
    async copy(csvPath, rows, bytes): Promise<CopyResult> {
      const dir = mkdtempSync(join(tmpdir(), 'orbit-bench-'));
      const child = spawn(process.execPath, ['bin/orbit.js', 'serve', '--data-dir', dir, '--listen', '127.0.0.1:0', '--http', 'off'], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        const port = await new Promise<number>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            const m = /PostgreSQL on [^:]+:(\d+)/.exec(out);
            if (m) resolve(Number(m[1]));
          });
          child.on('exit', (code) => reject(new Error(`orbit exited with ${code}`)));
        });
        const env = { ...process.env, PGHOST: '127.0.0.1', PGPORT: String(port), PGUSER: 'postgres', PGDATABASE: 'postgres' };
        await run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', CPU_TABLE_SQL, ...(setupSql ? ['-c', setupSql] : [])], { env });
        const t0 = performance.now();
        const r = await run('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-c', `\\copy cpu from '${csvPath}' with (format csv)`], { env, maxBuffer: 1 << 20 });
        const ms = performance.now() - t0;
        if (!r.stdout.includes(`COPY ${rows}`)) throw new Error(`unexpected psql output: ${r.stdout}`);
        return { system: this.name, rows, bytes, ms, rowsPerSecond: (rows / ms) * 1000, peakRssMb: peakRssMb(child.pid!) };
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export const orbitTcp = orbitTcpSystem('orbit-tcp', '');

/**
 * The same load into a hypertable with 12-hour chunks (TSBS's setting for this data set), no
 * columnstore: with TimescaleDB's default time index, and without any index (routing cost alone).
 */
export const orbitTcpHypertable = orbitTcpSystem(
  'orbit-tcp-ht',
  "CREATE EXTENSION timescaledb; SELECT create_hypertable('cpu', by_range('time', INTERVAL '12 hours'));",
);
export const orbitTcpHypertableNoIndex = orbitTcpSystem(
  'orbit-tcp-ht-noidx',
  "CREATE EXTENSION timescaledb; SELECT create_hypertable('cpu', by_range('time', INTERVAL '12 hours'), create_default_indexes => false);",
);
