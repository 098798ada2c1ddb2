-- time_bucket, every overload of TimescaleDB 2.29 but the UUIDv7 ones (timescale_api.md §1.2; errors
-- §3.3). Expected values: TimescaleDB's regression outputs (test/expected/timestamp.out), the docs'
-- examples, TimescaleDB issues #7059, #8167, #9136 (DST, offsets with a timezone), and by hand from
-- src/time_bucket.c where marked "by hand".
SET TIME ZONE 'UTC';

-- Nothing exists before CREATE EXTENSION (42883 undefined_function).
SELECT time_bucket(INTERVAL '1 hour', TIMESTAMPTZ '2020-01-01 00:00:00+00');
SELECT time_bucket(10, 15);
CREATE EXTENSION timescaledb;

-------------------------------------------------------------------------------
-- time_bucket(interval, timestamp)
-------------------------------------------------------------------------------
SELECT time_bucket(INTERVAL '1 day', TIMESTAMP '2011-01-02 01:01:01');

SELECT t, time_bucket(INTERVAL '2 days', t)
FROM unnest(ARRAY[TIMESTAMP '2011-01-01 01:01:01', '2011-01-02 01:01:01', '2011-01-03 01:01:01', '2011-01-04 01:01:01']) AS t
ORDER BY t;

SELECT n, time_bucket(w, TIMESTAMP '2011-01-02 01:01:01.111')
FROM unnest(ARRAY[INTERVAL '1 millisecond', '1 second', '1 minute', '1 hour', '1 day',
                  '2 milliseconds', '2 seconds', '2 minutes', '2 hours', '2 days']) WITH ORDINALITY AS x(w, n)
ORDER BY n;

SELECT t, time_bucket(INTERVAL '5 minutes', t)
FROM unnest(ARRAY[TIMESTAMP '1970-01-01 00:59:59.999999', '1970-01-01 01:01:00', '1970-01-01 01:04:59.999999', '1970-01-01 01:05:00']) AS t
ORDER BY t;

-- Weeks start on Monday: the default origin is Monday 2000-01-03.
SELECT t, time_bucket(INTERVAL '1 week', t)
FROM unnest(ARRAY[TIMESTAMP '2018-09-16', '2018-09-17', '2018-09-23', '2018-09-24']) AS t
ORDER BY t;

-- Before 2000, before 1970 and at both ends of the timestamp range.
SELECT time_bucket(INTERVAL '1 week', TIMESTAMP '1999-12-31 23:59:59');
SELECT time_bucket(INTERVAL '1 hour', TIMESTAMP '1969-07-20 20:17:40');
SELECT time_bucket(INTERVAL '15 minutes', TIMESTAMP '1900-01-01 00:07:00');
SELECT time_bucket(INTERVAL '1 week', TIMESTAMP '4714-11-24 01:01:01 BC');
SELECT time_bucket(INTERVAL '1 week', TIMESTAMP '294276-12-31 23:59:59.9999');
SELECT t, time_bucket(INTERVAL '1 week', t)
FROM unnest(ARRAY[TIMESTAMP '-infinity', 'infinity']) AS t
ORDER BY t;

-------------------------------------------------------------------------------
-- time_bucket(interval, timestamp, origin timestamp)
-------------------------------------------------------------------------------
SELECT t,
       time_bucket(INTERVAL '1 week', t, TIMESTAMP '2000-01-01') AS pg_epoch,
       time_bucket(INTERVAL '1 week', t, TIMESTAMP 'epoch') AS unix_epoch,
       time_bucket(INTERVAL '1 week', t, TIMESTAMP '3018-09-13') AS custom
FROM unnest(ARRAY[TIMESTAMP '1999-12-31 23:59:59', '2000-01-01', '2000-01-02 23:59:59', '2000-01-03', '3018-09-13']) AS t
ORDER BY t;

-- An origin far before the data.
SELECT t, time_bucket(INTERVAL '1 week', t, TIMESTAMP '4710-11-24 01:01:01.0 BC')
FROM unnest(ARRAY[TIMESTAMP '4710-11-25 01:01:01.0 BC', '2001-01-01', '3001-01-01']) AS t
ORDER BY t;

SELECT time_bucket(INTERVAL '1 day', TIMESTAMP '2020-01-01 10:30:00', origin => TIMESTAMP '2020-01-01 06:00:00');
SELECT time_bucket(bucket_width => INTERVAL '1 hour', ts => TIMESTAMP '2020-01-01 10:30:00');

-------------------------------------------------------------------------------
-- time_bucket(interval, timestamp, "offset" interval)
-------------------------------------------------------------------------------
SELECT t, time_bucket(INTERVAL '5 minutes', t, "offset" => INTERVAL '2 minutes')
FROM unnest(ARRAY[TIMESTAMP '2011-01-02 01:01:59.999999', '2011-01-02 01:02:00', '2011-01-02 01:06:59.999999', '2011-01-02 01:07:00']) AS t
ORDER BY t;

SELECT t, time_bucket(INTERVAL '5 minutes', t, - INTERVAL '2 minutes')
FROM unnest(ARRAY[TIMESTAMP '2011-01-02 01:02:59.999999', '2011-01-02 01:03:00', '2011-01-02 01:07:59.999999', '2011-01-02 01:08:00']) AS t
ORDER BY t;

-- Rounding to the nearest 5 minutes (docs example: shift by half a bucket, report the middle).
SELECT t, time_bucket(INTERVAL '5 minutes', t, - INTERVAL '2.5 minutes') + INTERVAL '2 minutes 30 seconds'
FROM unnest(ARRAY[TIMESTAMP '2011-01-02 01:05:01', '2011-01-02 01:07:29', '2011-01-02 01:02:30', '2011-01-02 01:07:30', '2011-01-02 01:02:29']) AS t
ORDER BY t;

-------------------------------------------------------------------------------
-- Month and year widths (TimescaleDB 2.8+): months counted from 2000-01-01 by default
-------------------------------------------------------------------------------
SELECT w, time_bucket(w, TIMESTAMP '2021-11-22 13:45:00')
FROM unnest(ARRAY[INTERVAL '1 month', '3 months', '1 year', '2 years']) AS w
ORDER BY w;

SELECT d, time_bucket(INTERVAL '5 months', d)
FROM unnest(ARRAY[TIMESTAMP '2020-01-01', '2020-05-01', '2020-06-01', '2020-10-01', '2020-11-01', '2020-12-01']) AS d
ORDER BY d;

-- Only the origin's year and month count.
SELECT time_bucket(INTERVAL '1 year', TIMESTAMP '2021-11-22', TIMESTAMP '2021-06-01');
SELECT time_bucket(INTERVAL '1 month', TIMESTAMP '2021-11-22', TIMESTAMP '2021-06-15 12:00:00');
-- Before 1970 (by hand: 1969-07 is month 23634, 366 months before 2000-01).
SELECT time_bucket(INTERVAL '3 months', TIMESTAMP '1969-07-20 20:17:40');
SELECT time_bucket(INTERVAL '1 year', TIMESTAMP '1969-07-20 20:17:40');

-------------------------------------------------------------------------------
-- time_bucket(interval, timestamptz [, origin | "offset"]): aligned in UTC
-------------------------------------------------------------------------------
SELECT t, time_bucket(INTERVAL '1 hour', t), time_bucket(INTERVAL '1 day', t)
FROM unnest(ARRAY[TIMESTAMPTZ '2011-01-02 01:01:01+00', '2011-01-02 01:01:01+01', '2011-01-02 01:01:01+02']) AS t
ORDER BY t;
SELECT time_bucket(INTERVAL '1 hour', TIMESTAMPTZ '1969-12-31 23:59:59+00');
SELECT time_bucket(INTERVAL '1 month', TIMESTAMPTZ '2021-01-01 00:30:00+01');
SELECT time_bucket(INTERVAL '1 week', TIMESTAMPTZ 'infinity');

SET TIME ZONE 'America/New_York';
-- Docs: with session TZ America/New_York, a week bucket starts Monday 00:00 UTC = Sunday 20:00 EDT.
SELECT time_bucket(INTERVAL '1 week', TIMESTAMPTZ '2018-09-17 00:00:00-04');
SELECT t, time_bucket(INTERVAL '1 day', t), time_bucket(INTERVAL '1 day', t, - INTERVAL '19 hours')
FROM unnest(ARRAY[TIMESTAMPTZ '2011-01-02 01:01:01', '2011-01-03 01:01:01+01', '2011-01-04 01:01:01+02']) AS t
ORDER BY t;
-- DST: the same local hour lands in two buckets; 2-hour buckets keep UTC alignment.
SELECT t, time_bucket(INTERVAL '1 hour', t), time_bucket(INTERVAL '2 hours', t)
FROM unnest(ARRAY[TIMESTAMPTZ '2017-11-05 10:05:00+07', '2017-11-05 12:05:00+07', '2017-11-05 13:05:00+07', '2017-11-05 15:05:00+07']) AS t
ORDER BY t;
SELECT t,
       time_bucket(INTERVAL '1 week', t, TIMESTAMPTZ '2000-01-01 00:00:00+0') AS pg_epoch,
       time_bucket(INTERVAL '1 week', t, TIMESTAMPTZ 'epoch') AS unix_epoch,
       time_bucket(INTERVAL '1 week', t, TIMESTAMPTZ '3018-09-13') AS custom
FROM unnest(ARRAY[TIMESTAMPTZ '2000-01-01 00:00:00+0', '2000-01-03', '3018-09-13']) AS t
ORDER BY t;
SET TIME ZONE 'CET';
-- Issue #8167: month buckets of a timestamptz use the UTC date.
SELECT time_bucket('1 month', '2021-01-01'::timestamptz);
SET TIME ZONE 'UTC';

-------------------------------------------------------------------------------
-- time_bucket(interval, timestamptz, timezone text, origin timestamptz = NULL, "offset" interval = NULL)
-------------------------------------------------------------------------------
-- Local midnight (by hand: 23:30 CEST on 2021-06-15 is in the day starting 2021-06-14 22:00 UTC).
SELECT time_bucket(INTERVAL '1 day', TIMESTAMPTZ '2021-06-15 21:30:00+00', 'Europe/Berlin');
-- A month in Berlin starts an hour before the UTC month.
SELECT time_bucket(INTERVAL '1 month', TIMESTAMPTZ '2021-01-01 00:30:00+01', 'Europe/Berlin');
-- Origin and offset together (by hand: buckets at hh:30 Berlin time, then shifted 10 minutes).
SELECT time_bucket(INTERVAL '1 hour', TIMESTAMPTZ '2021-06-15 10:50:00+00', 'Europe/Berlin', TIMESTAMPTZ '2021-06-15 00:30:00+02', INTERVAL '10 minutes');
-- Issue #7059: the offset is applied to the instant. Amman skipped 00:00-01:00 on 2021-03-26, so
-- 01:00 local minus 15 minutes is 23:45 on the 25th, which belongs to the 25th's bucket.
SELECT time_bucket(INTERVAL '1 day', TIMESTAMPTZ '2021-03-25 22:00:00+00', timezone => 'Asia/Amman', "offset" => INTERVAL '15 minutes');

SET TIME ZONE 'America/New_York';
-- Issue #9136: each 01:xx hour of the 2024-11-03 fall-back is its own bucket, never after the input.
SELECT t, time_bucket(INTERVAL '1 hour', t, 'America/New_York', '2000-01-01 00:00:00 America/New_York'::timestamptz)
FROM unnest(ARRAY[TIMESTAMPTZ '2024-11-03 01:30:00-04', '2024-11-03 01:30:00-05']) AS t
ORDER BY t;
-- Local 2-hour buckets across the 2017-11-05 fall-back (same buckets as bucketing t::timestamp).
SELECT t, time_bucket(INTERVAL '2 hours', t, 'America/New_York')
FROM unnest(ARRAY[TIMESTAMPTZ '2017-11-05 10:05:00+07', '2017-11-05 12:05:00+07', '2017-11-05 13:05:00+07', '2017-11-05 15:05:00+07']) AS t
ORDER BY t;
-- Spring forward 2024-03-10: local 02:00 does not exist; that bucket starts at 03:00 EDT (by hand).
SELECT time_bucket(INTERVAL '2 hours', TIMESTAMPTZ '2024-03-10 03:30:00-04', 'America/New_York');
SET TIME ZONE 'UTC';
-- Not STRICT: NULL arguments give NULL; unknown zones are an error (22023).
SELECT time_bucket(INTERVAL '1 hour', TIMESTAMPTZ '2020-01-01 00:00:00+00', NULL::text);
SELECT time_bucket(INTERVAL '1 hour', TIMESTAMPTZ '2020-01-01 00:00:00+00', 'Nowhere/Atlantis');
SELECT time_bucket(INTERVAL '1 hour', TIMESTAMPTZ 'infinity', 'Europe/Berlin');

-------------------------------------------------------------------------------
-- time_bucket(interval, date [, origin | "offset"])
-------------------------------------------------------------------------------
SELECT t, time_bucket(INTERVAL '4 days', t)
FROM unnest(ARRAY[DATE '2017-11-04', '2017-11-05', '2017-11-08', '2017-11-09']) AS t
ORDER BY t;
SELECT t, time_bucket(INTERVAL '4 days', t, INTERVAL '2 days')
FROM unnest(ARRAY[DATE '2017-11-06', '2017-11-07', '2017-11-10', '2017-11-11']) AS t
ORDER BY t;
SELECT t, time_bucket(INTERVAL '1 week', t)
FROM unnest(ARRAY[DATE '2018-09-16', '2018-09-17', '2018-09-23', '2018-09-24']) AS t
ORDER BY t;
SELECT t,
       time_bucket(INTERVAL '1 week', t, DATE '2000-01-01') AS pg_epoch,
       time_bucket(INTERVAL '1 week', t, (TIMESTAMP 'epoch')::date) AS unix_epoch,
       time_bucket(INTERVAL '1 week', t, DATE '3018-09-13') AS custom
FROM unnest(ARRAY[DATE '1999-12-31', '2000-01-02', '3018-09-13']) AS t
ORDER BY t;
SELECT time_bucket(INTERVAL '3 months', DATE '2021-08-01');
SELECT time_bucket(INTERVAL '1 year', DATE '2021-11-22', DATE '2021-06-01');
-- By hand: 2021-03-15 minus 14 days is 2021-03-01; 2021-03-14 minus 14 days is in February.
SELECT time_bucket(INTERVAL '1 month', DATE '2021-03-15', "offset" => INTERVAL '14 days');
SELECT time_bucket(INTERVAL '1 month', DATE '2021-03-14', "offset" => INTERVAL '14 days');
SELECT time_bucket(INTERVAL '1 week', DATE 'infinity');
-- Whole days or whole months only (0A000), even for a zero or negative width.
SELECT time_bucket(INTERVAL '1 hour', DATE '2012-01-01');
SELECT time_bucket(INTERVAL '25 hours', DATE '2012-01-01');
SELECT time_bucket(INTERVAL '0 days', DATE '2012-01-01');
SELECT time_bucket(INTERVAL '48 hours', DATE '2012-01-02');
-- 2.27+ rejects a sub-day offset on dates (PR #9479; its SQLSTATE is not documented, 0A000 assumed).
SELECT time_bucket(INTERVAL '1 day', DATE '2012-01-01', "offset" => INTERVAL '1 hour');

-------------------------------------------------------------------------------
-- time_bucket(smallint | integer | bigint, same [, "offset" same])
-------------------------------------------------------------------------------
SELECT t, time_bucket(10::smallint, t) AS s, time_bucket(10::integer, t::integer) AS i, time_bucket(10::bigint, t::bigint) AS b
FROM unnest('{-11,-10,-9,-1,0,1,99,100,109,110}'::smallint[]) AS t
ORDER BY t;
SELECT t, time_bucket(10::smallint, t, 2::smallint) AS s, time_bucket(10::integer, t::integer, 2) AS i, time_bucket(10::bigint, t::bigint, 2::bigint) AS b
FROM unnest('{-9,-8,-7,1,2,3,101,102,111,112}'::smallint[]) AS t
ORDER BY t;
SELECT t, time_bucket(10::smallint, t, -2::smallint) AS s, time_bucket(10::integer, t::integer, -2) AS i, time_bucket(10::bigint, t::bigint, -2::bigint) AS b
FROM unnest('{-13,-12,-11,-3,-2,-1,97,98,107,108}'::smallint[]) AS t
ORDER BY t;
SELECT time_bucket(10, 7, "offset" => 2);
SELECT t, time_bucket(10::smallint, t) FROM unnest('{-32760,-32759,32767}'::smallint[]) AS t ORDER BY t;
SELECT t, time_bucket(10, t) FROM unnest('{-2147483640,-2147483639,2147483647}'::integer[]) AS t ORDER BY t;
SELECT t, time_bucket(10::bigint, t) FROM unnest('{-9223372036854775800,-9223372036854775799,9223372036854775807}'::bigint[]) AS t ORDER BY t;
-- Out of range (22003).
SELECT time_bucket(10::smallint, '-32768'::smallint);
SELECT time_bucket(10::smallint, '-32761'::smallint);
SELECT time_bucket(10::smallint, '-32768'::smallint, 1000::smallint);
SELECT time_bucket(10::smallint, '-32768'::smallint, '32767'::smallint);
SELECT time_bucket(10::smallint, '32767'::smallint, '-32768'::smallint);
SELECT time_bucket(10::integer, '-2147483648'::integer);
SELECT time_bucket(1000::integer, '-2147483000'::integer, 1::integer);
SELECT time_bucket(10::bigint, '-9223372036854775801'::bigint);
SELECT time_bucket(1000::bigint, '9223372036854775807'::bigint, '-9223372036854775808'::bigint);

-------------------------------------------------------------------------------
-- Widths that are not positive (22023) or mix months with days or time (0A000)
-------------------------------------------------------------------------------
SELECT time_bucket(INTERVAL '0 minutes', TIMESTAMP '2020-01-01 10:03:00');
SELECT time_bucket(INTERVAL '-1 hour', TIMESTAMPTZ '2020-01-01 10:03:00+00');
SELECT time_bucket(INTERVAL '1 day -24 hours', TIMESTAMP '2020-01-01 10:03:00');
SELECT time_bucket(INTERVAL '-1 month', TIMESTAMP '2020-01-01 10:03:00');
SELECT time_bucket(INTERVAL '-3 months', DATE '2020-01-01');
SELECT time_bucket(0, 5);
SELECT time_bucket(-10::bigint, 5::bigint);
SELECT time_bucket(INTERVAL '1 month 15 days', TIMESTAMP '2020-01-01');
SELECT time_bucket(INTERVAL '1 year 2 hours', TIMESTAMPTZ '2020-01-01 00:00:00+00');
SELECT time_bucket(INTERVAL '1 month 1 day', DATE '2020-01-01');
SELECT time_bucket(INTERVAL '1 month 1 day', TIMESTAMPTZ '2020-01-01 00:00:00+00', 'Europe/Berlin');
-- ±infinity comes back before the width is looked at.
SELECT time_bucket(INTERVAL '-1 day', TIMESTAMP 'infinity');

-------------------------------------------------------------------------------
-- NULLs: every overload returns NULL for a NULL argument, without checking the others
-------------------------------------------------------------------------------
SELECT time_bucket(NULL::interval, TIMESTAMP '2020-01-01') AS a,
       time_bucket(INTERVAL '1 day', NULL::timestamptz) AS b,
       time_bucket(INTERVAL '1 day', NULL::date) AS c,
       time_bucket(INTERVAL '1 day', TIMESTAMP '2020-01-01', NULL::timestamp) AS d,
       time_bucket(INTERVAL '1 day', TIMESTAMPTZ '2020-01-01 00:00:00+00', "offset" => NULL::interval) AS e,
       time_bucket(10, NULL::integer) AS f,
       time_bucket(NULL::bigint, 10::bigint, 2::bigint) AS g,
       time_bucket(INTERVAL '-1 day', NULL::timestamp) AS h;
SELECT time_bucket(INTERVAL '1 hour', TIMESTAMPTZ '2020-01-01 10:30:00+00', 'UTC', NULL, NULL);

-------------------------------------------------------------------------------
-- In a query (docs examples)
-------------------------------------------------------------------------------
CREATE TABLE metrics (time timestamptz NOT NULL, cpu double precision);
INSERT INTO metrics VALUES ('2020-01-01 00:01:00+00', 1), ('2020-01-01 00:04:00+00', 3), ('2020-01-01 00:06:00+00', 5), ('2020-01-01 00:12:00+00', 7);
SELECT time_bucket('5 minutes', time) AS five_min, avg(cpu) FROM metrics GROUP BY five_min ORDER BY five_min;
SELECT time_bucket('5 minutes', time) + '2.5 minutes' AS five_min, avg(cpu) FROM metrics GROUP BY five_min ORDER BY five_min;
SELECT time_bucket('5 minutes', time, '-2.5 minutes'::interval) + '2.5 minutes' AS five_min, avg(cpu) FROM metrics GROUP BY five_min ORDER BY five_min;
SELECT time_bucket('5 minutes', time) AS five_min, count(*) FROM metrics WHERE time_bucket('5 minutes', time) >= '2020-01-01 00:05:00+00' GROUP BY five_min ORDER BY five_min;
