/**
 * @module catalog/extension/hypertable-catalog
 * The hypertable catalog (schema `_timescaledb_catalog`, TimescaleDB's table and column names where
 * Orbit has the same concept) and the internal time representation shared by the hypertable
 * functions.
 *
 * Orbit's hypertable is a declaratively partitioned table (docs/design/hypertables-rowstore.md). A
 * chunk's extent is in `dimension_slice` + `chunk_constraint`, as TimescaleDB's; its range on the open
 * dimension is also kept on the `chunk` row (`range_start`/`range_end`), which the time-based
 * functions read.
 *
 * Internal time, as in TimescaleDB (`time_to_internal`): microseconds since the Unix epoch for
 * timestamp, timestamptz and date (a timestamp without time zone counts as UTC), the value itself for
 * smallint/integer/bigint. Unbounded slice ends are the bigint extremes, as TimescaleDB's
 * DIMENSION_SLICE_MINVALUE/MAXVALUE.
 */
import { ErrCode as E } from './errcodes.js';
import { CATALOG_SCHEMA as C, FIXED_SEARCH_PATH as PATH, FUNCTIONS_SCHEMA as F, INTERNAL_SCHEMA as I } from './schemas.js';


/** Types a time-argument (`older_than`, `newer_than`, …) may have; each gets an implicit cast. */
const TIME_ARG_TYPES = ['interval', 'timestamptz', 'timestamp', 'date', 'smallint', 'integer', 'bigint'] as const;

export function hypertableCatalogSql(): string {
  return `
CREATE TABLE ${C}.hypertable (
  id serial PRIMARY KEY,
  schema_name name NOT NULL,
  table_name name NOT NULL,
  associated_schema_name name NOT NULL,
  associated_table_prefix name NOT NULL,
  num_dimensions smallint NOT NULL,
  compression_state smallint NOT NULL DEFAULT 0,
  status integer NOT NULL DEFAULT 0,
  -- Orbit: the table itself, so that renames (ALTER TABLE … RENAME / SET SCHEMA) can be followed.
  relid oid NOT NULL UNIQUE,
  UNIQUE (schema_name, table_name)
);

CREATE TABLE ${C}.dimension (
  id serial PRIMARY KEY,
  hypertable_id integer NOT NULL REFERENCES ${C}.hypertable (id) ON DELETE CASCADE,
  column_name name NOT NULL,
  column_type regtype NOT NULL,
  aligned boolean NOT NULL,
  num_slices smallint,
  partitioning_func_schema name,
  partitioning_func name,
  interval_length bigint,
  compress_interval_length bigint,
  integer_now_func_schema name,
  integer_now_func name,
  UNIQUE (hypertable_id, column_name)
);

CREATE TABLE ${C}.chunk (
  id serial PRIMARY KEY,
  hypertable_id integer NOT NULL REFERENCES ${C}.hypertable (id) ON DELETE CASCADE,
  schema_name name NOT NULL,
  table_name name NOT NULL,
  compressed_chunk_id integer,
  dropped boolean NOT NULL DEFAULT false,
  status integer NOT NULL DEFAULT 0,
  osm_chunk boolean NOT NULL DEFAULT false,
  creation_time timestamptz NOT NULL DEFAULT now(),
  -- Orbit: the chunk's slice of the open dimension, in internal time (TimescaleDB: dimension_slice).
  range_start bigint NOT NULL,
  range_end bigint NOT NULL,
  UNIQUE (schema_name, table_name)
);
CREATE INDEX chunk_hypertable_id_idx ON ${C}.chunk (hypertable_id, range_start);

-- A chunk's extent in each dimension, as TimescaleDB's (the open dimension's slice is also on the
-- chunk row). Ends are internal time or, for a space dimension, TimescaleDB's hash range of the
-- chunk's hash partition remainder (space-dimensions.ts); unbounded ends are the bigint extremes. A
-- time slice exists while a partition of the hypertable (a chunk, or a space dimension's slice table) does.
CREATE TABLE ${C}.dimension_slice (
  id serial PRIMARY KEY,
  dimension_id integer NOT NULL REFERENCES ${C}.dimension (id) ON DELETE CASCADE,
  range_start bigint NOT NULL,
  range_end bigint NOT NULL,
  UNIQUE (dimension_id, range_start, range_end)
);

CREATE TABLE ${C}.chunk_constraint (
  chunk_id integer NOT NULL REFERENCES ${C}.chunk (id) ON DELETE CASCADE,
  dimension_slice_id integer REFERENCES ${C}.dimension_slice (id) ON DELETE CASCADE,
  constraint_name name NOT NULL,
  hypertable_constraint_name name,
  UNIQUE (chunk_id, constraint_name)
);
CREATE INDEX chunk_constraint_dimension_slice_id_idx ON ${C}.chunk_constraint (dimension_slice_id);

-- TimescaleDB's sequence for names of constraints chunks inherit; dimension CHECK constraints are
-- named after their slices (constraint_<dimension_slice id>).
CREATE SEQUENCE ${C}.chunk_constraint_name;

GRANT SELECT ON ALL TABLES IN SCHEMA ${C} TO PUBLIC;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA ${C} TO PUBLIC;

-- A dimension built by by_range/by_hash (TimescaleDB: an opaque type with the same name).
CREATE TYPE ${I}.dimension_info AS (
  column_name name,
  is_open boolean,
  interval_type regtype,
  interval_value text,
  number_partitions integer,
  partition_func regproc
);

-- A value of a time argument of show_chunks/drop_chunks (TimescaleDB declares them "any", which SQL
-- functions cannot): every accepted type converts implicitly, keeping its type and text.
CREATE TYPE ${I}.orbit_time_arg AS (type regtype, value text);
${TIME_ARG_TYPES.map(
  (t) => `CREATE FUNCTION ${F}.orbit_time_arg(v ${t}) RETURNS ${I}.orbit_time_arg
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $body$ SELECT ROW('${t}'::regtype, v::text)::${I}.orbit_time_arg $body$;
CREATE CAST (${t} AS ${I}.orbit_time_arg) WITH FUNCTION ${F}.orbit_time_arg(${t}) AS IMPLICIT;`,
).join('\n')}
-- An untyped literal (Orbit's SQL layer marks it ::text, sql/rewrite/chunk-cutoffs.ts): type unknown,
-- read as the time column's type, as TimescaleDB reads an unknown-typed "any" argument.
CREATE FUNCTION ${F}.orbit_time_arg(v text) RETURNS ${I}.orbit_time_arg
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $body$ SELECT ROW('unknown'::regtype, v)::${I}.orbit_time_arg $body$;
CREATE CAST (text AS ${I}.orbit_time_arg) WITH FUNCTION ${F}.orbit_time_arg(text) AS IMPLICIT;

-- ±infinity map to the bigint extremes (TimescaleDB's TS_TIME_NOBEGIN / TS_TIME_NOEND).
${['timestamptz', 'timestamp', 'date']
  .map(
    (t) => `CREATE FUNCTION ${F}.orbit_us(v ${t}) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $body$
  SELECT CASE WHEN v = '-infinity' THEN -9223372036854775808 WHEN v = 'infinity' THEN 9223372036854775807
    ELSE ${t === 'date' ? "(v - DATE '1970-01-01')::bigint * 86400000000" : '(extract(epoch FROM v) * 1000000)::bigint'} END
$body$;`,
  )
  .join('\n')}

-- An interval in microseconds as TimescaleDB counts it (a month is 30 days).
CREATE FUNCTION ${F}.orbit_interval_us(i interval) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $body$
  SELECT (${F}.orbit_interval_months(i) * 30 + extract(day FROM i)) * 86400000000 + ${F}.orbit_interval_time_us(i)
$body$;

-- Internal time of a value given as its type and text.
CREATE FUNCTION ${F}.orbit_internal(typ regtype, val text) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $body$
BEGIN
  IF val IS NULL THEN RETURN NULL; END IF;
  RETURN CASE typ
    WHEN 'timestamptz'::regtype THEN ${F}.orbit_us(val::timestamptz)
    WHEN 'timestamp'::regtype THEN ${F}.orbit_us(val::timestamp)
    WHEN 'date'::regtype THEN ${F}.orbit_us(val::date)
    ELSE val::bigint
  END;
END
$body$;

-- TimescaleDB's _timescaledb_functions.time_to_internal.
CREATE FUNCTION ${F}.time_to_internal(time_val anyelement) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $body$ SELECT ${F}.orbit_internal(pg_typeof(time_val), time_val::text) $body$;

-- A literal of the column type for internal time v (partition bounds): MINVALUE/MAXVALUE at the
-- bigint extremes. Beyond the type's finite range, the bound is 'infinity' above (so the chunk of
-- +infinity is ['infinity', MAXVALUE)) and the smallest finite value below (so the chunk of
-- -infinity is [MINVALUE, 4714-11-24 BC)).
CREATE FUNCTION ${F}.orbit_bound(typ regtype, v bigint) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $body$
DECLARE
  d bigint := div(v, 86400000000);
  us bigint := v - d * 86400000000;
  iv interval;
BEGIN
  IF v = -9223372036854775808 THEN RETURN 'MINVALUE'; END IF;
  IF v = 9223372036854775807 THEN RETURN 'MAXVALUE'; END IF;
  IF typ IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN RETURN v::text; END IF;
  BEGIN
    iv := make_interval(days => d::int) + us * INTERVAL '1 microsecond';
    -- Days are added to a timestamp and only then read as UTC: added to a timestamptz they would
    -- count in the session's time zone and move the bound by an hour across a DST change.
    RETURN quote_literal(CASE typ
      WHEN 'timestamptz'::regtype THEN ((TIMESTAMP 'epoch' + iv) AT TIME ZONE 'UTC')::text
      WHEN 'timestamp'::regtype THEN (TIMESTAMP 'epoch' + iv)::text
      ELSE (DATE '1970-01-01' + d::int)::text
    END);
  EXCEPTION WHEN datetime_field_overflow OR numeric_value_out_of_range OR invalid_datetime_format THEN
    RETURN CASE WHEN v > 0 THEN quote_literal('infinity') WHEN typ = 'timestamptz'::regtype
      THEN quote_literal('4714-11-24 00:00:00+00 BC') ELSE quote_literal('4714-11-24 BC') END;
  END;
END
$body$;

-- The timestamptz of an internal time (for the information views): ±infinity at the extremes,
-- PostgreSQL's smallest timestamp (4714-11-24 BC, -210866803200000000 µs) for anything below it.
CREATE FUNCTION ${F}.orbit_to_timestamptz(v bigint) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $body$
  SELECT CASE WHEN v = -9223372036854775808 THEN '-infinity' WHEN v = 9223372036854775807 THEN 'infinity'
    ELSE (TIMESTAMP 'epoch' + make_interval(days => div(greatest(v, -210866803200000000), 86400000000)::int)
         + (greatest(v, -210866803200000000) - div(greatest(v, -210866803200000000), 86400000000) * 86400000000)
           * INTERVAL '1 microsecond') AT TIME ZONE 'UTC' END
$body$;

-- An interval length as an interval of days and time (TimescaleDB _timescaledb_functions.to_interval).
CREATE FUNCTION ${F}.to_interval(unixtime_us bigint) RETURNS interval
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $body$
  SELECT make_interval(days => (unixtime_us / 86400000000)::int) + (unixtime_us % 86400000000) * INTERVAL '1 microsecond'
$body$;

-- The slice table of time slice s of a hypertable with a space dimension (space-dimensions.ts).
CREATE FUNCTION ${F}.orbit_slice_table_name(s integer) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $body$
  SELECT format('%I.%I', hy.associated_schema_name, hy.associated_table_prefix || '_' || s || '_slice')
  FROM ${C}.dimension_slice ds JOIN ${C}.dimension d ON d.id = ds.dimension_id JOIN ${C}.hypertable hy ON hy.id = d.hypertable_id
  WHERE ds.id = s
$body$;

-- Forgets the slices no chunk uses any more, unless a slice table still stands for them.
CREATE FUNCTION ${F}.orbit_forget_slices() RETURNS void
LANGUAGE sql AS $body$
  DELETE FROM ${C}.dimension_slice s
  WHERE NOT EXISTS (SELECT FROM ${C}.chunk_constraint cc WHERE cc.dimension_slice_id = s.id)
    AND to_regclass(${F}.orbit_slice_table_name(s.id)) IS NULL
$body$;

-- Dropping a hypertable or a chunk (DROP TABLE, DROP SCHEMA … CASCADE) removes its catalog rows, as
-- TimescaleDB's sql_drop handling does.
CREATE FUNCTION ${F}.orbit_on_sql_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$
DECLARE
  o record;
  hypertables boolean := false;
BEGIN
  FOR o IN SELECT * FROM pg_event_trigger_dropped_objects() WHERE object_type = 'table' LOOP
    DELETE FROM ${C}.hypertable WHERE relid = o.objid;
    hypertables := hypertables OR FOUND;
    DELETE FROM ${C}.chunk WHERE schema_name = o.schema_name AND table_name = o.object_name;
  END LOOP;
  PERFORM ${F}.orbit_forget_slices();
  IF hypertables THEN
    -- Custom partitioning functions' operator classes (space-dimensions.ts) go with their dimension.
    PERFORM ${F}.orbit_drop_hash_opclasses();
  END IF;
END
$body$;
CREATE EVENT TRIGGER orbit_timescaledb_sql_drop ON sql_drop EXECUTE FUNCTION ${F}.orbit_on_sql_drop();

-- ALTER TABLE … RENAME / SET SCHEMA and ALTER SCHEMA … RENAME keep the catalog's names current.
-- ALTER TABLE … OWNER TO on a hypertable re-owns its chunks, slice tables and default partition in
-- the same statement, as TimescaleDB re-owns chunks. PostgreSQL does not recurse to partitions, and
-- a chunk left with the old owner would have its rows moved, and the GRANTs made on it, as that owner.
-- REASSIGN OWNED fires no event trigger, but it re-owns the partitions along with their hypertable,
-- since they have the same owner.
CREATE FUNCTION ${F}.orbit_on_ddl_end() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$
DECLARE
  p record;
BEGIN
  UPDATE ${C}.hypertable h SET schema_name = n.nspname, table_name = c.relname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = h.relid AND (h.schema_name <> n.nspname OR h.table_name <> c.relname);
  FOR p IN SELECT t.relid::regclass AS part, pg_get_userbyid(hc.relowner) AS owner
      FROM (SELECT DISTINCT e.objid FROM pg_event_trigger_ddl_commands() e WHERE e.command_tag = 'ALTER TABLE') e
      JOIN ${C}.hypertable h ON h.relid = e.objid
      JOIN pg_class hc ON hc.oid = h.relid,
      LATERAL pg_partition_tree(h.relid) t
      JOIN pg_class pc ON pc.oid = t.relid
      WHERE t.level > 0 AND pc.relowner <> hc.relowner ORDER BY t.level LOOP
    EXECUTE format('ALTER TABLE %s OWNER TO %I', p.part, p.owner);
  END LOOP;
END
$body$;
CREATE EVENT TRIGGER orbit_timescaledb_ddl_end ON ddl_command_end WHEN TAG IN ('ALTER TABLE', 'ALTER SCHEMA')
  EXECUTE FUNCTION ${F}.orbit_on_ddl_end();

-- The catalog id of a hypertable, or NULL.
CREATE FUNCTION ${F}.orbit_hypertable_id(rel regclass) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE AS $body$
  SELECT h.id FROM ${C}.hypertable h WHERE h.relid = rel
$body$;

-- The hypertable's id, or TS001 "table "x" is not a hypertable".
CREATE FUNCTION ${F}.orbit_require_hypertable(rel regclass) RETURNS integer
LANGUAGE plpgsql STABLE AS $body$
DECLARE h integer;
BEGIN
  IF rel IS NULL THEN
    RAISE EXCEPTION 'hypertable cannot be NULL' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  h := ${F}.orbit_hypertable_id(rel);
  IF h IS NULL THEN
    RAISE EXCEPTION 'table "%" is not a hypertable', (SELECT relname FROM pg_catalog.pg_class WHERE oid = rel)
      USING ERRCODE = '${E.ts_hypertable_not_exist}';
  END IF;
  RETURN h;
END
$body$;

-- TimescaleDB's ts_hypertable_permissions_check: the caller must have the privileges of the table's
-- owner (as PostgreSQL's ownership checks). SECURITY INVOKER, and so are the functions that call it:
-- current_user is the caller, SET ROLE and SECURITY DEFINER functions of the user's included.
CREATE FUNCTION ${F}.orbit_require_owner(rel regclass) RETURNS void
LANGUAGE plpgsql STABLE ${PATH} AS $body$
BEGIN
  IF NOT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = rel), 'USAGE') THEN
    RAISE EXCEPTION 'must be owner of hypertable "%"', (SELECT relname FROM pg_class WHERE oid = rel)
      USING ERRCODE = '${E.insufficient_privilege}';
  END IF;
END
$body$;
`;
}
