/**
 * @module edge/catalog
 * The edge profile's catalog and write buffer, in the Durable Object's SQLite database. Tables and
 * columns keep TimescaleDB's names (`hypertable`, `dimension`, `chunk`, `compression_settings`,
 * `bgw_job`; see src/catalog/extension/ for the Node profile) so the two profiles read alike. Every
 * method is synchronous: DO SQLite is, and a statement's catalog changes then commit together
 * inside one `transactionSync`.
 *
 * Time values in `dimension.interval_length` and `chunk.range_start/range_end` are TimescaleDB's
 * internal time: µs since the Unix epoch for timestamptz/timestamp/date, the value itself for
 * integer columns.
 */
import { orbitError } from '../errors.js';
import type { DurableObjectStorageLike } from '../storage/durable-object.js';
import { INTEGER_TYPES, type EdgeType } from './values.js';

export interface ColumnDef {
  readonly name: string;
  readonly type: EdgeType;
  readonly notNull: boolean;
}

export interface TableDef {
  readonly name: string;
  readonly columns: readonly ColumnDef[];
}

export interface OrderByDef {
  readonly column: string;
  readonly desc: boolean;
  readonly nullsFirst: boolean;
}

export interface Hypertable {
  readonly id: number;
  readonly tableName: string;
  readonly timeColumn: string;
  readonly timeType: EdgeType;
  /** Chunk width in internal units (µs, or the integer column's units). */
  readonly interval: number;
  /** Columnstore settings (timescaledb.compress / enable_columnstore); null when never set. */
  readonly compression: { readonly segmentBy: readonly string[]; readonly orderBy: readonly OrderByDef[] } | null;
}

export interface Chunk {
  readonly id: number;
  readonly hypertableId: number;
  readonly tableName: string;
  readonly rangeStart: number;
  readonly rangeEnd: number;
}

/** The schema chunks live in, as TimescaleDB's `associated_schema_name`. */
export const CHUNK_SCHEMA = '_timescaledb_internal';

/** µs between 1970-01-01 and PostgreSQL's epoch 2000-01-01. */
const UNIX_TO_PG_US = 946_684_800_000_000n;

const SCHEMA = [
  // Sequences as PostgreSQL's: ids are never reused, even after the newest row is deleted.
  'CREATE TABLE IF NOT EXISTS orbit_sequence (name TEXT PRIMARY KEY, last_value INTEGER NOT NULL)',
  'CREATE TABLE IF NOT EXISTS orbit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)',
  'CREATE TABLE IF NOT EXISTS orbit_table (table_name TEXT PRIMARY KEY, columns TEXT NOT NULL)',
  `CREATE TABLE IF NOT EXISTS hypertable (id INTEGER PRIMARY KEY, schema_name TEXT NOT NULL, table_name TEXT NOT NULL UNIQUE,
     associated_schema_name TEXT NOT NULL, associated_table_prefix TEXT NOT NULL, num_dimensions INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS dimension (id INTEGER PRIMARY KEY, hypertable_id INTEGER NOT NULL, column_name TEXT NOT NULL,
     column_type TEXT NOT NULL, interval_length INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS chunk (id INTEGER PRIMARY KEY, hypertable_id INTEGER NOT NULL, schema_name TEXT NOT NULL,
     table_name TEXT NOT NULL, range_start INTEGER NOT NULL, range_end INTEGER NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS chunk_range ON chunk (hypertable_id, range_start)',
  'CREATE TABLE IF NOT EXISTS compression_settings (hypertable_id INTEGER PRIMARY KEY, segmentby TEXT NOT NULL, orderby TEXT NOT NULL)',
  // One row per sealed batch set (a ColumnStore manifest) of a chunk; a chunk gains one per seal.
  `CREATE TABLE IF NOT EXISTS chunk_batches (chunk_id INTEGER NOT NULL, manifest_key TEXT NOT NULL, row_count INTEGER NOT NULL,
     PRIMARY KEY (chunk_id, manifest_key)) WITHOUT ROWID`,
  // Acknowledged rows not yet sealed into batches, one JSON array per row (bigints as strings).
  'CREATE TABLE IF NOT EXISTS write_buffer (seq INTEGER PRIMARY KEY, chunk_id INTEGER NOT NULL, row TEXT NOT NULL)',
  'CREATE INDEX IF NOT EXISTS write_buffer_chunk ON write_buffer (chunk_id, seq)',
  `CREATE TABLE IF NOT EXISTS bgw_job (id INTEGER PRIMARY KEY, proc_name TEXT NOT NULL, hypertable_id INTEGER NOT NULL,
     config TEXT NOT NULL)`,
  // Rows of the COPY in progress (one at a time: it holds the backend), staged as they arrive and
  // moved into write_buffer when it ends; `slot` indexes the COPY's list of chunks (copy_slot).
  'CREATE TABLE IF NOT EXISTS copy_staging (seq INTEGER PRIMARY KEY, slot INTEGER NOT NULL, row TEXT NOT NULL)',
  'CREATE TABLE IF NOT EXISTS copy_slot (slot INTEGER PRIMARY KEY, chunk_id INTEGER NOT NULL)',
];

/** Job ids start at 1000, as TimescaleDB's user jobs do. */
const FIRST_JOB_ID = 1000;

export class EdgeCatalog {
  private readonly sql: DurableObjectStorageLike['sql'];

  constructor(private readonly storage: DurableObjectStorageLike) {
    this.sql = storage.sql;
    for (const ddl of SCHEMA) this.sql.exec(ddl);
  }

  /** Runs `fn` as one SQLite transaction. */
  atomically<T>(fn: () => T): T {
    return this.storage.transactionSync(fn);
  }

  /** The next value of sequence `name`, starting at `first`. */
  private nextId(name: string, first = 1): number {
    this.sql.exec(
      'INSERT INTO orbit_sequence (name, last_value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET last_value = last_value + 1',
      name,
      first,
    );
    return Number(this.rows('SELECT last_value FROM orbit_sequence WHERE name = ?', name)[0]!.last_value);
  }

  private rows(query: string, ...args: unknown[]): Record<string, unknown>[] {
    return this.sql.exec(query, ...args).toArray();
  }

  meta(key: string): string | undefined {
    const r = this.rows('SELECT value FROM orbit_meta WHERE key = ?', key)[0];
    return r ? String(r.value) : undefined;
  }

  setMeta(key: string, value: string): void {
    this.sql.exec('INSERT INTO orbit_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', key, value);
  }

  // ---- tables -----------------------------------------------------------------------------------

  table(name: string): TableDef | undefined {
    const r = this.rows('SELECT columns FROM orbit_table WHERE table_name = ?', name)[0];
    return r ? { name, columns: JSON.parse(String(r.columns)) as ColumnDef[] } : undefined;
  }

  /** The table or 42P01 as PostgreSQL reports it. */
  requireTable(name: string): TableDef {
    const t = this.table(name);
    if (!t) throw orbitError('undefined_table', `relation "${name}" does not exist`);
    return t;
  }

  createTable(def: TableDef): void {
    this.sql.exec('INSERT INTO orbit_table (table_name, columns) VALUES (?, ?)', def.name, JSON.stringify(def.columns));
  }

  /** Drops a table with its hypertable, chunks, batches, buffer and jobs; returns the dropped manifest keys. */
  dropTable(name: string): string[] {
    const h = this.hypertable(name);
    const keys: string[] = [];
    if (h) {
      for (const c of this.chunks(h.id)) keys.push(...this.dropChunk(c.id));
      this.sql.exec('DELETE FROM dimension WHERE hypertable_id = ?', h.id);
      this.sql.exec('DELETE FROM compression_settings WHERE hypertable_id = ?', h.id);
      this.sql.exec('DELETE FROM bgw_job WHERE hypertable_id = ?', h.id);
      this.sql.exec('DELETE FROM hypertable WHERE id = ?', h.id);
    }
    this.sql.exec('DELETE FROM orbit_table WHERE table_name = ?', name);
    // A table created again under the name starts unsharded.
    this.sql.exec('DELETE FROM orbit_meta WHERE key = ?', `shards:${name}`);
    return keys;
  }

  tableNames(): string[] {
    return this.rows('SELECT table_name FROM orbit_table ORDER BY table_name').map((r) => String(r.table_name));
  }

  // ---- hypertables ------------------------------------------------------------------------------

  hypertable(tableName: string): Hypertable | undefined {
    const r = this.rows(
      `SELECT h.id, d.column_name, d.column_type, d.interval_length, s.segmentby, s.orderby
         FROM hypertable h JOIN dimension d ON d.hypertable_id = h.id LEFT JOIN compression_settings s ON s.hypertable_id = h.id
        WHERE h.table_name = ?`,
      tableName,
    )[0];
    if (!r) return undefined;
    return {
      id: Number(r.id),
      tableName,
      timeColumn: String(r.column_name),
      timeType: String(r.column_type) as EdgeType,
      interval: Number(r.interval_length),
      compression: r.segmentby == null ? null : { segmentBy: JSON.parse(String(r.segmentby)), orderBy: JSON.parse(String(r.orderby)) },
    };
  }

  hypertableNames(): string[] {
    return this.rows('SELECT table_name FROM hypertable ORDER BY id').map((r) => String(r.table_name));
  }

  createHypertable(tableName: string, timeColumn: string, timeType: EdgeType, interval: number): number {
    const id = this.nextId('hypertable');
    this.sql.exec(
      `INSERT INTO hypertable (id, schema_name, table_name, associated_schema_name, associated_table_prefix, num_dimensions)
       VALUES (?, 'public', ?, ?, '_hyper', 1)`,
      id,
      tableName,
      CHUNK_SCHEMA,
    );
    this.sql.exec(
      'INSERT INTO dimension (id, hypertable_id, column_name, column_type, interval_length) VALUES (?, ?, ?, ?, ?)',
      this.nextId('dimension'),
      id,
      timeColumn,
      timeType,
      interval,
    );
    return id;
  }

  setChunkInterval(hypertableId: number, interval: number): void {
    this.sql.exec('UPDATE dimension SET interval_length = ? WHERE hypertable_id = ?', interval, hypertableId);
  }

  setCompression(hypertableId: number, segmentBy: readonly string[], orderBy: readonly OrderByDef[]): void {
    this.sql.exec(
      'INSERT INTO compression_settings (hypertable_id, segmentby, orderby) VALUES (?, ?, ?) ON CONFLICT (hypertable_id) DO UPDATE SET segmentby = excluded.segmentby, orderby = excluded.orderby',
      hypertableId,
      JSON.stringify(segmentBy),
      JSON.stringify(orderBy),
    );
  }

  // ---- chunks -----------------------------------------------------------------------------------

  chunks(hypertableId: number): Chunk[] {
    return this.rows('SELECT * FROM chunk WHERE hypertable_id = ? ORDER BY id', hypertableId).map(toChunk);
  }

  /** Chunks whose range overlaps [lo, hi) in internal time (either bound may be open). */
  chunksOverlapping(hypertableId: number, lo: number | undefined, hi: number | undefined): Chunk[] {
    return this.rows(
      'SELECT * FROM chunk WHERE hypertable_id = ? AND range_end > ? AND range_start < ? ORDER BY range_start',
      hypertableId,
      lo ?? Number.MIN_SAFE_INTEGER,
      hi ?? Number.MAX_SAFE_INTEGER,
    ).map(toChunk);
  }

  /** The chunk holding internal time `t`, created (aligned to the interval, as TimescaleDB) when missing. */
  chunkFor(h: Hypertable, t: number): Chunk {
    const found = this.chunkAt(h, t);
    if (found) return found;
    const { start, end } = this.newChunkRange(h, t);
    return this.chunkWithRange(h, start, end);
  }

  /** The existing chunk holding internal time `t`. */
  chunkAt(h: Hypertable, t: number): Chunk | undefined {
    const found = this.rows('SELECT * FROM chunk WHERE hypertable_id = ? AND range_start <= ? AND range_end > ?', h.id, t, t)[0];
    return found ? toChunk(found) : undefined;
  }

  /**
   * The range a new chunk for `t` gets: the interval's, cut so it overlaps no existing chunk (a
   * changed interval) nor any of `planned` (chunks a COPY will create when it ends).
   */
  newChunkRange(h: Hypertable, t: number, planned: ReadonlyArray<{ readonly start: number; readonly end: number }> = []): { start: number; end: number } {
    let start = Math.floor(t / h.interval) * h.interval;
    let end = start + h.interval;
    const before = this.rows('SELECT max(range_end) AS e FROM chunk WHERE hypertable_id = ? AND range_end <= ?', h.id, t)[0]?.e;
    const after = this.rows('SELECT min(range_start) AS s FROM chunk WHERE hypertable_id = ? AND range_start > ?', h.id, t)[0]?.s;
    if (before != null) start = Math.max(start, Number(before));
    if (after != null) end = Math.min(end, Number(after));
    for (const p of planned) {
      if (p.end <= t) start = Math.max(start, p.end);
      else if (p.start > t) end = Math.min(end, p.start);
    }
    return { start, end };
  }

  /**
   * The chunk covering exactly [start, end) (internal time), created when missing: a shard object's
   * chunks are the coordinator's, range for range, so drop_chunks and compress_chunk can name them.
   */
  chunkWithRange(h: Hypertable, start: number, end: number): Chunk {
    const found = this.rows('SELECT * FROM chunk WHERE hypertable_id = ? AND range_start = ? AND range_end = ?', h.id, start, end)[0];
    if (found) return toChunk(found);
    const id = this.nextId('chunk');
    const name = `_hyper_${h.id}_${id}_chunk`;
    this.sql.exec('INSERT INTO chunk (id, hypertable_id, schema_name, table_name, range_start, range_end) VALUES (?, ?, ?, ?, ?, ?)', id, h.id, CHUNK_SCHEMA, name, start, end);
    return { id, hypertableId: h.id, tableName: name, rangeStart: start, rangeEnd: end };
  }

  /** Removes a chunk, its buffered rows and its shard mapping; returns its manifest keys (the caller deletes the objects). */
  dropChunk(chunkId: number): string[] {
    const keys = this.manifests(chunkId).map((m) => m.key);
    this.sql.exec('DELETE FROM orbit_meta WHERE key = ?', `chunk_shard:${chunkId}`);
    this.sql.exec('DELETE FROM chunk_batches WHERE chunk_id = ?', chunkId);
    this.sql.exec('DELETE FROM write_buffer WHERE chunk_id = ?', chunkId);
    this.sql.exec('DELETE FROM chunk WHERE id = ?', chunkId);
    return keys;
  }

  // ---- batches and the write buffer -------------------------------------------------------------

  manifests(chunkId: number): Array<{ key: string; rows: number }> {
    return this.rows('SELECT manifest_key, row_count FROM chunk_batches WHERE chunk_id = ? ORDER BY manifest_key', chunkId).map((r) => ({
      key: String(r.manifest_key),
      rows: Number(r.row_count),
    }));
  }

  /** Every manifest key the catalog points at (what a sweep keeps). */
  allManifestKeys(): Set<string> {
    return new Set(this.rows('SELECT manifest_key FROM chunk_batches').map((r) => String(r.manifest_key)));
  }

  buffer(rows: ReadonlyArray<{ chunkId: number; row: string }>): void {
    for (const r of rows) this.sql.exec('INSERT INTO write_buffer (chunk_id, row) VALUES (?, ?)', r.chunkId, r.row);
  }

  /** Stages rows of the COPY in progress (one SQLite transaction per call). */
  stage(rows: ReadonlyArray<{ slot: number; row: string }>): void {
    this.atomically(() => {
      for (const r of rows) this.sql.exec('INSERT INTO copy_staging (slot, row) VALUES (?, ?)', r.slot, r.row);
    });
  }

  /** Drops staged COPY rows (a failed COPY, or one a restart interrupted). */
  clearStaged(): void {
    this.atomically(() => {
      this.sql.exec('DELETE FROM copy_staging');
      this.sql.exec('DELETE FROM copy_slot');
    });
  }

  /** Moves the staged rows into the write buffer, in arrival order, slot i into chunk `chunkIds[i]` (call inside `atomically`). */
  unstage(chunkIds: readonly number[]): void {
    chunkIds.forEach((id, slot) => this.sql.exec('INSERT INTO copy_slot (slot, chunk_id) VALUES (?, ?)', slot, id));
    this.sql.exec('INSERT INTO write_buffer (chunk_id, row) SELECT m.chunk_id, s.row FROM copy_staging s JOIN copy_slot m ON m.slot = s.slot ORDER BY s.seq');
    this.sql.exec('DELETE FROM copy_staging');
    this.sql.exec('DELETE FROM copy_slot');
  }

  bufferedCount(chunkId: number): number {
    return Number(this.rows('SELECT count(*) AS n FROM write_buffer WHERE chunk_id = ?', chunkId)[0]!.n);
  }

  /** Buffered rows of a chunk in arrival order (the first `limit`), with the last sequence number read. */
  buffered(chunkId: number, limit = -1): { rows: string[]; lastSeq: number } {
    const rs = this.rows('SELECT seq, row FROM write_buffer WHERE chunk_id = ? ORDER BY seq LIMIT ?', chunkId, limit);
    return { rows: rs.map((r) => String(r.row)), lastSeq: rs.length ? Number(rs[rs.length - 1]!.seq) : 0 };
  }

  /**
   * Points the chunk at a sealed manifest, and away from the manifests it `replaces` (merged into it),
   * and drops the buffered rows it holds, in one transaction.
   */
  commitSeal(chunkId: number, manifestKey: string, rowCount: number, lastSeq: number, replaces: readonly string[] = []): void {
    this.atomically(() => {
      for (const key of replaces) this.sql.exec('DELETE FROM chunk_batches WHERE chunk_id = ? AND manifest_key = ?', chunkId, key);
      this.sql.exec('INSERT INTO chunk_batches (chunk_id, manifest_key, row_count) VALUES (?, ?, ?)', chunkId, manifestKey, rowCount);
      this.sql.exec('DELETE FROM write_buffer WHERE chunk_id = ? AND seq <= ?', chunkId, lastSeq);
    });
  }

  /** Points the chunk at an imported manifest and records its source, in one transaction. */
  commitImport(chunkId: number, manifestKey: string, rowCount: number, importKey: string): void {
    this.atomically(() => {
      this.sql.exec('INSERT INTO chunk_batches (chunk_id, manifest_key, row_count) VALUES (?, ?, ?)', chunkId, manifestKey, rowCount);
      this.setMeta(importKey, manifestKey);
    });
  }

  // ---- jobs -------------------------------------------------------------------------------------

  addJob(procName: string, hypertableId: number, config: Record<string, unknown>): number {
    const id = this.nextId('bgw_job', FIRST_JOB_ID);
    this.sql.exec('INSERT INTO bgw_job (id, proc_name, hypertable_id, config) VALUES (?, ?, ?, ?)', id, procName, hypertableId, JSON.stringify(config));
    return id;
  }

  jobs(procName?: string): Array<{ id: number; procName: string; hypertableId: number; config: Record<string, unknown> }> {
    const rs = procName === undefined ? this.rows('SELECT * FROM bgw_job ORDER BY id') : this.rows('SELECT * FROM bgw_job WHERE proc_name = ? ORDER BY id', procName);
    return rs.map((r) => ({ id: Number(r.id), procName: String(r.proc_name), hypertableId: Number(r.hypertable_id), config: JSON.parse(String(r.config)) }));
  }

  setJobConfig(id: number, config: Record<string, unknown>): void {
    this.sql.exec('UPDATE bgw_job SET config = ? WHERE id = ?', JSON.stringify(config), id);
  }

  removeJobs(procName: string, hypertableId: number): number {
    const n = this.jobs(procName).filter((j) => j.hypertableId === hypertableId).length;
    this.sql.exec('DELETE FROM bgw_job WHERE proc_name = ? AND hypertable_id = ?', procName, hypertableId);
    return n;
  }
}

function toChunk(r: Record<string, unknown>): Chunk {
  return { id: Number(r.id), hypertableId: Number(r.hypertable_id), tableName: String(r.table_name), rangeStart: Number(r.range_start), rangeEnd: Number(r.range_end) };
}

/** A time value (edge representation) in TimescaleDB's internal time. */
export function toInternal(type: EdgeType, v: bigint | number): number {
  if (INTEGER_TYPES.has(type)) return Number(v);
  if (type === 'date') return Number((BigInt(v) * 86_400_000_000n) + UNIX_TO_PG_US);
  return Number(BigInt(v) + UNIX_TO_PG_US);
}

/** Internal time back to the column's representation. */
export function fromInternal(type: EdgeType, t: number): bigint | number {
  if (type === 'int8') return BigInt(t);
  if (INTEGER_TYPES.has(type)) return t;
  const pg = BigInt(t) - UNIX_TO_PG_US;
  if (type === 'date') return Number(pg / 86_400_000_000n);
  return pg;
}
