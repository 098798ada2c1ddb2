-- CREATE EXTENSION timescaledb installs the TimescaleDB SQL API natively; DROP EXTENSION removes it.
-- Expected: PostgreSQL's extension behaviour, with TimescaleDB 2.29.2's version, comment and schemas
-- (timescale_api.md §0).

-- Available but not installed.
SELECT extname FROM pg_extension WHERE extname = 'timescaledb';
SELECT name, default_version, installed_version FROM pg_available_extensions WHERE name = 'timescaledb';

-- Extension creation is transactional.
BEGIN;
CREATE EXTENSION timescaledb;
ROLLBACK;
SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb';

CREATE EXTENSION timescaledb;
-- 42710 duplicate_object: extension "timescaledb" already exists.
CREATE EXTENSION timescaledb;
CREATE EXTENSION IF NOT EXISTS timescaledb;

SELECT extname, extversion, extnamespace::regnamespace AS schema, extrelocatable
FROM pg_extension WHERE extname = 'timescaledb';

-- What psql's \dx shows.
SELECT e.extname AS "Name", e.extversion AS "Version", n.nspname AS "Schema", c.description AS "Description"
FROM pg_catalog.pg_extension e
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
LEFT JOIN pg_catalog.pg_description c ON c.objoid = e.oid AND c.classoid = 'pg_catalog.pg_extension'::pg_catalog.regclass
WHERE e.extname = 'timescaledb'
ORDER BY 1;

-- TimescaleDB's schemas, all members of the extension.
SELECT nspname FROM pg_namespace WHERE nspname LIKE '%timescaledb%' ORDER BY nspname COLLATE "C";
SELECT count(*) FROM pg_depend d
WHERE d.classid = 'pg_namespace'::regclass
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'timescaledb')
  AND d.deptype = 'e';
SELECT has_schema_privilege('public', 'timescaledb_information', 'USAGE');

-- The user-facing functions live in the extension's schema and are IMMUTABLE and PARALLEL SAFE.
SELECT DISTINCT pronamespace::regnamespace AS schema, provolatile, proparallel FROM pg_proc WHERE proname = 'time_bucket';
SELECT to_regprocedure('time_bucket(interval, timestamptz, text, timestamptz, interval)') IS NOT NULL AS timezone_variant;
SELECT time_bucket('1 hour', TIMESTAMP '2020-01-01 10:30:00');

-- Objects that use the extension keep it from being dropped (2BP01) unless CASCADE.
CREATE VIEW hourly AS SELECT time_bucket('1 hour', TIMESTAMP '2020-01-01 10:30:00') AS b;
DROP EXTENSION timescaledb;
DROP EXTENSION timescaledb CASCADE;
SELECT to_regclass('hourly');

-- DROP EXTENSION removed everything.
SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb';
SELECT nspname FROM pg_namespace WHERE nspname LIKE '%timescaledb%';
SELECT count(*) FROM pg_proc WHERE proname = 'time_bucket' OR proname LIKE 'orbit\_%';
SELECT time_bucket('1 hour', TIMESTAMP '2020-01-01 10:30:00');
-- 42704 undefined_object: extension "timescaledb" does not exist.
DROP EXTENSION timescaledb;
DROP EXTENSION IF EXISTS timescaledb;

-- Re-created, in another schema: the functions follow it (@extschema@).
CREATE SCHEMA tsdb;
CREATE EXTENSION timescaledb SCHEMA tsdb;
SELECT extname, extversion, extnamespace::regnamespace AS schema FROM pg_extension WHERE extname = 'timescaledb';
SELECT tsdb.time_bucket('1 hour', TIMESTAMP '2020-01-01 10:30:00');
SELECT tsdb.time_bucket('1 hour', TIMESTAMP '2020-01-01 10:30:00', "offset" => INTERVAL '15 minutes');
DROP EXTENSION timescaledb;
CREATE EXTENSION timescaledb;
SELECT extname, extversion, extnamespace::regnamespace AS schema FROM pg_extension WHERE extname = 'timescaledb';
SELECT time_bucket(INTERVAL '1 week', DATE '2018-09-16');

-- Trusted (since 2.1.1): a role with CREATE on the database may install it, and owns the extension.
DROP EXTENSION timescaledb;
CREATE ROLE tsdb_owner;
GRANT CREATE ON DATABASE postgres TO tsdb_owner;
SET ROLE tsdb_owner;
CREATE EXTENSION timescaledb;
RESET ROLE;
SELECT extname, extowner::regrole AS owner FROM pg_extension WHERE extname = 'timescaledb';

-- TimescaleDB's settings exist in every session with their defaults (as when its library is
-- preloaded), whether or not the extension is installed; SET and RESET work as for any setting.
SHOW timescaledb.max_background_workers;
SHOW timescaledb.telemetry_level;
SELECT current_setting('timescaledb.enable_chunk_skipping') AS enable_chunk_skipping,
       current_setting('timescaledb.max_tuples_decompressed_per_dml_transaction') AS max_tuples;
SET timescaledb.enable_chunk_skipping = on;
SHOW timescaledb.enable_chunk_skipping;
RESET timescaledb.enable_chunk_skipping;
SHOW timescaledb.enable_chunk_skipping;
