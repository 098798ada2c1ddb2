/**
 * @module session/simple-query
 * Plans a simple Query message for a session: run as is (after Orbit's rewrites, session/rewrite.ts),
 * with the session's prepared-statement names put in, handled as COPY FROM STDIN, or refused.
 */
import type { OrbitError } from '../errors.js';
import { OrbitError as Err } from '../errors.js';
import type { ClassifiedStatement } from '../sql/classify.js';
import { scanSql, spliceSql } from '../sql/parser.js';
import { SqlState } from '../sqlstate.js';
import { rewriteEdits } from '../sql/rewrite/index.js';
import { findStableBounds, type StableBounds } from '../sql/rewrite/stable-bounds.js';
import { refusal } from './refusals.js';
import { backendText } from './rewrite.js';
import { preparedViewEdits } from './prepared-view.js';
import { checkAuthorization, type LoginRole } from './roles.js';

export type SimpleQueryPlan =
  | {
      readonly kind: 'run';
      readonly sql: string;
      readonly statements: readonly ClassifiedStatement[];
      /** SQL PREPAREs to replay first (another session's DEALLOCATE ALL dropped them). */
      readonly prelude: readonly string[];
      /** Command tags to restore, by statement index, for statements Orbit rewrote. */
      readonly tags?: ReadonlyMap<number, string>;
      /** A single SELECT with now()-style lower bounds Orbit can make constant (sql/rewrite/stable-bounds). */
      readonly bounds?: StableBounds;
    }
  | { readonly kind: 'copy-in'; readonly statement: ClassifiedStatement }
  | { readonly kind: 'reject'; readonly error: OrbitError };

/** What planning needs from the session. */
export interface PlanningSession {
  /** The role the session logged in as (session/roles.ts). */
  readonly login: LoginRole;
  /** The backend name of a statement; `prepareSql(backendName)` makes the PREPARE that creates it. */
  backendStatementName(clientName: string, create: boolean, prepareSql?: (backendName: string) => string, clientText?: string): string;
  /** The session's rows of pg_prepared_statements (session/prepared-view.ts). */
  preparedStatementsSql(): string;
  /** The PREPARE to re-run before an EXECUTE of this statement, if it was dropped from the backend. */
  replayFor(clientName: string): string | undefined;
}

export function planSimpleQuery(original: string, session: PlanningSession): SimpleQueryPlan {
  const text = backendText(original);
  if (!text.ok) return { kind: 'reject', error: text.error };
  const { sql, analysis } = text;
  // Text PostgreSQL cannot parse goes to PostgreSQL unchanged, so the client gets its exact error.
  if (!analysis.ok) return { kind: 'run', sql, statements: [], prelude: [] };
  const statements: ClassifiedStatement[] = [];
  for (const s of analysis.statements) {
    const problem = refusal(s, 'simple');
    if (problem) return { kind: 'reject', error: problem };
    const checked = checkAuthorization(s, session.login);
    if (checked instanceof Err) return { kind: 'reject', error: checked };
    statements.push(checked);
  }
  const copyIn = statements.findIndex((s) => s.kind === 'copy' && s.copy?.from && s.copy.stdio);
  if (copyIn >= 0) {
    if (statements.length === 1) return { kind: 'copy-in', statement: statements[0]! };
    return {
      kind: 'reject',
      error: new Err(SqlState.feature_not_supported, 'COPY FROM STDIN inside a multi-statement query string is not supported by Orbit', {
        hint: 'Send the COPY statement on its own.',
      }),
    };
  }
  const prelude = statements
    .filter((s) => s.preparedName !== undefined && s.kind !== 'prepare' && s.kind !== 'deallocate')
    .map((s) => session.replayFor(s.preparedName!))
    .filter((x): x is string => x !== undefined);
  const edits = [...sessionEdits(sql, statements, session), ...rewriteEdits(statements)];
  const tags = new Map(statements.flatMap((s, i) => (s.rewrite?.commandTag ? [[i, s.rewrite.commandTag] as const] : [])));
  // Byte offsets of the bounds are the analysed text's: only when nothing else edited it.
  const bounds = edits.length === 0 && statements.length === 1 ? findStableBounds(statements[0]!.type, statements[0]!.node) : undefined;
  return {
    kind: 'run',
    sql: edits.length > 0 ? spliceSql(sql, edits) : sql,
    statements,
    prelude,
    ...(tags.size > 0 ? { tags } : {}),
    ...(bounds ? { bounds } : {}),
  };
}

/**
 * Puts the session's backend names in place of prepared-statement names in PREPARE, EXECUTE and
 * DEALLOCATE, token-exactly (PostgreSQL's own lexer finds the name token), and the session's own
 * rows in place of pg_prepared_statements.
 */
export function rewriteStatementNames(sql: string, statements: readonly ClassifiedStatement[], session: PlanningSession): string {
  const edits = sessionEdits(sql, statements, session);
  return edits.length > 0 ? spliceSql(sql, edits) : sql;
}

function sessionEdits(sql: string, statements: readonly ClassifiedStatement[], session: PlanningSession): Edit[] {
  return [...statementNameEdits(sql, statements, session), ...preparedViewEdits(sql, statements, () => session.preparedStatementsSql())];
}

type Edit = { start: number; end: number; text: string };

function statementNameEdits(sql: string, statements: readonly ClassifiedStatement[], session: PlanningSession): Edit[] {
  const named = statements.filter((s) => s.preparedName !== undefined);
  if (named.length === 0) return [];
  const tokens = scanSql(sql);
  const edits: Edit[] = [];
  for (const s of named) {
    // The name follows the statement's first token (PREPARE, EXECUTE, DEALLOCATE), or the EXECUTE
    // keyword inside EXPLAIN EXECUTE / CREATE TABLE … AS EXECUTE.
    const direct = s.kind === 'prepare' || s.kind === 'execute' || s.kind === 'deallocate';
    let i = tokens.findIndex((t) => t.start >= s.byteOffset && (direct || t.text.toLowerCase() === 'execute'));
    if (i < 0) continue;
    i++;
    if (s.kind === 'deallocate' && tokens[i]?.text.toLowerCase() === 'prepare') i++;
    const token = tokens[i];
    if (!token) continue;
    const name = session.backendStatementName(s.preparedName!, s.kind === 'prepare', s.kind === 'prepare' ? (backend) => renamePrepare(s.text, backend) : undefined, s.text);
    if (name !== s.preparedName) edits.push({ start: token.start, end: token.end, text: `"${name}"` });
  }
  return edits;
}

/** `PREPARE name …` with the backend name in place of the client's (for replays). */
function renamePrepare(text: string, backendName: string): string {
  const token = scanSql(text)[1];
  return token ? spliceSql(text, [{ start: token.start, end: token.end, text: `"${backendName}"` }]) : text;
}
