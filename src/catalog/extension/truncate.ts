/**
 * @module catalog/extension/truncate
 * TRUNCATE of a hypertable removes its chunks in TimescaleDB, not just their rows. PostgreSQL's
 * TRUNCATE of a partitioned table keeps the partitions, and they cannot be dropped from inside the
 * TRUNCATE (a trigger would find them "in use by active queries"), so Orbit's session layer calls
 * `orbit_drop_empty_chunks` once the statement is done (src/session/hypertable-routing.ts). Only
 * chunks that are still empty go: rows written after the TRUNCATE in the same transaction keep theirs
 * (and with a space dimension, the other chunks of their time slice too).
 */
import { CATALOG_SCHEMA as C, FIXED_SEARCH_PATH as PATH, FUNCTIONS_SCHEMA as F } from './schemas.js';

export function truncateSql(): string {
  return `
CREATE FUNCTION ${F}.orbit_drop_empty_chunks(hypertable regclass) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER ${PATH} AS $body$
DECLARE
  h integer := ${F}.orbit_hypertable_id(hypertable);
  c record;
  empty boolean;
  kept bigint[] := '{}';
  n integer := 0;
BEGIN
  IF h IS NULL THEN
    RETURN 0;
  END IF;
  -- A time slice's chunks go together (with a space dimension, its hash partitions must all exist).
  FOR c IN SELECT * FROM ${C}.chunk WHERE hypertable_id = h AND NOT dropped ORDER BY id LOOP
    EXECUTE format('SELECT NOT EXISTS (SELECT FROM %I.%I)', c.schema_name, c.table_name) INTO empty;
    IF NOT empty THEN
      kept := kept || c.range_start;
    END IF;
  END LOOP;
  FOR c IN SELECT * FROM ${C}.chunk WHERE hypertable_id = h AND NOT dropped AND NOT range_start = ANY (kept) ORDER BY id LOOP
    EXECUTE format('DROP TABLE %I.%I', c.schema_name, c.table_name);
    DELETE FROM ${C}.chunk WHERE id = c.id;
    n := n + 1;
  END LOOP;
  -- With a space dimension, time-slice tables left without chunks go too (as in drop_chunks).
  PERFORM ${F}.orbit_drop_empty_slices(h);
  RETURN n;
END
$body$;
`;
}
