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
-- The ACLs of relation rel as text, by column name ('' for the table; a NULL relacl as the owner's
-- defaults): cheap to read for every hypertable at each GRANT, and compared as a whole.
CREATE FUNCTION ${F}.orbit_acls(rel oid) RETURNS jsonb
LANGUAGE sql STABLE ${PATH} AS $body$
  SELECT jsonb_build_object('', coalesce(c.relacl, acldefault('r', c.relowner))::text)
      || coalesce((SELECT jsonb_object_agg(a.attname, a.attacl::text) FROM pg_attribute a
                   WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL), '{}')
  FROM pg_class c WHERE c.oid = rel
$body$;

-- orbit_acls' ACLs one row per privilege, as aclexplode gives them.
CREATE FUNCTION ${F}.orbit_acl_rows(acls jsonb)
RETURNS TABLE(att name, grantor oid, grantee oid, privilege text, grantable boolean)
LANGUAGE sql STABLE ${PATH} AS $body$
  SELECT a.key::name, x.grantor, x.grantee, x.privilege_type, x.is_grantable
  -- '{}' (all revoked) reads back without a dimension, which aclexplode refuses (it is strict: NULL, no rows).
  FROM jsonb_each_text(acls) a, aclexplode(CASE WHEN a.value <> '{}' THEN a.value::aclitem[] END) x
$body$;

-- The aclitem[] of privilege rows (orbit_acl_rows' shape, a jsonb array) for att (NULL: none).
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

-- The shared dependencies of relation rel on the roles its ACLs name, as updateAclDependencies
-- keeps them: every grantee and grantor but PUBLIC, the owner and pinned roles.
CREATE FUNCTION ${F}.orbit_acl_dependencies(rel oid) RETURNS void
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  db oid := (SELECT oid FROM pg_database WHERE datname = current_database());
BEGIN
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

-- Sets the ACLs of relation rel (table and columns, by name) to privilege rows, and its shared
-- dependencies to match.
CREATE FUNCTION ${F}.orbit_set_privileges(rel oid, privileges jsonb) RETURNS void
LANGUAGE plpgsql ${PATH} AS $body$
BEGIN
  privileges := coalesce(privileges, '[]');
  -- No table privilege at all: SQL cannot make the one-dimensional empty ACL PostgreSQL's REVOKE
  -- leaves ('{}' has no dimension and fails every check, 22023), so one item granting nothing.
  UPDATE pg_class c SET relacl = coalesce(${F}.orbit_acl_of(privileges, ''),
    ARRAY[format('%s=/%s', quote_ident(pg_get_userbyid(c.relowner)), quote_ident(pg_get_userbyid(c.relowner)))::aclitem])
    WHERE c.oid = rel;
  UPDATE pg_attribute a SET attacl = ${F}.orbit_acl_of(privileges, a.attname)
    WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS DISTINCT FROM ${F}.orbit_acl_of(privileges, a.attname);
  PERFORM ${F}.orbit_acl_dependencies(rel);
END
$body$;

-- The privileges of rel given to target, its ACLs copied as they are (as ts_copy_relation_acl
-- copies relacl): a new partition of hypertable rel (chunk, slice table, default partition) gets its
-- table privileges, column privileges reaching existing chunks only through GRANT, as in
-- TimescaleDB; \`columns\`: theirs too, by name (the table create_hypertable rebuilds).
CREATE FUNCTION ${F}.orbit_copy_privileges(rel regclass, target regclass, columns boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql ${PATH} AS $body$
BEGIN
  UPDATE pg_class t SET relacl = s.relacl FROM pg_class s WHERE s.oid = rel AND t.oid = target AND t.relacl IS DISTINCT FROM s.relacl;
  IF columns THEN
    UPDATE pg_attribute t SET attacl = s.attacl FROM pg_attribute s
      WHERE s.attrelid = rel AND t.attrelid = target AND s.attname = t.attname AND s.attnum > 0 AND NOT s.attisdropped AND t.attacl IS DISTINCT FROM s.attacl;
  END IF;
  PERFORM ${F}.orbit_acl_dependencies(target);
END
$body$;

-- orbit_acls of every hypertable, by relid.
CREATE FUNCTION ${F}.orbit_hypertable_acls() RETURNS jsonb
LANGUAGE sql STABLE ${PATH} AS $body$
  SELECT coalesce(jsonb_object_agg(h.relid::oid::text, ${F}.orbit_acls(h.relid)), '{}') FROM ${C}.hypertable h
$body$;

CREATE FUNCTION ${F}.orbit_on_grant_start() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER ${PATH} AS $body$
BEGIN
  PERFORM set_config('${BEFORE}', ${F}.orbit_hypertable_acls()::text, true);
END
$body$;

-- What the statement changed on each hypertable, applied to each of its partitions.
CREATE FUNCTION ${F}.orbit_on_grant_end() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER ${PATH} AS $body$
DECLARE
  before jsonb := nullif(current_setting('${BEFORE}', true), '')::jsonb;
  after jsonb;
  h record;
  removed jsonb;
  added jsonb;
  part oid;
BEGIN
  PERFORM set_config('${BEFORE}', '', true);
  after := ${F}.orbit_hypertable_acls();
  IF before IS NULL OR before = after THEN
    RETURN;
  END IF;
  FOR h IN SELECT a.key::oid AS rel, before -> a.key AS was, a.value AS now FROM jsonb_each(after) a LOOP
    CONTINUE WHEN h.was IS NULL OR h.was = h.now;
    removed := (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM (
      SELECT * FROM ${F}.orbit_acl_rows(h.was) EXCEPT SELECT * FROM ${F}.orbit_acl_rows(h.now)) x);
    added := (SELECT coalesce(jsonb_agg(to_jsonb(x)), '[]') FROM (
      SELECT * FROM ${F}.orbit_acl_rows(h.now) EXCEPT SELECT * FROM ${F}.orbit_acl_rows(h.was)) x);
    FOR part IN SELECT t.relid FROM pg_partition_tree(h.rel) t WHERE t.level > 0 LOOP
      PERFORM ${F}.orbit_set_privileges(part, (
        SELECT jsonb_agg(to_jsonb(x)) FROM (
          SELECT * FROM ${F}.orbit_acl_rows(${F}.orbit_acls(part))
          EXCEPT SELECT * FROM jsonb_to_recordset(removed) AS r(att name, grantor oid, grantee oid, privilege text, grantable boolean)
          UNION SELECT * FROM jsonb_to_recordset(added) AS r(att name, grantor oid, grantee oid, privilege text, grantable boolean)) x));
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
