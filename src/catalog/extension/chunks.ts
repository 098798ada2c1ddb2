/**
 * @module catalog/extension/chunks
 * Chunk creation (docs/design/hypertables-rowstore.md): a chunk is a partition
 * `<associated_schema>.<prefix>_<chunk_id>_chunk` of the hypertable. Rows without a chunk land in the
 * default partition; `route_default_rows` moves them into new chunks (the Orbit SQL layer calls it
 * after every statement that adds rows to a hypertable), and `create_chunks_for_range` creates the
 * chunks of a range ahead of a COPY.
 *
 * Ranges align as TimescaleDB's (`calculate_open_range_default`, src/dimension.c): multiples of the
 * interval from internal time 0 (the Unix epoch), rounding toward -infinity, clamped at the bigint
 * extremes; a range that would overlap an existing chunk (after `set_chunk_time_interval`) is cut to
 * fit, as TimescaleDB resolves chunk collisions.
 */
import { CATALOG_SCHEMA as C, FIXED_SEARCH_PATH as PATH, FUNCTIONS_SCHEMA as F } from './schemas.js';

export function chunksSql(): string {
  return `
-- The aligned range of internal time v for interval iv (numeric arithmetic: no bigint overflow).
CREATE FUNCTION ${F}.orbit_aligned_range(v bigint, iv bigint, OUT range_start bigint, OUT range_end bigint)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $body$
  SELECT greatest(s, -9223372036854775808)::bigint, least(s + iv, 9223372036854775807)::bigint
  FROM (SELECT floor(v::numeric / iv) * iv AS s) a
$body$;

-- The range of the chunk for internal time v in hypertable h: aligned, cut around existing time slices.
CREATE FUNCTION ${F}.orbit_chunk_range(h integer, v bigint, OUT range_start bigint, OUT range_end bigint)
LANGUAGE sql STABLE AS $body$
  SELECT greatest(a.range_start, (SELECT max(s.range_end) FROM ${C}.dimension_slice s WHERE s.dimension_id = d.id AND s.range_end <= v)),
         least(a.range_end, (SELECT min(s.range_start) FROM ${C}.dimension_slice s WHERE s.dimension_id = d.id AND s.range_start > v))
  FROM (SELECT dd.id, dd.interval_length FROM ${C}.dimension dd
        WHERE dd.hypertable_id = h AND dd.interval_length IS NOT NULL ORDER BY dd.id LIMIT 1) d,
       ${F}.orbit_aligned_range(v, d.interval_length) a
$body$;

-- The range (internal time) of the chunk that holds value in hypertable hypertable_id.
CREATE FUNCTION ${F}.chunk_range_for(hypertable_id integer, value anyelement, OUT range_start bigint, OUT range_end bigint)
LANGUAGE sql STABLE AS $body$
  SELECT r.range_start, r.range_end FROM ${F}.orbit_chunk_range(hypertable_id, ${F}.time_to_internal(value)) r
$body$;

-- Moves the rows of default partition def matching cond (a time range) into target, a new chunk or
-- slice table of hypertable rel not yet attached; returns how many. This is Orbit's own move, not a
-- user-visible DELETE/INSERT, so the row triggers cloned onto the default partition do not fire.
-- Only a superuser may turn them off this way, and route_default_rows runs as the extension's owner.
-- The INSERT checks target's CHECK constraints and computes its generated columns again, with the
-- rights of the hypertable's owner and never more. That code is the owner's, and a CHECK on
-- current_user must see the owner. The INSERT therefore runs in a single-use SECURITY DEFINER function
-- owned by that owner. Unlike SET ROLE, this leaves the owner's code no way to switch back: PostgreSQL
-- refuses SET ROLE and SET SESSION AUTHORIZATION inside a security-definer function.
CREATE FUNCTION ${F}.orbit_move_default_rows(def regclass, target regclass, cond text, rel regclass) RETURNS bigint
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  cols text := ${F}.orbit_insert_columns(target);
  owner oid := (SELECT relowner FROM pg_class WHERE oid = rel);
  su boolean := (SELECT rolsuper FROM pg_roles WHERE rolname = current_user);
  move text;
  role text := current_setting('session_replication_role');
  moved bigint;
BEGIN
  move := format('WITH m AS (DELETE FROM %s WHERE %s RETURNING %s), i AS (INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM m RETURNING 1) SELECT count(*) FROM i',
                 def, cond, cols, target, cols, cols);
  IF su THEN
    PERFORM set_config('session_replication_role', 'replica', true);
  END IF;
  IF su AND NOT (SELECT rolsuper FROM pg_roles WHERE oid = owner) THEN
    -- SET search_path FROM CURRENT: the names in move resolve as they do here.
    EXECUTE format('CREATE FUNCTION ${F}.orbit_move_rows_once() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS %L',
                   format('DECLARE n bigint; BEGIN EXECUTE %L INTO n; RETURN n; END', move));
    EXECUTE format('ALTER FUNCTION ${F}.orbit_move_rows_once() OWNER TO %I', pg_get_userbyid(owner));
    moved := ${F}.orbit_move_rows_once();
    DROP FUNCTION ${F}.orbit_move_rows_once();
  ELSE
    EXECUTE move INTO moved;
  END IF;
  IF su THEN
    PERFORM set_config('session_replication_role', role, true);
  END IF;
  RETURN moved;
END
$body$;

-- Creates the chunk of hypertable h for internal time v: a table like the hypertable, filled with its
-- default partition's rows of its range, then attached. With a space dimension, creates the time
-- slice's slice table with all its chunks instead (space-dimensions.ts). Nothing when the time slice
-- exists. Returns the number of rows moved into chunks.
CREATE FUNCTION ${F}.orbit_create_chunk(h integer, v bigint) RETURNS bigint
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  ht record;
  d record;
  ts record;
  rng record;
  chunk_id integer;
  chunk_name name;
  chunk regclass;
  lo text; hi text;
  cond text;
  cols text;
  moved bigint;
  has_rows boolean;
BEGIN
  SELECT hy.*, hy.relid::regclass AS rel,
         format('%I.%I', hy.associated_schema_name, hy.associated_table_prefix || '_default')::regclass AS def
    INTO ht FROM ${C}.hypertable hy WHERE hy.id = h;
  SELECT * INTO d FROM ${C}.dimension WHERE hypertable_id = h AND interval_length IS NOT NULL ORDER BY id LIMIT 1;
  IF EXISTS (SELECT FROM ${C}.dimension_slice s WHERE s.dimension_id = d.id AND v >= s.range_start AND v < s.range_end) THEN
    RETURN 0;
  END IF;
  rng := ${F}.orbit_chunk_range(h, v);
  INSERT INTO ${C}.dimension_slice (dimension_id, range_start, range_end)
    VALUES (d.id, rng.range_start, rng.range_end) RETURNING * INTO ts;
  IF EXISTS (SELECT FROM ${C}.dimension sd WHERE sd.hypertable_id = h AND sd.interval_length IS NULL) THEN
    RETURN ${F}.orbit_create_slice_table(h, ts.id);
  END IF;
  lo := ${F}.orbit_bound(d.column_type, ts.range_start);
  hi := ${F}.orbit_bound(d.column_type, ts.range_end);
  cond := concat_ws(' AND ',
    CASE WHEN lo <> 'MINVALUE' THEN format('%I >= %s', d.column_name, lo) END,
    CASE WHEN hi <> 'MAXVALUE' THEN format('%I < %s', d.column_name, hi) END);
  chunk_id := nextval('${C}.chunk_id_seq');
  chunk_name := ht.associated_table_prefix || '_' || chunk_id || '_chunk';
  EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE %s)', ht.def, coalesce(nullif(cond, ''), 'true')) INTO has_rows;
  IF NOT has_rows THEN
    -- Nothing to move (create_chunks_for_range, migrate_data): a plain new partition, 7x cheaper.
    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%s) TO (%s)',
                   ht.associated_schema_name, chunk_name, ht.rel, lo, hi);
  ELSE
    EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION)',
                   ht.associated_schema_name, chunk_name, ht.rel);
  END IF;
  chunk := format('%I.%I', ht.associated_schema_name, chunk_name)::regclass;
  INSERT INTO ${C}.chunk (id, hypertable_id, schema_name, table_name, range_start, range_end)
    VALUES (chunk_id, h, ht.associated_schema_name, chunk_name, ts.range_start, ts.range_end);
  -- TimescaleDB's dimension constraint, named after its slice; it also spares ATTACH its scan.
  INSERT INTO ${C}.chunk_constraint (chunk_id, dimension_slice_id, constraint_name) VALUES (chunk_id, ts.id, 'constraint_' || ts.id);
  IF cond <> '' THEN
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (%s)', chunk, 'constraint_' || ts.id, cond);
  END IF;
  EXECUTE format('ALTER TABLE %s OWNER TO %I', chunk, (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = ht.rel));
  PERFORM ${F}.orbit_copy_privileges(ht.rel, chunk);
  IF NOT has_rows THEN
    RETURN 0;
  END IF;
  moved := ${F}.orbit_move_default_rows(ht.def, chunk, coalesce(nullif(cond, ''), 'true'), ht.rel);
  EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)', ht.rel, chunk, lo, hi);
  RETURN moved;
END
$body$;

-- Moves the rows of the default partition of hypertable (NULL: of every hypertable) into chunks,
-- creating them; returns the number of rows moved. Called by Orbit after each INSERT/COPY/UPDATE/MERGE.
-- Each hypertable is routed in a subtransaction of its own. When one fails (its owner's CHECK turns
-- down a row under its owner's rights), its rows stay in its default partition, visible through the
-- hypertable, and a WARNING names it and the error (SQLSTATE kept). The other hypertables are routed
-- all the same.
CREATE FUNCTION ${F}.route_default_rows(hypertable regclass DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER ${PATH} AS $body$
DECLARE
  ht record;
  v bigint;
  moved bigint := 0;
  here bigint;
  state text;
  message text;
BEGIN
  FOR ht IN SELECT hy.id, hy.relid::regclass AS rel, format('%I.%I', hy.associated_schema_name, hy.associated_table_prefix || '_default') AS def,
                   (SELECT d.column_name FROM ${C}.dimension d WHERE d.hypertable_id = hy.id AND d.interval_length IS NOT NULL
                    ORDER BY d.id LIMIT 1) AS col
      FROM ${C}.hypertable hy
      WHERE hypertable IS NULL OR hy.id = ${F}.orbit_hypertable_id(hypertable) ORDER BY hy.id LOOP
    EXECUTE format('SELECT ${F}.time_to_internal(%I) FROM %s LIMIT 1', ht.col, ht.def) INTO v;
    -- Only a hypertable with rows to move pays for the subtransaction.
    CONTINUE WHEN v IS NULL;
    here := 0;
    BEGIN
      LOOP
        here := here + ${F}.orbit_create_chunk(ht.id, v);
        EXECUTE format('SELECT ${F}.time_to_internal(%I) FROM %s LIMIT 1', ht.col, ht.def) INTO v;
        EXIT WHEN v IS NULL;
      END LOOP;
      moved := moved + here;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
      RAISE WARNING 'rows of hypertable % were left in its default partition: %', ht.rel, message
        USING ERRCODE = state, HINT = 'They stay visible through the hypertable; the next write retries moving them into chunks.';
    END;
  END LOOP;
  RETURN moved;
END
$body$;

-- Creates every missing chunk of hypertable covering range_start..range_end (both included); returns
-- how many it created (with a space dimension, every chunk of each new time slice). Orbit's COPY
-- calls it with a piece's smallest and largest time.
CREATE FUNCTION ${F}.create_chunks_for_range(hypertable regclass, range_start anyelement, range_end anyelement) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER ${PATH} AS $body$
DECLARE
  h integer := ${F}.orbit_require_hypertable(hypertable);
  d integer := (SELECT dd.id FROM ${C}.dimension dd WHERE dd.hypertable_id = h AND dd.interval_length IS NOT NULL ORDER BY dd.id LIMIT 1);
  before bigint := (SELECT count(*) FROM ${C}.chunk c WHERE c.hypertable_id = h);
  v bigint := ${F}.time_to_internal(range_start);
  last bigint := ${F}.time_to_internal(range_end);
  e bigint;
BEGIN
  WHILE v <= last LOOP
    SELECT s.range_end INTO e FROM ${C}.dimension_slice s WHERE s.dimension_id = d AND v >= s.range_start AND v < s.range_end;
    IF NOT FOUND THEN
      PERFORM ${F}.orbit_create_chunk(h, v);
      SELECT s.range_end INTO e FROM ${C}.dimension_slice s WHERE s.dimension_id = d AND v >= s.range_start AND v < s.range_end;
    END IF;
    EXIT WHEN e = 9223372036854775807;
    v := e;
  END LOOP;
  RETURN (SELECT count(*) FROM ${C}.chunk c WHERE c.hypertable_id = h) - before;
END
$body$;

-- Creates the missing chunks for a set of time values given as text (a COPY piece's time column, read
-- by Orbit before the piece is sent so that its rows go straight into chunks); returns how many it
-- created. The values are cast with the session's own settings (DateStyle, TimeZone), exactly as COPY
-- will cast them. A value that does not cast creates nothing and is no error here: the COPY itself
-- then reports it, with its line number; this function must never abort the COPY's transaction.
-- With a space dimension the time alone suffices: a new time slice comes with all its chunks.
CREATE FUNCTION ${F}.create_chunks_for_values(hypertable regclass, time_values text[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER ${PATH} AS $body$
DECLARE
  h integer := ${F}.orbit_hypertable_id(hypertable);
  d record;
  v bigint;
  covered_start bigint;
  covered_end bigint;
  before bigint;
BEGIN
  IF h IS NULL THEN
    RETURN 0;
  END IF;
  SELECT * INTO d FROM ${C}.dimension WHERE hypertable_id = h AND interval_length IS NOT NULL ORDER BY id LIMIT 1;
  before := (SELECT count(*) FROM ${C}.chunk c WHERE c.hypertable_id = h);
  BEGIN
    FOR v IN EXECUTE format('SELECT DISTINCT ${F}.time_to_internal(x::%s) FROM unnest($1) x WHERE x IS NOT NULL ORDER BY 1', d.column_type)
             USING time_values LOOP
      CONTINUE WHEN v >= covered_start AND v < covered_end;
      SELECT s.range_start, s.range_end INTO covered_start, covered_end
        FROM ${C}.dimension_slice s WHERE s.dimension_id = d.id AND v >= s.range_start AND v < s.range_end;
      IF NOT FOUND THEN
        PERFORM ${F}.orbit_create_chunk(h, v);
        SELECT s.range_start, s.range_end INTO covered_start, covered_end
          FROM ${C}.dimension_slice s WHERE s.dimension_id = d.id AND v >= s.range_start AND v < s.range_end;
      END IF;
    END LOOP;
  EXCEPTION WHEN data_exception OR syntax_error_or_access_rule_violation THEN
    -- A value COPY will reject (22xxx), or a column type without a text cast: leave it to the COPY
    -- and the default-partition fix-up.
    RETURN 0;
  END;
  RETURN (SELECT count(*) FROM ${C}.chunk c WHERE c.hypertable_id = h) - before;
END
$body$;

-- The chunks of hypertable h holding internal times \`times\` (created where missing), for direct
-- ingest, which routes rows itself: id, qualified name and range of each.
CREATE FUNCTION ${F}.orbit_chunks_for_internal(h integer, times bigint[])
RETURNS TABLE(chunk_id integer, chunk regclass, range_start bigint, range_end bigint)
LANGUAGE plpgsql SECURITY DEFINER ${PATH} AS $body$
DECLARE
  d record;
  v bigint;
BEGIN
  SELECT * INTO d FROM ${C}.dimension WHERE hypertable_id = h AND interval_length IS NOT NULL ORDER BY id LIMIT 1;
  FOR v IN SELECT DISTINCT x FROM unnest(times) x WHERE x IS NOT NULL ORDER BY 1 LOOP
    IF NOT EXISTS (SELECT FROM ${C}.dimension_slice s WHERE s.dimension_id = d.id AND v >= s.range_start AND v < s.range_end) THEN
      PERFORM ${F}.orbit_create_chunk(h, v);
    END IF;
  END LOOP;
  RETURN QUERY SELECT c.id, format('%I.%I', c.schema_name, c.table_name)::regclass, c.range_start, c.range_end
    FROM ${C}.chunk c WHERE c.hypertable_id = h AND NOT c.dropped ORDER BY c.range_start;
END
$body$;
`;
}
