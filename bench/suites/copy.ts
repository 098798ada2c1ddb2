/**
 * @module bench/suites/copy
 * `--suite copy [--rows 250000,1000000] [--system orbit-tcp,pglite-blob]`: COPY of the generated cpu
 * CSV into each system, same data in the same run.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCpuCsv } from '../data/cpu-csv.js';
import { orbitTcp, orbitTcpHypertable, orbitTcpHypertableNoIndex } from '../systems/orbit-tcp.js';
import { pgliteBlob, pgliteBlobTimeIndex } from '../systems/pglite-blob.js';
import type { CopyResult, CopySystem } from '../systems/system.js';
import type { Suite } from './suite.js';

const SYSTEMS: Record<string, CopySystem> = {
  'orbit-tcp': orbitTcp,
  'orbit-tcp-ht': orbitTcpHypertable,
  'orbit-tcp-ht-noidx': orbitTcpHypertableNoIndex,
  'pglite-blob': pgliteBlob,
  'pglite-blob-idx': pgliteBlobTimeIndex,
};

export const copySuite: Suite = {
  name: 'copy',
  options: {
    rows: { type: 'string', default: '250000,1000000' },
    system: { type: 'string', default: Object.keys(SYSTEMS).join(',') },
  },
  async run(args) {
    const results: CopyResult[] = [];
    for (const rows of String(args.rows).split(',').map(Number)) {
      const csv = join(tmpdir(), `orbit-bench-cpu-${rows}.csv`);
      const bytes = await writeCpuCsv(csv, rows);
      for (const name of String(args.system).split(',')) {
        const system = SYSTEMS[name];
        if (!system) throw new Error(`unknown system ${name}`);
        const r = await system.copy(csv, rows, bytes);
        results.push(r);
        console.log(`${r.system.padEnd(12)} ${String(rows).padStart(8)} rows ${(bytes / 1e6).toFixed(0).padStart(5)} MB  ${r.ms.toFixed(0).padStart(7)} ms  ${r.rowsPerSecond.toFixed(0).padStart(7)} rows/s  peak RSS ${r.peakRssMb.toFixed(0)} MB`);
      }
      rmSync(csv, { force: true });
    }
    return results;
  },
};
