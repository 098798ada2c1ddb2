/**
 * @module session/columnstore/live-columns
 * Which columns of a manifest's batches are the hypertable's columns now. Batches name their
 * columns; a column dropped and added again under its name is another column (another attnum), and
 * the compressed rows hold its missing value (copy-batches.ts), not what the batches kept of the
 * dropped one.
 */
import type { Manifest } from '../../columnstore/manifest.js';
import type { ColumnStore } from '../../columnstore/store.js';

/** A column of the hypertable as the catalog says now (`attnum`: the hypertable's). */
export interface CurrentColumn {
  readonly name: string;
  readonly attnum?: number;
}

/**
 * `m`, or a copy whose columns that are no longer the hypertable's column of their name are renamed
 * to a name no column can have (a NUL): every reader then takes them as missing.
 */
export function liveManifest(m: Manifest, columns: readonly CurrentColumn[]): Manifest {
  const replaced = (name: string, attnum: number | undefined): boolean => {
    const now = attnum === undefined ? undefined : columns.find((c) => c.name === name)?.attnum;
    return now !== undefined && now !== attnum;
  };
  if (!m.columns.some((c) => replaced(c.name, c.attnum))) return m;
  return { ...m, columns: m.columns.map((c) => (replaced(c.name, c.attnum) ? { ...c, name: `\u0000${c.attnum}` } : c)) };
}

/** The manifests of `keys`, each as `liveManifest` gives it for `columns`. */
export function readLiveManifests(store: ColumnStore, keys: readonly string[], columns: readonly CurrentColumn[]): Promise<Manifest[]> {
  return Promise.all(keys.map(async (k) => liveManifest(await store.readManifest(k), columns)));
}
