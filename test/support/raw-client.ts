/**
 * A raw protocol client for tests: sends exact bytes and reads backend messages one by one.
 */
import { connect, type Socket } from 'node:net';
import { readErrorFields } from '../../src/wire/protocol/backend.js';
import { writeStartup } from '../../src/wire/protocol/frontend.js';
import { MessageFramer } from '../../src/wire/protocol/reader.js';
import { MessageWriter } from '../../src/wire/protocol/writer.js';

export interface BackendMsg {
  readonly type: string;
  readonly body: Uint8Array;
}

export class RawClient {
  private readonly framer = new MessageFramer();
  private readonly queue: BackendMsg[] = [];
  private waiter: (() => void) | undefined;
  ended = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d) => {
      this.framer.push(new Uint8Array(d));
      for (let m = this.framer.next(true); m; m = this.framer.next(true)) this.queue.push({ type: String.fromCharCode(m.type), body: m.body.slice() });
      this.waiter?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.waiter?.();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** Connects and completes a trust startup; returns the client positioned after ReadyForQuery. */
  static async ready(port: number, params: Record<string, string> = {}): Promise<RawClient> {
    const c = await RawClient.connect(port);
    c.send(writeStartup({ user: 'postgres', database: 'postgres', ...params }));
    await c.until('Z');
    return c;
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Next message, or undefined if the connection closed. */
  async next(timeoutMs = 10_000): Promise<BackendMsg | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.ended) return undefined;
      if (Date.now() > deadline) throw new Error('timed out waiting for a backend message');
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 50);
      });
    }
    return this.queue.shift();
  }

  /** Reads messages up to and including one of `type`; returns them all. */
  async until(type: string, timeoutMs = 10_000): Promise<BackendMsg[]> {
    const out: BackendMsg[] = [];
    for (;;) {
      const m = await this.next(timeoutMs);
      if (!m) return out;
      out.push(m);
      if (m.type === type) return out;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

export function msg(type: string, build: (w: MessageWriter) => void = () => undefined): Uint8Array {
  const w = new MessageWriter().begin(type.charCodeAt(0));
  build(w);
  return w.end().flush();
}

export function errorCode(m: BackendMsg | undefined): string | undefined {
  return m && (m.type === 'E' || m.type === 'N') ? readErrorFields(m.body).C : undefined;
}

export function errorFields(m: BackendMsg): Record<string, string> {
  return readErrorFields(m.body);
}

export const types = (ms: BackendMsg[]): string => ms.map((m) => m.type).join('');
