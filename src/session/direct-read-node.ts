/**
 * @module session/direct-read-node
 * Node's reader thread for direct COPY (session/direct-ingest.ts): one worker thread, started at the
 * first direct COPY and kept (unref'd) for later ones, reads pieces in id mode (direct-read.ts) while
 * the main thread routes, encodes and writes the pieces before them. Browsers and Workers have no
 * such thread: there the main thread reads every piece.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CopyFormat } from './copy-in.js';
import type { ReaderThread, ThreadPiece, ThreadReader } from './direct-read.js';
import type { DirectTarget } from './direct-target.js';

export type ReaderRequest =
  | { op: 'open'; reader: number; format: CopyFormat; fields: readonly number[]; target: DirectTarget }
  | { op: 'read'; reader: number; seq: number; piece: Uint8Array; first: boolean }
  | { op: 'close'; reader: number };

export type ReaderResponse = { seq: number; piece: ThreadPiece } | { seq: number; error: string };

export class NodeReaderThread implements ReaderThread {
  private worker: Worker | undefined;
  /** The worker has loaded its code (a thread is not worth waiting for at the start of a COPY). */
  private ready = false;
  private readers = 0;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (p: ThreadPiece) => void; reject: (e: Error) => void }>();

  open(format: CopyFormat, fields: readonly number[], target: DirectTarget): ThreadReader {
    const worker = this.start();
    const reader = ++this.readers;
    worker.postMessage({ op: 'open', reader, format, fields, target } satisfies ReaderRequest);
    const self = this;
    return {
      get ready() {
        return self.ready && self.worker === worker;
      },
      read: (piece, first) =>
        new Promise<ThreadPiece>((resolve, reject) => {
          const seq = ++this.seq;
          this.pending.set(seq, { resolve, reject });
          // A copy of its own, moved to the thread (the piece may view a larger buffer).
          const own = piece.slice();
          worker.postMessage({ op: 'read', reader, seq, piece: own, first } satisfies ReaderRequest, [own.buffer]);
        }),
      close: () => {
        if (this.worker === worker) worker.postMessage({ op: 'close', reader } satisfies ReaderRequest);
      },
    };
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
    if (this.worker) return this.worker;
    const worker = spawnEntry();
    // Kept between COPYs, but never what keeps the process alive.
    worker.unref();
    this.ready = false;
    worker.on('message', (res: ReaderResponse | 'ready') => {
      if (res === 'ready') {
        if (this.worker === worker) this.ready = true;
        return;
      }
      const p = this.pending.get(res.seq);
      if (!p) return;
      this.pending.delete(res.seq);
      if ('error' in res) p.reject(new Error(res.error));
      else p.resolve(res.piece);
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`direct COPY reader thread exited with code ${code}`)));
    this.worker = worker;
    return worker;
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
  const entry = new URL('./direct-read-worker-entry.ts', import.meta.url).href;
  const boot = `import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(entry)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`));
}
