/**
 * @module rowstore/extension-files
 * Puts Orbit's extension files (the `timescaledb` control file and install script) into PGlite's
 * extension directory, so that `CREATE EXTENSION timescaledb` works natively. The directory lives in
 * PGlite's in-memory emscripten file system, not in the data directory: it is rewritten at every
 * open, which also upgrades the script shipped with a new Orbit build. Nothing is installed in the
 * database until a user runs CREATE EXTENSION, as with the real extension; where it was, its
 * functions' and catalog's privileges are brought up to this build's at each open
 * (catalog/extension/privileges.ts), as the backend's bootstrap superuser.
 */
import type { PGlite } from '@electric-sql/pglite';
import { repairPrivilegesSql, timescaledbExtensionFiles } from '../catalog/extension/index.js';

/** `$SHAREDIR/extension` in PGlite 0.5's file system layout (where `plpgsql.control` sits). */
const PGLITE_EXTENSION_DIR = '/pglite/share/postgresql/extension';

/** Writes the extension files and repairs an installed extension's privileges; returns the directory used. */
export async function installExtensionFiles(db: PGlite): Promise<string> {
  const dir = await extensionDir(db);
  const encoder = new TextEncoder();
  for (const file of timescaledbExtensionFiles()) {
    db.copyToFS(`${dir}/${file.path}`, encoder.encode(file.contents));
  }
  await db.exec(repairPrivilegesSql());
  return dir;
}

/**
 * The known layout first (no query needed); otherwise ask PostgreSQL, so that a PGlite release that
 * moves its share directory keeps working.
 */
async function extensionDir(db: PGlite): Promise<string> {
  if (db.Module.FS.analyzePath(`${PGLITE_EXTENSION_DIR}/plpgsql.control`).exists) return PGLITE_EXTENSION_DIR;
  const r = await db.query<{ setting: string }>("SELECT setting FROM pg_config WHERE name = 'SHAREDIR'");
  return `${r.rows[0]!.setting}/extension`;
}
