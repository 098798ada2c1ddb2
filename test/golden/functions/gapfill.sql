-- time_bucket_gapfill, locf and interpolate (timescale_api.md §1.2, errors §3.3). Queries and
-- expected rows are TimescaleDB's regression suite (tsl/test/shared/sql/gapfill.sql.in and
-- include/gapfill_metrics_query.sql, expected output gapfill-18.out, same tables and data from
-- include/shared_setup.sql), rewritten in ISO DateStyle; lines marked "by hand" follow
-- tsl/src/nodes/gapfill/*.c. extra_float_digits = 0 prints floats as TimescaleDB's outputs do.
SET TIME ZONE 'PST8PDT';
SET extra_float_digits = 0;

-- Nothing exists before CREATE EXTENSION (42883 undefined_function).
SELECT time_bucket_gapfill(1, 1, 0, 5);
CREATE EXTENSION timescaledb;

CREATE TABLE metrics_int(time int NOT NULL, device_id int, sensor_id int, value float);
INSERT INTO metrics_int VALUES (-100,1,1,0.0), (-100,1,2,-100.0), (0,1,1,5.0), (5,1,2,10.0), (100,1,1,0.0), (100,1,2,-100.0);
CREATE TABLE devices(device_id int, name text);
INSERT INTO devices VALUES (1,'Device 1'),(2,'Device 2'),(3,'Device 3');
CREATE TABLE sensors(sensor_id int, name text);
INSERT INTO sensors VALUES (1,'Sensor 1'),(2,'Sensor 2'),(3,'Sensor 3');
CREATE TABLE metrics_tstz(time timestamptz NOT NULL, device_id int, v1 float, v2 int);
SELECT table_name FROM create_hypertable('metrics_tstz', 'time');
INSERT INTO metrics_tstz VALUES
  ('2018-01-01 05:00:00 PST', 1, 0.5, 10), ('2018-01-01 05:00:00 PST', 2, 0.7, 20), ('2018-01-01 05:00:00 PST', 3, 0.9, 30),
  ('2018-01-01 07:00:00 PST', 1, 0.0, 0), ('2018-01-01 07:00:00 PST', 2, 1.4, 40), ('2018-01-01 07:00:00 PST', 3, 0.9, 30);

-------------------------------------------------------------------------------
-- Outside a gap-filling query: time_bucket, and the markers return their input.
-------------------------------------------------------------------------------
SELECT locf(1);
SELECT interpolate(1);
SELECT locf(NULL::int);
SELECT interpolate(NULL::bigint);
SELECT time_bucket_gapfill(1,time,1,11) FROM (VALUES (1),(2)) v(time);
SELECT time_bucket_gapfill(1,time,1,11), avg(time) OVER () FROM (VALUES (1),(2)) v(time);

-------------------------------------------------------------------------------
-- Every overload, explicit bounds: [start, finish), start aligned to its bucket.
-------------------------------------------------------------------------------
SELECT time_bucket_gapfill(1::int2,time::int2,0::int2,6::int2) FROM (VALUES (1),(4)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(1::int4,time::int4,0::int4,6::int4) FROM (VALUES (1),(4)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(1::int8,time::int8,0::int8,6::int8) FROM (VALUES (1),(4)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(10,time,5,40) FROM (VALUES (11),(22)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(INTERVAL '6h',time,TIMESTAMPTZ '2000-01-01',TIMESTAMPTZ '2000-01-02'), min(time)
FROM (VALUES (TIMESTAMPTZ '2000-01-01 9:00:00'),(TIMESTAMPTZ '2000-01-01 18:00:00')) v(time)
GROUP BY 1 ORDER BY 1;
SELECT time_bucket_gapfill(INTERVAL '6h',time,TIMESTAMP '2000-01-01',TIMESTAMP '2000-01-02'), min(time)
FROM (VALUES (TIMESTAMP '2000-01-01 9:00:00'),(TIMESTAMP '2000-01-01 18:00:00')) v(time)
GROUP BY 1 ORDER BY 1;
SELECT time_bucket_gapfill(INTERVAL '1w',time,DATE '2000-01-01',DATE '2000-02-10'), min(time)
FROM (VALUES (DATE '2000-01-08'),(DATE '2000-01-22')) v(time)
GROUP BY 1 ORDER BY 1;
-- Named arguments.
SELECT time_bucket_gapfill(bucket_width => 2, ts => time, start => 0, finish => 6) FROM (VALUES (1),(4)) v(time) GROUP BY 1;
-- Untyped literal bounds: PostgreSQL resolves them to the column's type for date and timestamp (for
-- timestamptz an untyped third argument is the timezone, as in TimescaleDB).
SELECT time_bucket_gapfill('1 day', d, '2000-01-01', '2000-01-04'), count(*) FROM (VALUES (DATE '2000-01-02')) v(d) GROUP BY 1;
SELECT time_bucket_gapfill('1 day', ts, '2000-01-01', '2000-01-04'), count(*) FROM (VALUES (TIMESTAMP '2000-01-02 10:00')) v(ts) GROUP BY 1;
SELECT time_bucket_gapfill('1 day', ts, '2000-01-01') FROM (VALUES (TIMESTAMPTZ '2000-01-02 10:00')) v(ts) GROUP BY 1;
-- Month buckets (timestamptz buckets are UTC months).
SELECT time_bucket_gapfill('2 month'::interval, ts, '2000-01-01'::timestamptz,'2001-01-01'::timestamptz) FROM (VALUES ('2000-03-01'::timestamptz)) v(ts) GROUP BY 1;
SELECT time_bucket_gapfill('1 year'::interval, ts, '2000-01-01'::timestamptz,'2003-01-01'::timestamptz) FROM (VALUES ('2000-03-01'::timestamptz)) v(ts) GROUP BY 1;

-------------------------------------------------------------------------------
-- Rows, NULLs and expressions in gap rows.
-------------------------------------------------------------------------------
SELECT time_bucket_gapfill(10,time,0,50) AS time, min(value) AS value
FROM (values (-10,1),(10,2),(11,3),(12,4),(22,5),(30,6),(66,7)) v(time,value)
GROUP BY 1 ORDER BY 1;
SELECT time_bucket_gapfill(1,time,0,5), min(time) FROM (VALUES (1),(2),(3)) v(time) WHERE false GROUP BY 1 ORDER BY 1;
SELECT time_bucket_gapfill(1,time,0,5), coalesce(min(time),0), coalesce(min(value),0), coalesce(min(value),7)
FROM (VALUES (1,1),(2,2),(3,3)) v(time,value) GROUP BY 1 ORDER BY 1;
SELECT time_bucket_gapfill(1,time,0,5), min(time),
  CASE WHEN min(time) IS NOT NULL THEN min(time) ELSE -1 END,
  CASE WHEN min(time) IS NOT NULL THEN min(time) + 7 ELSE 0 END,
  CASE WHEN 1 = 1 THEN 1 ELSE 0 END
FROM (VALUES (1,1),(2,2),(3,3)) v(time,value) GROUP BY 1 ORDER BY 1;
SELECT 1 as c1, '2' as c2, time_bucket_gapfill(1,time,0,5), 3.0 as c3, min(time), min(time), 4 as c4
FROM (VALUES (1),(2),(3)) v(time) GROUP BY 3 ORDER BY 3;

-------------------------------------------------------------------------------
-- Groups: every group gets every bucket; no rows and groups, no rows out.
-------------------------------------------------------------------------------
SELECT time_bucket_gapfill(1,time,0,5) as time, id, min(value) as m
FROM (VALUES (1,1,1),(2,2,2)) v(time,id,value) GROUP BY 1,id ORDER BY 2,1;
SELECT time_bucket_gapfill(1,time,0,5) as time, id, min(value) as m
FROM (VALUES (1,1,1),(2,2,2)) v(time,id,value) WHERE false GROUP BY 1,id ORDER BY 2,1;
SELECT time_bucket_gapfill(1,time,0,5) as time, min(value) as m
FROM (VALUES (1,1,1),(2,2,2)) v(time,id,value) GROUP BY 1,id ORDER BY id,1;
SELECT time_bucket_gapfill(1,time,0,5) as time, id, min(value) as m
FROM (VALUES (1,1,1),(2,2,2)) v(time,id,value) GROUP BY 1,id ORDER BY 1,id;
-- Without ORDER BY: group keys, then bucket.
SELECT time_bucket_gapfill(1,time,0,5) as time, device_id, d.name, sensor_id, s.name, avg(m.value)
FROM metrics_int m INNER JOIN devices d USING(device_id) INNER JOIN sensors s USING(sensor_id)
WHERE time BETWEEN 0 AND 5 GROUP BY 1,2,3,4,5;
SELECT time_bucket_gapfill(1,time,0,5) as time, 'Device ' || device_id::text
FROM (VALUES (1,1),(2,2)) v(time,device_id) GROUP BY 1,device_id;
SELECT DISTINCT ON (color) time_bucket_gapfill(1,time,0,5) as time, color, min(value) as m
FROM (VALUES (1,'blue',1),(2,'red',2)) v(time,color,value) GROUP BY 1,color ORDER BY 2,1;
SELECT l.id, bucket, data_value
FROM (VALUES (1), (2), (3), (4)) a(id)
INNER JOIN LATERAL (
  SELECT b.id id, time_bucket_gapfill('1'::int, time, start=>'1'::int, finish=> '5'::int) bucket, locf(max(data)) data_value
  FROM (VALUES (1, 1, 1), (1, 4, 4), (2, 1, -1), (2, 4, -4)) b(id, time, data)
  WHERE a.id = b.id GROUP BY b.id, bucket
) as l on (true);
CREATE TABLE gapfill_insert_test(id int);
INSERT INTO gapfill_insert_test SELECT time_bucket_gapfill(1,time,1,5) FROM (VALUES (1),(2)) v(time) GROUP BY 1 ORDER BY 1;
SELECT * FROM gapfill_insert_test;

-------------------------------------------------------------------------------
-- locf
-------------------------------------------------------------------------------
SELECT time_bucket_gapfill(10,time,0,50) AS time, locf(min(value)) AS value
FROM (values (10,9),(20,3),(50,6)) v(time,value) GROUP BY 1 ORDER BY 1;
SELECT time_bucket_gapfill(10,time,0,50) AS time, locf(min(value)) AS value
FROM (values (10,9),(20,3),(30,NULL),(50,6)) v(time,value) GROUP BY 1 ORDER BY 1;
SELECT time_bucket_gapfill(10,time,0,50) AS time, locf(min(value),treat_null_as_missing:=true) AS value
FROM (values (10,9),(20,3),(30,NULL),(50,6)) v(time,value) GROUP BY 1 ORDER BY 1;
SELECT time_bucket_gapfill(10,time,0,50) AS time,
  locf(min(value),treat_null_as_missing:=false, prev := (SELECT 100)) AS v1,
  locf(min(value),treat_null_as_missing:=true, prev := (SELECT 100)) AS v2
FROM (values (0,NULL),(30,NULL),(50,6)) v(time,value) GROUP BY 1 ORDER BY 1;
SELECT time_bucket_gapfill(10,time,0,50) AS time, locf(min(value),treat_null_as_missing:=true) AS value
FROM (values (10,9),(20,3),(30,NULL),(50,6)) v(time,value) GROUP BY 1 ORDER BY 1 DESC;
SELECT time_bucket_gapfill(1,time,0,5), locf(min(value)), locf(4), locf(4 + min(value))
FROM (VALUES (0,1,3),(4,2,3)) v(time,value) GROUP BY 1;
SELECT time_bucket_gapfill(10,time,0,70) AS time, locf(min(value),(SELECT 100)) AS value
FROM (values (20,9),(40,6)) v(time,value) GROUP BY 1 ORDER BY 1;
-- The prev lookup only runs where it is needed (it would divide by zero).
SELECT time_bucket_gapfill(5,time,0,11) AS time, device_id, sensor_id,
  locf(min(value)::int,(SELECT 1/(SELECT 0) FROM metrics_int m2 WHERE m2.device_id=m1.device_id AND m2.sensor_id=m1.sensor_id ORDER BY time DESC LIMIT 1)) AS locf3
FROM metrics_int m1 WHERE time >= 0 AND time < 5 GROUP BY 1,2,3 ORDER BY 2,3,1;
SELECT time_bucket_gapfill(5,time,0,11) AS time, device_id, sensor_id,
  locf(min(value)::int,(SELECT 1/(SELECT 0) FROM metrics_int m2 WHERE m2.device_id=m1.device_id AND m2.sensor_id=m1.sensor_id ORDER BY time DESC LIMIT 1)) AS locf3
FROM metrics_int m1 WHERE time = 5 GROUP BY 1,2,3 ORDER BY 2,3,1;
SELECT time_bucket_gapfill(5,time,0,11) AS time, device_id, sensor_id, avg(value),
  locf(min(value)) AS locf,
  locf(min(value)::int,23) AS locf1,
  locf(min(value)::int,(SELECT 42)) AS locf2,
  locf(min(value),(SELECT value FROM metrics_int m2 WHERE time<0 AND m2.device_id=m1.device_id AND m2.sensor_id=m1.sensor_id ORDER BY time DESC LIMIT 1)) AS locf3
FROM metrics_int m1 WHERE time >= 0 AND time < 10 GROUP BY 1,2,3 ORDER BY 2,3,1;
SELECT time_bucket_gapfill(5,time,0,11) AS time, device_id, sensor_id,
  locf(min(value),(SELECT value FROM metrics_int m2 WHERE time<0 AND m2.device_id=m1.device_id AND m2.sensor_id=m1.sensor_id ORDER BY time DESC LIMIT 1)),
  sum(locf(min(value),(SELECT value FROM metrics_int m2 WHERE time<0 AND m2.device_id=m1.device_id AND m2.sensor_id=m1.sensor_id ORDER BY time DESC LIMIT 1))) OVER (PARTITION BY device_id, sensor_id ROWS 1 PRECEDING)
FROM metrics_int m1 WHERE time >= 0 AND time < 10 GROUP BY 1,2,3;
SELECT row_number() OVER (PARTITION BY color), locf(min(time)), color, length(color), time_bucket_gapfill(1,time,0,5) as time
FROM (VALUES (1,'blue',1),(2,'red',2)) v(time,color,value) GROUP BY 3,5;

-------------------------------------------------------------------------------
-- interpolate
-------------------------------------------------------------------------------
SELECT time_bucket_gapfill(5,time,0,11) AS time, device_id, sensor_id, avg(value),
  interpolate(min(value)) AS ip,
  interpolate(min(value),(-5,-5.0::float),(15,20.0::float)) AS ip1,
  interpolate(min(value),(SELECT (-10,-10.0::float)),(SELECT (15,20.0::float))) AS ip2,
  interpolate(min(value),
    (SELECT (time,value) FROM metrics_int m2 WHERE time<0 AND m2.device_id=m1.device_id AND m2.sensor_id=m1.sensor_id ORDER BY time DESC LIMIT 1),
    (SELECT (time,value) FROM metrics_int m2 WHERE time>10 AND m2.device_id=m1.device_id AND m2.sensor_id=m1.sensor_id ORDER BY time LIMIT 1)
  ) AS ip3
FROM metrics_int m1 WHERE time >= 0 AND time < 10 GROUP BY 1,2,3 ORDER BY 2,3,1;
SELECT time_bucket_gapfill(1,time,0,5), min(time) AS "min",
  lag(min(time)) over () AS lag_min, lead(min(time)) over () AS lead_min,
  interpolate(min(time)) AS interpolate,
  lag(interpolate(min(time))) over () AS lag_interpolate, lead(interpolate(min(time))) over () AS lead_interpolate
FROM (VALUES (1),(3)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(1,time,0,11),
  first_value(interpolate(min(time))) OVER (ROWS 1 PRECEDING),
  interpolate(min(time)),
  last_value(interpolate(min(time))) OVER (ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING)
FROM (VALUES (0),(10)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(1,time,1,6), interpolate(min(time),prev:=(0,0)::record)
FROM (VALUES (2),(3)) v(time) GROUP BY 1 ORDER BY 2 NULLS FIRST,1;
SELECT time_bucket_gapfill(interval '1h',time,timestamptz '2018-01-01 05:00:00-8', timestamptz '2018-01-01 07:00:00-8'),
  device_id, locf(avg(v1)) AS locf_v1, locf(min(v2)) AS locf_v2, interpolate(avg(v1)) AS interpolate_v1, interpolate(avg(v2)) AS interpolate_v2
FROM metrics_tstz GROUP BY 1,2 ORDER BY 1,2;
SELECT time_bucket_gapfill('12h'::interval,time,'2017-01-01'::timestamptz, '2017-01-02'::timestamptz),
  interpolate(avg(v1), (SELECT ('2017-01-01'::timestamptz,1::float)), (SELECT ('2017-01-02'::timestamptz,2::float)))
FROM metrics_tstz WHERE time < '2017-01-01' GROUP BY 1;
SELECT time_bucket_gapfill('1h'::interval,time,'2018-01-01 3:00 PST'::timestamptz, '2018-01-01 8:00 PST'::timestamptz), device_id,
  interpolate(avg(v1), (SELECT (time,0.5::float) FROM metrics_tstz m2 WHERE m1.device_id=m2.device_id ORDER BY time DESC LIMIT 1)),
  avg(v1)
FROM metrics_tstz m1 WHERE device_id=1 GROUP BY 1,2 ORDER BY 1,2;
SELECT time_bucket_gapfill('1h'::interval,time,'2018-01-01 5:00 PST'::timestamptz, '2018-01-01 9:00 PST'::timestamptz), device_id,
  interpolate(avg(v1), next=>(SELECT (time,v2::float) FROM metrics_tstz m2 WHERE m1.device_id=m2.device_id ORDER BY time LIMIT 1)),
  avg(v1)
FROM metrics_tstz m1 WHERE device_id=1 GROUP BY 1,2 ORDER BY 1,2;
-- Integers interpolate in numeric and round; real in float arithmetic (by hand: (10·2 + 41·1)/3 =
-- 20.33 → 20, (10·1 + 41·2)/3 = 30.67 → 31).
SELECT time_bucket_gapfill(1,time,0,4), interpolate(min(v)), interpolate(min(v)::smallint), interpolate(min(v)::bigint), interpolate(min(v)::real)
FROM (VALUES (0,10),(3,41)) v(time,v) GROUP BY 1;
-- #1528: equal neighbours give the value itself, not a rounded float.
SELECT time_bucket_gapfill('1min'::interval, ts::timestamptz, start:='2019-11-05 2:20', finish:='2019-11-05 2:30'),
  interpolate(avg(20266.959547::float4)) AS float4, interpolate(avg(20266.959547::float8)) AS float8
FROM (VALUES ('2019-11-05 2:20'), ('2019-11-05 2:30')) v (ts) GROUP BY 1;

-------------------------------------------------------------------------------
-- Bounds inferred from WHERE (and inner-join ON): >=, >, <, <=, BETWEEN; narrowest wins.
-------------------------------------------------------------------------------
SELECT time_bucket_gapfill(1,time) FROM metrics_int WHERE time >=0 AND time < 2 GROUP BY 1;
SELECT time_bucket_gapfill(1,time) FROM metrics_int m WHERE m.time >=0 AND m.time < 2 GROUP BY 1;
SELECT time_bucket_gapfill(1,m.time) FROM metrics_int m, metrics_int m2 WHERE m.time >=0 AND m.time < 2 GROUP BY 1;
SELECT time_bucket_gapfill(1,m2.time) FROM metrics_int m1 INNER JOIN metrics_int m2 ON m1.time=m2.time AND m2.time >=0 AND m2.time < 2 GROUP BY 1;
SELECT time_bucket_gapfill(1,m1.time) FROM metrics_int m1 WHERE m1.time >=0 AND m1.time < 2 AND device_id IN (SELECT device_id FROM metrics_int) GROUP BY 1;
SELECT time_bucket_gapfill(1,t) FROM (VALUES (1),(2)) v(t) WHERE t >= -1 AND t < 3 GROUP BY 1;
SELECT time_bucket_gapfill(1,t) FROM (VALUES (1),(2)) v(t) WHERE t >= -1 AND t <= 3 GROUP BY 1;
SELECT time_bucket_gapfill(1,t) FROM (VALUES (1),(2)) v(t) WHERE -1 < t AND t < 3 GROUP BY 1;
SELECT time_bucket_gapfill(1,t) FROM (VALUES (1),(2)) v(t) WHERE t >= 0 AND 3 >= t GROUP BY 1;
SELECT time_bucket_gapfill(1,t) FROM (VALUES (1),(2)) v(t) WHERE t > -2 AND t < 3 GROUP BY 1;
SELECT time_bucket_gapfill(1,t) FROM (VALUES (1),(2)) v(t) WHERE t >= -1 AND t < 3 and t>1 AND t <=4 AND length(version()) > 0 GROUP BY 1;
SELECT time_bucket_gapfill(1::int2,t) FROM (VALUES (1::int2),(2::int2)) v(t) WHERE t >= -1 AND t < 3 GROUP BY 1;
SELECT time_bucket_gapfill(1::int8,t) FROM (VALUES (1::int8),(2::int8)) v(t) WHERE t >= -1 AND t < 3 GROUP BY 1;
SELECT time_bucket_gapfill('1d'::interval,t) FROM (VALUES ('1999-12-30'::date),('2000-01-01'::date)) v(t) WHERE t >= '1999-12-29' AND t < '2000-01-03' GROUP BY 1;
SELECT time_bucket_gapfill('12h'::interval,t) FROM (VALUES ('1999-12-30'::timestamp),('2000-01-01'::timestamp)) v(t) WHERE t >= '1999-12-29' AND t < '2000-01-03' GROUP BY 1;
SELECT time_bucket_gapfill('12h'::interval,t) FROM (VALUES ('1999-12-30'::timestamptz),('2000-01-01'::timestamptz)) v(t) WHERE t >= '1999-12-29' AND t < '2000-01-03' GROUP BY 1;
SELECT time_bucket_gapfill('12h'::interval,t) FROM (VALUES ('1999-12-30'::timestamptz),('2000-01-01'::timestamptz)) v(t)
WHERE t >= '2000-01-03'::timestamptz - '4d'::interval AND t < '2000-01-03'::date GROUP BY 1;
SELECT time_bucket_gapfill('1h'::interval,t) FROM (VALUES (now()),(now())) v(t) WHERE t >= now() AND t < now() - '1h'::interval GROUP BY 1;
SELECT time_bucket_gapfill('1 h', time) AS time, locf(sum(v1)) AS v1_sum, interpolate(sum(v2)) AS v2_sum
FROM metrics_tstz WHERE time >= '2018-01-01 04:00' AND time < '2018-01-01 08:00' GROUP BY 1 ORDER BY 1 DESC;
SELECT time_bucket_gapfill('20m'::interval,time), device_id, locf(avg(v1))
FROM metrics_tstz m1 WHERE time >= (select min(time) from metrics_tstz m2) AND time < (select max(time) from metrics_tstz m2)
GROUP BY 1,2 ORDER BY 2,1;
SELECT sq.device_id, bucket, value
FROM (VALUES(1, '10m'::interval),(2, '20m'::interval), (3, '30m'::interval)) dev(device_id, polling_interval)
INNER JOIN LATERAL (
  SELECT time_bucket_gapfill(dev.polling_interval,time) bucket, m1.device_id, locf(avg(v1)) value
  FROM metrics_tstz m1
  WHERE m1.device_id = dev.device_id AND time >= (select min(time) from metrics_tstz m2) AND time < (select max(time) from metrics_tstz m2)
  GROUP BY 1,2) sq ON (true)
ORDER BY 1,2;
-- Parameters in bounds (the same $n reach the bucket series).
PREPARE prep_gapfill(int,int,int) AS
SELECT time_bucket_gapfill($1,time,$2,$3) AS time, device_id, sensor_id, min(value)
FROM metrics_int m1 WHERE time >= $2 AND time < $3 AND device_id=1 AND sensor_id=1 GROUP BY 1,2,3 ORDER BY 2,3,1;
EXECUTE prep_gapfill(5,0,10);
EXECUTE prep_gapfill(4,100,110);
DEALLOCATE prep_gapfill;

-------------------------------------------------------------------------------
-- Negative and pre-epoch times (by hand: buckets round toward -infinity).
-------------------------------------------------------------------------------
SELECT time_bucket_gapfill(5, ts, -30, 0) AS b, sum(v) FROM (VALUES (-23, 1), (-7, 2), (-1, 3)) AS v(ts, v) GROUP BY 1;
SELECT time_bucket_gapfill(5::bigint, ts, -12, 3) AS b, locf(sum(v)) FROM (VALUES (-11::bigint, 1), (1::bigint, 2)) AS v(ts, v) GROUP BY 1;
SELECT time_bucket_gapfill(interval '1 day', ts, timestamp '1969-12-28', timestamp '1970-01-02') AS b, interpolate(avg(v)::float8)
FROM (VALUES ('1969-12-28 10:00'::timestamp, 1.0), ('1970-01-01 03:00'::timestamp, 5.0)) AS v(ts, v) GROUP BY 1;
SELECT time_bucket_gapfill(interval '1 week', d, date '1899-12-20', date '1900-01-15') AS b, count(*)
FROM (VALUES (date '1900-01-01')) AS v(d) GROUP BY 1;

-------------------------------------------------------------------------------
-- Time zones: buckets of timestamptz are UTC unless a timezone is given; with one, buckets and
-- their steps are local (DST included), in any session TimeZone.
-------------------------------------------------------------------------------
SELECT time_bucket_gapfill('2 month'::interval, ts, 'Europe/Berlin', '2000-01-01','2001-01-01') FROM (VALUES ('2000-03-01'::timestamptz)) v(ts) GROUP BY 1;
SELECT time_bucket_gapfill('2 month'::interval, ts, current_setting('timezone'), '2000-01-01','2001-01-01') FROM (VALUES ('2000-03-01'::timestamptz)) v(ts) GROUP BY 1;
SELECT time_bucket_gapfill('2 month'::interval, ts, 'UTC', '2000-01-01','2001-01-01') FROM (VALUES ('2000-03-01'::timestamptz)) v(ts) GROUP BY 1;
CREATE TABLE month_timezone(time timestamptz NOT NULL, value float);
INSERT INTO month_timezone VALUES ('2023-03-01 14:05:00+01', 3.123), ('2023-04-01 14:05:00+01',4.123), ('2023-05-01 14:05:00+01', 5.123);
SELECT time_bucket_gapfill('1 month'::interval, time, 'Europe/Berlin', '2023-01-01', '2023-07-01') AS time, sum(value) FROM month_timezone GROUP BY 1;
SELECT time_bucket_gapfill('1 month', time, 'awst','2023-01-01', '2023-07-01' ) AS month, sum(value) AS sum FROM month_timezone GROUP BY 1;
SET TIME ZONE 'Europe/Berlin';
SELECT time_bucket_gapfill('2 month'::interval, ts, 'Europe/Berlin', '2000-01-01','2001-01-01') FROM (VALUES ('2000-03-01'::timestamptz)) v(ts) GROUP BY 1;
SELECT time_bucket_gapfill('1h', time, 'Europe/Berlin', '2024-03-31T0:00Z', '2024-03-31T02:00Z') FROM (SELECT NULL::timestamptz AS time LIMIT 0) s GROUP BY 1;
SELECT time_bucket_gapfill('30 minutes', time, 'Europe/Berlin', '2024-03-31T0:00Z', '2024-03-31T02:00Z') FROM (SELECT NULL::timestamptz AS time LIMIT 0) s GROUP BY 1;
SELECT time_bucket_gapfill('1h', time, 'Europe/Berlin', '2024-10-26T23:00Z', '2024-10-27T02:00Z') FROM (SELECT NULL::timestamptz AS time LIMIT 0) s GROUP BY 1;
-- By hand: local days across the spring change (the 31st has 23 hours).
SELECT time_bucket_gapfill('1 day', time, 'Europe/Berlin', '2024-03-29', '2024-04-02'), count(*) FROM (VALUES ('2024-03-31 12:00'::timestamptz)) s(time) GROUP BY 1;
-- By hand: UTC days do not move with the session TimeZone.
SELECT time_bucket_gapfill('1 day', time, '2024-03-29 12:00Z'::timestamptz, '2024-04-02 12:00Z'::timestamptz), count(*) FROM (VALUES ('2024-03-31 12:00'::timestamptz)) s(time) GROUP BY 1;
SET TIME ZONE 'PST8PDT';
CREATE TABLE gf_tz_test(time timestamptz, tz_col text);
INSERT INTO gf_tz_test VALUES ('2024-01-01 12:00:00+00', 'Europe/London');
SELECT time_bucket_gapfill('1 day', time, 'UTC') AS bucket FROM gf_tz_test WHERE time >= '2024-01-01' AND time < '2024-01-03' GROUP BY 1 ORDER BY 1;
SELECT time_bucket_gapfill('1 day', time, case when now() > '1900-01-01 00:00:00' then 'UTC' else 'Europe/Berlin' end, '2024-01-01', '2024-01-03') AS bucket
FROM gf_tz_test GROUP BY 1 ORDER BY 1;
PREPARE param_test(text) AS
SELECT time_bucket_gapfill('1 day', time, $1) AS bucket FROM gf_tz_test WHERE time >= '2024-01-01' AND time < '2024-01-03' GROUP BY 1 ORDER BY 1;
EXECUTE param_test('UTC');
DEALLOCATE param_test;

-------------------------------------------------------------------------------
-- Errors.
-------------------------------------------------------------------------------
-- 22023 invalid_parameter_value: missing bounds, NULLs, widths, non-simple arguments.
SELECT time_bucket_gapfill(1,time) FROM metrics_int WHERE time =0 AND time < 2 GROUP BY 1;
SELECT time_bucket_gapfill(1,m2.time) FROM metrics_int m, metrics_int m2 WHERE m.time >=0 AND m.time < 2 GROUP BY 1;
SELECT time_bucket_gapfill(1,m2.time) FROM metrics_int m1 INNER JOIN metrics_int m2 ON m1.time=m2.time WHERE m1.time >=0 AND m1.time < 2 GROUP BY 1;
SELECT time_bucket_gapfill(1,m1.time) FROM metrics_int m1 LEFT OUTER JOIN metrics_int m2 ON m1.time=m2.time AND m1.time >=0 AND m1.time < 2 GROUP BY 1;
SELECT time_bucket_gapfill(1,t) FROM (VALUES (1),(2)) v(t) WHERE true AND true GROUP BY 1;
SELECT time_bucket_gapfill(1,t,1) FROM (VALUES (1),(2)) v(t) WHERE true AND true GROUP BY 1;
SELECT time_bucket_gapfill(1,t) FROM (VALUES (1),(2)) v(t) WHERE t > t AND t < 2 GROUP BY 1;
SELECT time_bucket_gapfill(1,t1::int8) FROM (VALUES (1,2),(2,2)) v(t1,t2) WHERE t1 >= 1 AND t1 <= 2 GROUP BY 1;
SELECT time_bucket_gapfill(1::int8,t::int8) FROM (VALUES (1),(2)) v(t) WHERE t >= -1 OR t < 3 GROUP BY 1;
SELECT time_bucket_gapfill('20m'::interval,time), device_id, locf(avg(v1)) FROM metrics_tstz m1
WHERE time >= (select min(time) from metrics_tstz m2 where m2.device_id = m1.device_id) AND time < (select max(time) from metrics_tstz m2)
GROUP BY 1,2 ORDER BY 2,1;
SELECT time_bucket_gapfill(1,t,CASE WHEN length(version())>0 THEN NULL::int ELSE NULL::int END,1) FROM (VALUES (1),(2)) v(t) WHERE true AND true GROUP BY 1;
SELECT time_bucket_gapfill(1,t1) FROM (VALUES (1,2),(2,2)) v(t1,t2) WHERE t1 > 0 AND t1 < CASE WHEN length(version()) > 0 THEN NULL::int ELSE NULL::int END GROUP BY 1;
SELECT time_bucket_gapfill(NULL,time,1,11) FROM (VALUES (1),(2)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(1,NULL,1,11) FROM (VALUES (1),(2)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill('1day',time,NULL,'2000-06-01','2001-06-01') FROM (VALUES ('2000-01-01'::timestamptz),('2001-01-01'::timestamptz)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(0,time,1,11) FROM (VALUES (1),(2)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(-1,time,1,11) FROM (VALUES (1),(2)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill('0d',time,'2000-01-01','2000-02-01') FROM (VALUES ('2000-01-01'::date),('2000-02-01'::date)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill('-1d',time,'2000-01-01','2000-02-01') FROM (VALUES ('2000-01-01'::timestamptz),('2000-02-01'::timestamptz)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(t,t) FROM (VALUES (1),(2)) v(t) WHERE true AND true GROUP BY 1;
SELECT time_bucket_gapfill(1, time, time - 10, 100), locf(avg(value)) FROM metrics_int m1 GROUP BY 1 ORDER BY 1;
SELECT time_bucket_gapfill(1, time, -100, time + 10), locf(avg(value)) FROM metrics_int m1 GROUP BY 1 ORDER BY 1;
SELECT 1 + time_bucket_gapfill(1,time,1,11) FROM (VALUES (1),(2)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(1,time,1,11), interpolate(min(time),next=>(SELECT ROW(10))) FROM (VALUES (1),(2)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(1,time,1,11), interpolate(min(time),prev=>(SELECT (10,10,10))) FROM (VALUES (2),(3)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(1,time,1,11), interpolate(min(time),next=>(SELECT (10::float,10))) FROM (VALUES (1),(2)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(1,time,1,11), interpolate(min(time),prev=>(SELECT (10,10::float))) FROM (VALUES (2),(3)) v(time) GROUP BY 1;
-- 0A000 feature_not_supported: misplaced calls, non-constant timezones.
SELECT time_bucket_gapfill(1,time,1,11),time_bucket_gapfill(1,time,1,11) FROM (VALUES (1),(2)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(1,time_bucket_gapfill(1,time,1,11),1,11) FROM (VALUES (1),(2)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(1,time,1,11), locf(locf(min(time))) FROM (VALUES (1),(2)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(1,time,1,11), locf(interpolate(min(time))) FROM (VALUES (1),(2)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(1,time,1,11), locf(avg(min(time)) OVER ()) FROM (VALUES (1),(2)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(1,time,1,11), avg(min(time)) OVER () + avg(min(time)) OVER () FROM (VALUES (1),(2)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(1,time,1,11), 1 + locf(min(time)) FROM (VALUES (1),(2)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(1,time,1,11), min(min(locf(time))) OVER () FROM (VALUES (1),(2)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(1,time,1,2), first(min(time),min(time)) OVER () FROM metrics_int GROUP BY 1;
SELECT time_bucket_gapfill(1,time,1,11), locf(min(time),treat_null_as_missing:=random()>0) FROM (VALUES (1),(2)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill('1 day', time, tz_col) AS bucket FROM gf_tz_test WHERE time >= '2024-01-01' AND time < '2024-01-03' GROUP BY 1 ORDER BY 1;
SELECT time_bucket_gapfill('1 day', time, (SELECT min(tz_col) FROM gf_tz_test), '2024-01-01', '2024-01-03') AS bucket FROM gf_tz_test GROUP BY 1 ORDER BY 1;
SELECT time_bucket_gapfill('1 day', time, case when random() > 0 then 'UTC' else 'Europe/Berlin' end, '2024-01-01', '2024-01-03') AS bucket
FROM gf_tz_test GROUP BY 1 ORDER BY 1;
-- 42883 undefined_function: no such overload.
SELECT time_bucket_gapfill(1,time,1,11), locf(min(time),treat_null_as_missing:=1) FROM (VALUES (1),(2)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(1,time,1,11), interpolate(text 'text') FROM (VALUES (1),(2)) v(time) GROUP BY 1;
SELECT time_bucket_gapfill(1,time,1,11), interpolate(interval '1d') FROM (VALUES (2),(3)) v(time) GROUP BY 1;
