/**
 * @module session/copy-through
 * COPY FROM STDIN for a row store that reads the data itself as it arrives (the edge engine,
 * `RowStore.streamsCopyIn`): every CopyData is handed to it at once, and CopyDone / CopyFail end the
 * COPY there. The row store answers the COPY statement (CopyInResponse or its error) and, at the end,
 * CommandComplete or the error with ReadyForQuery. Nothing is gathered here.
 */
import { copyData, copyFail } from '../wire/protocol/frontend.js';
import { scanBackend } from '../wire/protocol/backend.js';
import { BackendMessage, FrontendMessage } from '../wire/protocol/message-codes.js';

type Run = (messages: Uint8Array) => Promise<Uint8Array>;

const COPY_DONE = new Uint8Array([FrontendMessage.CopyDone, 0, 0, 0, 4]);

export class CopyThrough {
  /** A CopyThrough when the row store's answer to a Query ends by starting a COPY (CopyInResponse). */
  static startedBy(out: Uint8Array): CopyThrough | undefined {
    const frames = scanBackend(out);
    return frames[frames.length - 1]?.type === BackendMessage.CopyInResponse ? new CopyThrough() : undefined;
  }

  /** Passes one CopyData on; the row store answers a COPY's error only at its end (CopyDone). */
  async data(body: Uint8Array, run: Run): Promise<void> {
    await run(copyData(body));
  }

  /** CopyDone (or CopyFail with its message): the row store's answer, ending with ReadyForQuery. */
  async finish(run: Run, failMessage?: string): Promise<Uint8Array> {
    return run(failMessage === undefined ? COPY_DONE : copyFail(failMessage));
  }
}
