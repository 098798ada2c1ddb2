-- first(value, time) and last(value, time) (timescale_api.md §1.2). Expected values: TimescaleDB's
-- regression tests (test/sql/agg_bookends.sql and include/agg_bookends_query.sql, expected outputs in
-- test/expected/agg_bookends.out) where the query is theirs, otherwise by hand from src/agg_bookend.c:
-- the value of the row with the smallest / largest non-NULL ordering value, ties keep the row seen
-- first, a group without a non-NULL ordering value gives NULL.
SET TIME ZONE 'UTC';

-- Nothing exists before CREATE EXTENSION (42883 undefined_function).
SELECT first(x, x) FROM generate_series(1, 3) x;
CREATE EXTENSION timescaledb;

-------------------------------------------------------------------------------
-- TimescaleDB's btest (agg_bookends): a hypertable on a timestamp column.
-------------------------------------------------------------------------------
CREATE TABLE btest (time timestamp NOT NULL, time_alt timestamp, gp integer, temp float, strid text DEFAULT 'testing');
SELECT table_name FROM create_hypertable('btest', 'time');
INSERT INTO btest VALUES ('2017-01-20T09:00:01', '2017-01-20T10:00:00', 1, 22.5);
INSERT INTO btest VALUES ('2017-01-20T09:00:21', '2017-01-20T09:00:59', 1, 21.2);
INSERT INTO btest VALUES ('2017-01-20T09:00:47', '2017-01-20T09:00:58', 1, 25.1);
INSERT INTO btest VALUES ('2017-01-20T09:00:02', '2017-01-20T09:00:57', 2, 35.5);
INSERT INTO btest VALUES ('2017-01-20T09:00:21', '2017-01-20T09:00:56', 2, 30.2);
-- A TOASTed value.
INSERT INTO btest VALUES ('2017-01-20T09:00:43', '2017-01-20T09:00:55', 2, 20.1, repeat('xyz', 1000000));

SELECT last(temp, time) FROM btest;
SELECT first(temp, time) FROM btest;
SELECT last(temp, time_alt) FROM btest;
SELECT first(temp, time_alt) FROM btest;
SELECT gp, last(temp, time) FROM btest GROUP BY gp ORDER BY gp;
SELECT gp, first(temp, time) FROM btest GROUP BY gp ORDER BY gp;
-- The whole row as the value (a composite).
SELECT gp, first(btest, time) FROM btest GROUP BY gp ORDER BY gp;
SELECT gp, left(last(strid, time), 10) FROM btest GROUP BY gp ORDER BY gp;
-- Text as the ordering argument; a float as the ordering argument.
SELECT gp, last(temp, strid) FROM btest GROUP BY gp ORDER BY gp;
SELECT gp, last(strid, temp) FROM btest GROUP BY gp ORDER BY gp;

BEGIN;
-- A NULL value as the last element is the answer. (TimescaleDB's test gives this row time_alt
-- 09:00:55, equal to the 20.1 row's, so which of the two first(temp, time_alt) returns depends on
-- the scan order; 09:00:54 makes it the one smallest time_alt, whose NULL value first returns.)
INSERT INTO btest VALUES ('2018-01-20T09:00:43', '2017-01-20T09:00:54', 2, NULL);
SELECT last(temp, time) FROM btest;
-- A later non-NULL value overrides it.
INSERT INTO btest VALUES ('2019-01-20T09:00:43', '2018-01-20T09:00:55', 2, 30.5);
SELECT last(temp, time) FROM btest;
-- Rows with a NULL ordering value are skipped.
INSERT INTO btest VALUES ('2018-01-20T09:00:43', NULL, 2, 32.3);
SELECT last(temp, time_alt) FROM btest;
-- first returns the NULL value of the row with the smallest time_alt.
SELECT first(temp, time_alt) FROM btest;
INSERT INTO btest VALUES ('2016-01-20T09:00:00', '2016-01-20T09:00:00', 2, 36.5);
SELECT first(temp, time_alt) FROM btest;
INSERT INTO btest VALUES ('2020-01-20T09:00:43', '2020-01-20T09:00:43', 2, 35.3);
SELECT last(temp, time_alt) FROM btest;
SELECT first(temp, time_alt) FROM btest;
SELECT gp, last(temp, time_alt) FROM btest GROUP BY gp ORDER BY gp;
-- Constants.
SELECT first(100, 100) FROM btest;
-- As a window function.
SELECT gp, last(temp, time) OVER (PARTITION BY gp) AS last FROM btest ORDER BY gp, time LIMIT 3;
ROLLBACK;

-------------------------------------------------------------------------------
-- NULLs with numeric values and numeric ordering (agg_bookends "Test with NULL numeric values").
-------------------------------------------------------------------------------
CREATE TABLE btest_numeric (time timestamp, quantity numeric);
SELECT first(btest_numeric, time) FROM btest_numeric;
SELECT last(btest_numeric, time) FROM btest_numeric;
-- Only NULL values.
INSERT INTO btest_numeric VALUES ('2018-01-20T09:00:43', NULL), ('2018-01-20T09:00:43', NULL);
SELECT first(quantity, time) AS f, last(quantity, time) AS l, first(time, quantity) AS fq, last(time, quantity) AS lq FROM btest_numeric;
-- NULL values followed by non-NULL values.
INSERT INTO btest_numeric VALUES ('2019-01-20T09:00:43', 1), ('2019-01-20T09:00:43', 2);
SELECT first(quantity, time) AS f, last(quantity, time) AS l, first(time, quantity) AS fq, last(time, quantity) AS lq FROM btest_numeric;
-- Non-NULL values followed by NULL values.
TRUNCATE btest_numeric;
INSERT INTO btest_numeric VALUES ('2019-01-20T09:00:43', 1), ('2019-01-20T09:00:43', 2), ('2018-01-20T09:00:43', NULL), ('2018-01-20T09:00:43', NULL);
SELECT first(quantity, time) AS f, last(quantity, time) AS l, first(time, quantity) AS fq, last(time, quantity) AS lq FROM btest_numeric;

-------------------------------------------------------------------------------
-- Value types: every value comes back with its type and exactly (by hand).
-------------------------------------------------------------------------------
CREATE TYPE pair AS (a integer, b text);
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE vals (t timestamptz, i integer, f float8, r real, n numeric, s text, b boolean, j jsonb, js json,
                   arr integer[], p pair, pt point, d positive, by bytea, m mood, iv interval, u uuid, ts timestamptz);
INSERT INTO vals VALUES
  ('2020-01-01', 3, 0.1, 1.5, 1.10, 'a"b c', true, '{"a": 1}', '{"x" : [1, 2]}', '{1,NULL,3}', ROW(1, 'x y'),
   '(1,2)', 5, '\x00ff', 'ok', '1 day 2 hours', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2020-03-29 01:30+00'),
  ('2019-06-01', 1, 1e-300, -0.0, -2.5e-20, '', false, '[1, "x"]', '"s"', '{{1,2},{3,4}}', ROW(NULL, NULL),
   '(3,4)', 9, '\x', 'sad', '-1 mons', '00000000-0000-0000-0000-000000000000', '1900-01-01'),
  (NULL, 0, -1, 0, 0, 'null time', NULL, '0', '0', '{}', ROW(0, ''), '(0,0)', 1, '\xdead', 'happy', '0', NULL, NULL),
  ('2021-01-01', 7, 'NaN', 'Infinity', 'NaN', NULL, NULL, 'null', 'null', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'infinity');
SELECT first(i, t) AS i, first(f, t) AS f, first(r, t) AS r, first(n, t) AS n, first(s, t) AS s, first(b, t) AS b FROM vals;
SELECT first(j, t) AS j, first(js, t) AS js, first(arr, t) AS arr, first(p, t) AS p, first(pt, t) AS pt, first(d, t) AS d FROM vals;
SELECT first(by, t) AS by, first(m, t) AS m, first(iv, t) AS iv, first(u, t) AS u, first(ts, t) AS ts FROM vals;
SELECT last(i, t) AS i, last(f, t) AS f, last(r, t) AS r, last(n, t) AS n, last(s, t) AS s, last(b, t) AS b FROM vals;
-- A JSON null is a value, an SQL NULL value is NULL.
SELECT last(j, t) AS j, last(js, t) AS js, last(arr, t) AS arr, last(p, t) AS p, last(pt, t) AS pt, last(d, t) AS d FROM vals;
SELECT pg_typeof(first(d, t)) AS d, pg_typeof(first(p, t)) AS p, pg_typeof(first(arr, t)) AS arr, pg_typeof(first(m, t)) AS m FROM vals;
-- The whole row; an anonymous record (ROW constructor) is refused (0A000, see functions.md).
SELECT first(vals, t) FROM vals;
SELECT last(ROW(i, s), t) FROM vals;
-- Floats and timestamps survive the round trip exactly.
SELECT first(f, t) = 1e-300 AS exact, last(ts, i) AS ts, first(ts, i) AS ts_of_null_time_row FROM vals;

-------------------------------------------------------------------------------
-- Ordering types
-------------------------------------------------------------------------------
SELECT first(t, i) AS by_int, last(t, i) AS by_int_last, first(i, i::smallint) AS int2, last(i, i::bigint) AS int8,
       first(i, n) AS num, last(i, n) AS num_last, first(i, r) AS float4, last(i, r) AS float4_last FROM vals;
-- NaN sorts above every number (btree order), so it is what last picks.
SELECT first(i, f) AS float8, last(i, f) AS float8_last FROM vals;
SELECT first(i, t::date) AS date, last(i, t::timestamp) AS ts, first(i, ts::time) AS time, last(i, iv) AS iv,
       first(i, s) AS txt, last(i, s) AS txt_last, first(i, u) AS uuid, last(i, b) AS bool FROM vals;
-- varchar and domains resolve to their base type's overload.
SELECT first(i, s::varchar(3)) AS varchar, last(i, d) AS domain FROM vals;
-- Pre-epoch and infinite orderings.
SELECT first(i, ts) AS first_ts, last(i, ts) AS last_ts FROM vals;
-- An ordering type without an overload (TimescaleDB takes any type with a btree ordering).
SELECT first(i, by) FROM vals;
SELECT first(i, by::text) FROM vals;
-- Negative integer orderings.
SELECT first(x, -x) AS f, last(x, -x) AS l, first(x, x - 10) AS f2 FROM generate_series(1, 5) x;

-------------------------------------------------------------------------------
-- Ties keep the row seen first; empty input; all-NULL orderings.
-------------------------------------------------------------------------------
SELECT first(v, k) AS f, last(v, k) AS l FROM (VALUES ('a', 1), ('b', 1), ('c', 0), ('d', 0)) AS x(v, k);
SELECT first(v, k) AS f, last(v, k) AS l FROM (VALUES ('a', 1), ('b', 1), ('c', 1)) AS x(v, k);
SELECT first(x, x) AS f, last(x, x) AS l FROM generate_series(1, 0) x;
SELECT first(x, NULL::integer) AS f, last(x, NULL::timestamptz) AS l FROM generate_series(1, 3) x;
SELECT first(NULL::text, x) AS f, last(NULL::integer, x) AS l FROM generate_series(1, 3) x;
SELECT g, first(v, k) AS f, last(v, k) AS l
FROM (VALUES (1, 'a', NULL), (1, 'b', 5), (2, 'c', NULL), (3, NULL, 1)) AS x(g, v, k) GROUP BY g ORDER BY g;
-- FILTER, DISTINCT, ORDER BY inside the call, HAVING.
SELECT first(x, x) FILTER (WHERE x > 2) AS f, last(DISTINCT x % 3, x % 3) AS l, first(x, x ORDER BY x DESC) AS o
FROM generate_series(1, 5) x;
SELECT x % 2 AS g, last(x, x) FROM generate_series(1, 5) x GROUP BY 1 HAVING last(x, x) > 4;

-------------------------------------------------------------------------------
-- Timestamptz orderings in any session TimeZone, across DST.
-------------------------------------------------------------------------------
CREATE TABLE dst (t timestamptz, v text);
-- Europe/Berlin fall-back on 2021-10-31: 02:30 local happens twice (00:30 and 01:30 UTC).
INSERT INTO dst VALUES ('2021-10-31 00:30+00', 'first 02:30 CEST'), ('2021-10-31 01:30+00', 'second 02:30 CET'),
                       ('2021-10-31 00:59:59+00', 'before'), ('2021-03-28 01:00+00', 'spring 03:00 CEST');
SET TIME ZONE 'Europe/Berlin';
SELECT first(v, t) AS f, last(v, t) AS l, first(t, t) AS ft, last(t, t) AS lt FROM dst;
SELECT date_trunc('day', t) AS day, first(v, t) AS f, last(v, t) AS l FROM dst GROUP BY 1 ORDER BY 1;
-- As timestamp (local wall-clock) the two 02:30 are equal: the first seen wins.
SELECT first(v, t::timestamp) AS f, last(v, t::timestamp) AS l FROM dst WHERE t BETWEEN '2021-10-31 00:00+00' AND '2021-10-31 02:00+00';
SET TIME ZONE 'America/New_York';
SELECT first(v, t) AS f, last(v, t) AS l, first(t, t) AS ft, last(t, t) AS lt FROM dst;
SET TIME ZONE 'Asia/Kolkata';
SELECT last(t, v) AS lt, first(t::date, t) AS fd FROM dst;
SET TIME ZONE 'UTC';

-- Values keep every digit whatever extra_float_digits is (TimescaleDB keeps the datum itself).
SET extra_float_digits = 0;
SELECT first(x, k) = 0.1::float8 + 0.2 AS f, last(x, k) = 1.7976931348623157e308 AS l FROM (VALUES (0.1::float8 + 0.2, 1), (1.7976931348623157e308, 2)) AS v(x, k);
SELECT first(x, k) = 16777217::real AS f FROM (VALUES (16777217::real, 1)) AS v(x, k);
SET extra_float_digits = 1;
