/**
 * @module session/columnstore/executed-statements
 * What an `EXECUTE name` (alone, or under EXPLAIN / CREATE TABLE … AS) runs, as PostgreSQL holds
 * it: the statement read from `pg_prepared_statements` by name, not remembered from a PREPARE Orbit
 * saw. PostgreSQL keeps a prepared statement outside transactions (a PREPARE or DEALLOCATE rolled
 * back stays done), a PREPARE that fails (42P05, an unknown function) keeps the statement before
 * it, and DEALLOCATE [ALL] / DISCARD ALL drop them: reading the catalog mirrors all of it, and a
 * statement prepared by a Parse message (EXECUTE runs those too).
 *
 * An EXECUTE after a PREPARE of its name in the same text runs that PREPARE's statement (the text
 * stops at the first statement that fails). The catalog gives a SQL PREPARE's whole query string:
 * when it holds several PREPAREs of the name, each counts (errs on the side of refusing). What was
 * read is kept until a statement prepares, deallocates or discards (Columnstore.note) or the
 * metadata goes stale.
 */
import { OrbitError } from '../../errors.js';
import type { ClassifiedStatement } from '../../sql/classify.js';
import { SqlState } from '../../sqlstate.js';
import { analyse } from '../statement-cache.js';
import { quoteLiteral } from '../settings.js';
import { firstError, textRows, type InternalRunner } from '../internal-sql.js';

/** How many EXECUTEs of Parse messages' EXECUTEs are followed. */
const MAX_DEPTH = 4;

export class ExecutedStatements {
  /** By backend name: the statements read from the catalog (none: no such prepared statement). */
  private readonly read = new Map<string, readonly ClassifiedStatement[]>();
  /** Per EXECUTE of the statements last loaded: what it runs. */
  private readonly resolved = new WeakMap<ClassifiedStatement, readonly ClassifiedStatement[]>();

  /** Statements about to run or that ran: one that prepares, deallocates or discards drops what was read. */
  note(statements: readonly ClassifiedStatement[]): void {
    if (statements.some(changesPrepared)) this.read.clear();
  }

  forget(): void {
    this.read.clear();
  }

  /**
   * Resolves each EXECUTE of `statements` (about to run in this order, as one text): the PREPARE
   * of its name earlier in them, or the catalog's statement (one round trip for those not kept).
   * A failed read (an aborted transaction) is the statement's error.
   */
  async load(run: InternalRunner, statements: readonly ClassifiedStatement[]): Promise<void> {
    let pending: Array<[ClassifiedStatement, string]> = [];
    statements.forEach((s, i) => {
      const name = executedName(s);
      if (name === undefined) return;
      const earlier = inText(statements.slice(0, i), name);
      if (earlier) this.resolved.set(s, earlier);
      else pending.push([s, name]);
    });
    // A Parse message's statement may itself be an EXECUTE: followed a few levels down.
    for (let depth = 0; pending.length > 0; depth++) {
      if (depth === MAX_DEPTH) throw new OrbitError(SqlState.feature_not_supported, `EXECUTE of a prepared statement that EXECUTEs others ${MAX_DEPTH} levels deep is not supported by Orbit`);
      const found = await this.readNames(run, [...new Set(pending.map(([, name]) => name))]);
      for (const [s, name] of pending) this.resolved.set(s, found.get(name) ?? []);
      pending = pending.flatMap(([, name]) => (found.get(name) ?? []).flatMap((e) => (executedName(e) === undefined ? [] : [[e, executedName(e)!] as [ClassifiedStatement, string]])));
    }
  }

  /** The catalog's statements of `names` (those not kept read now; a name without a statement is not kept: a function may prepare it). */
  private async readNames(run: InternalRunner, names: readonly string[]): Promise<Map<string, readonly ClassifiedStatement[]>> {
    const missing = names.filter((name) => !this.read.has(name));
    if (missing.length > 0) {
      const sql = `SELECT name, statement, from_sql FROM pg_prepared_statements WHERE name IN (${missing.map(quoteLiteral).join(', ')})`;
      const out = await run.sql(sql);
      const error = firstError(out);
      if (error) throw new OrbitError(error.C ?? SqlState.internal_error, error.M ?? 'could not read prepared statements', error.D ? { detail: error.D } : {});
      for (const [name, text, fromSql] of textRows(out)) this.read.set(name!, stored(name!, text ?? '', fromSql === 't'));
    }
    return new Map(names.flatMap((name) => (this.read.has(name) ? [[name, this.read.get(name)!]] : [])));
  }

  /**
   * What an EXECUTE-like statement runs (each candidate; none when there is no such statement);
   * undefined for other statements. Throws when `s` was not loaded: unchecked would be unsafe.
   */
  of(s: ClassifiedStatement): readonly ClassifiedStatement[] | undefined {
    if (executedName(s) === undefined) return undefined;
    const found = this.resolved.get(s);
    if (!found) throw new OrbitError(SqlState.internal_error, `the statement prepared as "${executedName(s)}" was not read before its EXECUTE was checked`);
    return found;
  }
}

/** The prepared statement `s` runs: EXECUTE name, and EXPLAIN … / CREATE TABLE … AS EXECUTE name. */
export function executedName(s: ClassifiedStatement): string | undefined {
  if (s.type === 'ExecuteStmt') return String(s.node.name);
  return s.type === 'ExplainStmt' || s.type === 'CreateTableAsStmt' ? s.preparedName : undefined;
}

function changesPrepared(s: ClassifiedStatement): boolean {
  return s.type === 'PrepareStmt' || s.type === 'DeallocateStmt' || (s.type === 'DiscardStmt' && s.node.target === 'DISCARD_ALL');
}

/** A PREPARE's query as a statement of its own. */
function inner(s: ClassifiedStatement): ClassifiedStatement | undefined {
  const query = s.node.query as Record<string, Record<string, unknown>> | undefined;
  const type = query ? Object.keys(query)[0] : undefined;
  return type ? { ...s, type, node: query![type]! } : undefined;
}

/** What `name` is in `before` (statements ahead of an EXECUTE in its text): the last PREPARE of it, none after a DEALLOCATE, undefined if not named. */
function inText(before: readonly ClassifiedStatement[], name: string): readonly ClassifiedStatement[] | undefined {
  for (let i = before.length - 1; i >= 0; i--) {
    const s = before[i]!;
    if (s.type === 'PrepareStmt' && String(s.node.name) === name) return [inner(s)].filter((x) => x !== undefined);
    if ((s.type === 'DeallocateStmt' && (s.preparedName === undefined || s.preparedName === name)) || (s.type === 'DiscardStmt' && s.node.target === 'DISCARD_ALL')) return [];
  }
  return undefined;
}

/** The statements `pg_prepared_statements` holds for `name`: the query a Parse gave, or every PREPARE of the name in the text. */
function stored(name: string, text: string, fromSql: boolean): readonly ClassifiedStatement[] {
  const analysis = analyse(text);
  if (!analysis.ok) throw new OrbitError(SqlState.internal_error, `the text of prepared statement "${name}" does not parse`);
  if (!fromSql) return analysis.statements;
  return analysis.statements.filter((s) => s.type === 'PrepareStmt' && String(s.node.name) === name).flatMap((s) => [inner(s)].filter((x) => x !== undefined));
}
