/**
 * @module catalog/extension/integer-now
 * `set_integer_now_func` (timescale_api.md §1.1, errors §3.1; TimescaleDB
 * `ts_hypertable_set_integer_now_func`, src/hypertable.c): the "now" of an integer time column, kept
 * on the dimension row (`integer_now_func_schema`/`integer_now_func`) for interval-based policies and
 * shown by `timescaledb_information.dimensions`. show_chunks/drop_chunks take integer cut-offs on
 * integer hypertables, with or without it (an interval is refused there, as in TimescaleDB).
 */
import { ErrCode as E } from './errcodes.js';
import { CATALOG_SCHEMA as C, EXTENSION_SCHEMA as EXT, FIXED_SEARCH_PATH as PATH, FUNCTIONS_SCHEMA as F } from './schemas.js';

export function integerNowSql(): string {
  return `
CREATE FUNCTION ${EXT}.set_integer_now_func(hypertable regclass, integer_now_func regproc, replace_if_exists boolean = false)
RETURNS void LANGUAGE plpgsql STRICT ${PATH} AS $body$
DECLARE
  h integer := ${F}.orbit_require_hypertable(hypertable);
  tbl name := (SELECT relname FROM pg_class WHERE oid = hypertable);
  d record;
  p record;
BEGIN
  IF NOT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = hypertable), 'USAGE') THEN
    RAISE EXCEPTION 'must be owner of hypertable "%"', tbl USING ERRCODE = '${E.insufficient_privilege}';
  END IF;
  SELECT * INTO d FROM ${C}.dimension WHERE hypertable_id = h AND interval_length IS NOT NULL ORDER BY id LIMIT 1;
  IF NOT replace_if_exists AND d.integer_now_func IS NOT NULL THEN
    RAISE EXCEPTION 'custom time function already set for hypertable "%"', tbl USING ERRCODE = '${E.duplicate_object}';
  END IF;
  IF d.column_type NOT IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
    RAISE EXCEPTION 'custom time function not supported' USING ERRCODE = '${E.invalid_parameter_value}',
      HINT = 'A custom time function can only be set for hypertables that have integer time dimensions.';
  END IF;
  IF NOT has_function_privilege(integer_now_func, 'EXECUTE') THEN
    RAISE EXCEPTION 'permission denied for function %', integer_now_func USING ERRCODE = '${E.insufficient_privilege}';
  END IF;
  SELECT f.provolatile, f.pronargs, f.prorettype, f.proname, n.nspname INTO p
    FROM pg_proc f JOIN pg_namespace n ON n.oid = f.pronamespace WHERE f.oid = integer_now_func;
  IF p.provolatile NOT IN ('i', 's') OR p.pronargs <> 0 THEN
    RAISE EXCEPTION 'invalid custom time function' USING ERRCODE = '${E.invalid_parameter_value}',
      HINT = 'A custom time function must take no arguments and be STABLE.';
  END IF;
  IF p.prorettype <> d.column_type THEN
    RAISE EXCEPTION 'invalid custom time function' USING ERRCODE = '${E.invalid_parameter_value}',
      HINT = 'The return type of the custom time function must be the same as the type of the time column of the hypertable.';
  END IF;
  PERFORM ${F}.orbit_owner_call('set_integer_now_func', hypertable, jsonb_build_object('func', integer_now_func::oid));
END
$body$;

-- The catalog write, for the table's owner (owner-calls.ts, which checks the caller may execute func).
CREATE FUNCTION ${F}.orbit_set_integer_now_func_impl(hypertable regclass, func regproc) RETURNS void
LANGUAGE sql ${PATH} AS $body$
  UPDATE ${C}.dimension d SET integer_now_func_schema = n.nspname, integer_now_func = f.proname
    FROM pg_proc f JOIN pg_namespace n ON n.oid = f.pronamespace
    WHERE f.oid = func AND f.pronargs = 0 AND f.prorettype = d.column_type
      AND d.id = (SELECT dd.id FROM ${C}.dimension dd WHERE dd.hypertable_id = ${F}.orbit_require_hypertable(hypertable)
                  AND dd.interval_length IS NOT NULL ORDER BY dd.id LIMIT 1)
$body$;
`;
}
