/**
 * @module sql/split
 * Cuts SQL text at statement boundaries, and a multi-row `INSERT … VALUES` at row boundaries, without
 * building a parse tree, so the edge can hand PostgreSQL's parser one small piece at a time. The
 * parser's answer for a 10,000-row INSERT is a JSON tree of a few hundred thousand objects, and the
 * parser's WASM memory grows to hold it and never shrinks: both count against a Durable Object's
 * 128 MB (docs/runtimes/workers.md, "Memory").
 *
 * Hand-written because libpg-query's own scanner (`scanSync`) answers with one JS object per token,
 * which costs as much memory as the tree. This scanner only has to know what can hide a `;`, `(`,
 * `)` or `,` from PostgreSQL's lexer: quoted strings ('' doubling, and backslashes in E'' strings),
 * quoted identifiers, dollar quotes, `--` and nested `/* *\/` comments. Whenever it is unsure
 * (an unterminated quote or comment, a lone `$`, a SQL-standard function body with BEGIN ATOMIC) it
 * answers `undefined` and the caller parses the whole text as before. Every piece is still parsed by
 * PostgreSQL's parser, and the caller checks the row count of each piece it parses.
 */

/** What the scanner reports: keywords/identifiers, quoted identifiers, punctuation, anything else. */
export type TokenKind = 'word' | 'ident' | '(' | ')' | ',' | ';' | 'other';

const isIdentStart = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isIdentCont = (c: number): boolean => isIdentStart(c) || isDigit(c) || c === 36;
const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;

/**
 * Calls `on` for every token of `sql[from, to)` outside comments and whitespace; `on` returns false to
 * stop early. Returns false when unsure of the lexing (see the module comment), true otherwise.
 */
export function scanTokens(sql: string, from: number, to: number, on: (kind: TokenKind, start: number, end: number) => boolean | void): boolean {
  let i = from;
  let wordStart = -1;
  let wordEnd = -1;
  while (i < to) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const next = i + 1 < to ? sql.charCodeAt(i + 1) : -1;
    if (c === 45 && next === 45) {
      // -- comment to the end of the line
      const nl = sql.indexOf('\n', i);
      i = nl < 0 || nl >= to ? to : nl + 1;
      continue;
    }
    if (c === 47 && next === 42) {
      // /* comment */, nested as in PostgreSQL
      let depth = 1;
      i += 2;
      while (depth > 0) {
        if (i + 1 >= to) return false;
        const a = sql.charCodeAt(i);
        const b = sql.charCodeAt(i + 1);
        if (a === 47 && b === 42) {
          depth++;
          i += 2;
        } else if (a === 42 && b === 47) {
          depth--;
          i += 2;
        } else i++;
      }
      continue;
    }
    const start = i;
    if (c === 39) {
      // 'string': backslash escapes only right after a lone E/e prefix (E'…'), '' doubling always.
      const escapes = wordEnd === i && wordEnd - wordStart === 1 && (sql.charCodeAt(wordStart) | 32) === 101;
      i++;
      for (;;) {
        if (i >= to) return false;
        const d = sql.charCodeAt(i);
        if (escapes && d === 92) {
          i += 2;
          continue;
        }
        if (d === 39) {
          if (i + 1 < to && sql.charCodeAt(i + 1) === 39) {
            i += 2;
            continue;
          }
          i++;
          break;
        }
        i++;
      }
      if (on('other', start, i) === false) return true;
      continue;
    }
    if (c === 34) {
      // "quoted identifier" with "" doubling
      i++;
      for (;;) {
        if (i >= to) return false;
        if (sql.charCodeAt(i) === 34) {
          if (i + 1 < to && sql.charCodeAt(i + 1) === 34) {
            i += 2;
            continue;
          }
          i++;
          break;
        }
        i++;
      }
      if (on('ident', start, i) === false) return true;
      continue;
    }
    if (c === 36) {
      if (isDigit(next)) {
        // $n parameter
        i++;
        while (i < to && isDigit(sql.charCodeAt(i))) i++;
        if (on('other', start, i) === false) return true;
        continue;
      }
      // $tag$ … $tag$ (the tag: an identifier without $, or empty)
      let j = i + 1;
      if (j < to && isIdentStart(sql.charCodeAt(j))) {
        j++;
        while (j < to && isIdentCont(sql.charCodeAt(j)) && sql.charCodeAt(j) !== 36) j++;
      }
      if (j >= to || sql.charCodeAt(j) !== 36) return false;
      const tag = sql.slice(i, j + 1);
      const close = sql.indexOf(tag, j + 1);
      if (close < 0 || close + tag.length > to) return false;
      i = close + tag.length;
      if (on('other', start, i) === false) return true;
      continue;
    }
    if (isIdentStart(c)) {
      i++;
      while (i < to && isIdentCont(sql.charCodeAt(i))) i++;
      wordStart = start;
      wordEnd = i;
      if (on('word', start, i) === false) return true;
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(next))) {
      // Numbers, including 1.5e10, 0x1F and 1_000 (an exponent's sign is an operator here; it does not matter).
      i++;
      while (i < to) {
        const d = sql.charCodeAt(i);
        if (!(isDigit(d) || isIdentStart(d) || d === 46)) break;
        i++;
      }
      if (on('other', start, i) === false) return true;
      continue;
    }
    i++;
    const kind: TokenKind = c === 40 ? '(' : c === 41 ? ')' : c === 44 ? ',' : c === 59 ? ';' : 'other';
    if (on(kind, start, i) === false) return true;
  }
  return true;
}

const wordIs = (sql: string, start: number, end: number, upper: string): boolean =>
  end - start === upper.length && sql.slice(start, end).toUpperCase() === upper;

/**
 * The statements of `sql` as [start, end) ranges (without their `;`), skipping empty ones; undefined
 * when unsure (the caller parses the whole text).
 */
export function splitStatements(sql: string): Array<[number, number]> | undefined {
  const out: Array<[number, number]> = [];
  let depth = 0;
  let start = 0;
  let content = false;
  let atomic = false;
  const sure = scanTokens(sql, 0, sql.length, (kind, s, e) => {
    if (kind === 'word' && wordIs(sql, s, e, 'ATOMIC')) {
      atomic = true;
      return false;
    }
    if (kind === '(') depth++;
    else if (kind === ')') depth--;
    if (kind === ';' && depth === 0) {
      if (content) out.push([start, s]);
      start = e;
      content = false;
      return;
    }
    content = true;
  });
  if (!sure || atomic) return undefined;
  if (content) out.push([start, sql.length]);
  return out;
}

/** A multi-row INSERT cut into groups of whole rows: each group is parsed as `head + rows + tail`. */
export interface ValuesSplit {
  /** The statement up to and including VALUES. */
  readonly head: string;
  /** Whatever follows the last row (ON CONFLICT, RETURNING, blanks). */
  readonly tail: string;
  /** Where the tail starts in the statement text. */
  readonly tailStart: number;
  /** Groups of consecutive rows: their text range in the statement and how many rows each holds. */
  readonly groups: ReadonlyArray<{ readonly start: number; readonly end: number; readonly rows: number }>;
  readonly rows: number;
}

/**
 * Cuts `INSERT INTO … VALUES (…), (…), …` (the statement's own text) into groups of rows of about
 * `groupChars` characters. Undefined when the text is not that shape, has fewer than `minRows` rows,
 * or the scanner is unsure.
 */
export function splitValues(stmt: string, groupChars: number, minRows = 2): ValuesSplit | undefined {
  type State = 'start' | 'head' | 'row' | 'inRow' | 'afterRow' | 'done' | 'no';
  let state = 'start' as State;
  let depth = 0;
  let headEnd = 0;
  let rowStart = 0;
  let lastRowEnd = 0;
  let groupStart = -1;
  let groupRows = 0;
  let rows = 0;
  const groups: Array<{ start: number; end: number; rows: number }> = [];
  const sure = scanTokens(stmt, 0, stmt.length, (kind, s, e) => {
    switch (state) {
      case 'start':
        state = kind === 'word' && wordIs(stmt, s, e, 'INSERT') ? 'head' : 'no';
        return state === 'head';
      case 'head':
        if (kind === '(') depth++;
        else if (kind === ')') depth--;
        else if (depth === 0 && kind === 'word') {
          if (wordIs(stmt, s, e, 'VALUES')) {
            headEnd = e;
            state = 'row';
          } else if (['SELECT', 'WITH', 'DEFAULT', 'TABLE'].some((w) => wordIs(stmt, s, e, w))) state = 'no';
        } else if (kind === ';') state = 'no';
        return state !== 'no';
      case 'row':
        if (kind !== '(') {
          state = 'no';
          return false;
        }
        rowStart = s;
        depth = 1;
        state = 'inRow';
        return;
      case 'inRow':
        if (kind === '(') depth++;
        else if (kind === ')' && --depth === 0) {
          rows++;
          lastRowEnd = e;
          if (groupStart < 0) groupStart = rowStart;
          groupRows++;
          if (e - groupStart >= groupChars) {
            groups.push({ start: groupStart, end: e, rows: groupRows });
            groupStart = -1;
            groupRows = 0;
          }
          state = 'afterRow';
        }
        return;
      case 'afterRow':
        // Only clauses that mean the same after every group may follow (not ORDER BY/LIMIT, not operators).
        if (kind === ',') state = 'row';
        else state = kind === 'word' && (wordIs(stmt, s, e, 'ON') || wordIs(stmt, s, e, 'RETURNING')) ? 'done' : 'no';
        return state === 'row';
      default:
        return false;
    }
  });
  if (!sure || (state !== 'done' && state !== 'afterRow') || rows < minRows) return undefined;
  if (groupStart >= 0) groups.push({ start: groupStart, end: lastRowEnd, rows: groupRows });
  return { head: stmt.slice(0, headEnd), tail: stmt.slice(lastRowEnd), tailStart: lastRowEnd, groups, rows };
}

/** The text PostgreSQL's parser gets for one group. */
export function groupText(stmt: string, split: ValuesSplit, g: number): string {
  const { start, end } = split.groups[g]!;
  return `${split.head} ${stmt.slice(start, end)}${split.tail}`;
}

/** Maps a 1-based character position in group `g`'s text back to the statement's text. */
export function groupPosition(split: ValuesSplit, g: number, position: number): number {
  const { start, end } = split.groups[g]!;
  const at = position - 1;
  const head = split.head.length + 1;
  if (at < split.head.length) return position;
  if (at < head) return start + 1;
  if (at < head + (end - start)) return at - head + start + 1;
  return at - head - (end - start) + split.tailStart + 1;
}
