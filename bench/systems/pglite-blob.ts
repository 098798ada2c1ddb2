/**
 * Plain PGlite in-process, the baseline: `COPY cpu FROM '/dev/blob'` with the whole CSV as a Blob,
 * in a child process of its own (so its peak memory is its own), on files like Orbit.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { CopyResult, CopySystem } from './system.js';

const run = promisify(execFile);

function pgliteBlobSystem(name: string, setupSql: string): CopySystem {
  return {
    name,
    async copy(csvPath, rows, bytes): Promise<CopyResult> {
      const r = await run(process.execPath, ['--import', 'tsx', 'bench/systems/pglite-blob-child.ts', csvPath, setupSql], { maxBuffer: 1 << 20 });
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; rows: number; peakRssMb: number };
      if (out.rows !== rows) throw new Error(`pglite copied ${out.rows} rows, expected ${rows}`);
      return { system: this.name, rows, bytes, ms: out.ms, rowsPerSecond: (rows / out.ms) * 1000, peakRssMb: out.peakRssMb };
    },
  };
}

export const pgliteBlob = pgliteBlobSystem('pglite-blob', '');

/** With the index create_hypertable adds by default (time DESC), to compare like with like. */
export const pgliteBlobTimeIndex = pgliteBlobSystem('pglite-blob-idx', 'CREATE INDEX cpu_time_idx ON cpu (time DESC)');
