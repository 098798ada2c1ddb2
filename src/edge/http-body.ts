/**
 * @module edge/http-body
 * The streaming form of `POST /sql` (docs/runtimes/workers.md, "COPY over HTTP"): with
 * `Content-Type: application/vnd.orbit.sql-stdin` the body is one line of JSON, `{"sql": …,
 * "params": […]}`, a newline, then the data of the statement's `COPY … FROM STDIN` to the end of
 * the body. The object reads the data as it arrives instead of holding the body whole, as the JSON
 * form (`{"sql", "params", "stdin"}`) has to.
 */
import { concatBytes } from '../bytes.js';
import { orbitError } from '../errors.js';

export const STDIN_CONTENT_TYPE = 'application/vnd.orbit.sql-stdin';

/** The header line's longest accepted length: it holds the SQL, not the data. */
const MAX_HEADER_BYTES = 1 << 20;
const NL = 0x0a;

/** True for a request in the streaming form (by its Content-Type). */
export function isStdinForm(contentType: string | null | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === STDIN_CONTENT_TYPE;
}

/**
 * Splits a streaming-form body into its JSON header (parsed) and the COPY data that follows, read
 * from the stream only as the consumer asks. Leaving the data unread (an error, no COPY) cancels it.
 */
export async function readStdinBody(body: ReadableStream<Uint8Array> | null): Promise<{ header: unknown; stdin: AsyncIterable<Uint8Array>; discard(): Promise<void> }> {
  if (!body) throw orbitError('protocol_violation', 'request body must be a JSON line followed by the COPY data');
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  let first: Uint8Array | undefined;
  let ended = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      ended = true;
      break;
    }
    const nl = value.indexOf(NL);
    if (nl >= 0) {
      parts.push(value.subarray(0, nl));
      first = value.subarray(nl + 1);
      break;
    }
    parts.push(value);
    size += value.length;
    if (size > MAX_HEADER_BYTES) {
      await reader.cancel();
      throw orbitError('protocol_violation', `the request's first line (its JSON header) is longer than ${MAX_HEADER_BYTES} bytes`);
    }
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { ignoreBOM: true }).decode(concatBytes(parts)));
  } catch {
    await reader.cancel();
    throw orbitError('protocol_violation', 'the first line of the request body must be JSON of the form {"sql": "...", "params": [...]}');
  }
  let finished = ended;
  async function* stdin(): AsyncGenerator<Uint8Array> {
    try {
      if (first && first.length > 0) yield first;
      first = undefined;
      while (!finished) {
        const { done, value } = await reader.read();
        if (done) finished = true;
        else yield value;
      }
    } finally {
      await discard();
    }
  }
  /** Cancels the rest of the body (nothing read it to its end). */
  async function discard(): Promise<void> {
    if (finished) return;
    finished = true;
    await reader.cancel().catch(() => undefined);
  }
  return { header, stdin: stdin(), discard };
}
