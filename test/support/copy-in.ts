/**
 * COPY … FROM STDIN from real clients: postgres.js for COPYs that succeed, psql for those that fail
 * (postgres.js hangs on COPY errors, porsager/postgres#1173).
 */
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type postgres from 'postgres';

/** COPY data in CopyData messages of at most 256 KiB (postgres.js stalls on one huge chunk). */
export function pieces(data: string | Buffer): Buffer[] {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += 256 << 10) out.push(buf.subarray(i, i + (256 << 10)));
  return out;
}

export async function copyIn(sql: postgres.Sql | postgres.TransactionSql, statement: string, data: string | Buffer): Promise<void> {
  await pipeline(Readable.from(pieces(data)), await sql.unsafe(statement).writable());
}

/** psql's exit code and stderr (VERBOSITY verbose: SQLSTATEs) for a COPY FROM STDIN fed `data`. */
export function psqlCopy(url: string, statement: string, data: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('psql', ['-X', '-q', '-v', 'VERBOSITY=verbose', '-d', url, '-c', statement], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(data);
  });
}
