-- Orbit smoke script: one statement of each shape the session layer tells apart.
-- Used by test/runtimes/*: every runtime must classify it exactly as Node does.
CREATE TABLE metrics (time timestamptz NOT NULL, device_id int, cpu double precision, note text);
INSERT INTO metrics (time, device_id, cpu, note) VALUES
  ('2025-01-01 00:00:00+00', 1, 0.50, 'a'),
  ('2025-01-01 00:01:00+00', 2, 0.75, 'b'),
  ('2025-01-01 00:02:00+00', 1, 0.25, 'c');
SELECT device_id, date_trunc('minute', time) AS minute, avg(cpu) AS avg_cpu
  FROM public.metrics GROUP BY device_id, minute ORDER BY 1, 2;
SET TimeZone = 'Europe/Berlin';
SHOW TimeZone;
BEGIN;
/* Non-ASCII text: byte offsets (libpg-query) and character offsets (JS) diverge from here on. */
INSERT INTO metrics VALUES (now(), 3, 0.1, 'Grüße aus Köln — 東京 ✓ 🚀');
COMMIT;
PREPARE by_device (int) AS SELECT * FROM metrics WHERE device_id = $1;
EXECUTE by_device(1);
DEALLOCATE by_device;
LISTEN metric_events;
NOTIFY metric_events, 'ping';
COPY metrics (time, device_id, cpu, note) FROM STDIN WITH (FORMAT csv);
COPY (SELECT * FROM metrics WHERE cpu > 0.3) TO STDOUT WITH (FORMAT csv, HEADER);
CREATE TEMP TABLE scratch (LIKE metrics);
SELECT set_config('application_name', 'orbit-smoke', false);
