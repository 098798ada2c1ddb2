/**
 * @module session/pipeline-transaction
 * Where the backend's transaction stands between two Syncs of the extended protocol, for Orbit's
 * own work on the backend (the columnstore's). At a Sync the ReadyForQuery says it. After that, the
 * first Bind or Execute PostgreSQL runs outside a transaction block opens the protocol's implicit
 * transaction, which lasts to the next Sync (its portals, its writes, its rollback on error), and
 * transaction statements executed in the pipeline begin or end blocks (pgjdbc pipelines its BEGIN).
 *
 * Inside an implicit transaction Orbit's own simple queries cannot run as such: each would end it (a
 * Query commits it, destroying the client's portals and committing its writes early). So while the
 * columnstore works for such a statement the backend is sealed (Backend.sealed): Orbit's statements
 * go as extended-protocol messages without a Sync (`pipelineMessages`), inside the client's
 * transaction, which the client's Sync commits and a later error rolls back with Orbit's work
 * (cache tables, decompressed batches, the catalog's manifests). Savepoints cannot be set there
 * (PostgreSQL refuses them outside a block), so a statement of Orbit's own that fails there fails
 * the client's statement (PipelineStatementFailed) with its error, the transaction aborted as
 * PostgreSQL's own error would leave it. The seal holds while any message of the pipeline is
 * handled, so no other simple query of Orbit's (a SQL PREPARE replayed after another session's
 * DEALLOCATE ALL) ends the transaction either.
 */
import { concatBytes } from '../bytes.js';
import { OrbitError } from '../errors.js';
import type { ClassifiedStatement } from '../sql/classify.js';
import { SqlState } from '../sqlstate.js';
import { parseSql } from '../sql/parser.js';
import { scanBackend } from '../wire/protocol/backend.js';
import { writeBind, writeParse, writeTarget } from '../wire/protocol/frontend.js';
import { BackendMessage, FrontendMessage, TransactionStatus } from '../wire/protocol/message-codes.js';

/**
 * Outside any transaction, inside the implicit transaction of the pipeline, inside a block, or
 * inside a failed block (PostgreSQL refuses everything but its end or a ROLLBACK TO SAVEPOINT:
 * Orbit does no work of its own there).
 */
export type PipelineState = 'idle' | 'implicit' | 'block' | 'failed';

export class PipelineTransaction {
  /** Undefined: nothing ran since the last Sync (the ReadyForQuery's status stands). */
  private state: PipelineState | undefined;

  /** At a Sync: the ReadyForQuery says where the transaction stands. */
  reset(): void {
    this.state = undefined;
  }

  /** The state now, `ready` being the last ReadyForQuery's status. */
  current(ready: TransactionStatus): PipelineState {
    return this.state ?? (ready === TransactionStatus.Idle ? 'idle' : ready === TransactionStatus.Failed ? 'failed' : 'block');
  }

  /** A Bind, or an Execute of a portal of `statement`, goes to the backend. */
  ran(type: number, statement: ClassifiedStatement | undefined, ready: TransactionStatus): void {
    const now = this.current(ready);
    const kind = type === FrontendMessage.Execute && statement?.type === 'TransactionStmt' ? (statement.node.kind as string | undefined) : undefined;
    switch (kind) {
      case 'TRANS_STMT_BEGIN':
      case 'TRANS_STMT_START':
        // Refused in a failed block (which stays failed).
        if (now !== 'failed') this.state = 'block';
        return;
      case 'TRANS_STMT_ROLLBACK_TO':
        // Leaves a failed block usable again.
        if (now === 'failed') this.state = 'block';
        return;
      case 'TRANS_STMT_COMMIT':
      case 'TRANS_STMT_ROLLBACK':
        // PostgreSQL ends the transaction at once (finish_xact_command); AND CHAIN opens a block again.
        this.state = statement!.node.chain === true ? 'block' : 'idle';
        return;
      case 'TRANS_STMT_PREPARE':
      case 'TRANS_STMT_COMMIT_PREPARED':
      case 'TRANS_STMT_ROLLBACK_PREPARED':
        this.state = 'idle';
        return;
      default:
        if (now === 'idle') this.state = 'implicit';
    }
  }
}

/**
 * Orbit's own work that cannot be done inside a pipeline's implicit transaction: a statement beginning
 * or ending a transaction (only Orbit's work outside any transaction sends one), or work it must undo
 * after (a unique index tried on the hypertable: columnstore/unique-indexes.ts).
 */
export class PipelineRefusal extends OrbitError {
  constructor(detail = "Orbit's own work for it would end the pipeline's implicit transaction.") {
    super(SqlState.feature_not_supported, 'Orbit cannot run this statement after other statements of the same pipeline (before their Sync)', {
      detail,
      hint: 'Send a Sync before it, or run the pipeline inside BEGIN … COMMIT.',
    });
  }
}

/** Whether `messages` (whole frontend messages) hold a simple Query. */
export function holdsSimpleQuery(messages: Uint8Array): boolean {
  return frames(messages).some((f) => messages[f.start] === FrontendMessage.Query);
}

/**
 * A statement of Orbit's own failed inside the pipeline (its ErrorResponse in `out`): PostgreSQL
 * has aborted the implicit transaction and skips messages to the Sync, so the client's statement
 * fails with that error.
 */
export class PipelineStatementFailed extends Error {
  constructor(readonly out: Uint8Array) {
    super("a statement of Orbit's own failed inside a pipeline");
  }
}

/** The statement and portal of Orbit's own statements in a pipeline (the client's unnamed ones stay as they are). */
const OWN = 'orbit_pipeline';

/**
 * `messages` with each simple Query replaced by its statements as extended-protocol messages, which
 * run inside the current transaction without ending it: per statement its own named statement and
 * portal, described (a simple query's RowDescription), executed and closed; a Flush at the end.
 * Other messages (a COPY's data) stay where they are. Savepoints cannot be set in an implicit
 * transaction (PostgreSQL: 25P01): their statements are left out, so what Orbit did after one stays
 * in the transaction (work that must be undone is refused before it starts: unique-indexes.ts), and
 * a failure there fails the client's statement (PipelineStatementFailed) rather than being rolled
 * back to it. A statement that would begin or end the transaction is refused (PipelineRefusal),
 * before anything runs.
 */
export function pipelineMessages(messages: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  // Closed before each statement (an error skipped the last closes to the Sync, and the statement
  // outlives the transaction) and at the end, not right after: a COPY's data follows its Execute.
  let open = false;
  for (const f of frames(messages)) {
    if (messages[f.start] !== FrontendMessage.Query) {
      parts.push(messages.subarray(f.start, f.end));
      continue;
    }
    const sql = new TextDecoder().decode(messages.subarray(f.start + 5, f.end - 1));
    for (const s of parseSql(sql)) {
      const kind = s.type === 'TransactionStmt' ? (s.node.kind as string) : undefined;
      if (kind === 'TRANS_STMT_SAVEPOINT' || kind === 'TRANS_STMT_RELEASE' || kind === 'TRANS_STMT_ROLLBACK_TO') continue;
      if (kind !== undefined) throw new PipelineRefusal();
      parts.push(CLOSE_OWN, writeParse({ name: OWN, query: s.text, paramTypes: [] }), BIND_OWN, DESCRIBE_OWN, EXECUTE_OWN);
      open = true;
    }
  }
  if (open) parts.push(CLOSE_OWN);
  if (parts.length > 0) parts.push(FLUSH);
  return concatBytes(parts);
}

/** The output of pipelineMessages as a simple query's (without its ReadyForQuery): the extended protocol's acknowledgements left out. */
export function simpleOutput(out: Uint8Array): Uint8Array {
  const kept = scanBackend(out).filter((f) => !ACKNOWLEDGEMENTS.includes(out[f.start]!));
  return concatBytes(kept.map((f) => out.subarray(f.start, f.end)));
}

const ACKNOWLEDGEMENTS: readonly number[] = [BackendMessage.ParseComplete, BackendMessage.BindComplete, BackendMessage.CloseComplete, BackendMessage.NoData];
/** Bind's rest (after the names): no parameter formats, no parameters, no result formats (text). */
const BIND_OWN = writeBind({ portal: OWN, statement: OWN, rest: new Uint8Array(6) });
const DESCRIBE_OWN = writeTarget(FrontendMessage.Describe, { target: 'P', name: OWN });
const CLOSE_OWN = concatBytes([writeTarget(FrontendMessage.Close, { target: 'P', name: OWN }), writeTarget(FrontendMessage.Close, { target: 'S', name: OWN })]);
const EXECUTE_OWN = new Uint8Array([FrontendMessage.Execute, 0, 0, 0, 4 + OWN.length + 1 + 4, ...new TextEncoder().encode(OWN), 0, 0, 0, 0, 0]);
const FLUSH = new Uint8Array([FrontendMessage.Flush, 0, 0, 0, 4]);

/** Whole frontend messages' extents. */
function frames(messages: Uint8Array): Array<{ start: number; end: number }> {
  const out: Array<{ start: number; end: number }> = [];
  for (let at = 0; at + 5 <= messages.length; ) {
    const end = at + 1 + new DataView(messages.buffer, messages.byteOffset + at + 1, 4).getInt32(0);
    out.push({ start: at, end });
    at = end;
  }
  return out;
}
