/**
 * @module session/prepared-view
 * `pg_prepared_statements` as one session sees it. The backend's view lists every session's
 * statements under their backend names (`_orbit_<session>_<n>`, prepared-statements.ts), and Orbit's
 * own; a client's statement that reads it reads instead the rows of its own session's statements,
 * under the names and with the text the client gave them.
 */
import type { ClassifiedStatement } from '../sql/classify.js';
import { scanSql } from '../sql/parser.js';
import { walk, type Node } from '../sql/rewrite/ast.js';
import { escapeLiteral } from './settings.js';

/** One of the session's named statements: its backend name, the client's name and text. */
export interface SessionStatement {
  readonly backendName: string;
  readonly clientName: string;
  readonly text: string;
}

const VIEW = 'pg_prepared_statements';


/** The session's rows of pg_prepared_statements, with the view's columns and types. */
export function preparedStatementsSql(statements: readonly SessionStatement[]): string {
  const mine =
    statements.length > 0
      ? `(VALUES ${statements.map((s) => `(${escapeLiteral(s.backendName)}, ${escapeLiteral(s.clientName)}, ${escapeLiteral(s.text)})`).join(', ')})`
      : '(SELECT NULL::text, NULL::text, NULL::text WHERE false)';
  return (
    'SELECT m.name, m.statement, p.prepare_time, p.parameter_types, p.result_types, p.from_sql, p.generic_plans, p.custom_plans ' +
    `FROM pg_catalog.${VIEW} p JOIN ${mine} AS m (backend_name, name, statement) ON p.name = m.backend_name`
  );
}

function isView(rv: { schemaname?: string; relname?: string }): boolean {
  return rv.relname === VIEW && (rv.schemaname === undefined || rv.schemaname === 'pg_catalog');
}

/** Whether `s` reads pg_prepared_statements (by name, in the statement's own text). */
export function readsPreparedStatements(s: ClassifiedStatement): boolean {
  return s.relations.some((r) => isView({ schemaname: r.schema, relname: r.name }));
}

/**
 * Splice edits that put the session's rows (`view()`, built only when needed) in place of every
 * `[pg_catalog.]pg_prepared_statements` a statement reads; an alias the client gave stays its alias.
 */
export function preparedViewEdits(sql: string, statements: readonly ClassifiedStatement[], view: () => string): Array<{ start: number; end: number; text: string }> {
  const found: Array<{ location: number; aliased: boolean }> = [];
  for (const s of statements) {
    if (!readsPreparedStatements(s)) continue;
    walk(
      s.node,
      (n: Node, type: string) => {
        if (type !== 'RangeVar') return;
        const rv = n.RangeVar as { schemaname?: string; relname?: string; location?: number; alias?: unknown };
        if (isView(rv) && rv.location !== undefined && rv.location >= 0) found.push({ location: rv.location, aliased: rv.alias !== undefined });
      },
      true,
    );
  }
  if (found.length === 0) return [];
  const tokens = scanSql(sql);
  const text = view();
  return found.flatMap(({ location, aliased }) => {
    const i = tokens.findIndex((t) => t.start === location);
    if (i < 0) return [];
    const qualified = tokens[i + 1]?.text === '.';
    const end = tokens[qualified ? i + 2 : i]?.end;
    if (end === undefined) return [];
    return [{ start: location, end, text: aliased ? `(${text})` : `(${text}) AS ${VIEW}` }];
  });
}
