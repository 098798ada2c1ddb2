/**
 * @module catalog/extension/privileges
 * Who may call the extension's functions and write its catalog (docs/sessions.md, "Roles").
 *
 * - SECURITY DEFINER functions (chunk creation, pointing chunks at manifests, the job scheduler's
 *   bookkeeping, event triggers) are Orbit's internals: executable by the backend's role alone, which
 *   Orbit's session layer switches to for them (session/roles.ts). PostgreSQL gives EXECUTE to PUBLIC
 *   on every new function, so it is taken back here from every such member of the extension.
 * - The user-facing functions run as the caller (SECURITY INVOKER), check what TimescaleDB checks
 *   (`orbit_require_owner`: `must be owner of hypertable`, 42501) and write the few catalog rows a
 *   role may own through row security: requests to convert its hypertables' chunks, their
 *   direct_compress option, jobs of a role it is a member of, and calls of the catalog writes no
 *   role may make itself (owner-calls.ts: the row names its caller, and a definer trigger checks
 *   that role). Inside a SECURITY DEFINER function the caller is not visible to PL/pgSQL, so a
 *   check there could only ask about session_user; as the invoker, current_user is exactly whom
 *   PostgreSQL and TimescaleDB check.
 *
 * Idempotent: it ends the install script and also runs whenever Orbit opens a data directory where the
 * extension exists (rowstore/extension-files.ts), since the extension has no upgrade scripts and older
 * directories were installed with EXECUTE for PUBLIC on everything.
 */
import { CATALOG_SCHEMA as C, FUNCTIONS_SCHEMA as F, INTERNAL_SCHEMA as I } from './schemas.js';
import { OWNER_CALL_ROWS, OWNER_CALL_TABLE } from './owner-calls.js';
import { TIMESCALEDB_EXTENSION } from './version.js';

const JOB = '_timescaledb_config.bgw_job';

/** Whether current_user may act for the owner of hypertable `id`. */
const ownsHypertable = (id: string) =>
  `pg_catalog.pg_has_role(current_user, (SELECT c.relowner FROM pg_catalog.pg_class c JOIN ${C}.hypertable h ON h.relid = c.oid WHERE h.id = ${id}), 'USAGE')`;
const mayActAs = (owner: string) => `pg_catalog.pg_has_role(current_user, ${owner}, 'MEMBER')`;

/** Catalog tables a role writes rows of, and which rows. */
const OWN_ROWS: ReadonlyArray<{ table: string; rows: string; sequence?: string }> = [
  { table: `${C}.orbit_columnstore_request`, rows: ownsHypertable(`(SELECT ch.hypertable_id FROM ${C}.chunk ch WHERE ch.id = chunk_id)`), sequence: `${C}.orbit_columnstore_request_id_seq` },
  { table: `${C}.orbit_direct_compress`, rows: ownsHypertable('hypertable_id') },
  { table: JOB, rows: mayActAs('owner'), sequence: '_timescaledb_config.bgw_job_id_seq' },
  { table: `${I}.bgw_job_stat`, rows: `EXISTS (SELECT FROM ${JOB} j WHERE j.id = job_id AND ${mayActAs('j.owner')})` },
  // Calls for a table's owner (owner-calls.ts): a role asks as itself; the trigger checks ownership.
  { table: OWNER_CALL_TABLE, rows: OWNER_CALL_ROWS, sequence: `${OWNER_CALL_TABLE}_id_seq` },
];

/** Functions that were SECURITY DEFINER in data directories installed before row security (an SQL list of names). */
const NOW_INVOKER = ['orbit_request_conversion', 'orbit_set_direct_compress', 'orbit_job_insert', 'orbit_job_update', 'orbit_job_delete']
  .map((n) => `'${n}'`)
  .join(', ');

/** The extension's SECURITY DEFINER functions (`p`), as a FROM … WHERE clause. */
const EXTENSION_DEFINERS = `FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid
      WHERE p.prosecdef AND d.deptype = 'e' AND d.refclassid = 'pg_catalog.pg_extension'::regclass
        AND d.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = '${TIMESCALEDB_EXTENSION}')`;

export function privilegesSql(): string {
  // Each table only where it exists: a directory installed by an older build may lack the newer ones.
  const tables = OWN_ROWS.map(
    (t) => `  IF pg_catalog.to_regclass('${t.table}') IS NOT NULL THEN
    ALTER TABLE ${t.table} ENABLE ROW LEVEL SECURITY;
    DROP POLICY IF EXISTS orbit_read ON ${t.table};
    CREATE POLICY orbit_read ON ${t.table} FOR SELECT USING (true);
    DROP POLICY IF EXISTS orbit_own_rows ON ${t.table};
    CREATE POLICY orbit_own_rows ON ${t.table} USING (${t.rows}) WITH CHECK (${t.rows});
    GRANT INSERT, UPDATE, DELETE ON ${t.table} TO PUBLIC;${t.sequence ? `\n    GRANT USAGE ON SEQUENCE ${t.sequence} TO PUBLIC;` : ''}
  END IF;`,
  );
  return `
DO $body$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p
      WHERE p.pronamespace = '${F}'::regnamespace AND p.proname IN (${NOW_INVOKER}) AND p.prosecdef LOOP
    EXECUTE format('ALTER FUNCTION %s SECURITY INVOKER', f);
  END LOOP;
  FOR f IN SELECT p.oid ${EXTENSION_DEFINERS} LOOP
    EXECUTE format('REVOKE EXECUTE ON ROUTINE %s FROM PUBLIC', f);
  END LOOP;
${tables.join('\n')}
END
$body$;
`;
}

/**
 * `privilegesSql` at open when the extension is installed and some privilege is not yet this build's
 * (an internal function PUBLIC may execute, one of NOW_INVOKER still a definer, a table without row
 * security), nothing otherwise: no catalog writes at every open.
 */
export function repairPrivilegesSql(): string {
  return `DO $repair$
BEGIN
  IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = '${TIMESCALEDB_EXTENSION}')
     AND (EXISTS (SELECT ${EXTENSION_DEFINERS}
                    AND (pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE') OR p.proname IN (${NOW_INVOKER})))
          OR EXISTS (SELECT FROM pg_catalog.pg_class c
                     WHERE c.oid IN (${OWN_ROWS.map((t) => `pg_catalog.to_regclass('${t.table}')`).join(', ')}) AND NOT c.relrowsecurity)) THEN
    EXECUTE $privileges$${privilegesSql()}$privileges$;
  END IF;
END
$repair$`;
}
