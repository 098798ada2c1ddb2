-- histogram(value, min, max, nbuckets) (timescale_api.md §1.2). Expected values: TimescaleDB's
-- regression test (test/sql/histogram.sql, test/expected/histogram.out) where the query is theirs, the
-- docs (api/histogram: nbuckets + 2 counts, buckets closed below and open above), and by hand from
-- src/histogram.c, which takes the bucket from PostgreSQL's width_bucket.
SET TIME ZONE 'UTC';
SELECT histogram(1, 0, 10, 2);
CREATE EXTENSION timescaledb;

CREATE TABLE hitest1 (key real, val varchar(40));
INSERT INTO hitest1 VALUES (0, 'hi'), (1, 'sup'), (2, 'hello'), (3, 'yo'), (4, 'howdy'), (5, 'hola'), (6, 'ya'),
                           (1, 'sup'), (2, 'hello'), (1, 'sup');
CREATE TABLE hitest2 (name varchar(30), score integer, qualify boolean);
INSERT INTO hitest2 VALUES ('Tom', 6, TRUE), ('Mary', 4, FALSE), ('Jaq', 3, FALSE), ('Jane', 10, TRUE);

SELECT histogram(key, 0, 9, 2) FROM hitest1;
SELECT histogram(key, 0, 9, 5) FROM hitest1;
SELECT val, histogram(key, 0, 7, 3) FROM hitest1 GROUP BY val ORDER BY val;
-- Below min, above max, both.
SELECT histogram(key, 1, 7, 3) FROM hitest1;
SELECT histogram(key, 0, 3, 3) FROM hitest1;
SELECT histogram(key, 1, 3, 2) FROM hitest1;
SELECT histogram(key, 1, 3, 1) FROM hitest1;
SELECT qualify, histogram(score, 0, 10, 2) FROM hitest2 GROUP BY qualify ORDER BY qualify;
SELECT qualify, histogram(score, 0, 10, 5) FROM hitest2 GROUP BY qualify ORDER BY qualify;

-- Bucket edges (by hand): min falls in bucket 1, max in the overflow bucket; negative ranges.
SELECT histogram(x, 0, 10, 5) FROM unnest(ARRAY[-0.000001, 0, 1.999999, 2, 9.999999, 10, 10.5]::float8[]) x;
SELECT histogram(x, -10, -5, 5) FROM generate_series(-12, -3) x;
SELECT histogram(x, -1, 1, 4) FROM unnest(ARRAY[-1, -0.5, -0.25, 0, 0.25, 0.5, 0.999, 1]::float8[]) x;
-- Infinite values go to the outer buckets.
SELECT histogram(x, 0, 1, 1) FROM unnest(ARRAY['-infinity', 'infinity', 0.5]::float8[]) x;
-- Huge bounds (TimescaleDB's weather test: width_bucket must not produce NaN).
SELECT histogram(x, -1.79769e+308, 1.79769e+308, 10) FROM unnest(ARRAY[10.4, 10.3, 9.7, 11.7]::float8[]) x;
-- One bucket per value of a large range.
SELECT h[1:4] AS head, h[1000:1002] AS tail, cardinality(h) AS n, (SELECT sum(c) FROM unnest(h) c) AS total
FROM (SELECT histogram(x, 0, 1000, 1000) AS h FROM generate_series(0, 999) x) s;

-- Empty input and NULLs: no rows give NULL; NULL values are skipped (Orbit; see functions.md).
SELECT histogram(key, 0, 9, 2) FROM hitest1 WHERE false;
SELECT histogram(x, 0, 9, 2) FROM unnest(ARRAY[1, NULL, 5, NULL]::float8[]) x;
SELECT histogram(x, 0, 9, 2) FROM unnest(ARRAY[NULL, NULL]::float8[]) x;

-- Errors: TimescaleDB's own checks (XX000), then width_bucket's (2201G).
SELECT histogram(i, 10, 90, CASE WHEN i = 1 THEN 1 ELSE 1000000 END) FROM generate_series(1, 100) i;
SELECT histogram(key, 9, 0, 2) FROM hitest1;
SELECT histogram(key, 1, 1, 2) FROM hitest1;
SELECT histogram(key, 0, 9, 0) FROM hitest1;
SELECT histogram(key, 0, 9, -1) FROM hitest1;
SELECT histogram(key, 0, 'infinity', 2) FROM hitest1;
SELECT histogram('NaN', 0, 9, 2);
SELECT histogram(1, 'NaN', 9, 2);
-- The checks run per row: an empty group raises nothing.
SELECT histogram(key, 9, 0, 0) FROM hitest1 WHERE false;
SELECT pg_typeof(histogram(1, 0, 1, 1));
