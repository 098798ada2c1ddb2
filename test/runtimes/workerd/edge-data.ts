/**
 * Seeded data and queries shared by the edge tests: a TSBS-like `cpu` hypertable, rows generated from
 * their index (no randomness, no downloads), and time-series queries whose answers must be the same
 * on the edge and Node engines. Float values are multiples of 0.25, so sums are exact in any order.
 */

export const EDGE_SCHEMA = [
  'CREATE TABLE cpu (time timestamptz NOT NULL, host text, usage double precision, n integer)',
  "SELECT create_hypertable('cpu', by_range('time'))",
  "ALTER TABLE cpu SET (timescaledb.compress, timescaledb.compress_segmentby = 'host', timescaledb.compress_orderby = 'time DESC')",
];

const START = Date.UTC(2024, 0, 1);

/** INSERT statements for `points` readings 10 minutes apart from each of `hosts` hosts, 500 rows each. */
export function edgeDataSql(hosts: number, points: number): string[] {
  const rows: string[] = [];
  for (let k = 0; k < points; k++) {
    const time = new Date(START + k * 600_000).toISOString();
    for (let h = 0; h < hosts; h++) {
      const usage = ((k * 7 + h * 13) % 400) / 4;
      const n = (k * 3 + h) % 100;
      // Every 97th reading has no usage: NULLs must be skipped alike.
      rows.push(`('${time}', 'host_${h}', ${k % 97 === 5 ? 'NULL' : usage}, ${n})`);
    }
  }
  const out: string[] = [];
  for (let i = 0; i < rows.length; i += 500) out.push(`INSERT INTO cpu (time, host, usage, n) VALUES ${rows.slice(i, i + 500).join(', ')}`);
  return out;
}

export const EDGE_QUERIES = [
  'SELECT count(*), count(usage), sum(n), avg(n), min(usage), max(usage), avg(usage), sum(usage) FROM cpu',
  "SELECT time_bucket('1 hour', time) AS bucket, host, avg(usage), max(n), count(*) FROM cpu WHERE time >= '2024-01-03 00:00:00+00' AND time < '2024-01-03 12:00:00+00' GROUP BY bucket, host ORDER BY bucket, host",
  "SELECT time_bucket('1 day', time) AS day, count(*), min(n) FROM cpu GROUP BY 1 ORDER BY 1 DESC",
  "SELECT time_bucket('1 day', time, 'Europe/Berlin') AS day, count(*) FROM cpu GROUP BY day ORDER BY day",
  "SELECT time_bucket('6 hours', time, origin => '2024-01-01 03:00:00+00'::timestamptz) AS b, sum(usage) FROM cpu WHERE host = 'host_1' GROUP BY b ORDER BY b LIMIT 5",
  "SELECT time_bucket(INTERVAL '15 minutes', time, INTERVAL '5 minutes') AS b, count(*) FROM cpu WHERE time < '2024-01-01 02:00:00+00' GROUP BY b ORDER BY b",
  'SELECT host, first(usage, time), last(usage, time), first(n, time), last(time, time) FROM cpu GROUP BY host ORDER BY host',
  'SELECT DISTINCT ON (host) host, time, usage, n FROM cpu ORDER BY host, time DESC',
  "SELECT time, host, usage FROM cpu WHERE host = 'host_1' ORDER BY time DESC LIMIT 5",
  "SELECT time, usage FROM cpu WHERE host = 'host_2' AND time > '2024-01-05 10:00:00+00' ORDER BY time LIMIT 4 OFFSET 2",
  "SELECT count(*) FROM cpu WHERE usage > 90 AND host IN ('host_0', 'host_2')",
  "SELECT host, count(*) FROM cpu WHERE usage IS NULL GROUP BY host ORDER BY host",
  'SELECT host, max(usage) - min(usage) AS spread FROM cpu GROUP BY host HAVING avg(n) > 49 ORDER BY spread DESC, host',
  "SELECT time, n * 2 AS double_n, usage / 4 AS quarter FROM cpu WHERE time BETWEEN '2024-01-02 00:00:00+00' AND '2024-01-02 00:30:00+00' AND host = 'host_0' ORDER BY time",
  "SET TimeZone = 'America/New_York'; SELECT time, time_bucket('1 day', time) AS local_day FROM cpu WHERE host = 'host_0' ORDER BY time LIMIT 3",
  "SET TimeZone = 'Asia/Kathmandu'; SELECT time_bucket('1 day', time) AS d, count(*) FROM cpu GROUP BY d ORDER BY d LIMIT 2",
  "SELECT avg(n)::float8 AS f, sum(n)::numeric AS s, count(*) > 100 AS many FROM cpu WHERE host <> 'host_0'",
  "SELECT time_bucket_gapfill('1 hour', time) AS b, host, avg(usage), locf(avg(usage)), interpolate(avg(usage)), count(*) FROM cpu WHERE time >= '2024-01-02 00:00:00+00' AND time < '2024-01-02 08:00:00+00' AND host IN ('host_0', 'host_1') AND (n < 15 OR n > 80) GROUP BY b, host ORDER BY host, b",
  "SELECT time_bucket_gapfill(INTERVAL '30 minutes', time, TIMESTAMPTZ '2024-01-01 00:00:00+00', TIMESTAMPTZ '2024-01-01 04:00:00+00') AS b, count(*), max(n) FROM cpu WHERE host = 'host_0' AND time < '2024-01-01 03:00:00+00' AND n > 50 GROUP BY b ORDER BY b",
  "SELECT time_bucket_gapfill('1 hour', time) AS b, sum(n) FROM cpu WHERE time > '2024-01-03 00:00:00+00' AND time <= '2024-01-03 05:00:00+00' AND n < 10 GROUP BY b ORDER BY b DESC",
  "SELECT time_bucket_gapfill('1 hour', time) AS b, count(*) FROM cpu WHERE time >= '2024-01-03 00:00:00+00' GROUP BY b",
  // Shapes the columnstore kernels take (src/edge/pushdown.ts): sealed batches and buffered rows merged.
  "SELECT host, time_bucket('1 hour', time) AS b, count(*), count(usage), sum(usage), min(n), max(usage), first(usage, time), last(n, time) FROM cpu WHERE host IN ('host_0', 'host_2') AND time >= '2024-01-02 00:00:00+00' AND time < '2024-01-04 00:00:00+00' GROUP BY host, b ORDER BY host, b",
  "SELECT time_bucket('3 hours', time, INTERVAL '30 minutes') AS b, avg(n), sum(n), min(time), max(time) FROM cpu WHERE time > '2024-01-05 07:00:00+00' GROUP BY b ORDER BY b",
  "SELECT count(*), min(time), max(time), avg(usage), sum(usage) FROM cpu WHERE time BETWEEN '2024-01-01 12:00:00+00' AND '2024-01-09 00:00:00+00'",
  "SELECT host, count(*), avg(usage) FROM cpu WHERE host = 'host_1' GROUP BY host HAVING count(*) > 10 ORDER BY 2 DESC, 1",
  "SELECT time_bucket('1 day', time, origin => '2024-01-01 06:00:00+00'::timestamptz) AS d, host, last(usage, time), first(host, time) FROM cpu GROUP BY d, host ORDER BY d DESC, host LIMIT 7",
  "SELECT time_bucket('2 hours', time) AS b, max(n) - min(n) AS spread, count(n) FROM cpu WHERE time < '2024-01-01 06:00:00+00' GROUP BY b ORDER BY b",
  "SELECT show_chunks('cpu')",
  "SELECT * FROM show_chunks('cpu', older_than => '2024-01-08 00:00:00+00'::timestamptz)",
  'SELECT nope FROM cpu',
  'SELECT * FROM missing_table',
  "SELECT drop_chunks('cpu', older_than => '2024-01-04 00:00:00+00'::timestamptz)",
  'SELECT count(*), min(time), max(time) FROM cpu',
  "SELECT show_chunks('cpu')",
];

/**
 * The streaming COPY tests' table: TSBS-like, 10 columns. Rows are 3 s apart, so every one-hour
 * chunk gets 1,200 rows (sealed once, the rest buffered); 150,000 rows (11 MiB of CSV) make 125
 * chunks. Floats are multiples of 0.25, so sums are exact in any order.
 */
export const STREAM_SCHEMA = [
  'CREATE TABLE metrics (time timestamptz NOT NULL, hostname text, region text, usage_user double precision, usage_system double precision, usage_idle double precision, usage_nice double precision, usage_iowait double precision, usage_irq double precision, n integer)',
  "SELECT create_hypertable('metrics', by_range('time', INTERVAL '1 hour'))",
];
export const STREAM_ROWS = 150_000;
export const STREAM_HOURS = Math.ceil((STREAM_ROWS * 3) / 3600);
export const STREAM_COPY = 'COPY metrics FROM STDIN (FORMAT csv)';

function streamFields(i: number): string[] {
  return [
    new Date(START + i * 3000).toISOString(),
    `host_${i % 100}`,
    // A quoted field with the delimiter, now and then (the reader must keep it whole across chunks).
    i % 7 === 0 ? `"region, ${i % 5}"` : `region_${i % 5}`,
    ...Array.from({ length: 6 }, (_, k) => (((i * 31 + k * 17) % 400) / 4).toString()),
    i % 97 === 3 ? '' : String(i % 1000),
  ];
}

/** CSV rows `from` … `from + n - 1` (an empty n is NULL). */
export function streamCsv(from: number, n: number): string {
  let out = '';
  for (let i = from; i < from + n; i++) out += streamFields(i).join(',') + '\n';
  return out;
}

/** The same rows as one multi-row INSERT. */
export function streamInsert(from: number, n: number): string {
  const rows: string[] = [];
  for (let i = from; i < from + n; i++) {
    const f = streamFields(i);
    rows.push(`('${f[0]}', '${f[1]}', '${f[2]!.replace(/"/g, '')}', ${f.slice(3, 9).join(', ')}, ${f[9] === '' ? 'NULL' : f[9]})`);
  }
  return `INSERT INTO metrics VALUES ${rows.join(', ')}`;
}

/** Queries over the streamed table whose answers must be Node's. */
export const STREAM_QUERIES = [
  'SELECT count(*), count(n), sum(n), min(usage_user), max(usage_idle), sum(usage_system), avg(usage_irq) FROM metrics',
  "SELECT time_bucket('6 hours', time) AS b, region, count(*), sum(usage_user), max(n) FROM metrics WHERE time < '2024-01-02' GROUP BY b, region ORDER BY b, region",
  "SELECT time_bucket('1 day', time) AS d, count(*), sum(usage_user), max(n), min(usage_irq) FROM metrics GROUP BY d ORDER BY d",
  "SELECT hostname, first(usage_nice, time), last(usage_iowait, time), count(*) FROM metrics WHERE time < '2024-01-02' GROUP BY hostname ORDER BY hostname LIMIT 10",
  "SELECT time, hostname, region, usage_user, n FROM metrics WHERE time >= '2024-01-06 04:00:00+00' ORDER BY time DESC, hostname LIMIT 5",
  "SELECT count(*), sum(usage_user) FROM metrics WHERE time < '2024-01-03' AND (n IS NULL OR region = 'region, 0')",
];
