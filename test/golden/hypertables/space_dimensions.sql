-- Space (closed, hash) dimensions: get_partition_hash, create_hypertable's partitioning_column,
-- add_dimension (both forms), set_number_partitions, rows in the right chunks (hash slices are
-- TimescaleDB's: [0, 2^31 - 1) cut in N, the first from -infinity, the last to +infinity), the
-- catalog, the information views, drop_chunks, EXPLAIN, and the errors.
CREATE EXTENSION timescaledb;
SET TIME ZONE 'UTC';

-- get_partition_hash: the type's default hash function masked to a non-negative int4, as TimescaleDB.
SELECT _timescaledb_functions.get_partition_hash(5) AS int4, _timescaledb_functions.get_partition_hash(5::bigint) AS int8,
  _timescaledb_functions.get_partition_hash(-1) AS minus_one, _timescaledb_functions.get_partition_hash('dev1'::text) AS text,
  _timescaledb_functions.get_partition_hash('dev1'::varchar) AS varchar;
SELECT _timescaledb_functions.get_partition_hash(5) = (hashint4(5) & 2147483647) AS int4_ok,
  _timescaledb_functions.get_partition_hash('dev1'::text) = (hashtext('dev1') & 2147483647) AS text_ok,
  _timescaledb_functions.get_partition_hash('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid)
    = (uuid_hash('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11') & 2147483647) AS uuid_ok;
-- Orbit: NULL hashes to 0 (TimescaleDB's function returns NULL, but routes NULL values to 0).
SELECT _timescaledb_functions.get_partition_hash(NULL::int) AS null_hash;
SELECT provolatile FROM pg_proc WHERE proname = 'get_partition_hash';

-- Classic form: time plus a space column with 4 partitions.
CREATE TABLE cond (time timestamptz NOT NULL, device int, temp float8);
SELECT create_hypertable('cond', 'time', 'device', 4, chunk_time_interval => INTERVAL '1 day');
SELECT id, hypertable_id, column_name, column_type, aligned, num_slices, partitioning_func_schema, partitioning_func, interval_length
FROM _timescaledb_catalog.dimension ORDER BY id;
SELECT num_dimensions FROM _timescaledb_catalog.hypertable WHERE table_name = 'cond';
-- Default indexes: (time DESC) and (device, time DESC).
SELECT indexdef FROM pg_indexes WHERE tablename = 'cond' ORDER BY indexname;
INSERT INTO cond SELECT TIMESTAMPTZ '2024-01-01 10:00', d, d FROM generate_series(1, 8) d;
INSERT INTO cond VALUES ('2024-01-02 10:00', 1, 1), ('2024-01-02 10:00', NULL, 0);
SELECT tableoid::regclass AS chunk, time, device, _timescaledb_functions.get_partition_hash(device) AS hash
FROM cond ORDER BY time, hash;
SELECT count(*) FROM _timescaledb_internal._hyper_1_default;
SELECT s.id, s.dimension_id, s.range_start, s.range_end FROM _timescaledb_catalog.dimension_slice s ORDER BY s.id;
SELECT chunk_id, dimension_slice_id, constraint_name FROM _timescaledb_catalog.chunk_constraint ORDER BY chunk_id, dimension_slice_id;
SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
WHERE conrelid = '_timescaledb_internal._hyper_1_2_chunk'::regclass AND contype = 'c' ORDER BY conname;
SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
WHERE conrelid = '_timescaledb_internal._hyper_1_1_chunk'::regclass AND contype = 'c' ORDER BY conname;
SELECT * FROM show_chunks('cond');
-- Rows in a DO block wait in the slice's default partition until the fix-up.
DO $$ BEGIN INSERT INTO cond VALUES ('2024-01-02 11:00', 3, 3), ('2024-01-02 11:00', 5, 5); END $$;
SELECT tableoid::regclass AS part, device FROM cond WHERE time = '2024-01-02 11:00' ORDER BY device;
SELECT _timescaledb_functions.route_default_rows('cond');
SELECT tableoid::regclass AS part, device FROM cond WHERE time = '2024-01-02 11:00' ORDER BY device;
SELECT _timescaledb_functions.route_default_rows();

-- The information views.
SELECT hypertable_name, num_dimensions, num_chunks, primary_dimension FROM timescaledb_information.hypertables;
SELECT hypertable_name, dimension_number, column_name, column_type, dimension_type, time_interval, integer_interval, num_partitions
FROM timescaledb_information.dimensions ORDER BY dimension_number;
SELECT chunk_name, range_start, range_end FROM timescaledb_information.chunks ORDER BY chunk_name;
SELECT chunk_name, total_bytes > 0 AS has_size FROM chunks_detailed_size('cond') ORDER BY chunk_name;
SELECT hypertable_size('cond') > 0 AS has_size;

-- EXPLAIN: time predicates prune time slices; a device predicate alone does not prune hash chunks
-- (PostgreSQL does not derive get_partition_hash(device) = get_partition_hash(3) from device = 3),
-- the explicit hash conjunct does.
EXPLAIN (COSTS OFF) SELECT * FROM cond WHERE time >= '2024-01-02' AND time < '2024-01-03';
EXPLAIN (COSTS OFF) SELECT * FROM cond WHERE time >= '2024-01-02' AND time < '2024-01-03' AND device = 3;
EXPLAIN (COSTS OFF) SELECT * FROM cond WHERE time >= '2024-01-02' AND time < '2024-01-03' AND device = 3
  AND _timescaledb_functions.get_partition_hash(device) = _timescaledb_functions.get_partition_hash(3);

-- set_number_partitions: new chunks only; a new chunk is cut to fit beside existing ones.
SELECT set_number_partitions('cond', 2);
SELECT num_partitions FROM timescaledb_information.dimensions WHERE dimension_type = 'Space';
INSERT INTO cond VALUES ('2024-01-03 10:00', 1, 1), ('2024-01-03 10:00', 2, 2), ('2024-01-03 10:00', 4, 4);
SELECT tableoid::regclass AS chunk, device, _timescaledb_functions.get_partition_hash(device) AS hash
FROM cond WHERE time = '2024-01-03 10:00' ORDER BY hash;
SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
WHERE conrelid = (SELECT tableoid FROM cond WHERE time = '2024-01-03 10:00' AND device = 2) AND contype = 'c' ORDER BY conname;
SELECT set_number_partitions('cond', 0);
SELECT set_number_partitions('cond', 32768);
SELECT set_number_partitions('cond', NULL);
SELECT set_number_partitions('cond', 2, 'temp');
CREATE TABLE plain (time timestamptz, device int);
SELECT set_number_partitions('plain', 2);

-- drop_chunks: dropping the last chunks of a time slice removes its slice table and default.
SELECT * FROM drop_chunks('cond', older_than => TIMESTAMPTZ '2024-01-02');
SELECT * FROM show_chunks('cond');
SELECT relname FROM pg_class WHERE relname LIKE '\_hyper\_1\_%\_slice%' AND relkind IN ('r', 'p') ORDER BY relname;
SELECT count(*) FROM _timescaledb_catalog.dimension_slice s
WHERE NOT EXISTS (SELECT FROM _timescaledb_catalog.chunk_constraint c WHERE c.dimension_slice_id = s.id);
SELECT count(*) FROM cond;

-- New form: add_dimension(by_hash) on an empty hypertable.
CREATE TABLE metrics (time timestamptz NOT NULL, host text, v int);
SELECT * FROM create_hypertable('metrics', by_range('time', INTERVAL '1 day'));
SELECT * FROM add_dimension('metrics', by_hash('host', 2));
SELECT add_dimension('metrics', by_hash('host', 2), if_not_exists => true);
SELECT * FROM add_dimension('metrics', by_hash('host', 2));
INSERT INTO metrics VALUES ('2024-01-01', 'a', 1), ('2024-01-01', 'b', 2), ('2024-01-01', 'c', 3), ('2024-01-01', 'h4', 4);
SELECT tableoid::regclass AS chunk, host, _timescaledb_functions.get_partition_hash(host) AS hash FROM metrics ORDER BY hash;
-- A second open dimension and a second space dimension (Orbit: 0A000).
SELECT * FROM add_dimension('metrics', by_range('v', 10));
SELECT * FROM add_dimension('metrics', by_hash('v', 2));

-- Classic add_dimension: result shape and argument errors.
CREATE TABLE m2 (time timestamptz NOT NULL, device int, loc int, gen int GENERATED ALWAYS AS (device * 2) STORED, pt point);
SELECT create_hypertable('m2', 'time');
SELECT add_dimension('m2', 'device', 3);
SELECT add_dimension('m2', 'device', 3);
SELECT add_dimension('m2', 'device', 3, if_not_exists => true);
SELECT add_dimension('m2', 'loc');
SELECT add_dimension('m2', 'loc', 2, chunk_time_interval => 10);
SELECT add_dimension('m2', 'nope', 2);
SELECT add_dimension('plain', 'device', 2);
SELECT add_dimension(NULL, 'device', 2);
SELECT add_dimension('m2', 'loc', chunk_time_interval => 10);
CREATE TABLE m3 (time timestamptz NOT NULL, device int, loc int, gen int GENERATED ALWAYS AS (device * 2) STORED, pt point);
SELECT create_hypertable('m3', 'time');
SELECT add_dimension('m3', 'loc', 0);
SELECT add_dimension('m3', 'loc', 32768);
SELECT add_dimension('m3', 'gen', 2);
SELECT add_dimension('m3', 'pt', 2);
SELECT add_dimension('m3', 'loc', 2, partitioning_func => 'now'::regproc);
-- A custom partitioning function: IMMUTABLE, (anyelement or the column type) -> integer.
CREATE FUNCTION loc_part(v int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT v * 100000000';
SELECT add_dimension('m3', 'loc', 2, partitioning_func => 'loc_part'::regproc);
INSERT INTO m3 (time, device, loc) VALUES ('2024-01-01', 1, 1), ('2024-01-01', 1, 15);
SELECT tableoid::regclass AS chunk, loc FROM m3 ORDER BY loc;
SELECT partitioning_func FROM _timescaledb_catalog.dimension WHERE column_name = 'loc';

-- create_hypertable errors with a space column.
CREATE TABLE m4 (time timestamptz NOT NULL, device int);
SELECT create_hypertable('m4', 'time', 'device');
SELECT create_hypertable('m4', 'time', 'device', 0);
SELECT create_hypertable('m4', 'time', 'nope', 2);
SELECT create_hypertable('m4', 'time', 'device', 2, partitioning_func => 'now'::regproc);
SELECT count(*) FROM _timescaledb_catalog.hypertable WHERE table_name = 'm4';

-- Unique indexes: TS103 without the space column; with it, Orbit refuses (0A000): PostgreSQL cannot
-- build unique indexes on a table partitioned by an expression.
CREATE TABLE u1 (time timestamptz NOT NULL, device int, PRIMARY KEY (time));
SELECT create_hypertable('u1', 'time', 'device', 2);
CREATE TABLE u2 (time timestamptz NOT NULL, device int, PRIMARY KEY (time, device));
SELECT create_hypertable('u2', 'time', 'device', 2);
SELECT create_hypertable('u2', 'time');
SELECT add_dimension('u2', 'device', 2);
CREATE UNIQUE INDEX ON metrics (time, host);
ALTER TABLE metrics ADD PRIMARY KEY (time, host);

-- add_dimension with data (TimescaleDB 2.8+): existing chunks span the whole new dimension, new
-- time slices are hash-partitioned.
CREATE TABLE late (time timestamptz NOT NULL, device int);
SELECT create_hypertable('late', 'time', chunk_time_interval => INTERVAL '1 day');
INSERT INTO late VALUES ('2024-01-01', 1), ('2024-01-01', 2);
SELECT add_dimension('late', 'device', 2);
INSERT INTO late VALUES ('2024-01-01 12:00', 3), ('2024-01-02', 1), ('2024-01-02', 2);
SELECT tableoid::regclass AS chunk, time, device FROM late ORDER BY time, device;
SELECT c.table_name, s.range_start, s.range_end FROM _timescaledb_catalog.chunk c
JOIN _timescaledb_catalog.chunk_constraint cc ON cc.chunk_id = c.id
JOIN _timescaledb_catalog.dimension_slice s ON s.id = cc.dimension_slice_id
JOIN _timescaledb_catalog.dimension d ON d.id = s.dimension_id AND d.column_name = 'device'
WHERE c.hypertable_id = (SELECT id FROM _timescaledb_catalog.hypertable WHERE table_name = 'late') ORDER BY c.id;

-- migrate_data with a space dimension.
CREATE TABLE mig (time timestamptz NOT NULL, device int);
INSERT INTO mig SELECT TIMESTAMPTZ '2024-01-01' + g * INTERVAL '12 hours', g FROM generate_series(0, 5) g;
SELECT create_hypertable('mig', 'time', 'device', 2, chunk_time_interval => INTERVAL '1 day', migrate_data => true);
SELECT tableoid::regclass AS chunk, time, device FROM mig ORDER BY time;

-- set_integer_now_func.
CREATE TABLE ticks (t bigint NOT NULL, v int);
SELECT create_hypertable('ticks', 't', chunk_time_interval => 10);
CREATE FUNCTION ticks_now() RETURNS bigint LANGUAGE sql STABLE AS 'SELECT 100::bigint';
CREATE FUNCTION ticks_now_int() RETURNS int LANGUAGE sql STABLE AS 'SELECT 100';
CREATE FUNCTION ticks_now_volatile() RETURNS bigint LANGUAGE sql VOLATILE AS 'SELECT 100::bigint';
CREATE FUNCTION ticks_now_arg(x int) RETURNS bigint LANGUAGE sql STABLE AS 'SELECT 100::bigint';
SELECT set_integer_now_func('ticks', 'ticks_now_int');
SELECT set_integer_now_func('ticks', 'ticks_now_volatile');
SELECT set_integer_now_func('ticks', 'ticks_now_arg');
SELECT set_integer_now_func('ticks', 'ticks_now');
SELECT set_integer_now_func('ticks', 'ticks_now');
SELECT set_integer_now_func('ticks', 'ticks_now', replace_if_exists => true);
SELECT integer_now_func FROM timescaledb_information.dimensions WHERE hypertable_name = 'ticks';
SELECT integer_now_func_schema, integer_now_func FROM _timescaledb_catalog.dimension WHERE column_name = 't';
SELECT set_integer_now_func('cond', 'ticks_now');
SELECT set_integer_now_func('plain', 'ticks_now');
SELECT set_integer_now_func(NULL, 'ticks_now');
-- show_chunks/drop_chunks take integer cut-offs; an interval is refused (22023), as in TimescaleDB.
INSERT INTO ticks VALUES (5, 1), (15, 2);
SELECT * FROM show_chunks('ticks', older_than => 10);
SELECT * FROM show_chunks('ticks', older_than => INTERVAL '1 day');

-- Dropping the hypertable removes its catalog rows, slices included.
DROP TABLE cond;
SELECT count(*) FROM _timescaledb_catalog.dimension_slice s JOIN _timescaledb_catalog.dimension d ON d.id = s.dimension_id
WHERE d.hypertable_id = 1;

-- TRUNCATE drops the chunks and the time slices of a space-partitioned hypertable too.
CREATE TABLE trunc_space (time timestamptz NOT NULL, device int);
SELECT create_hypertable('trunc_space', 'time', 'device', 2, chunk_time_interval => INTERVAL '1 day');
INSERT INTO trunc_space SELECT TIMESTAMPTZ '2024-01-01' + i * INTERVAL '12 hours', i FROM generate_series(0, 5) i;
SELECT count(*) > 2 AS several FROM show_chunks('trunc_space');
TRUNCATE trunc_space;
SELECT count(*) FROM show_chunks('trunc_space');
SELECT count(*) FROM pg_inherits WHERE inhparent = 'trunc_space'::regclass AND inhrelid::regclass::text NOT LIKE '%default';
