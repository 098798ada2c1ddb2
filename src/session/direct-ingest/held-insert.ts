/**
 * @module session/direct-ingest/held-insert
 * A Bind of a multi-row INSERT … VALUES that may be written directly to the columnstore
 * (session/direct-ingest/insert.ts), kept back by the session with the Describe and Execute of its portal
 * until Sync shows whether it runs alone (then directly) or not (then its messages go on in order).
 */
import type { ClassifiedStatement } from '../../sql/classify.js';
import { readExecute, readTarget } from '../../wire/protocol/frontend.js';
import { FrontendMessage } from '../../wire/protocol/message-codes.js';
import type { Message } from '../../wire/protocol/reader.js';
import type { InsertParams } from './insert.js';

export class HeldInsert {
  /** The Bind, then the Describe/Execute kept with it, in arrival order. */
  readonly messages: Message[];
  described = false;
  executed = false;

  constructor(
    bind: Message,
    readonly portal: string,
    readonly statement: ClassifiedStatement,
    readonly params: InsertParams,
  ) {
    this.messages = [bind];
  }

  /** Keeps a Describe or the Execute of the held portal; false for anything else (the hold ends). */
  keep(msg: Message): boolean {
    if (this.executed) return false;
    if (msg.type === FrontendMessage.Describe) {
      const t = readTarget(msg.body);
      if (t.target !== 'P' || t.name !== this.portal) return false;
      this.described = true;
    } else if (msg.type === FrontendMessage.Execute) {
      if (readExecute(msg.body).portal !== this.portal) return false;
      this.executed = true;
    } else {
      return false;
    }
    this.messages.push(msg);
    return true;
  }
}
