/**
 * @module sql/rewrite/types
 * A statement Orbit runs in another form than the client wrote it.
 */
export interface StatementRewrite {
  /** The SQL PostgreSQL runs instead (one statement). */
  readonly sql: string;
  /** The command tag the client must see instead of the rewritten statement's own. */
  readonly commandTag?: string;
}
