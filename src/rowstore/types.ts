/**
 * @module rowstore/types
 * The row store contract: exact PostgreSQL (PGlite) behind the protocol. The engine core only imports
 * this type, so profiles without PGlite (the edge) never load it.
 */
import type { ValueOf } from '../columnstore/pg-text.js';

/** One column of a result, as in RowDescription. */
export interface FieldInfo {
  readonly name: string;
  readonly dataTypeID: number;
}

/** Result of one statement run through the typed API. */
export interface QueryResult<Row = Record<string, unknown>> {
  readonly rows: Row[];
  readonly fields: FieldInfo[];
  /** Rows affected by INSERT/UPDATE/DELETE/MERGE/COPY, when the command reports it. */
  readonly affectedRows?: number;
}

export interface RowStore {
  /**
   * Runs frontend protocol messages and returns every backend message they produce. The caller
   * serialises access (one logical session at a time); a response ends with ReadyForQuery only if
   * the input contained Sync or Query.
   */
  execProtocolRaw(messages: Uint8Array): Promise<Uint8Array>;
  /**
   * How `query` turns the text of a value of type `oid` into a JS value: 'number' when it gives the
   * number the text spells (PGlite's default parsers of int2, int4, float8), `{ date }` for PGlite's
   * default parsers of timestamptz and date (a Date of the text), else the parser, or undefined
   * (the text itself).
   */
  valueReader?(oid: number): ValueOf;
  /**
   * The text `query` sends for each of `params`, given the types PostgreSQL describes for them
   * (PGlite's serializers: null for NULL); undefined when a value would not go as text.
   */
  paramTexts?(types: readonly number[], params: readonly unknown[]): Array<string | null> | undefined;
  /** Typed query with parameters (PGlite's own parsers and serializers). */
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<Row>>;
  /** Runs a multi-statement string; one result per statement. */
  exec(sql: string): Promise<QueryResult[]>;
  /** Makes everything acknowledged so far durable in the backing store. */
  sync(): Promise<void>;
  close(): Promise<void>;
  readonly closed: boolean;
  /** True when `interrupt` can stop a running statement. */
  readonly interruptible?: boolean;
  /**
   * Stops the running statement by restarting the backend on the same data: requests in flight
   * reject with RowStoreInterrupted, committed data stays, session state on the backend is gone.
   */
  interrupt?(): Promise<void>;
  /**
   * The row store reads COPY FROM STDIN data message by message itself (the edge engine): the
   * session passes the COPY's messages through as they arrive instead of cutting the stream into
   * pieces of its own (session/copy-through.ts).
   */
  readonly streamsCopyIn?: boolean;
  /**
   * Simple-query texts longer than this are given to the row store without the session parsing
   * them: it parses large texts a piece at a time itself (the edge engine, src/edge/statements.ts).
   */
  readonly unparsedQueryChars?: number;
}

/** Rejects the requests that were running when the row store was interrupted. */
export class RowStoreInterrupted extends Error {
  constructor() {
    super('the row store was interrupted');
    this.name = 'RowStoreInterrupted';
  }
}
