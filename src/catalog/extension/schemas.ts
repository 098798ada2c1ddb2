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

export function schemasSql(): string {
  return [
    ...SCHEMAS.map((s) => `CREATE SCHEMA ${s};`),
    `GRANT USAGE ON SCHEMA ${SCHEMAS.join(', ')} TO PUBLIC;`,
    '',
  ].join('\n');
}
