/**
 * @module bench/suites/time-functions-suite
 * `--suite time-functions [--rows 2592000] [--runs 9] [--warmup 2]`: time_bucket, gapfill, first/last
 * and histogram on Orbit against the same queries in plain PostgreSQL (time-functions.ts).
 */
import { formatRow, runTimeFunctions, TABLE_HEADER } from './time-functions.js';
import type { Suite } from './suite.js';

export const timeFunctionsSuite: Suite = {
  name: 'time-functions',
  options: {
    rows: { type: 'string', default: '2592000' },
    runs: { type: 'string', default: '9' },
    warmup: { type: 'string', default: '2' },
  },
  async run(args) {
    const result = await runTimeFunctions({
      rows: Number(args.rows),
      runs: Number(args.runs),
      warmup: Number(args.warmup),
      log: (line) => console.log(`  ${line}`),
    });
    console.log(
      `\n${result.storedRows} rows, window ${result.window.start} .. ${result.window.end}, median of ${result.runs} runs after ${result.warmup} warm-ups, load average ${result.loadAverage.afterLoad.toFixed(1)} → ${result.loadAverage.atEnd.toFixed(1)}`,
    );
    console.log(TABLE_HEADER);
    for (const q of result.queries) for (const line of formatRow(q)) console.log(line);
    return result;
  },
};
