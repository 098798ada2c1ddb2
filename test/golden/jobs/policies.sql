-- Retention and columnstore policies (timescale_api.md §1.3, §1.5, defaults §2, errors §3.4/§3.6):
-- add/remove_retention_policy, add/remove_compression_policy, the add/remove_columnstore_policy
-- procedures, what their jobs do when run, the policy TimescaleDB 2.23+ adds for CREATE TABLE WITH,
-- and DROP TABLE removing policies.
CREATE EXTENSION timescaledb;
SET timezone TO 'UTC';
CREATE TABLE m (time timestamptz NOT NULL, device int, v float8);
SELECT create_hypertable('m', by_range('time', INTERVAL '1 day'));
INSERT INTO m VALUES ('2020-01-01 01:00', 1, 1), ('2020-01-02 01:00', 1, 2), ('2020-01-03 01:00', 2, 3), ('2099-01-01 01:00', 1, 4);
CREATE TABLE plain (time timestamptz NOT NULL);

-- Retention: schedule 1 day, max_runtime 5 min, retries unlimited every 5 min.
SELECT add_retention_policy('m', INTERVAL '1 day', initial_start => '2030-01-01 00:00+00');
SELECT * FROM timescaledb_information.jobs;
SELECT add_retention_policy('m', INTERVAL '1 day');
SELECT add_retention_policy('m', INTERVAL '1 day', if_not_exists => true);
SELECT add_retention_policy('m', INTERVAL '2 days', if_not_exists => true);
SELECT add_retention_policy('m', 5);
SELECT add_retention_policy('m');
SELECT add_retention_policy('m', INTERVAL '1 day', drop_created_before => INTERVAL '1 day');
SELECT add_retention_policy('plain', INTERVAL '1 day');
SELECT add_retention_policy(NULL, INTERVAL '1 day');

-- Columnstore policies need the columnstore.
SELECT add_compression_policy('m', INTERVAL '1 day');
ALTER TABLE m SET (timescaledb.compress, timescaledb.compress_segmentby = 'device');
SELECT add_compression_policy('m', 5);
SELECT add_compression_policy('m');
SELECT add_compression_policy('m', compress_after => '1 day');
SELECT add_compression_policy('m', INTERVAL '2 days');
SELECT add_compression_policy('m', INTERVAL '2 days', if_not_exists => true);
SELECT remove_compression_policy('m');
SELECT remove_compression_policy('m');
SELECT remove_compression_policy('m', if_exists => true);
CALL add_columnstore_policy('m', after => '1 day');
CALL add_columnstore_policy('m', after => INTERVAL '1 day', if_not_exists => true);
CALL add_columnstore_policy('m', after => INTERVAL '1 day');
-- Schedule: half the chunk interval (at most 12 h); retries every hour.
SELECT job_id, application_name, schedule_interval, max_runtime, max_retries, retry_period, proc_name, config,
  hypertable_name, check_name, fixed_schedule, next_start <= now() AS due_now FROM timescaledb_information.jobs ORDER BY job_id;

-- A columnstore run converts the chunks that ended a day ago or more; 2099 stays in the row store.
CALL run_job(1002);
SELECT chunk_name, is_compressed FROM timescaledb_information.chunks ORDER BY range_start;
SELECT count(*), sum(v) FROM m;
-- Rows inserted into a converted chunk are merged in at the next run.
INSERT INTO m VALUES ('2020-01-01 02:00', 1, 10);
SELECT chunk_name, compression_status FROM chunk_compression_stats('m') ORDER BY chunk_name;
CALL run_job(1002);
SELECT ch.table_name, cc.row_count FROM _timescaledb_catalog.chunk ch
  JOIN _timescaledb_catalog.orbit_columnstore_chunk cc ON cc.chunk_id = ch.id ORDER BY ch.id;
SELECT count(*), sum(v) FROM m;

-- A retention run drops the chunks that ended a day ago or more.
CALL run_job(1000);
SELECT chunk_name FROM timescaledb_information.chunks ORDER BY range_start;
SELECT * FROM m;
SELECT remove_retention_policy('m');
SELECT remove_retention_policy('m');
SELECT remove_retention_policy('m', if_exists => true);
CALL remove_columnstore_policy('m');
CALL remove_columnstore_policy('m');
CALL remove_columnstore_policy('m', if_exists => true);
SELECT count(*) FROM timescaledb_information.jobs;

-- drop_created_before / compress_created_before: by creation time (these chunks are new).
SELECT add_retention_policy('m', drop_created_before => INTERVAL '1 day');
SELECT config FROM timescaledb_information.jobs WHERE job_id = 1003;
CALL run_job(1003);
SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'm';
SELECT delete_job(1003);

-- Integer time: integer lags, with an integer_now function; schedule 1 day.
CREATE TABLE ticks (t bigint NOT NULL, v int);
SELECT create_hypertable('ticks', by_range('t', 100));
INSERT INTO ticks SELECT i, i FROM generate_series(0, 999, 10) i;
SELECT add_retention_policy('ticks', 500);
SELECT add_retention_policy('ticks', INTERVAL '1 day');
CREATE FUNCTION ticks_now() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT 1000::bigint $$;
SELECT set_integer_now_func('ticks', 'ticks_now');
SELECT add_retention_policy('ticks', INTERVAL '1 day');
SELECT add_retention_policy('ticks', 500);
SELECT config FROM timescaledb_information.jobs WHERE hypertable_name = 'ticks';
CALL run_job(1004);
SELECT min(t), count(*) FROM ticks;
ALTER TABLE ticks SET (timescaledb.compress);
SELECT add_compression_policy('ticks', INTERVAL '1 day');
SELECT add_compression_policy('ticks', 200);
SELECT schedule_interval, config FROM timescaledb_information.jobs WHERE job_id = 1005;
CALL run_job(1005);
SELECT range_start_integer, range_end_integer, is_compressed FROM timescaledb_information.chunks WHERE hypertable_name = 'ticks' ORDER BY range_start_integer;
SELECT min(t), max(t), count(*), sum(v) FROM ticks;

-- The policy procedures are TimescaleDB's, with their check functions.
SELECT _timescaledb_functions.policy_retention_check('{"hypertable_id": 1}');
SELECT _timescaledb_functions.policy_compression_check('{"hypertable_id": 424242, "compress_after": "1 day"}');
SELECT * FROM alter_job(1004, config => '{"hypertable_id": 2}');

-- CREATE TABLE … WITH (timescaledb.hypertable) with the columnstore (the default) adds a
-- columnstore policy with after = the chunk interval (TimescaleDB 2.23+).
CREATE TABLE w (time timestamptz NOT NULL, v float8) WITH (timescaledb.hypertable, timescaledb.chunk_interval = '2 days');
CREATE TABLE w2 (time timestamptz NOT NULL, v float8) WITH (timescaledb.hypertable, timescaledb.columnstore = false);
SELECT application_name, schedule_interval, config, hypertable_name FROM timescaledb_information.jobs WHERE hypertable_name LIKE 'w%';

-- Compaction policies (TimescaleDB 2.29): every 5 minutes by default; the columnstore must be on.
SELECT add_compaction_policy('w2');
SELECT add_compaction_policy('w', inactive_for => INTERVAL '30 minutes');
SELECT add_compaction_policy('w', max_chunks => -1);
SELECT add_compaction_policy('w', max_chunks => 10, max_batches => 500);
SELECT add_compaction_policy('w');
SELECT add_compaction_policy('w', if_not_exists => true);
SELECT add_compaction_policy('w', max_chunks => 10, max_batches => 500, if_not_exists => true);
SELECT application_name, schedule_interval, max_runtime, max_retries, retry_period, proc_schema, proc_name, config, check_name
  FROM timescaledb_information.jobs WHERE proc_name = 'policy_compaction';
CALL run_job(1007);
SELECT _timescaledb_functions.policy_compaction_check(NULL);
SELECT remove_compaction_policy('w');
SELECT remove_compaction_policy('w');
SELECT remove_compaction_policy('w', if_exists => true);
SELECT add_compaction_policy('w', schedule_interval => INTERVAL '15 minutes');

-- DROP TABLE removes the hypertable's policies.
DROP TABLE w;
DROP TABLE ticks;
SELECT hypertable_name, count(*) FROM timescaledb_information.jobs GROUP BY 1 ORDER BY 1;
SELECT count(*) FROM _timescaledb_internal.bgw_job_stat;
