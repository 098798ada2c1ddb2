/**
 * @module session/direct-ingest/read-worker-entry
 * Runs in a Node worker thread (session/direct-ingest/read-node.ts): PieceReaders in id mode, reading the
 * pieces of direct COPYs, and FlushEncoders, cutting and encoding their batches, while the main
 * thread routes the pieces and writes the batches. A thread is used for one of the two roles.
 */
import { parentPort } from 'node:worker_threads';
import type { CodecBackend } from '../../columnstore/codecs/index.js';
import type { FlushEncoder } from './encode.js';
import { PieceReader } from './read.js';
import { movable, type ThreadPiece } from './threads.js';
import type { ReaderRequest, ReaderResponse } from './read-node.js';

const port = parentPort!;
const readers = new Map<number, PieceReader>();
const encoders = new Map<number, FlushEncoder>();
/**
 * The encoding code and codecs, loaded with the first encoder (a reader thread never needs them, and
 * starts sooner without): the WASM codecs when built, as on the main thread.
 */
let encodingCode: Promise<{ codecs: CodecBackend; FlushEncoder: typeof FlushEncoder }> | undefined;
async function loadEncoding(): Promise<{ codecs: CodecBackend; FlushEncoder: typeof FlushEncoder }> {
  const [{ FlushEncoder }, { ReferenceBackend }, { loadCodecsNode }] = await Promise.all([import('./encode.js'), import('../../columnstore/codecs/index.js'), import('../../columnstore/codecs/load-node.js')]);
  const codecs = await loadCodecsNode().catch((): CodecBackend => new ReferenceBackend());
  return { codecs, FlushEncoder };
}
/** Encode requests run one after another, in arrival order (their strings are deltas). */
let encoding: Promise<void> = Promise.resolve();

const fail = (seq: number, err: unknown) => port.postMessage({ seq, error: String((err as Error)?.message ?? err) } satisfies ReaderResponse);

port.postMessage('ready');
port.on('message', (req: ReaderRequest) => {
  switch (req.op) {
    case 'open':
      readers.set(req.reader, new PieceReader(req.format, req.fields, req.target, true));
      return;
    case 'close':
      readers.delete(req.reader);
      return;
    case 'encoder': {
      encodingCode ??= loadEncoding();
      const { encoder, target } = req;
      encoding = encoding.then(async () => void encoders.set(encoder, new (await encodingCode!).FlushEncoder(target))).catch(() => undefined);
      return;
    }
    case 'warm':
      encodingCode ??= loadEncoding();
      return;
    case 'closeEncoder':
      encoding = encoding.then(() => void encoders.delete(req.encoder));
      return;
    case 'encode':
      encoding = encoding.then(async () => {
        try {
          const encoder = encoders.get(req.encoder);
          if (!encoder) throw new Error(`no direct COPY encoder ${req.encoder}`);
          const flush = encoder.encode((await encodingCode!).codecs, req.request);
          // The objects are views of one shared buffer (FlushEncoder.encode): shared, not copied.
          port.postMessage({ seq: req.seq, flush } satisfies ReaderResponse);
        } catch (err) {
          fail(req.seq, err);
        }
      });
      return;
    case 'read': {
      let piece: ThreadPiece;
      try {
        const reader = readers.get(req.reader);
        if (!reader) throw new Error(`no direct COPY reader ${req.reader}`);
        reader.recycle(req.recycle);
        piece = { ...reader.readIds(req.piece, req.first), data: req.piece };
      } catch (err) {
        fail(req.seq, err);
        return;
      }
      // The columns were made for this piece alone: their buffers move to the main thread (or are
      // shared with it), and so does the piece's own (to be read there if it was not here, and to be reused).
      const views = (piece.columns ?? []).flatMap((c) => [c.values, c.nulls]).filter((v): v is Exclude<typeof v, string[] | null> => v !== null && !Array.isArray(v));
      port.postMessage({ seq: req.seq, piece } satisfies ReaderResponse, movable([...views.map((v) => v.buffer), req.piece.buffer]));
    }
  }
});
