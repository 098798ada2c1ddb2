/**
 * @module catalog/extension/control
 * The extension's control file (PostgreSQL "Packaging Related Objects into an Extension").
 * Fields follow TimescaleDB's `timescaledb.control.in`, minus `module_pathname`: Orbit's extension is
 * pure SQL, so there is no shared library to load.
 */
import { TIMESCALEDB_VERSION } from './version.js';

export function controlFile(version: string = TIMESCALEDB_VERSION): string {
  return [
    '# timescaledb extension (Orbit: the TimescaleDB SQL API over PGlite)',
    "comment = 'Enables scalable inserts and complex queries for time-series data'",
    `default_version = '${version}'`,
    // Not relocatable: objects live in several schemas, and the script names @extschema@.
    'relocatable = false',
    // Since 2.1.1 (PR #2998, unconditional since #6856): a role with CREATE on the database may install it.
    'trusted = true',
    '',
  ].join('\n');
}
