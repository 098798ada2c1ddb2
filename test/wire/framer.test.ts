/**
 * The connection's framer (wire/protocol/reader.ts) with splitCopyData: a CopyData message that
 * spans the received chunks comes out as CopyData parts that are views of the chunks, whose bodies
 * joined are the message's; every other message comes out whole.
 */
import { describe, expect, it } from 'vitest';
import { MessageFramer, type Message } from '../../src/wire/protocol/reader.js';
import { copyData } from '../../src/wire/protocol/frontend.js';
import { simpleQuery } from '../../src/session/settings.js';
import { concatBytes } from '../../src/bytes.js';
import { FrontendMessage } from '../../src/wire/protocol/message-codes.js';

const COPY_DONE = new Uint8Array([FrontendMessage.CopyDone, 0, 0, 0, 4]);

/** `stream` pushed in chunks of the given sizes (cycled), messages taken after each push. */
function frame(stream: Uint8Array, sizes: number[], split: boolean): { messages: Message[]; chunks: Uint8Array[]; peeks: Array<number | undefined> } {
  const framer = new MessageFramer({ splitCopyData: split });
  const messages: Message[] = [];
  const chunks: Uint8Array[] = [];
  const peeks: Array<number | undefined> = [];
  for (let at = 0, k = 0; at < stream.length; k++) {
    // Each chunk a buffer of its own, as a socket delivers them.
    const chunk = stream.slice(at, Math.min(stream.length, at + sizes[k % sizes.length]!));
    at += chunk.length;
    chunks.push(chunk);
    framer.push(chunk);
    for (let m = framer.next(true); m; m = framer.next(true)) messages.push(m);
    peeks.push(framer.peekType());
  }
  expect(framer.buffered).toBe(0);
  return { messages, chunks, peeks };
}

/** Consecutive CopyData messages joined into one (what the COPY reads). */
function joined(messages: Message[]): Array<{ type: number; body: number[] }> {
  const out: Array<{ type: number; body: number[] }> = [];
  for (const m of messages) {
    const last = out[out.length - 1];
    if (m.type === FrontendMessage.CopyData && last?.type === FrontendMessage.CopyData) last.body.push(...m.body);
    else out.push({ type: m.type, body: [...m.body] });
  }
  return out;
}

describe('MessageFramer splitCopyData', () => {
  const big = new Uint8Array(70_000).map((_, i) => (i * 31) & 0xff);
  const stream = concatBytes([simpleQuery('COPY t FROM STDIN'), copyData(big), copyData(new Uint8Array([1, 2, 3])), copyData(new Uint8Array(0)), COPY_DONE, simpleQuery('SELECT 1')]);

  it('gives the same stream as whole messages, for many chunkings', () => {
    for (const sizes of [[3, 7], [4096], [65_536], [5, 70_004], [stream.length]]) {
      const whole = frame(stream, sizes, false);
      const parts = frame(stream, sizes, true);
      expect(joined(parts.messages)).toEqual(joined(whole.messages));
      expect(whole.messages.map((m) => m.type)).toEqual([0x51, 0x64, 0x64, 0x64, 0x63, 0x51]);
    }
  });

  it('hands out parts as views of the chunks, each a valid CopyData message when framed again', () => {
    const { messages, chunks, peeks } = frame(stream, [4096], true);
    const parts = messages.filter((m) => m.type === FrontendMessage.CopyData && m.body.length > 3);
    expect(parts.length).toBeGreaterThan(10);
    for (const p of parts) {
      expect(chunks.some((c) => c.buffer === p.body.buffer)).toBe(true);
      const framer = new MessageFramer();
      framer.push(p.raw);
      const m = framer.next(true)!;
      expect(m.type).toBe(FrontendMessage.CopyData);
      expect([...m.body]).toEqual([...p.body]);
    }
    expect(peeks.every((t) => t === undefined)).toBe(true);
  });

  it('answers CopyData as the next type while a split body is still arriving', () => {
    const framer = new MessageFramer({ splitCopyData: true });
    const message = copyData(new Uint8Array(100).fill(7));
    framer.push(message.slice(0, 50));
    expect(framer.next(true)!.body.length).toBe(45);
    expect(framer.next(true)).toBeUndefined();
    framer.push(message.slice(50, 60));
    expect(framer.peekType()).toBe(FrontendMessage.CopyData);
    expect(framer.next(true)!.body.length).toBe(10);
    framer.push(concatBytes([message.slice(60), COPY_DONE]));
    expect([...framer.next(true)!.body]).toEqual(new Array(45).fill(7));
    expect(framer.peekType()).toBe(FrontendMessage.CopyDone);
    expect(framer.next(true)!.type).toBe(FrontendMessage.CopyDone);
  });
});
