/**
 * @module session/statement-cache
 * Parses and classifies SQL once per distinct text: drivers send the same few statements over and
 * over, and a parse costs 0.1–1 ms. Bounded, least-recently-used.
 */
import { classify, type ClassifiedStatement } from '../sql/classify.js';
import { parseSql } from '../sql/parser.js';

/** Statements of a SQL string, or the parser's error when PostgreSQL will reject the text anyway. */
export type Analysis = { readonly ok: true; readonly statements: ClassifiedStatement[] } | { readonly ok: false; readonly error: unknown };

const MAX_ENTRIES = 2000;
/** Multi-row INSERTs and other huge texts are analysed but not cached (their ASTs are large). */
const MAX_CACHED_TEXT = 8192;
const cache = new Map<string, Analysis>();

export function analyse(sql: string): Analysis {
  const hit = cache.get(sql);
  if (hit) {
    cache.delete(sql);
    cache.set(sql, hit);
    return hit;
  }
  let result: Analysis;
  try {
    result = { ok: true, statements: parseSql(sql).map(classify) };
  } catch (error) {
    result = { ok: false, error };
  }
  if (sql.length <= MAX_CACHED_TEXT) {
    cache.set(sql, result);
    if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  }
  return result;
}
