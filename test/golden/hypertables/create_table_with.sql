-- CREATE TABLE … WITH (timescaledb.hypertable, …) (TimescaleDB 2.20+, timescale_api.md §1.1): option
-- names, aliases (`tsdb.` namespace, partitioning_column), defaults and errors of TimescaleDB's
-- create_table_with_clause.c / with_clause_parser.c.

-- Without the extension PostgreSQL does not know the namespace (22023).
CREATE TABLE early (time timestamptz) WITH (timescaledb.hypertable);
CREATE EXTENSION timescaledb;
SET TIME ZONE 'UTC';

-- The partition column defaults to the first timestamp-like column (NOTICE), made NOT NULL; 7-day chunks.
CREATE TABLE sensor_data (device int, time timestamptz, temperature float8) WITH (timescaledb.hypertable);
SELECT hypertable_name, primary_dimension, primary_dimension_type, num_dimensions FROM timescaledb_information.hypertables;
SELECT column_name, time_interval FROM timescaledb_information.dimensions WHERE hypertable_name = 'sensor_data';
SELECT attnotnull FROM pg_attribute WHERE attrelid = 'sensor_data'::regclass AND attname = 'time';
SELECT indexrelid::regclass AS index FROM pg_index WHERE indrelid = 'sensor_data'::regclass;

-- Named column, interval, no default indexes, own chunk schema and prefix; the tsdb alias.
CREATE SCHEMA chunks;
CREATE TABLE order_events (created_at timestamptz NOT NULL, order_id bigint, status text)
  WITH (tsdb.hypertable, tsdb.partitioning_column = 'created_at', tsdb.chunk_interval = '1 hour',
        tsdb.create_default_indexes = false, tsdb.associated_schema = 'chunks', tsdb.associated_table_prefix = 'orders');
SELECT column_name, time_interval FROM timescaledb_information.dimensions WHERE hypertable_name = 'order_events';
SELECT count(*) FROM pg_index WHERE indrelid = 'order_events'::regclass;
INSERT INTO order_events VALUES ('2024-01-01 00:10', 1, 'new'), ('2024-01-01 01:10', 1, 'paid');
SELECT chunk_schema, chunk_name FROM timescaledb_information.chunks WHERE hypertable_name = 'order_events' ORDER BY range_start;

-- Integer time: the interval is an integer.
CREATE TABLE ticks (n bigint NOT NULL, v int) WITH (timescaledb.hypertable, timescaledb.partition_column = 'n', timescaledb.chunk_interval = 1000);
SELECT column_name, integer_interval FROM timescaledb_information.dimensions WHERE hypertable_name = 'ticks';

-- PARTITION BY RANGE (col) names the partition column too.
CREATE TABLE ranged (ts timestamptz, v int) PARTITION BY RANGE (ts) WITH (timescaledb.hypertable);
SELECT primary_dimension FROM timescaledb_information.hypertables WHERE hypertable_name = 'ranged';

-- hypertable = false: an ordinary table.
CREATE TABLE plain (time timestamptz) WITH (timescaledb.hypertable = false);
SELECT count(*) FROM timescaledb_information.hypertables WHERE hypertable_name = 'plain';

-- IF NOT EXISTS on an existing table: PostgreSQL's NOTICE, nothing converted.
CREATE TABLE IF NOT EXISTS plain (time timestamptz) WITH (timescaledb.hypertable);
SELECT count(*) FROM timescaledb_information.hypertables WHERE hypertable_name = 'plain';

-- All or nothing: inside a transaction block, and undone by ROLLBACK.
BEGIN;
CREATE TABLE undone (time timestamptz) WITH (timescaledb.hypertable);
ROLLBACK;
SELECT to_regclass('undone') IS NULL AS gone;

-- Errors: no timestamp-like column (42703), options without hypertable (22023), unknown option
-- (22023), duplicate (42P08), bad boolean (22023), missing column (42703), bad interval (22007).
-- A failed statement leaves no table behind.
CREATE TABLE e1 (v int) WITH (timescaledb.hypertable);
CREATE TABLE e2 (time timestamptz) WITH (timescaledb.partition_column = 'time');
CREATE TABLE e3 (time timestamptz) WITH (timescaledb.hypertable, timescaledb.fillfactor = 10);
CREATE TABLE e4 (time timestamptz) WITH (timescaledb.hypertable, tsdb.hypertable = true);
CREATE TABLE e5 (time timestamptz) WITH (timescaledb.hypertable = maybe);
CREATE TABLE e6 (time timestamptz) WITH (timescaledb.hypertable, timescaledb.partition_column = 'nope');
CREATE TABLE e7 (time timestamptz) WITH (timescaledb.hypertable, timescaledb.chunk_interval = 'soon');
SELECT count(*) FROM pg_class WHERE relname IN ('e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7');
-- The columnstore options wait for Orbit's columnstore (0A000).
CREATE TABLE e8 (time timestamptz, device int) WITH (timescaledb.hypertable, timescaledb.segmentby = 'device');
