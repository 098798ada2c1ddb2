/**
 * @module catalog/extension/job-scheduler
 * The scheduler's side of jobs (jobs.ts): the SECURITY DEFINER helpers Orbit's scheduler
 * (session/job-scheduler.ts) calls — which job is due, marking it started, recording its end and
 * next start, crash recovery at start — and TimescaleDB's built-in job 3, which prunes the job
 * history. Installed after jobs.ts's catalog.
 */
import { FIXED_SEARCH_PATH as PATH, FUNCTIONS_SCHEMA as F } from './schemas.js';
import { HISTORY, JOB, STAT } from './jobs.js';

export function jobSchedulerSql(): string {
  return `
-- The scheduled job due first, with how long until it is due (0 when overdue).
CREATE FUNCTION ${F}.orbit_job_due(OUT job_id integer, OUT wait_ms float8)
LANGUAGE sql VOLATILE ${PATH} AS $body$
  SELECT j.id, greatest(0, extract(epoch FROM s.next_start - clock_timestamp()) * 1000)::float8
  FROM ${JOB} j JOIN ${STAT} s ON s.job_id = j.id
  WHERE j.scheduled AND s.next_start < 'infinity'
  ORDER BY s.next_start, j.id LIMIT 1
$body$;

-- Marks a due job started (false if it is no longer due: deleted, paused or rescheduled meanwhile).
CREATE FUNCTION ${F}.orbit_job_start(job_id integer) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER ${PATH} AS $body$
BEGIN
  UPDATE ${STAT} s SET last_start = clock_timestamp(), total_runs = s.total_runs + 1
    FROM ${JOB} j WHERE j.id = s.job_id AND s.job_id = orbit_job_start.job_id AND j.scheduled AND s.next_start <= clock_timestamp();
  RETURN FOUND;
END
$body$;

-- Records the end of a run the scheduler started and schedules the next one. A failure is logged to
-- the history; it is retried after retry_period, doubled at each consecutive failure (at most five
-- schedule intervals), and the job is unscheduled once it has failed max_retries times in a row.
CREATE FUNCTION ${F}.orbit_job_finish(job_id integer, succeeded boolean, sqlerrcode text, message text, detail text, hint text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER ${PATH} AS $body$
DECLARE
  j ${JOB};
  s ${STAT};
  finish timestamptz := clock_timestamp();
  nxt timestamptz;
  backoff interval;
BEGIN
  SELECT * INTO j FROM ${JOB} b WHERE b.id = job_id;
  SELECT * INTO s FROM ${STAT} t WHERE t.job_id = orbit_job_finish.job_id;
  IF j.id IS NULL OR s.job_id IS NULL THEN RETURN; END IF; -- deleted by its own run
  IF succeeded THEN
    nxt := CASE WHEN j.fixed_schedule THEN ${F}.orbit_job_next_slot(j.initial_start, j.schedule_interval, j.timezone, finish)
                ELSE finish + j.schedule_interval END;
    UPDATE ${STAT} t SET last_finish = finish, last_successful_finish = finish, last_run_success = true, next_start = nxt,
        total_successes = t.total_successes + 1, total_duration = t.total_duration + (finish - s.last_start),
        consecutive_failures = 0, consecutive_crashes = 0
      WHERE t.job_id = j.id;
    -- Successful runs are history too when the server's configuration asks for it.
    IF current_setting('timescaledb.enable_job_execution_logging', true)::boolean THEN
      INSERT INTO ${HISTORY} (job_id, pid, execution_start, execution_finish, succeeded, data)
        VALUES (j.id, pg_backend_pid(), s.last_start, finish, true,
          jsonb_build_object('job', jsonb_build_object('proc_schema', j.proc_schema, 'proc_name', j.proc_name, 'config', j.config)));
    END IF;
    RETURN;
  END IF;
  backoff := least(j.retry_period * power(2, least(s.consecutive_failures, 30))::float8, j.schedule_interval * 5);
  nxt := finish + backoff;
  IF j.fixed_schedule THEN
    nxt := least(nxt, ${F}.orbit_job_next_slot(j.initial_start, j.schedule_interval, j.timezone, finish));
  END IF;
  UPDATE ${STAT} t SET last_finish = finish, last_run_success = false, next_start = nxt,
      total_failures = t.total_failures + 1, total_duration = t.total_duration + (finish - s.last_start),
      total_duration_failures = t.total_duration_failures + (finish - s.last_start),
      consecutive_failures = t.consecutive_failures + 1
    WHERE t.job_id = j.id;
  INSERT INTO ${HISTORY} (job_id, pid, execution_start, execution_finish, succeeded, data)
    VALUES (j.id, pg_backend_pid(), s.last_start, finish, false, jsonb_build_object(
      'job', jsonb_build_object('proc_schema', j.proc_schema, 'proc_name', j.proc_name, 'config', j.config),
      'error_data', jsonb_strip_nulls(jsonb_build_object('sqlerrcode', sqlerrcode, 'message', message, 'detail', detail, 'hint', hint))));
  IF j.max_retries >= 0 AND s.consecutive_failures + 1 >= j.max_retries THEN
    UPDATE ${JOB} b SET scheduled = false WHERE b.id = j.id;
    RAISE WARNING 'job % reached max_retries after % consecutive failures', j.id, s.consecutive_failures + 1
      USING HINT = format('Use alter_job(%s, scheduled => TRUE) SQL function to reschedule.', j.id);
  END IF;
END
$body$;

-- At the scheduler's start: runs that never finished (the process stopped) count as crashes and are
-- retried at once.
CREATE FUNCTION ${F}.orbit_job_recover() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER ${PATH} AS $body$
BEGIN
  INSERT INTO ${HISTORY} (job_id, pid, execution_start, execution_finish, succeeded, data)
    SELECT j.id, NULL, s.last_start, NULL, false,
      jsonb_build_object('job', jsonb_build_object('proc_schema', j.proc_schema, 'proc_name', j.proc_name, 'config', j.config))
    FROM ${STAT} s JOIN ${JOB} j ON j.id = s.job_id
    WHERE s.last_start IS NOT NULL AND (s.last_finish IS NULL OR s.last_finish < s.last_start);
  UPDATE ${STAT} s SET last_finish = clock_timestamp(), last_run_success = false, next_start = least(s.next_start, now()),
      total_crashes = s.total_crashes + 1, consecutive_crashes = s.consecutive_crashes + 1
    WHERE s.last_start IS NOT NULL AND (s.last_finish IS NULL OR s.last_finish < s.last_start);
END
$body$;

-- ---- Built-in job 3: pruning the history --------------------------------------------------------

-- TimescaleDB's "Job History Log Retention Policy [3]": every 6 hours, the history loses runs that
-- started before drop_after ago, and each job keeps only its newest max_successes_per_job successes
-- and max_failures_per_job failures, so a job failing every few minutes cannot fill the database.
CREATE FUNCTION ${F}.policy_job_stat_history_retention(job_id integer, config jsonb) RETURNS void
LANGUAGE plpgsql ${PATH} AS $body$
BEGIN
  DELETE FROM ${HISTORY} h WHERE h.execution_start < now() - (config->>'drop_after')::interval;
  DELETE FROM ${HISTORY} h
    USING (SELECT r.id, r.succeeded, row_number() OVER (PARTITION BY r.job_id, r.succeeded ORDER BY r.execution_start DESC, r.id DESC) AS newer
           FROM ${HISTORY} r) ranked
    WHERE h.id = ranked.id
      AND ranked.newer > (config->>CASE WHEN ranked.succeeded THEN 'max_successes_per_job' ELSE 'max_failures_per_job' END)::integer;
END
$body$;

-- Its check function (alter_job runs it on a new config), with TimescaleDB's messages.
CREATE FUNCTION ${F}.policy_job_stat_history_retention_check(config jsonb) RETURNS void
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  k text;
BEGIN
  IF config IS NULL THEN
    RAISE EXCEPTION 'config cannot be NULL, and must contain drop_after';
  END IF;
  IF NOT config ? 'drop_after' THEN
    RAISE EXCEPTION 'drop_after interval not provided';
  END IF;
  FOREACH k IN ARRAY ARRAY['max_successes_per_job', 'max_failures_per_job'] LOOP
    IF NOT config ? k THEN
      RAISE EXCEPTION '% not provided', k;
    END IF;
  END LOOP;
  FOREACH k IN ARRAY ARRAY['max_successes_per_job', 'max_failures_per_job'] LOOP
    IF (config->>k)::integer < 10 THEN
      RAISE EXCEPTION '% has to be at least 10', k;
    END IF;
  END LOOP;
END
$body$;

-- Installed with the extension, owned by its installer, due at once (TimescaleDB's scheduler runs it
-- when it first starts too); after a run its next start is the next 6-hour slot from 2000-01-01.
INSERT INTO ${JOB} (id, application_name, schedule_interval, max_runtime, max_retries, retry_period, proc_schema,
    proc_name, owner, scheduled, fixed_schedule, initial_start, config, check_schema, check_name)
  VALUES (3, 'Job History Log Retention Policy [3]', '6 hours', '1 hour', -1, '1 hour', '${F}',
    'policy_job_stat_history_retention', current_user::regrole, true, true, '2000-01-01 00:00:00+00',
    '{"drop_after": "1 month", "max_successes_per_job": 1000, "max_failures_per_job": 1000}', '${F}',
    'policy_job_stat_history_retention_check');
INSERT INTO ${STAT} (job_id, next_start) VALUES (3, '2000-01-01 00:00:00+00');
`;
}
