/**
 * @module edge/chunk-transfer
 * A compressed chunk in transit from a Node or browser Orbit to an edge database (docs/runtimes/
 * workers.md, "Handing cold chunks to the edge"). The batches travel as the bytes the columnstore
 * stores (batch-format.ts, the same in every runtime) and the manifest in its stored encoding
 * (manifest.ts), so the edge keeps them as they are and only rewrites the manifest's ids.
 *
 *   "OCX1" | u32 header length (LE) | header JSON (UTF-8) | manifest bytes | batch 0 bytes | batch 1 …
 *
 * The header names the hypertable, the chunk's time range (internal time, as both catalogs keep it),
 * a `source` that identifies the chunk at its origin (an edge imports a source once) and the byte
 * lengths; the edge checks every length against the manifest before it stores anything.
 */
import { orbitError } from '../errors.js';

const MAGIC = [0x4f, 0x43, 0x58, 0x31];

export interface TransferHeader {
  /** The hypertable at the edge (same columns and types as the origin's). */
  readonly table: string;
  /** Where the chunk came from, e.g. `node:cs/1/3/1/manifest`; importing the same source twice is refused. */
  readonly source: string;
  /** The chunk's range in internal time (µs since the Unix epoch for time types). */
  readonly rangeStart: number;
  readonly rangeEnd: number;
  readonly manifestBytes: number;
  readonly batchBytes: readonly number[];
}

export interface ChunkTransfer {
  readonly header: TransferHeader;
  readonly manifest: Uint8Array;
  readonly batches: readonly Uint8Array[];
}

export function encodeTransfer(header: Omit<TransferHeader, 'manifestBytes' | 'batchBytes'>, manifest: Uint8Array, batches: readonly Uint8Array[]): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify({ ...header, manifestBytes: manifest.length, batchBytes: batches.map((b) => b.length) }));
  const out = new Uint8Array(8 + head.length + manifest.length + batches.reduce((n, b) => n + b.length, 0));
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, head.length, true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const part of [manifest, ...batches]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function malformed(why: string): Error {
  return orbitError('invalid_parameter_value', `malformed chunk transfer: ${why}`);
}

export function decodeTransfer(bytes: Uint8Array): ChunkTransfer {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) throw malformed('not an Orbit chunk transfer');
  const headLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (8 + headLength > bytes.length) throw malformed('truncated header');
  let header: TransferHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.subarray(8, 8 + headLength))) as TransferHeader;
  } catch {
    throw malformed('header is not JSON');
  }
  const sizes = [header.manifestBytes, ...(Array.isArray(header.batchBytes) ? header.batchBytes : [])];
  if (typeof header.table !== 'string' || typeof header.source !== 'string' || !Number.isSafeInteger(header.rangeStart) || !Number.isSafeInteger(header.rangeEnd) || header.rangeStart >= header.rangeEnd) {
    throw malformed('header needs table, source and a range');
  }
  if (!sizes.every((n) => Number.isSafeInteger(n) && n >= 0)) throw malformed('bad lengths');
  let at = 8 + headLength;
  const parts = sizes.map((n) => {
    if (at + n > bytes.length) throw malformed('truncated body');
    const part = bytes.subarray(at, at + n);
    at += n;
    return part;
  });
  if (at !== bytes.length) throw malformed('trailing bytes');
  return { header, manifest: parts[0]!, batches: parts.slice(1) };
}
