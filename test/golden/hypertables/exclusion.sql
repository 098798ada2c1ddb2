-- Chunk exclusion as EXPLAIN shows it (issue: time predicates as constants, now() - INTERVAL,
-- BETWEEN, IN and parameters read only the matching chunks). A hypertable is a partitioned table, so
-- PostgreSQL's partition pruning does the work: at plan time for constants, at executor start-up
-- ("Subplans Removed") for now() and parameters of a generic plan.
CREATE EXTENSION timescaledb;
SET TIME ZONE 'UTC';
CREATE TABLE metrics (time timestamptz NOT NULL, device int, value float8);
SELECT create_hypertable('metrics', by_range('time', INTERVAL '1 day'));
INSERT INTO metrics SELECT t, 1, 1.0 FROM generate_series(TIMESTAMPTZ '2024-01-01', '2024-01-10 23:00', INTERVAL '1 hour') t;
SELECT count(*) FROM show_chunks('metrics');

-- Constants: one chunk of ten.
EXPLAIN (COSTS OFF) SELECT * FROM metrics WHERE time >= '2024-01-05' AND time < '2024-01-06';
EXPLAIN (COSTS OFF) SELECT * FROM metrics WHERE time BETWEEN '2024-01-05 12:00' AND '2024-01-06 12:00';
EXPLAIN (COSTS OFF) SELECT * FROM metrics WHERE time IN ('2024-01-02 01:00', '2024-01-09 01:00');
EXPLAIN (COSTS OFF) SELECT * FROM metrics WHERE time > '2024-01-10 12:00';
-- now() - INTERVAL: every chunk is older than a day, so all ten are removed when the plan starts.
EXPLAIN (COSTS OFF) SELECT * FROM metrics WHERE time > now() - INTERVAL '1 day';
-- A parameter: a generic plan prunes at start-up.
SET plan_cache_mode = force_generic_plan;
PREPARE recent(timestamptz) AS SELECT count(*) FROM metrics WHERE time >= $1;
EXPLAIN (COSTS OFF) EXECUTE recent('2024-01-09');
EXECUTE recent('2024-01-09');
DEALLOCATE recent;
RESET plan_cache_mode;
-- No time predicate: every chunk.
EXPLAIN (COSTS OFF) SELECT count(*) FROM metrics WHERE device = 1;
