/**
 * Plain PGlite in-process, the baseline: `COPY cpu FROM '/dev/blob'` with the whole CSV as a Blob,
 * in a child process of its own (so its peak memory is its own), on files like Orbit.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { CopyResult, CopySystem } from './system.js';

const run = promisify(execFile);

export const pgliteBlob: CopySystem = {
  name: 'pglite-blob',
  async copy(csvPath, rows, bytes): Promise<CopyResult> {
    const r = await run(process.execPath, ['--import', 'tsx', 'bench/systems/pglite-blob-child.ts', csvPath], { maxBuffer: 1 << 20 });
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; rows: number; peakRssMb: number };
    if (out.rows !== rows) throw new Error(`pglite copied ${out.rows} rows, expected ${rows}`);
    return { system: this.name, rows, bytes, ms: out.ms, rowsPerSecond: (rows / out.ms) * 1000, peakRssMb: out.peakRssMb };
  },
};
