/**
 * @module storage/opfs-pgdata
 * PGlite's OPFS file system (`OpfsAhpFS`, the `opfs-ahp://` backend) with full-quota errors that
 * PostgreSQL understands. A sync access handle that hits the origin's quota throws a DOMException
 * QuotaExceededError, whose legacy `code` is 22; PGlite passes any `code` on as the errno, and 22 is
 * EFBIG in its WASI numbering, so PostgreSQL said "File too large" with SQLSTATE XX000. Raised as
 * ENOSPC instead, PostgreSQL reports its own "No space left on device" with 53100 disk_full (its
 * errcode_for_file_access mapping), rolls the statement back and carries on.
 * Failures of the asynchronous part (creating pool files in `syncToFs`) get the same mapping through
 * storage/browser-errors.
 */
import { OpfsAhpFS } from '@electric-sql/pglite/opfs-ahp';
import { browserStorageError } from './browser-errors.js';

/** ENOSPC in PGlite's emscripten build (WASI errno numbering; PGlite's ERRNO_CODES omits it). */
const ENOSPC = 51;

export class QuotaAwareOpfsAhpFS extends OpfsAhpFS {
  override async syncToFs(relaxedDurability?: boolean): Promise<void> {
    try {
      await super.syncToFs(relaxedDurability);
    } catch (err) {
      throw browserStorageError(err, 'could not sync the row store to OPFS');
    }
  }

  // Every operation that writes file data or appends to PGlite's state.txt journal.
  override write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    return noSpace(() => super.write(fd, buffer, offset, length, position));
  }
  override writeFile(path: string, data: string | Uint8Array, options?: { encoding?: string; mode?: number; flag?: string }): void {
    noSpace(() => super.writeFile(path, data, options));
  }
  override truncate(path: string, len?: number): void {
    noSpace(() => super.truncate(path, len));
  }
  override mkdir(path: string, options?: { recursive?: boolean; mode?: number }): void {
    noSpace(() => super.mkdir(path, options));
  }
  override rename(oldPath: string, newPath: string): void {
    noSpace(() => super.rename(oldPath, newPath));
  }
  override unlink(path: string): void {
    noSpace(() => super.unlink(path));
  }
  override rmdir(path: string): void {
    noSpace(() => super.rmdir(path));
  }
}

function noSpace<T>(operation: () => T): T {
  try {
    return operation();
  } catch (err) {
    if ((err as { name?: unknown } | null)?.name === 'QuotaExceededError') {
      throw Object.assign(new Error('the storage quota of this origin is exhausted'), { code: ENOSPC, cause: err });
    }
    throw err;
  }
}
