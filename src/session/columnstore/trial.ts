/**
 * @module session/columnstore/trial
 * A statement run once and undone, to read what PostgreSQL makes of it before it really runs (the
 * checks of compressed rows in unique-indexes.ts and validated-constraints.ts): inside Orbit's own
 * transaction when the session is idle, inside a savepoint in a transaction block.
 */
import { SqlState } from '../../sqlstate.js';
import { firstError, type InternalRunner } from '../internal-sql.js';
import { PipelineRefusal } from '../pipeline-transaction.js';

/**
 * Runs `work` between BEGIN and ROLLBACK (`idle`) or a savepoint and its rollback; its result.
 * `why`: the refusal's detail inside a pipeline's implicit transaction, which nothing can undo.
 */
export async function inTrial<T>(run: InternalRunner, idle: boolean, why: string, work: () => Promise<T>): Promise<T> {
  if (run.pipeline) throw new PipelineRefusal(why);
  let own = idle;
  const begun = await run.sql(idle ? 'BEGIN' : 'SAVEPOINT orbit_trial');
  // Not idle, yet no transaction open (an in-process string with its own BEGIN is prepared before
  // it runs): a failed SAVEPOINT would leave `work` to run, and commit, outside any transaction.
  if (!idle && firstError(begun)?.C === SqlState.no_active_sql_transaction) {
    own = true;
    await run.sql('BEGIN');
  }
  try {
    return await work();
  } finally {
    await run.sql(own ? 'ROLLBACK' : 'ROLLBACK TO SAVEPOINT orbit_trial; RELEASE SAVEPOINT orbit_trial');
  }
}
