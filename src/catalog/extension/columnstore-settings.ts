/**
 * @module catalog/extension/columnstore-settings
 * Columnstore (compression) settings of hypertables: `_timescaledb_catalog.compression_settings`
 * (TimescaleDB 2.15+ shape), what `ALTER TABLE … SET (timescaledb.compress, …)` does
 * (`orbit_alter_table_set`, called by Orbit's statement rewrite, sql/rewrite/alter-table-set.ts),
 * and the settings views. Converting chunks is columnstore-chunks.ts.
 *
 * Defaults as TimescaleDB's for a table without extra indexes: no segmentby, orderby the time
 * column DESC (NULLS FIRST). TimescaleDB also derives segmentby/orderby from unique indexes and
 * statistics (`get_segmentby_defaults`); Orbit does not yet.
 */
import { ErrCode as E } from './errcodes.js';
import { CATALOG_SCHEMA as C, FIXED_SEARCH_PATH as PATH, FUNCTIONS_SCHEMA as F } from './schemas.js';

const INFO = 'timescaledb_information';

export function columnstoreSettingsSql(): string {
  return `
CREATE TABLE ${C}.compression_settings (
  relid regclass PRIMARY KEY,
  compress_relid regclass,
  segmentby text[],
  orderby text[],
  orderby_desc boolean[],
  orderby_nullsfirst boolean[],
  index jsonb,
  -- Orbit: removes the row with its hypertable.
  hypertable_id integer NOT NULL UNIQUE REFERENCES ${C}.hypertable (id) ON DELETE CASCADE
);
GRANT SELECT ON ${C}.compression_settings TO PUBLIC;

-- ALTER TABLE rel SET/RESET (timescaledb.…): NULL arguments leave a setting as it is. The settings
-- are written for the table's owner (owner-calls.ts).
CREATE FUNCTION ${F}.orbit_alter_table_set(rel regclass, chunk_interval text, columnstore boolean,
  segmentby text[], orderby text[], orderby_desc boolean[], orderby_nullsfirst boolean[],
  compress_interval interval, reset_segmentby boolean, reset_orderby boolean) RETURNS void
LANGUAGE plpgsql ${PATH} AS $body$
BEGIN
  IF ${F}.orbit_hypertable_id(rel) IS NULL THEN
    RAISE EXCEPTION 'timescaledb table options can only be specified for hypertables' USING ERRCODE = '${E.invalid_parameter_value}';
  END IF;
  IF NOT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = rel), 'USAGE') THEN
    RAISE EXCEPTION 'must be owner of table %', (SELECT relname FROM pg_class WHERE oid = rel) USING ERRCODE = '${E.insufficient_privilege}';
  END IF;
  PERFORM ${F}.orbit_owner_call('alter_table_set', rel, jsonb_build_object('chunk_interval', chunk_interval, 'columnstore', columnstore,
    'segmentby', segmentby, 'orderby', orderby, 'orderby_desc', orderby_desc, 'orderby_nullsfirst', orderby_nullsfirst,
    'compress_interval', compress_interval, 'reset_segmentby', reset_segmentby, 'reset_orderby', reset_orderby));
END
$body$;

CREATE FUNCTION ${F}.orbit_alter_table_set_impl(rel regclass, chunk_interval text, columnstore boolean,
  segmentby text[], orderby text[], orderby_desc boolean[], orderby_nullsfirst boolean[],
  compress_interval interval, reset_segmentby boolean, reset_orderby boolean) RETURNS void
LANGUAGE plpgsql ${PATH} AS $body$
#variable_conflict use_column
DECLARE
  h integer := ${F}.orbit_hypertable_id(rel);
  tbl name := (SELECT relname FROM pg_class WHERE oid = rel);
  d record;
  s record;
  col text;
  enabled boolean;
BEGIN
  IF chunk_interval IS NOT NULL THEN
    SELECT * INTO d FROM ${C}.dimension WHERE hypertable_id = h AND interval_length IS NOT NULL ORDER BY id LIMIT 1;
    UPDATE ${C}.dimension SET interval_length = ${F}.orbit_interval_length(d.column_type,
        CASE WHEN d.column_type IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN d.column_type ELSE 'interval'::regtype END,
        chunk_interval)
      WHERE id = d.id;
  END IF;
  enabled := (SELECT compression_state = 1 FROM ${C}.hypertable WHERE id = h);
  IF columnstore IS FALSE THEN
    IF EXISTS (SELECT FROM ${C}.chunk WHERE hypertable_id = h AND compressed_chunk_id IS NOT NULL AND NOT dropped) THEN
      RAISE EXCEPTION 'cannot disable columnstore on hypertable with columnstore chunks' USING ERRCODE = '${E.feature_not_supported}';
    END IF;
    DELETE FROM ${C}.compression_settings WHERE hypertable_id = h;
    UPDATE ${C}.hypertable SET compression_state = 0 WHERE id = h;
    RETURN;
  END IF;
  IF columnstore IS NULL AND NOT enabled THEN
    IF segmentby IS NULL AND orderby IS NULL AND compress_interval IS NULL AND NOT reset_segmentby AND NOT reset_orderby THEN
      RETURN; -- only chunk_interval
    END IF;
    RAISE EXCEPTION 'columnstore not enabled on "%"', tbl USING ERRCODE = '${E.feature_not_supported}',
      HINT = 'Enable columnstore using ALTER TABLE/MATERIALIZED VIEW with the timescaledb.enable_columnstore option.';
  END IF;
  -- Columns must exist (names as the table spells them) and be distinct, and not both segment and order.
${checkColumnList('segmentby', 'compress_segmentby')}
${checkColumnList('orderby', 'compress_orderby')}
  INSERT INTO ${C}.compression_settings (relid, hypertable_id, segmentby, orderby, orderby_desc, orderby_nullsfirst)
    SELECT rel, h, NULL, ARRAY[dd.column_name::text], ARRAY[true], ARRAY[true]
    FROM ${C}.dimension dd WHERE dd.hypertable_id = h AND dd.interval_length IS NOT NULL ORDER BY dd.id LIMIT 1
    ON CONFLICT (relid) DO NOTHING;
  IF reset_segmentby THEN
    UPDATE ${C}.compression_settings SET segmentby = NULL WHERE hypertable_id = h;
  ELSIF segmentby IS NOT NULL THEN
    UPDATE ${C}.compression_settings SET segmentby = nullif(orbit_alter_table_set_impl.segmentby, '{}') WHERE hypertable_id = h;
  END IF;
  IF reset_orderby THEN
    UPDATE ${C}.compression_settings cs SET orderby = ARRAY[dd.column_name::text], orderby_desc = ARRAY[true], orderby_nullsfirst = ARRAY[true]
      FROM (SELECT column_name FROM ${C}.dimension WHERE hypertable_id = h AND interval_length IS NOT NULL ORDER BY id LIMIT 1) dd
      WHERE cs.hypertable_id = h;
  ELSIF orderby IS NOT NULL THEN
    UPDATE ${C}.compression_settings cs SET orderby = orbit_alter_table_set_impl.orderby, orderby_desc = orbit_alter_table_set_impl.orderby_desc,
      orderby_nullsfirst = orbit_alter_table_set_impl.orderby_nullsfirst WHERE cs.hypertable_id = h;
  END IF;
  SELECT * INTO s FROM ${C}.compression_settings WHERE hypertable_id = h;
  SELECT x INTO col FROM unnest(s.segmentby) x WHERE x = ANY (s.orderby) LIMIT 1;
  IF col IS NOT NULL THEN
    RAISE EXCEPTION 'cannot use column "%" for both ordering and segmenting', col USING ERRCODE = '${E.syntax_error}',
      HINT = 'Use separate columns for the timescaledb.compress_orderby and timescaledb.compress_segmentby options.';
  END IF;
  IF compress_interval IS NOT NULL THEN
    UPDATE ${C}.dimension SET compress_interval_length = ${F}.orbit_interval_us(compress_interval)::bigint
      WHERE hypertable_id = h AND interval_length IS NOT NULL;
  END IF;
  UPDATE ${C}.hypertable SET compression_state = 1 WHERE id = h;
END
$body$;

-- segmentby / orderby as TimescaleDB prints them: quoted where needed, with non-default directions.
CREATE FUNCTION ${F}.orbit_segmentby_text(s ${C}.compression_settings) RETURNS text
LANGUAGE sql STABLE AS $body$
  SELECT string_agg(quote_ident(x), ', ' ORDER BY n) FROM unnest(s.segmentby) WITH ORDINALITY u(x, n)
$body$;
CREATE FUNCTION ${F}.orbit_orderby_text(s ${C}.compression_settings) RETURNS text
LANGUAGE sql STABLE AS $body$
  SELECT string_agg(quote_ident(x) || CASE WHEN s.orderby_desc[n] THEN ' DESC' ELSE '' END
    || CASE WHEN s.orderby_nullsfirst[n] AND NOT s.orderby_desc[n] THEN ' NULLS FIRST'
            WHEN NOT s.orderby_nullsfirst[n] AND s.orderby_desc[n] THEN ' NULLS LAST' ELSE '' END, ', ' ORDER BY n)
  FROM unnest(s.orderby) WITH ORDINALITY u(x, n)
$body$;

CREATE VIEW ${INFO}.hypertable_compression_settings AS
SELECT s.relid AS hypertable, ${F}.orbit_segmentby_text(s) AS segmentby, ${F}.orbit_orderby_text(s) AS orderby,
  d.compress_interval_length, s.index
FROM ${C}.compression_settings s
LEFT JOIN LATERAL (SELECT * FROM ${C}.dimension dd WHERE dd.hypertable_id = s.hypertable_id AND dd.interval_length IS NOT NULL
                   ORDER BY dd.id LIMIT 1) d ON true;
CREATE VIEW ${INFO}.hypertable_columnstore_settings AS SELECT * FROM ${INFO}.hypertable_compression_settings;

-- The deprecated per-column view: one row per segmentby and orderby column.
CREATE VIEW ${INFO}.compression_settings AS
SELECT h.schema_name AS hypertable_schema, h.table_name AS hypertable_name, c.attname,
  c.segmentby_column_index::smallint, c.orderby_column_index::smallint, c.orderby_asc, c.orderby_nullsfirst
FROM ${C}.compression_settings s
JOIN ${C}.hypertable h ON h.id = s.hypertable_id
CROSS JOIN LATERAL (
  SELECT x::name AS attname, n AS segmentby_column_index, NULL::bigint AS orderby_column_index, NULL::boolean AS orderby_asc, NULL::boolean AS orderby_nullsfirst
  FROM unnest(s.segmentby) WITH ORDINALITY u(x, n)
  UNION ALL
  SELECT x::name, NULL, n, NOT s.orderby_desc[n], s.orderby_nullsfirst[n]
  FROM unnest(s.orderby) WITH ORDINALITY u(x, n)
) c;
GRANT SELECT ON ${INFO}.hypertable_compression_settings, ${INFO}.hypertable_columnstore_settings, ${INFO}.compression_settings TO PUBLIC;

`;
}

/** PL/pgSQL checking one column list argument of orbit_alter_table_set: every column exists, none twice. */
function checkColumnList(argument: 'segmentby' | 'orderby', option: string): string {
  const list = `orbit_alter_table_set_impl.${argument}`;
  return `  FOR col IN SELECT unnest(${list}) LOOP
    IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = rel AND attname = col AND attnum > 0 AND NOT attisdropped) THEN
      RAISE EXCEPTION 'column "%" does not exist', col USING ERRCODE = '${E.syntax_error}',
        HINT = 'The timescaledb.${option} option must reference a valid column.';
    END IF;
  END LOOP;
  IF (SELECT count(*) <> count(DISTINCT x) FROM unnest(${list}) x) THEN
    RAISE EXCEPTION 'duplicate column name "%"', (SELECT x FROM unnest(${list}) x GROUP BY x HAVING count(*) > 1 LIMIT 1)
      USING ERRCODE = '${E.syntax_error}', HINT = 'The timescaledb.${option} option must reference distinct column.';
  END IF;`;
}
