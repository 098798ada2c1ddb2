/**
 * @module session/rewrite
 * The text PostgreSQL runs for a client's SQL string: Orbit's rewrites applied to the statements
 * that need them (today gap-filling queries, src/sql/rewrite/gapfill.ts), every other statement left
 * byte for byte as the client sent it. One function serves the simple query, extended Parse and
 * in-process paths. Only strings whose statements call `time_bucket_gapfill` are parsed further.
 * (Statements replaced whole, which keep the client's command tag — CREATE TABLE … WITH, ALTER TABLE
 * … SET (timescaledb.…) — are the other kind of rewrite: sql/rewrite/index.ts, applied on the text
 * this returns.)
 */
import { deparseSync } from '../sql/deparse.js';
import { OrbitError } from '../errors.js';
import type { ClassifiedStatement } from '../sql/classify.js';
import { spliceSql } from '../sql/parser.js';
import { callsChunkCutoffs, rewriteChunkCutoffs } from '../sql/rewrite/chunk-cutoffs.js';
import { rewriteGapfill } from '../sql/rewrite/gapfill.js';
import { analyse, type Analysis } from './statement-cache.js';

export type BackendText =
  | { readonly ok: true; readonly sql: string; readonly analysis: Analysis }
  | { readonly ok: false; readonly error: OrbitError };

const MAX_ENTRIES = 200;
/** Rewritten texts by original text: drivers send the same gapfill query again and again. */
const cache = new Map<string, BackendText>();
const encoder = new TextEncoder();

export function backendText(sql: string): BackendText {
  const analysis = analyse(sql);
  if (!analysis.ok || !analysis.statements.some(needsRewrite)) return { ok: true, sql, analysis };
  const hit = cache.get(sql);
  if (hit) return hit;
  let result: BackendText;
  try {
    const bytes = encoder.encode(sql);
    const edits = analysis.statements.flatMap((s) => {
      if (!needsRewrite(s)) return [];
      const gapfilled = s.functions.includes('time_bucket_gapfill') ? rewriteGapfill(s.type, s.node) : undefined;
      const node = rewriteChunkCutoffs(gapfilled ?? { [s.type]: s.node }) ?? gapfilled;
      return node ? [{ ...statementRange(bytes, s), text: deparseSync(node as never, { pretty: false }) }] : [];
    });
    const text = edits.length > 0 ? spliceSql(sql, edits) : sql;
    result = { ok: true, sql: text, analysis: text === sql ? analysis : analyse(text) };
  } catch (err) {
    if (!(err instanceof OrbitError)) throw err;
    result = { ok: false, error: err };
  }
  cache.set(sql, result);
  if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  return result;
}

function needsRewrite(s: ClassifiedStatement): boolean {
  return s.functions.includes('time_bucket_gapfill') || callsChunkCutoffs(s.functions, s.type, s.text);
}

/** Byte range of a statement's text (the parser's offset may include the whitespace before it). */
export function statementRange(bytes: Uint8Array, s: ClassifiedStatement): { start: number; end: number } {
  let start = s.byteOffset;
  while (start < bytes.length && (bytes[start] === 0x20 || (bytes[start]! >= 0x09 && bytes[start]! <= 0x0d))) start++;
  return { start, end: start + encoder.encode(s.text).length };
}
