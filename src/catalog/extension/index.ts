/**
 * @module catalog/extension
 * The `timescaledb` extension as PostgreSQL installs it: control file and install script.
 */
export { timescaledbExtensionFiles, installScript, type ExtensionFile } from './files.js';
export { TIMESCALEDB_EXTENSION, TIMESCALEDB_VERSION } from './version.js';
export { repairPrivilegesSql } from './privileges.js';
