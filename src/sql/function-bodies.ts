/**
 * @module sql/function-bodies
 * What SQL that PostgreSQL runs by itself — a function's or procedure's body, a DO block — reads,
 * calls and writes, read with PostgreSQL's own parsers (libpg-query: the SQL grammar for LANGUAGE
 * sql bodies and for every SQL statement and expression of a PL/pgSQL body, the PL/pgSQL compiler
 * for the latter's structure). Orbit cannot make such SQL see rows in the columnstore, so the
 * session refuses statements that would run it over a hypertable with compressed chunks
 * (session/columnstore/function-guard.ts).
 */
import { parsePlpgsql, parseSql, scanSql } from './parser.js';

/** A name as written: schema-qualified or not. */
export interface NameRef {
  readonly schema?: string;
  readonly name: string;
  /** Named at run time: a table EXECUTE's format() puts into its statement (any table). */
  readonly dynamic?: true;
}

/** What a piece of SQL uses (see the module comment). */
export interface SqlUses {
  /** Relations it names other than as the target of a plain INSERT. */
  readonly relations: NameRef[];
  /** Targets of `INSERT` without ON CONFLICT (rows added: they need no compressed rows, see the guard). */
  readonly inserts: NameRef[];
  /** Functions and procedures it calls by name (FuncCall, CALL). */
  readonly calls: NameRef[];
  /** Operators it names (expressions, `ORDER BY … USING`, `op ANY (subquery)`), as written without schema. */
  readonly operators: string[];
  /** Tables it writes (INSERT, UPDATE, DELETE, MERGE, COPY FROM, TRUNCATE): their triggers fire. */
  readonly writes: NameRef[];
  /** Why what it reads cannot be known (dynamic SQL, a body Orbit cannot parse), if so. */
  opaque?: string;
}

/** Uses of nothing. */
export function emptyUses(): SqlUses {
  return { relations: [], inserts: [], calls: [], operators: [], writes: [] };
}

/** Adds what `from` uses to `into`. */
export function merge(into: SqlUses, from: SqlUses): void {
  into.relations.push(...from.relations);
  into.inserts.push(...from.inserts);
  into.calls.push(...from.calls);
  into.operators.push(...from.operators);
  into.writes.push(...from.writes);
  into.opaque ??= from.opaque;
}

type Fields = Record<string, unknown>;

/** A qualified name's last two parts (a FuncCall's funcname, …). */
export function nameOf(list: unknown): NameRef | undefined {
  const parts = ((list as Array<{ String?: { sval?: string } }> | undefined) ?? []).map((p) => p.String?.sval);
  const name = parts[parts.length - 1];
  if (!name) return undefined;
  const schema = parts.length > 1 ? parts[parts.length - 2] : undefined;
  return schema ? { schema, name } : { name };
}

function rangeVar(value: unknown): NameRef | undefined {
  const rv = value as { schemaname?: string; relname?: string } | undefined;
  if (!rv?.relname) return undefined;
  return rv.schemaname ? { schema: rv.schemaname, name: rv.relname } : { name: rv.relname };
}

/** What one parsed SQL statement (its node keyed by type, or the fields of `type`) uses. */
export function statementUses(type: string, node: Fields): SqlUses {
  const uses = emptyUses();
  visitNode(type, node, uses, new Set());
  return uses;
}

/** Adds what a parse-tree node (`key`: its type or field name) and everything under it use. */
function visitNode(key: string, value: Fields, uses: SqlUses, skip: Set<unknown>): void {
  switch (key) {
    case 'CreateFunctionStmt':
      return; // defines a function, runs nothing
    case 'InsertStmt': {
      const target = rangeVar(value.relation);
      if (target) {
        skip.add(value.relation);
        (value.onConflictClause ? uses.relations : uses.inserts).push(target);
        uses.writes.push(target);
      }
      break;
    }
    case 'UpdateStmt':
    case 'DeleteStmt':
    case 'MergeStmt': {
      const target = rangeVar(value.relation);
      if (target) uses.writes.push(target);
      break;
    }
    case 'CopyStmt': {
      const target = rangeVar(value.relation);
      if (target && value.is_from) uses.writes.push(target);
      break;
    }
    case 'TruncateStmt':
      for (const r of (value.relations as Array<{ RangeVar?: unknown }> | undefined) ?? []) {
        const target = rangeVar(r.RangeVar);
        if (target) uses.writes.push(target);
      }
      break;
    case 'DoStmt':
      merge(uses, doUses(value));
      return;
    // Checks of existing rows that read what no name says (session/columnstore/unchecked-rows.ts):
    // a domain's columns, the table a foreign key validated by name references.
    case 'AlterDomainStmt':
      if (['C', 'O', 'V'].includes(value.subtype as string)) uses.opaque ??= 'ALTER DOMAIN checking the columns of the domain';
      break;
    case 'AlterTableStmt':
      for (const c of (value.cmds as Array<{ AlterTableCmd?: Fields }> | undefined) ?? []) {
        const cmd = c.AlterTableCmd;
        const con = cmd?.subtype === 'AT_AddConstraint' ? ((cmd.def as { Constraint?: Fields } | undefined)?.Constraint) : undefined;
        if (cmd?.subtype === 'AT_ValidateConstraint') uses.opaque ??= 'VALIDATE CONSTRAINT checking the rows a constraint reads';
        const referenced = con?.contype === 'CONSTR_FOREIGN' && !con.skip_validation ? rangeVar(con.pktable) : undefined;
        if (referenced) uses.relations.push(referenced);
      }
      break;
    case 'FuncCall':
    case 'funccall': {
      const name = nameOf(value.funcname);
      if (name) uses.calls.push(name);
      break;
    }
    case 'A_Expr':
    case 'SortBy':
    case 'SubLink': {
      const name = nameOf(key === 'A_Expr' ? value.name : key === 'SortBy' ? value.useOp : value.operName)?.name;
      if (name) uses.operators.push(name);
      break;
    }
    case 'RangeVar':
    case 'relation': {
      const name = rangeVar(value);
      if (name && !skip.has(value)) uses.relations.push(name);
      break;
    }
  }
  for (const [k, child] of Object.entries(value)) visitChild(k, child, uses, skip);
}

function visitChild(key: string, child: unknown, uses: SqlUses, skip: Set<unknown>): void {
  if (Array.isArray(child)) {
    for (const item of child) visitChild(key, item, uses, skip);
  } else if (child !== null && typeof child === 'object') {
    visitNode(key, child as Fields, uses, skip);
  }
}

/** What the statements of SQL text use; opaque when it does not parse. */
function sqlTextUses(sql: string): SqlUses {
  const uses = emptyUses();
  try {
    for (const s of parseSql(sql)) merge(uses, statementUses(s.type, s.node));
  } catch {
    uses.opaque = 'SQL Orbit cannot parse';
  }
  return uses;
}

/**
 * What a function or procedure uses, from its definition as pg_get_functiondef prints it, in
 * `language` (sql or plpgsql).
 */
export function definitionUses(definition: string, language: string): SqlUses {
  let stmt: { type: string; node: Fields } | undefined;
  try {
    stmt = parseSql(definition)[0];
  } catch {
    // PostgreSQL's own text of an existing function: not expected.
  }
  if (stmt?.type !== 'CreateFunctionStmt') return { ...emptyUses(), opaque: 'a body Orbit cannot parse' };
  const uses = language === 'plpgsql' ? plpgsqlUses(definition) : sqlBodyUses(stmt.node);
  // Parameter defaults run for calls that leave their arguments out.
  visitChild('parameters', stmt.node.parameters, uses, new Set());
  return uses;
}

/** What a LANGUAGE sql function's body uses (its CreateFunctionStmt's fields). */
function sqlBodyUses(node: Fields): SqlUses {
  // A SQL-standard body (BEGIN ATOMIC … END, RETURN …) is parsed with the definition.
  if (node.sql_body) {
    const uses = emptyUses();
    visitChild('sql_body', node.sql_body, uses, new Set());
    return uses;
  }
  const as = (node.options as Array<{ DefElem?: { defname?: string; arg?: { List?: { items?: Array<{ String?: { sval?: string } }> } } } }> | undefined)?.find(
    (o) => o.DefElem?.defname === 'as',
  );
  const body = as?.DefElem?.arg?.List?.items?.[0]?.String?.sval;
  return body === undefined ? { ...emptyUses(), opaque: 'a body Orbit cannot parse' } : sqlTextUses(body);
}

/** A DO statement's fields: its block in PL/pgSQL (the only procedural language PGlite has). */
function doUses(node: Fields): SqlUses {
  let body: string | undefined;
  let language = 'plpgsql';
  for (const a of (node.args as Array<{ DefElem?: { defname?: string; arg?: { String?: { sval?: string } } } }> | undefined) ?? []) {
    if (a.DefElem?.defname === 'as') body = a.DefElem.arg?.String?.sval;
    if (a.DefElem?.defname === 'language') language = a.DefElem.arg?.String?.sval ?? language;
  }
  if (body === undefined || language !== 'plpgsql') return { ...emptyUses(), opaque: `a DO block in language ${language}` };
  return plpgsqlUses(`DO ${dollarQuote(body)}`);
}

function dollarQuote(body: string): string {
  let tag = 'orbit';
  while (body.includes(`$${tag}$`)) tag += '_';
  return `$${tag}$${body}$${tag}$`;
}

/** Parse modes of PLpgSQL_expr (RawParseMode in parser.h). */
const RAW_PARSE_DEFAULT = 0;
const RAW_PARSE_PLPGSQL_EXPR = 2;

/** PL/pgSQL statements whose query is a string built at run time, and the field holding it. */
const DYNAMIC: Readonly<Record<string, string>> = {
  PLpgSQL_stmt_dynexecute: 'query',
  PLpgSQL_stmt_dynfors: 'query',
  PLpgSQL_stmt_open: 'dynquery',
  PLpgSQL_stmt_return_query: 'dynquery',
};

/** What a PL/pgSQL function (or DO block) uses: every SQL statement and expression in it. */
function plpgsqlUses(definition: string): SqlUses {
  const uses = emptyUses();
  let tree: unknown;
  try {
    tree = parsePlpgsql(definition);
  } catch {
    uses.opaque = 'a body Orbit cannot parse';
    return uses;
  }
  const visit = (value: unknown, dynamic: boolean): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item, dynamic);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value as Fields)) {
      if (key === 'PLpgSQL_expr') {
        merge(uses, expressionUses(child as { query?: string; parseMode?: number }, dynamic));
      } else if (DYNAMIC[key] !== undefined) {
        for (const [field, inner] of Object.entries(child as Fields)) visit(inner, field === DYNAMIC[key]);
      } else {
        visit(child, false);
      }
    }
  };
  visit(tree, false);
  return uses;
}

/**
 * A PL/pgSQL expression or statement; `dynamic`: its value is the text of a statement to run
 * (EXECUTE): read when it is one string constant, else opaque.
 */
function expressionUses(expr: { query?: string; parseMode?: number }, dynamic: boolean): SqlUses {
  const query = expr.query ?? '';
  const mode = expr.parseMode ?? RAW_PARSE_DEFAULT;
  // Assignments (`target := expr`, modes 3–5): the expression after the first `:=` or `=`.
  const text = mode === RAW_PARSE_DEFAULT ? query : mode === RAW_PARSE_PLPGSQL_EXPR ? `SELECT ${query}` : assignedExpression(query);
  if (text === undefined) return { ...emptyUses(), opaque: 'a statement Orbit cannot parse' };
  const uses = sqlTextUses(text);
  if (!dynamic) return uses;
  const constant = stringConstant(text);
  if (constant !== undefined) merge(uses, sqlTextUses(constant));
  else {
    const template = formatTemplate(text);
    if (template === undefined) uses.opaque ??= 'dynamic SQL (EXECUTE)';
    else merge(uses, templateUses(template));
  }
  return uses;
}

/** Stands for what format() puts in place of `%I` (a name, or a value: a column then). */
const FORMAT_NAME = 'orbit_format_argument';

/**
 * What the statement of `EXECUTE format('<template>', …)` uses: its template parsed with the
 * values format() inserts as a name (`%I`) or NULL (`%L`). A table among them is named at run
 * time: read, it is opaque (any table); inserted into or written, it is `dynamic`. `%s` pastes its
 * argument in as SQL text (a subquery as well as a name): the statement is opaque.
 */
function templateUses(template: string): SqlUses {
  // format()'s specifiers: %[position$][flags][width]type (PostgreSQL's format(), not SQL).
  let pasted = false;
  const sql = template.replace(/%(?:\d+\$)?-?(?:\*(?:\d+\$)?|\d+)?([sIL%])/g, (_, type: string) => {
    if (type === 's') pasted = true;
    return type === '%' ? '%' : type === 'L' ? 'NULL' : FORMAT_NAME;
  });
  const uses = sqlTextUses(sql);
  if (pasted) uses.opaque ??= 'dynamic SQL (EXECUTE) pasting text in with format()\'s %s';
  const atRunTime = (r: NameRef): NameRef => (r.name === FORMAT_NAME || r.schema === FORMAT_NAME ? { name: r.name, dynamic: true } : r);
  if (uses.relations.some((r) => r.name === FORMAT_NAME || r.schema === FORMAT_NAME) || uses.calls.some((c) => c.name === FORMAT_NAME || c.schema === FORMAT_NAME)) {
    uses.opaque ??= 'dynamic SQL (EXECUTE) reading a table named at run time';
  }
  return { ...uses, inserts: uses.inserts.map(atRunTime), writes: uses.writes.map(atRunTime) };
}

/** The template of `SELECT format('<template>', …)`, else undefined. */
function formatTemplate(select: string): string | undefined {
  try {
    const [s] = parseSql(select);
    const call = ((s?.node.targetList as Array<{ ResTarget?: { val?: Fields } }> | undefined) ?? [])[0]?.ResTarget?.val?.FuncCall as { funcname?: unknown; args?: Fields[] } | undefined;
    const name = nameOf(call?.funcname);
    if (name?.name !== 'format' || (name.schema !== undefined && name.schema !== 'pg_catalog')) return undefined;
    return (call?.args?.[0]?.A_Const as { sval?: { sval?: string } } | undefined)?.sval?.sval;
  } catch {
    return undefined;
  }
}

function assignedExpression(query: string): string | undefined {
  let depth = 0;
  for (const t of scanSql(query)) {
    if (t.text === '(' || t.text === '[') depth++;
    else if (t.text === ')' || t.text === ']') depth--;
    else if (depth === 0 && (t.text === ':=' || t.text === '=')) return `SELECT ${new TextDecoder('utf-8', { ignoreBOM: true }).decode(new TextEncoder().encode(query).subarray(t.end))}`;
  }
  return undefined;
}

/** The value of `SELECT '<string>'` (possibly cast to text), else undefined. */
function stringConstant(select: string): string | undefined {
  try {
    const [s] = parseSql(select);
    const target = ((s?.node.targetList as Array<{ ResTarget?: { val?: Fields } }> | undefined) ?? [])[0]?.ResTarget?.val;
    const value = (target?.TypeCast as Fields | undefined)?.arg ?? target;
    return ((value as Fields | undefined)?.A_Const as { sval?: { sval?: string } } | undefined)?.sval?.sval;
  } catch {
    return undefined;
  }
}
