-- Edge cases: quoted names and schemas, ±infinity and the ends of the bigint range, UPDATE moving a
-- row to a range without a chunk, DROP SCHEMA CASCADE, DROP EXTENSION.
CREATE EXTENSION timescaledb;
SET TIME ZONE 'UTC';

CREATE SCHEMA "Sensor Data";
CREATE TABLE "Sensor Data"."Readings" ("Time" timestamptz NOT NULL, "Dev" int, PRIMARY KEY ("Time", "Dev"));
INSERT INTO "Sensor Data"."Readings" VALUES ('2024-01-01', 1);
SELECT create_hypertable('"Sensor Data"."Readings"', 'Time', migrate_data => true);
SELECT hypertable_schema, hypertable_name, primary_dimension FROM timescaledb_information.hypertables;
SELECT show_chunks('"Sensor Data"."Readings"');
-- An UPDATE of the time column into a range without a chunk moves the row to the default
-- partition; the fix-up gives it a chunk.
UPDATE "Sensor Data"."Readings" SET "Time" = '2025-01-01' WHERE "Dev" = 1;
SELECT _timescaledb_functions.route_default_rows('"Sensor Data"."Readings"');
SELECT tableoid::regclass AS chunk, "Time" FROM "Sensor Data"."Readings";
SELECT drop_chunks('"Sensor Data"."Readings"', older_than => TIMESTAMPTZ '2024-06-01');
-- Renames are followed (ALTER TABLE … RENAME, SET SCHEMA, ALTER SCHEMA … RENAME).
ALTER TABLE "Sensor Data"."Readings" RENAME TO "Renamed";
INSERT INTO "Sensor Data"."Renamed" VALUES ('2026-01-01', 2);
SELECT _timescaledb_functions.route_default_rows('"Sensor Data"."Renamed"');
SELECT hypertable_schema, hypertable_name, num_chunks FROM timescaledb_information.hypertables;
ALTER SCHEMA "Sensor Data" RENAME TO sensors;
SELECT show_chunks('sensors."Renamed"');
CREATE SCHEMA "Sensor Data";
ALTER TABLE sensors."Renamed" SET SCHEMA "Sensor Data";
SELECT hypertable_schema, hypertable_name FROM timescaledb_information.hypertables;
SELECT schema_name, table_name FROM _timescaledb_catalog.hypertable;
DROP SCHEMA sensors;
-- Dropping the schema drops the hypertable, its chunks and their catalog rows.
DROP SCHEMA "Sensor Data" CASCADE;
SELECT count(*) FROM _timescaledb_catalog.hypertable;
SELECT count(*) FROM _timescaledb_catalog.chunk;

-- ±infinity: chunks that end at MAXVALUE / start at MINVALUE.
CREATE TABLE edges (time timestamptz NOT NULL);
SELECT create_hypertable('edges', 'time');
INSERT INTO edges VALUES ('infinity'), ('-infinity'), ('2024-01-01');
SELECT _timescaledb_functions.route_default_rows('edges');
SELECT count(*) FROM _timescaledb_internal._hyper_2_default;
SELECT chunk_name, range_start, range_end FROM timescaledb_information.chunks WHERE hypertable_name = 'edges' ORDER BY range_start;
SELECT time FROM edges WHERE time > '2100-01-01';
SELECT time FROM edges WHERE time < '1900-01-01';

-- The ends of bigint: the ranges are clamped to the type.
CREATE TABLE big (t bigint NOT NULL);
SELECT create_hypertable('big', 't', chunk_time_interval => 1000000000000000000);
INSERT INTO big VALUES (9223372036854775807), (-9223372036854775808);
SELECT _timescaledb_functions.route_default_rows('big');
SELECT chunk_name, range_start_integer, range_end_integer FROM timescaledb_information.chunks
WHERE hypertable_name = 'big' ORDER BY range_start_integer;
SELECT t FROM big ORDER BY t;

-- DROP EXTENSION: chunks live in the extension's schema _timescaledb_internal, so while hypertables
-- exist it needs CASCADE (2BP01); without them it removes the catalog.
DROP TABLE edges;
DROP EXTENSION timescaledb;
DROP TABLE big;
DROP EXTENSION timescaledb;
SELECT count(*) FROM pg_namespace WHERE nspname = '_timescaledb_catalog';

-- Chunk bounds do not depend on the session's time zone: rows across a DST change all get chunks
-- (bounds counted in days in Europe/Berlin once missed an hour in summer time).
CREATE EXTENSION timescaledb;
SET timezone TO 'Europe/Berlin';
CREATE TABLE dst (time timestamptz NOT NULL, v int);
SELECT create_hypertable('dst', 'time', chunk_time_interval => INTERVAL '1 day');
INSERT INTO dst SELECT '2024-03-30 00:00+00'::timestamptz + i * INTERVAL '7 minutes', i FROM generate_series(0, 700) i;
SELECT count(*) FROM _timescaledb_internal._hyper_1_default;
SELECT chunk_name, range_start, range_end FROM timescaledb_information.chunks WHERE hypertable_name = 'dst' ORDER BY range_start;
SELECT count(*), min(time), max(time) FROM dst;
RESET timezone;
