/**
 * @module bench/tsbs/raw-wire
 * A PostgreSQL client that times a query the way pgbench does: the simple query is sent and the
 * whole response read up to ReadyForQuery, its rows framed and kept as bytes but not turned into
 * values. TimescaleDB's figures in research/perf_anchors.md are pgbench's, which discards the rows;
 * node-postgres (`orbit-tcp`) also parses every field in the bench's own process, which for
 * high-cpu-all's 43 K rows is most of the time measured. The rows are decoded only when read
 * (`rows`), after the timing, for the bench's comparison of answers.
 */
import { connect, type Socket } from 'node:net';
import { readDataRow, readErrorFields } from '../../src/wire/protocol/backend.js';
import { writeStartup } from '../../src/wire/protocol/frontend.js';
import { MessageFramer, MessageReader } from '../../src/wire/protocol/reader.js';
import { simpleQuery } from '../../src/session/settings.js';

interface Pending {
  resolve(r: RawResult): void;
  reject(e: Error): void;
  /** The response's bytes as received (the socket's buffers are not reused): framed into rows when read. */
  chunks: Uint8Array[];
  error?: string;
}

/** A response: column names, and the rows decoded (as text) when first read. */
export interface RawResult {
  readonly columns: readonly string[];
  readonly rowCount: number;
  readonly rows: ReadonlyArray<ReadonlyArray<string | null>>;
}

export class RawWireClient {
  private pending: Pending | undefined;
  /** Where the next message starts, counted from the start of the pending response's first chunk. */
  private next = 0;
  private received = 0;
  /** A message header split across chunks. */
  private head: number[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => this.receive(d));
    socket.on('error', (e) => this.pending?.reject(e));
  }

  /** Connects and completes a trust startup (the bench's server has no passwords). */
  static async connect(port: number, params: Record<string, string>): Promise<RawWireClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    const client = new RawWireClient(socket);
    await client.exchange(writeStartup(params));
    return client;
  }

  /** Runs `sql` as a simple query; resolves at ReadyForQuery, rejects with the server's error. */
  query(sql: string): Promise<RawResult> {
    return this.exchange(simpleQuery(sql));
  }

  close(): void {
    this.socket.end();
  }

  private exchange(message: Uint8Array): Promise<RawResult> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, chunks: [] };
      this.next = this.received = 0;
      this.head = [];
      this.socket.write(message);
    });
  }

  /**
   * Keeps the chunk and steps over the messages it completes, reading only their headers (as
   * libpq keeps a result's bytes): an error's fields and ReadyForQuery are the only ones looked into.
   */
  private receive(chunk: Buffer): void {
    const p = this.pending;
    if (!p) return;
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
    p.chunks.push(bytes);
    const base = this.received;
    this.received += bytes.length;
    while (this.next < this.received) {
      // The 5-byte header (type, length) of the message at `next`, possibly split across chunks.
      for (let i = this.next + this.head.length - base; this.head.length < 5 && i < bytes.length; i++) this.head.push(bytes[i]!);
      if (this.head.length < 5) return;
      const type = this.head[0]!;
      const end = this.next + 1 + ((this.head[1]! << 24) | (this.head[2]! << 16) | (this.head[3]! << 8) | this.head[4]!);
      if (end > this.received) return;
      this.head = [];
      const start = this.next;
      this.next = end;
      if (type === 0x45 /* E */) p.error = readErrorFields(messagesOf(p.chunks, start, end)[0]!.body).M ?? 'error';
      else if (type === 0x5a /* Z */) {
        this.pending = undefined;
        if (p.error !== undefined) p.reject(new Error(p.error));
        else p.resolve(lazyResult(p.chunks));
        return;
      }
    }
  }
}

/** The messages between byte offsets `from` and `to` of a response's chunks. */
function messagesOf(chunks: Uint8Array[], from: number, to: number): Array<{ type: number; body: Uint8Array }> {
  const framer = new MessageFramer();
  let at = 0;
  for (const c of chunks) {
    const lo = Math.max(from - at, 0);
    const hi = Math.min(to - at, c.length);
    if (lo < hi) framer.push(c.subarray(lo, hi));
    at += c.length;
  }
  const out: Array<{ type: number; body: Uint8Array }> = [];
  for (let m = framer.next(true); m; m = framer.next(true)) out.push({ type: m.type, body: m.body });
  return out;
}

function columnNames(body: Uint8Array): string[] {
  const r = new MessageReader(body);
  const names: string[] = [];
  for (let n = r.uint16(); n > 0; n--) {
    names.push(r.cstring());
    r.bytes(18); // table oid, attnum, type oid, typlen, typmod, format
  }
  return names;
}

/** Column names and rows of a response, framed and decoded (as text) when first read. */
function lazyResult(chunks: Uint8Array[]): RawResult {
  let read: { columns: string[]; rows: Array<Array<string | null>> } | undefined;
  const all = () => {
    if (read) return read;
    const messages = messagesOf(chunks, 0, chunks.reduce((n, c) => n + c.length, 0));
    const description = messages.find((m) => m.type === 0x54 /* T */);
    read = { columns: description ? columnNames(description.body) : [], rows: messages.filter((m) => m.type === 0x44 /* D */).map((m) => readDataRow(m.body)) };
    return read;
  };
  return {
    get columns() {
      return all().columns;
    },
    get rowCount() {
      return all().rows.length;
    },
    get rows() {
      return all().rows;
    },
  };
}
