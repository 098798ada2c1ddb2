/**
 * @module catalog/extension/create-hypertable
 * The pieces `create_hypertable` checks with before it changes anything (timescale_api.md §1.1,
 * defaults §2, errors §3.1): the dimension builders `by_range`/`by_hash`, the interval validation
 * (`orbit_interval_length`, TimescaleDB's defaults and messages) and the pre-flight checks of the
 * table (`orbit_check_convertible`). The conversion itself is in hypertable-convert.ts.
 *
 * Objects the rebuild cannot carry over fail the call instead of being lost: views (0A000), foreign
 * keys referencing the table (42P16, as TimescaleDB), row-level security (0A000).
 */
import { ErrCode as E } from './errcodes.js';
import { EXTENSION_SCHEMA as EXT, FUNCTIONS_SCHEMA as F, INTERNAL_SCHEMA as I } from './schemas.js';


const DAY_US = '86400000000';

export function createHypertableSql(): string {
  return `
CREATE FUNCTION ${EXT}.by_range(column_name name, partition_interval anyelement = NULL::bigint, partition_func regproc = NULL)
RETURNS ${I}.dimension_info LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $body$
  SELECT ROW(column_name, true, pg_typeof(partition_interval), partition_interval::text, NULL::integer, partition_func)::${I}.dimension_info
$body$;

CREATE FUNCTION ${EXT}.by_hash(column_name name, number_partitions integer, partition_func regproc = NULL)
RETURNS ${I}.dimension_info LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $body$
  SELECT ROW(column_name, false, NULL::regtype, NULL::text, number_partitions, partition_func)::${I}.dimension_info
$body$;

-- The interval length (internal units) for a dimension column of type col from an interval argument
-- given as its type and text; NULL type or value means the default. Raises TimescaleDB's errors.
CREATE FUNCTION ${F}.orbit_interval_length(col regtype, itype regtype, ival text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $body$
DECLARE
  coltype text := format_type(col, NULL);
  is_int_col boolean := col IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype);
  is_int_arg boolean := itype IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype);
  maxv numeric := CASE col WHEN 'smallint'::regtype THEN 32767 WHEN 'integer'::regtype THEN 2147483647
                    ELSE 9223372036854775807 END;
  v numeric;
BEGIN
  IF ival IS NULL THEN
    RETURN CASE col WHEN 'smallint'::regtype THEN 10000 WHEN 'integer'::regtype THEN 100000
      WHEN 'bigint'::regtype THEN 1000000 ELSE 7 * ${DAY_US} END;
  END IF;
  IF is_int_col THEN
    IF NOT is_int_arg THEN
      RAISE EXCEPTION 'invalid interval type for % dimension', coltype
        USING ERRCODE = '${E.invalid_parameter_value}', HINT = 'Use an interval of type integer.';
    END IF;
    v := ival::numeric;
    IF v < 1 OR v > maxv THEN
      RAISE EXCEPTION 'invalid interval: must be between 1 and %', maxv USING ERRCODE = '${E.invalid_parameter_value}';
    END IF;
    RETURN v;
  END IF;
  IF itype = 'interval'::regtype THEN
    v := ${F}.orbit_interval_us(ival::interval);
    IF v <= 0 THEN
      RAISE EXCEPTION 'invalid interval for % dimension', coltype
        USING ERRCODE = '${E.invalid_parameter_value}', HINT = 'Use a positive interval.';
    END IF;
  ELSIF is_int_arg THEN
    v := ival::numeric;
    IF v < 1 THEN
      RAISE EXCEPTION 'invalid interval: must be between 1 and %', maxv USING ERRCODE = '${E.invalid_parameter_value}';
    END IF;
    IF v < 1000000 THEN
      RAISE WARNING 'unexpected interval: smaller than one second'
        USING ERRCODE = '${E.ambiguous_parameter}', HINT = 'The interval is specified in microseconds.';
    END IF;
  ELSE
    RAISE EXCEPTION 'invalid interval type for % dimension', coltype
      USING ERRCODE = '${E.invalid_parameter_value}', HINT = 'Use an interval of type integer or interval.';
  END IF;
  IF col = 'date'::regtype AND v % ${DAY_US} <> 0 THEN
    RAISE EXCEPTION 'invalid interval for date dimension'
      USING ERRCODE = '${E.invalid_parameter_value}', HINT = 'Use an interval that is a multiple of one day.';
  END IF;
  RETURN v;
END
$body$;

-- Why a table cannot be rebuilt as a partitioned table (NULL when it can). Checked before any change.
CREATE FUNCTION ${F}.orbit_check_convertible(rel regclass, col name, migrate_data boolean) RETURNS void
LANGUAGE plpgsql AS $body$
DECLARE
  tbl name := (SELECT relname FROM pg_catalog.pg_class WHERE oid = rel);
  r record;
  has_rows boolean;
BEGIN
  SELECT c.relkind, c.relpersistence, c.relhasrules INTO r FROM pg_catalog.pg_class c WHERE c.oid = rel;
  IF r.relpersistence = 't' THEN
    RAISE EXCEPTION 'table "%" cannot be temporary', tbl USING ERRCODE = '${E.feature_not_supported}';
  END IF;
  IF r.relkind = 'p' OR EXISTS (SELECT FROM pg_catalog.pg_inherits WHERE inhrelid = rel OR inhparent = rel) THEN
    RAISE EXCEPTION 'table "%" is already partitioned', tbl USING ERRCODE = '${E.feature_not_supported}';
  END IF;
  IF r.relkind <> 'r' THEN
    RAISE EXCEPTION '"%" is not a table', tbl USING ERRCODE = '${E.wrong_object_type}';
  END IF;
  IF EXISTS (SELECT FROM pg_catalog.pg_rewrite WHERE ev_class = rel) THEN
    RAISE EXCEPTION 'hypertables do not support rules'
      USING ERRCODE = '${E.feature_not_supported}', HINT = 'Remove the rules before creating a hypertable.';
  END IF;
  IF (SELECT relrowsecurity FROM pg_catalog.pg_class WHERE oid = rel) OR EXISTS (SELECT FROM pg_catalog.pg_policy WHERE polrelid = rel) THEN
    RAISE EXCEPTION 'row-level security on hypertables is not supported by Orbit yet' USING ERRCODE = '${E.feature_not_supported}',
      DETAIL = format('Table "%s" has row-level security enabled or policies.', tbl);
  END IF;
  IF EXISTS (SELECT FROM pg_catalog.pg_publication_rel WHERE prrelid = rel) THEN
    RAISE EXCEPTION 'cannot create hypertable for table "%" because it is part of a publication', tbl
      USING ERRCODE = '${E.ts_operation_not_supported}';
  END IF;
  IF EXISTS (SELECT FROM pg_catalog.pg_constraint WHERE contype = 'f' AND confrelid = rel) THEN
    RAISE EXCEPTION 'cannot have FOREIGN KEY constraints to hypertable "%"', tbl USING ERRCODE = '${E.invalid_table_definition}',
      HINT = format('Remove all FOREIGN KEY constraints to table "%s" before making it a hypertable.', tbl);
  END IF;
  FOR r IN SELECT DISTINCT v.oid::regclass AS view FROM pg_catalog.pg_depend d
      JOIN pg_catalog.pg_rewrite w ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND w.oid = d.objid
      JOIN pg_catalog.pg_class v ON v.oid = w.ev_class
      WHERE d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = rel AND w.ev_class <> rel LOOP
    RAISE EXCEPTION 'cannot create hypertable for table "%": view % depends on it', tbl, r.view
      USING ERRCODE = '${E.feature_not_supported}', DETAIL = 'Orbit rebuilds the table as a partitioned table.',
      HINT = 'Drop the views, create the hypertable, then create the views again.';
  END LOOP;
  -- Unique indexes must contain the time column (TS103, as TimescaleDB).
  IF EXISTS (SELECT FROM pg_catalog.pg_index x
             WHERE x.indrelid = rel AND x.indisunique
               AND NOT (SELECT attnum FROM pg_catalog.pg_attribute WHERE attrelid = rel AND attname = col) = ANY (x.indkey::int2[])) THEN
    RAISE EXCEPTION 'cannot create a unique index without the column "%" (used in partitioning)', col
      USING ERRCODE = '${E.ts_bad_hypertable_index_definition}', HINT = 'If you''re creating a hypertable on a table with a primary key, ensure the partitioning column is part of the primary or composite key.';
  END IF;
  EXECUTE format('SELECT EXISTS (SELECT FROM %s)', rel) INTO has_rows;
  IF has_rows AND NOT migrate_data THEN
    RAISE EXCEPTION 'table "%" is not empty', tbl USING ERRCODE = '${E.feature_not_supported}',
      HINT = 'You can migrate data by specifying ''migrate_data => true'' when calling this function.';
  END IF;
  IF has_rows THEN
    RAISE NOTICE 'migrating data to chunks' USING DETAIL = 'Migration might take a while depending on the amount of data.';
  END IF;
END
$body$;

-- The column list of a table for moving its rows (generated columns are recomputed).
CREATE FUNCTION ${F}.orbit_insert_columns(rel regclass) RETURNS text
LANGUAGE sql STABLE AS $body$
  SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_catalog.pg_attribute
  WHERE attrelid = rel AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
$body$;
`;
}
