/**
 * @module bytes
 * Byte helpers shared by the protocol and session layers.
 */

/** Concatenates byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Node's Buffer where there is one: its indexOf is memchr, ~10× Uint8Array.prototype.indexOf. */
const NodeBuffer = (globalThis as { Buffer?: { from(buffer: ArrayBufferLike, offset: number, length: number): Uint8Array } }).Buffer;

/** The first index of `byte` in `buf`, or -1. */
export function indexOfByte(buf: Uint8Array, byte: number): number {
  return NodeBuffer ? NodeBuffer.from(buf.buffer, buf.byteOffset, buf.length).indexOf(byte) : buf.indexOf(byte);
}
