/**
 * @module catalog/extension/schemas
 * TimescaleDB's schemas (timescale_api.md §0; `sql/pre_install/schemas.sql` of 2.x installs the same
 * seven). User-facing functions go to @extschema@ (normally `public`), not here.
 */
export const SCHEMAS = [
  '_timescaledb_catalog',
  '_timescaledb_config',
  '_timescaledb_functions',
  '_timescaledb_internal',
  '_timescaledb_cache',
  'timescaledb_experimental',
  'timescaledb_information',
] as const;

/** Names the SQL snippets of every area module use (imported under one-letter aliases there). */
export const FUNCTIONS_SCHEMA = '_timescaledb_functions';
export const CATALOG_SCHEMA = '_timescaledb_catalog';
export const INTERNAL_SCHEMA = '_timescaledb_internal';
/** The schema CREATE EXTENSION installs into (PostgreSQL substitutes it in the script). */
export const EXTENSION_SCHEMA = '@extschema@';
/** Functions run with a fixed search_path, so catalog output (definitions) is schema-qualified. */
export const FIXED_SEARCH_PATH = 'SET search_path = pg_catalog, pg_temp';

export function schemasSql(): string {
  return [
    ...SCHEMAS.map((s) => `CREATE SCHEMA ${s};`),
    `GRANT USAGE ON SCHEMA ${SCHEMAS.join(', ')} TO PUBLIC;`,
    '',
  ].join('\n');
}
