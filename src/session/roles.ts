/**
 * @module session/roles
 * Sessions run as the role that logged in. PGlite's one backend authenticated as its bootstrap
 * superuser, so the login role is a session setting (`session_authorization`, applied on every
 * hand-over like the others, settings.ts). PostgreSQL lets only a session whose *authenticated* user
 * is a superuser change its session authorization; here that user is always the backend's, so the
 * statements that would change it are checked against the login role instead, before they run.
 */
import { concatBytes } from '../bytes.js';
import { OrbitError } from '../errors.js';
import type { ClassifiedStatement } from '../sql/classify.js';
import { deparseSync } from '../sql/deparse.js';
import { kind, walk, type Node } from '../sql/rewrite/ast.js';
import { SqlState } from '../sqlstate.js';
import { scanBackend } from '../wire/protocol/backend.js';
import { BackendMessage } from '../wire/protocol/message-codes.js';
import { quoteIdent, textRows, throwIfError } from './internal-sql.js';
import type { BackendSession } from './backend.js';
import { BOOT_ROLE, carriesRole, firstError, quoteLiteral } from './settings.js';

/** Whether `session` may run as a role other than the backend's. */
export function runsAsRole(session: BackendSession): boolean {
  return session.roleUnread === true || carriesRole(session.settings);
}

/** The role a session logged in as, and whether it was a superuser then. */
export interface LoginRole {
  readonly name: string;
  readonly superuser: boolean;
}

export const BOOT_LOGIN: LoginRole = { name: BOOT_ROLE, superuser: true };

const SESSION_AUTHORIZATION = 'session_authorization';

/**
 * `s` as the session of `login` may run it: unchanged, with a rewrite, or an error.
 * - `SET SESSION AUTHORIZATION DEFAULT` and `RESET SESSION AUTHORIZATION` return to the login role
 *   (PGlite's backend has no reset value for it: as written they would keep the current one).
 * - A login role that is not a superuser may set the session authorization only to itself, by
 *   `SET SESSION AUTHORIZATION` or `set_config` (42501, as PostgreSQL answers).
 */
export function checkAuthorization(s: ClassifiedStatement, login: LoginRole): ClassifiedStatement | OrbitError {
  if (s.type === 'VariableSetStmt' && s.node.name === SESSION_AUTHORIZATION) {
    const kind = s.node.kind as string;
    if (kind === 'VAR_SET_DEFAULT' || kind === 'VAR_RESET') {
      const local = s.node.is_local === true ? 'LOCAL ' : '';
      return { ...s, rewrite: { sql: `SET ${local}SESSION AUTHORIZATION ${quoteIdent(login.name)}`, commandTag: kind === 'VAR_RESET' ? 'RESET' : 'SET' } };
    }
    const target = constantText((s.node.args as unknown[] | undefined)?.[0]);
    if (!login.superuser && target !== login.name) return denied(target ?? '');
    return s;
  }
  if (login.superuser) return s;
  const cache = namesCacheTable(s);
  if (cache) return cache;
  if (!s.functions.includes('set_config')) return s;
  let problem: OrbitError | undefined;
  walk(s.node, (n: Node, type: string) => {
    if (problem || type !== 'FuncCall') return;
    const call = n.FuncCall as { funcname?: Array<{ String?: { sval?: string } }>; args?: unknown[] };
    if (call.funcname?.[call.funcname.length - 1]?.String?.sval?.toLowerCase() !== 'set_config') return;
    const name = constantText(call.args?.[0]);
    if (name === undefined) {
      problem = new OrbitError(SqlState.feature_not_supported, 'set_config with a setting name that is not a constant is not supported by Orbit for roles other than superusers', {
        hint: 'All sessions share one PGlite backend, whose session authorization Orbit must be able to check; name the setting in the call.',
      });
    } else if (name.toLowerCase() === SESSION_AUTHORIZATION) {
      const value = constantText(call.args?.[1]);
      if (value !== login.name) problem = denied(value ?? '');
    }
  }, true);
  return problem ?? s;
}

/**
 * Whether `s` may change the role the session runs as (its settings are read back after it): SET,
 * set_config, and a DO block, whose SET ROLE Orbit cannot see.
 */
export function mayChangeRole(s: ClassifiedStatement): boolean {
  return (s.type === 'VariableSetStmt' && (s.node.name === SESSION_AUTHORIZATION || s.node.name === 'role')) || s.functions.includes('set_config') || s.type === 'DoStmt';
}

function denied(role: string): OrbitError {
  return new OrbitError(SqlState.insufficient_privilege, `permission denied to set session authorization "${role}"`);
}

/** A string constant's text (a role name in SET SESSION AUTHORIZATION is one too). */
function constantText(node: unknown): string | undefined {
  const c = (node as { A_Const?: { sval?: { sval?: string } } } | undefined)?.A_Const;
  return c?.sval?.sval;
}

/**
 * The role `name` as a session logs in with it: FATAL 28000 for a role that does not exist or may not
 * log in, as PostgreSQL answers (after trust authentication; password methods fail earlier, 28P01).
 */
export async function loginRole(sql: (text: string) => Promise<Uint8Array>, name: string): Promise<LoginRole> {
  const out = await sql(`SELECT rolsuper, rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(name)}`);
  throwIfError(out);
  const row = textRows(out)[0];
  const refuse = (message: string) => new OrbitError(SqlState.invalid_authorization_specification, message, { severity: 'FATAL' });
  if (!row) throw refuse(`role "${name}" does not exist`);
  if (row[1] !== 't') throw refuse(`role "${name}" is not permitted to log in`);
  return { name, superuser: row[0] === 't' };
}

/**
 * Orbit's statements on its cache tables (temporary tables of decoded batches, shared by every
 * session) run as the backend's role, so one role owns them whichever session fills them; readers
 * get SELECT on them (`grantCacheSql`). The session's roles are kept in LOCAL placeholders and put
 * back LOCAL afterwards: inside a transaction block that restores exactly what was in effect (a SET
 * LOCAL ROLE too), and the block's end drops all of it, as an implicit transaction's end does.
 */
export const TO_BACKEND_ROLE =
  "SELECT pg_catalog.set_config('orbit.outer_user', session_user, true), pg_catalog.set_config('orbit.outer_role', pg_catalog.current_setting('role'), true), " +
  `pg_catalog.set_config('session_authorization', ${quoteLiteral(BOOT_ROLE)}, true)`;
export const FROM_BACKEND_ROLE =
  "SELECT pg_catalog.set_config('session_authorization', pg_catalog.current_setting('orbit.outer_user'), true), pg_catalog.set_config('role', pg_catalog.current_setting('orbit.outer_role'), true)";

/** `sql` run as the backend's role, the session's roles put back after (one simple query's text). */
export function asBackendRole(sql: string): string {
  return `${TO_BACKEND_ROLE}; ${sql}; ${FROM_BACKEND_ROLE}`;
}

/** Makes a cache table readable by the statements Orbit rewrites to read it, whatever their role. */
export function grantCacheSql(table: string): string {
  return `GRANT SELECT ON ${table} TO PUBLIC`;
}

/** Orbit's cache tables (session/columnstore/cache-tables.ts, fast-path-runner.ts, reuse.ts): only Orbit's rewrites name them. */
const CACHE_TABLE = /^orbit_(?:cs|scan|last)_\d/;

/**
 * A statement of a session running as another role that names one of Orbit's cache tables: they are
 * readable by every role (`grantCacheSql`), so only the statements Orbit wrote, after PostgreSQL
 * checked the user's privileges on the hypertable, may read them.
 */
export function namesCacheTable(s: ClassifiedStatement): OrbitError | undefined {
  const cache = s.relations.find((r) => (r.schema === undefined || r.schema === 'pg_temp' || r.schema.startsWith('pg_temp_')) && CACHE_TABLE.test(r.name));
  return cache ? new OrbitError(SqlState.insufficient_privilege, `permission denied for table ${cache.name}`) : undefined;
}


/**
 * PostgreSQL would refuse the statement for the role's privileges (42501), as Orbit's check found
 * before the statement reached it (`privilegeCheckSql`). The simple protocol answers it as the
 * statement's error; the extended protocol leaves the error to PostgreSQL's Bind, where PostgreSQL
 * checks privileges (PortalStart), not Parse.
 */
export class PrivilegeDenied extends OrbitError {
  constructor(message: string) {
    super(SqlState.insufficient_privilege, message);
  }
}

/** The transaction-local setting the check's DO block leaves its finding in. */
const PRIVILEGE_CHECK = 'orbit.privilege_check';

/**
 * `EXPLAIN` of a statement the columnstore may answer: planning it makes PostgreSQL check the role's
 * privileges (tables and columns, as the statement itself would) without running it. It runs in a DO
 * block that catches its error, so the check never fails the session's transaction (a pipeline's
 * implicit one has no savepoint to undo it with); its one row is read by `privilegeCheckResult`.
 * Undefined for statements EXPLAIN cannot take (an EXPLAIN is checked as the statement it explains).
 */
export function privilegeCheckSql(s: ClassifiedStatement): string | undefined {
  // An EXPLAIN Orbit answers (sql/planner/explain.ts) shows its statement's batches and rows: checked as that statement.
  const inner = s.type === 'ExplainStmt' ? (s.node.query as Node | undefined) : undefined;
  const text = inner ? (EXPLAINABLE.has(kind(inner) ?? '') ? deparseSync(inner as never, { pretty: false }) : undefined) : EXPLAINABLE.has(s.type) ? s.text : undefined;
  if (text === undefined) return undefined;
  const note = (value: string) => `PERFORM pg_catalog.set_config(${quoteLiteral(PRIVILEGE_CHECK)}, ${value}, true);`;
  const explain = quoteLiteral(`EXPLAIN (GENERIC_PLAN, COSTS OFF) ${text}`);
  const body = `BEGIN ${note("''")} BEGIN EXECUTE ${explain}; EXCEPTION WHEN insufficient_privilege THEN ${note("'denied:' || SQLERRM")} WHEN OTHERS THEN ${note("'failed'")} END; END`;
  return `DO ${quoteLiteral(body)}; SELECT pg_catalog.current_setting(${quoteLiteral(PRIVILEGE_CHECK)})`;
}

/**
 * What `privilegeCheckSql` found: true (allowed), PrivilegeDenied, or false when the check itself
 * failed (a parameter whose type only a Bind gives, …).
 */
export function privilegeCheckResult(out: Uint8Array): boolean | PrivilegeDenied {
  const value = textRows(out)[0]?.[0] ?? 'failed';
  if (value.startsWith('denied:')) return new PrivilegeDenied(value.slice('denied:'.length));
  return value === '';
}

const EXPLAINABLE = new Set(['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

/**
 * The output of `TO_BACKEND_ROLE; sql; FROM_BACKEND_ROLE` (one simple query) as if `sql` had run
 * alone: the two SELECTs' rows and completions taken out. When the switch failed, its error stands;
 * when `sql` failed, the switch back never ran.
 */
export function withoutRoleSwitch(out: Uint8Array): Uint8Array {
  const frames = scanBackend(out);
  const first = frames.findIndex((f) => f.type === BackendMessage.CommandComplete || f.type === BackendMessage.ErrorResponse);
  if (first < 0 || frames[first]!.type === BackendMessage.ErrorResponse) return out;
  const rest = frames.slice(first + 1);
  const start = frames[first]!.end;
  if (rest.some((f) => f.type === BackendMessage.ErrorResponse)) return out.subarray(start);
  let last = rest.length - 1;
  while (last >= 0 && rest[last]!.type !== BackendMessage.CommandComplete) last--;
  const from = rest[last - 2];
  if (!from || from.type !== BackendMessage.RowDescription) return out.subarray(start);
  return concatBytes([out.subarray(start, from.start), out.subarray(rest[last]!.end)]);
}

/** The output of raw messages sent between two simple queries (the switches): theirs alone. */
export function withoutRoleSwitchQueries(out: Uint8Array): Uint8Array {
  const ready = scanBackend(out).filter((f) => f.type === BackendMessage.ReadyForQuery);
  return ready.length < 3 ? out : out.subarray(ready[0]!.end, ready[ready.length - 2]!.end);
}

/**
 * The first of `tables` on which the session's role has SELECT on some columns but not on the table
 * itself, as one row of its name; none otherwise.
 */
export function partlyReadableSql(tables: ReadonlyArray<{ readonly schema: string; readonly name: string }>): string {
  const names = tables.map((t) => `(${quoteLiteral(t.name)}, ${quoteLiteral(`${quoteIdent(t.schema)}.${quoteIdent(t.name)}`)})`);
  return `SELECT n FROM (VALUES ${names.join(', ')}) t(n, q) WHERE NOT pg_catalog.has_table_privilege(q, 'SELECT') AND pg_catalog.has_any_column_privilege(q, 'SELECT') LIMIT 1`;
}

/**
 * Before a session that may run as another role gets Orbit's CopyInResponse for `COPY table … FROM`
 * (session/copy-in.ts answers it before PostgreSQL sees the statement): PostgreSQL checks INSERT on
 * the columns copied into before its own CopyInResponse (DoCopy), so a role without it gets the
 * 42501 at once, not after sending its data. Only tables are checked, and only when every named
 * column exists: other problems are left to PostgreSQL's own error at the COPY.
 */
export async function checkCopyPrivileges(run: (sql: string) => Promise<Uint8Array>, s: ClassifiedStatement): Promise<void> {
  const rel = s.node.relation as { schemaname?: string; relname?: string } | undefined;
  if (s.type !== 'CopyStmt' || s.node.is_from !== true || !rel?.relname) return;
  const name = rel.schemaname === undefined ? quoteIdent(rel.relname) : `${quoteIdent(rel.schemaname)}.${quoteIdent(rel.relname)}`;
  const cols = (s.node.attlist as Array<{ String?: { sval?: string } }> | undefined)?.map((c) => c.String?.sval ?? '');
  // Without a column list COPY fills every column but the generated ones (CopyGetAttnums).
  const copied = cols ? `a.attname = ANY (ARRAY[${cols.map(quoteLiteral).join(', ')}]::text[])` : "a.attgenerated = ''";
  const out = await run(`SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass(${quoteLiteral(name)}) AND c.relkind IN ('r', 'p')
    AND NOT pg_catalog.has_table_privilege(c.oid, 'INSERT')
    AND (SELECT bool_or(NOT pg_catalog.has_column_privilege(c.oid, a.attnum, 'INSERT')) AND ${cols ? `count(*) = ${cols.length}` : 'true'}
      FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND ${copied})`);
  const table = firstError(out) ? undefined : textRows(out)[0]?.[0];
  if (table) throw new PrivilegeDenied(`permission denied for table ${table}`);
}
