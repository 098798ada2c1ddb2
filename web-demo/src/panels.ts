/**
 * @module web-demo/panels
 * Chunk and compression information, read from TimescaleDB's own views and functions. Compression
 * is still being built in Orbit, so the panel asks the catalog which views and functions exist and
 * shows only what they answer; anything missing is listed as missing, never made up.
 */
import type { OrbitClient } from './orbit-client.js';
import { byId, el, errorBlock, formatBytes, formatValue } from './render.js';
import { CHUNK_SIZES, CHUNKS, COMPRESSION_ENABLED, COMPRESSION_SETTINGS, COMPRESSION_STATS, FEATURES, HYPERTABLE_SIZE } from './sql.js';

/** What the panels would like to read, by the name FEATURES reports. */
const WANTED = [
  'timescaledb_information.chunks',
  'timescaledb_information.hypertables',
  'timescaledb_information.hypertable_compression_settings',
  'show_chunks',
  'hypertable_detailed_size',
  'chunks_detailed_size',
  'compress_chunk',
  'hypertable_compression_stats',
  'chunk_compression_stats',
] as const;

export async function probeFeatures(db: OrbitClient): Promise<Set<string>> {
  const { rows } = await db.query<{ name: string }>(FEATURES);
  return new Set(rows.map((r) => r.name));
}

interface ChunkRow {
  chunk_name: string;
  range_start: Date | null;
  range_end: Date | null;
  is_compressed: boolean;
}

interface SizeRow {
  chunk_name?: string;
  table_bytes: number | bigint | null;
  index_bytes: number | bigint | null;
  toast_bytes: number | bigint | null;
  total_bytes: number | bigint | null;
}

export class InfoPanels {
  private readonly chunks = byId('chunks');
  private readonly compression = byId('compression');

  constructor(
    private readonly db: OrbitClient,
    private readonly features: Set<string>,
  ) {
    const missing = WANTED.filter((f) => !features.has(f));
    byId('features').textContent = missing.length === 0 ? 'all present' : `not in this build: ${missing.join(', ')}`;
  }

  async refresh(): Promise<void> {
    await Promise.all([this.refreshChunks(), this.refreshCompression()]);
  }

  /** Runs `read`, or shows its error in `where` (one failing view must not blank the dashboard). */
  private async guarded(where: HTMLElement, read: () => Promise<Node[]>): Promise<void> {
    try {
      where.replaceChildren(...(await read()));
    } catch (err) {
      where.replaceChildren(errorBlock(err));
    }
  }

  private refreshChunks(): Promise<void> {
    return this.guarded(this.chunks, async () => {
      if (!this.features.has('timescaledb_information.chunks')) return [el('p', {}, 'timescaledb_information.chunks is not in this build.')];
      const [chunks, sizes, total] = await Promise.all([
        this.db.query<ChunkRow>(CHUNKS),
        this.features.has('chunks_detailed_size') ? this.db.query<SizeRow>(CHUNK_SIZES) : undefined,
        this.features.has('hypertable_detailed_size') ? this.db.query<SizeRow>(HYPERTABLE_SIZE) : undefined,
      ]);
      const sizeOf = new Map((sizes?.rows ?? []).map((s) => [s.chunk_name, Number(s.total_bytes ?? 0)]));
      const largest = Math.max(1, ...sizeOf.values());
      const rows = chunks.rows.map((c) => {
        const bytes = sizeOf.get(c.chunk_name);
        const bar = bytes === undefined ? '' : el('span', { class: 'bar', style: `width:${Math.round((bytes / largest) * 100)}%` });
        return el(
          'tr',
          {},
          el('td', { class: 'mono' }, c.chunk_name),
          el('td', {}, range(c.range_start, c.range_end)),
          el('td', {}, c.is_compressed ? 'yes' : 'no'),
          el('td', { class: 'size' }, bar, el('span', { class: 'bytes' }, bytes === undefined ? '—' : formatBytes(bytes))),
        );
      });
      const table = el(
        'table',
        { class: 'result', 'data-chunks': String(chunks.rows.length) },
        el('thead', {}, el('tr', {}, el('th', {}, 'chunk'), el('th', {}, 'range (UTC)'), el('th', {}, 'compressed'), el('th', {}, 'size'))),
        el('tbody', {}, ...rows),
      );
      const t = total?.rows[0];
      const summary = t
        ? `hypertable_detailed_size: table ${formatBytes(t.table_bytes)}, indexes ${formatBytes(t.index_bytes)}, TOAST ${formatBytes(t.toast_bytes)}, total ${formatBytes(t.total_bytes)}`
        : 'hypertable_detailed_size is not in this build.';
      return [el('p', { class: 'summary' }, `${chunks.rows.length} chunks (6-hour ranges). ${summary}`), table];
    });
  }

  private refreshCompression(): Promise<void> {
    return this.guarded(this.compression, async () => {
      const items: [string, string][] = [];
      if (this.features.has('timescaledb_information.hypertables')) {
        const { rows } = await this.db.query<{ compression_enabled: boolean }>(COMPRESSION_ENABLED);
        items.push(['columnstore enabled (hypertables.compression_enabled)', rows[0]?.compression_enabled ? 'yes' : 'no']);
      }
      if (this.features.has('timescaledb_information.hypertable_compression_settings')) {
        const { rows } = await this.db.query<{ segmentby: string | null; orderby: string | null }>(COMPRESSION_SETTINGS);
        items.push(['hypertable_compression_settings', rows.length === 0 ? 'no settings' : `segmentby ${rows[0]!.segmentby ?? '—'}, orderby ${rows[0]!.orderby ?? '—'}`]);
      }
      if (this.features.has('timescaledb_information.chunks')) {
        const { rows } = await this.db.query<ChunkRow>(CHUNKS);
        items.push(['compressed chunks (chunks.is_compressed)', `${rows.filter((r) => r.is_compressed).length} of ${rows.length}`]);
      }
      if (this.features.has('hypertable_compression_stats')) {
        const { rows } = await this.db.query(COMPRESSION_STATS);
        for (const [k, v] of Object.entries(rows[0] ?? {})) items.push([`hypertable_compression_stats.${k}`, v === null ? 'NULL' : formatValue(v)]);
      }
      return [el('dl', {}, ...items.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]))];
    });
  }
}

function range(start: Date | null, end: Date | null): string {
  const f = (d: Date | null) => (d ? d.toISOString().slice(0, 16).replace('T', ' ') : '…');
  return `${f(start)} → ${f(end)}`;
}
