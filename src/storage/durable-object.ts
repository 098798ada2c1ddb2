/**
 * @module storage/durable-object
 * Orbit's objects in a SQLite-backed Durable Object (`ctx.storage.sql`). Values are BLOBs in one
 * table keyed by (key, part): a DO SQLite string/BLOB/row is limited to 2 MB (edge_probe.md §3,
 * SQLITE_TOOBIG above 2,098,176 B), so values are split into 1 MiB parts. The key is the primary
 * key's first column, so `list` is an ordered index range.
 *
 * The Durable Object API is passed in as a structural type: this file never imports workerd types,
 * and tests can hand it anything with the same shape.
 */
import { checkKey, checkRange, StorageKind, type StorageAdapter } from './types.js';

/** The subset of `SqlStorage` (ctx.storage.sql) used here. */
export interface DurableObjectSql {
  exec(query: string, ...bindings: unknown[]): { toArray(): Record<string, unknown>[] };
}

/** The subset of `DurableObjectStorage` (ctx.storage) used here. */
export interface DurableObjectStorageLike {
  readonly sql: DurableObjectSql;
  /** Runs `fn` as one SQLite transaction (all or nothing). */
  transactionSync<T>(fn: () => T): T;
  /** Resolves once every write so far is durable on disk (workerd's output gate does this implicitly). */
  sync?(): Promise<void>;
}

/** Bytes per stored part; half the 2 MB row limit leaves room for the key and SQLite's overhead. */
export const PART_BYTES = 1 << 20;

const TABLE = 'orbit_objects';

export class DurableObjectStorage implements StorageAdapter {
  readonly kind = StorageKind.durableObject;
  readonly rowStoreDataDir = undefined;
  private readonly sql: DurableObjectSql;

  constructor(private readonly storage: DurableObjectStorageLike) {
    this.sql = storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS ${TABLE} (key TEXT NOT NULL, part INTEGER NOT NULL, value BLOB NOT NULL, PRIMARY KEY (key, part)) WITHOUT ROWID`);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    checkKey(key);
    const rows = this.sql.exec(`SELECT value FROM ${TABLE} WHERE key = ? ORDER BY part`, key).toArray();
    if (rows.length === 0) return undefined;
    const parts = rows.map((r) => toBytes(r.value));
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** Reads only the parts the range touches (a pack is up to 8 parts; a batch is in one or two). */
  async getRange(key: string, offset: number, length: number): Promise<Uint8Array | undefined> {
    checkKey(key);
    checkRange(offset, length);
    const first = Math.floor(offset / PART_BYTES);
    const last = length === 0 ? first : Math.floor((offset + length - 1) / PART_BYTES);
    const rows = this.sql.exec(`SELECT part, value FROM ${TABLE} WHERE key = ? AND (part = 0 OR part BETWEEN ? AND ?) ORDER BY part`, key, first, last).toArray();
    if (rows.length === 0) return undefined;
    const out = new Uint8Array(length);
    let got = 0;
    for (const r of rows) {
      const part = Number(r.part);
      if (part < first) continue;
      const bytes = toBytes(r.value);
      // Parts are full (PART_BYTES) but the last: a part shorter than that ends the value.
      const from = part === first ? offset - first * PART_BYTES : 0;
      if (part * PART_BYTES + from !== offset + got || from > bytes.length) break;
      const take = bytes.subarray(from, from + (length - got));
      out.set(take, got);
      got += take.length;
      if (bytes.length < PART_BYTES) break;
    }
    return got === length ? out : out.subarray(0, got);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    checkKey(key);
    this.storage.transactionSync(() => {
      this.sql.exec(`DELETE FROM ${TABLE} WHERE key = ?`, key);
      // An empty value still gets its part 0, so the key exists.
      for (let part = 0, at = 0; part === 0 || at < value.length; part++, at += PART_BYTES) {
        this.sql.exec(`INSERT INTO ${TABLE} (key, part, value) VALUES (?, ?, ?)`, key, part, copyBuffer(value.subarray(at, at + PART_BYTES)));
      }
    });
    // No sync per object: the output gate holds every reply until the object's writes are durable,
    // and one SQLite database commits in order, so a crash keeps a prefix of the puts; callers that
    // acknowledge something (a statement, a shard write) sync once before they answer.
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    this.sql.exec(`DELETE FROM ${TABLE} WHERE key = ?`, key);
  }

  async list(prefix: string): Promise<string[]> {
    // Keys are ASCII (checkKey), and SQLite compares TEXT bytewise: `prefix <= key < prefix + U+FFFF` is the prefix range.
    const rows = this.sql.exec(`SELECT key FROM ${TABLE} WHERE part = 0 AND key >= ? AND key < ? ORDER BY key`, prefix, `${prefix}\uffff`).toArray();
    return rows.map((r) => String(r.key));
  }

  async close(): Promise<void> {
    // The Durable Object owns the database; nothing to release.
  }
}

/** BLOBs come back as ArrayBuffer in workerd; copy so callers never share SQLite's buffer. */
function toBytes(v: unknown): Uint8Array {
  if (v instanceof ArrayBuffer) return new Uint8Array(v.slice(0));
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  throw new TypeError(`durable object storage: expected a BLOB, got ${typeof v}`);
}

/** workerd binds BLOBs from an ArrayBuffer; a view into a larger buffer must not store its neighbours. */
function copyBuffer(v: Uint8Array): ArrayBuffer {
  return v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength) as ArrayBuffer;
}
