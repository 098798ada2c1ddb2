/**
 * @module catalog/extension/space-dimensions
 * Space (closed, hash) dimensions (timescale_api.md §1.1): `get_partition_hash`, `add_dimension` (both
 * forms), `set_number_partitions`, and the second partitioning level they need
 * (docs/design/hypertables-rowstore.md "Space dimensions").
 *
 * A hypertable with a space dimension stays `PARTITION BY RANGE (time)`; each time slice with data is
 * a slice table `<prefix>_<slice id>_slice`, itself `PARTITION BY RANGE (get_partition_hash(col))`,
 * whose leaves are the chunks (one per hypercube with data) plus a default partition
 * `<prefix>_<slice id>_slice_default` for rows whose hash range has no chunk yet. An AFTER INSERT
 * trigger on that default notes the slice in `orbit_pending_slice`, so that `route_default_rows`
 * looks only at slices that received such rows instead of probing every slice after each statement.
 *
 * Hash slices are TimescaleDB's (`calculate_closed_range_default`, src/dimension.c): [0, 2^31 - 1)
 * cut into N ranges of (2^31 - 1) / N, the first starting at -infinity and the last ending at
 * +infinity; a range that would overlap a chunk of the same time slice (after set_number_partitions)
 * is cut to fit, as TimescaleDB resolves chunk collisions.
 *
 * Limits (0A000): one space dimension and one time dimension per hypertable; no unique index or
 * primary key on a hypertable with a space dimension, because PostgreSQL cannot build unique indexes
 * on a table partitioned by an expression.
 */
import { ErrCode as E } from './errcodes.js';
import { CATALOG_SCHEMA as C, EXTENSION_SCHEMA as EXT, FIXED_SEARCH_PATH as PATH, FUNCTIONS_SCHEMA as F, INTERNAL_SCHEMA as I } from './schemas.js';

const MAX_PARTITIONS = 32767;

export function spaceDimensionsSql(): string {
  return `
-- TimescaleDB's default partitioning function: the type's default hash function, masked to a
-- non-negative int4. hash_array of a one-element array is 31 + that element's hash (arrayfuncs.c),
-- with the type's hash support function and the value's collation, so this matches TimescaleDB for
-- every hashable type while staying a single SQL expression PostgreSQL inlines (also into partition
-- keys). Deviation: NULL hashes to 0 (TimescaleDB's function is STRICT, but routes NULL to 0 too).
CREATE FUNCTION ${F}.get_partition_hash(val anyelement) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $body$
  SELECT ((pg_catalog.hash_array(ARRAY[val])::bigint - 31) & 2147483647)::integer
$body$;

-- Slices whose default partition received rows (see the module comment). Any role may note one.
CREATE TABLE ${C}.orbit_pending_slice (slice_id integer PRIMARY KEY);
GRANT SELECT, INSERT ON ${C}.orbit_pending_slice TO PUBLIC;

-- Not SECURITY DEFINER and without a SET clause: a SET clause would undo set_config on return. The
-- transaction-local setting keeps this to one INSERT per slice and transaction.
CREATE FUNCTION ${F}.orbit_note_default_rows() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
  IF pg_catalog.current_setting('orbit.pending_slice_' || TG_ARGV[0], true) IS DISTINCT FROM 'on' THEN
    INSERT INTO ${C}.orbit_pending_slice VALUES (TG_ARGV[0]::integer) ON CONFLICT DO NOTHING;
    PERFORM pg_catalog.set_config('orbit.pending_slice_' || TG_ARGV[0], 'on', true);
  END IF;
  RETURN NULL;
END
$body$;

-- TimescaleDB's calculate_closed_range_default for hash value v and n slices.
CREATE FUNCTION ${F}.orbit_closed_range(v bigint, n integer, OUT range_start bigint, OUT range_end bigint)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $body$
  SELECT CASE WHEN st = 0 THEN -9223372036854775808 ELSE st END, en
  FROM (SELECT CASE WHEN greatest(v, 0) >= i * (n - 1) THEN i * (n - 1) ELSE greatest(v, 0) / i * i END AS st,
               CASE WHEN greatest(v, 0) >= i * (n - 1) THEN 9223372036854775807 ELSE greatest(v, 0) / i * i + i END AS en
        FROM (SELECT 2147483647::bigint / n AS i) x) y
$body$;

-- The space slices of the chunks of time slice ts, with their chunks.
CREATE FUNCTION ${F}.orbit_space_slices(ts integer)
RETURNS TABLE(chunk_id integer, range_start bigint, range_end bigint)
LANGUAGE sql STABLE AS $body$
  SELECT cs.chunk_id, s.range_start, s.range_end
  FROM ${C}.chunk_constraint ct
  JOIN ${C}.chunk_constraint cs ON cs.chunk_id = ct.chunk_id
  JOIN ${C}.dimension_slice s ON s.id = cs.dimension_slice_id
  JOIN ${C}.dimension d ON d.id = s.dimension_id AND d.interval_length IS NULL
  WHERE ct.dimension_slice_id = ts
$body$;

-- The chunk of time slice ts holding hash value hv, or NULL.
CREATE FUNCTION ${F}.orbit_space_chunk(ts integer, hv bigint) RETURNS integer
LANGUAGE sql STABLE AS $body$
  SELECT s.chunk_id FROM ${F}.orbit_space_slices(ts) s WHERE hv >= s.range_start AND hv < s.range_end LIMIT 1
$body$;

-- The hash range of a new chunk for hv in time slice ts: aligned, cut around the slice's chunks.
CREATE FUNCTION ${F}.orbit_hash_range(ts integer, n integer, hv bigint, OUT range_start bigint, OUT range_end bigint)
LANGUAGE sql STABLE AS $body$
  SELECT greatest(a.range_start, (SELECT max(s.range_end) FROM ${F}.orbit_space_slices(ts) s WHERE s.range_end <= hv)),
         least(a.range_end, (SELECT min(s.range_start) FROM ${F}.orbit_space_slices(ts) s WHERE s.range_start > hv))
  FROM ${F}.orbit_closed_range(hv, n) a
$body$;

-- Creates the slice table of time slice ts of hypertable h. Rows of the hypertable's default
-- partition in its range get their chunks first, then move (routed straight into them), and the
-- slice table is attached. Returns the number of rows moved.
CREATE FUNCTION ${F}.orbit_create_slice_table(h integer, ts integer) RETURNS bigint
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  ht record;
  d record;
  sd record;
  sl record;
  tbl name;
  slice regclass;
  owner name;
  func text;
  lo text; hi text;
  cond text;
  has_rows boolean;
  x record;
  cols text;
  moved bigint;
  replica boolean;
  role text;
BEGIN
  SELECT hy.*, hy.relid::regclass AS rel,
         format('%I.%I', hy.associated_schema_name, hy.associated_table_prefix || '_default')::regclass AS def
    INTO ht FROM ${C}.hypertable hy WHERE hy.id = h;
  SELECT * INTO d FROM ${C}.dimension WHERE hypertable_id = h AND interval_length IS NOT NULL ORDER BY id LIMIT 1;
  SELECT * INTO sd FROM ${C}.dimension WHERE hypertable_id = h AND interval_length IS NULL ORDER BY id LIMIT 1;
  SELECT * INTO sl FROM ${C}.dimension_slice WHERE id = ts;
  tbl := ht.associated_table_prefix || '_' || ts || '_slice';
  owner := (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = ht.rel);
  func := format('%I.%I', sd.partitioning_func_schema, sd.partitioning_func);
  lo := ${F}.orbit_bound(d.column_type, sl.range_start);
  hi := ${F}.orbit_bound(d.column_type, sl.range_end);
  cond := coalesce(nullif(concat_ws(' AND ',
    CASE WHEN lo <> 'MINVALUE' THEN format('%I >= %s', d.column_name, lo) END,
    CASE WHEN hi <> 'MAXVALUE' THEN format('%I < %s', d.column_name, hi) END), ''), 'true');
  EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE %s)', ht.def, cond) INTO has_rows;
  IF has_rows THEN
    EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION) PARTITION BY RANGE (%s(%I))',
                   ht.associated_schema_name, tbl, ht.rel, func, sd.column_name);
  ELSE
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%s) TO (%s) PARTITION BY RANGE (%s(%I))',
                   ht.associated_schema_name, tbl, ht.rel, lo, hi, func, sd.column_name);
  END IF;
  slice := format('%I.%I', ht.associated_schema_name, tbl)::regclass;
  EXECUTE format('ALTER TABLE %s OWNER TO %I', slice, owner);
  EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT', ht.associated_schema_name, tbl || '_default', slice);
  EXECUTE format('ALTER TABLE %I.%I OWNER TO %I', ht.associated_schema_name, tbl || '_default', owner);
  EXECUTE format('CREATE TRIGGER orbit_default_rows AFTER INSERT ON %I.%I FOR EACH ROW EXECUTE FUNCTION ${F}.orbit_note_default_rows(%L)',
                 ht.associated_schema_name, tbl || '_default', ts);
  -- ALWAYS: the row moves of route_default_rows run with session_replication_role = replica.
  EXECUTE format('ALTER TABLE %I.%I ENABLE ALWAYS TRIGGER orbit_default_rows', ht.associated_schema_name, tbl || '_default');
  IF NOT has_rows THEN
    RETURN 0;
  END IF;
  -- Chunks in the order their first rows arrived, as TimescaleDB creates them row by row.
  FOR x IN EXECUTE format('SELECT %s(%I) AS hv FROM %s WHERE %s GROUP BY 1 ORDER BY min(ctid)', func, sd.column_name, ht.def, cond) LOOP
    IF ${F}.orbit_space_chunk(ts, x.hv) IS NULL THEN
      PERFORM ${F}.orbit_create_chunk(h, sl.range_start, x.hv);
    END IF;
  END LOOP;
  cols := ${F}.orbit_insert_columns(ht.rel);
  replica := (SELECT rolsuper FROM pg_roles WHERE rolname = current_user);
  IF replica THEN
    role := current_setting('session_replication_role');
    PERFORM set_config('session_replication_role', 'replica', true);
  END IF;
  EXECUTE format('WITH m AS (DELETE FROM %s WHERE %s RETURNING %s) INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM m',
                 ht.def, cond, cols, slice, cols, cols);
  GET DIAGNOSTICS moved = ROW_COUNT;
  IF replica THEN
    PERFORM set_config('session_replication_role', role, true);
  END IF;
  EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)', ht.rel, slice, lo, hi);
  RETURN moved;
END
$body$;

-- After drop_chunks: slice tables left without chunks (and without waiting rows) go, then the
-- slices no chunk uses.
CREATE FUNCTION ${F}.orbit_drop_empty_slices(h integer) RETURNS void
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  s record;
  has_rows boolean;
BEGIN
  FOR s IN SELECT ds.id, to_regclass(${F}.orbit_slice_table_name(ds.id)) AS tbl FROM ${C}.dimension_slice ds
      JOIN ${C}.dimension d ON d.id = ds.dimension_id AND d.hypertable_id = h AND d.interval_length IS NOT NULL
      WHERE NOT EXISTS (SELECT FROM ${C}.chunk_constraint cc WHERE cc.dimension_slice_id = ds.id) LOOP
    CONTINUE WHEN s.tbl IS NULL;
    EXECUTE format('SELECT EXISTS (SELECT FROM %s)', s.tbl) INTO has_rows;
    IF NOT has_rows THEN
      EXECUTE format('DROP TABLE %s', s.tbl);
    END IF;
  END LOOP;
  PERFORM ${F}.orbit_forget_slices();
END
$body$;

-- The checks of a closed dimension on rel (TimescaleDB dimension_info_validate_closed); returns the
-- partitioning function.
CREATE FUNCTION ${F}.orbit_validate_closed(rel regclass, dim ${I}.dimension_info) RETURNS regproc
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  att record;
  p record;
BEGIN
  SELECT a.atttypid::regtype AS typ, a.attgenerated INTO att FROM pg_attribute a
    WHERE a.attrelid = rel AND a.attname = dim.column_name AND a.attnum > 0 AND NOT a.attisdropped;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'column "%" does not exist', dim.column_name USING ERRCODE = '${E.undefined_column}';
  END IF;
  IF dim.partition_func IS NOT NULL THEN
    SELECT * INTO p FROM pg_proc WHERE oid = dim.partition_func;
    IF p.prorettype <> 'integer'::regtype OR p.provolatile <> 'i' OR p.pronargs <> 1
       OR p.proargtypes[0] NOT IN (att.typ, 'anyelement'::regtype) THEN
      RAISE EXCEPTION 'invalid partitioning function' USING ERRCODE = '${E.invalid_function_definition}',
        HINT = 'A valid partitioning function for closed (space) dimensions must be IMMUTABLE and have the signature (anyelement) -> integer.';
    END IF;
  END IF;
  IF dim.number_partitions IS NULL OR dim.number_partitions NOT BETWEEN 1 AND ${MAX_PARTITIONS} THEN
    RAISE EXCEPTION 'invalid number of partitions for dimension "%"', dim.column_name USING ERRCODE = '${E.invalid_parameter_value}',
      HINT = 'A closed (space) dimension must specify between 1 and ${MAX_PARTITIONS} partitions.';
  END IF;
  IF att.attgenerated <> '' THEN
    RAISE EXCEPTION 'invalid partitioning column'
      USING ERRCODE = '${E.feature_not_supported}', HINT = 'Generated columns cannot be used as partitioning dimensions.';
  END IF;
  IF dim.partition_func IS NULL THEN
    BEGIN
      EXECUTE format('SELECT ${F}.get_partition_hash(NULL::%s)', att.typ);
    EXCEPTION WHEN undefined_function THEN
      RAISE EXCEPTION 'could not find hash function for type %', format_type(att.typ, NULL) USING ERRCODE = '${E.internal_error}';
    END;
  END IF;
  RETURN coalesce(dim.partition_func, '${F}.get_partition_hash(anyelement)'::regprocedure::regproc);
END
$body$;

-- Adds a dimension to hypertable rel (both add_dimension forms, and create_hypertable's space column).
CREATE FUNCTION ${F}.orbit_add_dimension(rel regclass, dim ${I}.dimension_info, if_not_exists boolean,
  OUT dimension_id integer, OUT created boolean)
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  h integer := ${F}.orbit_require_hypertable(rel);
  tbl name := (SELECT relname FROM pg_class WHERE oid = rel);
  func regproc;
  typ regtype;
  s integer;
BEGIN
  IF NOT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = rel), 'USAGE') THEN
    RAISE EXCEPTION 'must be owner of hypertable "%"', tbl USING ERRCODE = '${E.insufficient_privilege}';
  END IF;
  IF dim.column_name IS NULL THEN
    RAISE EXCEPTION 'partition column cannot be NULL' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  typ := (SELECT atttypid::regtype FROM pg_attribute WHERE attrelid = rel AND attname = dim.column_name AND attnum > 0 AND NOT attisdropped);
  IF typ IS NULL THEN
    RAISE EXCEPTION 'column "%" does not exist', dim.column_name USING ERRCODE = '${E.undefined_column}';
  END IF;
  dimension_id := (SELECT d.id FROM ${C}.dimension d WHERE d.hypertable_id = h AND d.column_name = dim.column_name);
  IF dimension_id IS NOT NULL THEN
    IF NOT if_not_exists THEN
      RAISE EXCEPTION 'column "%" is already a dimension', dim.column_name USING ERRCODE = '${E.ts_duplicate_dimension}';
    END IF;
    RAISE NOTICE 'column "%" is already a dimension, skipping', dim.column_name;
    created := false;
    RETURN;
  END IF;
  IF dim.is_open THEN
    PERFORM ${F}.orbit_interval_length(typ, dim.interval_type, dim.interval_value);
    RAISE EXCEPTION 'a second open (time) dimension is not supported by Orbit yet' USING ERRCODE = '${E.feature_not_supported}',
      HINT = 'Add a space dimension with by_hash() instead.';
  END IF;
  func := ${F}.orbit_validate_closed(rel, dim);
  IF EXISTS (SELECT FROM ${C}.dimension d WHERE d.hypertable_id = h AND d.interval_length IS NULL) THEN
    RAISE EXCEPTION 'more than one space dimension is not supported by Orbit yet' USING ERRCODE = '${E.feature_not_supported}';
  END IF;
  -- Unique indexes must contain every partitioning column (TS103, as TimescaleDB); PostgreSQL then
  -- refuses them under an expression partition key, so any is refused (0A000).
  IF EXISTS (SELECT FROM pg_index x WHERE x.indrelid = rel AND x.indisunique
             AND NOT (SELECT attnum FROM pg_attribute WHERE attrelid = rel AND attname = dim.column_name) = ANY (x.indkey::int2[])) THEN
    RAISE EXCEPTION 'cannot create a unique index without the column "%" (used in partitioning)', dim.column_name
      USING ERRCODE = '${E.ts_bad_hypertable_index_definition}', HINT = 'If you''re creating a hypertable on a table with a primary key, ensure the partitioning column is part of the primary or composite key.';
  END IF;
  IF EXISTS (SELECT FROM pg_index x WHERE x.indrelid = rel AND x.indisunique) THEN
    RAISE EXCEPTION 'unique indexes on hypertables with a space dimension are not supported by Orbit yet'
      USING ERRCODE = '${E.feature_not_supported}', DETAIL = 'PostgreSQL cannot enforce a unique index under a hash partition key.',
      HINT = 'Drop the primary key and unique indexes, or do without the space dimension.';
  END IF;
  INSERT INTO ${C}.dimension (hypertable_id, column_name, column_type, aligned, num_slices, partitioning_func_schema, partitioning_func)
    SELECT h, dim.column_name, typ, false, dim.number_partitions, n.nspname, p.proname
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.oid = func
    RETURNING id INTO dimension_id;
  UPDATE ${C}.hypertable SET num_dimensions = num_dimensions + 1 WHERE id = h;
  -- Existing chunks span the whole new dimension (TimescaleDB 2.8+: an unbounded slice, no CHECK).
  IF EXISTS (SELECT FROM ${C}.chunk WHERE hypertable_id = h) THEN
    INSERT INTO ${C}.dimension_slice (dimension_id, range_start, range_end)
      VALUES (dimension_id, -9223372036854775808, 9223372036854775807) RETURNING id INTO s;
    INSERT INTO ${C}.chunk_constraint (chunk_id, dimension_slice_id, constraint_name)
      SELECT c.id, s, 'constraint_' || s FROM ${C}.chunk c WHERE c.hypertable_id = h;
  END IF;
  created := true;
END
$body$;

CREATE FUNCTION ${F}.orbit_add_dimension_classic(rel regclass, col name, number_partitions integer, itype regtype,
  ival text, partitioning_func regproc, if_not_exists boolean, OUT dimension_id integer, OUT created boolean)
LANGUAGE plpgsql ${PATH} AS $body$
BEGIN
  IF rel IS NULL THEN
    RAISE EXCEPTION 'hypertable cannot be NULL' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  IF number_partitions IS NULL AND ival IS NULL THEN
    RAISE EXCEPTION 'must specify either the number of partitions or an interval' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  PERFORM ${F}.orbit_require_hypertable(rel);
  IF number_partitions IS NOT NULL AND ival IS NOT NULL THEN
    RAISE EXCEPTION 'cannot specify both the number of partitions and an interval' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  SELECT * INTO dimension_id, created FROM ${F}.orbit_add_dimension(rel,
    ROW(col, number_partitions IS NULL, itype, ival, number_partitions, partitioning_func)::${I}.dimension_info, if_not_exists);
END
$body$;

CREATE FUNCTION ${EXT}.add_dimension(hypertable regclass, column_name name, number_partitions integer = NULL,
  chunk_time_interval anyelement = NULL::bigint, partitioning_func regproc = NULL, if_not_exists boolean = false)
RETURNS TABLE(dimension_id integer, schema_name name, table_name name, column_name name, created boolean)
LANGUAGE sql AS $body$
  SELECT r.dimension_id, h.schema_name, h.table_name, $2, r.created
  FROM ${F}.orbit_add_dimension_classic($1, $2, $3, pg_typeof($4), $4::text, $5, $6) r
  JOIN ${C}.hypertable h ON h.relid = $1
$body$;

CREATE FUNCTION ${EXT}.add_dimension(hypertable regclass, dimension ${I}.dimension_info, if_not_exists boolean = false)
RETURNS TABLE(dimension_id integer, created boolean)
LANGUAGE sql AS $body$
  SELECT * FROM ${F}.orbit_add_dimension($1, $2, $3)
$body$;

-- Affects chunks created afterwards only (TimescaleDB ts_dimension_set_num_slices).
CREATE FUNCTION ${EXT}.set_number_partitions(hypertable regclass, number_partitions integer, dimension_name name = NULL)
RETURNS void LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  h integer := ${F}.orbit_require_hypertable(hypertable);
  tbl name := (SELECT relname FROM pg_class WHERE oid = hypertable);
  d integer;
BEGIN
  IF NOT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = hypertable), 'USAGE') THEN
    RAISE EXCEPTION 'must be owner of hypertable "%"', tbl USING ERRCODE = '${E.insufficient_privilege}';
  END IF;
  IF number_partitions IS NULL OR number_partitions NOT BETWEEN 1 AND ${MAX_PARTITIONS} THEN
    RAISE EXCEPTION 'invalid number of partitions: must be between 1 and ${MAX_PARTITIONS}' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  d := (SELECT dd.id FROM ${C}.dimension dd WHERE dd.hypertable_id = h AND dd.interval_length IS NULL
          AND (dimension_name IS NULL OR dd.column_name = dimension_name) ORDER BY dd.id LIMIT 1);
  IF d IS NULL THEN
    RAISE EXCEPTION 'hypertable "%" does not have a matching dimension', tbl USING ERRCODE = '${E.ts_dimension_not_exist}';
  END IF;
  UPDATE ${C}.dimension SET num_slices = number_partitions WHERE id = d;
END
$body$;

-- A unique index added later would fail at the first new slice table: refuse it at once.
CREATE FUNCTION ${F}.orbit_on_ddl_end_space() RETURNS event_trigger
LANGUAGE plpgsql ${PATH} AS $body$
BEGIN
  IF EXISTS (SELECT FROM ${C}.hypertable h JOIN pg_index x ON x.indrelid = h.relid AND x.indisunique
             WHERE EXISTS (SELECT FROM ${C}.dimension d WHERE d.hypertable_id = h.id AND d.interval_length IS NULL)) THEN
    RAISE EXCEPTION 'unique indexes on hypertables with a space dimension are not supported by Orbit yet'
      USING ERRCODE = '${E.feature_not_supported}', DETAIL = 'PostgreSQL cannot enforce a unique index under a hash partition key.';
  END IF;
END
$body$;
CREATE EVENT TRIGGER orbit_timescaledb_space_ddl_end ON ddl_command_end WHEN TAG IN ('CREATE INDEX', 'ALTER TABLE')
  EXECUTE FUNCTION ${F}.orbit_on_ddl_end_space();
`;
}
