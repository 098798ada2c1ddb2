/**
 * @module session/direct-ingest/threads
 * What direct ingest hands between threads (session/direct-ingest/copy.ts; Node's threads:
 * read-node.ts, read-worker-entry.ts, encode.ts): the reader and encoder thread contracts, pieces
 * read with text as entry numbers, and the main thread's dictionaries of those numbers.
 */
import type { BatchStats } from '../../columnstore/batch.js';
import { concatColumns, type Column, type Rows } from '../../columnstore/columns.js';
import { isNull } from '../../columnstore/codecs/values.js';
import type { CopyFormat } from '../copy-in.js';
import type { DirectTarget } from './target.js';

/** Reader threads (Node: session/direct-ingest/read-node.ts); absent, the main thread reads every piece. */
export interface ReaderThread {
  /** A reader in id mode for one COPY on the thread. */
  open(format: CopyFormat, fields: readonly number[], target: DirectTarget): ThreadReader;
  /** An encoder for one COPY on a thread of its own; absent, this thread cuts and encodes batches. */
  encoder?(target: DirectTarget): ThreadEncoder;
  /** Stops the thread (the database closes). */
  close(): Promise<void>;
}

/** One COPY's reader on a thread: replies come in the order of the reads. */
export interface ThreadReader {
  /** The thread has started (until then the main thread reads pieces itself). */
  readonly ready: boolean;
  /**
   * Reads `piece` there. Its buffer moves to the thread (the caller holds no other view of it) and
   * comes back as the reply's `data`; if the thread fails, the piece is lost with it.
   */
  read(piece: Uint8Array, first: boolean, recycle?: readonly SharedArrayBuffer[]): Promise<ThreadPiece>;
  close(): void;
}

/**
 * One COPY's batch encoder on another thread (session/direct-ingest/encode.ts): a chunk's buffered parts,
 * text as entry numbers, cut into batches and encoded there; the replies come in request order.
 */
export interface ThreadEncoder {
  /** The thread has started (until then this thread encodes). */
  readonly ready: boolean;
  /** The parts' buffers in `transfer` move to the thread. */
  encode(request: EncodeRequest, transfer: ArrayBuffer[]): Promise<EncodedFlush>;
  close(): void;
}

/** A chunk's buffered parts (id rows' columns, in order) and the strings added since the last request. */
export interface EncodeRequest {
  readonly parts: ReadonlyArray<ReadonlyArray<{ readonly values: ThreadValues; readonly nulls: Uint8Array | null }>>;
  readonly added: ReadonlyArray<string[] | undefined>;
}

/** The batches of one flush: stats (bytes set) and objects, in batch order. */
export interface EncodedFlush {
  readonly stats: BatchStats[];
  /** Views, one after another, of one SharedArrayBuffer of the flush's own. */
  readonly objects: Uint8Array[];
}

/** Column values as sent between threads (text: entry numbers). */
export type ThreadValues = Int32Array | Int16Array | Float64Array | Float32Array | BigInt64Array | Uint8Array | string[];

/** A piece read on another thread (PieceReader.readIds). */
export interface ThreadPiece {
  readonly columns?: ReadonlyArray<{ readonly values: ThreadValues; readonly nulls: Uint8Array | null }>;
  /** Per column, the strings its interner added since the previous piece. */
  readonly added: ReadonlyArray<string[] | undefined>;
  /** The piece's bytes, given back by a thread (ThreadReader.read). */
  readonly data?: Uint8Array;
}

/**
 * The main thread's side of id mode: the interners' strings, in entry order, per text column; makes
 * the rows of each piece in arrival order.
 */
export class ThreadDictionaries {
  private readonly strings: string[][];

  /** Per column, how many strings `takeNew` has handed out. */
  private readonly taken: number[];

  constructor(private readonly target: DirectTarget) {
    // Entry number + 1: 0 (NULL, or a text column Orbit does not read) is ''.
    this.strings = target.columns.map(() => ['']);
    this.taken = target.columns.map(() => 1);
  }

  /** Per column, the strings added since the last call: what an encoder thread has not been sent yet. */
  takeNew(): Array<string[] | undefined> {
    return this.strings.map((list, i) => {
      const from = this.taken[i]!;
      if (from === list.length) return undefined;
      this.taken[i] = list.length;
      return list.slice(from);
    });
  }

  /** The rows of a piece (undefined: the main thread reads it); every piece must pass through here. */
  rows(piece: ThreadPiece): Rows | undefined {
    const ids = this.idRows(piece);
    return ids && this.toStrings(ids);
  }

  /**
   * The rows of a piece with its text columns still entry numbers (int4 columns; see `textColumn`),
   * so routing and buffering move 4-byte ids rather than strings; every piece must pass through
   * here or `rows`.
   */
  idRows(piece: ThreadPiece): Rows | undefined {
    piece.added.forEach((added, i) => {
      if (added) for (const s of added) this.strings[i]!.push(s);
    });
    if (!piece.columns) return undefined;
    const columns = this.target.columns.map((c, i): Column => {
      const { values, nulls } = piece.columns![i]!;
      return { type: isText(c.type) ? 'int4' : c.type, values, nulls } as Column;
    });
    return { names: this.target.columns.map((c) => c.name), columns };
  }

  /** Whether column `i` of `idRows` holds entry numbers. */
  isIds(i: number): boolean {
    return isText(this.target.columns[i]!.type);
  }

  /** The strings of column `i`, by entry number + 1 ('' at 0); grows as pieces arrive. */
  dictionary(i: number): readonly string[] {
    return this.strings[i]!;
  }

  /**
   * Row indices per distinct string of a text column held as entry numbers (NULLs together), in
   * order of first appearance: planBatches' segments, found by number instead of by string.
   */
  segmentGroups(rows: Rows, col: number): number[][] {
    const column = rows.columns[col]!;
    const dict = this.strings[col]!;
    const ids = column.values as Int32Array;
    const nulls = column.nulls;
    const byId: Array<number[] | undefined> = [];
    const byString = new Map<string | null, number[]>();
    const groups: number[][] = [];
    let last = -2;
    let g: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = nulls && isNull(nulls, i) ? -1 : ids[i]!;
      if (id !== last) {
        let found = byId[id + 1];
        if (!found) {
          // Distinct entries hold distinct strings, but a string is the key that decides.
          const key = id < 0 ? null : dict[id]!;
          found = byString.get(key);
          if (!found) {
            byString.set(key, (found = []));
            groups.push(found);
          }
          byId[id + 1] = found;
        }
        g = found;
        last = id;
      }
      g.push(i);
    }
    return groups;
  }

  /** Rows of `idRows` (or concatenations of them) with their text columns as strings. */
  toStrings(rows: Rows): Rows {
    return { names: rows.names, columns: rows.columns.map((col, i) => (this.isIds(i) ? this.textColumn(col, i) : col)) };
  }

  /** Column `i` of `idRows` (entry numbers) as strings. */
  textColumn(col: Column, i: number): Column {
    const ids = col.values as Int32Array;
    const dict = this.strings[i]!;
    const out = new Array<string>(ids.length);
    for (let k = 0; k < ids.length; k++) out[k] = dict[ids[k]!]!;
    return { type: this.target.columns[i]!.type, values: out, nulls: col.nulls } as Column;
  }
}

/** Rows of one piece as buffered for a chunk; `ids`: text columns as entry numbers (ThreadDictionaries.idRows). */
export interface BufferedPart {
  readonly rows: Rows;
  readonly ids: boolean;
}

/**
 * A chunk's buffered parts as one set of rows with text as strings, and its segments when known.
 * When every part holds entry numbers, a single text segmentby column is grouped by number (no
 * string key per row) and strings are made once for the whole flush.
 */
export function joinParts(parts: readonly BufferedPart[], dicts: ThreadDictionaries | undefined, segmentBy: readonly string[]): { rows: Rows; groups?: number[][] } {
  const concat = (list: Rows[]): Rows => ({ names: list[0]!.names, columns: list[0]!.columns.map((_, i) => concatColumns(list.map((p) => p.columns[i]!))) });
  if (!dicts || !parts.every((p) => p.ids)) return { rows: concat(parts.map((p) => (p.ids ? dicts!.toStrings(p.rows) : p.rows))) };
  const ids = concat(parts.map((p) => p.rows));
  const s = segmentBy.length === 1 ? ids.names.indexOf(segmentBy[0]!) : -1;
  const groups = s >= 0 && dicts.isIds(s) ? dicts.segmentGroups(ids, s) : undefined;
  return { rows: dicts.toStrings(ids), groups };
}

/** The ArrayBuffers among `buffers`, each once: a transfer list (shared buffers are shared, not moved). */
export function movable(buffers: Iterable<ArrayBufferLike>): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const b of buffers) if (b instanceof ArrayBuffer) out.add(b);
  return [...out];
}

/** The shared buffers of `buffers`, each once. */
export function sharedOf(buffers: Iterable<ArrayBufferLike>): SharedArrayBuffer[] {
  const out = new Set<SharedArrayBuffer>();
  for (const b of buffers) if (b instanceof SharedArrayBuffer) out.add(b);
  return [...out];
}

/** Whether values of `type` are read as text (entry numbers in id mode). */
export function isText(type: string): boolean {
  return type === 'text' || type === 'varchar';
}
