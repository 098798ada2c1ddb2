-- Chunks: the fix-up that moves rows from the default partition into chunks, range alignment
-- (TimescaleDB: multiples of the interval from the Unix epoch, rounding toward -infinity), chunk
-- pre-creation, set_chunk_time_interval, ON CONFLICT across chunks and chunk exclusion.
CREATE EXTENSION timescaledb;
SET TIME ZONE 'UTC';

CREATE TABLE conditions (time timestamptz NOT NULL, device int NOT NULL, temp float8, PRIMARY KEY (time, device));
SELECT create_hypertable('conditions', 'time');

-- Rows written where Orbit's session does not run the fix-up (inside a DO block) wait in the default
-- partition, still visible through the hypertable; route_default_rows moves them and counts them.
DO $$ BEGIN
  INSERT INTO conditions VALUES ('2024-01-01 00:00', 1, 1.0), ('2024-01-03 23:59:59.999999', 2, 2.0),
    ('2024-01-04 00:00', 1, 3.0), ('2024-02-10 12:00', 1, 4.0), ('1969-12-31 23:59:59', 3, 5.0);
END $$;
SELECT tableoid::regclass AS part, count(*) FROM conditions GROUP BY 1;
SELECT _timescaledb_functions.route_default_rows('conditions');
SELECT _timescaledb_functions.route_default_rows('conditions');
SELECT _timescaledb_functions.route_default_rows();
SELECT tableoid::regclass AS chunk, time, device FROM conditions ORDER BY time;
-- 7-day chunks from the epoch (a Thursday): 1969-12-25, 2023-12-28, 2024-01-04, 2024-02-08.
SELECT chunk_schema, chunk_name, range_start, range_end FROM timescaledb_information.chunks ORDER BY range_start;
SELECT id, hypertable_id, schema_name, table_name, range_start, range_end, dropped FROM _timescaledb_catalog.chunk ORDER BY id;
-- Each chunk carries TimescaleDB's dimension constraint and the hypertable's indexes.
SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
WHERE conrelid = '_timescaledb_internal._hyper_1_2_chunk'::regclass AND contype = 'c';
SELECT count(*) FROM pg_index WHERE indrelid = '_timescaledb_internal._hyper_1_2_chunk'::regclass;
SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = '_timescaledb_internal._hyper_1_2_chunk'::regclass;

-- chunk_range_for: the range (internal time, µs since the epoch) a value's chunk has or would have.
SELECT * FROM _timescaledb_functions.chunk_range_for(1, TIMESTAMPTZ '2024-01-01 00:00');
SELECT TIMESTAMPTZ 'epoch' + range_start * INTERVAL '1 microsecond' AS range_start,
       TIMESTAMPTZ 'epoch' + range_end * INTERVAL '1 microsecond' AS range_end
FROM _timescaledb_functions.chunk_range_for(1, TIMESTAMPTZ '2024-03-01 12:00');

-- Rows for existing chunks go straight into them; the fix-up finds nothing.
INSERT INTO conditions VALUES ('2024-01-02', 3, 6.0);
SELECT _timescaledb_functions.route_default_rows('conditions');
SELECT tableoid::regclass AS chunk FROM conditions WHERE time = '2024-01-02';

-- ON CONFLICT works across chunks: the primary key is a partitioned index.
INSERT INTO conditions VALUES ('2024-01-01 00:00', 1, 10.0), ('2024-02-10 12:00', 1, 40.0), ('2024-03-01', 1, 50.0)
ON CONFLICT (time, device) DO UPDATE SET temp = excluded.temp;
SELECT _timescaledb_functions.route_default_rows('conditions');
INSERT INTO conditions VALUES ('2024-01-04 00:00', 1, 99.0) ON CONFLICT DO NOTHING;
SELECT _timescaledb_functions.route_default_rows('conditions');
SELECT time, device, temp FROM conditions WHERE device = 1 ORDER BY time;
-- 23505 without ON CONFLICT.
INSERT INTO conditions VALUES ('2024-02-10 12:00', 1, 0);

-- Chunk exclusion without EXPLAIN: within one transaction (statistics are not flushed meanwhile),
-- only the chunk covering the range gains scans.
BEGIN;
CREATE TABLE scans_before AS SELECT c AS chunk, pg_stat_get_xact_numscans(c) AS n FROM show_chunks('conditions') c;
SELECT count(*) FROM conditions WHERE time >= '2024-01-04' AND time < '2024-01-11';
SELECT chunk, pg_stat_get_xact_numscans(chunk) > n AS scanned FROM scans_before ORDER BY chunk::text;
COMMIT;
SELECT * FROM show_chunks('conditions', newer_than => TIMESTAMPTZ '2024-01-04', older_than => TIMESTAMPTZ '2024-01-11');

-- Integer time: negative values align toward -infinity.
CREATE TABLE ticks (t bigint NOT NULL, v int);
SELECT create_hypertable('ticks', 't', chunk_time_interval => 10);
DO $$ BEGIN INSERT INTO ticks VALUES (-11, 1), (-10, 2), (-1, 3), (0, 4), (9, 5), (10, 6); END $$;
SELECT _timescaledb_functions.route_default_rows('ticks');
SELECT tableoid::regclass AS chunk, t FROM ticks ORDER BY t;
SELECT chunk_name, range_start_integer, range_end_integer, range_start FROM timescaledb_information.chunks
WHERE hypertable_name = 'ticks' ORDER BY range_start_integer;
SELECT * FROM _timescaledb_functions.chunk_range_for(2, -21::bigint);

-- create_chunks_for_range: pre-creates the chunks covering [start, end] (both included), once.
SELECT _timescaledb_functions.create_chunks_for_range('ticks', 100::bigint, 125::bigint);
SELECT _timescaledb_functions.create_chunks_for_range('ticks', 95::bigint, 125::bigint);
SELECT chunk_name, range_start_integer, range_end_integer FROM timescaledb_information.chunks
WHERE hypertable_name = 'ticks' AND range_start_integer >= 90 ORDER BY range_start_integer;
INSERT INTO ticks VALUES (105, 7);
SELECT tableoid::regclass AS chunk FROM ticks WHERE t = 105;
-- TS001 on a table that is not a hypertable.
CREATE TABLE plain (t bigint);
SELECT _timescaledb_functions.create_chunks_for_range('plain', 1::bigint, 2::bigint);

-- Date time column: 1-day multiples, ranges shown as timestamptz at UTC midnight.
CREATE TABLE daily (day date NOT NULL, v int);
SELECT create_hypertable('daily', by_range('day', INTERVAL '2 days'));
INSERT INTO daily VALUES ('1970-01-01', 1), ('1969-12-31', 2), ('2024-02-29', 3);
-- (Orbit's session already ran the fix-up after the INSERT.)
SELECT _timescaledb_functions.route_default_rows('daily');
SELECT chunk_name, range_start, range_end FROM timescaledb_information.chunks WHERE hypertable_name = 'daily' ORDER BY range_start;
SELECT tableoid::regclass AS chunk, day FROM daily ORDER BY day;

-- set_chunk_time_interval: only later chunks change; a new chunk is cut to fit between existing ones.
SELECT set_chunk_time_interval('ticks', 25);
SELECT interval_length FROM _timescaledb_catalog.dimension WHERE hypertable_id = 2;
INSERT INTO ticks VALUES (12, 8), (22, 9), (80, 10);
SELECT _timescaledb_functions.route_default_rows('ticks');
SELECT chunk_name, range_start_integer, range_end_integer FROM timescaledb_information.chunks
WHERE hypertable_name = 'ticks' AND range_start_integer BETWEEN 10 AND 99 ORDER BY range_start_integer;
SELECT set_chunk_time_interval('conditions', INTERVAL '1 day');
SELECT set_partitioning_interval('conditions', INTERVAL '2 days');
SELECT time_interval FROM timescaledb_information.dimensions WHERE hypertable_name = 'conditions';
-- 22023 / TS001.
SELECT set_chunk_time_interval('ticks', INTERVAL '1 day');
SELECT set_chunk_time_interval('conditions', INTERVAL '-1 day');
SELECT set_chunk_time_interval('plain', 10);

-- Dropping a hypertable removes its catalog rows.
DROP TABLE daily;
SELECT count(*) FROM _timescaledb_catalog.hypertable WHERE table_name = 'daily';
SELECT count(*) FROM _timescaledb_catalog.chunk WHERE hypertable_id = 3;
