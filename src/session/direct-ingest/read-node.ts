/**
 * @module session/direct-ingest/read-node
 * Node's threads for direct COPY (session/direct-ingest/copy.ts), started at the first direct COPY and
 * kept (unref'd) for later ones: a reader thread reads pieces in id mode (read.ts), and an
 * encoder thread cuts a chunk's buffered rows into batches and encodes them (encode.ts),
 * while the main thread routes the pieces and writes the batches. Browsers and Workers have no such
 * threads: there the main thread does all of it.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CopyFormat } from '../copy-in.js';
import { movable, type EncodedFlush, type EncodeRequest, type ReaderThread, type ThreadEncoder, type ThreadPiece, type ThreadReader } from './threads.js';
import type { DirectTarget } from './target.js';

export type ReaderRequest =
  | { op: 'open'; reader: number; format: CopyFormat; fields: readonly number[]; target: DirectTarget }
  /** `recycle`: shared buffers of earlier pieces' columns, free again (PieceReader.recycle). */
  | { op: 'read'; reader: number; seq: number; piece: Uint8Array; first: boolean; recycle: readonly SharedArrayBuffer[] }
  | { op: 'close'; reader: number }
  | { op: 'encoder'; encoder: number; target: DirectTarget }
  /** Load the encoding code now (a thread started ahead of the first COPY). */
  | { op: 'warm' }
  | { op: 'encode'; encoder: number; seq: number; request: EncodeRequest }
  | { op: 'closeEncoder'; encoder: number };

export type ReaderResponse = { seq: number; piece: ThreadPiece } | { seq: number; flush: EncodedFlush } | { seq: number; error: string };

/** One worker running direct-read-worker-entry, with its replies matched to requests. */
class EntryWorker {
  private worker: Worker | undefined;
  /** The worker has loaded its code (a thread is not worth waiting for at the start of a COPY). */
  private started = false;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (r: ReaderResponse) => void; reject: (e: Error) => void }>();

  /** The running worker (started if need be). */
  get(): Worker {
    return this.worker ?? this.start();
  }

  /** Whether `worker` is the current one and has started. */
  readyFor(worker: Worker): boolean {
    return this.started && this.worker === worker;
  }

  request(worker: Worker, message: (seq: number) => ReaderRequest, transfer: ArrayBuffer[]): Promise<ReaderResponse> {
    return new Promise<ReaderResponse>((resolve, reject) => {
      const seq = ++this.seq;
      this.pending.set(seq, { resolve, reject });
      worker.postMessage(message(seq), transfer);
    });
  }

  post(worker: Worker, message: ReaderRequest): void {
    if (this.worker === worker) worker.postMessage(message);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) {
      worker.removeAllListeners('exit');
      await worker.terminate();
    }
    for (const p of this.pending.values()) p.reject(new Error('the database is closed'));
    this.pending.clear();
  }

  private start(): Worker {
    const worker = spawnEntry();
    // Kept between COPYs, but never what keeps the process alive.
    worker.unref();
    this.started = false;
    worker.on('message', (res: ReaderResponse | 'ready') => {
      if (res === 'ready') {
        if (this.worker === worker) this.started = true;
        return;
      }
      const p = this.pending.get(res.seq);
      if (!p) return;
      this.pending.delete(res.seq);
      if ('error' in res) p.reject(new Error(res.error));
      else p.resolve(res);
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`direct COPY thread exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}

export class NodeReaderThread implements ReaderThread {
  private readonly reading = new EntryWorker();
  private readonly encoding = new EntryWorker();
  private ids = 0;
  /** Absent (`encoder: false`): batches are cut and encoded on the main thread. */
  readonly encoder?: (target: DirectTarget) => ThreadEncoder;

  constructor(options: { encoder?: boolean } = {}) {
    if (options.encoder !== false) this.encoder = (target) => this.openEncoder(target);
  }

  /**
   * Starts the threads (and loads the encoder's code) ahead of the first direct COPY, which would
   * otherwise read and encode its first pieces here while they load (~1 s under tsx).
   */
  start(): void {
    this.reading.get();
    if (this.encoder) this.encoding.get().postMessage({ op: 'warm' } satisfies ReaderRequest);
  }

  open(format: CopyFormat, fields: readonly number[], target: DirectTarget): ThreadReader {
    const threads = this.reading;
    const worker = threads.get();
    const reader = ++this.ids;
    worker.postMessage({ op: 'open', reader, format, fields, target } satisfies ReaderRequest);
    return {
      get ready() {
        return threads.readyFor(worker);
      },
      read: async (piece, first, recycle = []) => {
        // The piece's buffer moves to the thread (or is shared with it), which gives it back with the reply.
        const res = await threads.request(worker, (seq) => ({ op: 'read', reader, seq, piece, first, recycle }), movable([piece.buffer]));
        return (res as { piece: ThreadPiece }).piece;
      },
      close: () => threads.post(worker, { op: 'close', reader }),
    };
  }

  private openEncoder(target: DirectTarget): ThreadEncoder {
    const threads = this.encoding;
    const worker = threads.get();
    const encoder = ++this.ids;
    worker.postMessage({ op: 'encoder', encoder, target } satisfies ReaderRequest);
    return {
      get ready() {
        return threads.readyFor(worker);
      },
      encode: async (request, transfer) => {
        const res = await threads.request(worker, (seq) => ({ op: 'encode', encoder, seq, request }), transfer);
        return (res as { flush: EncodedFlush }).flush;
      },
      close: () => threads.post(worker, { op: 'closeEncoder', encoder }),
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.reading.close(), this.encoding.close()]);
  }
}

/**
 * The thread's entry: the built `dist/direct-read-worker-entry.js` (this code sits in dist/ or in
 * dist/runtime/ once bundled), or the TypeScript source under tsx when running from src/ (tests).
 */
function spawnEntry(): Worker {
  for (const rel of ['./direct-read-worker-entry.js', '../direct-read-worker-entry.js']) {
    const js = new URL(rel, import.meta.url);
    if (existsSync(js)) return new Worker(js);
  }
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./read-worker-entry.ts', import.meta.url).href;
  const boot = `import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(entry)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`));
}
