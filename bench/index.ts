/**
 * Orbit's benchmark tool: `npm run bench -- --suite copy [--rows 250000,1000000] [--system orbit-tcp,pglite-blob]`,
 * `--suite exclusion`, or `--suite time-functions [--rows 2592000] [--runs 9] [--warmup 2]`.
 * Every system runs on the same generated data in the same run; results go to bench/results/*.json.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeCpuCsv } from './data/cpu-csv.js';
import { orbitTcp, orbitTcpHypertable, orbitTcpHypertableNoIndex } from './systems/orbit-tcp.js';
import { pgliteBlob, pgliteBlobTimeIndex } from './systems/pglite-blob.js';
import type { CopyResult, CopySystem } from './systems/system.js';

const SYSTEMS: Record<string, CopySystem> = {
  'orbit-tcp': orbitTcp,
  'orbit-tcp-ht': orbitTcpHypertable,
  'orbit-tcp-ht-noidx': orbitTcpHypertableNoIndex,
  'pglite-blob': pgliteBlob,
  'pglite-blob-idx': pgliteBlobTimeIndex,
};

const { values } = parseArgs({
  options: {
    suite: { type: 'string', default: 'copy' },
    rows: { type: 'string' },
    runs: { type: 'string', default: '9' },
    warmup: { type: 'string', default: '2' },
    system: { type: 'string', default: Object.keys(SYSTEMS).join(',') },
  },
});

if (values.suite === 'exclusion') {
  const { runExclusion } = await import('./suites/exclusion.js');
  const results = await runExclusion([10, 1000]);
  for (const r of results) {
    const base = results.find((x) => x.form === r.form)!;
    console.log(
      `${String(r.chunks).padStart(5)} chunks ${String(r.rows).padStart(8)} rows  ${r.form.padEnd(9)} one-hour query median ${r.medianMs.toFixed(2)} ms  p90 ${r.p90Ms.toFixed(2)} ms  ×${(r.medianMs / base.medianMs).toFixed(2)} of ${base.chunks} chunks`,
    );
  }
  mkdirSync('bench/results', { recursive: true });
  const file = join('bench/results', `exclusion-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ suite: 'exclusion', node: process.version, results }, null, 2));
  console.log(`results: ${file}`);
  process.exit(0);
}
if (values.suite === 'time-functions') {
  const { runTimeFunctions, formatRow, TABLE_HEADER } = await import('./suites/time-functions.js');
  const result = await runTimeFunctions({
    rows: Number(values.rows ?? 2_592_000),
    runs: Number(values.runs),
    warmup: Number(values.warmup),
    log: (line) => console.log(`  ${line}`),
  });
  console.log(`\n${result.storedRows} rows, window ${result.window.start} .. ${result.window.end}, median of ${result.runs} runs after ${result.warmup} warm-ups, load average ${result.loadAverage.afterLoad.toFixed(1)} → ${result.loadAverage.atEnd.toFixed(1)}`);
  console.log(TABLE_HEADER);
  for (const q of result.queries) for (const line of formatRow(q)) console.log(line);
  mkdirSync('bench/results', { recursive: true });
  const file = join('bench/results', `time-functions-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ suite: 'time-functions', node: process.version, ...result }, null, 2));
  console.log(`results: ${file}`);
  process.exit(0);
}
if (values.suite !== 'copy') throw new Error(`unknown suite ${values.suite} (available: copy, exclusion, time-functions)`);
const results: CopyResult[] = [];
for (const rows of (values.rows ?? '250000,1000000').split(',').map(Number)) {
  const csv = join(tmpdir(), `orbit-bench-cpu-${rows}.csv`);
  const bytes = await writeCpuCsv(csv, rows);
  for (const name of values.system!.split(',')) {
    const system = SYSTEMS[name];
    if (!system) throw new Error(`unknown system ${name}`);
    const r = await system.copy(csv, rows, bytes);
    results.push(r);
    console.log(`${r.system.padEnd(12)} ${String(rows).padStart(8)} rows ${(bytes / 1e6).toFixed(0).padStart(5)} MB  ${r.ms.toFixed(0).padStart(7)} ms  ${r.rowsPerSecond.toFixed(0).padStart(7)} rows/s  peak RSS ${r.peakRssMb.toFixed(0)} MB`);
  }
  rmSync(csv, { force: true });
}
mkdirSync('bench/results', { recursive: true });
const file = join('bench/results', `copy-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ suite: 'copy', node: process.version, results }, null, 2));
console.log(`results: ${file}`);
