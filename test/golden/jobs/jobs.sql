-- Jobs (timescale_api.md §1.6, views §1.8, errors §3.6): add_job / alter_job / delete_job / run_job
-- and the jobs, job_stats, job_errors, job_history views. The golden server runs without the
-- scheduler, so jobs run only through CALL run_job (test/runtimes/node/jobs.test.ts covers the
-- scheduler itself).
CREATE EXTENSION timescaledb;
SET timezone TO 'UTC';
CREATE TABLE log (job_id int, config jsonb);
CREATE PROCEDURE p(job_id int, config jsonb) LANGUAGE plpgsql AS $$ BEGIN INSERT INTO log VALUES (job_id, config); END $$;
CREATE FUNCTION f(job_id int, config jsonb) RETURNS void LANGUAGE plpgsql AS $$ BEGIN INSERT INTO log VALUES (-job_id, config); END $$;
CREATE FUNCTION chk(config jsonb) RETURNS void LANGUAGE plpgsql AS $$ BEGIN IF config ? 'bad' THEN RAISE EXCEPTION 'bad config'; END IF; END $$;

-- Ids start at 1000; defaults: max_runtime 0, max_retries -1, retry_period 5 min, fixed schedule.
SELECT add_job('p', '1 hour', config => '{"a": 1}', initial_start => '2030-01-01 00:00+00');
SELECT add_job('f', '1 day', job_name => 'nightly', fixed_schedule => false, initial_start => '2030-01-01 06:00+00', check_config => 'chk');
SELECT * FROM timescaledb_information.jobs ORDER BY job_id;

-- run_job runs the job in this session; like TimescaleDB's, it leaves the statistics alone.
CALL run_job(1000);
CALL run_job(1001);
SELECT * FROM log ORDER BY job_id;
SELECT * FROM timescaledb_information.job_stats ORDER BY job_id;

-- alter_job: NULL arguments keep a field; it returns the job as it now is.
SELECT * FROM alter_job(1000, schedule_interval => '2 hours', max_retries => 3, config_merge => '{"b": 2}');
SELECT * FROM alter_job(1000, scheduled => false);
SELECT job_id, job_status, next_start FROM timescaledb_information.job_stats WHERE job_id = 1000;
SELECT * FROM alter_job(1000, next_start => '2031-01-01 00:00+00', scheduled => true, job_name => 'renamed');
SELECT job_id, job_status, next_start FROM timescaledb_information.job_stats WHERE job_id = 1000;
SELECT * FROM alter_job(1001, config => '{"bad": true}');
SELECT * FROM alter_job(1001, check_config => 0, config => '{"bad": true}');
SELECT * FROM alter_job(1000, config => '{}', config_merge => '{}');
SELECT * FROM alter_job(999999, max_retries => 1);
SELECT * FROM alter_job(999999, max_retries => 1, if_exists => true);
SELECT * FROM alter_job(NULL);
SELECT * FROM alter_job(1000, schedule_interval => '1 month 1 day');

-- add_job errors.
SELECT add_job(NULL, '1 hour');
SELECT add_job('p', NULL);
SELECT add_job('nope', '1 hour');
SELECT add_job('p', '1 hour', check_config => 'p');
SELECT add_job('f', '1 hour', config => '{"bad": 1}', check_config => 'chk');
SELECT add_job('p', '1 month 2 days');
SELECT add_job('p', '1 month 2 days', fixed_schedule => false);
SELECT add_job('p', '1 hour', job_name => repeat('x', 64));
SELECT add_job('p', '1 hour', timezone => 'Nowhere/Nothing');

-- A procedure without the (integer, jsonb) signature fails when the job runs.
CREATE FUNCTION wrong(x int) RETURNS void LANGUAGE sql AS $$ SELECT $$;
SELECT add_job('wrong', '1 hour', initial_start => '2030-01-01 00:00+00');
CALL run_job(1003);
CALL run_job(424242);
CALL run_job(NULL);

-- delete_job (STRICT).
SELECT delete_job(1003);
SELECT delete_job(1003);
SELECT delete_job(NULL);
SELECT job_id, application_name FROM timescaledb_information.jobs ORDER BY job_id;

-- What the scheduler records (session/job-scheduler.ts calls these around a run): a failure goes to
-- job_errors and job_history, a success to the statistics only.
SELECT next_start FROM alter_job(1000, next_start => '2000-01-01 00:00+00');
SELECT _timescaledb_functions.orbit_job_start(1000);
SELECT _timescaledb_functions.orbit_job_start(1001);
SELECT job_id, last_run_status, job_status, total_runs FROM timescaledb_information.job_stats WHERE job_id = 1000;
SELECT _timescaledb_functions.orbit_job_finish(1000, false, '22012', 'division by zero', NULL, 'Check the divisor.');
SELECT job_id, proc_schema, proc_name, sqlerrcode, err_message, finish_time >= start_time AS ordered FROM timescaledb_information.job_errors;
SELECT job_id, succeeded, proc_schema, proc_name, config, sqlerrcode, err_message FROM timescaledb_information.job_history;
SELECT job_id, last_run_status, job_status, last_successful_finish, total_runs, total_successes, total_failures,
  next_start > last_run_started_at AS rescheduled FROM timescaledb_information.job_stats WHERE job_id = 1000;
SELECT next_start FROM alter_job(1000, next_start => '2000-01-01 00:00+00');
SELECT _timescaledb_functions.orbit_job_start(1000);
SELECT _timescaledb_functions.orbit_job_finish(1000, true, NULL, NULL, NULL, NULL);
-- A fixed schedule keeps to initial_start + n * schedule_interval (here: on the hour).
SELECT job_id, last_run_status, total_runs, total_successes, total_failures,
  extract(minute FROM next_start) = 0 AND extract(second FROM next_start) = 0 AS on_the_hour, next_start > now() AS ahead
  FROM timescaledb_information.job_stats WHERE job_id = 1000;
SELECT count(*) FROM timescaledb_information.job_history;

-- A fixed schedule counts from initial_start in the job's time zone (across DST changes too).
SELECT _timescaledb_functions.orbit_job_next_slot('2024-03-01 09:00+01', '1 day', 'Europe/Paris', '2024-04-02 10:00+02');
SELECT _timescaledb_functions.orbit_job_next_slot('2024-01-31 00:00+00', '1 month', NULL, '2024-03-05 00:00+00');
SELECT _timescaledb_functions.orbit_job_next_slot('2030-01-01 00:00+00', '1 hour', NULL, '2024-01-01 00:00+00');

-- Deleting a job keeps its history (TimescaleDB's too).
SELECT delete_job(1000);
SELECT count(*) FROM timescaledb_information.job_history;
SELECT count(*) FROM _timescaledb_internal.bgw_job_stat;

-- The built-in job 3 keeps the history bounded (test/runtimes/node/jobs.test.ts runs it on its
-- schedule): runs older than drop_after go, each job keeps its newest successes and failures.
INSERT INTO _timescaledb_internal.bgw_job_stat_history (job_id, execution_start, succeeded, data)
  VALUES (1001, now() - INTERVAL '2 months', false, '{}');
SELECT count(*) FROM timescaledb_information.job_history;
CALL run_job(3);
SELECT count(*) FROM timescaledb_information.job_history;
-- Its check function refuses a config it could not work with.
SELECT * FROM alter_job(3, config => '{}');
SELECT * FROM alter_job(3, config => '{"drop_after": "1 day"}');
SELECT * FROM alter_job(3, config_merge => '{"max_successes_per_job": 9}');
SELECT job_id, config FROM alter_job(3, config_merge => '{"drop_after": "1 week"}');
