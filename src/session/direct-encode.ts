/**
 * @module session/direct-encode
 * The encoding side of a direct COPY on another thread (Node: session/direct-read-node.ts): a
 * chunk's buffered parts, text as the reader's entry numbers, become batch objects there, while the
 * main thread goes on routing the next pieces. The batches are made by the same functions as on the
 * main thread (joinParts, then columnstore/store.ts `encodeBatches`), so they are the same bytes.
 */
import type { CodecBackend } from '../columnstore/codecs/index.js';
import { encodeBatches } from '../columnstore/store.js';
import type { TextDictionary } from '../columnstore/batch.js';
import { concatColumns, type Rows } from '../columnstore/columns.js';
import { ThreadDictionaries, type EncodedFlush, type EncodeRequest } from './direct-read.js';
import type { DirectTarget } from './direct-target.js';

/** One COPY's encoder: its copy of the strings behind the entry numbers, and the target's settings. */
export class FlushEncoder {
  private readonly dicts: ThreadDictionaries;

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
    const ids: Rows = { names: parts[0]!.names, columns: parts[0]!.columns.map((_, i) => concatColumns(parts.map((p) => p.columns[i]!))) };
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
    return encodeBatches(backend, rows, settings, groups, dictionaries);
  }
}

/** The buffers of a request's columns, each once (sent as the transfer list). */
export function requestBuffers(request: EncodeRequest): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const part of request.parts)
    for (const c of part) {
      if (!Array.isArray(c.values)) out.add((c.values as ArrayBufferView).buffer as ArrayBuffer);
      if (c.nulls) out.add(c.nulls.buffer as ArrayBuffer);
    }
  return [...out];
}
