/**
 * @module rowstore/counted
 * A row store that counts the requests made to it. Everything any session, job or Orbit itself
 * runs on PostgreSQL is one of these requests, so an unchanged count means that PostgreSQL has run
 * nothing — read nothing, written nothing, changed no setting — since the count was taken. The
 * fast path uses that to answer from facts it read before without asking again
 * (session/columnstore/facts.ts).
 */
import type { ValueOf } from '../columnstore/pg-text.js';
import type { QueryResult, RowStore } from './types.js';

export class CountedRowStore implements RowStore {
  /** Requests begun so far (statements, protocol exchanges; `sync` and `close` do not run SQL). */
  requests = 0;
  readonly valueReader?: (oid: number) => ValueOf;
  readonly interrupt?: () => Promise<void>;
  readonly paramTexts?: RowStore['paramTexts'];

  constructor(readonly inner: RowStore) {
    // Optional members keep their absence: callers test for them.
    if (inner.valueReader) this.valueReader = inner.valueReader.bind(inner);
    if (inner.paramTexts) this.paramTexts = inner.paramTexts.bind(inner);
    if (inner.interrupt) {
      const interrupt = inner.interrupt.bind(inner);
      this.interrupt = () => {
        // A restart loses every session's state on the backend.
        this.requests++;
        return interrupt();
      };
    }
  }

  execProtocolRaw(messages: Uint8Array): Promise<Uint8Array> {
    this.requests++;
    return this.inner.execProtocolRaw(messages);
  }

  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<Row>> {
    this.requests++;
    return this.inner.query<Row>(sql, params);
  }

  exec(sql: string): Promise<QueryResult[]> {
    this.requests++;
    return this.inner.exec(sql);
  }

  sync(): Promise<void> {
    return this.inner.sync();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  get closed(): boolean {
    return this.inner.closed;
  }

  get interruptible(): boolean | undefined {
    return this.inner.interruptible;
  }

  get streamsCopyIn(): boolean | undefined {
    return this.inner.streamsCopyIn;
  }

  get unparsedQueryChars(): number | undefined {
    return this.inner.unparsedQueryChars;
  }
}
