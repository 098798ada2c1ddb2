/**
 * @module sql/classify
 * Statement classification: what a statement is and which session state it touches. The session
 * layer uses it to keep many clients' sessions apart over one backend; later TimescaleDB features
 * use `kind` and `relations` to decide which statements they intercept.
 */
import { rewriteStatement, type StatementRewrite } from './rewrite/index.js';
import type { ParsedStatement } from './parser.js';

export const StatementKind = {
  query: 'query',
  dml: 'dml',
  ddl: 'ddl',
  transaction: 'transaction',
  session: 'session',
  copy: 'copy',
  listen: 'listen',
  unlisten: 'unlisten',
  notify: 'notify',
  prepare: 'prepare',
  execute: 'execute',
  deallocate: 'deallocate',
  utility: 'utility',
} as const;
export type StatementKind = (typeof StatementKind)[keyof typeof StatementKind];

export interface ClassifiedStatement {
  readonly kind: StatementKind;
  /** libpg-query node type, e.g. `SelectStmt`. */
  readonly type: string;
  readonly text: string;
  readonly node: Record<string, unknown>;
  /** SET, RESET, DISCARD, SET ROLE, set_config(): the session's settings may differ afterwards. */
  readonly changesSettings: boolean;
  /** CREATE TEMP TABLE/VIEW/SEQUENCE or SELECT INTO TEMP. */
  readonly createsTempObject: boolean;
  /** For COPY: direction and whether data flows over the connection (STDIN/STDOUT). */
  readonly copy?: { readonly from: boolean; readonly stdio: boolean };
  /** For LISTEN/UNLISTEN/NOTIFY: the channel (`*` for UNLISTEN *). */
  readonly channel?: string;
  /** For PREPARE/EXECUTE/DEALLOCATE: the statement name (undefined for DEALLOCATE ALL). */
  readonly preparedName?: string;
  /** Functions the statement calls (unqualified, lower case), in order of appearance. */
  readonly functions: ReadonlyArray<string>;
  /** Tables the statement names (schema may be undefined), in order of appearance. */
  readonly relations: ReadonlyArray<{ schema?: string; name: string }>;
  /** Byte offset of the statement in the UTF-8 text it was parsed from. */
  readonly byteOffset: number;
  /** Its length in bytes there (see ParsedStatement). */
  readonly byteLength: number;
  /** What PostgreSQL runs instead, for TimescaleDB syntax it does not know (sql/rewrite). */
  readonly rewrite?: StatementRewrite;
}

const DML = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);
const QUERY = new Set(['SelectStmt', 'ExplainStmt', 'VariableShowStmt', 'DeclareCursorStmt', 'FetchStmt', 'ClosePortalStmt']);
const SESSION = new Set(['VariableSetStmt', 'DiscardStmt', 'ConstraintsSetStmt']);

export function classify(stmt: ParsedStatement): ClassifiedStatement {
  const { type, node, text } = stmt;
  const relations: Array<{ schema?: string; name: string }> = [];
  const functions: string[] = [];
  let createsTemp = false;
  walk(node, (key, value) => {
    // Target tables (INSERT, CREATE TABLE, COPY, LIKE) appear as bare `relation` objects, others as RangeVar nodes.
    if (key === 'RangeVar' || key === 'relation') {
      const rv = value as { schemaname?: string; relname?: string; relpersistence?: string };
      if (rv.relname) relations.push({ schema: rv.schemaname, name: rv.relname });
    } else if (key === 'FuncCall') {
      const names = (value as { funcname?: Array<{ String?: { sval?: string } }> }).funcname ?? [];
      const name = names[names.length - 1]?.String?.sval?.toLowerCase();
      if (name) functions.push(name);
    } else if (key === 'IntoClause' || key === 'intoClause' || key === 'into') {
      const rel = (value as { rel?: { relpersistence?: string } }).rel;
      if (rel?.relpersistence === 't') createsTemp = true;
    }
  });
  if (type === 'CreateStmt' || type === 'ViewStmt' || type === 'CreateSeqStmt') {
    const rel = (node.relation ?? node.view ?? node.sequence) as { relpersistence?: string } | undefined;
    if (rel?.relpersistence === 't') createsTemp = true;
  }

  const callsSetConfig = functions.includes('set_config');
  const rewrite = rewriteStatement(type, node);
  // EXPLAIN EXECUTE name and CREATE TABLE … AS EXECUTE name use a prepared statement too.
  const nestedExecute = type === 'ExplainStmt' || type === 'CreateTableAsStmt' ? (node.query as { ExecuteStmt?: { name?: string } } | undefined)?.ExecuteStmt?.name : undefined;
  const base = {
    type,
    text,
    node,
    relations,
    functions,
    createsTempObject: createsTemp,
    byteOffset: stmt.byteOffset,
    byteLength: stmt.byteLength,
    ...(rewrite ? { rewrite } : {}),
    ...(nestedExecute !== undefined ? { preparedName: nestedExecute } : {}),
  };
  switch (type) {
    case 'TransactionStmt':
      return { ...base, kind: StatementKind.transaction, changesSettings: false };
    case 'CopyStmt': {
      const isFrom = node.is_from === true;
      const stdio = node.filename === undefined && node.is_program !== true;
      return { ...base, kind: StatementKind.copy, changesSettings: callsSetConfig, copy: { from: isFrom, stdio } };
    }
    case 'ListenStmt':
      return { ...base, kind: StatementKind.listen, changesSettings: false, channel: node.conditionname as string };
    case 'UnlistenStmt':
      return { ...base, kind: StatementKind.unlisten, changesSettings: false, channel: (node.conditionname as string | undefined) ?? '*' };
    case 'NotifyStmt':
      return { ...base, kind: StatementKind.notify, changesSettings: false, channel: node.conditionname as string };
    case 'PrepareStmt':
      return { ...base, kind: StatementKind.prepare, changesSettings: false, preparedName: node.name as string };
    case 'ExecuteStmt':
      return { ...base, kind: StatementKind.execute, changesSettings: callsSetConfig, preparedName: node.name as string };
    case 'DeallocateStmt':
      return { ...base, kind: StatementKind.deallocate, changesSettings: false, preparedName: node.name as string | undefined };
  }
  if (SESSION.has(type)) return { ...base, kind: StatementKind.session, changesSettings: true };
  if (DML.has(type)) return { ...base, kind: StatementKind.dml, changesSettings: callsSetConfig };
  if (QUERY.has(type)) return { ...base, kind: StatementKind.query, changesSettings: callsSetConfig };
  if (/^(Create|Alter|Drop|Rename|Comment|Grant|Truncate|Index|View|Define|Composite|CreateEnum|Rule)/.test(type) || type.endsWith('Stmt') && /Create|Alter|Drop/.test(type)) {
    return { ...base, kind: StatementKind.ddl, changesSettings: callsSetConfig || type === 'AlterRoleSetStmt' };
  }
  return { ...base, kind: StatementKind.utility, changesSettings: callsSetConfig };
}

/** Depth-first walk over libpg-query's JSON AST, calling `visit` for every keyed object. */
function walk(value: unknown, visit: (key: string, value: unknown) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, visit);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (child !== null && typeof child === 'object') {
        if (!Array.isArray(child)) visit(key, child);
        walk(child, visit);
      }
    }
  }
}
