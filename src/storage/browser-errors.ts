/**
 * @module storage/browser-errors
 * Maps the DOMExceptions of browser storage (OPFS, IndexedDB) to OrbitErrors with SQLSTATEs, so a
 * full quota or a database held by another tab reads like PostgreSQL's own "disk full" or "object in
 * use" rather than a bare DOMException.
 */
import { OrbitError } from '../errors.js';
import { SqlState } from '../sqlstate.js';

/** Hint shared by every quota error: what a user can do about it. */
const QUOTA_HINT =
  "Free space (drop chunks or other databases of this origin), or ask for persistent storage with navigator.storage.persist(); navigator.storage.estimate() shows the origin's usage and quota.";

/**
 * `what` says what failed ("could not write chunks/1/batch-0"). OrbitErrors pass through unchanged;
 * every other failure becomes an I/O error that keeps the original as `cause`.
 */
export function browserStorageError(err: unknown, what: string): OrbitError {
  if (err instanceof OrbitError) return err;
  const name = errorName(err);
  if (name === 'QuotaExceededError') {
    return new OrbitError(SqlState.disk_full, `${what}: the storage quota of this origin is exhausted`, { hint: QUOTA_HINT, cause: err });
  }
  // OPFS refuses a second sync access handle (or a writable) on a file another context holds.
  if (name === 'NoModificationAllowedError') {
    return new OrbitError(SqlState.object_in_use, `${what}: the file is held by another tab or worker`, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new OrbitError(SqlState.io_error, `${what}: ${message}`, { cause: err });
}

/** True for "this entry does not exist" from OPFS (NotFoundError) — an absent key, not a failure. */
export function isNotFound(err: unknown): boolean {
  return errorName(err) === 'NotFoundError';
}

// DOMException is an Error subclass in browsers but not in every test environment: read `name` only.
function errorName(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const name = (err as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}
