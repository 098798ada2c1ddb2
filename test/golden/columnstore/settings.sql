-- Columnstore settings (timescale_api.md §1.3, errors §3.4): ALTER TABLE … SET/RESET with TimescaleDB's
-- option names and aliases, the settings views, and the errors tied to settings (compression itself:
-- compression.sql).
CREATE EXTENSION timescaledb;
CREATE TABLE m (time timestamptz NOT NULL, device int, site text, v float8);
SELECT create_hypertable('m', 'time');

-- Settings without enabling the columnstore first (0A000), and on a plain table (22023).
ALTER TABLE m SET (timescaledb.compress_segmentby = 'device');
CREATE TABLE plain (x int);
ALTER TABLE plain SET (timescaledb.compress);

-- Enable with segmentby and orderby; the views show them as TimescaleDB prints them.
ALTER TABLE m SET (timescaledb.compress, timescaledb.compress_segmentby = 'device, site', timescaledb.compress_orderby = 'time DESC, v NULLS FIRST');
SELECT * FROM timescaledb_information.hypertable_compression_settings;
SELECT * FROM timescaledb_information.hypertable_columnstore_settings;
SELECT * FROM timescaledb_information.compression_settings ORDER BY segmentby_column_index, orderby_column_index;
SELECT compression_enabled FROM timescaledb_information.hypertables;
SELECT relid, segmentby, orderby, orderby_desc, orderby_nullsfirst FROM _timescaledb_catalog.compression_settings;

-- Errors: a column in both lists, unparsable lists (42601), unknown and duplicate columns (42601),
-- an empty orderby (22023), RESET of other options (0A000), unknown option (22023).
ALTER TABLE m SET (timescaledb.compress_orderby = 'device');
ALTER TABLE m SET (timescaledb.compress_segmentby = 'device + 1');
ALTER TABLE m SET (timescaledb.compress_orderby = 'v desc nulls thirsty');
ALTER TABLE m SET (timescaledb.compress_orderby = 'v USING <');
ALTER TABLE m SET (timescaledb.compress_segmentby = 'nope');
ALTER TABLE m SET (timescaledb.compress_orderby = 'nope');
ALTER TABLE m SET (timescaledb.compress_segmentby = 'device, device');
ALTER TABLE m SET (timescaledb.compress_orderby = '');
ALTER TABLE m RESET (timescaledb.compress);
ALTER TABLE m SET (timescaledb.compress_typo = 'x');
-- A failed ALTER changed nothing.
SELECT segmentby, orderby FROM timescaledb_information.hypertable_compression_settings;

-- The new names and the tsdb. namespace; RESET restores the default order (time DESC).
ALTER TABLE m SET (tsdb.segmentby = 'site', tsdb.orderby = 'v');
SELECT segmentby, orderby FROM timescaledb_information.hypertable_compression_settings;
ALTER TABLE m RESET (timescaledb.compress_orderby, timescaledb.compress_segmentby);
SELECT segmentby, orderby FROM timescaledb_information.hypertable_compression_settings;
ALTER TABLE m SET (timescaledb.segmentby = '');
SELECT segmentby, orderby FROM timescaledb_information.hypertable_compression_settings;

-- chunk_interval through ALTER TABLE, as set_chunk_time_interval.
ALTER TABLE m SET (timescaledb.chunk_interval = '1 day');
SELECT time_interval FROM timescaledb_information.dimensions WHERE hypertable_name = 'm';

-- decompress_chunk of an uncompressed chunk: NOTICE and NULL, or 55000 with if_compressed => false.
INSERT INTO m VALUES ('2024-01-01', 1, 'a', 1);
SELECT decompress_chunk(c) FROM show_chunks('m') c;
SELECT decompress_chunk(c, if_compressed => false) FROM show_chunks('m') c;
-- With a chunk in the columnstore the columnstore cannot be disabled (0A000), and nothing changed.
SELECT compress_chunk(c) FROM show_chunks('m') c;
ALTER TABLE m SET (timescaledb.compress = false);
SELECT compression_enabled FROM timescaledb_information.hypertables;
SELECT decompress_chunk(c) FROM show_chunks('m') c;

-- Disable: settings gone; compress_chunk then says the columnstore is not enabled.
ALTER TABLE m SET (timescaledb.compress = false);
SELECT count(*) FROM timescaledb_information.hypertable_compression_settings;
SELECT compress_chunk(c) FROM show_chunks('m') c;

-- IF EXISTS on a missing table: NOTICE; without it 42P01.
ALTER TABLE IF EXISTS nothere SET (timescaledb.compress);
ALTER TABLE nothere SET (timescaledb.compress);

-- CREATE TABLE … WITH turns the columnstore on by default (TimescaleDB 2.20+), with its settings.
CREATE TABLE w (time timestamptz NOT NULL, device int, v float8) WITH (tsdb.hypertable, tsdb.segmentby = 'device', tsdb.orderby = 'time DESC');
CREATE TABLE w2 (time timestamptz NOT NULL, device int) WITH (tsdb.hypertable, tsdb.columnstore = false);
CREATE TABLE w3 (time timestamptz NOT NULL, device int) WITH (tsdb.hypertable);
SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables ORDER BY 1;
SELECT hypertable, segmentby, orderby FROM timescaledb_information.hypertable_compression_settings ORDER BY 1;
CREATE TABLE w4 (time timestamptz NOT NULL, device int) WITH (tsdb.hypertable, tsdb.segmentby = 'device', tsdb.orderby = 'device');
CREATE TABLE w5 (time timestamptz NOT NULL, device int) WITH (tsdb.hypertable, tsdb.sparse_index = 'minmax(device)');
SELECT count(*) FROM pg_class WHERE relname IN ('w4', 'w5');
-- DROP TABLE removes the settings with the hypertable.
DROP TABLE w;
SELECT hypertable FROM timescaledb_information.hypertable_compression_settings ORDER BY 1;
