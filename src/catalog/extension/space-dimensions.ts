/**
 * @module catalog/extension/space-dimensions
 * Space (closed, hash) dimensions (timescale_api.md §1.1): `get_partition_hash`, `add_dimension` (both
 * forms), `set_number_partitions`, and the second partitioning level they need
 * (docs/design/hypertables-rowstore.md "Space dimensions").
 *
 * A hypertable with a space dimension stays `PARTITION BY RANGE (time)`; each time slice is a slice
 * table `<prefix>_<slice id>_slice`, itself natively `PARTITION BY HASH (col)`, whose N leaves are the
 * chunks (`FOR VALUES WITH (MODULUS N, REMAINDER i)`). Native hash partitioning is what lets
 * PostgreSQL prune on `col = …` / `IN` / parameters and build unique indexes containing the column.
 * A hash-partitioned table has no default partition, so a time slice is created with all N chunks.
 *
 * Placement is PostgreSQL's (the type's extended hash, modulo N), not TimescaleDB's
 * `get_partition_hash` ranges; `dimension_slice` still shows TimescaleDB's range for each remainder.
 * A custom partitioning function becomes a hash operator class whose extended hash is the function.
 *
 * Limits (0A000): one space dimension and one time dimension per hypertable.
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

-- The catalog range of hash partition (modulus n, remainder i): TimescaleDB's hash slice number i of n
-- (calculate_closed_range_default: [i * iv, (i + 1) * iv) with iv = (2^31 - 1) / n, the first from
-- -infinity, the last to +infinity), so dimension_slice reads as TimescaleDB's. It only names the
-- partition: membership is PostgreSQL's hash partitioning, not get_partition_hash in the range.
-- Distinct for every (n, i) with n <= ${MAX_PARTITIONS}.
CREATE FUNCTION ${F}.orbit_hash_slice(n integer, i integer, OUT range_start bigint, OUT range_end bigint)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $body$
  SELECT CASE WHEN i = 0 THEN -9223372036854775808 ELSE i * iv END,
         CASE WHEN i = n - 1 THEN 9223372036854775807 ELSE (i + 1) * iv END
  FROM (SELECT 2147483647::bigint / n AS iv) x
$body$;

-- The hash operator class of a dimension with a custom partitioning function (created by
-- orbit_create_hash_opclass), or NULL for the type's default hash partitioning.
CREATE FUNCTION ${F}.orbit_hash_opclass(dimension_id integer) RETURNS text
LANGUAGE sql STABLE AS $body$
  SELECT format('%I.%I', '${F}', 'orbit_dim_' || d.id || '_ops') FROM ${C}.dimension d
  WHERE d.id = dimension_id AND (d.partitioning_func_schema, d.partitioning_func) <> ('${F}', 'get_partition_hash')
$body$;

-- PostgreSQL hash-partitions by an operator class, not by a function: for a custom partitioning
-- function f, an operator class with the type's equality and FUNCTION 2 (the extended hash) =
-- f(v)::bigint. Same f value, same partition; partition pruning on col = … works as for the default.
-- SECURITY DEFINER: creating an operator class needs a superuser. Executable by the backend's role alone
-- (privileges.ts): add_dimension calls it for the table's owner (owner-calls.ts).
CREATE FUNCTION ${F}.orbit_create_hash_opclass(dimension_id integer, func regproc) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER ${PATH} AS $body$
DECLARE
  d record;
  eq regoperator;
  intype regtype;
  base text := 'orbit_dim_' || dimension_id;
BEGIN
  SELECT * INTO d FROM ${C}.dimension WHERE id = dimension_id;
  -- The type's equality from its default hash operator class, and that class's input type (text for
  -- varchar: the operator family must hold an equality operator on the class's type).
  SELECT o.amopopr::regoperator, c.opcintype::regtype INTO eq, intype FROM pg_opclass c
    JOIN pg_amop o ON o.amopfamily = c.opcfamily AND o.amopstrategy = 1 AND o.amoplefttype = c.opcintype AND o.amoprighttype = c.opcintype
    WHERE c.opcmethod = (SELECT oid FROM pg_am WHERE amname = 'hash') AND c.opcdefault
      AND (c.opcintype = d.column_type OR EXISTS (SELECT FROM pg_cast k WHERE k.castsource = d.column_type
                                                    AND k.casttarget = c.opcintype AND k.castmethod = 'b'))
    -- As GetDefaultOpClass: an exact match, else the binary-coercible class of the preferred type.
    ORDER BY c.opcintype = d.column_type DESC, (SELECT t.typispreferred FROM pg_type t WHERE t.oid = c.opcintype) DESC LIMIT 1;
  IF eq IS NULL THEN
    RAISE EXCEPTION 'could not find hash function for type %', format_type(d.column_type, NULL) USING ERRCODE = '${E.internal_error}';
  END IF;
  EXECUTE format('CREATE FUNCTION ${F}.%I(v %s) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
                 base || '_hash', intype, format('SELECT %s(v::%s)', func, d.column_type));
  EXECUTE format('CREATE FUNCTION ${F}.%I(v %s, seed bigint) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
                 base || '_hash_extended', intype, format('SELECT %s(v::%s)::bigint', func, d.column_type));
  EXECUTE format('CREATE OPERATOR CLASS ${F}.%I FOR TYPE %s USING hash AS OPERATOR 1 %s, FUNCTION 1 ${F}.%I(%s), FUNCTION 2 ${F}.%I(%s, bigint)',
                 base || '_ops', intype, eq, base || '_hash', intype, base || '_hash_extended', intype);
END
$body$;

-- Drops the operator classes (and their functions) of dimensions that no longer exist.
CREATE FUNCTION ${F}.orbit_drop_hash_opclasses() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER ${PATH} AS $body$
DECLARE
  f record;
BEGIN
  FOR f IN SELECT opf.opfname FROM pg_opfamily opf
      WHERE opf.opfnamespace = '${F}'::regnamespace AND opf.opfname ~ '^orbit_dim_[0-9]+_ops$'
        AND NOT EXISTS (SELECT FROM ${C}.dimension d WHERE 'orbit_dim_' || d.id || '_ops' = opf.opfname) LOOP
    EXECUTE format('DROP OPERATOR FAMILY ${F}.%I USING hash', f.opfname);
    EXECUTE format('DROP FUNCTION ${F}.%I, ${F}.%I', replace(f.opfname, '_ops', '_hash'), replace(f.opfname, '_ops', '_hash_extended'));
  END LOOP;
END
$body$;

-- Creates time slice ts of hypertable h: the slice table, PARTITION BY HASH on the space column,
-- with all its chunks at once (a hash-partitioned table has no default partition: every remainder
-- needs its chunk before any row arrives). Rows of the hypertable's default partition in its range
-- then move, routed straight into the chunks, and the slice table is attached. Returns the number of
-- rows moved.
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
  key text;
  n integer;
  rng record;
  hs integer;
  chunk_id integer;
  chunk_name name;
  lo text; hi text;
  cond text;
  has_rows boolean;
  moved bigint;
BEGIN
  SELECT hy.*, hy.relid::regclass AS rel,
         format('%I.%I', hy.associated_schema_name, hy.associated_table_prefix || '_default')::regclass AS def
    INTO ht FROM ${C}.hypertable hy WHERE hy.id = h;
  SELECT * INTO d FROM ${C}.dimension WHERE hypertable_id = h AND interval_length IS NOT NULL ORDER BY id LIMIT 1;
  SELECT * INTO sd FROM ${C}.dimension WHERE hypertable_id = h AND interval_length IS NULL ORDER BY id LIMIT 1;
  SELECT * INTO sl FROM ${C}.dimension_slice WHERE id = ts;
  tbl := ht.associated_table_prefix || '_' || ts || '_slice';
  owner := (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = ht.rel);
  key := concat_ws(' ', quote_ident(sd.column_name), ${F}.orbit_hash_opclass(sd.id));
  n := sd.num_slices;
  lo := ${F}.orbit_bound(d.column_type, sl.range_start);
  hi := ${F}.orbit_bound(d.column_type, sl.range_end);
  cond := coalesce(nullif(concat_ws(' AND ',
    CASE WHEN lo <> 'MINVALUE' THEN format('%I >= %s', d.column_name, lo) END,
    CASE WHEN hi <> 'MAXVALUE' THEN format('%I < %s', d.column_name, hi) END), ''), 'true');
  EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE %s)', ht.def, cond) INTO has_rows;
  IF has_rows THEN
    EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION) PARTITION BY HASH (%s)',
                   ht.associated_schema_name, tbl, ht.rel, key);
  ELSE
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%s) TO (%s) PARTITION BY HASH (%s)',
                   ht.associated_schema_name, tbl, ht.rel, lo, hi, key);
  END IF;
  slice := format('%I.%I', ht.associated_schema_name, tbl)::regclass;
  EXECUTE format('ALTER TABLE %s OWNER TO %I', slice, owner);
  PERFORM ${F}.orbit_copy_privileges(ht.rel, slice);
  FOR i IN 0 .. n - 1 LOOP
    rng := ${F}.orbit_hash_slice(n, i);
    INSERT INTO ${C}.dimension_slice (dimension_id, range_start, range_end) VALUES (sd.id, rng.range_start, rng.range_end)
      ON CONFLICT (dimension_id, range_start, range_end) DO UPDATE SET range_start = excluded.range_start RETURNING id INTO hs;
    chunk_id := nextval('${C}.chunk_id_seq');
    chunk_name := ht.associated_table_prefix || '_' || chunk_id || '_chunk';
    -- The time CHECK (TimescaleDB's constraint_<time slice>) also spares ATTACH its scan; the space
    -- slice needs none: the partition constraint (satisfies_hash_partition) enforces it.
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s %s FOR VALUES WITH (MODULUS %s, REMAINDER %s)',
                   ht.associated_schema_name, chunk_name, slice,
                   CASE WHEN cond <> 'true' THEN format('(CONSTRAINT %I CHECK (%s))', 'constraint_' || ts, cond) ELSE '' END, n, i);
    EXECUTE format('ALTER TABLE %I.%I OWNER TO %I', ht.associated_schema_name, chunk_name, owner);
    PERFORM ${F}.orbit_copy_privileges(ht.rel, format('%I.%I', ht.associated_schema_name, chunk_name)::regclass);
    INSERT INTO ${C}.chunk (id, hypertable_id, schema_name, table_name, range_start, range_end)
      VALUES (chunk_id, h, ht.associated_schema_name, chunk_name, sl.range_start, sl.range_end);
    INSERT INTO ${C}.chunk_constraint (chunk_id, dimension_slice_id, constraint_name)
      VALUES (chunk_id, ts, 'constraint_' || ts), (chunk_id, hs, 'constraint_' || hs);
  END LOOP;
  IF NOT has_rows THEN
    RETURN 0;
  END IF;
  moved := ${F}.orbit_move_default_rows(ht.def, slice, cond, ht.rel);
  EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)', ht.rel, slice, lo, hi);
  RETURN moved;
END
$body$;

-- After drop_chunks/TRUNCATE: slice tables left without chunks go, then the slices no chunk uses.
CREATE FUNCTION ${F}.orbit_drop_empty_slices(h integer) RETURNS void
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  s record;
BEGIN
  FOR s IN SELECT to_regclass(${F}.orbit_slice_table_name(ds.id)) AS tbl FROM ${C}.dimension_slice ds
      JOIN ${C}.dimension d ON d.id = ds.dimension_id AND d.hypertable_id = h AND d.interval_length IS NOT NULL
      WHERE NOT EXISTS (SELECT FROM ${C}.chunk_constraint cc WHERE cc.dimension_slice_id = ds.id) LOOP
    CONTINUE WHEN s.tbl IS NULL OR EXISTS (SELECT FROM pg_inherits i WHERE i.inhparent = s.tbl);
    -- Its slice goes with it (orbit_on_sql_drop forgets the slices no chunk or slice table uses).
    EXECUTE format('DROP TABLE %s', s.tbl);
  END LOOP;
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

-- Adds a dimension to hypertable rel (both add_dimension forms): the catalog rows are written for the
-- table's owner (owner-calls.ts); what it did is read back from the catalog.
CREATE FUNCTION ${F}.orbit_add_dimension(rel regclass, dim ${I}.dimension_info, if_not_exists boolean,
  OUT dimension_id integer, OUT created boolean)
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  h integer := ${F}.orbit_require_hypertable(rel);
  existed boolean;
BEGIN
  PERFORM ${F}.orbit_require_owner(rel);
  existed := EXISTS (SELECT FROM ${C}.dimension d WHERE d.hypertable_id = h AND d.column_name = dim.column_name);
  PERFORM ${F}.orbit_owner_call('add_dimension', rel, jsonb_build_object('dim', dim, 'if_not_exists', if_not_exists));
  dimension_id := (SELECT d.id FROM ${C}.dimension d WHERE d.hypertable_id = h AND d.column_name = dim.column_name);
  created := NOT existed;
END
$body$;

-- The addition itself (also create_hypertable's space column).
CREATE FUNCTION ${F}.orbit_add_dimension_impl(rel regclass, dim ${I}.dimension_info, if_not_exists boolean,
  OUT dimension_id integer, OUT created boolean)
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  h integer := ${F}.orbit_require_hypertable(rel);
  func regproc;
  typ regtype;
  s integer;
BEGIN
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
  -- Unique indexes must contain every partitioning column (TS103, as TimescaleDB).
  IF EXISTS (SELECT FROM pg_index x WHERE x.indrelid = rel AND x.indisunique
             AND NOT (SELECT attnum FROM pg_attribute WHERE attrelid = rel AND attname = dim.column_name) = ANY (x.indkey::int2[])) THEN
    RAISE EXCEPTION 'cannot create a unique index without the column "%" (used in partitioning)', dim.column_name
      USING ERRCODE = '${E.ts_bad_hypertable_index_definition}', HINT = 'If you''re creating a hypertable on a table with a primary key, ensure the partitioning column is part of the primary or composite key.';
  END IF;
  INSERT INTO ${C}.dimension (hypertable_id, column_name, column_type, aligned, num_slices, partitioning_func_schema, partitioning_func)
    SELECT h, dim.column_name, typ, false, dim.number_partitions, n.nspname, p.proname
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.oid = func
    RETURNING id INTO dimension_id;
  IF func::oid <> '${F}.get_partition_hash(anyelement)'::regprocedure::oid THEN
    PERFORM ${F}.orbit_create_hash_opclass(dimension_id, func);
  END IF;
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
BEGIN
  PERFORM ${F}.orbit_require_hypertable(hypertable);
  PERFORM ${F}.orbit_require_owner(hypertable);
  PERFORM ${F}.orbit_owner_call('set_number_partitions', hypertable,
    jsonb_build_object('number_partitions', number_partitions, 'dimension_name', dimension_name));
END
$body$;

CREATE FUNCTION ${F}.orbit_set_number_partitions_impl(hypertable regclass, number_partitions integer, dimension_name name)
RETURNS void LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  h integer := ${F}.orbit_require_hypertable(hypertable);
  tbl name := (SELECT relname FROM pg_class WHERE oid = hypertable);
  d integer;
BEGIN
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

-- TimescaleDB's rule for a unique index created later: it must contain the space column too (TS103).
-- Once a slice table exists PostgreSQL refuses such an index first (0A000, as for the time column);
-- before that it would be accepted on the hypertable and fail at the first new time slice.
CREATE FUNCTION ${F}.orbit_on_ddl_end_space() RETURNS event_trigger
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  col name;
BEGIN
  SELECT d.column_name INTO col FROM ${C}.hypertable h
    JOIN ${C}.dimension d ON d.hypertable_id = h.id AND d.interval_length IS NULL
    JOIN pg_index x ON x.indrelid = h.relid AND x.indisunique
    WHERE NOT (SELECT a.attnum FROM pg_attribute a WHERE a.attrelid = h.relid AND a.attname = d.column_name) = ANY (x.indkey::int2[])
    LIMIT 1;
  IF col IS NOT NULL THEN
    RAISE EXCEPTION 'cannot create a unique index without the column "%" (used in partitioning)', col
      USING ERRCODE = '${E.ts_bad_hypertable_index_definition}';
  END IF;
END
$body$;
CREATE EVENT TRIGGER orbit_timescaledb_space_ddl_end ON ddl_command_end WHEN TAG IN ('CREATE INDEX', 'ALTER TABLE')
  EXECUTE FUNCTION ${F}.orbit_on_ddl_end_space();
`;
}
