/**
 * @module test/support/fast-paths
 * Which of Orbit's fast paths answered a statement, for differential tests that require a shape the
 * planner takes to take it: Columnstore's entry points answer undefined when the general path must
 * answer instead.
 */
import { vi } from 'vitest';
import { Columnstore } from '../../src/session/columnstore/columnstore.js';
import type { ColumnstorePlan } from '../../src/session/columnstore/statement-plans.js';

/** A fast path a query took (Columnstore's entry points), or the general path. */
export type Path = 'aggregate' | 'scan' | 'last point' | 'general';

/**
 * The fast paths that ran since the last `take()`: Columnstore's entry points (a statement run at
 * once, a prepared statement's Bind) answer undefined when the general path must answer instead.
 */
export function pathTracker(): { take(): Path; restore(): void } {
  let taken: Path | undefined;
  const proto = Columnstore.prototype;
  const runPlanned = proto.runPlanned;
  const runAggregate = proto.runAggregate;
  const runLastPoint = proto.runLastPoint;
  const spies = [
    vi.spyOn(proto, 'runPlanned').mockImplementation(async function (this: Columnstore, ...args: Parameters<Columnstore['runPlanned']>) {
      const out = await runPlanned.apply(this, args);
      const plan: ColumnstorePlan = args[1];
      if (out !== undefined) taken = plan.aggregate ? 'aggregate' : plan.lastPoint ? 'last point' : 'scan';
      return out;
    }),
    vi.spyOn(proto, 'runAggregate').mockImplementation(async function (this: Columnstore, ...args: Parameters<Columnstore['runAggregate']>) {
      const out = await runAggregate.apply(this, args);
      if (out !== undefined) taken = 'aggregate';
      return out;
    }),
    vi.spyOn(proto, 'runLastPoint').mockImplementation(async function (this: Columnstore, ...args: Parameters<Columnstore['runLastPoint']>) {
      const out = await runLastPoint.apply(this, args);
      if (out !== undefined) taken = 'last point';
      return out;
    }),
  ];
  return {
    take(): Path {
      const path = taken ?? 'general';
      taken = undefined;
      return path;
    },
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}
