/**
 * @module session/settings
 * Per-session settings over one shared backend. A session's state is the set of GUCs whose source is
 * 'session'; switching the backend from one session to another resets everything and re-applies the
 * next session's set (only when the two sets differ).
 */
import { readDataRow, readErrorFields, scanBackend } from '../wire/protocol/backend.js';
import { BackendMessage, FrontendMessage } from '../wire/protocol/message-codes.js';
import { MessageWriter } from '../wire/protocol/writer.js';
import { TIMESCALEDB_SETTINGS } from '../catalog/extension/settings.js';
import { quoteIdent } from './internal-sql.js';

/** Parameters PostgreSQL reports with ParameterStatus at startup and whenever they change. */
export const REPORTED_PARAMETERS = [
  'application_name',
  'client_encoding',
  'DateStyle',
  'default_transaction_read_only',
  'in_hot_standby',
  'integer_datetimes',
  'IntervalStyle',
  'is_superuser',
  'server_encoding',
  'server_version',
  'session_authorization',
  'standard_conforming_strings',
  'TimeZone',
] as const;

export type Settings = ReadonlyMap<string, string>;

/** The role PGlite's backend runs as (its default user, the data directory's initdb superuser). */
export const BOOT_ROLE = 'postgres';

/** A stable key for a settings set: equal keys need no switch. */
export function settingsKey(settings: Settings): string {
  return JSON.stringify([...settings].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** SQL literal with standard_conforming_strings semantics (RESET ALL runs first, turning it on). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** An escape-string literal, for statements run with the user's settings: its meaning does not depend on standard_conforming_strings. */
export function escapeLiteral(value: string): string {
  return `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

export function simpleQuery(sql: string): Uint8Array {
  return new MessageWriter().begin(FrontendMessage.Query).cstring(sql).end().flush();
}

/**
 * Session-level state RESET ALL leaves alone (GUC_NO_RESET_ALL), set first, in this order: the
 * other settings are then set as the session's role, as the session set them.
 */
const AUTHORIZATION = ['session_authorization', 'role'];

/**
 * SQL that puts a session's settings on a backend that may carry another session's: its statements
 * and how many there are. `resetAuthorization`: the backend may carry another role (roles.ts), which
 * RESET ALL does not undo: the backend's own role comes back first.
 */
export function applySettingsSql(settings: Settings, resetAuthorization = false): { sql: string; statements: number } {
  const parts = resetAuthorization ? [`SET SESSION AUTHORIZATION ${quoteIdent(BOOT_ROLE)}`, 'RESET ALL'] : ['RESET ALL'];
  if (settings.size > 0) {
    const rank = (name: string) => (AUTHORIZATION.indexOf(name) + AUTHORIZATION.length + 1) % (AUTHORIZATION.length + 1);
    const ordered = [...settings].sort(([a], [b]) => rank(a) - rank(b));
    parts.push(`SELECT ${ordered.map(([n, v]) => `pg_catalog.set_config(${quoteLiteral(n)}, ${quoteLiteral(v)}, false)`).join(', ')}`);
  }
  return { sql: parts.join('; '), statements: parts.length };
}

/** Whether a session's settings carry a role other than the backend's (roles.ts). */
export function carriesRole(settings: Settings): boolean {
  return AUTHORIZATION.some((name) => settings.has(name));
}

export const SNAPSHOT_SQL =
  "SELECT name, setting, source = 'session' FROM pg_catalog.pg_settings WHERE source = 'session' OR name IN (" +
  REPORTED_PARAMETERS.map(quoteLiteral).join(', ') +
  ") UNION ALL SELECT 'is_superuser', pg_catalog.current_setting('is_superuser'), false" +
  // pg_settings hides these three; PGlite leaves session_authorization empty: it is the session user.
  // A role other than the backend's (roles.ts) is session state, and so is SET ROLE.
  ` UNION ALL SELECT 'session_authorization', session_user::text, session_user <> ${quoteLiteral(BOOT_ROLE)}` +
  " UNION ALL SELECT 'role', pg_catalog.current_setting('role'), true WHERE pg_catalog.current_setting('role') <> 'none'" +
  " UNION ALL SELECT '', pg_catalog.pg_backend_pid()::text, false" +
  // pg_settings hides custom (placeholder) settings such as TimescaleDB's: those a session changed
  // from their start-up value must move with the session too.
  ` UNION ALL SELECT s.name, s.value, true FROM (VALUES ${Object.entries(TIMESCALEDB_SETTINGS)
    .map(([n, v]) => `(${quoteLiteral(n)}, pg_catalog.current_setting(${quoteLiteral(n)}, true), ${quoteLiteral(v)})`)
    .join(', ')}) s (name, value, boot) WHERE s.value IS DISTINCT FROM s.boot`;

export interface Snapshot {
  /** The session-level settings (to re-apply on a switch). */
  readonly session: Map<string, string>;
  /** Current values of the reported parameters. */
  readonly reported: Map<string, string>;
  /** The backend's process id (pg_backend_pid()). */
  readonly processId: number;
}

/** Reads the result of SNAPSHOT_SQL. */
export function readSnapshot(output: Uint8Array): Snapshot {
  const session = new Map<string, string>();
  const reported = new Map<string, string>();
  const reportedNames = new Map<string, string>(REPORTED_PARAMETERS.map((n) => [n.toLowerCase(), n]));
  let processId = 0;
  for (const f of scanBackend(output)) {
    if (f.type !== BackendMessage.DataRow) continue;
    const [name, setting, isSession] = readDataRow(output.subarray(f.start + 5, f.end));
    if (name == null) continue;
    if (name === '') {
      processId = Number(setting);
      continue;
    }
    if (isSession === 't') session.set(name, setting ?? '');
    const rn = reportedNames.get(name.toLowerCase());
    if (rn) reported.set(rn, setting ?? '');
  }
  return { session, reported, processId };
}

/** The first ErrorResponse of a backend stream, decoded, if there is one. */
export function firstError(output: Uint8Array): Record<string, string> | undefined {
  for (const f of scanBackend(output)) {
    if (f.type === BackendMessage.ErrorResponse) return readErrorFields(output.subarray(f.start + 5, f.end));
  }
  return undefined;
}
