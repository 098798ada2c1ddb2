/**
 * @module wire/protocol/reader
 * Field reader over one message body, and a framer that cuts a byte stream into messages.
 */
import { OrbitError } from '../../errors.js';
import { SqlState } from '../../sqlstate.js';

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

export class MessageReader {
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly body: Uint8Array) {
    this.view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  }

  get remaining(): number {
    return this.body.length - this.pos;
  }

  byte(): number {
    this.need(1);
    return this.body[this.pos++]!;
  }

  int16(): number {
    this.need(2);
    const v = this.view.getInt16(this.pos);
    this.pos += 2;
    return v;
  }

  /** Counts (parameters, format codes), which PostgreSQL reads unsigned: up to 65,535. */
  uint16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const v = this.body.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  cstring(): string {
    const end = this.body.indexOf(0, this.pos);
    if (end < 0) throw malformed('missing string terminator');
    const s = decoder.decode(this.body.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }

  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.body.length) throw malformed('message too short');
  }
}

export function malformed(what: string): OrbitError {
  return new OrbitError(SqlState.protocol_violation, `invalid message format: ${what}`);
}

/** A whole protocol message: its type byte and its body (the bytes after the length). */
export interface Message {
  readonly type: number;
  readonly body: Uint8Array;
  /** The message as it arrived, type byte and length included. */
  readonly raw: Uint8Array;
}

/** CopyData's type byte ('d'). */
const COPY_DATA = 0x64;

/** Largest message accepted from a client (PostgreSQL's PQ_LARGE_MESSAGE_LIMIT is 1 GB - 1). */
export const MAX_MESSAGE_LENGTH = 0x3fffffff;

/**
 * Cuts a byte stream into messages. Startup-phase messages have no type byte, so the caller says
 * which kind comes next (`typed`).
 */
export class MessageFramer {
  private chunks: Uint8Array[] = [];
  private length = 0;

  /** `splitCopyData`: a CopyData message spanning received chunks comes out in parts (see next). */
  constructor(private readonly options: { readonly splitCopyData?: boolean } = {}) {}

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  get buffered(): number {
    return this.length;
  }

  /** Type byte of the next message, once it has arrived. */
  peekType(): number | undefined {
    if (this.copyLeft > 0) return this.length > 0 ? COPY_DATA : undefined;
    return this.length > 0 ? this.chunks[0]![0] : undefined;
  }

  /**
   * Next complete message, or undefined when more bytes are needed. With `splitCopyData`, a
   * CopyData message whose body spans the received chunks comes out as several CopyData messages, one per chunk, each body a
   * view of its chunk: COPY data is a byte stream, so the parts mean the same, and a large
   * message is not gathered into a buffer of its own first (a copy and an allocation per byte).
   */
  next(typed: boolean): Message | undefined {
    if (this.copyLeft > 0) return this.copyPart();
    const header = typed ? 5 : 4;
    if (this.length < header) return undefined;
    const head = this.peek(header);
    const view = new DataView(head.buffer, head.byteOffset, header);
    const len = view.getInt32(typed ? 1 : 0);
    if (len < 4 || len > MAX_MESSAGE_LENGTH) throw malformed(`invalid message length ${len}`);
    const total = len + (typed ? 1 : 0);
    if (typed && this.options.splitCopyData && head[0] === COPY_DATA && total > this.chunks[0]!.length && total > header) {
      this.take(header);
      this.copyLeft = total - header;
      return this.copyPart();
    }
    if (this.length < total) return undefined;
    const raw = this.take(total);
    return { type: typed ? raw[0]! : 0, body: raw.subarray(header), raw };
  }

  /** Body bytes of a split CopyData message still to come (see next). */
  private copyLeft = 0;

  /** The next part of a split CopyData body: what the first chunk holds of it. */
  private copyPart(): Message | undefined {
    if (this.length === 0) return undefined;
    const body = this.take(Math.min(this.copyLeft, this.chunks[0]!.length));
    this.copyLeft -= body.length;
    return {
      type: COPY_DATA,
      body,
      // Rarely wanted (the session reads a CopyData's body): made on demand.
      get raw() {
        const raw = new Uint8Array(body.length + 5);
        raw[0] = COPY_DATA;
        new DataView(raw.buffer).setInt32(1, body.length + 4);
        raw.set(body, 5);
        return raw;
      },
    };
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    return this.concat(n, false);
  }

  private take(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length === n) {
      this.chunks.shift();
      this.length -= n;
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      this.length -= n;
      return first.subarray(0, n);
    }
    return this.concat(n, true);
  }

  private concat(n: number, consume: boolean): Uint8Array {
    const out = new Uint8Array(n);
    let off = 0;
    let i = 0;
    while (off < n) {
      const c = this.chunks[i]!;
      const use = Math.min(c.length, n - off);
      out.set(c.subarray(0, use), off);
      off += use;
      if (consume) {
        if (use === c.length) {
          this.chunks.shift();
        } else {
          this.chunks[0] = c.subarray(use);
        }
      } else {
        i++;
      }
    }
    if (consume) this.length -= n;
    return out;
  }
}
