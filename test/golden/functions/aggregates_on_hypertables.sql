-- TimescaleDB's aggregates and PostgreSQL's own ones over hypertables with many chunks: pre-epoch and
-- DST days, every result under several session TimeZones, negative integer time, and per-chunk partial
-- aggregation (enable_partitionwise_aggregate, as TimescaleDB's agg_bookends test does), which goes
-- through the combine functions. Expected values by hand: the data is generated so that each answer
-- can be read off the generating expression (noted next to the queries).
SET TIME ZONE 'UTC';
CREATE EXTENSION timescaledb;

-- Readings every 6 hours from 1969-12-29 to 1970-01-02 (pre-epoch across the epoch) and every
-- 30 minutes through the Europe/Berlin fall-back night 2021-10-30 22:00 .. 2021-10-31 03:30 UTC.
-- v is the hour count since the first reading, so first/last/percentiles follow from the times.
CREATE TABLE readings (t timestamptz NOT NULL, device text NOT NULL, v double precision, note text);
SELECT table_name FROM create_hypertable('readings', 't', chunk_time_interval => INTERVAL '1 day');
INSERT INTO readings
SELECT t, CASE WHEN n % 2 = 0 THEN 'a' ELSE 'b' END, extract(epoch FROM t - TIMESTAMPTZ '1969-12-29') / 3600, 'n' || n
FROM generate_series(TIMESTAMPTZ '1969-12-29', '1970-01-02', INTERVAL '6 hours') WITH ORDINALITY AS g(t, n);
INSERT INTO readings
SELECT t, CASE WHEN n % 2 = 0 THEN 'a' ELSE 'b' END, n, NULL
FROM generate_series(TIMESTAMPTZ '2021-10-30 22:00+00', '2021-10-31 03:30+00', INTERVAL '30 minutes') WITH ORDINALITY AS g(t, n);
-- One chunk per UTC day that has rows: 1969-12-29 .. 1970-01-02, 2021-10-30, 2021-10-31.
SELECT count(*) AS chunks FROM show_chunks('readings');
SELECT count(*) AS rows, count(DISTINCT tableoid) AS chunks_read FROM readings;

-------------------------------------------------------------------------------
-- first / last / histogram across chunks
-------------------------------------------------------------------------------
-- The first reading is 1969-12-29 00:00 (v 0, n1), the last 2021-10-31 03:30 UTC (v 12, the 12th).
SELECT first(v, t) AS fv, last(v, t) AS lv, first(note, t) AS fnote, last(t, t) AS lt, first(device, t) AS fd FROM readings;
SELECT device, first(v, t) AS fv, last(v, t) AS lv, first(t, t) AS ft, last(t, t) AS lt FROM readings GROUP BY device ORDER BY device;
-- Only pre-epoch rows.
SELECT first(v, t) AS fv, last(v, t) AS lv, last(t, t) AS lt FROM readings WHERE t < 'epoch';
-- Per UTC day, with time_bucket: the pre-epoch days too.
SELECT time_bucket('1 day', t) AS day, first(v, t) AS fv, last(v, t) AS lv, count(*) AS n
FROM readings WHERE t < '2000-01-01' GROUP BY 1 ORDER BY 1;
SELECT histogram(v, 0, 96, 4) AS pre_epoch, histogram(v, 1, 13, 3) AS dst_night FROM readings;
SELECT device, histogram(v, 0, 100, 2) FROM readings GROUP BY device ORDER BY device;

-------------------------------------------------------------------------------
-- The same in other session time zones: results are instants, only their display changes.
-------------------------------------------------------------------------------
SET TIME ZONE 'Europe/Berlin';
SELECT first(v, t) AS fv, last(v, t) AS lv, first(t, t) AS ft, last(t, t) AS lt FROM readings;
-- Local days (time_bucket with a time zone): the fall-back day 2021-10-31 has 25 hours.
SELECT time_bucket('1 day', t, 'Europe/Berlin') AS local_day, first(t, t) AS ft, last(t, t) AS lt, count(*) AS n,
       first(v, t) AS fv, last(v, t) AS lv
FROM readings WHERE t > '2021-01-01' GROUP BY 1 ORDER BY 1;
-- Ordered by local wall-clock time the repeated hour 02:00-03:00 ties with itself.
SELECT first(v, t::timestamp) AS fv_local, last(v, t::timestamp) AS lv_local FROM readings WHERE t > '2021-01-01';
SELECT last(v, t::timestamp) AS lv_local FROM readings WHERE t BETWEEN '2021-10-31 00:00+00' AND '2021-10-31 01:59+00';
SET TIME ZONE 'America/Los_Angeles';
SELECT first(v, t) AS fv, last(v, t) AS lv, first(t, t) AS ft, last(t, t) AS lt FROM readings;
SELECT time_bucket('1 day', t) AS utc_day, first(v, t) AS fv, last(v, t) AS lv FROM readings WHERE t > '2021-01-01' GROUP BY 1 ORDER BY 1;
SET TIME ZONE 'Pacific/Chatham';
SELECT last(t, t) AS lt, first(t::date, t) AS local_date FROM readings;
SET TIME ZONE 'UTC';

-------------------------------------------------------------------------------
-- PostgreSQL's aggregates over the hypertable
-------------------------------------------------------------------------------
-- Pre-epoch rows: v = 0, 6, 12, ..., 96 (17 rows).
SELECT count(v) AS n, sum(v) AS sum, avg(v) AS avg, min(v) AS min, max(v) AS max,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS median,
       percentile_cont(ARRAY[0.25, 0.75]) WITHIN GROUP (ORDER BY v) AS quartiles,
       percentile_disc(0.1) WITHIN GROUP (ORDER BY v) AS p10
FROM readings WHERE t < '1970-01-03';
-- Population stddev of 0, 6, .., 96 is 6 * sqrt((17^2 - 1) / 12) = 6 * sqrt(24); corr with time is 1.
SELECT round(stddev_pop(v)::numeric, 10) AS sd_pop, round((6 * sqrt(24))::numeric, 10) AS expected,
       round(var_samp(v)::numeric, 6) AS var_samp, round(corr(v, extract(epoch FROM t))::numeric, 12) AS corr,
       round(regr_slope(v, extract(epoch FROM t))::numeric * 3600, 12) AS per_hour,
       round(regr_intercept(v, extract(epoch FROM t) - extract(epoch FROM TIMESTAMPTZ '1969-12-29'))::numeric, 9) AS intercept
FROM readings WHERE t < '1970-01-03';
SELECT device, string_agg(note, ',' ORDER BY t) AS notes, array_agg(v ORDER BY t DESC) AS vs,
       mode() WITHIN GROUP (ORDER BY v::integer % 4) AS mode, bool_and(v >= 0) AS all_nonneg, every(note LIKE 'n%') AS every
FROM readings WHERE t < '1970-01-01' GROUP BY device ORDER BY device;
SELECT json_agg(v ORDER BY t) AS j, jsonb_object_agg(note, v ORDER BY t) AS o, bit_or(v::integer) AS bits, count(DISTINCT device) AS devices
FROM readings WHERE t BETWEEN '1969-12-31' AND '1970-01-01';
-- Hypothetical-set and grouping sets over chunks.
SELECT rank(12) WITHIN GROUP (ORDER BY v) AS rank, cume_dist(12) WITHIN GROUP (ORDER BY v) AS cume FROM readings WHERE t > '2021-01-01';
SELECT device, time_bucket('1 day', t) AS day, count(*) AS n, last(v, t) AS lv
FROM readings WHERE t > '2021-01-01' GROUP BY ROLLUP (device, time_bucket('1 day', t)) ORDER BY device NULLS LAST, day NULLS LAST;

-------------------------------------------------------------------------------
-- Partial aggregation per chunk goes through the combine functions; the results do not change.
-------------------------------------------------------------------------------
-- With enough rows the planner aggregates each chunk on its own (Partial Aggregate per chunk, then a
-- Finalize Aggregate that combines them; checked with EXPLAIN when this file was written). One row a
-- minute from 1969-12-30 to 1970-01-02 12:00 (4 chunks), v = the minute's number, 0 .. 5040.
CREATE TABLE minutes (t timestamptz NOT NULL, v integer, parity text);
SELECT table_name FROM create_hypertable('minutes', 't', chunk_time_interval => INTERVAL '1 day');
INSERT INTO minutes SELECT t, n - 1, CASE WHEN n % 2 = 0 THEN 'even' ELSE 'odd' END
FROM generate_series(TIMESTAMPTZ '1969-12-30', '1970-01-02 12:00', INTERVAL '1 minute') WITH ORDINALITY AS g(t, n);
ANALYZE minutes;
SET enable_partitionwise_aggregate = on;
SELECT first(v, t) AS fv, last(v, t) AS lv, first(t, v) AS ft, last(t, -v) AS lt, histogram(v, 0, 5040, 3) AS h, count(*) AS n FROM minutes;
SELECT parity, first(v, t) AS fv, last(v, t) AS lv, histogram(v, 0, 5040, 3) AS h FROM minutes GROUP BY parity ORDER BY parity;
-- Ties across chunks: the partial result of the earlier chunk is kept, as a sequential scan would.
SELECT first(v, parity) AS first_even, last(v, parity) AS first_odd FROM minutes;
SET enable_hashagg = off;
SELECT parity, first(v, t) AS fv, last(v, t) AS lv, histogram(v, 0, 5040, 3) AS h FROM minutes GROUP BY parity ORDER BY parity;
RESET enable_hashagg;
SELECT device, first(v, t) AS fv, last(v, t) AS lv, first(note, t) AS fnote, histogram(v, 0, 100, 2) AS h,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS median, round(stddev(v)::numeric, 6) AS sd
FROM readings GROUP BY device ORDER BY device;
SELECT first(v, t) AS fv, last(v, t) AS lv, histogram(v, 0, 96, 4) AS h, count(*) AS n FROM readings;
-- TimescaleDB's partial_aggregation test: NULL values and text orderings across yearly chunks.
CREATE TABLE partial_aggregation (time timestamptz NOT NULL, quantity numeric, longvalue text);
SELECT table_name FROM create_hypertable('partial_aggregation', 'time', chunk_time_interval => INTERVAL '30 days');
INSERT INTO partial_aggregation VALUES ('2018-01-20T09:00:43', NULL, NULL), ('2018-01-20T09:00:43', NULL, NULL),
  ('2019-01-20T09:00:43', 1, 'hello'), ('2019-01-20T09:00:43', 2, 'world'), ('2020-01-20T09:00:43', 3, 'some'),
  ('2020-01-20T09:00:43', 3, 'more'), ('2021-01-20T09:00:43', 3, 'some'), ('2021-01-20T09:00:43', 3, 'more'),
  ('2022-01-20T09:00:43', 4, 'words'), ('2022-01-20T09:00:43', 5, 'words'), ('2023-01-20T09:00:43', 6, 'words'),
  ('2023-01-20T09:00:43', 7, 'words');
SELECT first(time, quantity) AS f, last(time, quantity) AS l, last(longvalue, quantity) AS lv, last(quantity, longvalue) AS lq,
       last(quantity, time) AS lqt, last(time, longvalue) AS ltl FROM partial_aggregation;
SELECT time_bucket('1 year', time) AS year, last(quantity, time) AS lq, first(longvalue, time) AS fl
FROM partial_aggregation WHERE time < '2021-01-01' GROUP BY 1 ORDER BY 1;
SELECT longvalue, last(quantity, time) AS lq FROM partial_aggregation WHERE quantity IS NOT NULL GROUP BY 1 ORDER BY 1;
SET enable_partitionwise_aggregate = off;

-------------------------------------------------------------------------------
-- Integer time with negative values
-------------------------------------------------------------------------------
CREATE TABLE ticks (t bigint NOT NULL, v integer);
SELECT table_name FROM create_hypertable('ticks', 't', chunk_time_interval => 10);
INSERT INTO ticks SELECT x, x * x FROM generate_series(-25, 14) x;
SELECT count(*) AS chunks FROM show_chunks('ticks');
SELECT first(v, t) AS fv, last(v, t) AS lv, first(t, v) AS t_of_min_v, last(t, v) AS t_of_max_v FROM ticks;
SELECT time_bucket(10, t) AS bucket, first(v, t) AS fv, last(v, t) AS lv, histogram(t, -30, 20, 5) AS h
FROM ticks GROUP BY 1 ORDER BY 1;
SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY t) AS median_t, stddev_pop(t) AS sd_t, sum(v) AS sum_v FROM ticks;
