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
 *
 * Files still held at open. After a page reload Chromium can grant the new worker the database lock
 * (storage/database-lock) while the old page's dying worker still holds sync access handles on some
 * of PGlite's files: the lock goes with the worker's context, its handles a moment later. PGlite's
 * init (private) logs the NoModificationAllowedError of such a file and skips it (the open then
 * fails with "reading 'sh'"), or, for a pool file, never settles. So while `init` runs, every
 * `createSyncAccessHandle` of this worker retries that error with backoff for up to `handleWaitMs`;
 * if a file is still held then, the open fails with 55006 object_in_use and the handles it took are
 * closed again. The old worker never takes a handle back, so waiting is enough.
 */
import type { PGlite } from '@electric-sql/pglite';
import { OpfsAhpFS } from '@electric-sql/pglite/opfs-ahp';
import { OrbitError } from '../errors.js';
import { SqlState } from '../sqlstate.js';
import { browserStorageError } from './browser-errors.js';

/** How long an open waits for files another worker of the origin still holds (see above). */
export const DEFAULT_HANDLE_WAIT_MS = 10_000;

/** ENOSPC in PGlite's emscripten build (WASI errno numbering; PGlite's ERRNO_CODES omits it). */
const ENOSPC = 51;

export class QuotaAwareOpfsAhpFS extends OpfsAhpFS {
  /** Handle acquisitions that had to wait for another context, and the longest wait (ms), at init. */
  readonly handleWaits = { files: 0, longestMs: 0 };

  constructor(
    dataDir: string,
    private readonly handleWaitMs = DEFAULT_HANDLE_WAIT_MS,
    private readonly label = dataDir,
  ) {
    super(dataDir);
  }

  override async init(pg: PGlite, opts: Parameters<OpfsAhpFS['init']>[1]): ReturnType<OpfsAhpFS['init']> {
    const waiting = waitForHeldHandles(Date.now() + this.handleWaitMs, this.handleWaits);
    try {
      // PGlite's init may never settle when a pool file stays held, hence the race with the give-up.
      return await Promise.race([super.init(pg, opts), waiting.gaveUp]);
    } catch (err) {
      if (waiting.failure === undefined) throw err;
      waiting.closeAll();
      throw new OrbitError(SqlState.object_in_use, `database ${this.label} is still in use: another tab or worker holds one of its files`, {
        hint: 'Close the other tab or worker that has the database open; a reloaded page\'s previous worker lets go within moments.',
        cause: waiting.failure,
      });
    } finally {
      waiting.stop();
    }
  }

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

interface HeldHandleWait {
  /** Rejects when a file stayed held past the deadline. */
  readonly gaveUp: Promise<never>;
  /** The last NoModificationAllowedError, once given up. */
  failure: unknown;
  /** Closes every handle taken while waiting was on (after a give-up). */
  closeAll(): void;
  /** Restores the browser's createSyncAccessHandle. */
  stop(): void;
}

type CreateSyncAccessHandle = (this: FileSystemFileHandle, options?: unknown) => Promise<FileSystemSyncAccessHandle>;

/**
 * Makes `createSyncAccessHandle` wait for files another context holds until `deadline`. Patched on the
 * prototype because PGlite's init calls it on directory handles it keeps private; restored by `stop`.
 * One database opens per worker at a time, so nesting is not expected (a nested call stacks cleanly).
 */
function waitForHeldHandles(deadline: number, stats: { files: number; longestMs: number }): HeldHandleWait {
  const proto = FileSystemFileHandle.prototype as unknown as { createSyncAccessHandle: CreateSyncAccessHandle };
  const original = proto.createSyncAccessHandle;
  const taken: FileSystemSyncAccessHandle[] = [];
  let giveUp!: (err: unknown) => void;
  const gaveUp = new Promise<never>((_, reject) => {
    giveUp = reject;
  });
  gaveUp.catch(() => undefined);
  const state: HeldHandleWait = {
    gaveUp,
    failure: undefined,
    closeAll() {
      for (const handle of taken.splice(0)) {
        try {
          handle.close();
        } catch {
          // Already closed.
        }
      }
    },
    stop() {
      if (proto.createSyncAccessHandle === patched) proto.createSyncAccessHandle = original;
    },
  };
  const patched: CreateSyncAccessHandle = async function (this: FileSystemFileHandle, options?: unknown) {
    const started = Date.now();
    let retried = false;
    for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
      if (state.failure !== undefined) throw state.failure;
      try {
        const handle = await original.call(this, options);
        if (state.failure !== undefined) {
          handle.close();
          throw state.failure;
        }
        taken.push(handle);
        if (retried) {
          stats.files++;
          stats.longestMs = Math.max(stats.longestMs, Date.now() - started);
        }
        return handle;
      } catch (err) {
        if ((err as { name?: unknown } | null)?.name !== 'NoModificationAllowedError' || err === state.failure) throw err;
        if (Date.now() + delay > deadline) {
          state.failure = err;
          giveUp(err);
          throw err;
        }
        retried = true;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  };
  proto.createSyncAccessHandle = patched;
  return state;
}
