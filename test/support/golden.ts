/**
 * Golden SQL files (STYLE.md "Golden SQL"): `test/golden/<area>/<name>.sql` holds statements, and
 * `<name>.out` the expected result of each, written from TimescaleDB's documented behaviour.
 *
 * The `.out` format, one block per statement, blocks separated by a blank line:
 *
 *     > SELECT time_bucket('5 minutes', TIMESTAMP '2020-01-01 10:03:00') AS b;
 *     b
 *     2020-01-01 10:00:00
 *     (1 row)
 *
 *     > SELECT time_bucket('0 minutes', TIMESTAMP '2020-01-01 10:03:00');
 *     ERROR 22023
 *
 *     > SET TIME ZONE 'UTC';
 *     OK SET
 *
 * - The statement, every line prefixed with `> `, as written in the .sql file (comments between
 *   statements are left out; they are for the reader of the .sql file).
 * - A statement returning rows: the column names joined by `|`, one line per row with the values as
 *   PostgreSQL's text output joined by `|` (NULL as `NULL`), then `(N rows)`.
 * - A statement without rows: `OK` and the command (`OK CREATE`, `OK INSERT 3`).
 * - A failing statement: `ERROR` and the SQLSTATE, never the message text.
 */

/** One statement of a .sql file, without its trailing semicolon. */
export interface GoldenStatement {
  readonly sql: string;
  /** 1-based line of the statement in the .sql file. */
  readonly line: number;
}

/** Splits SQL text into statements, respecting quotes, dollar quotes and comments. */
export function splitStatements(text: string): GoldenStatement[] {
  const out: GoldenStatement[] = [];
  let start = -1;
  let i = 0;
  const push = (end: number) => {
    if (start >= 0) {
      const sql = text.slice(start, end).trim();
      if (sql) out.push({ sql, line: text.slice(0, start).split('\n').length });
    }
    start = -1;
  };
  while (i < text.length) {
    const c = text[i]!;
    const rest = text.slice(i);
    if (rest.startsWith('--')) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
      continue;
    }
    if (rest.startsWith('/*')) {
      let depth = 0;
      do {
        if (text.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (text.startsWith('*/', i)) {
          depth--;
          i += 2;
        } else i++;
      } while (depth > 0 && i < text.length);
      continue;
    }
    if (c === ';') {
      push(i);
      i++;
      continue;
    }
    if (start < 0 && !/\s/.test(c)) start = i;
    if (c === "'" || c === '"') {
      const escapes = c === "'" && i > 0 && /[eE]/.test(text[i - 1]!) && !/\w/.test(text[i - 2] ?? ' ');
      i++;
      while (i < text.length) {
        if (escapes && text[i] === '\\') i += 2;
        else if (text[i] === c && text[i + 1] === c) i += 2;
        else if (text[i] === c) break;
        else i++;
      }
      i++;
      continue;
    }
    const dollar = /^\$([A-Za-z_][A-Za-z_0-9]*)?\$/.exec(rest);
    if (dollar && !/\w/.test(text[i - 1] ?? ' ')) {
      const end = text.indexOf(dollar[0], i + dollar[0].length);
      i = end < 0 ? text.length : end + dollar[0].length;
      continue;
    }
    i++;
  }
  push(text.length);
  return out;
}

/** What a statement did, as the runner observed it. */
export type GoldenResult =
  | { readonly kind: 'rows'; readonly columns: string[]; readonly rows: Array<Array<string | null>> }
  | { readonly kind: 'ok'; readonly command: string; readonly rowCount: number | null }
  | { readonly kind: 'error'; readonly code: string };

export function formatResult(result: GoldenResult): string {
  switch (result.kind) {
    case 'error':
      return `ERROR ${result.code}`;
    case 'ok':
      return `OK ${result.command}${result.rowCount !== null && /^(INSERT|UPDATE|DELETE|MERGE|COPY)$/.test(result.command) ? ` ${result.rowCount}` : ''}`;
    case 'rows': {
      const lines = [result.columns.join('|'), ...result.rows.map((r) => r.map((v) => (v === null ? 'NULL' : v)).join('|'))];
      lines.push(`(${result.rows.length} ${result.rows.length === 1 ? 'row' : 'rows'})`);
      return lines.join('\n');
    }
  }
}

export function formatStatement(sql: string): string {
  return sql
    .split('\n')
    .map((l) => `> ${l}`.trimEnd())
    .join('\n') + ';';
}

export interface GoldenBlock {
  /** The statement as echoed (`> ` lines joined, prefixes removed). */
  readonly statement: string;
  /** The result lines. */
  readonly result: string;
}

export function formatBlocks(blocks: GoldenBlock[]): string {
  return blocks.map((b) => `${formatStatement(b.statement)}\n${b.result}\n`).join('\n');
}

/** Parses a .out file into its blocks. */
export function parseOut(text: string): GoldenBlock[] {
  const blocks: GoldenBlock[] = [];
  let statement: string[] = [];
  let result: string[] = [];
  const flush = () => {
    if (statement.length) {
      blocks.push({ statement: statement.join('\n').replace(/;$/, ''), result: result.join('\n').trimEnd() });
    }
    statement = [];
    result = [];
  };
  for (const line of text.split('\n')) {
    if (line === '>' || line.startsWith('> ')) {
      if (result.length) flush();
      statement.push(line.slice(2));
    } else if (statement.length) {
      if (line !== '' || result.length) result.push(line);
    }
  }
  flush();
  return blocks;
}
