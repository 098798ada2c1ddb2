/**
 * @module session/direct-read-worker-entry
 * Runs in a Node worker thread (session/direct-read-node.ts): PieceReaders in id mode, reading the
 * pieces of direct COPYs while the main thread routes, encodes and writes the ones before.
 */
import { parentPort } from 'node:worker_threads';
import { PieceReader, type ThreadPiece } from './direct-read.js';
import type { ReaderRequest, ReaderResponse } from './direct-read-node.js';

const port = parentPort!;
const readers = new Map<number, PieceReader>();

port.postMessage('ready');
port.on('message', (req: ReaderRequest) => {
  if (req.op === 'open') readers.set(req.reader, new PieceReader(req.format, req.fields, req.target, true));
  else if (req.op === 'close') readers.delete(req.reader);
  else {
    let piece: ThreadPiece;
    try {
      const reader = readers.get(req.reader);
      if (!reader) throw new Error(`no direct COPY reader ${req.reader}`);
      piece = reader.readIds(req.piece, req.first);
    } catch (err) {
      port.postMessage({ seq: req.seq, error: String((err as Error)?.message ?? err) } satisfies ReaderResponse);
      return;
    }
    // The columns were made for this piece alone: their buffers move to the main thread.
    const transfer = (piece.columns ?? []).flatMap((c) => [c.values, c.nulls]).filter((v): v is Exclude<typeof v, string[] | null> => v !== null && !Array.isArray(v));
    port.postMessage({ seq: req.seq, piece } satisfies ReaderResponse, [...new Set(transfer.map((v) => v.buffer as ArrayBuffer))]);
  }
});
