/**
 * @module sql/deparse
 * pgsql-deparser's `deparseSync`, with the names of named arguments quoted where PostgreSQL would
 * read them otherwise: the deparser prints a NamedArgExpr's name as is, so
 * `time_bucket(…, "offset" => …)` came back as `offset => …` (a syntax error: a reserved word) and
 * `"Mixed" => …` as `Mixed => …` (folded to lower case). Only a tree holding such a name is copied.
 */
import { deparseSync as deparseTree, QuoteUtils } from 'pgsql-deparser';

type Options = Parameters<typeof deparseTree>[1];

/** A name PostgreSQL reads back as itself only when quoted. */
function needsQuotes(name: string): boolean {
  return QuoteUtils.quoteIdentifier(name) !== name;
}

function hasQuotableNamedArg(n: unknown): boolean {
  if (Array.isArray(n)) return n.some(hasQuotableNamedArg);
  if (n === null || typeof n !== 'object') return false;
  const named = (n as { NamedArgExpr?: { name?: string } }).NamedArgExpr;
  if (named?.name !== undefined && needsQuotes(named.name)) return true;
  return Object.values(n).some(hasQuotableNamedArg);
}

function quoteNamedArgs(n: unknown): void {
  if (Array.isArray(n)) return n.forEach(quoteNamedArgs);
  if (n === null || typeof n !== 'object') return;
  const named = (n as { NamedArgExpr?: { name?: string } }).NamedArgExpr;
  if (named?.name !== undefined && needsQuotes(named.name)) named.name = QuoteUtils.quoteIdentifier(named.name);
  for (const v of Object.values(n)) quoteNamedArgs(v);
}

export function deparseSync(node: Parameters<typeof deparseTree>[0], options?: Options): string {
  if (!hasQuotableNamedArg(node)) return deparseTree(node, options);
  const copy = structuredClone(node);
  quoteNamedArgs(copy);
  return deparseTree(copy, options);
}
