/**
 * @module session/fix-up-parts
 * A query string cut where the hypertable fix-up must run between its statements
 * (HypertableRouting.fixUpPoints): rows written to a hypertable get their chunks only from the
 * fix-up, so a later statement that works on chunks (show_chunks, compress_chunk, the chunk views)
 * runs after it, as in TimescaleDB, where each row gets its chunk as it is written. The session runs
 * the parts one after another inside one transaction, so the string stays as atomic as PostgreSQL's
 * implicit transaction makes it.
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
 * `points`; a point at statement 0 only asks for the fix-up first. Refused (0A000) when the string
 * has its own transaction control: the parts could not share one transaction then.
 */
export function fixUpParts(sql: string, statements: readonly ClassifiedStatement[], points: readonly number[]): QueryPart[] | OrbitError {
  if (statements.some((s) => s.kind === 'transaction')) {
    return new OrbitError(SqlState.feature_not_supported, 'a statement working on chunks cannot follow a write to a hypertable in a query string with transaction control in Orbit', {
      detail: `Rows written to a hypertable get their chunks between statements, which Orbit does inside one transaction; statement ${points[0]! + 1} would not see them.`,
      hint: 'Send the statements separately.',
    });
  }
  const bytes = encoder.encode(sql);
  const cuts = points.filter((p) => p > 0).map((p) => statements[p]!.byteOffset);
  const starts = [0, ...cuts];
  return starts.map((start, i) => {
    const end = i + 1 < starts.length ? starts[i + 1]! : bytes.length;
    return {
      sql: decoder.decode(bytes.subarray(start, end)),
      charOffset: decoder.decode(bytes.subarray(0, start)).length,
      fixUpFirst: i > 0 || points[0] === 0,
    };
  });
}

/** An ErrorResponse of a part with its cursor position counted in the whole string, as PostgreSQL gives it. */
export function wholeStringPosition(frame: Uint8Array, part: QueryPart): Uint8Array {
  if (part.charOffset === 0) return frame;
  return rewriteErrorField(frame, 'P', (p) => String(Number(p) + part.charOffset));
}
