/**
 * @module catalog/extension/policies
 * Retention and columnstore policies (timescale_api.md §1.3, §1.5, defaults §2, errors §3.4/§3.6):
 * jobs whose procedures are TimescaleDB's `_timescaledb_functions.policy_retention` and
 * `policy_compression`, with TimescaleDB's config keys, defaults and application names.
 *
 * A retention run drops the chunks that end at or before now() - drop_after (or, for integer time,
 * integer_now() - drop_after), as drop_chunks(older_than => …) does. A columnstore run asks for
 * compression of the chunks that end at or before the same cut-off and are not in the columnstore
 * (or got rows since), through compress_chunk: Orbit's session layer converts them once the run has
 * committed (session/columnstore/compression-requests.ts), as it does for any compress_chunk call.
 *
 * A compaction run (TimescaleDB 2.29's `policy_compaction`) rewrites chunks that are wholly in the
 * columnstore and marked unordered — direct ingest appends batch sets that overlap in time — as one
 * sorted set of full batches (compress_chunk(…, recompress => true)), oldest chunk first, within
 * max_chunks and max_batches. Partial chunks are the columnstore policy's.
 *
 * As in TimescaleDB, a policy has a fixed schedule only when it is given an initial_start; otherwise
 * each run is due schedule_interval after the previous one ended.
 *
 * The cut-off arguments are `"any"` in TimescaleDB; here they are `orbit_time_arg` as for drop_chunks
 * (show-drop-chunks.ts), untyped literals included (sql/rewrite/chunk-cutoffs.ts).
 */
import { CHUNK_STATUS_COMPRESSED_UNORDERED as UNORDERED } from './columnstore-chunks.js';
import { ErrCode as E } from './errcodes.js';
import { CATALOG_SCHEMA as C, EXTENSION_SCHEMA as EXT, FIXED_SEARCH_PATH as PATH, FUNCTIONS_SCHEMA as F, INTERNAL_SCHEMA as I } from './schemas.js';

const JOB = '_timescaledb_config.bgw_job';
const ARG = `${I}.orbit_time_arg`;
const INT_TYPES = "('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype)";

export function policiesSql(): string {
  return `
-- The hypertable and primary (open) dimension a policy config names.
CREATE FUNCTION ${F}.orbit_policy_target(config jsonb, OUT rel regclass, OUT h ${C}.hypertable, OUT d ${C}.dimension)
LANGUAGE plpgsql STABLE ${PATH} AS $body$
BEGIN
  SELECT * INTO h FROM ${C}.hypertable x WHERE x.id = (config->>'hypertable_id')::integer;
  IF h.id IS NULL THEN
    RAISE EXCEPTION 'configuration hypertable id % not found', config->>'hypertable_id' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  rel := h.relid::regclass;
  SELECT * INTO d FROM ${C}.dimension x WHERE x.hypertable_id = h.id AND x.interval_length IS NOT NULL ORDER BY x.id LIMIT 1;
END
$body$;

-- integer_now() - lag for an integer hypertable, clamped to the column type's range.
CREATE FUNCTION ${F}.orbit_integer_cutoff(h ${C}.hypertable, d ${C}.dimension, lag bigint) RETURNS bigint
LANGUAGE plpgsql STABLE ${PATH} AS $body$
DECLARE
  now_value bigint;
BEGIN
  IF d.integer_now_func IS NULL THEN
    RAISE EXCEPTION 'missing integer_now function for hypertable "%"', h.table_name USING ERRCODE = '${E.ts_internal_error}';
  END IF;
  EXECUTE format('SELECT %I.%I()::bigint', d.integer_now_func_schema, d.integer_now_func) INTO now_value;
  RETURN greatest(now_value - lag, CASE d.column_type WHEN 'smallint'::regtype THEN -32768
    WHEN 'integer'::regtype THEN -2147483648 ELSE -9223372036854775808 END);
END
$body$;

-- The chunks a policy acts on: older than the config's "<prefix>after" lag, or created before its
-- "<prefix>created_before" interval.
CREATE FUNCTION ${F}.orbit_policy_chunks(config jsonb, after_key text, created_key text)
RETURNS SETOF ${C}.chunk LANGUAGE plpgsql STABLE ${PATH} AS $body$
DECLARE
  t record := ${F}.orbit_policy_target(config);
BEGIN
  IF config ? created_key THEN
    RETURN QUERY SELECT * FROM ${F}.orbit_select_chunks(t.rel, NULL, NULL, (config->>created_key)::interval, NULL, false);
  ELSIF (t.d).column_type IN ${INT_TYPES} THEN
    RETURN QUERY SELECT * FROM ${F}.orbit_select_chunks(t.rel,
      ROW((t.d).column_type, ${F}.orbit_integer_cutoff(t.h, t.d, (config->>after_key)::bigint)::text)::${ARG}, NULL, NULL, NULL, false);
  ELSE
    RETURN QUERY SELECT * FROM ${F}.orbit_select_chunks(t.rel, (config->>after_key)::interval, NULL, NULL, NULL, false);
  END IF;
END
$body$;

CREATE PROCEDURE ${F}.policy_retention(job_id integer, config jsonb)
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  c record;
BEGIN
  -- drop_chunks with the cut-off as an absolute value of the column type: the same chunks.
  FOR c IN SELECT * FROM ${F}.orbit_policy_chunks(config, 'drop_after', 'drop_created_before') LOOP
    -- Its catalog rows go with it (orbit_on_sql_drop), also when the job runs as its owner.
    EXECUTE format('DROP TABLE %I.%I', c.schema_name, c.table_name);
  END LOOP;
  PERFORM ${F}.orbit_drop_empty_slices((config->>'hypertable_id')::integer);
END
$body$;

CREATE PROCEDURE ${F}.policy_compression(job_id integer, config jsonb)
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  t record := ${F}.orbit_policy_target(config);
  c ${C}.chunk;
  chunk regclass;
  pending boolean;
  n integer := 0;
  max_chunks integer := coalesce((config->>'maxchunks_to_compress')::integer, 0);
BEGIN
  IF (t.h).compression_state <> 1 THEN
    RAISE EXCEPTION 'columnstore not enabled on hypertable "%"', (t.h).table_name USING ERRCODE = '${E.feature_not_supported}',
      HINT = 'Enable columnstore before adding a columnstore policy.';
  END IF;
  FOR c IN SELECT * FROM ${F}.orbit_policy_chunks(config, 'compress_after', 'compress_created_before') LOOP
    EXIT WHEN max_chunks > 0 AND n >= max_chunks;
    chunk := format('%I.%I', c.schema_name, c.table_name)::regclass;
    -- A chunk in the columnstore is recompressed only when rows arrived since.
    IF ${F}.orbit_chunk_in_columnstore(c) THEN
      EXECUTE format('SELECT EXISTS (SELECT FROM ONLY %s)', chunk) INTO pending;
      CONTINUE WHEN NOT pending;
    END IF;
    PERFORM ${EXT}.compress_chunk(chunk, true);
    n := n + 1;
  END LOOP;
END
$body$;

-- A policy config: not NULL, naming a hypertable, and (with lag keys) exactly one of the two lags.
CREATE FUNCTION ${F}.orbit_policy_check(config jsonb, after_key text, created_key text) RETURNS void
LANGUAGE plpgsql STABLE ${PATH} AS $body$
BEGIN
  IF config IS NULL THEN
    RAISE EXCEPTION 'config must not be NULL' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  PERFORM ${F}.orbit_policy_target(config);
  IF after_key IS NOT NULL AND (config ? after_key) = (config ? created_key) THEN
    RAISE EXCEPTION 'need to specify one of "%" or "%"', after_key, created_key USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
END
$body$;

CREATE FUNCTION ${F}.policy_retention_check(config jsonb) RETURNS void
LANGUAGE sql STABLE ${PATH} AS $body$ SELECT ${F}.orbit_policy_check(config, 'drop_after', 'drop_created_before') $body$;

CREATE FUNCTION ${F}.policy_compression_check(config jsonb) RETURNS void
LANGUAGE sql STABLE ${PATH} AS $body$ SELECT ${F}.orbit_policy_check(config, 'compress_after', 'compress_created_before') $body$;

-- The lag of a policy as config JSON: an interval for time columns, an integer (with an integer_now
-- function) for integer ones; NULL when the argument is absent. Raises TimescaleDB's errors.
CREATE FUNCTION ${F}.orbit_policy_lag(h ${C}.hypertable, d ${C}.dimension, arg ${ARG}, param text, created text, compression boolean)
RETURNS jsonb LANGUAGE plpgsql STABLE ${PATH} AS $body$
DECLARE
  is_int boolean := d.column_type IN ${INT_TYPES};
BEGIN
  IF arg IS NULL OR arg.value IS NULL THEN RETURN NULL; END IF;
  IF is_int AND arg.type IN ('unknown'::regtype, 'smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) AND d.integer_now_func IS NOT NULL THEN
    RETURN to_jsonb(arg.value::bigint);
  END IF;
  IF NOT is_int AND arg.type IN ('unknown'::regtype, 'interval'::regtype) THEN
    RETURN to_jsonb(arg.value::interval);
  END IF;
  IF compression AND NOT is_int THEN
    RAISE EXCEPTION 'unsupported % argument type, expected type : interval', param USING ERRCODE = '${E.feature_not_supported}';
  END IF;
  RAISE EXCEPTION 'invalid value for parameter %', param USING ERRCODE = '${E.invalid_parameter_value}',
    HINT = CASE WHEN is_int
      THEN format('Integer duration in "%s" with valid "integer_now" function or interval time duration in "%s" is required for hypertables with integer time dimension.', param, created)
      ELSE 'Interval time duration is required for hypertable with timestamp or UUID time dimension.' END;
END
$body$;

-- An existing policy of the same kind: an error, or with if_not_exists a NOTICE (same config) or a
-- WARNING (another config); both return -1, as TimescaleDB's.
CREATE FUNCTION ${F}.orbit_policy_exists(proc name, h ${C}.hypertable, config jsonb, if_not_exists boolean, what text, hint text)
RETURNS boolean LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  existing jsonb;
BEGIN
  SELECT j.config INTO existing FROM ${JOB} j WHERE j.proc_schema = '${F}' AND j.proc_name = proc AND j.hypertable_id = h.id;
  IF NOT FOUND THEN RETURN false; END IF;
  IF NOT if_not_exists AND hint IS NULL THEN
    RAISE EXCEPTION '% already exists for hypertable "%"', what, h.table_name USING ERRCODE = '${E.duplicate_object}';
  ELSIF NOT if_not_exists THEN
    RAISE EXCEPTION '% already exists for hypertable or continuous aggregate "%"', what, h.table_name
      USING ERRCODE = '${E.duplicate_object}', HINT = hint;
  END IF;
  IF existing = config THEN
    RAISE NOTICE '% already exists for hypertable "%", skipping', what, h.table_name;
  ELSE
    RAISE WARNING '% already exists for hypertable "%"', what, h.table_name
      USING DETAIL = 'A policy already exists with different arguments.', HINT = 'Remove the existing policy before adding a new one.';
  END IF;
  RETURN true;
END
$body$;

-- Deletes the policy job of kind proc on a hypertable: false, with a NOTICE, when there is none and
-- if_exists is set; an error (42704) otherwise.
CREATE FUNCTION ${F}.orbit_policy_remove(proc name, rel regclass, if_exists boolean, what text)
RETURNS boolean LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  h integer := ${F}.orbit_require_hypertable(rel);
  tbl name := (SELECT table_name FROM ${C}.hypertable WHERE id = h);
  id integer;
BEGIN
  PERFORM ${F}.orbit_require_owner(rel);
  SELECT j.id INTO id FROM ${JOB} j WHERE j.proc_schema = '${F}' AND j.proc_name = proc AND j.hypertable_id = h;
  IF id IS NULL THEN
    IF if_exists THEN
      RAISE NOTICE '% not found for hypertable "%", skipping', what, tbl;
      RETURN false;
    END IF;
    RAISE EXCEPTION '% not found for hypertable "%"', what, tbl USING ERRCODE = '${E.undefined_object}';
  END IF;
  PERFORM ${F}.orbit_job_delete(id);
  RETURN true;
END
$body$;

CREATE FUNCTION ${EXT}.add_retention_policy(relation regclass, drop_after ${ARG} = NULL, if_not_exists boolean = false,
  schedule_interval interval = NULL, initial_start timestamptz = NULL, timezone text = NULL, drop_created_before interval = NULL)
RETURNS integer LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  h ${C}.hypertable;
  d ${C}.dimension;
  lag jsonb;
  config jsonb;
BEGIN
  SELECT * INTO h FROM ${C}.hypertable x WHERE x.id = ${F}.orbit_require_hypertable(relation);
  PERFORM ${F}.orbit_require_owner(relation);
  SELECT * INTO d FROM ${C}.dimension x WHERE x.hypertable_id = h.id AND x.interval_length IS NOT NULL ORDER BY x.id LIMIT 1;
  lag := ${F}.orbit_policy_lag(h, d, drop_after, 'drop_after', 'drop_created_before', false);
  IF (lag IS NULL) = (drop_created_before IS NULL) THEN
    RAISE EXCEPTION 'need to specify one of "drop_after" or "drop_created_before"' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  config := jsonb_build_object('hypertable_id', h.id) || CASE WHEN lag IS NOT NULL THEN jsonb_build_object('drop_after', lag)
    ELSE jsonb_build_object('drop_created_before', drop_created_before) END;
  IF ${F}.orbit_policy_exists('policy_retention', h, config, if_not_exists, 'retention policy', NULL) THEN RETURN -1; END IF;
  RETURN ${F}.orbit_job_insert('Retention Policy', false, coalesce(schedule_interval, INTERVAL '1 day'), INTERVAL '5 minutes', -1,
    INTERVAL '5 minutes', '${F}', 'policy_retention', (SELECT relowner FROM pg_class WHERE oid = h.relid)::regrole, true,
    initial_start IS NOT NULL, initial_start, h.id, config, '${F}', 'policy_retention_check', timezone);
END
$body$;

CREATE FUNCTION ${EXT}.remove_retention_policy(relation regclass, if_exists boolean = false)
RETURNS void LANGUAGE plpgsql STRICT ${PATH} AS $body$
BEGIN
  PERFORM ${F}.orbit_policy_remove('policy_retention', relation, if_exists, 'retention policy');
END
$body$;

CREATE FUNCTION ${EXT}.add_compression_policy(hypertable regclass, compress_after ${ARG} = NULL, if_not_exists boolean = false,
  schedule_interval interval = NULL, initial_start timestamptz = NULL, timezone text = NULL, compress_created_before interval = NULL)
RETURNS integer LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  h ${C}.hypertable;
  d ${C}.dimension;
  lag jsonb;
  config jsonb;
  sched interval;
BEGIN
  SELECT * INTO h FROM ${C}.hypertable x WHERE x.id = ${F}.orbit_require_hypertable(hypertable);
  PERFORM ${F}.orbit_require_owner(hypertable);
  SELECT * INTO d FROM ${C}.dimension x WHERE x.hypertable_id = h.id AND x.interval_length IS NOT NULL ORDER BY x.id LIMIT 1;
  IF h.compression_state <> 1 THEN
    RAISE EXCEPTION 'columnstore not enabled on hypertable "%"', h.table_name USING ERRCODE = '${E.feature_not_supported}',
      HINT = 'Enable columnstore before adding a columnstore policy.';
  END IF;
  IF (compress_after IS NULL OR compress_after.value IS NULL) = (compress_created_before IS NULL) THEN
    RAISE EXCEPTION 'need to specify one of "compress_after" or "compress_created_before"' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  lag := ${F}.orbit_policy_lag(h, d, compress_after, 'compress_after', 'compress_created_before', true);
  config := jsonb_build_object('hypertable_id', h.id) || CASE WHEN lag IS NOT NULL THEN jsonb_build_object('compress_after', lag)
    ELSE jsonb_build_object('compress_created_before', compress_created_before) END;
  IF ${F}.orbit_policy_exists('policy_compression', h, config, if_not_exists, 'columnstore policy',
      'Set option "if_not_exists" to true to avoid error.') THEN
    RETURN -1;
  END IF;
  -- Half the chunk interval, at most 12 hours; a day for integer time.
  sched := coalesce(schedule_interval, CASE WHEN d.column_type IN ${INT_TYPES} THEN INTERVAL '1 day'
    ELSE least(${F}.to_interval(d.interval_length / 2), INTERVAL '12 hours') END);
  RETURN ${F}.orbit_job_insert('Columnstore Policy', false, sched, INTERVAL '0', -1, INTERVAL '1 hour', '${F}', 'policy_compression',
    (SELECT relowner FROM pg_class WHERE oid = h.relid)::regrole, true, initial_start IS NOT NULL, initial_start, h.id, config,
    '${F}', 'policy_compression_check', timezone);
END
$body$;

CREATE FUNCTION ${EXT}.remove_compression_policy(hypertable regclass, if_exists boolean = false)
RETURNS boolean LANGUAGE sql STRICT ${PATH} AS $body$ SELECT ${F}.orbit_policy_remove('policy_compression', hypertable, if_exists, 'columnstore policy') $body$;

CREATE PROCEDURE ${EXT}.add_columnstore_policy(hypertable regclass, after ${ARG} = NULL, if_not_exists boolean = false,
  schedule_interval interval = NULL, initial_start timestamptz = NULL, timezone text = NULL, created_before interval = NULL)
LANGUAGE plpgsql ${PATH} AS $body$
BEGIN
  PERFORM ${EXT}.add_compression_policy(hypertable, after, if_not_exists, schedule_interval, initial_start, timezone, created_before);
END
$body$;

CREATE PROCEDURE ${EXT}.remove_columnstore_policy(hypertable regclass, if_exists boolean = false)
LANGUAGE plpgsql ${PATH} AS $body$
BEGIN
  PERFORM ${EXT}.remove_compression_policy(hypertable, if_exists);
END
$body$;

CREATE PROCEDURE ${F}.policy_compaction(job_id integer, config jsonb)
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  t record := ${F}.orbit_policy_target(config);
  c record;
  pending boolean;
  n integer := 0;
  batches bigint := 0;
  max_chunks integer := (config->>'max_chunks')::integer;
  max_batches integer := (config->>'max_batches')::integer;
BEGIN
  FOR c IN SELECT ch.schema_name, ch.table_name, o.batch_count FROM ${C}.chunk ch
      JOIN ${C}.orbit_columnstore_chunk o ON o.chunk_id = ch.id
      WHERE ch.hypertable_id = (t.h).id AND NOT ch.dropped AND ch.status & ${UNORDERED} <> 0
        AND NOT EXISTS (SELECT FROM ${C}.orbit_columnstore_request r WHERE r.chunk_id = ch.id)
      ORDER BY ch.id LOOP
    EXECUTE format('SELECT EXISTS (SELECT FROM ONLY %I.%I)', c.schema_name, c.table_name) INTO pending;
    CONTINUE WHEN pending;
    EXIT WHEN max_chunks > 0 AND n >= max_chunks;
    EXIT WHEN max_batches > 0 AND n > 0 AND batches + c.batch_count > max_batches;
    PERFORM ${EXT}.compress_chunk(format('%I.%I', c.schema_name, c.table_name)::regclass, true, recompress => true);
    n := n + 1;
    batches := batches + c.batch_count;
  END LOOP;
END
$body$;

CREATE FUNCTION ${F}.policy_compaction_check(config jsonb) RETURNS void
LANGUAGE sql STABLE ${PATH} AS $body$ SELECT ${F}.orbit_policy_check(config, NULL, NULL) $body$;

CREATE FUNCTION ${EXT}.add_compaction_policy(hypertable regclass, if_not_exists boolean = false, schedule_interval interval = NULL,
  initial_start timestamptz = NULL, timezone text = NULL, max_chunks integer = NULL, max_batches integer = NULL,
  inactive_for interval = NULL)
RETURNS integer LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  h ${C}.hypertable;
  config jsonb;
BEGIN
  SELECT * INTO h FROM ${C}.hypertable x WHERE x.id = ${F}.orbit_require_hypertable(hypertable);
  PERFORM ${F}.orbit_require_owner(hypertable);
  IF h.compression_state <> 1 THEN
    RAISE EXCEPTION 'columnstore not enabled on hypertable "%"', h.table_name USING ERRCODE = '${E.feature_not_supported}',
      HINT = 'Enable columnstore before adding a compaction policy.';
  END IF;
  -- Orbit keeps no time of a chunk's last write to tell chunks still being written to.
  IF inactive_for IS NOT NULL THEN
    RAISE EXCEPTION 'inactive_for is not supported by Orbit' USING ERRCODE = '${E.feature_not_supported}';
  END IF;
  IF max_chunks < 0 OR max_batches < 0 THEN
    RAISE EXCEPTION 'max_chunks and max_batches must not be negative' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  config := jsonb_strip_nulls(jsonb_build_object('hypertable_id', h.id, 'max_chunks', max_chunks, 'max_batches', max_batches));
  IF ${F}.orbit_policy_exists('policy_compaction', h, config, if_not_exists, 'compaction policy', NULL) THEN RETURN -1; END IF;
  RETURN ${F}.orbit_job_insert('Compaction Policy', false, coalesce(schedule_interval, INTERVAL '5 minutes'), INTERVAL '0', -1,
    INTERVAL '5 minutes', '${F}', 'policy_compaction', (SELECT relowner FROM pg_class WHERE oid = h.relid)::regrole, true,
    initial_start IS NOT NULL, initial_start, h.id, config, '${F}', 'policy_compaction_check', timezone);
END
$body$;

CREATE FUNCTION ${EXT}.remove_compaction_policy(hypertable regclass, if_exists boolean = false)
RETURNS void LANGUAGE plpgsql STRICT ${PATH} AS $body$
BEGIN
  PERFORM ${F}.orbit_policy_remove('policy_compaction', hypertable, if_exists, 'compaction policy');
END
$body$;

-- TimescaleDB 2.23+: a hypertable created WITH (timescaledb.hypertable) and the columnstore enabled
-- gets a columnstore policy with after = the chunk interval (time columns only: an integer column
-- has no integer_now function yet when the table is created).
CREATE FUNCTION ${F}.orbit_add_default_columnstore_policy(rel regclass) RETURNS void
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  d ${C}.dimension;
BEGIN
  SELECT x.* INTO d FROM ${C}.dimension x WHERE x.hypertable_id = ${F}.orbit_hypertable_id(rel) AND x.interval_length IS NOT NULL
    ORDER BY x.id LIMIT 1;
  IF d.column_type IN ${INT_TYPES} THEN RETURN; END IF;
  PERFORM ${EXT}.add_compression_policy(rel, ${F}.to_interval(d.interval_length), true, INTERVAL '1 day');
END
$body$;
`;
}
