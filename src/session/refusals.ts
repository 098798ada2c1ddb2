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
  const encoding = clientEncodingSet(s);
  if (encoding) return encoding;
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

/**
 * PostgreSQL's names of encodings other than UTF8 and SQL_ASCII, as clean_encoding_name leaves them
 * (lower case, letters and digits only; encnames.c's aliases included).
 */
const CONVERTED_ENCODING =
  /^(latin([1-9]|10)|iso8859(1[03-6]?|[2-9])|win(dows)?(125[0-8]|866|874|932|936|949|950)?|koi8[ru]?|alt|euc(cn|jp|kr|tw|jis2004)|sjis|shiftjis(2004)?|mskanji|big5|gbk|gb18030|uhc|johab|muleinternal|tcvn(5712)?|vscii|abc|isoir(10[01]|109|110|111|126|127|138|144|148|157)?)$/;

/**
 * SET client_encoding / SET NAMES / set_config('client_encoding', …) to an encoding that needs a
 * conversion from the database's UTF8: PGlite has no conversion procedures, and once set it sends
 * empty results or nothing at all for text it would have to convert (a client then waits forever).
 * PostgreSQL's own error for a missing conversion (0A000); UTF8 (any spelling) and SQL_ASCII run.
 */
function clientEncodingSet(s: ClassifiedStatement): OrbitError | undefined {
  let value: string | undefined;
  if (s.type === 'VariableSetStmt' && s.node.name === 'client_encoding' && s.node.kind === 'VAR_SET_VALUE') {
    value = constantString((s.node.args as unknown[] | undefined)?.[0]);
  } else if (s.functions.includes('set_config')) {
    value = setConfigValue(s.node, 'client_encoding');
  }
  return value === undefined ? undefined : unsupportedClientEncoding(value);
}

/**
 * The error for a client_encoding that would need a conversion (see clientEncodingSet), from a SET
 * or a client's startup parameters (where PGlite would hang every session after it); undefined for
 * UTF8, SQL_ASCII and names PostgreSQL does not know (it rejects those itself, 22023).
 */
export function unsupportedClientEncoding(value: string): OrbitError | undefined {
  if (!CONVERTED_ENCODING.test(value.toLowerCase().replace(/[^a-z0-9]/g, ''))) return undefined;
  return new OrbitError(SqlState.feature_not_supported, `conversion between ${value.toUpperCase()} and UTF8 is not supported`, {
    hint: 'Orbit talks UTF8 to clients (the database encoding); set client_encoding to UTF8.',
  });
}

/** A string constant's text (A_Const sval), if `node` is one. */
function constantString(node: unknown): string | undefined {
  return (node as { A_Const?: { sval?: { sval?: string } } } | undefined)?.A_Const?.sval?.sval;
}

/** The constant value of a set_config(`name`, value, …) call anywhere in `node`. */
function setConfigValue(node: unknown, name: string): string | undefined {
  if (Array.isArray(node)) {
    for (const v of node) {
      const found = setConfigValue(v, name);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (node === null || typeof node !== 'object') return undefined;
  const call = (node as { FuncCall?: { funcname?: Array<{ String?: { sval?: string } }>; args?: unknown[] } }).FuncCall;
  if (call && call.funcname?.at(-1)?.String?.sval === 'set_config' && constantString(call.args?.[0])?.toLowerCase() === name) return constantString(call.args?.[1]);
  for (const v of Object.values(node)) {
    const found = setConfigValue(v, name);
    if (found !== undefined) return found;
  }
  return undefined;
}
