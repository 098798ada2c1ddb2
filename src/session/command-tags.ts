/**
 * @module session/command-tags
 * A statement Orbit rewrote (sql/rewrite) must still answer with the command tag of the statement
 * the client sent: `CREATE TABLE … WITH (timescaledb.hypertable)` runs as a DO block, but the client
 * sees `CREATE TABLE`. Every statement of a simple query, and every Execute of an extended-query
 * batch, ends in exactly one CommandComplete, EmptyQueryResponse or PortalSuspended (or an error,
 * after which nothing more runs), so the n-th such frame of a batch's output is the n-th command's.
 */
import { commandComplete, scanBackend } from '../wire/protocol/backend.js';
import { BackendMessage } from '../wire/protocol/message-codes.js';
import { concatBytes } from '../bytes.js';

/** The commands of the extended-query batch being queued, and the tags some of them need. */
export class PendingCommandTags {
  private commands = 0;
  private tags: Map<number, string> | undefined;

  /** An Execute was queued; `tag`, if given, replaces its CommandComplete's tag. */
  note(tag: string | undefined): void {
    if (tag !== undefined) (this.tags ??= new Map()).set(this.commands, tag);
    this.commands++;
  }

  /** The tags of the batch now sent (undefined when none), starting afresh for the next batch. */
  take(): ReadonlyMap<number, string> | undefined {
    const tags = this.tags;
    this.tags = undefined;
    this.commands = 0;
    return tags;
  }
}

/** `out` with the CommandComplete of the n-th command replaced by `tags.get(n)`. */
export function retagCommands(out: Uint8Array, tags: ReadonlyMap<number, string> | undefined): Uint8Array {
  if (!tags || tags.size === 0) return out;
  const parts: Uint8Array[] = [];
  let from = 0;
  let n = 0;
  for (const f of scanBackend(out)) {
    if (f.type !== BackendMessage.CommandComplete && f.type !== BackendMessage.EmptyQueryResponse && f.type !== BackendMessage.PortalSuspended) continue;
    const tag = tags.get(n++);
    if (tag === undefined || f.type !== BackendMessage.CommandComplete) continue;
    parts.push(out.subarray(from, f.start), commandComplete(tag));
    from = f.end;
  }
  if (parts.length === 0) return out;
  parts.push(out.subarray(from));
  return concatBytes(parts);
}
