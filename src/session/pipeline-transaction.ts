/**
 * @module session/pipeline-transaction
 * Where the backend's transaction stands between two Syncs of the extended protocol, for Orbit's
 * own work on the backend (the columnstore's). At a Sync the ReadyForQuery says it. After that, the
 * first Bind or Execute PostgreSQL runs outside a transaction block opens the protocol's implicit
 * transaction, which lasts to the next Sync (its portals, its writes, its rollback on error), and
 * transaction statements executed in the pipeline begin or end blocks (pgjdbc pipelines its BEGIN).
 *
 * Inside an implicit transaction Orbit's own simple queries cannot run: each would end it (a Query
 * commits it, destroying the client's portals and committing its writes early), and its savepoints
 * are refused there. So the backend is sealed against them while the columnstore works for such a
 * statement (Backend.sealed): work that needs no SQL (cache tables already current) goes on, and a
 * statement whose work would need SQL is refused with 0A000 rather than answered wrongly. The seal
 * holds while any message of the pipeline is handled, so no other simple query of Orbit's (a SQL
 * PREPARE replayed after another session's DEALLOCATE ALL) ends the transaction either. Orbit's
 * reads of the catalog (InternalRunner.read) run there through the extended protocol instead.
 */
import { concatBytes } from '../bytes.js';
import { OrbitError } from '../errors.js';
import type { ClassifiedStatement } from '../sql/classify.js';
import { SqlState } from '../sqlstate.js';
import { writeBind, writeParse, writeTarget } from '../wire/protocol/frontend.js';
import { FrontendMessage, TransactionStatus } from '../wire/protocol/message-codes.js';

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

/** Orbit's own simple query refused inside a pipeline's implicit transaction (Backend.sealed). */
export class PipelineRefusal extends OrbitError {
  constructor() {
    super(SqlState.feature_not_supported, 'Orbit cannot run this statement after other statements of the same pipeline (before their Sync)', {
      detail: "Orbit's own work for it (the columnstore's: compressed chunks to read) would end the pipeline's implicit transaction.",
      hint: 'Send a Sync before it, or run the pipeline inside BEGIN … COMMIT.',
    });
  }
}

/** Whether `messages` (whole frontend messages) hold a simple Query. */
export function holdsSimpleQuery(messages: Uint8Array): boolean {
  for (let at = 0; at + 5 <= messages.length; ) {
    if (messages[at] === FrontendMessage.Query) return true;
    at += 1 + new DataView(messages.buffer, messages.byteOffset + at + 1, 4).getInt32(0);
  }
  return false;
}

/** A read of Orbit's own (InternalRunner.read) that failed inside the pipeline, which PostgreSQL now skips to its Sync. */
export class PipelineReadFailed extends Error {
  constructor(readonly out: Uint8Array) {
    super('a read of Orbit\'s own failed inside a pipeline');
  }
}

/** The statement and portal of such reads (the client's unnamed ones stay as they are). */
const READ = 'orbit_pipeline_read';

/**
 * `sql` (one SELECT) as extended-protocol messages that run inside the current transaction without
 * ending it: its own named statement and portal, closed after, and a Flush.
 */
export function pipelineReadMessages(sql: string): Uint8Array {
  return concatBytes([
    writeParse({ name: READ, query: sql, paramTypes: [] }),
    writeBind({ portal: READ, statement: READ, rest: new Uint8Array(6) }),
    new Uint8Array([FrontendMessage.Execute, 0, 0, 0, 4 + READ.length + 1 + 4, ...new TextEncoder().encode(READ), 0, 0, 0, 0, 0]),
    writeTarget(FrontendMessage.Close, { target: 'P', name: READ }),
    writeTarget(FrontendMessage.Close, { target: 'S', name: READ }),
    new Uint8Array([FrontendMessage.Flush, 0, 0, 0, 4]),
  ]);
}
