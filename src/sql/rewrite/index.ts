/**
 * @module sql/rewrite
 * Statements Orbit rewrites before PostgreSQL sees them: TimescaleDB syntax that PostgreSQL's own
 * grammar or catalog rejects. Rewrites depend on the statement text alone, so they are computed once
 * per distinct text with its classification (session/statement-cache) and used by every path:
 * simple query, extended Parse and the in-process API.
 */
import { rewriteCreateTableWith } from './create-table-with.js';
import type { StatementRewrite } from './types.js';

export type { StatementRewrite } from './types.js';

export function rewriteStatement(type: string, node: Record<string, unknown>): StatementRewrite | undefined {
  if (type === 'CreateStmt' && node.options !== undefined) return rewriteCreateTableWith(node);
  return undefined;
}

/** Splice edits that replace every rewritten statement of a parsed string with its rewrite. */
export function rewriteEdits(
  statements: ReadonlyArray<{ readonly rewrite?: StatementRewrite; readonly byteOffset: number; readonly byteLength: number }>,
): Array<{ start: number; end: number; text: string }> {
  return statements.filter((s) => s.rewrite).map((s) => ({ start: s.byteOffset, end: s.byteOffset + s.byteLength, text: ` ${s.rewrite!.sql}` }));
}
