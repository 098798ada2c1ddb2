import { describe, expect, it } from 'vitest';
import { OrbitError } from '../../src/errors.js';
import { browserStorageError, isNotFound } from '../../src/storage/browser-errors.js';
import { SqlState } from '../../src/sqlstate.js';

describe('browser storage errors', () => {
  it('maps QuotaExceededError to disk_full with a hint', () => {
    const cause = new DOMException('quota exceeded', 'QuotaExceededError');
    const err = browserStorageError(cause, 'could not write chunks/1/batch-0');
    expect(err).toBeInstanceOf(OrbitError);
    expect(err).toMatchObject({ code: SqlState.disk_full, message: expect.stringContaining('chunks/1/batch-0'), hint: expect.stringContaining('navigator.storage') });
    expect(err.cause).toBe(cause);
  });

  it('maps a file held elsewhere to object_in_use and anything else to io_error', () => {
    expect(browserStorageError(new DOMException('busy', 'NoModificationAllowedError'), 'x').code).toBe(SqlState.object_in_use);
    expect(browserStorageError(new DOMException('?', 'InvalidStateError'), 'could not read k')).toMatchObject({
      code: SqlState.io_error,
      message: 'could not read k: ?',
    });
    // Plain objects shaped like DOMExceptions (another realm's) are recognised by name.
    expect(browserStorageError({ name: 'QuotaExceededError' }, 'x').code).toBe(SqlState.disk_full);
  });

  it('passes OrbitErrors through and recognises NotFoundError', () => {
    const own = new OrbitError(SqlState.object_in_use, 'held');
    expect(browserStorageError(own, 'x')).toBe(own);
    expect(isNotFound(new DOMException('gone', 'NotFoundError'))).toBe(true);
    expect(isNotFound(new Error('gone'))).toBe(false);
  });
});
