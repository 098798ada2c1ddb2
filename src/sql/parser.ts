/**
 * @module sql/parser
 * Binding to PostgreSQL's own parser (libpg-query, PG 18, compiled to WASM). PGlite-free, so it loads
 * in Node, browsers and workerd alike. The WASM module is loaded once, lazily, by `loadParser()`.
 */
import { concatBytes } from '../bytes.js';
import { OrbitError } from '../errors.js';
import { SqlState } from '../sqlstate.js';

type LibPgQuery = typeof import('libpg-query');

/** One statement of a parsed string: its AST node (keyed by node type) and its text. */
export interface ParsedStatement {
  /** The node type, e.g. `SelectStmt`, `VariableSetStmt`. */
  readonly type: string;
  /** The node itself (libpg-query's JSON AST). */
  readonly node: Record<string, unknown>;
  /** The statement's own text, sliced out of the original string (without the trailing `;`). */
  readonly text: string;
  /** Byte offset of the statement in the UTF-8 encoding of the original string. */
  readonly byteOffset: number;
  /** Bytes from byteOffset to the statement's end (leading blanks and comments included, `;` not). */
  readonly byteLength: number;
}

let lib: LibPgQuery | undefined;
let loading: Promise<LibPgQuery> | undefined;

/** Loads the parser's WASM module; cheap after the first call. */
export async function loadParser(): Promise<void> {
  if (lib) return;
  loading ??= import('libpg-query').then(async (m) => {
    await m.loadModule();
    lib = m;
    return m;
  });
  await loading;
}

/**
 * Bytes of the parser's WASM memory, where the runtime's glue exposes it (the Worker bundle's shim,
 * worker/shims/libpg-query-glue.js); undefined elsewhere. It grows with the largest text parsed and
 * never shrinks.
 */
export function parserMemoryBytes(): number | undefined {
  const memory = (globalThis as Record<symbol, unknown>)[Symbol.for('orbit.parserMemory')] as { buffer: ArrayBuffer } | undefined;
  return memory?.buffer.byteLength;
}

export function parserLoaded(): boolean {
  return lib !== undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Parses a SQL string that may hold several statements. Throws an OrbitError with SQLSTATE 42601 and
 * the 1-based character position for syntax errors, exactly as PostgreSQL's own parser reports them.
 */
export function parseSql(sql: string): ParsedStatement[] {
  if (!lib) throw new OrbitError(SqlState.internal_error, 'the SQL parser is not loaded (call loadParser first)');
  let result: { stmts?: Array<{ stmt: Record<string, unknown>; stmt_location?: number; stmt_len?: number }> };
  try {
    result = lib.parseSync(sql) as typeof result;
  } catch (err) {
    throw parserError(err);
  }
  const stmts = result.stmts ?? [];
  // libpg-query reports byte offsets into the UTF-8 text; pure-ASCII text needs no re-encoding.
  const ascii = !/[^\x00-\x7f]/.test(sql);
  const bytes = ascii ? undefined : encoder.encode(sql);
  const total = ascii ? sql.length : bytes!.length;
  return stmts.map(({ stmt, stmt_location = 0, stmt_len }) => {
    const end = stmt_len === undefined || stmt_len === 0 ? total : stmt_location + stmt_len;
    const text = ascii ? sql.slice(stmt_location, end) : decoder.decode(bytes!.subarray(stmt_location, end));
    const type = Object.keys(stmt)[0] ?? 'Unknown';
    return { type, node: stmt[type] as Record<string, unknown>, text: text.trim(), byteOffset: stmt_location, byteLength: end - stmt_location };
  });
}

/**
 * Parses a PL/pgSQL function (`CREATE FUNCTION … LANGUAGE plpgsql AS …`, as pg_get_functiondef
 * prints it) or a DO block with PostgreSQL's own PL/pgSQL compiler; its JSON tree
 * (`plpgsql_funcs`). Only for PL/pgSQL text: the compiler aborts on a body in another language.
 * Throws an OrbitError (42601) when the body does not compile.
 */
export function parsePlpgsql(sql: string): unknown {
  if (!lib) throw new OrbitError(SqlState.internal_error, 'the SQL parser is not loaded (call loadParser first)');
  try {
    return lib.parsePlPgSQLSync(sql);
  } catch (err) {
    throw parserError(err);
  }
}

function parserError(err: unknown): OrbitError {
  const e = err as { message?: string; sqlDetails?: { message?: string; cursorPosition?: number } };
  const message = e.sqlDetails?.message ?? e.message ?? String(err);
  let position: number | undefined;
  const cursor = e.sqlDetails?.cursorPosition;
  // cursorPosition is 0-based and counts characters, like ErrorResponse's 1-based 'P' field.
  if (typeof cursor === 'number' && cursor >= 0) position = cursor + 1;
  return new OrbitError(SqlState.syntax_error, message, { position, cause: err });
}

/** One lexical token: byte offsets into the UTF-8 text and the token's text. */
export interface SqlToken {
  readonly start: number;
  readonly end: number;
  readonly text: string;
  readonly tokenName: string;
  readonly keywordKind: number;
}

/** PostgreSQL's own lexer over a statement (used for token-exact rewrites, never regexes). */
export function scanSql(sql: string): SqlToken[] {
  if (!lib) throw new OrbitError(SqlState.internal_error, 'the SQL parser is not loaded (call loadParser first)');
  return (lib.scanSync(sql) as { tokens: SqlToken[] }).tokens;
}

/** Replaces byte ranges of `sql` (non-overlapping, any order) with new text. */
export function spliceSql(sql: string, edits: ReadonlyArray<{ start: number; end: number; text: string }>): string {
  const bytes = encoder.encode(sql);
  const parts: Uint8Array[] = [];
  let pos = 0;
  for (const e of [...edits].sort((a, b) => a.start - b.start)) {
    parts.push(bytes.subarray(pos, e.start), encoder.encode(e.text));
    pos = e.end;
  }
  parts.push(bytes.subarray(pos));
  return decoder.decode(concatBytes(parts));
}
