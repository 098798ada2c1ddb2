/**
 * @module session/direct-encode
 * The encoding side of a direct COPY on another thread (Node: session/direct-read-node.ts): a
 * chunk's buffered parts, text as the reader's entry numbers, become batch objects there, while the
 * main thread goes on routing the next pieces. The batches are made by the same functions as on the
 * main thread (joinParts, then columnstore/store.ts `encodeBatches`), so they are the same bytes.
 */
import type { CodecBackend } from '../columnstore/codecs/index.js';
import { encodeBatches } from '../columnstore/store.js';
import { joinParts, ThreadDictionaries, type BufferedPart, type EncodedFlush, type EncodeRequest } from './direct-read.js';
import type { DirectTarget } from './direct-target.js';

/** One COPY's encoder: its copy of the strings behind the entry numbers, and the target's settings. */
export class FlushEncoder {
  private readonly dicts: ThreadDictionaries;

  constructor(private readonly target: DirectTarget) {
    this.dicts = new ThreadDictionaries(target);
  }

  /** The batches of one flush; requests must come in the order they were made (their strings are deltas). */
  encode(backend: CodecBackend, request: EncodeRequest): EncodedFlush {
    if (request.parts.length === 0) {
      this.dicts.idRows({ added: request.added });
      return { stats: [], objects: [] };
    }
    const parts = request.parts.map((columns, k): BufferedPart => ({ rows: this.dicts.idRows({ columns, added: k === 0 ? request.added : [] })!, ids: true }));
    const { rows, groups } = joinParts(parts, this.dicts, this.target.settings.segmentBy);
    return encodeBatches(backend, rows, this.target.settings, groups);
  }
}

/** The buffers of a request's columns, each once (sent as the transfer list). */
export function requestBuffers(request: EncodeRequest): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const part of request.parts)
    for (const c of part) {
      if (!Array.isArray(c.values)) out.add((c.values as ArrayBufferView).buffer as ArrayBuffer);
      if (c.nulls) out.add(c.nulls.buffer as ArrayBuffer);
    }
  return [...out];
}
