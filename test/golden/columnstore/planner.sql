-- The planner over compressed chunks (docs/guides/planner.md): row-returning reads decode only the
-- batches their WHERE can match and hand PostgreSQL only the rows the pushed comparisons accept;
-- ORDER BY time LIMIT reads the newest (oldest) batches first; EXPLAIN shows Orbit's part above
-- PostgreSQL's plan. Every answer here equals PostgreSQL's over the same rows uncompressed.
CREATE EXTENSION timescaledb;
SET timezone TO 'UTC';
CREATE TABLE m (time timestamptz NOT NULL, host text, usage float8, n int, ok bool);
SELECT create_hypertable('m', 'time', chunk_time_interval => INTERVAL '1 day');
INSERT INTO m
SELECT '2024-05-01 00:00+00'::timestamptz + i * INTERVAL '3 minutes', 'h' || (i % 3),
  CASE WHEN i % 101 = 0 THEN NULL WHEN i % 103 = 0 THEN 'NaN' WHEN i % 107 = 0 THEN 'Infinity' WHEN i % 109 = 0 THEN '-Infinity'
    ELSE round((i * 37 % 1000) / 10.0, 1) END,
  i, i % 4 = 0
FROM generate_series(0, 1439) i;
ALTER TABLE m SET (timescaledb.compress, timescaledb.compress_segmentby = 'host', timescaledb.compress_orderby = 'time DESC');
SELECT count(compress_chunk(c)) FROM show_chunks('m', older_than => '2024-05-03'::timestamptz) c;
-- A late row in a compressed chunk (rowstore part of that chunk).
INSERT INTO m VALUES ('2024-05-01 12:00:30+00', 'h1', 99.95, -1, true);

-- Value predicates, NULL, NaN and infinities with PostgreSQL's comparison semantics.
SELECT * FROM m WHERE usage > 99.8 ORDER BY time, host;
SELECT * FROM m WHERE usage = 'NaN' ORDER BY time;
SELECT time, usage FROM m WHERE usage >= 'Infinity' OR usage = '-Infinity' ORDER BY time;
SELECT count(*) FROM m WHERE usage IS NULL;
SELECT count(*) FROM m WHERE usage < 'NaN' AND usage > '-Infinity';
SELECT host, count(*) FROM m WHERE usage <> 0 AND ok AND time < '2024-05-02' GROUP BY host ORDER BY host;
SELECT time, host, n FROM m WHERE host IN ('h0', 'h2') AND n BETWEEN 100 AND 105 ORDER BY time;
SELECT time, n FROM m WHERE n IN (3, 700, NULL) ORDER BY time;
SELECT count(*) FROM m WHERE time > now() - INTERVAL '100 years' AND usage > 50;

-- Ordered append: the newest (oldest) batches only, the rowstore's rows included.
SELECT time, host, usage FROM m ORDER BY time DESC LIMIT 3;
SELECT time, host, usage FROM m WHERE time < '2024-05-02' ORDER BY time DESC LIMIT 3;
SELECT time, host, usage FROM m WHERE host = 'h1' AND time < '2024-05-01 12:01' ORDER BY time DESC LIMIT 2;
SELECT time, host FROM m ORDER BY time ASC LIMIT 2 OFFSET 1;
SELECT time, usage FROM m WHERE usage > 99 ORDER BY time DESC LIMIT 0;

-- EXPLAIN: Orbit's plan above PostgreSQL's.
EXPLAIN (COSTS OFF) SELECT * FROM m WHERE usage > 99.8 AND time < '2024-05-02';
EXPLAIN (COSTS OFF) SELECT time, usage FROM m WHERE host = 'h1' ORDER BY time DESC LIMIT 2;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) SELECT count(*) FROM m WHERE n < 10 AND (usage > 5 OR ok);
EXPLAIN (COSTS OFF) SELECT host, max(usage) FROM m WHERE time >= '2024-05-02' GROUP BY host;
-- Comparisons of value columns in an aggregate: evaluated by the kernels row by row.
SELECT host, count(*), max(usage), min(n) FROM m WHERE usage > 90 AND n IS NOT NULL AND NOT ok GROUP BY host ORDER BY host;
EXPLAIN (COSTS OFF) SELECT host, count(*) FROM m WHERE usage > 90 AND n IS NOT NULL GROUP BY host;
-- Aggregates ORDER BY the bucket LIMIT n: the kernels get only the first n non-empty buckets.
SELECT time_bucket('1 hour', time) AS hour, max(usage), count(*) FROM m WHERE time < '2024-05-02 06:00' GROUP BY hour ORDER BY hour DESC LIMIT 3;
SELECT time_bucket('1 hour', time) AS hour, min(n), count(*) FROM m WHERE host = 'h1' GROUP BY hour ORDER BY 1 LIMIT 2 OFFSET 11;
EXPLAIN (COSTS OFF) SELECT time_bucket('1 hour', time) AS hour, max(usage) FROM m WHERE time < '2024-05-02 06:00' GROUP BY hour ORDER BY hour DESC LIMIT 3;
EXPLAIN (COSTS OFF) SELECT DISTINCT ON (host) host, time FROM m ORDER BY host, time DESC;
-- Statements with nothing to prune by keep the general path and PostgreSQL's own EXPLAIN.
EXPLAIN (COSTS OFF) SELECT count(*) FROM (SELECT * FROM m a JOIN m b USING (time, host)) x;

-- Inside a transaction block, and errors are PostgreSQL's.
BEGIN;
SELECT count(*) FROM m WHERE usage > 90;
SELECT time, n FROM m WHERE n > 1430 ORDER BY time DESC LIMIT 2;
ROLLBACK;
SELECT * FROM m WHERE time > 'yesterday-ish';
SELECT * FROM m WHERE n > 'x';
