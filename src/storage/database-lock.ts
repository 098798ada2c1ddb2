/**
 * @module storage/database-lock
 * One owner per browser database, across tabs and workers of an origin, through the Web Locks API.
 * OPFS sync access handles are exclusive per file, so a second PGlite on the same directory would
 * fail halfway through opening (or, with other backends, write over the first one's files); taking
 * a named lock first turns that into one clear error before anything is touched. The lock is
 * released by `release()` or, if the tab or worker dies, by the browser.
 */
import { OrbitError } from '../errors.js';
import { SqlState } from '../sqlstate.js';

/** A reloaded page can start before the old page's worker is gone: wait this long by default. */
export const DEFAULT_LOCK_WAIT_MS = 2000;

export type DatabaseBackend = 'opfs' | 'indexeddb';

/** The Web Lock a database's owner holds while it has the database open. */
export function databaseLockName(backend: DatabaseBackend, database: string): string {
  return `orbit:${backend}:${database}`;
}

/** Takes an uncontended lock (a fresh name) and holds it until `release`; no-op without Web Locks. */
export async function holdLock(name: string): Promise<DatabaseLock> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) return { release() {} };
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await new Promise<void>((granted) => {
    void locks.request(name, async () => {
      granted();
      await held;
    });
  });
  return { release };
}

export interface DatabaseLock {
  /** Gives the lock back; safe to call twice. */
  release(): void;
}

/**
 * Takes the exclusive lock `orbit:<backend>:<database>`. Waits up to `waitMs` (a reloaded page may start
 * before the old page's worker has let go), then fails with SQLSTATE 55006 object_in_use.
 * Browsers without Web Locks get a no-op lock: OPFS's own exclusivity still refuses a second owner.
 */
export async function lockDatabase(backend: DatabaseBackend, database: string, waitMs: number): Promise<DatabaseLock> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) return { release() {} };
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const granted = await new Promise<boolean>((resolve, reject) => {
    const options: LockOptions = waitMs > 0 ? { signal: AbortSignal.timeout(waitMs) } : { ifAvailable: true };
    locks
      .request(databaseLockName(backend, database), options, async (lock) => {
        resolve(lock !== null);
        if (lock) await held;
      })
      .catch((err: unknown) => {
        const name = (err as { name?: string } | null)?.name;
        if (name === 'TimeoutError' || name === 'AbortError') resolve(false);
        else reject(err);
      });
  });
  if (!granted) {
    throw new OrbitError(SqlState.object_in_use, `database "${database}" is in use by another tab or worker`, {
      hint: 'Close the other tab, or send this tab\'s queries to the tab that opened the database first.',
    });
  }
  return { release };
}
