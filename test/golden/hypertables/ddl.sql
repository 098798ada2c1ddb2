-- DDL on a hypertable reaches every chunk (issue: ALTER TABLE ADD/DROP/RENAME COLUMN, TRUNCATE,
-- DROP TABLE), and chunks created later follow the hypertable's current definition.
CREATE EXTENSION timescaledb;
SET TIME ZONE 'UTC';
CREATE TABLE cond (time timestamptz NOT NULL, device int, temp float8);
SELECT create_hypertable('cond', by_range('time', INTERVAL '1 day'));
INSERT INTO cond VALUES ('2024-01-01 10:00', 1, 20.5), ('2024-01-02 10:00', 2, 21.5);

-- ADD COLUMN with a default: old rows in every chunk see it, new chunks have it.
ALTER TABLE cond ADD COLUMN humidity float8 DEFAULT 50;
INSERT INTO cond VALUES ('2024-01-03 10:00', 3, 22.5, 60);
SELECT tableoid::regclass AS chunk, time, device, temp, humidity FROM cond ORDER BY time;
SELECT humidity FROM _timescaledb_internal._hyper_1_1_chunk;
SELECT c.relname, count(a.attname) AS columns
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE i.inhparent = 'cond'::regclass GROUP BY c.relname ORDER BY c.relname;

-- RENAME COLUMN and DROP COLUMN.
ALTER TABLE cond RENAME COLUMN temp TO temperature;
ALTER TABLE cond DROP COLUMN humidity;
SELECT * FROM _timescaledb_internal._hyper_1_2_chunk;
SELECT attname FROM pg_attribute WHERE attrelid = '_timescaledb_internal._hyper_1_3_chunk'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
-- The time column cannot be dropped (it partitions the table).
ALTER TABLE cond DROP COLUMN time;

-- A new index reaches every chunk.
CREATE INDEX cond_device_idx ON cond (device, time DESC);
SELECT count(*) FROM pg_index i JOIN pg_inherits h ON h.inhrelid = i.indrelid
WHERE h.inhparent = 'cond'::regclass AND pg_get_indexdef(i.indexrelid) LIKE '%(device, "time" DESC)%';

-- ALTER COLUMN TYPE reaches every chunk.
ALTER TABLE cond ALTER COLUMN temperature TYPE numeric(6,2);
SELECT temperature FROM cond ORDER BY time;

-- Sizes: pg_total_relation_size on the hypertable itself counts no chunk (in TimescaleDB too the
-- chunks are separate tables; there the root heap and its index add a few pages, here the root has
-- no storage of its own: 0); hypertable_size counts the chunks.
SELECT pg_total_relation_size('cond') AS root_size, hypertable_size('cond') > 0 AS has_size;

-- TRUNCATE removes the rows and the chunks.
TRUNCATE cond;
SELECT count(*) FROM cond;
SELECT count(*) FROM show_chunks('cond');

-- DROP TABLE removes the chunks and the catalog rows.
INSERT INTO cond VALUES ('2024-02-01 10:00', 1, 1);
DROP TABLE cond;
SELECT count(*) FROM _timescaledb_catalog.hypertable;
SELECT count(*) FROM _timescaledb_catalog.chunk;
SELECT count(*) FROM pg_class WHERE relnamespace = '_timescaledb_internal'::regnamespace AND relname LIKE '\_hyper\_1\_%';
