/**
 * @module bench/data/cpu-rows
 * Seeded TSBS cpu rows as columnstore `Rows`: time, 9 tags and 10 metrics (20 columns), hosts
 * reporting every 10 s from 2024-01-01, in arrival order (time-major, hosts interleaved). Metrics are
 * clamped random walks with 6 decimals, or rounded to integers.
 */
import { allocColumn, type Column, type Rows } from '../../src/columnstore/columns.js';
import { rng } from './cpu-csv.js';

export const TAGS = ['hostname', 'region', 'datacenter', 'rack', 'os', 'arch', 'team', 'service', 'service_version'];
export const METRICS = ['usage_user', 'usage_system', 'usage_idle', 'usage_nice', 'usage_iowait', 'usage_irq', 'usage_softirq', 'usage_steal', 'usage_guest', 'usage_guest_nice'];
const REGIONS = ['us-east-1', 'us-west-1', 'eu-west-1', 'eu-central-1', 'ap-northeast-1'];

/** TSBS cpu rows in arrival order (time-major, hosts interleaved), seeded. */
export function cpuRows(hosts: number, perHost: number, integers: boolean, seed = 42): Rows {
  const rand = rng(seed);
  const n = hosts * perHost;
  const time = allocColumn('timestamptz', n) as Extract<Column, { type: 'timestamptz' }>;
  const tags = TAGS.map(() => allocColumn('text', n) as Extract<Column, { type: 'text' }>);
  const metrics = METRICS.map(() => allocColumn('float8', n) as Extract<Column, { type: 'float8' }>);
  const tagValues = Array.from({ length: hosts }, (_, h) => {
    const region = REGIONS[h % REGIONS.length]!;
    return [`host_${h}`, region, `${region}${'abc'[h % 3]}`, String(h % 100), ['Ubuntu16.04LTS', 'Ubuntu15.10', 'Ubuntu16.10'][h % 3]!, ['x64', 'x86'][h % 2]!, `team_${h % 7}`, String(h % 20), String(h % 2)];
  });
  const walks = Array.from({ length: hosts * METRICS.length }, () => rand() * 100);
  const start = 757_382_400_000_000n; // 2024-01-01 in µs since 2000-01-01
  for (let i = 0; i < n; i++) {
    const h = i % hosts;
    time.values[i] = start + BigInt(Math.floor(i / hosts)) * 10_000_000n;
    tags.forEach((t, k) => (t.values[i] = tagValues[h]![k]!));
    metrics.forEach((m, k) => {
      const w = (walks[h * METRICS.length + k] = Math.min(100, Math.max(0, walks[h * METRICS.length + k]! + (rand() - 0.5) * 2)));
      m.values[i] = integers ? Math.round(w) : Math.round(w * 1e6) / 1e6;
    });
  }
  return { names: ['time', ...TAGS, ...METRICS], columns: [time, ...tags, ...metrics] };
}
