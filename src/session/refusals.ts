/**
 * @module session/refusals
 * Statements that cannot keep their PostgreSQL meaning when sessions share one backend, refused
 * with SQLSTATE 0A000 before they run.
 */
import { OrbitError } from '../errors.js';
import type { ClassifiedStatement } from '../sql/classify.js';
import { SqlState } from '../sqlstate.js';
import { SERVER_ONLY_SETTINGS } from '../catalog/extension/settings.js';

/** How the statement arrived: a simple Query, a Parse, or the in-process API. */
export type Arrival = 'simple' | 'extended' | 'in-process';

/**
 * Session-level advisory locks belong to the backend, which every session shares: one session could
 * take a lock another holds. Transaction-level ones (pg_advisory_xact_lock…) are fine, since one
 * transaction runs at a time; pg_advisory_unlock_all() stays allowed (pools send it on release),
 * and releases nothing, since no session can hold a session-level lock.
 */
const SESSION_ADVISORY_LOCKS = new Set([
  'pg_advisory_lock',
  'pg_advisory_lock_shared',
  'pg_try_advisory_lock',
  'pg_try_advisory_lock_shared',
  'pg_advisory_unlock',
  'pg_advisory_unlock_shared',
]);

/** DeclareCursorStmt option bit of WITH HOLD (CURSOR_OPT_HOLD in parsenodes.h). */
const CURSOR_OPT_HOLD = 0x20;

export function refusal(s: ClassifiedStatement, via: Arrival): OrbitError | undefined {
  // A WITH HOLD cursor outlives its transaction, so it would stay on the shared backend where other
  // sessions could FETCH from it or CLOSE ALL it; cursors without HOLD end with their transaction.
  if (s.type === 'DeclareCursorStmt' && ((s.node.options as number | undefined) ?? 0) & CURSOR_OPT_HOLD) {
    return new OrbitError(SqlState.feature_not_supported, 'cursors WITH HOLD are not supported by Orbit', {
      hint: 'All sessions share one PGlite backend; declare the cursor WITHOUT HOLD inside a transaction.',
    });
  }
  const lock = s.functions.find((f) => SESSION_ADVISORY_LOCKS.has(f));
  if (lock) {
    return new OrbitError(SqlState.feature_not_supported, `session-level advisory locks (${lock}) are not supported by Orbit`, {
      hint: 'All sessions share one PGlite backend; use the transaction-level functions (pg_advisory_xact_lock, pg_try_advisory_xact_lock).',
    });
  }
  if (s.createsTempObject) {
    return new OrbitError(SqlState.feature_not_supported, 'temporary tables are not supported by Orbit', {
      hint: 'All sessions share one PGlite backend, where temporary objects would be visible to every session; use an ordinary table.',
    });
  }
  if (s.kind === 'copy' && s.copy?.stdio) {
    if (via === 'in-process') {
      return new OrbitError(SqlState.feature_not_supported, 'COPY to or from STDIN/STDOUT is not supported by query() and exec()', {
        hint: s.copy.from ? 'Use copyFrom(sql, data), a client connection, or COPY with a file.' : 'Use a client connection, or COPY with a file.',
      });
    }
    if (via === 'extended' && s.copy.from) {
      return new OrbitError(SqlState.feature_not_supported, 'COPY FROM STDIN through the extended query protocol is not supported by Orbit', {
        hint: 'Send COPY ... FROM STDIN as a simple Query message.',
      });
    }
  }
  const server = serverOnlySetting(s);
  if (server) return server;
  const cagg = continuousAggregate(s);
  if (cagg) return cagg;
  if (s.kind === 'listen' && via === 'in-process') {
    return new OrbitError(SqlState.feature_not_supported, 'LISTEN is not supported in-process', { hint: 'Use a client connection.' });
  }
  return undefined;
}

/**
 * `CREATE MATERIALIZED VIEW … WITH (timescaledb.continuous)`: Orbit has no continuous aggregates
 * (refreshes, invalidation, real-time union); a plain materialized view would look like one and be
 * wrong as soon as rows arrive.
 */
function continuousAggregate(s: ClassifiedStatement): OrbitError | undefined {
  if (s.type !== 'CreateTableAsStmt' || s.node.objtype !== 'OBJECT_MATVIEW') return undefined;
  const into = s.node.into as { rel?: { relname?: string }; options?: Array<{ DefElem?: { defnamespace?: string; defname?: string } }> } | undefined;
  const continuous = into?.options?.some((o) => o.DefElem?.defnamespace?.toLowerCase() === 'timescaledb' && o.DefElem.defname?.toLowerCase() === 'continuous');
  if (!continuous) return undefined;
  const over = s.relations[0] ? ` over "${s.relations[0].name}"` : '';
  return new OrbitError(SqlState.feature_not_supported, `continuous aggregates are not supported by Orbit (materialized view "${into?.rel?.relname ?? ''}"${over})`, {
    hint: 'Query the hypertable with time_bucket() directly (aggregates over the columnstore run in its kernels), or keep the results in a table filled by INSERT … SELECT from a job (add_job).',
  });
}

/**
 * Settings TimescaleDB reads from the server's configuration only: SET and RESET fail as they do
 * there (55P02); ALTER SYSTEM would write a file Orbit never reads (its start-up settings win), so
 * it is refused and points at where Orbit takes them.
 */
function serverOnlySetting(s: ClassifiedStatement): OrbitError | undefined {
  const alterSystem = s.type === 'AlterSystemStmt';
  const set = (alterSystem ? s.node.setstmt : s.type === 'VariableSetStmt' ? s.node : undefined) as { name?: string } | undefined;
  const name = set?.name;
  if (name === undefined || !SERVER_ONLY_SETTINGS.has(name)) return undefined;
  if (!alterSystem) return new OrbitError(SqlState.cant_change_runtime_param, `parameter "${name}" cannot be changed now`);
  return new OrbitError(SqlState.feature_not_supported, `ALTER SYSTEM is not supported for "${name}" by Orbit`, {
    hint: 'Give it when the database opens: "settings" in the orbit serve config file, or the settings option of openOrbit().',
  });
}
