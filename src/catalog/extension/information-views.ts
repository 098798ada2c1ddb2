/**
 * @module catalog/extension/information-views
 * `timescaledb_information.hypertables`, `.dimensions`, `.chunks` (exact columns of TimescaleDB 2.29
 * `sql/views.sql`, timescale_api.md §1.8) and the size functions of §1.7.
 */
import { CATALOG_SCHEMA as C, EXTENSION_SCHEMA as EXT, FUNCTIONS_SCHEMA as F } from './schemas.js';
const INFO = 'timescaledb_information';
const INT_TYPES = "('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype)";

export function informationViewsSql(): string {
  return `
CREATE VIEW ${INFO}.hypertables AS
SELECT h.schema_name AS hypertable_schema, h.table_name AS hypertable_name,
  pg_get_userbyid(c.relowner)::name AS owner, h.num_dimensions,
  (SELECT count(*) FROM ${C}.chunk ch WHERE ch.hypertable_id = h.id AND NOT ch.dropped) AS num_chunks,
  h.compression_state = 1 AS compression_enabled, NULL::name[] AS tablespaces,
  d.column_name AS primary_dimension, d.column_type AS primary_dimension_type
FROM ${C}.hypertable h
JOIN pg_catalog.pg_class c ON c.oid = h.relid
LEFT JOIN LATERAL (SELECT * FROM ${C}.dimension dd WHERE dd.hypertable_id = h.id ORDER BY dd.id LIMIT 1) d ON true;

CREATE VIEW ${INFO}.dimensions AS
SELECT h.schema_name AS hypertable_schema, h.table_name AS hypertable_name,
  row_number() OVER (PARTITION BY h.id ORDER BY d.id) AS dimension_number,
  d.column_name, d.column_type,
  CASE WHEN d.interval_length IS NULL THEN 'Space' ELSE 'Time' END AS dimension_type,
  CASE WHEN d.interval_length IS NOT NULL AND d.column_type NOT IN ${INT_TYPES}
    THEN ${F}.to_interval(d.interval_length) END AS time_interval,
  CASE WHEN d.column_type IN ${INT_TYPES} THEN d.interval_length END AS integer_interval,
  d.integer_now_func, d.num_slices AS num_partitions
FROM ${C}.hypertable h JOIN ${C}.dimension d ON d.hypertable_id = h.id;

CREATE VIEW ${INFO}.chunks AS
SELECT h.schema_name AS hypertable_schema, h.table_name AS hypertable_name,
  ch.schema_name AS chunk_schema, ch.table_name AS chunk_name,
  d.column_name AS primary_dimension, d.column_type AS primary_dimension_type,
  CASE WHEN d.column_type NOT IN ${INT_TYPES} THEN ${F}.orbit_to_timestamptz(ch.range_start) END AS range_start,
  CASE WHEN d.column_type NOT IN ${INT_TYPES} THEN ${F}.orbit_to_timestamptz(ch.range_end) END AS range_end,
  CASE WHEN d.column_type IN ${INT_TYPES} THEN ch.range_start END AS range_start_integer,
  CASE WHEN d.column_type IN ${INT_TYPES} THEN ch.range_end END AS range_end_integer,
  ch.compressed_chunk_id IS NOT NULL AS is_compressed, NULL::name AS chunk_tablespace,
  ch.creation_time AS chunk_creation_time
FROM ${C}.chunk ch
JOIN ${C}.hypertable h ON h.id = ch.hypertable_id
JOIN LATERAL (SELECT * FROM ${C}.dimension dd WHERE dd.hypertable_id = h.id ORDER BY dd.id LIMIT 1) d ON true
WHERE NOT ch.dropped AND NOT ch.osm_chunk;

GRANT SELECT ON ${INFO}.hypertables, ${INFO}.dimensions, ${INFO}.chunks TO PUBLIC;

-- Sizes of one relation: heap (all forks), indexes, TOAST (with its index), total.
CREATE FUNCTION ${F}.orbit_relation_size(rel regclass, OUT table_bytes bigint, OUT index_bytes bigint, OUT toast_bytes bigint, OUT total_bytes bigint)
LANGUAGE sql STABLE AS $body$
  SELECT pg_relation_size(rel, 'main') + pg_relation_size(rel, 'fsm') + pg_relation_size(rel, 'vm') + pg_relation_size(rel, 'init'),
    pg_indexes_size(rel),
    coalesce((SELECT pg_total_relation_size(c.reltoastrelid) FROM pg_catalog.pg_class c WHERE c.oid = rel AND c.reltoastrelid <> 0), 0),
    pg_total_relation_size(rel)
$body$;

CREATE FUNCTION ${EXT}.hypertable_detailed_size(hypertable regclass)
RETURNS TABLE(table_bytes bigint, index_bytes bigint, toast_bytes bigint, total_bytes bigint, node_name name)
LANGUAGE sql STABLE AS $body$
  SELECT sum(s.table_bytes)::bigint, sum(s.index_bytes)::bigint, sum(s.toast_bytes)::bigint, sum(s.total_bytes)::bigint, NULL::name
  FROM pg_catalog.pg_partition_tree(hypertable) t, ${F}.orbit_relation_size(t.relid) s
  WHERE ${F}.orbit_hypertable_id(hypertable) IS NOT NULL
  HAVING count(*) > 0
$body$;

CREATE FUNCTION ${EXT}.hypertable_size(hypertable regclass) RETURNS bigint
LANGUAGE sql STABLE AS $body$ SELECT total_bytes FROM ${EXT}.hypertable_detailed_size(hypertable) $body$;

CREATE FUNCTION ${EXT}.chunks_detailed_size(hypertable regclass)
RETURNS TABLE(chunk_schema name, chunk_name name, table_bytes bigint, index_bytes bigint, toast_bytes bigint, total_bytes bigint, node_name name)
LANGUAGE sql STABLE AS $body$
  SELECT ch.schema_name, ch.table_name, s.table_bytes, s.index_bytes, s.toast_bytes, s.total_bytes, NULL::name
  FROM ${C}.chunk ch, ${F}.orbit_relation_size(format('%I.%I', ch.schema_name, ch.table_name)::regclass) s
  WHERE ch.hypertable_id = ${F}.orbit_hypertable_id(hypertable) AND NOT ch.dropped
  ORDER BY ch.id
$body$;

CREATE FUNCTION ${EXT}.approximate_row_count(relation regclass) RETURNS bigint
LANGUAGE sql STABLE AS $body$
  -- The leaves only: a partitioned table's own reltuples already counts its partitions' rows.
  SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint FROM pg_catalog.pg_class c
  WHERE c.relkind <> 'p'
    AND (c.oid = relation OR c.oid IN (SELECT t.relid FROM pg_catalog.pg_partition_tree(relation) t WHERE t.isleaf))
$body$;
`;
}
