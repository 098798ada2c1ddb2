/**
 * @module catalog/extension/version
 * The TimescaleDB SQL API version Orbit implements. It is the version `CREATE EXTENSION timescaledb`
 * installs and `pg_extension.extversion` reports, so clients that check the version (migration
 * tools, Grafana, ORMs) see the release whose behaviour Orbit follows: the latest release described
 * by research/timescale_api.md (2.29.2; HEAD there is 2.30.0-dev).
 */
export const TIMESCALEDB_VERSION = '2.29.2';

/** The extension's name, as in `CREATE EXTENSION timescaledb`. */
export const TIMESCALEDB_EXTENSION = 'timescaledb';
