-- show_chunks / drop_chunks (timescale_api.md §1.1, errors §3.2): whole chunks only. older_than takes
-- the chunks whose range ends at or before the cut-off; newer_than those starting at or after it.
CREATE EXTENSION timescaledb;
SET TIME ZONE 'UTC';

CREATE TABLE conditions (time timestamptz NOT NULL, device int, temp float8);
SELECT create_hypertable('conditions', by_range('time', INTERVAL '1 day'));
-- One row per day from 2024-01-01 to 2024-01-05, at noon: five 1-day chunks.
INSERT INTO conditions SELECT TIMESTAMPTZ '2024-01-01 12:00' + i * INTERVAL '1 day', i, i FROM generate_series(0, 4) i;
SELECT _timescaledb_functions.route_default_rows('conditions');
SELECT * FROM show_chunks('conditions');
SELECT show_chunks('conditions', older_than => TIMESTAMPTZ '2024-01-03');
-- A cut-off inside a chunk does not select it (its range ends after the cut-off).
SELECT show_chunks('conditions', older_than => TIMESTAMPTZ '2024-01-03 12:00');
SELECT show_chunks('conditions', newer_than => TIMESTAMPTZ '2024-01-04');
SELECT show_chunks('conditions', newer_than => TIMESTAMPTZ '2024-01-03 12:00');
SELECT show_chunks('conditions', older_than => TIMESTAMPTZ '2024-01-05', newer_than => TIMESTAMPTZ '2024-01-02');
-- Positional arguments; an INTERVAL means now() - interval (everything is older than a day ago).
SELECT count(*) FROM show_chunks('conditions', INTERVAL '1 day');
SELECT count(*) FROM show_chunks('conditions', NULL, INTERVAL '1 day');
-- Types PostgreSQL casts implicitly to the column type are accepted (timestamp and date here).
SELECT show_chunks('conditions', older_than => TIMESTAMP '2024-01-03');
SELECT show_chunks('conditions', newer_than => DATE '2024-01-05');
-- created_before / created_after compare the chunks' creation time.
SELECT count(*) FROM show_chunks('conditions', created_before => now() + INTERVAL '1 hour');
SELECT count(*) FROM show_chunks('conditions', created_after => INTERVAL '1 hour');
SELECT count(*) FROM show_chunks('conditions', created_before => INTERVAL '1 hour');

-- 22023: wrong argument types, a backwards range, and mixing the two kinds of bounds.
SELECT show_chunks('conditions', older_than => 5);
SELECT show_chunks('conditions', older_than => TIMESTAMPTZ '2024-01-02', newer_than => TIMESTAMPTZ '2024-01-04');
SELECT show_chunks('conditions', older_than => TIMESTAMPTZ '2024-01-02', created_before => now());
-- TS001: not a hypertable; 42883: the 1.x argument order.
CREATE TABLE plain (time timestamptz);
SELECT show_chunks('plain');
SELECT drop_chunks(INTERVAL '1 day');

-- drop_chunks returns the schema-qualified names of the chunks it dropped; rows in them are gone,
-- rows in chunks that straddle the cut-off stay.
SELECT drop_chunks('conditions', older_than => TIMESTAMPTZ '2024-01-03 06:00');
SELECT time FROM conditions ORDER BY time;
SELECT count(*) FROM _timescaledb_catalog.chunk;
SELECT to_regclass('_timescaledb_internal._hyper_1_1_chunk');
SELECT drop_chunks('conditions', newer_than => TIMESTAMPTZ '2024-01-05', verbose => true);
SELECT * FROM show_chunks('conditions');
-- Nothing to drop: an empty result.
SELECT drop_chunks('conditions', older_than => TIMESTAMPTZ '2000-01-01');
-- 22023: no bound.
SELECT drop_chunks('conditions');
-- A dropped range gets a new chunk when rows come back.
INSERT INTO conditions VALUES ('2024-01-01 08:00', 9, 9);
SELECT _timescaledb_functions.route_default_rows('conditions');
SELECT tableoid::regclass AS chunk, time FROM conditions ORDER BY time;
SELECT drop_chunks('conditions', INTERVAL '1 day');
SELECT count(*) FROM conditions;

-- Integer hypertables take integer cut-offs (any integer type); an INTERVAL is 22023.
CREATE TABLE ticks (t integer NOT NULL, v int);
SELECT create_hypertable('ticks', 't', chunk_time_interval => 100);
INSERT INTO ticks SELECT i * 100, i FROM generate_series(0, 3) i;
SELECT _timescaledb_functions.route_default_rows('ticks');
SELECT show_chunks('ticks', older_than => 200);
SELECT show_chunks('ticks', newer_than => 150::smallint);
-- bigint does not cast implicitly to integer: 22023.
SELECT show_chunks('ticks', newer_than => 150::bigint);
SELECT show_chunks('ticks', older_than => INTERVAL '1 day');
SELECT show_chunks('ticks', created_before => 100);
SELECT drop_chunks('ticks', 200);
SELECT t FROM ticks ORDER BY t;

-- Date hypertables take dates.
CREATE TABLE daily (day date NOT NULL);
SELECT create_hypertable('daily', 'day');
INSERT INTO daily VALUES ('2024-01-01'), ('2024-01-10');
SELECT _timescaledb_functions.route_default_rows('daily');
SELECT show_chunks('daily', older_than => DATE '2024-01-05');
SELECT drop_chunks('daily', older_than => DATE '2024-01-05');
SELECT day FROM daily;
SELECT show_chunks('daily', older_than => TIMESTAMPTZ '2024-01-05');

-- Untyped literals as cut-offs are read as the time column's type, as in TimescaleDB (Orbit's SQL layer
-- marks them; the functions themselves take only typed values).
CREATE TABLE lit (time timestamptz NOT NULL, v int);
SELECT create_hypertable('lit', by_range('time', INTERVAL '1 day'));
INSERT INTO lit VALUES ('2024-01-01 12:00', 1), ('2024-01-02 12:00', 2), ('2024-01-03 12:00', 3);
SELECT count(*) FROM show_chunks('lit', older_than => '2024-01-02');
SELECT count(*) FROM show_chunks('lit', '2024-01-03', '2024-01-02');
SELECT count(*) FROM show_chunks('lit', created_before => '2000-01-01');
-- Not a time of the column's type: its input error (22007).
SELECT count(*) FROM show_chunks('lit', older_than => '3 days');
SELECT count(*) FROM drop_chunks('lit', older_than => '2024-01-02');
SELECT count(*) FROM show_chunks('lit');
CREATE TABLE lit_int (t bigint NOT NULL, v int);
SELECT create_hypertable('lit_int', by_range('t', 10));
INSERT INTO lit_int VALUES (5, 1), (15, 2), (25, 3);
SELECT count(*) FROM show_chunks('lit_int', older_than => '20');
SELECT count(*) FROM drop_chunks('lit_int', newer_than => '10');
SELECT count(*) FROM show_chunks('lit_int');
