/**
 * @module session/direct-ingest/encode
 * The encoding side of a direct COPY on another thread (Node: session/direct-ingest/read-node.ts): a
 * chunk's buffered parts, text as the reader's entry numbers, become batch objects there, while the
 * main thread goes on routing the next pieces. The batches are made by the same functions as on the
 * main thread (planBatches and encodeBatch, as columnstore/store.ts `encodeBatches`), so they are the
 * same bytes.
 */
import type { CodecBackend } from '../../columnstore/codecs/index.js';
import { planBatches, type TextDictionary } from '../../columnstore/batch.js';
import { writeBatch } from '../../columnstore/batch-format.js';
import { ByteWriter } from '../../columnstore/codecs/format.js';
import { columnLength, concatColumns, takeRows, type Column, type Rows } from '../../columnstore/columns.js';
import { movable, sharedOf, ThreadDictionaries, type EncodedFlush, type EncodeRequest } from './threads.js';
import type { DirectTarget } from './target.js';

/** A typed column's array. */
type Typed = Exclude<Column['values'], readonly unknown[]>;

/** One COPY's encoder: its copy of the strings behind the entry numbers, and the target's settings. */
export class FlushEncoder {
  private readonly dicts: ThreadDictionaries;
  /**
   * Per column, the arrays a flush's parts are joined into and gathered in batch order into, kept
   * for the next flush: each flush would otherwise take two fresh column-sized buffers per column
   * (zeroed and faulted in, then collected), about as costly as the copying itself.
   */
  private readonly joined: Array<Typed | undefined> = [];
  private readonly gathered: Array<Typed | undefined> = [];
  /** The batches of a flush are written here first (kept: it grows once to a flush's size). */
  private readonly out = new ByteWriter(1 << 20);

  constructor(private readonly target: DirectTarget) {
    this.dicts = new ThreadDictionaries(target);
  }

  /** The batches of one flush; requests must come in the order they were made (their strings are deltas). */
  encode(backend: CodecBackend, request: EncodeRequest): EncodedFlush {
    if (request.parts.length === 0) {
      this.dicts.idRows({ added: request.added });
      return { stats: [], objects: [] };
    }
    const parts = request.parts.map((columns, k) => this.dicts.idRows({ columns, added: k === 0 ? request.added : [] })!);
    const ids: Rows = { names: parts[0]!.names, columns: parts[0]!.columns.map((_, i) => this.join(parts.map((p) => p.columns[i]!), i)) };
    const settings = this.target.settings;
    const s = settings.segmentBy.length === 1 ? ids.names.indexOf(settings.segmentBy[0]!) : -1;
    const groups = s >= 0 && this.dicts.isIds(s) ? this.dicts.segmentGroups(ids, s) : undefined;
    // Text columns the cutting compares (segmentby, orderby) become strings now; the others are
    // gathered as numbers and made strings batch by batch (planBatches): the same batches.
    const compared = new Set([...settings.segmentBy, ...settings.orderBy.map((o) => o.column)]);
    const dictionaries = ids.columns.map((_, i): TextDictionary | undefined => {
      if (!this.dicts.isIds(i) || compared.has(ids.names[i]!)) return undefined;
      return { type: this.target.columns[i]!.type as TextDictionary['type'], strings: this.dicts.dictionary(i) };
    });
    const rows: Rows = { names: ids.names, columns: ids.columns.map((c, i) => (this.dicts.isIds(i) && !dictionaries[i] ? this.dicts.textColumn(c, i) : c)) };
    // As columnstore/store.ts encodeBatches, with the gathering into this encoder's arrays: the
    // batches are views of them, encoded (copied out) before the next flush reuses them.
    const planned = planBatches(rows, settings, groups, dictionaries, (c, indices, i) => this.gather(c, indices, i));
    // The flush's batches one after another in this encoder's writer, then in one shared buffer:
    // the main thread packs them as views of it (no copy there), and a shared buffer is not counted
    // as external memory by the isolates it reaches, where moved ones (one per batch) drove the main
    // isolate's full collections.
    const out = this.out.reset();
    const ends = planned.map((b) => writeBatch(backend, b.columns, out).length);
    const shared = new Uint8Array(new SharedArrayBuffer(out.length));
    shared.set(out.written());
    const objects = ends.map((end, i) => shared.subarray(i === 0 ? 0 : ends[i - 1]!, end));
    planned.forEach((b, i) => (b.stats.bytes = objects[i]!.length));
    return { stats: planned.map((b) => b.stats), objects };
  }

  /** Column `i` of the parts as one column: typed ones without NULLs in this encoder's array. */
  private join(parts: readonly Column[], i: number): Column {
    const first = parts[0]!;
    if (parts.length === 1 || first.type === 'uuid' || Array.isArray(first.values) || parts.some((p) => p.nulls || p.type !== first.type)) return concatColumns(parts);
    const n = parts.reduce((sum, p) => sum + columnLength(p), 0);
    const out = (this.joined[i] = room(this.joined[i], first.values as Typed, n));
    let at = 0;
    for (const p of parts) {
      (out as Float64Array).set(p.values as Float64Array, at);
      at += (p.values as Typed).length;
    }
    return { type: first.type, values: out.subarray(0, n), nulls: null } as Column;
  }

  /** takeRows into this encoder's array for column `i` (typed columns). */
  private gather(column: Column, indices: Int32Array, i: number): Column {
    if (column.type === 'uuid' || Array.isArray(column.values)) return takeRows(column, indices);
    const src = column.values as Typed;
    const n = indices.length;
    const out = (this.gathered[i] = room(this.gathered[i], src, n)).subarray(0, n) as Typed;
    // Through unsigned lanes, as takeRows: no BigInt per int64 value.
    const size = src.BYTES_PER_ELEMENT;
    if (size === 8) take64(lanes32(src), lanes32(out), indices);
    else if (size === 4) take32(lanes32(src), lanes32(out), indices);
    else if (size === 2) take16(new Uint16Array(src.buffer, src.byteOffset, src.length), new Uint16Array(out.buffer, out.byteOffset, n), indices);
    else take8(new Uint8Array(src.buffer, src.byteOffset, src.length), new Uint8Array(out.buffer, out.byteOffset, n), indices);
    return { type: column.type, values: out, nulls: null } as Column;
  }
}

/** `kept` if it is an array like `like` with room for `n` values, else a new one with some spare. */
function room(kept: Typed | undefined, like: Typed, n: number): Typed {
  if (kept && kept.constructor === like.constructor && kept.length >= n) return kept;
  const make = like.constructor as new (length: number) => Typed;
  return new make(n + (n >> 3));
}

function lanes32(a: Typed): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.byteLength >> 2);
}

function take64(src: Uint32Array, dst: Uint32Array, indices: Int32Array): void {
  for (let i = 0, n = indices.length; i < n; i++) {
    const k = indices[i]! << 1;
    dst[i << 1] = src[k]!;
    dst[(i << 1) | 1] = src[k + 1]!;
  }
}

function take32(src: Uint32Array, dst: Uint32Array, indices: Int32Array): void {
  for (let i = 0, n = indices.length; i < n; i++) dst[i] = src[indices[i]!]!;
}

function take16(src: Uint16Array, dst: Uint16Array, indices: Int32Array): void {
  for (let i = 0, n = indices.length; i < n; i++) dst[i] = src[indices[i]!]!;
}

function take8(src: Uint8Array, dst: Uint8Array, indices: Int32Array): void {
  for (let i = 0, n = indices.length; i < n; i++) dst[i] = src[indices[i]!]!;
}

/** The buffers of a request's columns: those moved to the thread (the transfer list), and the shared ones. */
export function requestBuffers(request: EncodeRequest): { transfer: ArrayBuffer[]; shared: SharedArrayBuffer[] } {
  const all: ArrayBufferLike[] = [];
  for (const part of request.parts)
    for (const c of part) {
      if (!Array.isArray(c.values)) all.push((c.values as ArrayBufferView).buffer);
      if (c.nulls) all.push(c.nulls.buffer);
    }
  return { transfer: movable(all), shared: sharedOf(all) };
}
