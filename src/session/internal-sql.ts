/**
 * @module session/internal-sql
 * Orbit's own SQL on the backend (catalog lookups, COPY, conversions): how it is run and how its
 * raw protocol output is read.
 */
import { concatBytes } from '../bytes.js';
import { OrbitError } from '../errors.js';
import { SqlState } from '../sqlstate.js';
import { readDataRow, scanBackend } from '../wire/protocol/backend.js';
import { BackendMessage } from '../wire/protocol/message-codes.js';
import { firstError, simpleQuery } from './settings.js';

export { firstError };

/** What the columnstore needs from the backend. */
export interface InternalRunner {
  /** Runs Orbit's own SQL (simple query) and returns the raw backend output. */
  sql(sql: string): Promise<Uint8Array>;
  /** Runs raw frontend messages. */
  raw(messages: Uint8Array): Promise<Uint8Array>;
  /**
   * The statements run inside a pipeline's implicit transaction (session/pipeline-transaction.ts),
   * where no savepoint can undo what they did.
   */
  readonly pipeline?: boolean;
  /**
   * The same, as the backend's own role (session/roles.ts), for Orbit's statements on its cache
   * tables and its calls of the extension's internal functions (catalog/extension/privileges.ts)
   * alone, and to switch to a table's owner (asTableOwner): never for SQL that evaluates the user's
   * expressions. Absent: the session runs as it.
   */
  readonly owner?: InternalRunner;
  /**
   * What decides where the session's unqualified names resolve (its search_path and role settings):
   * resolutions read under one key hold for statements under the same key until the next DDL.
   * Absent: not known (settings changed and not read back since): names are resolved for each statement.
   */
  readonly searchKey?: string;
  /**
   * The key of the session settings its statements run under, when they are the session's own
   * (folded in at each hand-over of the backend) and the session runs as the backend's role: what
   * such a statement read under one key holds for another statement under the same key.
   */
  readonly settingsKey?: string;
}

/** `run` as the owner of Orbit's cache tables (see InternalRunner.owner). */
export function cacheRunner(run: InternalRunner): InternalRunner {
  return run.owner ?? run;
}

/**
 * `run` as `role`, switched to through the backend's role (InternalRunner.owner), for Orbit's writes
 * into a table on behalf of a session that may not write it directly: as the table's owner, so that
 * its own expressions (CHECK constraints, generated columns) run with no more rights than their
 * author's. Without an owner runner the session runs as the backend's role already: `run` itself.
 */
export function asTableOwner(run: InternalRunner, role: string): InternalRunner {
  const owner = run.owner;
  if (!owner) return run;
  const setRole = `SET LOCAL ROLE ${quoteIdent(role)}`;
  return { sql: (sql) => owner.sql(`${setRole}; ${sql}`), raw: (messages) => owner.raw(concatBytes([simpleQuery(setRole), messages])), owner };
}

export async function must(run: InternalRunner, sql: string): Promise<Uint8Array> {
  const out = await run.sql(sql);
  throwIfError(out);
  return out;
}

export function throwIfError(out: Uint8Array): void {
  const error = firstError(out);
  if (error) throw new OrbitError(error.C ?? SqlState.internal_error, error.M ?? 'columnstore operation failed', error.D ? { detail: error.D } : {});
}

export function textRows(out: Uint8Array): Array<Array<string | null>> {
  return scanBackend(out)
    .filter((f) => f.type === BackendMessage.DataRow)
    .map((f) => readDataRow(out.subarray(f.start + 5, f.end)));
}

export function jsonRows<T>(out: Uint8Array): T[] {
  return textRows(out).map((r) => JSON.parse(r[0] ?? 'null') as T);
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
