-- Compression (timescale_api.md §1.3, errors §3.4): compress_chunk / decompress_chunk and the
-- convert_to_* procedures, the stats functions and chunks.is_compressed, and the same rows from every
-- query before and after compression, with late inserts, UPDATE and DELETE on compressed chunks.
CREATE EXTENSION timescaledb;
SET timezone TO 'UTC';
CREATE TABLE cpu (time timestamptz NOT NULL, host text, usage float8, temp numeric(5,2), n int, flag bool, tags jsonb);
SELECT create_hypertable('cpu', 'time', chunk_time_interval => INTERVAL '1 day');
INSERT INTO cpu
SELECT '2024-03-08 00:00+00'::timestamptz + i * INTERVAL '7 minutes', 'h' || (i % 4),
  CASE WHEN i % 97 = 0 THEN NULL WHEN i % 89 = 0 THEN 'NaN' ELSE round((i * 37 % 1000) / 10.0, 1) END,
  (i % 500) / 7.0, i, i % 3 = 0, CASE WHEN i % 5 = 0 THEN jsonb_build_object('i', i) END
FROM generate_series(0, 2000) i;

-- Before: the reference answers.
SELECT count(*), count(usage), sum(n), min(time), max(time) FROM cpu;
SELECT host, count(*), sum(temp), max(usage), min(usage) FROM cpu GROUP BY host ORDER BY host;
SELECT time_bucket('6 hours', time) AS b, avg(n), count(flag) FILTER (WHERE flag) FROM cpu GROUP BY b ORDER BY b LIMIT 8;
SELECT * FROM cpu WHERE time BETWEEN '2024-03-09 10:00' AND '2024-03-09 11:00' ORDER BY time;
SELECT * FROM cpu ORDER BY time DESC LIMIT 5;
SELECT DISTINCT ON (host) host, time, usage FROM cpu ORDER BY host, time DESC;
SELECT count(*) FROM cpu WHERE tags ? 'i';

-- compress_chunk needs the columnstore enabled (0A000).
SELECT compress_chunk(c) FROM show_chunks('cpu') c;
ALTER TABLE cpu SET (timescaledb.compress, timescaledb.compress_segmentby = 'host', timescaledb.compress_orderby = 'time DESC');
SELECT chunk_name, is_compressed FROM timescaledb_information.chunks ORDER BY chunk_name;

-- Compress the three oldest chunks; again: NOTICE, or 42710 with if_not_compressed => false.
SELECT compress_chunk(c) FROM show_chunks('cpu', older_than => '2024-03-10'::timestamptz) c;
SELECT chunk_name, is_compressed FROM timescaledb_information.chunks ORDER BY chunk_name;
SELECT compress_chunk('_timescaledb_internal._hyper_1_1_chunk');
SELECT compress_chunk('_timescaledb_internal._hyper_1_1_chunk', if_not_compressed => false);
SELECT compress_chunk('cpu');
SELECT chunk_name, compression_status, before_compression_total_bytes > 0 AS had_bytes,
  after_compression_total_bytes < before_compression_total_bytes AS smaller, after_compression_index_bytes
FROM chunk_compression_stats('cpu') ORDER BY chunk_name;
SELECT total_chunks, number_compressed_chunks FROM hypertable_compression_stats('cpu');
SELECT total_chunks, number_compressed_chunks FROM hypertable_columnstore_stats('cpu');
-- The rows are in Orbit's batches (at most 1,000 rows per segment each).
SELECT chunk_id, row_count, batch_count FROM _timescaledb_catalog.orbit_columnstore_chunk ORDER BY chunk_id;

-- After: the same answers.
SELECT count(*), count(usage), sum(n), min(time), max(time) FROM cpu;
SELECT host, count(*), sum(temp), max(usage), min(usage) FROM cpu GROUP BY host ORDER BY host;
SELECT time_bucket('6 hours', time) AS b, avg(n), count(flag) FILTER (WHERE flag) FROM cpu GROUP BY b ORDER BY b LIMIT 8;
SELECT * FROM cpu WHERE time BETWEEN '2024-03-09 10:00' AND '2024-03-09 11:00' ORDER BY time;
SELECT * FROM cpu ORDER BY time DESC LIMIT 5;
SELECT DISTINCT ON (host) host, time, usage FROM cpu ORDER BY host, time DESC;
SELECT count(*) FROM cpu WHERE tags ? 'i';
-- Aliases, joins, subqueries and CTEs that read the hypertable.
SELECT c.host, count(*) FROM cpu AS c JOIN (SELECT DISTINCT host FROM cpu WHERE n < 10) h ON h.host = c.host GROUP BY c.host ORDER BY 1;
SELECT count(*) FROM cpu WHERE n IN (SELECT n FROM cpu WHERE n % 500 = 0);
WITH recent AS (SELECT * FROM cpu WHERE time < '2024-03-09') SELECT count(*), max(cpu.n) FROM recent cpu;
SELECT count(*) FROM cpu x(a, b, c);

-- Late rows into a compressed chunk are visible with the batches; compress_chunk recompresses.
INSERT INTO cpu VALUES ('2024-03-08 00:01+00', 'late', 1.5, 1.25, -1, true, '{}');
SELECT count(*), sum(n) FROM cpu;
SELECT compress_chunk('_timescaledb_internal._hyper_1_1_chunk');
SELECT count(*), sum(n) FROM cpu;
SELECT * FROM cpu WHERE host = 'late';

-- Reading a compressed chunk by name, or a view over the hypertable: refused (0A000), not wrong.
SELECT count(*) FROM _timescaledb_internal._hyper_1_1_chunk;
CREATE VIEW cpu_view AS SELECT host, n FROM cpu;
SELECT count(*) FROM cpu_view;
DROP VIEW cpu_view;
-- Renaming or retyping columns while chunks are compressed: refused (0A000).
ALTER TABLE cpu RENAME COLUMN n TO m;
ALTER TABLE cpu ALTER COLUMN n TYPE bigint;
-- Columns added or dropped after compression: compressed rows show the default of ADD COLUMN (a
-- later SET DEFAULT changes only new rows); a non-constant default is refused (0A000).
ALTER TABLE cpu ADD COLUMN extra int DEFAULT 7;
ALTER TABLE cpu ALTER COLUMN extra SET DEFAULT 9;
ALTER TABLE cpu ADD COLUMN noise float8 DEFAULT random();
SELECT count(*), sum(extra), min(extra) FROM cpu;
SELECT extra, count(*) FROM cpu WHERE time < '2024-03-09' GROUP BY extra;
ALTER TABLE cpu DROP COLUMN extra;
SELECT count(*), sum(n) FROM cpu;
-- A unique index: a row conflicting with a compressed one fails (23505) and ON CONFLICT sees the
-- compressed rows (the chunk the inserted times fall in is decompressed first); a row elsewhere in
-- time leaves the compressed chunks alone; COPY decompresses them all.
CREATE TABLE u (time timestamptz NOT NULL, id int, v int, PRIMARY KEY (id, time));
SELECT create_hypertable('u', 'time', chunk_time_interval => INTERVAL '1 day');
ALTER TABLE u SET (timescaledb.compress, timescaledb.compress_segmentby = 'id');
INSERT INTO u VALUES ('2024-01-01', 1, 10), ('2024-01-01', 2, 20), ('2024-01-05', 1, 50);
SELECT count(compress_chunk(c)) FROM show_chunks('u') c;
INSERT INTO u VALUES ('2024-01-01', 1, 11);
INSERT INTO u VALUES ('2024-01-01', 1, 12), ('2024-01-01', 3, 30) ON CONFLICT (id, time) DO UPDATE SET v = excluded.v;
SELECT * FROM u ORDER BY time, id;
SELECT chunk_name, is_compressed FROM timescaledb_information.chunks WHERE hypertable_name = 'u' ORDER BY range_start;
INSERT INTO u VALUES ('2024-02-01', 1, 1);
SELECT chunk_name, is_compressed FROM timescaledb_information.chunks WHERE hypertable_name = 'u' ORDER BY range_start;
INSERT INTO u SELECT '2024-01-05', 1, 0 ON CONFLICT DO NOTHING;
SELECT * FROM u ORDER BY time, id;
SELECT chunk_name, is_compressed FROM timescaledb_information.chunks WHERE hypertable_name = 'u' ORDER BY range_start;

-- UPDATE and DELETE decompress the compressed chunks they write, within the limit (53400).
SET timescaledb.max_tuples_decompressed_per_dml_transaction = 100;
UPDATE cpu SET usage = 0 WHERE n = 5;
SET timescaledb.max_tuples_decompressed_per_dml_transaction = 0;
SET timescaledb.enable_dml_decompression = off;
DELETE FROM cpu WHERE n = 5;
RESET timescaledb.enable_dml_decompression;
UPDATE cpu SET usage = 0 WHERE n = 5;
DELETE FROM cpu WHERE n = 6;
SELECT count(*), sum(n), round(sum(usage) FILTER (WHERE n < 10)::numeric, 6) FROM cpu;
SELECT chunk_name, is_compressed FROM timescaledb_information.chunks ORDER BY chunk_name;

-- Inside a transaction block: the conversion happens at commit; a rollback forgets it.
BEGIN;
SELECT compress_chunk(c) FROM show_chunks('cpu') c;
SELECT count(*) FILTER (WHERE is_compressed) FROM timescaledb_information.chunks;
ROLLBACK;
SELECT count(*) FILTER (WHERE is_compressed) FROM timescaledb_information.chunks;
BEGIN;
SELECT compress_chunk(c) FROM show_chunks('cpu') c;
SELECT count(*), sum(n) FROM cpu;
COMMIT;
SELECT count(*) FILTER (WHERE is_compressed) FROM timescaledb_information.chunks;
SELECT count(*), sum(n) FROM cpu;

-- UPDATE, DELETE and MERGE decompress only the batches their conditions on segmentby and time
-- columns can reach: the chunks stay in the columnstore, the limit counts only those batches' rows.
SET timescaledb.max_tuples_decompressed_per_dml_transaction = 110;
SELECT sum(row_count), sum(batch_count) FROM _timescaledb_catalog.orbit_columnstore_chunk;
DELETE FROM cpu WHERE host = 'h1' AND time >= '2024-03-09' AND time < '2024-03-10';
SELECT sum(row_count), sum(batch_count) FROM _timescaledb_catalog.orbit_columnstore_chunk;
UPDATE cpu SET usage = -1 WHERE host IN ('h2', 'h3') AND time BETWEEN '2024-03-10 00:00' AND '2024-03-10 06:00';
SELECT sum(row_count), sum(batch_count) FROM _timescaledb_catalog.orbit_columnstore_chunk;
UPDATE cpu SET usage = -2 WHERE host IN ('h2', 'h3') AND time >= '2024-03-10 00:00' AND time < '2024-03-11 12:00';
UPDATE cpu SET usage = -2 WHERE n = 700;
UPDATE cpu SET usage = -2 WHERE host = 'h0' AND time < '2024-03-08' + random() * INTERVAL '1 day';
DELETE FROM cpu WHERE host = NULL;
MERGE INTO cpu c USING (VALUES ('2024-03-11 00:20+00'::timestamptz, 7)) s(t, x) ON c.time = s.t AND c.host = 'h0'
  AND c.time >= '2024-03-11' AND c.time < '2024-03-12'
  WHEN MATCHED THEN UPDATE SET usage = s.x;
SELECT sum(row_count), sum(batch_count) FROM _timescaledb_catalog.orbit_columnstore_chunk;
SELECT host, count(*), sum(n), count(*) FILTER (WHERE usage = -2) AS updated, count(*) FILTER (WHERE usage = 7 AND n = 620) AS merged FROM cpu GROUP BY host ORDER BY host;
SELECT * FROM cpu WHERE time BETWEEN '2024-03-10 05:00' AND '2024-03-10 06:10' ORDER BY time;
SELECT count(*) FILTER (WHERE is_compressed) FROM timescaledb_information.chunks;
-- A rollback points the chunk back at its previous batches.
BEGIN;
DELETE FROM cpu WHERE host = 'h0' AND time < '2024-03-09';
SELECT count(*) FROM cpu WHERE host = 'h0';
ROLLBACK;
SELECT count(*) FROM cpu WHERE host = 'h0';
SELECT sum(row_count), sum(batch_count) FROM _timescaledb_catalog.orbit_columnstore_chunk;
RESET timescaledb.max_tuples_decompressed_per_dml_transaction;

-- The procedures; decompress_chunk back to the rowstore gives the same rows.
CALL convert_to_rowstore('_timescaledb_internal._hyper_1_4_chunk');
CALL convert_to_rowstore('_timescaledb_internal._hyper_1_4_chunk');
CALL convert_to_columnstore('_timescaledb_internal._hyper_1_4_chunk');
SELECT decompress_chunk(c) FROM show_chunks('cpu') c;
SELECT chunk_name, is_compressed FROM timescaledb_information.chunks ORDER BY chunk_name;
SELECT count(*), count(usage), sum(n), min(time), max(time) FROM cpu;
SELECT host, count(*), sum(temp), max(usage), min(usage) FROM cpu GROUP BY host ORDER BY host;
SELECT * FROM cpu WHERE time BETWEEN '2024-03-09 10:00' AND '2024-03-09 11:00' ORDER BY time;
SELECT count(*) FROM _timescaledb_internal._hyper_1_2_chunk;

-- SQL PREPARE/EXECUTE of a DELETE writes compressed rows too (prepared before and after compression).
PREPARE del_host(text) AS DELETE FROM cpu WHERE host = $1 AND time < '2024-03-09';
SELECT count(compress_chunk(c)) FROM show_chunks('cpu') c;
EXECUTE del_host('h1');
SELECT host, count(*) FROM cpu WHERE time < '2024-03-09' GROUP BY host ORDER BY host;
DEALLOCATE del_host;

-- drop_chunks of compressed chunks, and disabling once nothing is compressed.
SELECT compress_chunk(c) FROM show_chunks('cpu') c;
SELECT count(*) FROM drop_chunks('cpu', older_than => '2024-03-09'::timestamptz);
SELECT count(*), min(time) FROM cpu;
SELECT decompress_chunk(c) FROM show_chunks('cpu') c;
ALTER TABLE cpu SET (timescaledb.compress = false);
SELECT count(*), min(time) FROM cpu;
