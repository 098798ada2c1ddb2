/**
 * @module bench/suites/exclusion-suite
 * `--suite exclusion`: the chunk-exclusion measurement (exclusion.ts) as a pluggable suite.
 */
import { runExclusion } from './exclusion.js';
import type { Suite } from './suite.js';

export const exclusionSuite: Suite = {
  name: 'exclusion',
  options: {},
  async run() {
    const results = await runExclusion([10, 1000]);
    for (const r of results) {
      const base = results.find((x) => x.form === r.form)!;
      console.log(
        `${String(r.chunks).padStart(5)} chunks ${String(r.rows).padStart(8)} rows  ${r.form.padEnd(9)} one-hour query median ${r.medianMs.toFixed(2)} ms  p90 ${r.p90Ms.toFixed(2)} ms  ×${(r.medianMs / base.medianMs).toFixed(2)} of ${base.chunks} chunks`,
      );
    }
    return results;
  },
};
