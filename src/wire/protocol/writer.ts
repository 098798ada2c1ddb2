/**
 * @module wire/protocol/writer
 * A small growable buffer that builds protocol messages; `end()` fills in the length.
 */
const encoder = new TextEncoder();

export class MessageWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;
  private start = -1;

  constructor(size = 256) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Starts a message with a type byte (or none, for startup-phase messages). */
  begin(type?: number): this {
    if (type !== undefined) this.byte(type);
    this.start = this.pos;
    return this.int32(0);
  }

  byte(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }

  int16(v: number): this {
    this.ensure(2);
    this.view.setInt16(this.pos, v);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** A null-terminated string. */
  cstring(s: string): this {
    return this.bytes(encoder.encode(s)).byte(0);
  }

  /** Closes the message begun by `begin`, writing its length. */
  end(): this {
    this.view.setInt32(this.start, this.pos - this.start);
    this.start = -1;
    return this;
  }

  /** The bytes written so far; the writer is reset. */
  flush(): Uint8Array {
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    return out;
  }
}
