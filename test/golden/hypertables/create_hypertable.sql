-- create_hypertable, both forms (timescale_api.md §1.1, defaults §2, errors §3.1). Orbit rebuilds the
-- table as a partitioned table (docs/design/hypertables-rowstore.md); everything a client can see of
-- the table must survive that.
CREATE EXTENSION timescaledb;
SET TIME ZONE 'UTC';

-- Classic form: TABLE(hypertable_id, schema_name, table_name, created); as a scalar, a row value.
CREATE TABLE conditions (time timestamptz NOT NULL, device int, temp float8);
SELECT create_hypertable('conditions', 'time');
-- TS110 hypertable exists; with if_not_exists a NOTICE and created = false.
SELECT create_hypertable('conditions', 'time');
SELECT * FROM create_hypertable('conditions', 'time', if_not_exists => true);
SELECT relkind FROM pg_class WHERE oid = 'conditions'::regclass;

-- The catalog: ids from sequences, default associated schema and prefix, 7-day default interval (µs).
SELECT id, schema_name, table_name, associated_schema_name, associated_table_prefix, num_dimensions
FROM _timescaledb_catalog.hypertable;
SELECT hypertable_id, column_name, column_type, aligned, num_slices, interval_length
FROM _timescaledb_catalog.dimension;

-- The default index (time DESC) and the default partition.
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) AS def
FROM pg_index WHERE indrelid = 'conditions'::regclass ORDER BY 1;
SELECT inhrelid::regclass AS partition FROM pg_inherits WHERE inhparent = 'conditions'::regclass;

-- New form: TABLE(hypertable_id, created); the time column becomes NOT NULL.
CREATE TABLE metrics (ts timestamptz, value float8);
SELECT create_hypertable('metrics', by_range('ts', INTERVAL '1 day'));
SELECT * FROM create_hypertable('metrics', by_range('ts'), if_not_exists => true);
SELECT attnotnull FROM pg_attribute WHERE attrelid = 'metrics'::regclass AND attname = 'ts';
-- 23502: NULL in the time column.
INSERT INTO metrics VALUES (NULL, 1);
SELECT interval_length FROM _timescaledb_catalog.dimension WHERE column_name = 'ts';

-- create_default_indexes => false; an existing index on the time column alone is kept as the time index.
CREATE TABLE noidx (time timestamptz, v int);
SELECT * FROM create_hypertable('noidx', by_range('time'), create_default_indexes => false);
SELECT count(*) FROM pg_index WHERE indrelid = 'noidx'::regclass;
CREATE TABLE ownidx (time timestamptz, v int);
CREATE INDEX ownidx_t ON ownidx (time);
SELECT * FROM create_hypertable('ownidx', by_range('time'));
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'ownidx'::regclass;

-- Associated schema and prefix name the default partition (and the chunks).
CREATE SCHEMA chunks_here;
CREATE TABLE assoc (time timestamptz, v int);
SELECT create_hypertable('assoc', 'time', associated_schema_name => 'chunks_here', associated_table_prefix => 'my');
SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'assoc'::regclass;
-- (Orbit's session runs the fix-up after each INSERT into a hypertable, so the explicit call finds nothing.)
INSERT INTO assoc VALUES ('2024-01-01', 1);
SELECT _timescaledb_functions.route_default_rows();
SELECT * FROM show_chunks('assoc');

-- Integer time: the default intervals are 10000 / 100000 / 1000000 (smallint / integer / bigint).
CREATE TABLE i2 (t smallint, v int);
CREATE TABLE i4 (t integer, v int);
CREATE TABLE i8 (t bigint, v int);
SELECT create_hypertable('i2', 't');
SELECT create_hypertable('i4', 't');
SELECT create_hypertable('i8', 't', chunk_time_interval => 50);
SELECT c.table_name, d.column_type, d.interval_length FROM _timescaledb_catalog.dimension d
JOIN _timescaledb_catalog.hypertable c ON c.id = d.hypertable_id WHERE c.table_name LIKE 'i_' ORDER BY 1;

-- Errors. 42P01: no such table; 42703: no such column.
SELECT create_hypertable('nosuch', 'time');
CREATE TABLE plain (time timestamptz, device int, name text, d date, g int GENERATED ALWAYS AS (device * 2) STORED);
SELECT create_hypertable('plain', 'time_mispelled');
-- 42809: invalid type for dimension; 0A000: generated column.
SELECT create_hypertable('plain', 'name');
SELECT create_hypertable('plain', 'g');
-- 22023: interval errors.
SELECT create_hypertable('plain', 'time', chunk_time_interval => INTERVAL '-1 day');
SELECT create_hypertable('plain', 'time', chunk_time_interval => INTERVAL '0');
SELECT create_hypertable('plain', 'time', chunk_time_interval => 'one day'::text);
SELECT create_hypertable('plain', 'device', chunk_time_interval => INTERVAL '1 day');
SELECT create_hypertable('plain', 'device', chunk_time_interval => 0);
SELECT create_hypertable('plain', 'device', chunk_time_interval => 3000000000);
SELECT create_hypertable('plain', 'd', chunk_time_interval => INTERVAL '36 hours');
SELECT create_hypertable('plain', by_range('time', -5));
-- 22007: a malformed interval literal is PostgreSQL's error.
SELECT create_hypertable('plain', 'time', chunk_time_interval => INTERVAL 'not_an_interval');
-- 22023: NULL arguments.
SELECT create_hypertable(NULL, 'time');
SELECT create_hypertable('plain', NULL::name);
-- 42809: a hash dimension cannot be the primary one.
SELECT create_hypertable('plain', by_hash('device', 4));
-- 22023: a space column without number_partitions.
SELECT create_hypertable('plain', 'time', 'device');
-- 22023: number_partitions out of 1..32767 (space dimensions: space_dimensions.sql).
SELECT create_hypertable('plain', 'time', 'device', 0);
SELECT create_hypertable('plain', 'time', time_partitioning_func => 'hashtext'::regproc);
-- Nothing was changed by the failures.
SELECT relkind FROM pg_class WHERE oid = 'plain'::regclass;
SELECT count(*) FROM _timescaledb_catalog.hypertable WHERE table_name = 'plain';

-- 0A000: a table with rows needs migrate_data; TS103: a unique index without the time column.
CREATE TABLE full_table (time timestamptz, v int);
INSERT INTO full_table VALUES ('2024-01-01', 1);
SELECT create_hypertable('full_table', 'time');
CREATE TABLE uniq (time timestamptz, device int PRIMARY KEY);
SELECT create_hypertable('uniq', 'time');
-- 0A000: partitioned tables, rules.
CREATE TABLE parted (time timestamptz) PARTITION BY RANGE (time);
SELECT create_hypertable('parted', 'time');
CREATE TABLE ruled (time timestamptz);
CREATE RULE r AS ON INSERT TO ruled DO INSTEAD NOTHING;
SELECT create_hypertable('ruled', 'time');
-- 42P16: referenced by a foreign key.
CREATE TABLE referenced (time timestamptz PRIMARY KEY);
CREATE TABLE referencing (t timestamptz REFERENCES referenced);
SELECT create_hypertable('referenced', 'time');
-- Orbit: row-level security is not carried over yet (0A000).
CREATE TABLE secured (time timestamptz, owner_name text);
ALTER TABLE secured ENABLE ROW LEVEL SECURITY;
SELECT create_hypertable('secured', 'time');
-- Orbit: a view on the table would be lost by the rebuild, so it fails (0A000).
CREATE TABLE viewed (time timestamptz, v int);
CREATE VIEW viewed_v AS SELECT * FROM viewed;
SELECT create_hypertable('viewed', 'time');
DROP VIEW viewed_v;
SELECT * FROM create_hypertable('viewed', by_range('time'));

-- create_hypertable is transactional.
CREATE TABLE rolled (time timestamptz);
BEGIN;
SELECT * FROM create_hypertable('rolled', by_range('time'));
ROLLBACK;
SELECT relkind FROM pg_class WHERE oid = 'rolled'::regclass;
SELECT count(*) FROM _timescaledb_catalog.hypertable WHERE table_name = 'rolled';

-- 42501: only the table's owner may convert it, change its interval or drop its chunks.
CREATE ROLE someone;
CREATE TABLE owned (time timestamptz NOT NULL);
GRANT SELECT, INSERT ON owned TO someone;
SET ROLE someone;
SELECT create_hypertable('owned', 'time');
RESET ROLE;
SELECT * FROM create_hypertable('owned', by_range('time'));
SET ROLE someone;
SELECT set_chunk_time_interval('owned', INTERVAL '1 day');
-- Inserting needs only INSERT: the chunk is created for the inserting role.
INSERT INTO owned VALUES ('2024-01-01');
-- Orbit's internal functions (the chunk creation above) are the backend's role's alone.
SELECT _timescaledb_functions.route_default_rows('owned');
SELECT drop_chunks('owned', older_than => TIMESTAMPTZ '2025-01-01');
SELECT count(*) FROM show_chunks('owned');
RESET ROLE;
SELECT pg_get_userbyid(c.relowner) AS chunk_owner FROM pg_class c
WHERE c.oid = (SELECT show_chunks('owned') LIMIT 1);
