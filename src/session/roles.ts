/**
 * @module session/roles
 * Sessions run as the role that logged in. PGlite's one backend authenticated as its bootstrap
 * superuser, so the login role is a session setting (`session_authorization`, applied on every
 * hand-over like the others, settings.ts). PostgreSQL lets only a session whose *authenticated* user
 * is a superuser change its session authorization; here that user is always the backend's, so the
 * statements that would change it are checked against the login role instead, before they run.
 */
import { OrbitError } from '../errors.js';
import type { ClassifiedStatement } from '../sql/classify.js';
import { walk, type Node } from '../sql/rewrite/ast.js';
import { SqlState } from '../sqlstate.js';
import { quoteIdent, textRows, throwIfError } from './internal-sql.js';
import { BOOT_ROLE, quoteLiteral } from './settings.js';

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
  if (login.superuser || !s.functions.includes('set_config')) return s;
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
