/**
 * @module edge/statements
 * The edge's statements, parsed a piece at a time when the text is large (src/sql/split.ts says
 * why): a large text is cut into statements, each parsed only when it runs, and a large multi-row
 * INSERT into groups of rows, each parsed when its rows are converted. Small texts are parsed whole,
 * as before. As in PostgreSQL, a syntax error anywhere in a multi-statement text runs none of it:
 * such a text is checked piece by piece first. Syntax error positions count from the start of the
 * whole text.
 */
import { OrbitError } from '../errors.js';
import { parseSql, type ParsedStatement } from '../sql/parser.js';
import { groupPosition, groupText, splitStatements, splitValues, type ValuesSplit } from '../sql/split.js';
import type { Node } from './expr.js';

/** Texts up to this many characters are parsed whole. */
export const SPLIT_CHARS = 64 << 10;
/** About this many characters of rows per parsed group of a large INSERT. */
export const GROUP_CHARS = 32 << 10;

export interface EdgeStatement {
  readonly type: string;
  /** The statement's node; for a split INSERT, its first group's (same target, clauses and tail). */
  readonly node: Node;
  /** A split multi-row INSERT: its rows' value lists, one parsed group after another. */
  readonly valueGroups?: () => Iterable<Node[]>;
  /** The same statement parsed whole (when a group does not parse to the rows the split expected). */
  readonly whole?: () => EdgeStatement;
}

export interface EdgeStatements {
  readonly count: number;
  readonly statements: Iterable<EdgeStatement>;
}

/** A group of a split INSERT did not parse to its rows: the caller runs the statement parsed whole. */
export class SplitMismatch extends Error {}

const toEdge = (s: ParsedStatement): EdgeStatement => ({ type: s.type, node: s.node as Node });

/** Parses `text`, shifting syntax error positions by `offset` characters (or through `map`). */
function parseAt(text: string, offset: number, map?: (p: number) => number): ParsedStatement[] {
  try {
    return parseSql(text);
  } catch (err) {
    if (err instanceof OrbitError && err.position !== undefined) {
      const position = (map ? map(err.position) : err.position) + offset;
      throw new OrbitError(err.code, err.message, { position, detail: err.detail, hint: err.hint, cause: err });
    }
    throw err;
  }
}

function groupNodes(stmt: string, split: ValuesSplit, g: number, offset: number): Node[] {
  const parsed = parseAt(groupText(stmt, split, g), offset, (p) => groupPosition(split, g, p));
  const insert = parsed.length === 1 && parsed[0]!.type === 'InsertStmt' ? parsed[0]!.node : undefined;
  const lists = (((insert?.selectStmt as Node | undefined)?.SelectStmt as Node | undefined)?.valuesLists as Node[] | undefined) ?? [];
  if (lists.length !== split.groups[g]!.rows) throw new SplitMismatch(`group ${g} parsed to ${lists.length} rows, not ${split.groups[g]!.rows}`);
  return lists;
}

/** One statement's text (at `offset` in the whole text), split into row groups when it is a large INSERT. */
function statementOf(stmt: string, offset: number): EdgeStatement | undefined {
  const whole = (): EdgeStatement => {
    const [s, extra] = parseAt(stmt, offset);
    if (!s || extra) throw new SplitMismatch('the statement text did not parse to one statement');
    return toEdge(s);
  };
  const split = stmt.length > SPLIT_CHARS ? splitValues(stmt, GROUP_CHARS) : undefined;
  if (!split || split.groups.length < 2) return whole();
  const first = parseAt(groupText(stmt, split, 0), offset, (p) => groupPosition(split, 0, p));
  if (first.length !== 1 || first[0]!.type !== 'InsertStmt') return whole();
  return {
    type: 'InsertStmt',
    node: first[0]!.node as Node,
    valueGroups: function* () {
      for (let g = 0; g < split.groups.length; g++) yield groupNodes(stmt, split, g, offset);
    },
    whole,
  };
}

/** Checks the syntax of every piece (every group of a split INSERT) without keeping any tree. */
function checkSyntax(sql: string, ranges: ReadonlyArray<[number, number]>): void {
  for (const [start, end] of ranges) {
    const stmt = sql.slice(start, end);
    const split = stmt.length > SPLIT_CHARS ? splitValues(stmt, GROUP_CHARS) : undefined;
    if (!split) parseAt(stmt, start);
    else for (let g = 0; g < split.groups.length; g++) parseAt(groupText(stmt, split, g), start, (p) => groupPosition(split, g, p));
  }
}

/** The statements of `sql`, parsed as they are reached when the text is large. */
export function edgeStatements(sql: string): EdgeStatements {
  const ranges = sql.length > SPLIT_CHARS ? splitStatements(sql) : undefined;
  if (!ranges) {
    const parsed = parseSql(sql);
    return { count: parsed.length, statements: parsed.map(toEdge) };
  }
  if (ranges.length > 1) checkSyntax(sql, ranges);
  return {
    count: ranges.length,
    statements: (function* () {
      for (const [start, end] of ranges) {
        const s = statementOf(sql.slice(start, end), start);
        if (s) yield s;
      }
    })(),
  };
}
