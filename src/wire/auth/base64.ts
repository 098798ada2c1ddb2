/**
 * @module wire/auth/base64
 * Standard base64 (RFC 4648 section 4, with padding) for SCRAM attributes and verifiers. Built on
 * btoa/atob because Node 20, browsers and workerd all have them, and Buffer exists only in Node.
 */

/** Canonical padded base64: atob alone would also accept whitespace and missing padding. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Chunk size for String.fromCharCode, which takes its bytes as call arguments (stack-limited). */
const CHUNK = 0x2000;

export function encodeBase64(bytes: Uint8Array): string {
  return btoa(bytesToBinary(bytes));
}

/** The decoded bytes, or undefined when `text` is not padded standard base64. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (!BASE64.test(text)) return undefined;
  return binaryToBytes(atob(text));
}

/**
 * Bytes to a string of one char per byte (U+0000..U+00FF). SCRAM messages are handled in this form
 * so that the AuthMessage signed by both sides is byte-for-byte what the client sent, even when a
 * client puts non-UTF-8 bytes in the ignored user name.
 */
export function bytesToBinary(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    out += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return out;
}

/** Inverse of bytesToBinary; chars above U+00FF must not occur (they are truncated to a byte). */
export function binaryToBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
