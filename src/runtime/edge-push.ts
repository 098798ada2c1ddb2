/**
 * @module runtime/edge-push
 * Hands a cold chunk from a Node or browser Orbit to an edge database (docs/runtimes/workers.md,
 * "Handing cold chunks to the edge"). The chunk must be compressed: its batch objects go as stored
 * (the batch format is the same in every runtime) with its manifest, to the Worker's authenticated
 * `POST /import`, which files them under the edge hypertable as a sealed chunk of the same range.
 * The chunk stays here; drop it (drop_chunks) once the edge holds it, or queries here still see it.
 */
import { encodeManifest } from '../columnstore/manifest.js';
import { encodeTransfer } from '../edge/chunk-transfer.js';
import { OrbitError, orbitError } from '../errors.js';
import type { Orbit } from '../orbit.js';

export interface EdgeTarget {
  /** The Worker's base URL, e.g. `https://orbit.example.workers.dev`. */
  readonly url: string | URL;
  /** The edge database (`?db=`; default `default`). */
  readonly db?: string;
  /** The Worker's ORBIT_IMPORT_TOKEN secret. */
  readonly token: string;
  /** The hypertable at the edge (default: the chunk's hypertable name); it must have the same columns. */
  readonly table?: string;
  /** Names this database in the edge's record of imports (default `orbit`): the edge imports a chunk once per source. */
  readonly origin?: string;
  readonly fetch?: typeof fetch;
}

export interface PushResult {
  readonly rows: number;
  readonly batches: number;
  /** Bytes sent (batches, manifest and header). */
  readonly bytes: number;
}

/** Sends compressed chunk `chunk` (e.g. `_timescaledb_internal._hyper_1_2_chunk`) to the edge database. */
export async function pushChunkToEdge(orbit: Orbit, chunk: string, target: EdgeTarget): Promise<PushResult> {
  const store = orbit.backend.columnstore?.store;
  if (!store) throw orbitError('feature_not_supported', 'this Orbit has no columnstore');
  const found = await orbit.systemQuery<{ hypertable: string; manifest: string | null; range_start: string; range_end: string }>(
    `SELECT h.table_name AS hypertable, cc.manifest, ch.range_start::text AS range_start, ch.range_end::text AS range_end
       FROM _timescaledb_catalog.chunk ch
       JOIN _timescaledb_catalog.hypertable h ON h.id = ch.hypertable_id
       LEFT JOIN _timescaledb_catalog.orbit_columnstore_chunk cc ON cc.id = ch.compressed_chunk_id
      WHERE NOT ch.dropped AND format('%I.%I', ch.schema_name, ch.table_name)::regclass = $1::regclass`,
    [chunk],
  );
  const row = found.rows[0];
  if (!row) throw orbitError('invalid_parameter_value', `"${chunk}" is not a chunk`);
  if (!row.manifest) throw orbitError('object_not_in_prerequisite_state', `chunk "${chunk}" is not compressed`, { hint: 'Run compress_chunk on it first.' });
  const manifest = await store.readManifest(row.manifest);
  const batches: Uint8Array[] = [];
  for (let i = 0; i < manifest.batches.length; i++) batches.push(await store.batchObject(manifest, i));
  const body = encodeTransfer(
    {
      table: target.table ?? row.hypertable,
      source: `${target.origin ?? 'orbit'}:${manifest.key}`,
      rangeStart: Number(row.range_start),
      rangeEnd: Number(row.range_end),
    },
    // The batches travel in manifest order: at the edge batch i is object i, wherever it lived here
    // (appends by direct ingest reference earlier versions' objects).
    encodeManifest(store.backend, { ...manifest, batches: manifest.batches.map(({ source: _source, ...b }) => b) }),
    batches,
  );
  const url = new URL('/import', target.url);
  url.searchParams.set('db', target.db ?? 'default');
  const res = await (target.fetch ?? fetch)(url, { method: 'POST', headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/octet-stream' }, body: body as Uint8Array<ArrayBuffer> });
  const answer = (await res.json().catch(() => ({ error: { code: 'XX000', message: `edge answered HTTP ${res.status} without JSON` } }))) as {
    command?: string;
    error?: { code: string; message: string; detail?: string; hint?: string };
  };
  if (answer.error) throw new OrbitError(answer.error.code, `edge: ${answer.error.message}`, { detail: answer.error.detail, hint: answer.error.hint });
  return { rows: Number(/^IMPORT (\d+)$/.exec(answer.command ?? '')?.[1] ?? manifest.rowCount), batches: batches.length, bytes: body.length };
}
