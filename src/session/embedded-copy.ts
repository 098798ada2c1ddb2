/**
 * @module session/embedded-copy
 * `COPY … FROM STDIN` for the in-process API (`Orbit.copyFrom`). The data — a string, bytes, a Blob
 * (a browser File), a ReadableStream or an (async) iterable of pieces — goes through a protocol
 * session of its own (session/session.ts) as CopyData messages, so an in-process COPY is a wire
 * client's COPY in every respect: direct-to-columnstore ingest into hypertables created WITH
 * (timescaledb.hypertable), PostgreSQL's errors with their line numbers, nothing left by a failed
 * COPY, and rows durable before the promise resolves. The session starts with the caller's settings
 * (DateStyle, TimeZone… decide how values are read) and ends with the COPY.
 */
import { OrbitError } from '../errors.js';
import { concatBytes } from '../bytes.js';
import { readTypedResult } from '../rowstore/typed-query.js';
import type { QueryResult } from '../rowstore/types.js';
import { SqlState } from '../sqlstate.js';
import { scanBackend } from '../wire/protocol/backend.js';
import { copyData, copyFail, simpleMessage } from '../wire/protocol/frontend.js';
import { BackendMessage, FrontendMessage } from '../wire/protocol/message-codes.js';
import type { Message } from '../wire/protocol/reader.js';
import type { Backend } from './backend.js';
import { backendText } from './rewrite.js';
import { Session, type SessionOptions } from './session.js';
import { simpleQuery } from './settings.js';

/** What `copyFrom` reads: the COPY's data in the statement's format (text, csv or binary). */
export type CopySource =
  | string
  | Uint8Array
  | Blob
  | ReadableStream<Uint8Array>
  | CopyFile
  | AsyncIterable<Uint8Array | string>
  | Iterable<Uint8Array | string>;

/**
 * A file open for reading, as Node's `FileHandle` (`fs/promises` `open`): read from its current
 * position to its end into one buffer kept for the whole COPY. A stream's chunks are new buffers
 * each, which V8 counts as external memory; ~500 MB of them drove ~20 full collections of the main
 * isolate per TSBS 72 h load, against ~4 reading the same file this way.
 */
export interface CopyFile {
  read(buffer: Uint8Array, offset: number, length: number, position: number | null): Promise<{ bytesRead: number }>;
  stat(): Promise<unknown>;
}

/** CopyData messages carry at most this much (a client's are usually 64 KiB; fewer, larger ones cost less). */
const PIECE_BYTES = 1 << 20;

/** Runs `sql`, a single `COPY … FROM STDIN`, with `source` as its data. */
export async function copyFromSource(
  backend: Backend,
  options: SessionOptions,
  settings: ReadonlyMap<string, string>,
  sql: string,
  source: CopySource,
): Promise<QueryResult<never>> {
  requireCopyFromStdin(sql);
  const out: Uint8Array[] = [];
  let failed = false;
  const session = new Session(backend, {
    write: (bytes) => {
      out.push(bytes);
      if (scanBackend(bytes).some((f) => f.type === BackendMessage.ErrorResponse)) failed = true;
    },
    terminate: () => undefined,
  }, options);
  try {
    await session.start(settings);
    await session.handle(message(simpleQuery(sql)));
    if (!answered(out, BackendMessage.CopyInResponse)) return result(out);
    try {
      for await (const piece of pieces(source)) {
        // After an error the session ignores the rest, as PostgreSQL does: stop reading.
        if (failed) break;
        await session.handle(copyDataMessage(piece));
      }
    } catch (err) {
      await session.handle(message(copyFail(err instanceof Error ? err.message : String(err))));
      throw err;
    }
    await session.handle(message(simpleMessage(FrontendMessage.CopyDone)));
    return result(out);
  } finally {
    await session.close();
  }
}

/** Only one statement, a COPY FROM STDIN: anything else would run without its data being read. */
function requireCopyFromStdin(sql: string): void {
  const text = backendText(sql);
  if (!text.ok) throw text.error;
  // A syntax error is PostgreSQL's to report (the session runs the text and answers with it).
  if (!text.analysis.ok) return;
  const statements = text.analysis.statements;
  const copy = statements.length === 1 ? statements[0]!.copy : undefined;
  if (!copy?.from || !copy.stdio) {
    throw new OrbitError(SqlState.invalid_parameter_value, 'copyFrom() takes a single COPY … FROM STDIN statement', {
      hint: 'Run other statements with query() or exec().',
    });
  }
}

/** A CopyData message whose body is `piece` itself (the session reads the body; no framed copy). */
function copyDataMessage(piece: Uint8Array): Message {
  return {
    type: FrontendMessage.CopyData,
    body: piece,
    get raw() {
      return copyData(piece);
    },
  };
}

function message(raw: Uint8Array): Message {
  return { type: raw[0]!, body: raw.subarray(5), raw };
}

function answered(out: readonly Uint8Array[], type: number): boolean {
  return out.some((bytes) => scanBackend(bytes).some((f) => f.type === type));
}

/** The COPY's row count, or its error as PostgreSQL reported it. */
function result(out: readonly Uint8Array[]): QueryResult<never> {
  return readTypedResult<never>(concatBytes([...out]));
}

/** The source as byte pieces of at most PIECE_BYTES. */
async function* pieces(source: CopySource): AsyncGenerator<Uint8Array> {
  if (typeof source === 'string' || source instanceof Uint8Array) {
    yield* split(source);
    return;
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    yield* pieces(source.stream());
    return;
  }
  if (typeof ReadableStream !== 'undefined' && source instanceof ReadableStream) {
    const reader = source.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield* split(value);
      }
    } finally {
      reader.releaseLock();
    }
  }
  if (isFile(source)) {
    // Each piece is handled (its bytes copied into the COPY's own buffer) before the next read.
    const buffer = new Uint8Array(PIECE_BYTES);
    for (;;) {
      const { bytesRead } = await source.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  }
  for await (const piece of source as AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>) yield* split(piece);
}

/** A FileHandle, not a stream (a Node ReadStream has a `read` method too, but is iterable). */
function isFile(source: CopySource): source is CopyFile {
  const s = source as Partial<CopyFile> & object;
  return typeof s.read === 'function' && typeof s.stat === 'function' && !(Symbol.asyncIterator in s) && !(Symbol.iterator in s);
}

const encoder = new TextEncoder();

function* split(piece: Uint8Array | string): Generator<Uint8Array> {
  if (typeof piece === 'string') {
    // Encoded a slice at a time (a whole file's string would be copied whole), never between the
    // two halves of a surrogate pair.
    for (let at = 0; at < piece.length; ) {
      let end = Math.min(at + PIECE_BYTES / 4, piece.length);
      const last = piece.charCodeAt(end - 1);
      if (end < piece.length && last >= 0xd800 && last <= 0xdbff) end--;
      yield encoder.encode(piece.slice(at, end));
      at = end;
    }
    return;
  }
  for (let at = 0; at < piece.length; at += PIECE_BYTES) yield piece.subarray(at, Math.min(at + PIECE_BYTES, piece.length));
}
