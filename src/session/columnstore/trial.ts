/**
 * @module session/columnstore/trial
 * A statement run once and undone, to read what PostgreSQL makes of it before it really runs (the
 * checks of compressed rows in unique-indexes.ts and validated-constraints.ts): inside Orbit's own
 * transaction when the session is idle, inside a savepoint in a transaction block.
 */
import type { InternalRunner } from '../internal-sql.js';
import { PipelineRefusal } from '../pipeline-transaction.js';

/**
 * Runs `work` between BEGIN and ROLLBACK (`idle`) or a savepoint and its rollback; its result.
 * `why`: the refusal's detail inside a pipeline's implicit transaction, which nothing can undo.
 */
export async function inTrial<T>(run: InternalRunner, idle: boolean, why: string, work: () => Promise<T>): Promise<T> {
  if (run.pipeline) throw new PipelineRefusal(why);
  await run.sql(idle ? 'BEGIN' : 'SAVEPOINT orbit_trial');
  try {
    return await work();
  } finally {
    await run.sql(idle ? 'ROLLBACK' : 'ROLLBACK TO SAVEPOINT orbit_trial; RELEASE SAVEPOINT orbit_trial');
  }
}
