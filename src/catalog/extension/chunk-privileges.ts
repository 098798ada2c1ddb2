/**
 * @module catalog/extension/chunk-privileges
 * Chunks carry their hypertable's privileges, as in TimescaleDB: a new chunk (and a space-partitioned
 * time slice's table) gets the hypertable's table ACL, and GRANT/REVOKE on a hypertable
 * (by name, several at once, `ALL TABLES IN SCHEMA`, with column lists, grant options, CASCADE) is
 * applied to its chunks inside the statement, so that a failed statement changes neither.
 *
 * PostgreSQL does not tell an event trigger which objects a GRANT names, so the hypertables' ACLs are
 * read at ddl_command_start and compared at ddl_command_end: what the statement added to or took from
 * a hypertable is added to or taken from each of its partitions, so privileges granted on one chunk
 * by name stay as TimescaleDB keeps them. ACLs are written into pg_class/pg_attribute directly (as
 * TimescaleDB's `ts_copy_relation_acl` does in C): a GRANT run for another role could not keep the
 * grantor of a grant made through a grant option. Their pg_shdepend rows are kept as PostgreSQL's
 * `updateAclDependencies` keeps them, so DROP ROLE and DROP OWNED BY see the chunks' grants.
 */
import { CATALOG_SCHEMA as C, FIXED_SEARCH_PATH as PATH, FUNCTIONS_SCHEMA as F } from './schemas.js';

/** aclitem's letter for each privilege aclexplode names (PostgreSQL's ACL_*_CHR). */
const PRIVILEGE_LETTERS = `'{"SELECT": "r", "INSERT": "a", "UPDATE": "w", "DELETE": "d", "TRUNCATE": "D", "REFERENCES": "x", "TRIGGER": "t", "MAINTAIN": "m"}'::jsonb`;

/** The transaction-local setting holding the hypertables' privileges read before a GRANT/REVOKE. */
const BEFORE = 'orbit.hypertable_privileges';

export function chunkPrivilegesSql(): string {
  return `
-- The privileges of relation rel, one row per privilege as aclexplode gives it: att '' for the
-- table (NULL relacl: the owner's defaults), a column's name for its own.
CREATE FUNCTION ${F}.orbit_privilege_rows(rel oid)
RETURNS TABLE(att name, grantor oid, grantee oid, privilege text, grantable boolean)
LANGUAGE sql STABLE ${PATH} AS $body$
  SELECT ''::name, x.grantor, x.grantee, x.privilege_type, x.is_grantable
    FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) x WHERE c.oid = rel
  UNION ALL
  SELECT a.attname, x.grantor, x.grantee, x.privilege_type, x.is_grantable
    FROM pg_attribute a, aclexplode(a.attacl) x WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
$body$;

-- The aclitem[] of privilege rows (orbit_privilege_rows' shape, a jsonb array) for att (NULL: none).
CREATE FUNCTION ${F}.orbit_acl_of(privileges jsonb, a name) RETURNS aclitem[]
LANGUAGE sql STABLE ${PATH} AS $body$
  SELECT array_agg(format('%s=%s/%s', CASE WHEN w.grantee = 0 THEN '' ELSE quote_ident(pg_get_userbyid(w.grantee)) END,
                          w.letters, quote_ident(pg_get_userbyid(w.grantor)))::aclitem ORDER BY w.grantee, w.grantor)
  FROM (SELECT p.grantee, p.grantor, string_agg((${PRIVILEGE_LETTERS} ->> p.privilege) || CASE WHEN p.grantable THEN '*' ELSE '' END, '') AS letters
        FROM (SELECT r.grantee, r.grantor, r.privilege, bool_or(r.grantable) AS grantable
              FROM jsonb_to_recordset(privileges) AS r(att name, grantor oid, grantee oid, privilege text, grantable boolean)
              WHERE r.att = a GROUP BY 1, 2, 3) p
        GROUP BY 1, 2) w
$body$;

-- Sets the ACLs of relation rel (table and columns, by name) to privilege rows, and its shared
-- dependencies on roles to match, as updateAclDependencies keeps them: every grantee and grantor but
-- PUBLIC, the owner and pinned roles.
CREATE FUNCTION ${F}.orbit_set_privileges(rel oid, privileges jsonb) RETURNS void
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  db oid := (SELECT oid FROM pg_database WHERE datname = current_database());
BEGIN
  privileges := coalesce(privileges, '[]');
  -- No table privilege at all: SQL cannot make the one-dimensional empty ACL PostgreSQL's REVOKE
  -- leaves ('{}' has no dimension and fails every check, 22023), so one item granting nothing.
  UPDATE pg_class c SET relacl = coalesce(${F}.orbit_acl_of(privileges, ''),
    ARRAY[format('%s=/%s', quote_ident(pg_get_userbyid(c.relowner)), quote_ident(pg_get_userbyid(c.relowner)))::aclitem])
    WHERE c.oid = rel;
  UPDATE pg_attribute a SET attacl = ${F}.orbit_acl_of(privileges, a.attname)
    WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS DISTINCT FROM ${F}.orbit_acl_of(privileges, a.attname);
  DELETE FROM pg_shdepend d WHERE d.dbid = db AND d.classid = 'pg_class'::regclass AND d.objid = rel AND d.deptype = 'a';
  INSERT INTO pg_shdepend (dbid, classid, objid, objsubid, refclassid, refobjid, deptype)
    SELECT DISTINCT db, 'pg_class'::regclass, rel, m.sub, 'pg_authid'::regclass, m.role, 'a'
    FROM (SELECT 0 AS sub, x.grantee, x.grantor FROM pg_class c, aclexplode(c.relacl) x WHERE c.oid = rel
          UNION ALL
          SELECT a.attnum, x.grantee, x.grantor FROM pg_attribute a, aclexplode(a.attacl) x WHERE a.attrelid = rel) e,
         LATERAL (VALUES (e.sub, e.grantee), (e.sub, e.grantor)) m(sub, role)
    -- 12000: FirstUnpinnedObjectId; PostgreSQL records no dependency on pinned roles.
    WHERE m.role <> 0 AND m.role >= 12000 AND m.role <> (SELECT relowner FROM pg_class WHERE oid = rel);
END
$body$;

-- The privileges of rel given to target: a new partition of hypertable rel (chunk, slice table,
-- default partition) gets its table privileges, column privileges reaching existing chunks only
-- through GRANT, as in TimescaleDB (ts_copy_relation_acl copies relacl alone); \`columns\`: theirs
-- too (the table create_hypertable rebuilds). A NULL relacl (the owner's defaults) stays NULL.
CREATE FUNCTION ${F}.orbit_copy_privileges(rel regclass, target regclass, columns boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql ${PATH} AS $body$
BEGIN
  PERFORM ${F}.orbit_set_privileges(target, (SELECT jsonb_agg(to_jsonb(p)) FROM ${F}.orbit_privilege_rows(rel) p WHERE columns OR p.att = ''));
  UPDATE pg_class c SET relacl = NULL WHERE c.oid = target AND (SELECT s.relacl FROM pg_class s WHERE s.oid = rel) IS NULL;
END
$body$;

-- Every hypertable's privileges, as a jsonb array of orbit_privilege_rows' rows with their relid.
CREATE FUNCTION ${F}.orbit_hypertable_privileges() RETURNS jsonb
LANGUAGE sql STABLE ${PATH} AS $body$
  SELECT coalesce(jsonb_agg(to_jsonb(p) || jsonb_build_object('rel', h.relid::oid)), '[]')
  FROM ${C}.hypertable h, ${F}.orbit_privilege_rows(h.relid) p
$body$;

CREATE FUNCTION ${F}.orbit_on_grant_start() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER ${PATH} AS $body$
BEGIN
  PERFORM set_config('${BEFORE}', ${F}.orbit_hypertable_privileges()::text, true);
END
$body$;

-- What the statement changed on each hypertable, applied to each of its partitions.
CREATE FUNCTION ${F}.orbit_on_grant_end() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER ${PATH} AS $body$
DECLARE
  before jsonb := nullif(current_setting('${BEFORE}', true), '')::jsonb;
  after jsonb;
  h record;
  part oid;
BEGIN
  PERFORM set_config('${BEFORE}', '', true);
  IF before IS NULL THEN
    RETURN;
  END IF;
  after := ${F}.orbit_hypertable_privileges();
  FOR h IN
    WITH b AS (SELECT e - 'rel' AS p, (e ->> 'rel')::oid AS rel FROM jsonb_array_elements(before) e),
         a AS (SELECT e - 'rel' AS p, (e ->> 'rel')::oid AS rel FROM jsonb_array_elements(after) e)
    SELECT r.rel,
           (SELECT coalesce(jsonb_agg(x.p), '[]') FROM (SELECT p FROM b WHERE b.rel = r.rel EXCEPT SELECT p FROM a WHERE a.rel = r.rel) x) AS removed,
           (SELECT coalesce(jsonb_agg(x.p), '[]') FROM (SELECT p FROM a WHERE a.rel = r.rel EXCEPT SELECT p FROM b WHERE b.rel = r.rel) x) AS added
    FROM (SELECT rel FROM b UNION SELECT rel FROM a) r
  LOOP
    CONTINUE WHEN h.removed = '[]' AND h.added = '[]';
    FOR part IN SELECT t.relid FROM pg_partition_tree(h.rel) t WHERE t.level > 0 LOOP
      PERFORM ${F}.orbit_set_privileges(part, (
        SELECT jsonb_agg(x.p) FROM (
          SELECT to_jsonb(c) AS p FROM ${F}.orbit_privilege_rows(part) c
          EXCEPT SELECT jsonb_array_elements(h.removed)
          UNION SELECT jsonb_array_elements(h.added)) x));
    END LOOP;
  END LOOP;
END
$body$;

CREATE EVENT TRIGGER orbit_timescaledb_grant_start ON ddl_command_start WHEN TAG IN ('GRANT', 'REVOKE')
  EXECUTE FUNCTION ${F}.orbit_on_grant_start();
CREATE EVENT TRIGGER orbit_timescaledb_grant_end ON ddl_command_end WHEN TAG IN ('GRANT', 'REVOKE')
  EXECUTE FUNCTION ${F}.orbit_on_grant_end();
`;
}
