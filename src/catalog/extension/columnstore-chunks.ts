/**
 * @module catalog/extension/columnstore-chunks
 * Chunks in the columnstore: the catalog of compressed chunks, `compress_chunk` / `decompress_chunk`
 * (and the `convert_to_columnstore` / `convert_to_rowstore` procedures), the stats functions.
 *
 * PostgreSQL cannot call into Orbit, so the functions check what TimescaleDB checks, record a
 * request in `orbit_columnstore_request` and return as TimescaleDB does; Orbit's session layer
 * carries the requests out once the transaction that made them has committed
 * (session/columnstore/compression-requests.ts): it reads the chunk's rows, writes batches to the storage adapter, and
 * then in one transaction empties the chunk table and points the chunk at the batches' manifest
 * (docs/design/columnstore.md). Until then the rows are still in the chunk table, so reads in the
 * requesting transaction see them.
 */
import { ErrCode as E } from './errcodes.js';
import { CATALOG_SCHEMA as C, EXTENSION_SCHEMA as EXT, FIXED_SEARCH_PATH as PATH, FUNCTIONS_SCHEMA as F } from './schemas.js';

/** TimescaleDB's chunk status bits (src/ts_catalog/catalog.h). */
export const CHUNK_STATUS_COMPRESSED = 1;
/** Batches not in compress_orderby order across the chunk (direct ingest appends them). */
export const CHUNK_STATUS_COMPRESSED_UNORDERED = 2;

const STATS_COLUMNS = `before_compression_table_bytes bigint, before_compression_index_bytes bigint,
  before_compression_toast_bytes bigint, before_compression_total_bytes bigint, after_compression_table_bytes bigint,
  after_compression_index_bytes bigint, after_compression_toast_bytes bigint, after_compression_total_bytes bigint, node_name name`;

export function columnstoreChunksSql(): string {
  return `
-- A chunk whose rows are column batches in Orbit's storage (chunk.compressed_chunk_id points here).
CREATE TABLE ${C}.orbit_columnstore_chunk (
  id serial PRIMARY KEY,
  chunk_id integer NOT NULL UNIQUE REFERENCES ${C}.chunk (id) ON DELETE CASCADE,
  -- Storage key of the manifest of the batches (columnstore/store.ts).
  manifest text NOT NULL,
  row_count bigint NOT NULL,
  batch_count integer NOT NULL,
  -- NULL when the rows never were in the chunk table (direct ingest), as TimescaleDB reports them.
  before_table_bytes bigint,
  before_index_bytes bigint,
  before_toast_bytes bigint,
  before_total_bytes bigint,
  -- Bytes of the batch and manifest objects.
  after_bytes bigint NOT NULL
);
GRANT SELECT ON ${C}.orbit_columnstore_chunk TO PUBLIC;

-- Conversions asked for by compress_chunk / decompress_chunk, carried out by Orbit after commit.
CREATE TABLE ${C}.orbit_columnstore_request (
  id serial PRIMARY KEY,
  chunk_id integer NOT NULL UNIQUE REFERENCES ${C}.chunk (id) ON DELETE CASCADE,
  op text NOT NULL CHECK (op IN ('compress', 'decompress'))
);
GRANT SELECT ON ${C}.orbit_columnstore_request TO PUBLIC;

-- The chunk row of a chunk table, checked as TimescaleDB checks the argument of compress_chunk.
CREATE FUNCTION ${F}.orbit_chunk_of(rel regclass) RETURNS ${C}.chunk
LANGUAGE plpgsql STABLE ${PATH} AS $body$
DECLARE
  c ${C}.chunk;
BEGIN
  SELECT * INTO c FROM ${C}.chunk ch
    WHERE format('%I.%I', ch.schema_name, ch.table_name)::regclass = rel AND NOT ch.dropped;
  IF c.id IS NULL THEN
    RAISE EXCEPTION 'chunk not found' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  RETURN c;
END
$body$;

-- Whether a chunk is (or, by this transaction's request, will be) in the columnstore.
CREATE FUNCTION ${F}.orbit_chunk_in_columnstore(c ${C}.chunk) RETURNS boolean
LANGUAGE sql STABLE AS $body$
  SELECT coalesce((SELECT r.op = 'compress' FROM ${C}.orbit_columnstore_request r WHERE r.chunk_id = c.id),
                  c.compressed_chunk_id IS NOT NULL)
$body$;

-- Records (op = 'compress' | 'decompress') or, with op NULL, forgets the request for a chunk. As the
-- caller: row security lets a role write the requests of its own hypertables' chunks (privileges.ts).
CREATE FUNCTION ${F}.orbit_request_conversion(cid integer, op text) RETURNS void
LANGUAGE plpgsql ${PATH} AS $body$
BEGIN
  IF op IS NULL THEN
    DELETE FROM ${C}.orbit_columnstore_request r WHERE r.chunk_id = cid;
  ELSE
    INSERT INTO ${C}.orbit_columnstore_request (chunk_id, op) VALUES (cid, op)
      ON CONFLICT (chunk_id) DO UPDATE SET op = excluded.op;
  END IF;
END
$body$;

CREATE FUNCTION ${EXT}.compress_chunk(uncompressed_chunk regclass, if_not_compressed boolean = true, recompress boolean = false)
RETURNS regclass LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  c ${C}.chunk := ${F}.orbit_chunk_of(uncompressed_chunk);
  ht ${C}.hypertable;
  name text := (SELECT relname FROM pg_class WHERE oid = uncompressed_chunk);
  partial boolean;
BEGIN
  SELECT * INTO ht FROM ${C}.hypertable WHERE id = c.hypertable_id;
  PERFORM ${F}.orbit_require_owner(ht.relid);
  IF ht.compression_state <> 1 THEN
    RAISE EXCEPTION 'columnstore not enabled on "%"', ht.table_name USING ERRCODE = '${E.feature_not_supported}',
      HINT = 'Enable columnstore using ALTER TABLE/MATERIALIZED VIEW with the timescaledb.enable_columnstore option.';
  END IF;
  -- As TimescaleDB: exclusion constraints cannot be checked against compressed rows. (Unique ones
  -- are: Orbit decompresses the chunks inserted rows fall in before they are inserted.)
  IF EXISTS (SELECT FROM pg_index i WHERE i.indrelid = ht.relid AND i.indisexclusion) THEN
    RAISE EXCEPTION 'converting chunks of a hypertable with exclusion constraints to the columnstore is not supported'
      USING ERRCODE = '${E.feature_not_supported}', DETAIL = format('Hypertable "%s" has an exclusion constraint.', ht.table_name);
  END IF;
  EXECUTE format('SELECT EXISTS (SELECT FROM ONLY %s)', uncompressed_chunk) INTO partial;
  IF ${F}.orbit_chunk_in_columnstore(c) AND NOT recompress AND NOT (c.compressed_chunk_id IS NOT NULL AND partial) THEN
    IF if_not_compressed THEN
      RAISE NOTICE 'chunk "%" is already converted to columnstore', name;
      RETURN uncompressed_chunk;
    END IF;
    RAISE EXCEPTION 'chunk "%" is already converted to columnstore', name USING ERRCODE = '${E.duplicate_object}';
  END IF;
  -- (Re)compression of a chunk in the columnstore is a request too: Orbit merges its batches with
  -- the rows inserted since.
  PERFORM ${F}.orbit_request_conversion(c.id, 'compress');
  RETURN uncompressed_chunk;
END
$body$;

CREATE FUNCTION ${EXT}.decompress_chunk(uncompressed_chunk regclass, if_compressed boolean = true)
RETURNS regclass LANGUAGE plpgsql STRICT ${PATH} AS $body$
DECLARE
  c ${C}.chunk := ${F}.orbit_chunk_of(uncompressed_chunk);
  name text := (SELECT relname FROM pg_class WHERE oid = uncompressed_chunk);
BEGIN
  PERFORM ${F}.orbit_require_owner((SELECT relid FROM ${C}.hypertable WHERE id = c.hypertable_id));
  IF NOT ${F}.orbit_chunk_in_columnstore(c) THEN
    IF if_compressed THEN
      RAISE NOTICE 'chunk "%" is not converted to columnstore', name;
      RETURN NULL;
    END IF;
    RAISE EXCEPTION 'chunk "%" is not converted to columnstore', name USING ERRCODE = '${E.object_not_in_prerequisite_state}';
  END IF;
  IF c.compressed_chunk_id IS NULL THEN
    -- Compression asked for earlier in this transaction: forget it.
    PERFORM ${F}.orbit_request_conversion(c.id, NULL);
  ELSE
    PERFORM ${F}.orbit_request_conversion(c.id, 'decompress');
  END IF;
  RETURN uncompressed_chunk;
END
$body$;

CREATE PROCEDURE ${EXT}.convert_to_columnstore(chunk regclass, if_not_columnstore boolean = true, recompress boolean = false)
LANGUAGE plpgsql ${PATH} AS $body$
BEGIN
  PERFORM ${EXT}.compress_chunk(chunk, if_not_columnstore, recompress);
END
$body$;

CREATE PROCEDURE ${EXT}.convert_to_rowstore(chunk regclass, if_columnstore boolean = true)
LANGUAGE plpgsql ${PATH} AS $body$
BEGIN
  PERFORM ${EXT}.decompress_chunk(chunk, if_columnstore);
END
$body$;

-- Sizes before compression are the chunk table's when it was compressed; after compression, the
-- bytes of its batch and manifest objects (no indexes, no TOAST).
CREATE FUNCTION ${EXT}.chunk_compression_stats(hypertable regclass)
RETURNS TABLE(chunk_schema name, chunk_name name, compression_status text, ${STATS_COLUMNS})
LANGUAGE sql STABLE AS $body$
  SELECT ch.schema_name, ch.table_name,
    CASE WHEN cc.id IS NULL THEN 'Uncompressed' ELSE 'Compressed' END,
    cc.before_table_bytes, cc.before_index_bytes, cc.before_toast_bytes, cc.before_total_bytes,
    cc.after_bytes, CASE WHEN cc.id IS NOT NULL THEN 0::bigint END, CASE WHEN cc.id IS NOT NULL THEN 0::bigint END, cc.after_bytes,
    NULL::name
  FROM ${C}.chunk ch
  LEFT JOIN ${C}.orbit_columnstore_chunk cc ON cc.id = ch.compressed_chunk_id
  WHERE ch.hypertable_id = ${F}.orbit_hypertable_id(hypertable) AND NOT ch.dropped
  ORDER BY ch.id
$body$;
CREATE FUNCTION ${EXT}.chunk_columnstore_stats(hypertable regclass)
RETURNS TABLE(chunk_schema name, chunk_name name, compression_status text, ${STATS_COLUMNS})
LANGUAGE sql STABLE AS $body$ SELECT * FROM ${EXT}.chunk_compression_stats(hypertable) $body$;

CREATE FUNCTION ${EXT}.hypertable_compression_stats(hypertable regclass)
RETURNS TABLE(total_chunks bigint, number_compressed_chunks bigint, ${STATS_COLUMNS})
LANGUAGE sql STABLE AS $body$
  SELECT count(*)::bigint, count(*) FILTER (WHERE s.compression_status = 'Compressed')::bigint,
    sum(s.before_compression_table_bytes)::bigint, sum(s.before_compression_index_bytes)::bigint,
    sum(s.before_compression_toast_bytes)::bigint, sum(s.before_compression_total_bytes)::bigint,
    sum(s.after_compression_table_bytes)::bigint, sum(s.after_compression_index_bytes)::bigint,
    sum(s.after_compression_toast_bytes)::bigint, sum(s.after_compression_total_bytes)::bigint, NULL::name
  FROM ${EXT}.chunk_compression_stats(hypertable) s
$body$;
CREATE FUNCTION ${EXT}.hypertable_columnstore_stats(hypertable regclass)
RETURNS TABLE(total_chunks bigint, number_compressed_chunks bigint, ${STATS_COLUMNS})
LANGUAGE sql STABLE AS $body$ SELECT * FROM ${EXT}.hypertable_compression_stats(hypertable) $body$;

-- What Orbit needs to convert the requested chunks, oldest request first.
CREATE FUNCTION ${F}.orbit_columnstore_requests()
RETURNS TABLE(request_id integer, op text, hypertable_id integer, chunk_id integer, chunk regclass, manifest text,
  segmentby text[], orderby text[], orderby_desc boolean[], orderby_nullsfirst boolean[], time_column name)
LANGUAGE sql STABLE AS $body$
  SELECT r.id, r.op, ch.hypertable_id, ch.id, format('%I.%I', ch.schema_name, ch.table_name)::regclass, cc.manifest,
    s.segmentby, s.orderby, s.orderby_desc, s.orderby_nullsfirst,
    (SELECT d.column_name FROM ${C}.dimension d WHERE d.hypertable_id = ch.hypertable_id AND d.interval_length IS NOT NULL ORDER BY d.id LIMIT 1)
  FROM ${C}.orbit_columnstore_request r
  JOIN ${C}.chunk ch ON ch.id = r.chunk_id
  LEFT JOIN ${C}.orbit_columnstore_chunk cc ON cc.id = ch.compressed_chunk_id
  LEFT JOIN ${C}.compression_settings s ON s.hypertable_id = ch.hypertable_id
  ORDER BY r.id
$body$;

-- Points a chunk at its batches (Orbit calls it in the transaction that empties the chunk table).
CREATE FUNCTION ${F}.orbit_set_columnstore_chunk(cid integer, manifest text, row_count bigint, batch_count integer,
  before_table bigint, before_index bigint, before_toast bigint, before_total bigint, after_bytes bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER ${PATH} AS $body$
DECLARE
  cc integer;
BEGIN
  DELETE FROM ${C}.orbit_columnstore_chunk WHERE chunk_id = cid;
  INSERT INTO ${C}.orbit_columnstore_chunk (chunk_id, manifest, row_count, batch_count, before_table_bytes,
      before_index_bytes, before_toast_bytes, before_total_bytes, after_bytes)
    VALUES (cid, manifest, row_count, batch_count, before_table, before_index, before_toast, before_total, after_bytes)
    RETURNING id INTO cc;
  -- One sorted set of batches: no longer unordered.
  UPDATE ${C}.chunk SET compressed_chunk_id = cc, status = (status | ${CHUNK_STATUS_COMPRESSED}) & ~${CHUNK_STATUS_COMPRESSED_UNORDERED} WHERE id = cid;
  DELETE FROM ${C}.orbit_columnstore_request WHERE chunk_id = cid;
END
$body$;

-- Takes a chunk out of the columnstore (its rows are back in the chunk table).
CREATE FUNCTION ${F}.orbit_clear_columnstore_chunk(cid integer) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER ${PATH} AS $body$
BEGIN
  UPDATE ${C}.chunk SET compressed_chunk_id = NULL, status = status & ~${CHUNK_STATUS_COMPRESSED} WHERE id = cid;
  DELETE FROM ${C}.orbit_columnstore_chunk WHERE chunk_id = cid;
  DELETE FROM ${C}.orbit_columnstore_request WHERE chunk_id = cid;
END
$body$;

-- Direct ingest (session/direct-ingest/copy.ts) appended batches to a chunk: points it at the manifest
-- listing the old and new batches, in the ingesting transaction. The chunk table keeps its rows.
CREATE FUNCTION ${F}.orbit_append_columnstore_chunk(cid integer, manifest text, row_count bigint, batch_count integer, after_bytes bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER ${PATH} AS $body$
DECLARE
  cc integer;
BEGIN
  UPDATE ${C}.orbit_columnstore_chunk o SET manifest = orbit_append_columnstore_chunk.manifest,
      row_count = orbit_append_columnstore_chunk.row_count, batch_count = orbit_append_columnstore_chunk.batch_count,
      after_bytes = orbit_append_columnstore_chunk.after_bytes
    WHERE o.chunk_id = cid RETURNING o.id INTO cc;
  IF cc IS NULL THEN
    INSERT INTO ${C}.orbit_columnstore_chunk (chunk_id, manifest, row_count, batch_count, after_bytes)
      VALUES (cid, manifest, row_count, batch_count, after_bytes) RETURNING id INTO cc;
  END IF;
  UPDATE ${C}.chunk SET compressed_chunk_id = cc, status = status | ${CHUNK_STATUS_COMPRESSED} | ${CHUNK_STATUS_COMPRESSED_UNORDERED} WHERE id = cid;
END
$body$;

-- Hypertables whose COPY writes column batches directly (TimescaleDB 2.29's timescaledb.direct_compress
-- table option; on by default in Orbit for tables created WITH (timescaledb.hypertable)).
CREATE TABLE ${C}.orbit_direct_compress (
  hypertable_id integer PRIMARY KEY REFERENCES ${C}.hypertable (id) ON DELETE CASCADE,
  enabled boolean NOT NULL
);
GRANT SELECT ON ${C}.orbit_direct_compress TO PUBLIC;

-- ALTER TABLE … SET (timescaledb.direct_compress) runs it as the caller (a DO block).
CREATE FUNCTION ${F}.orbit_set_direct_compress(rel regclass, enabled boolean) RETURNS void
LANGUAGE plpgsql ${PATH} AS $body$
DECLARE
  h integer := ${F}.orbit_hypertable_id(rel);
BEGIN
  PERFORM ${F}.orbit_require_owner(rel);
  INSERT INTO ${C}.orbit_direct_compress VALUES (h, enabled) ON CONFLICT (hypertable_id) DO UPDATE SET enabled = excluded.enabled;
END
$body$;

CREATE FUNCTION ${F}.orbit_drop_columnstore_request(request integer) RETURNS void
LANGUAGE sql SECURITY DEFINER ${PATH} AS $body$ DELETE FROM ${C}.orbit_columnstore_request WHERE id = request $body$;
`;
}
