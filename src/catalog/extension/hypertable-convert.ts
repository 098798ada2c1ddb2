/**
 * @module catalog/extension/hypertable-convert
 * `create_hypertable` (both forms), `set_chunk_time_interval` and `set_partitioning_interval`.
 *
 * The conversion follows docs/design/hypertables-rowstore.md: the table is rebuilt as
 * `PARTITION BY RANGE (time)` under the same name, with its columns, defaults, identity, generated
 * columns, CHECK/NOT NULL constraints, primary key, unique and other indexes (same names), foreign
 * keys to other tables, triggers, table and column grants (grant options and grantors kept),
 * comments and owner; serial sequences are re-owned and identity sequences carry on. A default
 * partition `<associated_schema>.<prefix>_default` catches rows without a chunk; chunks.ts moves
 * them into chunks.
 *
 * A space column (`partitioning_column` + `number_partitions`) is added with space-dimensions.ts's
 * `orbit_add_dimension` before existing rows move, so they land in chunks of both dimensions. Time
 * partitioning functions fail with 0A000 "… not supported by Orbit yet".
 */
import { ErrCode as E } from './errcodes.js';
import { CATALOG_SCHEMA as C, EXTENSION_SCHEMA as EXT, FIXED_SEARCH_PATH as PATH, FUNCTIONS_SCHEMA as F, INTERNAL_SCHEMA as I } from './schemas.js';



export function hypertableConvertSql(): string {
  return `
-- Rebuilds rel (a plain table) as a table of the same name partitioned by RANGE (col), with a default
-- partition; returns the new table. Rows are left in the old table, returned as old_rel; triggers are
-- not carried over (orbit_create_hypertable creates them again once the rows have moved).
CREATE FUNCTION ${F}.orbit_rebuild_partitioned(rel regclass, col name, default_schema name, default_name name,
  OUT new_rel regclass, OUT old_rel regclass)
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  nsp name; tbl name; owner name; com text;
  tmp name := '_orbit_old_' || rel::oid;
  stmts text[];
  s text;
  r record;
BEGIN
  SELECT n.nspname, c.relname, pg_get_userbyid(c.relowner), obj_description(c.oid, 'pg_class')
    INTO nsp, tbl, owner, com
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = rel;
  -- Definitions, captured while they still print the original names.
  stmts := ARRAY(
    SELECT format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', nsp, tbl, conname, pg_get_constraintdef(oid))
      FROM pg_constraint WHERE conrelid = rel AND contype IN ('p', 'u', 'x', 'f') ORDER BY contype = 'f', oid)
    || ARRAY(SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x
      WHERE x.indrelid = rel AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.conrelid = rel)
      ORDER BY x.indexrelid);
  -- Free the names: the old table and its indexes move aside.
  FOR r IN SELECT x.indexrelid::regclass AS idx FROM pg_index x WHERE x.indrelid = rel LOOP
    EXECUTE format('ALTER INDEX %s RENAME TO %I', r.idx, '_orbit_old_' || r.idx::oid);
  END LOOP;
  EXECUTE format('ALTER TABLE %I.%I RENAME TO %I', nsp, tbl, tmp);
  old_rel := format('%I.%I', nsp, tmp)::regclass;
  EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING ALL EXCLUDING INDEXES) PARTITION BY RANGE (%I)', nsp, tbl, old_rel, col);
  new_rel := format('%I.%I', nsp, tbl)::regclass;
  EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET NOT NULL', new_rel, col);
  FOREACH s IN ARRAY stmts LOOP
    EXECUTE s;
  END LOOP;
  EXECUTE format('ALTER TABLE %s OWNER TO %I', new_rel, owner);
  -- Grants as they were, grant options and grantors too (a GRANT here would be the owner's own).
  PERFORM ${F}.orbit_copy_privileges(old_rel, new_rel, true);
  IF com IS NOT NULL THEN
    EXECUTE format('COMMENT ON TABLE %s IS %L', new_rel, com);
  END IF;
  -- Serial sequences follow their column; identity sequences carry on where the old ones were.
  FOR r IN SELECT d.objid::regclass AS seq, a.attname FROM pg_depend d
      JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
      JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
      WHERE d.classid = 'pg_class'::regclass AND d.refobjid = old_rel AND d.deptype = 'a' LOOP
    EXECUTE format('ALTER SEQUENCE %s OWNED BY %s.%I', r.seq, new_rel, r.attname);
  END LOOP;
  FOR r IN SELECT a.attname, pg_get_serial_sequence(old_rel::text, a.attname) AS old_seq,
                  pg_get_serial_sequence(new_rel::text, a.attname) AS new_seq
      FROM pg_attribute a WHERE a.attrelid = old_rel AND a.attidentity <> '' LOOP
    EXECUTE format('SELECT setval(%L, last_value, is_called) FROM %s', r.new_seq, r.old_seq);
  END LOOP;
  EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT', default_schema, default_name, new_rel);
  EXECUTE format('ALTER TABLE %I.%I OWNER TO %I', default_schema, default_name, owner);
  PERFORM ${F}.orbit_copy_privileges(new_rel, format('%I.%I', default_schema, default_name)::regclass);
END
$body$;

-- create_hypertable, both forms. Returns the hypertable id and whether it was created. The caller
-- then moves the rows (as itself: the table's defaults, checks and triggers are its own code) and
-- puts the triggers back, which the rebuild leaves out so that moved rows do not fire them.
CREATE FUNCTION ${F}.orbit_create_hypertable(relation regclass, dim ${I}.dimension_info, create_default_indexes boolean,
  if_not_exists boolean, migrate_data boolean, associated_schema_name name, associated_table_prefix name,
  space ${I}.dimension_info DEFAULT NULL, OUT hypertable_id integer, OUT created boolean)
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  tbl name;
  nsp name;
  triggers text[];
  new_rel regclass;
  cols text;
  s text;
BEGIN
  IF relation IS NULL THEN
    RAISE EXCEPTION 'relation cannot be NULL' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  SELECT c.relname, n.nspname INTO tbl, nsp FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = relation;
  hypertable_id := ${F}.orbit_hypertable_id(relation);
  IF hypertable_id IS NOT NULL THEN
    IF if_not_exists THEN
      RAISE NOTICE 'table "%" is already a hypertable, skipping', tbl;
      created := false;
      RETURN;
    END IF;
    RAISE EXCEPTION 'table "%" is already a hypertable', tbl USING ERRCODE = '${E.ts_hypertable_exists}';
  END IF;
  PERFORM ${F}.orbit_require_owner(relation);
  triggers := ARRAY(SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = relation AND NOT tgisinternal ORDER BY oid);
  PERFORM ${F}.orbit_owner_call('create_hypertable', relation, jsonb_build_object('dim', dim, 'space', space,
    'create_default_indexes', create_default_indexes, 'migrate_data', migrate_data,
    'associated_schema_name', associated_schema_name, 'associated_table_prefix', associated_table_prefix));
  -- The rebuilt table has the old name; relation is the old table, renamed.
  SELECT h.id, h.relid INTO hypertable_id, new_rel FROM ${C}.hypertable h WHERE h.schema_name = nsp AND h.table_name = tbl;
  cols := ${F}.orbit_insert_columns(relation);
  EXECUTE format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s', new_rel, cols, cols, relation);
  EXECUTE format('DROP TABLE %s', relation);
  FOREACH s IN ARRAY triggers LOOP
    EXECUTE s;
  END LOOP;
  created := true;
END
$body$;

-- The conversion (run for the table's owner by owner-calls.ts): checks, rebuild, catalog rows, and the
-- chunks for the rows still in the old table (renamed _orbit_old_<oid>), which the caller then moves.
CREATE FUNCTION ${F}.orbit_create_hypertable_impl(relation regclass, dim ${I}.dimension_info, create_default_indexes boolean,
  migrate_data boolean, associated_schema_name name, associated_table_prefix name, space ${I}.dimension_info) RETURNS void
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  tbl name;
  nsp name;
  hypertable_id integer;
  att record;
  iv bigint;
  conv record;
  assoc_schema name := coalesce(associated_schema_name, '${I}');
  prefix name;
  v bigint;
BEGIN
  IF dim.column_name IS NULL THEN
    RAISE EXCEPTION 'partition column cannot be NULL' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  SELECT c.relname, n.nspname INTO tbl, nsp FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = relation;
  IF ${F}.orbit_hypertable_id(relation) IS NOT NULL THEN
    RAISE EXCEPTION 'table "%" is already a hypertable', tbl USING ERRCODE = '${E.ts_hypertable_exists}';
  END IF;
  IF NOT dim.is_open THEN
    RAISE EXCEPTION 'cannot partition using a closed dimension on primary column'
      USING ERRCODE = '${E.wrong_object_type}', HINT = 'Use range partitioning on the primary column.';
  END IF;
  SELECT a.attnum, a.atttypid::regtype AS typ, a.attgenerated INTO att FROM pg_attribute a
    WHERE a.attrelid = relation AND a.attname = dim.column_name AND a.attnum > 0 AND NOT a.attisdropped;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'column "%" does not exist', dim.column_name USING ERRCODE = '${E.undefined_column}';
  END IF;
  IF dim.partition_func IS NOT NULL THEN
    RAISE EXCEPTION 'partitioning functions are not supported by Orbit yet' USING ERRCODE = '${E.feature_not_supported}';
  END IF;
  IF att.typ NOT IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype, 'date'::regtype,
                     'timestamp'::regtype, 'timestamptz'::regtype) THEN
    RAISE EXCEPTION 'invalid type for dimension "%"', dim.column_name
      USING ERRCODE = '${E.wrong_object_type}', HINT = 'Use an integer, timestamp, or date type.';
  END IF;
  IF att.attgenerated <> '' THEN
    RAISE EXCEPTION 'invalid partitioning column'
      USING ERRCODE = '${E.feature_not_supported}', HINT = 'Generated columns cannot be used as partitioning dimensions.';
  END IF;
  iv := ${F}.orbit_interval_length(att.typ, dim.interval_type, dim.interval_value);
  IF space.column_name IS NOT NULL THEN
    PERFORM ${F}.orbit_validate_closed(relation, space);
  END IF;
  IF att.typ = 'timestamp'::regtype THEN
    RAISE WARNING 'column type "timestamp without time zone" used for "%" does not follow best practices', dim.column_name
      USING HINT = 'Use datatype TIMESTAMPTZ instead.';
  END IF;
  PERFORM ${F}.orbit_check_convertible(relation, dim.column_name, migrate_data);

  hypertable_id := nextval('${C}.hypertable_id_seq');
  prefix := coalesce(associated_table_prefix, '_hyper_' || hypertable_id);
  conv := ${F}.orbit_rebuild_partitioned(relation, dim.column_name, assoc_schema, (prefix || '_default')::name);
  INSERT INTO ${C}.hypertable (id, schema_name, table_name, associated_schema_name, associated_table_prefix, num_dimensions, relid)
    VALUES (hypertable_id, nsp, tbl, assoc_schema, prefix, 1, conv.new_rel);
  INSERT INTO ${C}.dimension (hypertable_id, column_name, column_type, aligned, interval_length)
    VALUES (hypertable_id, dim.column_name, att.typ, true, iv);
  IF space.column_name IS NOT NULL THEN
    PERFORM ${F}.orbit_add_dimension_impl(conv.new_rel, space, false);
  END IF;
  -- TimescaleDB's default indexes, unless an index on the time column alone (and one on the space
  -- column then the time column) exists.
  IF create_default_indexes AND NOT EXISTS (
      SELECT FROM pg_index x WHERE x.indrelid = conv.new_rel AND x.indnkeyatts = 1 AND x.indkey[0] = att.attnum) THEN
    EXECUTE format('CREATE INDEX ON %s (%I DESC)', conv.new_rel, dim.column_name);
  END IF;
  IF create_default_indexes AND space.column_name IS NOT NULL AND NOT EXISTS (
      SELECT FROM pg_index x WHERE x.indrelid = conv.new_rel AND x.indnkeyatts >= 2 AND x.indkey[1] = att.attnum
        AND x.indkey[0] = (SELECT attnum FROM pg_attribute WHERE attrelid = conv.new_rel AND attname = space.column_name)) THEN
    EXECUTE format('CREATE INDEX ON %s (%I, %I DESC)', conv.new_rel, space.column_name, dim.column_name);
  END IF;
  -- Existing rows: their chunks first (empty, so attaching is free; with a space dimension, every
  -- chunk of each time slice), then one routed INSERT.
  FOR v IN EXECUTE format('SELECT DISTINCT (${F}.orbit_aligned_range(${F}.time_to_internal(%I), %s)).range_start FROM %s ORDER BY 1',
                          dim.column_name, iv, conv.old_rel) LOOP
    PERFORM ${F}.orbit_create_chunk(hypertable_id, v);
  END LOOP;
END
$body$;


CREATE FUNCTION ${EXT}.create_hypertable(relation regclass, time_column_name name, partitioning_column name = NULL,
  number_partitions integer = NULL, associated_schema_name name = NULL, associated_table_prefix name = NULL,
  chunk_time_interval anyelement = NULL::bigint, create_default_indexes boolean = true, if_not_exists boolean = false,
  partitioning_func regproc = NULL, migrate_data boolean = false, time_partitioning_func regproc = NULL)
RETURNS TABLE(hypertable_id integer, schema_name name, table_name name, created boolean)
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE r record;
BEGIN
  IF partitioning_column IS NOT NULL THEN
    IF number_partitions IS NULL THEN
      RAISE EXCEPTION 'invalid number of partitions for dimension "%"', partitioning_column USING ERRCODE = '${E.invalid_parameter_value}',
        HINT = 'A closed (space) dimension must specify between 1 and 32767 partitions.';
    END IF;
  END IF;
  r := ${F}.orbit_create_hypertable(relation,
    ROW(time_column_name, true, pg_typeof(chunk_time_interval), chunk_time_interval::text, NULL, time_partitioning_func)::${I}.dimension_info,
    create_default_indexes, if_not_exists, migrate_data, associated_schema_name, associated_table_prefix,
    CASE WHEN partitioning_column IS NOT NULL
      THEN ROW(partitioning_column, false, NULL, NULL, number_partitions, partitioning_func)::${I}.dimension_info END);
  RETURN QUERY SELECT r.hypertable_id, h.schema_name, h.table_name, r.created
    FROM ${C}.hypertable h WHERE h.id = r.hypertable_id;
END
$body$;

CREATE FUNCTION ${EXT}.create_hypertable(relation regclass, dimension ${I}.dimension_info,
  create_default_indexes boolean = true, if_not_exists boolean = false, migrate_data boolean = false)
RETURNS TABLE(hypertable_id integer, created boolean)
LANGUAGE sql ${PATH} AS $body$
  SELECT * FROM ${F}.orbit_create_hypertable(relation, dimension, create_default_indexes, if_not_exists, migrate_data, NULL, NULL, NULL)
$body$;

CREATE FUNCTION ${EXT}.set_chunk_time_interval(hypertable regclass, chunk_time_interval anyelement, dimension_name name = NULL)
RETURNS void LANGUAGE plpgsql ${PATH} AS $body$
BEGIN
  PERFORM ${F}.orbit_require_hypertable(hypertable);
  PERFORM ${F}.orbit_require_owner(hypertable);
  PERFORM ${F}.orbit_owner_call('set_chunk_time_interval', hypertable,
    jsonb_build_object('itype', pg_typeof(chunk_time_interval), 'ival', chunk_time_interval::text, 'dimension_name', dimension_name));
END
$body$;

CREATE FUNCTION ${F}.orbit_set_chunk_time_interval_impl(hypertable regclass, itype regtype, ival text, dimension_name name)
RETURNS void LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  h integer := ${F}.orbit_require_hypertable(hypertable);
  d record;
BEGIN
  SELECT * INTO d FROM ${C}.dimension WHERE hypertable_id = h AND interval_length IS NOT NULL
    AND (dimension_name IS NULL OR column_name = dimension_name);
  IF NOT FOUND THEN
    RAISE EXCEPTION 'column "%" is not a dimension', dimension_name USING ERRCODE = '${E.ts_dimension_not_exist}';
  END IF;
  UPDATE ${C}.dimension SET interval_length = ${F}.orbit_interval_length(d.column_type, itype, ival) WHERE id = d.id;
END
$body$;

CREATE FUNCTION ${EXT}.set_partitioning_interval(hypertable regclass, partition_interval anyelement, dimension_name name = NULL)
RETURNS void LANGUAGE sql AS $body$
  SELECT ${EXT}.set_chunk_time_interval(hypertable, partition_interval, dimension_name)
$body$;
`;
}
