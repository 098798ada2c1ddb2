/**
 * CopyBuffer (session/copy-in.ts): COPY data cut into pieces after their last complete row, each
 * body copied once, every piece the only view of its buffer (so it can move to another thread).
 */
import { describe, expect, it } from 'vitest';
import { CopyBuffer } from '../../src/session/copy-in.js';

const NL = 0x0a;
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const lastNewline = (all: Uint8Array) => all.lastIndexOf(NL) + 1;

describe('CopyBuffer', () => {
  it('hands out pieces cut after their last row, in order, the rest kept for later', () => {
    const rows = Array.from({ length: 400 }, (_, i) => `row ${i} ${'x'.repeat(i % 37)}\n`).join('');
    const bytes = new TextEncoder().encode(rows);
    // Bodies of odd sizes, so rows and bodies straddle each other and the piece size.
    for (const size of [1, 7, 100, 999, 5000]) {
      const buffer = new CopyBuffer(1024, lastNewline);
      const pieces: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; at += size) {
        const piece = buffer.push(bytes.subarray(at, at + size));
        if (piece) pieces.push(piece);
      }
      pieces.push(buffer.take());
      // Every piece but the last ends a row and holds about the piece size; none was overwritten.
      for (const p of pieces.slice(0, -1)) {
        expect(p[p.length - 1]).toBe(NL);
        expect(p.length).toBeGreaterThan(1024 - 60); // rows are shorter than 60 bytes
      }
      expect(pieces.map(text).join('')).toBe(rows);
      // Each piece is the only view of its buffer.
      expect(new Set(pieces.map((p) => p.buffer)).size).toBe(pieces.length);
    }
  });

  it('gathers pieces in shared buffers when asked (for a reader thread), reusing those given back', () => {
    const buffer = new CopyBuffer(1024, lastNewline, true);
    const row = new TextEncoder().encode(`${'z'.repeat(99)}\n`);
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) {
      const piece = buffer.push(row);
      if (piece) pieces.push(piece);
    }
    expect(pieces.length).toBeGreaterThanOrEqual(3);
    // Shared: a moved ArrayBuffer counts as new external memory in each isolate it reaches.
    for (const p of pieces) expect(p.buffer).toBeInstanceOf(SharedArrayBuffer);
    buffer.recycle(pieces[0]!.buffer);
    let next: Uint8Array | undefined;
    while (!next) next = buffer.push(row);
    next = undefined;
    while (!next) next = buffer.push(row);
    expect(next.buffer).toBe(pieces[0]!.buffer);
    expect(new TextDecoder().decode(next)).toBe(new TextDecoder().decode(row).repeat(next.length / row.length));
  });

  it('keeps gathering past the piece size while no row ends, and at the end hands out what is left', () => {
    const buffer = new CopyBuffer(16, lastNewline);
    const long = 'y'.repeat(100);
    expect(buffer.push(new TextEncoder().encode(long.slice(0, 60)))).toBeUndefined();
    expect(buffer.push(new TextEncoder().encode(long.slice(60)))).toBeUndefined();
    const piece = buffer.push(new TextEncoder().encode('\nab'));
    expect(text(piece!)).toBe(`${long}\n`);
    expect(text(buffer.take())).toBe('ab');
    expect(buffer.take().length).toBe(0);
  });

  it('reuses the buffer of a piece given back, for a later piece, with the right bytes', () => {
    const buffer = new CopyBuffer(64, lastNewline);
    const row = (i: number) => new TextEncoder().encode(`${String(i).padStart(9, '0')}\n`);
    const pieces: Uint8Array[] = [];
    const given = new Set<ArrayBufferLike>();
    for (let i = 0; i < 100; i++) {
      const piece = buffer.push(row(i));
      if (!piece) continue;
      // Copied before it is given back; the joined copies must be the stream.
      pieces.push(piece.slice());
      given.add(piece.buffer);
      buffer.recycle(piece.buffer);
    }
    pieces.push(buffer.take());
    expect(pieces.map(text).join('')).toBe(Array.from({ length: 100 }, (_, i) => text(row(i))).join(''));
    // Pieces of ~64 bytes over 1,000 bytes: the same few buffers went round.
    expect(given.size).toBeLessThan(4);
  });
});
