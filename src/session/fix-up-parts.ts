/**
 * @module session/fix-up-parts
 * A query string cut where the hypertable fix-up must run between its statements
 * (HypertableRouting.fixUpPoints): rows written to a hypertable get their chunks only from the
 * fix-up, so a later statement that works on chunks (show_chunks, compress_chunk, the chunk views)
 * runs after it, as in TimescaleDB, where each row gets its chunk as it is written. Also cut after
 * a statement that may change the session's search_path or role when a later one names a
 * hypertable without its schema (settingsCuts): Orbit learns where the name resolves only once the
 * change ran. The session runs the parts one after another inside one transaction, so the string
 * stays as atomic as PostgreSQL's implicit transaction makes it.
 */
import { OrbitError } from '../errors.js';
import type { ClassifiedStatement } from '../sql/classify.js';
import { SqlState } from '../sqlstate.js';
import { rewriteErrorField } from '../wire/protocol/backend.js';

export interface QueryPart {
  /** The part's text: whole statements of the string, as the client wrote them. */
  readonly sql: string;
  /** Where it starts in the string, in characters (for error positions). */
  readonly charOffset: number;
  /** The fix-up runs before this part. */
  readonly fixUpFirst: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * The parts of `sql` (the text the statements were parsed from) cut before each statement index in
 * `points` (the fix-up runs there first; a point at statement 0 only asks for it) and in `cuts`
 * (Backend.partCuts, which refuses those with transaction control itself). Refused (0A000) when
 * the string has fix-up points and its own transaction control: the parts could not share one
 * transaction then.
 */
export function fixUpParts(sql: string, statements: readonly ClassifiedStatement[], points: readonly number[], cuts: readonly number[] = []): QueryPart[] | OrbitError {
  const [point] = points;
  if (point !== undefined && statements.some((s) => s.kind === 'transaction')) {
    return new OrbitError(SqlState.feature_not_supported, 'a statement working on chunks cannot follow a write to a hypertable in a query string with transaction control in Orbit', {
      detail: `Rows written to a hypertable get their chunks between statements, which Orbit does inside one transaction; statement ${point + 1} would not see them.`,
      hint: 'Send the statements separately.',
    });
  }
  const bytes = encoder.encode(sql);
  const at = [...new Set([...points, ...cuts].filter((p) => p > 0))].sort((a, b) => a - b);
  const starts = [0, ...at];
  return starts.map((index, i) => {
    const from = index === 0 ? 0 : statements[index]!.byteOffset;
    const end = i + 1 < starts.length ? statements[starts[i + 1]!]!.byteOffset : bytes.length;
    return {
      sql: decoder.decode(bytes.subarray(from, end)),
      charOffset: decoder.decode(bytes.subarray(0, from)).length,
      fixUpFirst: points.includes(index),
    };
  });
}

/** Fix-up points of two sources, ascending, each once. */
export function mergePoints(a: readonly number[], b: readonly number[]): number[] {
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}

/**
 * Statement indexes to cut `statements` before: after each that may change a setting
 * (`changesSettings`) when a later statement names a relation `hypertable` says is one (with its
 * schema or not) or runs a prepared statement. Orbit plans such a statement before it runs: the
 * search_path and role say which relation a name is, and settings such as TimeZone what its
 * constants mean (a WHERE bound evaluated under the TimeZone before the SET excluded other rows).
 * Empty when no cut is needed.
 */
export function settingsCuts(statements: readonly ClassifiedStatement[], changesSettings: (s: ClassifiedStatement) => boolean, hypertable: (name: string) => boolean): number[] {
  const named = statements.map((s) => s.preparedName !== undefined || s.relations.some((r) => hypertable(r.name)));
  const cuts: number[] = [];
  statements.forEach((s, i) => {
    if (i + 1 < statements.length && changesSettings(s) && named.slice(i + 1).some(Boolean)) cuts.push(i + 1);
  });
  return cuts;
}

/** An ErrorResponse of a part with its cursor position counted in the whole string, as PostgreSQL gives it. */
export function wholeStringPosition(frame: Uint8Array, part: QueryPart): Uint8Array {
  if (part.charOffset === 0) return frame;
  return rewriteErrorField(frame, 'P', (p) => String(Number(p) + part.charOffset));
}
