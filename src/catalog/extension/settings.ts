/**
 * @module catalog/extension/settings
 * TimescaleDB's `timescaledb.*` settings with their defaults (src/guc.c; timescale_api.md §2 and
 * perf_anchors.md), given to PostgreSQL at start-up as `-c` options: TimescaleDB defines them when its
 * library loads (shared_preload_libraries), before any CREATE EXTENSION, and a SQL-only extension
 * cannot define settings. As start-up options they exist in every session, SHOW prints the default,
 * and SET / RESET behave as for TimescaleDB's (RESET returns to the default). They are recorded, not
 * acted on, except where Orbit says otherwise (docs/reference/functions.md).
 */
export const TIMESCALEDB_SETTINGS: Readonly<Record<string, string>> = {
  'timescaledb.bgw_log_level': 'warning',
  'timescaledb.enable_cagg_window_functions': 'off',
  'timescaledb.enable_chunk_append': 'on',
  'timescaledb.enable_chunk_auto_publication': 'off',
  'timescaledb.enable_chunk_skipping': 'off',
  'timescaledb.enable_constraint_exclusion': 'on',
  'timescaledb.enable_deprecation_warnings': 'on',
  // Unset ('') rather than TimescaleDB's off: Orbit cannot see a placeholder's source, and an explicit
  // off must keep writes in the row store while unset leaves it to the table option
  // (session/direct-ingest/target.ts).
  'timescaledb.enable_direct_compress_copy': '',
  'timescaledb.enable_direct_compress_insert': '',
  'timescaledb.enable_dml_decompression': 'on',
  'timescaledb.enable_job_execution_logging': 'off',
  'timescaledb.enable_optimizations': 'on',
  'timescaledb.enable_ordered_append': 'on',
  'timescaledb.enable_runtime_exclusion': 'on',
  'timescaledb.license': 'timescale',
  'timescaledb.max_background_workers': '16',
  'timescaledb.max_tuples_decompressed_per_dml_transaction': '100000',
  'timescaledb.restoring': 'off',
  'timescaledb.skip_cagg_invalidation': 'off',
  'timescaledb.telemetry_level': 'basic',
};

/**
 * Settings TimescaleDB reads from the server's configuration only (PGC_SIGHUP: postgresql.conf or
 * ALTER SYSTEM, then a reload); in Orbit they are given when the database opens (`settings`).
 */
export const SERVER_ONLY_SETTINGS: ReadonlySet<string> = new Set(['timescaledb.enable_job_execution_logging']);

/**
 * The settings as PostgreSQL start-up arguments, with `overrides` (the server's configuration) in
 * place of the defaults. Only `timescaledb.*` settings Orbit knows can be given.
 */
export function timescaledbStartParams(overrides: Readonly<Record<string, string>> = {}): string[] {
  for (const name of Object.keys(overrides)) {
    if (!(name in TIMESCALEDB_SETTINGS)) throw new Error(`unknown setting "${name}": only timescaledb.* settings can be given at start`);
  }
  return Object.entries({ ...TIMESCALEDB_SETTINGS, ...overrides }).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}
