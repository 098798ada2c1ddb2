/**
 * @module storage/idb-request
 * Promises over IndexedDB's request and transaction events, shared by the IndexedDB adapters.
 */

export function settle<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * Resolves when `tx` commits. A failed request aborts it (none of ours prevents that), and so does a
 * full quota; either way the promise rejects with the transaction's error.
 */
export function completion(tx: IDBTransaction): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new DOMException('transaction aborted', 'AbortError'));
  });
}
