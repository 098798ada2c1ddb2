/**
 * @module catalog/extension/jobs
 * Jobs (timescale_api.md §1.6, errors §3.6): TimescaleDB's job catalog (`_timescaledb_config.bgw_job`,
 * `_timescaledb_internal.bgw_job_stat`, `bgw_job_stat_history`), `add_job` / `alter_job` /
 * `delete_job` / `run_job`, and the `jobs`, `job_stats`, `job_errors`, `job_history` views.
 *
 * PostgreSQL has no background workers here: Orbit's scheduler (session/job-scheduler.ts) asks
 * `orbit_job_due()` (job-scheduler.ts) which job is next, marks it started, runs the job's statement
 * (`orbit_job_command`) on a session of its own and records the outcome with `orbit_job_finish`,
 * which also computes the next start. All of it
 * is catalog state, so a restart picks up where the last run left off. `CALL run_job(id)` by a user
 * runs the job without touching its statistics, as TimescaleDB's does.
 *
 * The user-facing functions and their catalog writes run as the caller (row security lets a role
 * write the rows of jobs its role may act as, privileges.ts), so user code (job procedures, check
 * functions) always runs with the caller's rights; the scheduler's helpers are SECURITY DEFINER and
 * executable by the backend's role alone.
 */
import { ErrCode as E } from './errcodes.js';
import { CATALOG_SCHEMA as C, EXTENSION_SCHEMA as EXT, FIXED_SEARCH_PATH as PATH, FUNCTIONS_SCHEMA as F, INTERNAL_SCHEMA as I } from './schemas.js';

export const CFG = '_timescaledb_config';
const INFO = 'timescaledb_information';
export const JOB = `${CFG}.bgw_job`;
export const STAT = `${I}.bgw_job_stat`;
export const HISTORY = `${I}.bgw_job_stat_history`;

/** TimescaleDB's defaults for user jobs (`add_job`). */
const USER_JOB = { maxRuntime: "'0'", maxRetries: -1, retryPeriod: "'5 minutes'" };

export function jobsSql(): string {
  return `
-- Ids below 1000 are TimescaleDB's built-in jobs.
CREATE SEQUENCE ${CFG}.bgw_job_id_seq MINVALUE 1000;
CREATE TABLE ${JOB} (
  id integer PRIMARY KEY DEFAULT nextval('${CFG}.bgw_job_id_seq'),
  application_name name NOT NULL,
  schedule_interval interval NOT NULL,
  max_runtime interval NOT NULL,
  max_retries integer NOT NULL,
  retry_period interval NOT NULL,
  proc_schema name NOT NULL,
  proc_name name NOT NULL,
  owner regrole NOT NULL,
  scheduled boolean NOT NULL DEFAULT true,
  fixed_schedule boolean NOT NULL DEFAULT true,
  initial_start timestamptz,
  -- Policies go with their hypertable (DROP TABLE removes them).
  hypertable_id integer REFERENCES ${C}.hypertable (id) ON DELETE CASCADE,
  config jsonb,
  check_schema name,
  check_name name,
  timezone text
);
ALTER SEQUENCE ${CFG}.bgw_job_id_seq OWNED BY ${JOB}.id;
CREATE INDEX bgw_job_proc_hypertable_id_idx ON ${JOB} (proc_name, proc_schema, hypertable_id);

-- One row per job; last_* are NULL until the scheduler first runs it.
CREATE TABLE ${STAT} (
  job_id integer PRIMARY KEY REFERENCES ${JOB} (id) ON DELETE CASCADE,
  last_start timestamptz,
  last_finish timestamptz,
  next_start timestamptz NOT NULL,
  last_successful_finish timestamptz,
  last_run_success boolean,
  total_runs bigint NOT NULL DEFAULT 0,
  total_duration interval NOT NULL DEFAULT '0',
  total_duration_failures interval NOT NULL DEFAULT '0',
  total_successes bigint NOT NULL DEFAULT 0,
  total_failures bigint NOT NULL DEFAULT 0,
  total_crashes bigint NOT NULL DEFAULT 0,
  consecutive_failures integer NOT NULL DEFAULT 0,
  consecutive_crashes integer NOT NULL DEFAULT 0,
  flags integer NOT NULL DEFAULT 0
);

-- Failed runs (and crashes), kept after their job is deleted, as TimescaleDB's.
CREATE TABLE ${HISTORY} (
  id bigserial PRIMARY KEY,
  job_id integer NOT NULL,
  pid integer,
  execution_start timestamptz NOT NULL,
  execution_finish timestamptz,
  succeeded boolean NOT NULL,
  data jsonb NOT NULL
);
-- The history holds error messages (which may quote rows): read through job_history, whose rows
-- are those of jobs the reader may act for (TimescaleDB revokes its table from PUBLIC too).
GRANT SELECT ON ${JOB}, ${STAT} TO PUBLIC;

-- The first start at or after \`after\` of a fixed schedule: initial_start + n * schedule_interval,
-- counted in \`tz\` (UTC when NULL) so that a daily job stays at its local time across DST changes.
CREATE FUNCTION ${F}.orbit_job_next_slot(initial timestamptz, sched interval, tz text, after timestamptz)
RETURNS timestamptz LANGUAGE plpgsql STABLE ${PATH} AS $body$
DECLARE
  zone text := coalesce(tz, 'UTC');
  base timestamp := initial AT TIME ZONE zone;
  step float8 := extract(epoch FROM sched);
  n bigint;
BEGIN
  IF initial > after OR step <= 0 THEN RETURN greatest(initial, after); END IF;
  -- An estimate (a month counts 30 days), then corrected: months differ in length.
  n := floor(extract(epoch FROM after - initial) / step)::bigint;
  WHILE n > 0 AND ((base + sched * (n - 1)::float8) AT TIME ZONE zone) > after LOOP n := n - 1; END LOOP;
  WHILE ((base + sched * n::float8) AT TIME ZONE zone) <= after LOOP n := n + 1; END LOOP;
  RETURN (base + sched * n::float8) AT TIME ZONE zone;
END
$body$;

-- A schedule interval as TimescaleDB accepts it.
CREATE FUNCTION ${F}.orbit_job_check_interval(sched interval, fixed boolean) RETURNS void
LANGUAGE plpgsql IMMUTABLE ${PATH} AS $body$
BEGIN
  IF sched <= INTERVAL '0' THEN
    RAISE EXCEPTION 'schedule interval must be positive' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  IF fixed AND ${F}.orbit_interval_months(sched) <> 0 AND (extract(day FROM sched) <> 0 OR ${F}.orbit_interval_time_us(sched) <> 0) THEN
    RAISE EXCEPTION 'month intervals cannot have day or time component' USING ERRCODE = '${E.feature_not_supported}';
  END IF;
END
$body$;

-- The (job_id integer, config jsonb) function or procedure a job runs, or 42883.
CREATE FUNCTION ${F}.orbit_job_proc(proc_schema name, proc_name name) RETURNS regprocedure
LANGUAGE plpgsql STABLE ${PATH} AS $body$
DECLARE
  p regprocedure := to_regprocedure(format('%I.%I(integer, jsonb)', proc_schema, proc_name));
BEGIN
  IF p IS NULL THEN
    RAISE EXCEPTION 'function or procedure "%.%(integer, jsonb)" does not exist', proc_schema, proc_name
      USING ERRCODE = '${E.undefined_function}', HINT = 'Custom job actions must accept (integer, jsonb) arguments.';
  END IF;
  RETURN p;
END
$body$;

-- Validates a check function (a FUNCTION taking (config jsonb)) and calls it with \`config\`.
CREATE FUNCTION ${F}.orbit_job_run_check(check_schema name, check_name name, config jsonb) RETURNS void
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  f regprocedure;
BEGIN
  IF check_name IS NULL THEN RETURN; END IF;
  f := to_regprocedure(format('%I.%I(jsonb)', check_schema, check_name));
  IF f IS NULL OR (SELECT prokind FROM pg_proc WHERE oid = f) <> 'f' THEN
    RAISE EXCEPTION 'function or procedure %.%(config jsonb) not found', check_schema, check_name
      USING ERRCODE = '${E.invalid_parameter_value}', HINT = 'The check function''s signature must be (config jsonb).';
  END IF;
  EXECUTE format('SELECT %s($1)', f::regproc) USING config;
END
$body$;

-- Schema and name of a regproc.
CREATE FUNCTION ${F}.orbit_proc_name(p regproc, OUT nsp name, OUT fn name)
LANGUAGE sql STABLE AS $body$
  SELECT n.nspname, f.proname FROM pg_catalog.pg_proc f JOIN pg_catalog.pg_namespace n ON n.oid = f.pronamespace WHERE f.oid = p
$body$;

-- Inserts a job and its stat row; the application name gets " [<id>]" unless it is a job_name.
CREATE FUNCTION ${F}.orbit_job_insert(name text, named boolean, schedule_interval interval, max_runtime interval,
  max_retries integer, retry_period interval, proc_schema name, proc_name name, owner regrole, scheduled boolean,
  fixed_schedule boolean, initial_start timestamptz, hypertable_id integer, config jsonb, check_schema name,
  check_name name, timezone text) RETURNS integer
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  id integer;
  start timestamptz;
BEGIN
  IF octet_length(name) >= 64 THEN
    RAISE EXCEPTION 'application name too long.' USING ERRCODE = '${E.name_too_long}';
  END IF;
  IF timezone IS NOT NULL THEN
    PERFORM now() AT TIME ZONE timezone;
  END IF;
  PERFORM ${F}.orbit_job_check_interval(schedule_interval, fixed_schedule);
  -- A fixed schedule counts from now when no start is given.
  IF fixed_schedule AND initial_start IS NULL THEN initial_start := now(); END IF;
  start := coalesce(initial_start, now());
  -- Taken once the arguments are valid, so that a refused job uses no id.
  id := nextval('${CFG}.bgw_job_id_seq');
  INSERT INTO ${JOB} (id, application_name, schedule_interval, max_runtime, max_retries, retry_period, proc_schema,
      proc_name, owner, scheduled, fixed_schedule, initial_start, hypertable_id, config, check_schema, check_name, timezone)
    VALUES (id, CASE WHEN named THEN name ELSE format('%s [%s]', name, id) END, schedule_interval, max_runtime,
      max_retries, retry_period, proc_schema, proc_name, owner, scheduled, fixed_schedule, initial_start,
      hypertable_id, config, check_schema, check_name, timezone);
  INSERT INTO ${STAT} (job_id, next_start) VALUES (id, start);
  RETURN id;
END
$body$;

-- The job row, or 42704 "job %d not found" (a NOTICE and NULL with if_exists).
CREATE FUNCTION ${F}.orbit_job_get(job_id integer, if_exists boolean = false) RETURNS ${JOB}
LANGUAGE plpgsql STABLE ${PATH} AS $body$
DECLARE
  j ${JOB};
BEGIN
  IF job_id IS NULL THEN
    RAISE EXCEPTION 'job ID cannot be NULL' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  SELECT * INTO j FROM ${JOB} b WHERE b.id = job_id;
  IF j.id IS NULL THEN
    IF if_exists THEN
      RAISE NOTICE 'job % not found, skipping', job_id;
      RETURN NULL;
    END IF;
    RAISE EXCEPTION 'job % not found', job_id USING ERRCODE = '${E.undefined_object}';
  END IF;
  RETURN j;
END
$body$;

-- Only the job's owner (or a member of its role) may change, delete or run it.
CREATE FUNCTION ${F}.orbit_job_require_owner(j ${JOB}, action text) RETURNS void
LANGUAGE plpgsql STABLE ${PATH} AS $body$
BEGIN
  IF NOT pg_has_role(session_user, j.owner, 'MEMBER') AND NOT pg_has_role(current_user, j.owner, 'MEMBER') THEN
    IF action = 'delete' THEN
      RAISE EXCEPTION 'insufficient permissions to delete job owned by "%"', j.owner USING ERRCODE = '${E.insufficient_privilege}';
    END IF;
    RAISE EXCEPTION 'insufficient permissions to % job %', action, j.id USING ERRCODE = '${E.insufficient_privilege}';
  END IF;
END
$body$;

-- Writes a changed job row (alter_job), and its next start when given.
CREATE FUNCTION ${F}.orbit_job_update(j ${JOB}, next_start timestamptz) RETURNS void
LANGUAGE plpgsql ${PATH} AS $body$
BEGIN
  PERFORM ${F}.orbit_job_require_owner((SELECT b FROM ${JOB} b WHERE b.id = j.id), 'alter');
  IF octet_length(j.application_name) >= 64 THEN
    RAISE EXCEPTION 'application name too long.' USING ERRCODE = '${E.name_too_long}';
  END IF;
  PERFORM ${F}.orbit_job_check_interval(j.schedule_interval, j.fixed_schedule);
  IF j.timezone IS NOT NULL THEN
    PERFORM now() AT TIME ZONE j.timezone;
  END IF;
  UPDATE ${JOB} b SET application_name = j.application_name, schedule_interval = j.schedule_interval,
      max_runtime = j.max_runtime, max_retries = j.max_retries, retry_period = j.retry_period, scheduled = j.scheduled,
      fixed_schedule = j.fixed_schedule, initial_start = j.initial_start, config = j.config,
      check_schema = j.check_schema, check_name = j.check_name, timezone = j.timezone
    WHERE b.id = j.id;
  IF next_start IS NOT NULL THEN
    UPDATE ${STAT} s SET next_start = orbit_job_update.next_start WHERE s.job_id = j.id;
  END IF;
END
$body$;

CREATE FUNCTION ${F}.orbit_job_delete(job_id integer) RETURNS void
LANGUAGE plpgsql ${PATH} AS $body$
BEGIN
  PERFORM ${F}.orbit_job_require_owner(${F}.orbit_job_get(job_id), 'delete');
  DELETE FROM ${JOB} b WHERE b.id = job_id;
END
$body$;

CREATE FUNCTION ${EXT}.add_job(proc regproc, schedule_interval interval, config jsonb = NULL,
  initial_start timestamptz = NULL, scheduled boolean = true, check_config regproc = NULL,
  fixed_schedule boolean = true, timezone text = NULL, job_name text = NULL) RETURNS integer
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  p record;
  chk record;
  chk_schema name;
  chk_name name;
BEGIN
  IF proc IS NULL THEN
    RAISE EXCEPTION 'function or procedure cannot be NULL' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  IF schedule_interval IS NULL THEN
    RAISE EXCEPTION 'schedule interval cannot be NULL' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  p := ${F}.orbit_proc_name(proc);
  IF NOT has_function_privilege(proc, 'EXECUTE') THEN
    RAISE EXCEPTION 'permission denied for function "%"', p.fn USING ERRCODE = '${E.insufficient_privilege}',
      HINT = 'Job owner must have EXECUTE privilege on the function.';
  END IF;
  IF check_config IS NOT NULL THEN
    chk := ${F}.orbit_proc_name(check_config);
    chk_schema := chk.nsp;
    chk_name := chk.fn;
    PERFORM ${F}.orbit_job_run_check(chk_schema, chk_name, config);
  END IF;
  RETURN ${F}.orbit_job_insert(coalesce(job_name, 'User-Defined Action'), job_name IS NOT NULL, schedule_interval,
    ${USER_JOB.maxRuntime}, ${USER_JOB.maxRetries}, ${USER_JOB.retryPeriod}, p.nsp, p.fn, current_user::regrole, coalesce(scheduled, true),
    coalesce(fixed_schedule, true), initial_start, NULL, config, chk_schema, chk_name, timezone);
END
$body$;

-- TimescaleDB returns TABLE(job_id, …), whose names clash with the parameters in a SQL-level
-- function: the same columns come from a composite type instead.
CREATE TYPE ${I}.orbit_alter_job_result AS (job_id integer, schedule_interval interval, max_runtime interval,
  max_retries integer, retry_period interval, scheduled boolean, config jsonb, next_start timestamptz,
  check_config text, fixed_schedule boolean, initial_start timestamptz, timezone text, application_name name);

CREATE FUNCTION ${EXT}.alter_job(job_id integer, schedule_interval interval = NULL, max_runtime interval = NULL,
  max_retries integer = NULL, retry_period interval = NULL, scheduled boolean = NULL, config jsonb = NULL,
  next_start timestamptz = NULL, if_exists boolean = false, check_config regproc = NULL, fixed_schedule boolean = NULL,
  initial_start timestamptz = NULL, timezone text = NULL, job_name text = NULL, config_merge jsonb = NULL)
RETURNS SETOF ${I}.orbit_alter_job_result LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  j ${JOB} := ${F}.orbit_job_get(job_id, if_exists);
  chk record;
  nxt timestamptz := next_start;
BEGIN
  IF j.id IS NULL THEN RETURN; END IF;
  PERFORM ${F}.orbit_job_require_owner(j, 'alter');
  IF config IS NOT NULL AND config_merge IS NOT NULL THEN
    RAISE EXCEPTION 'cannot specify both "config" and "config_merge"' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  j.schedule_interval := coalesce(schedule_interval, j.schedule_interval);
  j.max_runtime := coalesce(max_runtime, j.max_runtime);
  j.max_retries := coalesce(max_retries, j.max_retries);
  j.retry_period := coalesce(retry_period, j.retry_period);
  j.scheduled := coalesce(scheduled, j.scheduled);
  j.fixed_schedule := coalesce(fixed_schedule, j.fixed_schedule);
  j.timezone := coalesce(timezone, j.timezone);
  j.application_name := coalesce(job_name, j.application_name);
  IF config IS NOT NULL THEN j.config := config; END IF;
  IF config_merge IS NOT NULL THEN j.config := coalesce(j.config, '{}'::jsonb) || config_merge; END IF;
  -- check_config => 0 removes the check function.
  IF check_config::oid = 0 THEN
    j.check_schema := NULL;
    j.check_name := NULL;
  ELSIF check_config IS NOT NULL THEN
    chk := ${F}.orbit_proc_name(check_config);
    j.check_schema := chk.nsp;
    j.check_name := chk.fn;
  END IF;
  IF initial_start IS NOT NULL THEN
    j.initial_start := initial_start;
    nxt := coalesce(nxt, initial_start);
  END IF;
  IF config IS NOT NULL OR config_merge IS NOT NULL OR (check_config IS NOT NULL AND check_config::oid <> 0) THEN
    PERFORM ${F}.orbit_job_run_check(j.check_schema, j.check_name, j.config);
  END IF;
  PERFORM ${F}.orbit_job_update(j, nxt);
  RETURN QUERY SELECT j.id, j.schedule_interval, j.max_runtime, j.max_retries, j.retry_period, j.scheduled, j.config,
    s.next_start, CASE WHEN j.check_name IS NOT NULL THEN format('%I.%I', j.check_schema, j.check_name) END,
    j.fixed_schedule, j.initial_start, j.timezone, j.application_name
    FROM ${STAT} s WHERE s.job_id = j.id;
END
$body$;

CREATE FUNCTION ${EXT}.delete_job(job_id integer) RETURNS void
LANGUAGE plpgsql STRICT ${PATH} AS $body$
BEGIN
  PERFORM ${F}.orbit_job_delete(job_id);
END
$body$;

-- The statement that runs a job: CALL for a procedure, SELECT for a function.
CREATE FUNCTION ${F}.orbit_job_command(job_id integer) RETURNS text
LANGUAGE plpgsql STABLE ${PATH} AS $body$
DECLARE
  j ${JOB} := ${F}.orbit_job_get(job_id);
  p regprocedure := ${F}.orbit_job_proc(j.proc_schema, j.proc_name);
BEGIN
  RETURN format(CASE WHEN (SELECT prokind FROM pg_proc WHERE oid = p) = 'p' THEN 'CALL %I.%I(%s, %L::pg_catalog.jsonb)'
    ELSE 'SELECT %I.%I(%s, %L::pg_catalog.jsonb)' END, j.proc_schema, j.proc_name, j.id, j.config);
END
$body$;

-- Runs a job now in the calling session, with its search_path (no SET clause). PL/pgSQL runs a
-- dynamic CALL atomically, so a job procedure that COMMITs fails here with PostgreSQL's "invalid
-- transaction termination"; the scheduler runs the same statement at top level, where it may.
CREATE PROCEDURE ${EXT}.run_job(job_id integer)
LANGUAGE plpgsql AS $body$
BEGIN
  PERFORM ${F}.orbit_job_require_owner(${F}.orbit_job_get(job_id), 'run');
  EXECUTE ${F}.orbit_job_command(job_id);
END
$body$;

-- ---- Views (timescale_api.md §1.8) ------------------------------------------------------------------

CREATE VIEW ${INFO}.jobs AS
SELECT j.id AS job_id, j.application_name, j.schedule_interval, j.max_runtime, j.max_retries, j.retry_period,
  j.proc_schema, j.proc_name, j.owner, j.scheduled, j.fixed_schedule, j.config, s.next_start, j.initial_start,
  h.schema_name AS hypertable_schema, h.table_name AS hypertable_name, j.check_schema, j.check_name
FROM ${JOB} j
LEFT JOIN ${C}.hypertable h ON h.id = j.hypertable_id
LEFT JOIN ${STAT} s ON s.job_id = j.id;

CREATE VIEW ${INFO}.job_stats AS
SELECT h.schema_name AS hypertable_schema, h.table_name AS hypertable_name, j.id AS job_id,
  s.last_start AS last_run_started_at, s.last_successful_finish,
  CASE WHEN s.last_finish IS NOT NULL AND s.last_finish >= s.last_start
    THEN CASE WHEN s.last_run_success THEN 'Success' ELSE 'Failed' END END AS last_run_status,
  CASE WHEN s.last_start IS NOT NULL AND (s.last_finish IS NULL OR s.last_finish < s.last_start) THEN 'Running'
    WHEN NOT j.scheduled THEN 'Paused' ELSE 'Scheduled' END AS job_status,
  CASE WHEN s.last_finish > s.last_start THEN s.last_finish - s.last_start END AS last_run_duration,
  CASE WHEN j.scheduled THEN s.next_start END AS next_start,
  s.total_runs, s.total_successes, s.total_failures
FROM ${JOB} j
JOIN ${STAT} s ON s.job_id = j.id
LEFT JOIN ${C}.hypertable h ON h.id = j.hypertable_id
ORDER BY h.schema_name, h.table_name, j.id;

CREATE VIEW ${INFO}.job_history WITH (security_barrier) AS
SELECT h.id, h.job_id, h.succeeded, (h.data->'job'->>'proc_schema')::name AS proc_schema,
  (h.data->'job'->>'proc_name')::name AS proc_name, h.pid, h.execution_start AS start_time,
  h.execution_finish AS finish_time, h.data->'job'->'config' AS config,
  h.data->'error_data'->>'sqlerrcode' AS sqlerrcode,
  CASE WHEN h.succeeded THEN NULL
    WHEN h.data->'error_data'->>'message' IS NULL THEN 'job crash detected, see server logs'
    ELSE concat_ws('. ', h.data->'error_data'->>'message', h.data->'error_data'->>'detail', h.data->'error_data'->>'hint') END AS err_message
FROM ${HISTORY} h
LEFT JOIN ${JOB} j ON j.id = h.job_id
-- As TimescaleDB's: members of the database owner's role see every run, others those of their jobs.
WHERE pg_has_role(current_user, (SELECT d.datdba FROM pg_database d WHERE d.datname = current_database()), 'MEMBER')
  OR pg_has_role(current_user, j.owner, 'MEMBER') IS TRUE;

CREATE VIEW ${INFO}.job_errors WITH (security_barrier) AS
SELECT job_id, proc_schema, proc_name, pid, start_time, finish_time, sqlerrcode, err_message
FROM ${INFO}.job_history
WHERE NOT succeeded;

GRANT SELECT ON ${INFO}.jobs, ${INFO}.job_stats, ${INFO}.job_history, ${INFO}.job_errors TO PUBLIC;
`;
}
