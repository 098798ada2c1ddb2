/**
 * @module bench
 * Orbit's benchmark tool: `npm run bench -- --suite <name> [suite options]`.
 *   copy       COPY into each system (`--rows 250000,1000000 --system orbit-tcp,pglite-blob,…`)
 *   exclusion  a one-hour query on 10 vs 1,000 chunks
 *   codecs     columnstore codecs: bytes/value, encode and decode M values/s (`--hosts 100 --rows 2000`)
 *   time-functions  time_bucket, gapfill, first/last, histogram vs plain SQL (`--rows 2592000 --runs 9`)
 *   tsbs       the nine TSBS query types on Orbit, plain PGlite, DuckDB-WASM (`--hours 72 --variant decimal,ints`)
 *   columnstore  whole cpu chunks through the batch store: bytes/row, write and decode rows/s (`--hosts 100 --rows 8640`)
 *   kernels    aggregates over compressed cpu chunks by the kernels vs the same SQL in plain PGlite (`--hosts 100 --rows 8640`)
 *   memory     a direct COPY many times larger than PGlite's memory into `orbit serve`, then the TSBS queries: peak RSS vs data size (`--hours 240 --cache-mb 64`)
 *   runtimes   the same ingest and queries in Node (in-process), Chromium (a worker on OPFS) and workerd (the Worker over HTTP), ratios to Node and bundle size (`--hours 6 --runtimes node,chromium,workerd`)
 * Every system runs on the same generated data in the same run; results go to
 * bench/results/<suite>-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { codecsSuite } from './suites/codecs.js';
import { columnstoreSuite } from './suites/columnstore.js';
import { copySuite } from './suites/copy.js';
import { exclusionSuite } from './suites/exclusion-suite.js';
import { kernelsSuite } from './suites/kernels.js';
import { memorySuite } from './suites/memory.js';
import { timeFunctionsSuite } from './suites/time-functions-suite.js';
import { runtimesSuite } from './suites/runtimes.js';
import { tsbsSuite } from './suites/tsbs.js';
import type { Suite } from './suites/suite.js';

const SUITES: Record<string, Suite> = {
  copy: copySuite,
  exclusion: exclusionSuite,
  codecs: codecsSuite,
  'time-functions': timeFunctionsSuite,
  columnstore: columnstoreSuite,
  kernels: kernelsSuite,
  tsbs: tsbsSuite,
  runtimes: runtimesSuite,
  memory: memorySuite,
};

const { values: first } = parseArgs({ options: { suite: { type: 'string', default: 'copy' } }, strict: false });
const suite = SUITES[String(first.suite)];
if (!suite) throw new Error(`unknown suite ${first.suite} (available: ${Object.keys(SUITES).join(', ')})`);
const { values } = parseArgs({ options: { suite: { type: 'string' }, ...suite.options } });
const results = await suite.run(values);
// A suite's helper process (tsbs --isolate) hands its results to its parent instead.
if (results === undefined) process.exit(0);
mkdirSync('bench/results', { recursive: true });
const file = join('bench/results', `${suite.name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ suite: suite.name, node: process.version, results }, null, 2));
console.log(`results: ${file}`);
// Suites may leave handles open (servers, PGlite workers) after reporting.
process.exit(0);
