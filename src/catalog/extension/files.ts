/**
 * @module catalog/extension/files
 * The files PostgreSQL reads for `CREATE EXTENSION timescaledb`: the control file and the install
 * script, generated from the per-area SQL modules next to this one. PostgreSQL runs the script in one
 * transaction with `@extschema@` replaced by the target schema (default `public`); it must not
 * contain BEGIN/COMMIT. Everything it creates belongs to the extension, so DROP EXTENSION removes it.
 */
import { bookendSql } from './bookend.js';
import { controlFile } from './control.js';
import { chunkPrivilegesSql } from './chunk-privileges.js';
import { chunksSql } from './chunks.js';
import { columnstoreChunksSql } from './columnstore-chunks.js';
import { columnstoreSettingsSql } from './columnstore-settings.js';
import { createHypertableSql } from './create-hypertable.js';
import { gapfillSql } from './gapfill.js';
import { helpersSql } from './helpers.js';
import { histogramSql } from './histogram.js';
import { hypertableCatalogSql } from './hypertable-catalog.js';
import { hypertableConvertSql } from './hypertable-convert.js';
import { informationViewsSql } from './information-views.js';
import { schemasSql } from './schemas.js';
import { showDropChunksSql } from './show-drop-chunks.js';
import { spaceDimensionsSql } from './space-dimensions.js';
import { integerNowSql } from './integer-now.js';
import { jobSchedulerSql } from './job-scheduler.js';
import { jobsSql } from './jobs.js';
import { ownerCallsSql } from './owner-calls.js';
import { policiesSql } from './policies.js';
import { privilegesSql } from './privileges.js';
import { timeBucketSql } from './time-bucket.js';
import { truncateSql } from './truncate.js';
import { TIMESCALEDB_EXTENSION, TIMESCALEDB_VERSION } from './version.js';

export interface ExtensionFile {
  /** Path relative to PostgreSQL's extension directory (`$SHAREDIR/extension`). */
  readonly path: string;
  readonly contents: string;
}

/** The install script of TIMESCALEDB_VERSION (no upgrade scripts yet: there is no older version). */
export function installScript(): string {
  return [
    `-- Orbit's TimescaleDB ${TIMESCALEDB_VERSION} SQL API. Generated from src/catalog/extension/.`,
    // As TimescaleDB's own scripts do: nothing in the script may resolve names through the caller's path.
    'SET LOCAL search_path TO pg_catalog, pg_temp;',
    schemasSql(),
    helpersSql(),
    timeBucketSql(),
    bookendSql(),
    histogramSql(),
    gapfillSql(),
    hypertableCatalogSql(),
    createHypertableSql(),
    chunkPrivilegesSql(),
    chunksSql(),
    spaceDimensionsSql(),
    integerNowSql(),
    hypertableConvertSql(),
    showDropChunksSql(),
    truncateSql(),
    informationViewsSql(),
    columnstoreSettingsSql(),
    columnstoreChunksSql(),
    jobsSql(),
    jobSchedulerSql(),
    policiesSql(),
    ownerCallsSql(),
    privilegesSql(),
    `COMMENT ON EXTENSION ${TIMESCALEDB_EXTENSION} IS 'Enables scalable inserts and complex queries for time-series data (Community Edition)';`,
    '',
  ].join('\n');
}

export function timescaledbExtensionFiles(): ExtensionFile[] {
  return [
    { path: `${TIMESCALEDB_EXTENSION}.control`, contents: controlFile(TIMESCALEDB_VERSION) },
    { path: `${TIMESCALEDB_EXTENSION}--${TIMESCALEDB_VERSION}.sql`, contents: installScript() },
  ];
}
