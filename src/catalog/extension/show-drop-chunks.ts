/**
 * @module catalog/extension/show-drop-chunks
 * `show_chunks` and `drop_chunks` (timescale_api.md §1.1, errors §3.2). Only whole chunks are
 * selected: `older_than` takes chunks whose range ends at or before the cut-off, `newer_than` those
 * whose range starts at or after it; both together intersect.
 *
 * TimescaleDB declares the cut-offs `"any"`, which SQL functions cannot; Orbit declares them
 * `_timescaledb_internal.orbit_time_arg`, to which interval, timestamptz, timestamp, date and the
 * integer types convert implicitly (hypertable-catalog.ts). Deviation: an untyped literal
 * (`older_than => '2020-01-01'`) is not accepted; write `TIMESTAMPTZ '2020-01-01'`.
 */
import { ErrCode as E } from './errcodes.js';
import { CATALOG_SCHEMA as C, EXTENSION_SCHEMA as EXT, FIXED_SEARCH_PATH as PATH, FUNCTIONS_SCHEMA as F, INTERNAL_SCHEMA as I } from './schemas.js';

const ARG = `${I}.orbit_time_arg`;

export function showDropChunksSql(): string {
  return `
-- A cut-off in internal time of the hypertable's time column (TimescaleDB ts_time_value_from_arg).
CREATE FUNCTION ${F}.orbit_cutoff(col regtype, arg ${ARG}) RETURNS bigint
LANGUAGE plpgsql STABLE ${PATH} AS $body$
DECLARE
  is_int_col boolean := col IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype);
  t timestamptz;
  t_text text;
BEGIN
  IF arg IS NULL OR arg.value IS NULL THEN RETURN NULL; END IF;
  IF arg.type = 'interval'::regtype AND NOT is_int_col THEN
    t := now() - arg.value::interval;
    RETURN CASE col WHEN 'timestamptz'::regtype THEN ${F}.orbit_us(t)
      WHEN 'timestamp'::regtype THEN ${F}.orbit_us(t::timestamp) ELSE ${F}.orbit_us(t::date) END;
  END IF;
  IF arg.type = col OR arg.type = 'unknown'::regtype THEN
    RETURN ${F}.orbit_internal(col, arg.value);
  END IF;
  -- Other types only where PostgreSQL casts them implicitly (TimescaleDB: can_coerce_type IMPLICIT),
  -- e.g. date or timestamp for a timestamptz column, smallint for an integer one.
  IF EXISTS (SELECT FROM pg_cast WHERE castsource = arg.type AND casttarget = col AND castcontext = 'i') THEN
    EXECUTE format('SELECT %L::%s::%s::text', arg.value, arg.type, col) INTO t_text;
    RETURN ${F}.orbit_internal(col, t_text);
  END IF;
  RAISE EXCEPTION 'invalid time argument type "%"', format_type(arg.type, NULL)
    USING ERRCODE = '${E.invalid_parameter_value}', HINT = format('Try casting the argument to "%s".', format_type(col, NULL));
END
$body$;

-- The chunks of a hypertable selected by the show_chunks/drop_chunks arguments, oldest first.
CREATE FUNCTION ${F}.orbit_select_chunks(relation regclass, older_than ${ARG}, newer_than ${ARG},
  created_before ${ARG}, created_after ${ARG}, for_drop boolean)
RETURNS SETOF ${C}.chunk LANGUAGE plpgsql STABLE ${PATH} AS $body$
DECLARE
  h integer;
  col regtype;
  older bigint; newer bigint;
  cb timestamptz; ca timestamptz;
  c_older bigint; c_newer bigint;
BEGIN
  IF relation IS NULL THEN
    RAISE EXCEPTION 'invalid hypertable or continuous aggregate' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  h := ${F}.orbit_hypertable_id(relation);
  IF h IS NULL THEN
    RAISE EXCEPTION '"%" is not a hypertable or a continuous aggregate', (SELECT relname FROM pg_class WHERE oid = relation)
      USING ERRCODE = '${E.ts_hypertable_not_exist}';
  END IF;
  IF (older_than IS NOT NULL OR newer_than IS NOT NULL) AND (created_before IS NOT NULL OR created_after IS NOT NULL) THEN
    RAISE EXCEPTION 'cannot specify "older_than" or "newer_than" together with "created_before" or "created_after"'
      USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  IF for_drop AND older_than IS NULL AND newer_than IS NULL AND created_before IS NULL AND created_after IS NULL THEN
    RAISE EXCEPTION 'invalid time range for dropping chunks' USING ERRCODE = '${E.invalid_parameter_value}',
      HINT = 'At least one of older_than/newer_than or created_before/created_after must be provided.';
  END IF;
  SELECT d.column_type INTO col FROM ${C}.dimension d WHERE d.hypertable_id = h AND d.interval_length IS NOT NULL ORDER BY d.id LIMIT 1;
  older := ${F}.orbit_cutoff(col, older_than);
  newer := ${F}.orbit_cutoff(col, newer_than);
  IF older IS NOT NULL AND newer IS NOT NULL AND older <= newer THEN
    RAISE EXCEPTION 'invalid time range' USING ERRCODE = '${E.invalid_parameter_value}',
      HINT = 'The start of the time range must be before the end.';
  END IF;
  -- created_before/after: a time (interval = now() - interval) against the chunk's creation time, or
  -- for integer hypertables an integer against the partition column.
  IF col IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
    c_older := ${F}.orbit_cutoff(col, created_before);
    c_newer := ${F}.orbit_cutoff(col, created_after);
  ELSE
    cb := CASE WHEN created_before.type = 'interval'::regtype THEN now() - created_before.value::interval
               WHEN created_before.type IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype, 'unknown'::regtype) THEN created_before.value::timestamptz END;
    ca := CASE WHEN created_after.type = 'interval'::regtype THEN now() - created_after.value::interval
               WHEN created_after.type IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype, 'unknown'::regtype) THEN created_after.value::timestamptz END;
    IF (created_before.value IS NOT NULL AND cb IS NULL) OR (created_after.value IS NOT NULL AND ca IS NULL) THEN
      RAISE EXCEPTION 'invalid time argument type "%"', format_type(coalesce(created_before.type, created_after.type), NULL)
        USING ERRCODE = '${E.invalid_parameter_value}', HINT = 'Try casting the argument to "timestamp with time zone".';
    END IF;
  END IF;
  RETURN QUERY SELECT c.* FROM ${C}.chunk c
    WHERE c.hypertable_id = h AND NOT c.dropped
      AND (older IS NULL OR c.range_end <= older) AND (newer IS NULL OR c.range_start >= newer)
      AND (c_older IS NULL OR c.range_end <= c_older) AND (c_newer IS NULL OR c.range_start >= c_newer)
      AND (cb IS NULL OR c.creation_time < cb) AND (ca IS NULL OR c.creation_time > ca)
    ORDER BY c.range_start, c.id;
END
$body$;

CREATE FUNCTION ${EXT}.show_chunks(relation regclass, older_than ${ARG} = NULL, newer_than ${ARG} = NULL,
  created_before ${ARG} = NULL, created_after ${ARG} = NULL)
RETURNS SETOF regclass LANGUAGE sql STABLE ${PATH} AS $body$
  SELECT format('%I.%I', c.schema_name, c.table_name)::regclass
  FROM ${F}.orbit_select_chunks(relation, older_than, newer_than, created_before, created_after, false) c
$body$;

CREATE FUNCTION ${EXT}.drop_chunks(relation regclass, older_than ${ARG} = NULL, newer_than ${ARG} = NULL,
  verbose boolean = false, created_before ${ARG} = NULL, created_after ${ARG} = NULL)
RETURNS SETOF text LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  c record;
  qualified text;
BEGIN
  PERFORM ${F}.orbit_require_owner(relation);
  FOR c IN SELECT * FROM ${F}.orbit_select_chunks(relation, older_than, newer_than, created_before, created_after, true) LOOP
    qualified := format('%I.%I', c.schema_name, c.table_name);
    IF $4 THEN
      RAISE INFO 'dropping chunk %', qualified;
    END IF;
    -- The chunk's catalog rows go with it (orbit_on_sql_drop): the owner may drop its chunks, not
    -- write the catalog.
    EXECUTE format('DROP TABLE %s', qualified);
    RETURN NEXT qualified;
  END LOOP;
  -- Slice tables left empty go too (and with them, time slices no chunk uses).
  PERFORM ${F}.orbit_drop_empty_slices(${F}.orbit_hypertable_id(relation));
END
$body$;
`;
}
