/**
 * @module catalog/extension/owner-calls
 * The catalog writes a hypertable's owner may ask for (TimescaleDB lets a table's owner, not only a
 * superuser, create a hypertable, add dimensions, change chunk intervals and columnstore settings):
 * `create_hypertable`, `add_dimension`, `set_chunk_time_interval`, `set_number_partitions`,
 * `set_integer_now_func` and `ALTER TABLE … SET (timescaledb.…)`.
 *
 * They write catalog rows Orbit's internals trust (chunk names, column lists) and create tables in
 * `_timescaledb_internal`, so no role may write them directly. The user-facing function instead
 * inserts a row into `orbit_owner_call`; row security proves who asked (`caller` must be
 * current_user: PostgreSQL's own answer, SET ROLE and the user's SECURITY DEFINER functions
 * included), and the table's SECURITY DEFINER trigger checks that this role owns the table and runs
 * the operation (its `*_impl` function, executable by the extension's owner alone). A row names an
 * operation, never SQL, and the trigger removes it. User code (rows moved by migrate_data, triggers)
 * stays with the caller: the trigger only rebuilds the table and writes the catalog.
 */
import { ErrCode as E } from './errcodes.js';
import { CATALOG_SCHEMA as C, FIXED_SEARCH_PATH as PATH, FUNCTIONS_SCHEMA as F, INTERNAL_SCHEMA as I } from './schemas.js';

export const OWNER_CALL_TABLE = `${C}.orbit_owner_call`;

/** Row security of OWNER_CALL_TABLE (privileges.ts): a role inserts calls as itself only. */
export const OWNER_CALL_ROWS = `caller::oid = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user)`;

export function ownerCallsSql(): string {
  return `
CREATE TABLE ${OWNER_CALL_TABLE} (
  id bigserial PRIMARY KEY,
  caller regrole NOT NULL,
  op text NOT NULL,
  rel regclass NOT NULL,
  args jsonb NOT NULL
);

-- Carries out a call: the caller must own rel (TimescaleDB's ts_hypertable_permissions_check).
CREATE FUNCTION ${F}.orbit_on_owner_call() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER ${PATH} AS $body$
DECLARE
  a jsonb := NEW.args;
  x record;
BEGIN
  DELETE FROM ${OWNER_CALL_TABLE} WHERE id = NEW.id;
  IF NOT pg_has_role(NEW.caller::oid, (SELECT relowner FROM pg_class WHERE oid = NEW.rel), 'USAGE') THEN
    RAISE EXCEPTION 'must be owner of %', CASE NEW.op WHEN 'alter_table_set' THEN 'table ' || (SELECT relname FROM pg_class WHERE oid = NEW.rel)
      ELSE format('hypertable "%s"', (SELECT relname FROM pg_class WHERE oid = NEW.rel)) END USING ERRCODE = '${E.insufficient_privilege}';
  END IF;
  CASE NEW.op
  WHEN 'create_hypertable' THEN
    SELECT * INTO x FROM jsonb_to_record(a) AS j(dim ${I}.dimension_info, space ${I}.dimension_info, create_default_indexes boolean,
      migrate_data boolean, associated_schema_name name, associated_table_prefix name);
    IF x.associated_schema_name IS DISTINCT FROM '${I}' AND x.associated_schema_name IS NOT NULL
       AND NOT has_schema_privilege(NEW.caller::oid, x.associated_schema_name::text, 'CREATE') THEN
      RAISE EXCEPTION 'permissions denied: cannot create chunks in schema "%"', x.associated_schema_name
        USING ERRCODE = '${E.insufficient_privilege}';
    END IF;
    PERFORM ${F}.orbit_create_hypertable_impl(NEW.rel, x.dim, x.create_default_indexes, x.migrate_data,
      x.associated_schema_name, x.associated_table_prefix, x.space);
  WHEN 'add_dimension' THEN
    SELECT * INTO x FROM jsonb_to_record(a) AS j(dim ${I}.dimension_info, if_not_exists boolean);
    PERFORM ${F}.orbit_add_dimension_impl(NEW.rel, x.dim, x.if_not_exists);
  WHEN 'set_chunk_time_interval' THEN
    SELECT * INTO x FROM jsonb_to_record(a) AS j(itype regtype, ival text, dimension_name name);
    PERFORM ${F}.orbit_set_chunk_time_interval_impl(NEW.rel, x.itype, x.ival, x.dimension_name);
  WHEN 'set_number_partitions' THEN
    SELECT * INTO x FROM jsonb_to_record(a) AS j(number_partitions integer, dimension_name name);
    PERFORM ${F}.orbit_set_number_partitions_impl(NEW.rel, x.number_partitions, x.dimension_name);
  WHEN 'set_integer_now_func' THEN
    SELECT * INTO x FROM jsonb_to_record(a) AS j(func oid);
    IF NOT has_function_privilege(NEW.caller::oid, x.func, 'EXECUTE') THEN
      RAISE EXCEPTION 'permission denied for function %', x.func::regproc USING ERRCODE = '${E.insufficient_privilege}';
    END IF;
    PERFORM ${F}.orbit_set_integer_now_func_impl(NEW.rel, x.func::regproc);
  WHEN 'alter_table_set' THEN
    SELECT * INTO x FROM jsonb_to_record(a) AS j(chunk_interval text, columnstore boolean, segmentby text[], orderby text[],
      orderby_desc boolean[], orderby_nullsfirst boolean[], compress_interval interval, reset_segmentby boolean, reset_orderby boolean);
    PERFORM ${F}.orbit_alter_table_set_impl(NEW.rel, x.chunk_interval, x.columnstore, x.segmentby, x.orderby, x.orderby_desc,
      x.orderby_nullsfirst, x.compress_interval, x.reset_segmentby, x.reset_orderby);
  END CASE;
  RETURN NULL;
END
$body$;
CREATE TRIGGER orbit_owner_call AFTER INSERT ON ${OWNER_CALL_TABLE} FOR EACH ROW EXECUTE FUNCTION ${F}.orbit_on_owner_call();

-- Asks for operation op on rel as the current role (the trigger above carries it out).
CREATE FUNCTION ${F}.orbit_owner_call(op text, rel regclass, args jsonb) RETURNS void
LANGUAGE sql ${PATH} AS $body$
  INSERT INTO ${OWNER_CALL_TABLE} (caller, op, rel, args)
    SELECT r.oid, op, rel, args FROM pg_roles r WHERE r.rolname = current_user
$body$;

-- The operations themselves: only the trigger (running as the extension's owner) calls them.
REVOKE EXECUTE ON FUNCTION ${F}.orbit_create_hypertable_impl(regclass, ${I}.dimension_info, boolean, boolean, name, name, ${I}.dimension_info),
  ${F}.orbit_add_dimension_impl(regclass, ${I}.dimension_info, boolean),
  ${F}.orbit_set_chunk_time_interval_impl(regclass, regtype, text, name),
  ${F}.orbit_set_number_partitions_impl(regclass, integer, name),
  ${F}.orbit_set_integer_now_func_impl(regclass, regproc),
  ${F}.orbit_alter_table_set_impl(regclass, text, boolean, text[], text[], boolean[], boolean[], interval, boolean, boolean) FROM PUBLIC;
`;
}
