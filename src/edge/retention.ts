/**
 * @module edge/retention
 * Retention policies at the edge: `add_retention_policy` stores a `bgw_job` row (TimescaleDB's
 * `policy_retention`), and the jobs run when due — from the Durable Object's alarm, which survives
 * restarts as TimescaleDB's scheduler does — or at once through `CALL run_job(id)`. A run drops the
 * chunks that end at or before now() - drop_after, as drop_chunks(older_than => drop_after) would.
 */
import { orbitError } from '../errors.js';
import type { Interval } from '../functions/calendar.js';
import { timestamptzPlusInterval } from '../functions/time-zone.js';
import { toInternal } from './catalog.js';
import type { EdgeEngine } from './engine.js';
import { dropChunks } from './shard-chunks.js';
import { coerce } from './expr.js';

/** TimescaleDB's name for the retention job's procedure (`_timescaledb_functions.policy_retention`). */
export const RETENTION_PROC = 'policy_retention';

export interface RetentionConfig {
  /** An interval as {months, days, micros} (micros as a decimal string: JSON has no bigint). */
  readonly drop_after: { months: number; days: number; micros: string };
  readonly schedule_interval_us: string;
  next_start_ms: number;
}

export function intervalJson(i: Interval): { months: number; days: number; micros: string } {
  return { months: i.months, days: i.days, micros: String(i.micros) };
}

/**
 * Runs the retention jobs due at `nowMs` (or the one job `onlyId`, whenever due): drops the chunks
 * entirely older than now - drop_after, then schedules the next run. Returns the next due time.
 */
export async function runRetentionJobs(engine: EdgeEngine, nowMs: number, onlyId?: number): Promise<number | undefined> {
  const jobs = engine.catalog.jobs(RETENTION_PROC);
  if (onlyId !== undefined && !jobs.some((j) => j.id === onlyId)) throw orbitError('undefined_object', `job ${onlyId} not found`);
  for (const job of jobs) {
    const config = job.config as unknown as RetentionConfig;
    if (onlyId !== undefined ? job.id !== onlyId : config.next_start_ms > nowMs) continue;
    const h = engine.catalog.hypertableNames().map((n) => engine.catalog.hypertable(n)!).find((x) => x.id === job.hypertableId);
    if (h) {
      const scope = engine.constantScope([]);
      const d = config.drop_after;
      const t = timestamptzPlusInterval(scope.now, { months: -d.months, days: -d.days, micros: -BigInt(d.micros) }, scope.zone);
      const local = h.timeType === 'timestamptz' ? t : coerce({ type: 'timestamptz', constant: true, eval: () => t }, h.timeType, scope).eval([], 0);
      const cut = toInternal(h.timeType, local as bigint | number);
      const old = engine.catalog.chunks(h.id).filter((c) => c.rangeEnd <= cut);
      await dropChunks(engine, h, old);
    }
    config.next_start_ms = nowMs + Number(BigInt(config.schedule_interval_us) / 1000n);
    engine.catalog.setJobConfig(job.id, config as unknown as Record<string, unknown>);
  }
  return nextJobAt(engine);
}

/** When the next job is due (ms since the Unix epoch), if any job exists. */
export function nextJobAt(engine: EdgeEngine): number | undefined {
  const times = engine.catalog.jobs().map((j) => (j.config as unknown as RetentionConfig).next_start_ms);
  return times.length ? Math.min(...times) : undefined;
}

