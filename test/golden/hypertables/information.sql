-- timescaledb_information.hypertables, .dimensions, .chunks (exact columns, timescale_api.md §1.8)
-- and the size functions (§1.7).
CREATE EXTENSION timescaledb;
SET TIME ZONE 'UTC';
CREATE ROLE ts_owner;

CREATE TABLE conditions (time timestamptz NOT NULL, device int, temp float8);
ALTER TABLE conditions OWNER TO ts_owner;
SELECT create_hypertable('conditions', 'time');
INSERT INTO conditions VALUES ('2024-01-01', 1, 1), ('2024-01-10', 2, 2);
SELECT _timescaledb_functions.route_default_rows();
CREATE TABLE ticks (t bigint NOT NULL, v int);
SELECT create_hypertable('ticks', 't', chunk_time_interval => 1000);
INSERT INTO ticks VALUES (-5, 1);
SELECT _timescaledb_functions.route_default_rows();
CREATE TABLE plain (x int);

SELECT * FROM timescaledb_information.hypertables ORDER BY hypertable_name;
SELECT * FROM timescaledb_information.dimensions ORDER BY hypertable_name;
SELECT hypertable_schema, hypertable_name, chunk_schema, chunk_name, primary_dimension, primary_dimension_type,
  range_start, range_end, range_start_integer, range_end_integer, is_compressed, chunk_tablespace,
  chunk_creation_time <= now() AS created
FROM timescaledb_information.chunks ORDER BY hypertable_name, range_start, range_start_integer;
-- Column types, as clients see them.
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'timescaledb_information.hypertables'::regclass AND attnum > 0 ORDER BY attnum;
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'timescaledb_information.dimensions'::regclass AND attnum > 0 ORDER BY attnum;
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'timescaledb_information.chunks'::regclass AND attnum > 0 ORDER BY attnum;
-- The views are readable by everyone.
SET ROLE ts_owner;
SELECT count(*) FROM timescaledb_information.chunks;
RESET ROLE;

-- Sizes: the hypertable sums its chunks (and its empty root and default partition).
SELECT table_bytes > 0 AS has_table, index_bytes > 0 AS has_index, toast_bytes >= 0 AS toast,
  total_bytes = table_bytes + index_bytes + toast_bytes AS sums, node_name
FROM hypertable_detailed_size('conditions');
SELECT hypertable_size('conditions') = (SELECT total_bytes FROM hypertable_detailed_size('conditions')) AS same;
SELECT chunk_schema, chunk_name, total_bytes = table_bytes + index_bytes + toast_bytes AS sums, node_name
FROM chunks_detailed_size('conditions') ORDER BY chunk_name;
SELECT (SELECT sum(total_bytes) FROM chunks_detailed_size('conditions')) <= hypertable_size('conditions') AS chunks_within;
-- Not a hypertable: hypertable_size is NULL, chunks_detailed_size is empty.
SELECT hypertable_size('plain');
SELECT count(*) FROM chunks_detailed_size('plain');
-- approximate_row_count: the planner's estimate over the chunks (after ANALYZE, the count).
ANALYZE conditions;
SELECT approximate_row_count('conditions');
INSERT INTO plain SELECT generate_series(1, 10);
ANALYZE plain;
SELECT approximate_row_count('plain');
SELECT approximate_row_count('ticks');
