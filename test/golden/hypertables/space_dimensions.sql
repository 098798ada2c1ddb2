-- Space (closed, hash) dimensions: get_partition_hash, create_hypertable's partitioning_column,
-- add_dimension (both forms), set_number_partitions, rows in the right chunks, the catalog, the
-- information views, drop_chunks, EXPLAIN (chunk exclusion on the space column), primary keys and
-- ON CONFLICT, and the errors. Orbit: each time slice is natively hash-partitioned (PARTITION BY HASH,
-- MODULUS N), created with all N chunks; placement is PostgreSQL's hash, not get_partition_hash ranges
-- (dimension_slice still shows TimescaleDB's hash range for each remainder).
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
SELECT tableoid::regclass AS chunk, time, device FROM cond ORDER BY time, device;
SELECT count(*) FROM _timescaledb_internal._hyper_1_default;
SELECT s.id, s.dimension_id, s.range_start, s.range_end FROM _timescaledb_catalog.dimension_slice s ORDER BY s.id;
SELECT chunk_id, dimension_slice_id, constraint_name FROM _timescaledb_catalog.chunk_constraint ORDER BY chunk_id, dimension_slice_id;
-- Orbit: the chunk's time CHECK is TimescaleDB's constraint_<slice>; its space slice is the
-- partition bound (PostgreSQL's implicit partition constraint), not a CHECK.
SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
WHERE conrelid = '_timescaledb_internal._hyper_1_2_chunk'::regclass AND contype = 'c' ORDER BY conname;
SELECT c.oid::regclass AS chunk, i.inhparent::regclass AS parent, pg_get_expr(c.relpartbound, c.oid) AS bound
FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid
WHERE c.relname LIKE '\_hyper\_1\_%\_chunk' ORDER BY c.oid;
SELECT * FROM show_chunks('cond');
-- Rows of a time slice without chunks, written in a DO block, wait in the default partition until
-- the fix-up creates the slice (all its chunks); rows of an existing slice go straight to their chunk.
DO $$ BEGIN INSERT INTO cond VALUES ('2024-01-02 11:00', 3, 3), ('2024-01-05 11:00', 5, 5); END $$;
SELECT tableoid::regclass AS part, time, device FROM cond WHERE time IN ('2024-01-02 11:00', '2024-01-05 11:00') ORDER BY time;
SELECT _timescaledb_functions.route_default_rows('cond');
SELECT tableoid::regclass AS part, time, device FROM cond WHERE time IN ('2024-01-02 11:00', '2024-01-05 11:00') ORDER BY time;
SELECT _timescaledb_functions.route_default_rows();

-- The information views.
SELECT hypertable_name, num_dimensions, num_chunks, primary_dimension FROM timescaledb_information.hypertables;
SELECT hypertable_name, dimension_number, column_name, column_type, dimension_type, time_interval, integer_interval, num_partitions
FROM timescaledb_information.dimensions ORDER BY dimension_number;
SELECT chunk_name, range_start, range_end FROM timescaledb_information.chunks ORDER BY chunk_name;
SELECT chunk_name, total_bytes > 0 AS has_size FROM chunks_detailed_size('cond') ORDER BY chunk_name;
SELECT hypertable_size('cond') > 0 AS has_size;

-- EXPLAIN: time predicates exclude time slices, space predicates (=, IN, parameters) the other
-- chunks of each slice.
EXPLAIN (COSTS OFF) SELECT * FROM cond WHERE time >= '2024-01-02' AND time < '2024-01-03';
EXPLAIN (COSTS OFF) SELECT * FROM cond WHERE time >= '2024-01-02' AND time < '2024-01-03' AND device = 3;
EXPLAIN (COSTS OFF) SELECT * FROM cond WHERE device = 3;
EXPLAIN (COSTS OFF) SELECT * FROM cond WHERE device IN (3, 5) AND time < '2024-01-02';
PREPARE by_device(int) AS SELECT * FROM cond WHERE device = $1;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE by_device(3);
EXECUTE by_device(3);
RESET plan_cache_mode;
DEALLOCATE by_device;

-- set_number_partitions: new time slices only (existing ones keep their modulus).
SELECT set_number_partitions('cond', 2);
SELECT num_partitions FROM timescaledb_information.dimensions WHERE dimension_type = 'Space';
INSERT INTO cond VALUES ('2024-01-03 10:00', 1, 1), ('2024-01-03 10:00', 2, 2), ('2024-01-03 10:00', 4, 4),
  ('2024-01-02 12:00', 4, 4);
SELECT tableoid::regclass AS chunk, time, device FROM cond WHERE time IN ('2024-01-03 10:00', '2024-01-02 12:00') ORDER BY time, device;
SELECT c.oid::regclass AS chunk, pg_get_expr(c.relpartbound, c.oid) AS bound
FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid
WHERE i.inhparent = (SELECT inhparent FROM pg_inherits WHERE inhrelid = (SELECT tableoid FROM cond WHERE time = '2024-01-03 10:00' AND device = 2))
ORDER BY c.oid;
SELECT s.range_start, s.range_end FROM _timescaledb_catalog.dimension_slice s
JOIN _timescaledb_catalog.chunk_constraint cc ON cc.dimension_slice_id = s.id
WHERE cc.chunk_id IN (SELECT id FROM _timescaledb_catalog.chunk WHERE range_start = _timescaledb_functions.time_to_internal(TIMESTAMPTZ '2024-01-03'))
  AND s.dimension_id = 2 ORDER BY s.range_start;
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
SELECT tableoid::regclass AS chunk, host FROM metrics ORDER BY host;
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
-- Orbit: it becomes the extended hash of a hash operator class, so equal function values share a chunk.
CREATE FUNCTION dev_part(v int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT v / 10';
INSERT INTO m3 (time, device, loc) VALUES ('2024-01-01', 1, 1), ('2024-01-01', 1, 15);
SELECT tableoid::regclass AS chunk, loc FROM m3 ORDER BY loc;
SELECT partitioning_func FROM _timescaledb_catalog.dimension WHERE column_name = 'loc';
SELECT pg_get_partkeydef(inhparent) FROM pg_inherits WHERE inhrelid = (SELECT tableoid FROM m3 WHERE loc = 1);
EXPLAIN (COSTS OFF) SELECT * FROM m3 WHERE loc = 15;
CREATE TABLE m5 (time timestamptz NOT NULL, device int);
SELECT create_hypertable('m5', 'time', 'device', 3, partitioning_func => 'dev_part'::regproc, chunk_time_interval => INTERVAL '1 day');
INSERT INTO m5 SELECT '2024-01-01', d FROM generate_series(0, 39) d;
SELECT count(DISTINCT tableoid) AS chunks, min(device) / 10 AS dev_part FROM m5 GROUP BY device / 10 ORDER BY 2;
DROP TABLE m5;
-- A polymorphic function on a varchar column; pruning still applies.
CREATE FUNCTION name_part(v anyelement) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT length(v::text)';
CREATE TABLE m6 (time timestamptz NOT NULL, name varchar(10), PRIMARY KEY (name, time));
SELECT create_hypertable('m6', by_range('time', INTERVAL '1 day'));
SELECT * FROM add_dimension('m6', by_hash('name', 2, partition_func => 'name_part'));
INSERT INTO m6 VALUES ('2024-01-01', 'ab'), ('2024-01-01', 'cd'), ('2024-01-01', 'abc') ON CONFLICT DO NOTHING;
SELECT length(name), count(*), count(DISTINCT tableoid) AS chunks FROM m6 GROUP BY 1 ORDER BY 1;
EXPLAIN (COSTS OFF) SELECT * FROM m6 WHERE name = 'ab';
SELECT tableoid::regclass AS chunk, name FROM m6 WHERE name = 'ab';
SELECT pg_get_partkeydef(inhparent) FROM pg_inherits WHERE inhrelid = (SELECT tableoid FROM m6 WHERE name = 'ab');
SELECT opcname FROM pg_opclass WHERE opcname LIKE 'orbit\_dim\_%';

-- create_hypertable errors with a space column.
CREATE TABLE m4 (time timestamptz NOT NULL, device int);
SELECT create_hypertable('m4', 'time', 'device');
SELECT create_hypertable('m4', 'time', 'device', 0);
SELECT create_hypertable('m4', 'time', 'nope', 2);
SELECT create_hypertable('m4', 'time', 'device', 2, partitioning_func => 'now'::regproc);
SELECT count(*) FROM _timescaledb_catalog.hypertable WHERE table_name = 'm4';

-- Unique indexes must contain every partitioning column (TS103 otherwise); a primary key on
-- (device, time) makes ON CONFLICT work across chunks.
CREATE TABLE u1 (time timestamptz NOT NULL, device int, PRIMARY KEY (time));
SELECT create_hypertable('u1', 'time', 'device', 2);
CREATE TABLE u2 (time timestamptz NOT NULL, device int, temp float8, PRIMARY KEY (device, time));
SELECT create_hypertable('u2', 'time', 'device', 2, chunk_time_interval => INTERVAL '1 day');
SELECT indexdef FROM pg_indexes WHERE tablename = 'u2' ORDER BY indexname;
INSERT INTO u2 SELECT TIMESTAMPTZ '2024-01-01' + h * INTERVAL '12 hours', d, 0 FROM generate_series(0, 3) h, generate_series(1, 4) d;
INSERT INTO u2 SELECT TIMESTAMPTZ '2024-01-01' + h * INTERVAL '12 hours', d, 1 FROM generate_series(0, 4) h, generate_series(1, 4) d
ON CONFLICT (device, time) DO UPDATE SET temp = u2.temp + 10;
SELECT temp, count(*), count(DISTINCT tableoid) AS chunks FROM u2 GROUP BY temp ORDER BY temp;
INSERT INTO u2 VALUES ('2024-01-01', 1, 99), ('2024-01-03', 1, 99) ON CONFLICT DO NOTHING;
SELECT time, device, temp FROM u2 WHERE device = 1 AND time IN ('2024-01-01', '2024-01-03') ORDER BY time;
-- 23505 without ON CONFLICT.
INSERT INTO u2 VALUES ('2024-01-02', 3, 0);
EXPLAIN (COSTS OFF) INSERT INTO u2 VALUES ('2024-01-02', 3, 0) ON CONFLICT (device, time) DO NOTHING;
CREATE TABLE u3 (time timestamptz NOT NULL, device int, PRIMARY KEY (time, device));
SELECT create_hypertable('u3', 'time');
SELECT add_dimension('u3', 'device', 2);
CREATE UNIQUE INDEX ON metrics (time, host);
ALTER TABLE metrics ADD PRIMARY KEY (time, host);
-- Without the space column: TS103 before the first time slice exists; afterwards PostgreSQL refuses
-- it first (0A000), as for an index without the time column.
CREATE TABLE u4 (time timestamptz NOT NULL, device int);
SELECT create_hypertable('u4', 'time', 'device', 2);
CREATE UNIQUE INDEX ON u4 (time);
ALTER TABLE u4 ADD PRIMARY KEY (time);
CREATE UNIQUE INDEX ON metrics (time);

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
