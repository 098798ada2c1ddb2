/**
 * @module edge/compaction
 * Which sealed batch sets a seal merges with, and the column concatenation it needs.
 *
 * Each seal of a chunk's write buffer (1,000 rows by default) writes one manifest whose batches are
 * the rows split by segmentby: with 100 series a seal gives 100 batches of 10 rows, and a 36,000-row
 * chunk ends up with 36 manifests and 3,600 tiny batches, each one storage read and one decode per
 * query. So a seal also takes in the chunk's smaller manifests, like a binary counter: sorted by
 * size, a manifest joins while it holds no more rows than the seal has gathered so far. A chunk then
 * keeps at most about log2(rows / sealRows) + 1 manifests, and each row is rewritten about log2 times
 * over the chunk's life (not once per seal). Merging decodes the manifests' rows into memory, so a
 * merge stops at `maxRows` (1,000,000 values divided by the columns, seal.ts MERGE_VALUES).
 */
import { allocColumn, type Column } from '../columnstore/columns.js';

export interface SealedSet {
  readonly key: string;
  readonly rows: number;
}

/** The manifests a seal of `freshRows` merges with (binary-counter policy, at most `maxRows` in all). */
export function mergeCandidates(existing: readonly SealedSet[], freshRows: number, maxRows: number): SealedSet[] {
  const out: SealedSet[] = [];
  let total = freshRows;
  for (const m of [...existing].sort((a, b) => a.rows - b.rows)) {
    if (m.rows > total || total + m.rows > maxRows) break;
    out.push(m);
    total += m.rows;
  }
  return out;
}

/** One column holding `parts` one after the other (all of the same type). */
export function concatColumns(parts: readonly Column[]): Column {
  const first = parts[0]!;
  if (parts.length === 1) return first;
  const lengths = parts.map((p) => (p.type === 'uuid' ? p.values.length >> 4 : p.values.length));
  const n = lengths.reduce((a, b) => a + b, 0);
  const out = allocColumn(first.type, n);
  let at = 0;
  parts.forEach((p, k) => {
    if (Array.isArray(out.values)) {
      const src = p.values as unknown[];
      const dst = out.values as unknown[];
      for (let i = 0; i < src.length; i++) dst[at + i] = src[i];
    } else {
      const width = out.type === 'uuid' ? 16 : 1;
      (out.values as Uint8Array).set(p.values as Uint8Array, at * width);
    }
    at += lengths[k]!;
  });
  let nulls: Uint8Array | null = null;
  if (parts.some((p) => p.nulls)) {
    nulls = new Uint8Array((n + 7) >> 3);
    at = 0;
    parts.forEach((p, k) => {
      const src = p.nulls;
      if (src) for (let i = 0; i < lengths[k]!; i++) if ((src[i >> 3]! >> (i & 7)) & 1) nulls![(at + i) >> 3]! |= 1 << ((at + i) & 7);
      at += lengths[k]!;
    });
  }
  return { ...out, nulls } as Column;
}
