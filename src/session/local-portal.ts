/**
 * @module session/local-portal
 * The unnamed portal of a Bind whose rows Orbit made itself (an aggregate's rows from the kernels'
 * partials, session/columnstore/aggregate-rows.ts), answered without PostgreSQL: its Describe with
 * PostgreSQL's own description of the statement, and each Execute as PostgreSQL's portal answers
 * it — every row left, or at most the Execute's row limit followed by PortalSuspended when that
 * many were left (PostgreSQL suspends then too: it has not seen the end), and otherwise the
 * CommandComplete counting the rows of that Execute.
 *
 * Why: the rows were known at the Bind; having PostgreSQL describe and return them cost parsing
 * the fast path's statement and running it, two round trips per statement with parameters.
 */
import type { ClassifiedStatement } from '../sql/classify.js';
import { commandComplete, scanBackend } from '../wire/protocol/backend.js';
import { BackendMessage } from '../wire/protocol/message-codes.js';
import type { PrintedRows } from './columnstore/scan.js';

export class LocalPortal {
  private sent = 0;
  /** The DataRows one by one (split only for an Execute with a row limit). */
  private rows: Uint8Array[] | undefined;

  constructor(
    readonly statement: ClassifiedStatement,
    /** The portal's RowDescription (text format). */
    readonly description: Uint8Array,
    private readonly printed: PrintedRows,
  ) {}

  /** The messages answering an Execute with row limit `maxRows` (0 or less: no limit, as in PostgreSQL). */
  execute(maxRows: number): Uint8Array[] {
    const left = this.printed.count - this.sent;
    if (maxRows <= 0 && this.sent === 0) {
      this.sent = left;
      return [...this.printed.messages, commandComplete(`SELECT ${left}`)];
    }
    this.rows ??= this.printed.messages.flatMap((m) => scanBackend(m).map((f) => m.subarray(f.start, f.end)));
    const n = maxRows > 0 ? Math.min(maxRows, left) : left;
    const out = this.rows.slice(this.sent, this.sent + n);
    this.sent += n;
    out.push(maxRows > 0 && n === maxRows ? PORTAL_SUSPENDED : commandComplete(`SELECT ${n}`));
    return out;
  }
}

const PORTAL_SUSPENDED = new Uint8Array([BackendMessage.PortalSuspended, 0, 0, 0, 4]);
