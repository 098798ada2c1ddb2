/**
 * @module rowstore/pglite
 * The PGlite host: one PGlite instance (a single PostgreSQL backend in WASM) as Orbit's row store.
 * Loaded only by runtime entries that have PGlite (Node, browser), never by the edge profile.
 */
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { concatBytes } from '../bytes.js';
import { timescaledbStartParams } from '../catalog/extension/settings.js';
import { installExtensionFiles } from './extension-files.js';
import { paramTexts, readTypedResult, typedQueryMessages, valueOfType } from './typed-query.js';
import type { ValueOf } from '../columnstore/pg-text.js';
import type { QueryResult, RowStore } from './types.js';

/**
 * Orbit's own defaults. temp_buffers: the columnstore's read paths hand rows to PostgreSQL in
 * temporary tables (docs/design/columnstore.md, "Reading"); PostgreSQL's 8 MB made them spill to
 * the file system, which in a browser is OPFS (measured: a threshold scan over compressed chunks
 * 1,366 ms with 8 MB against 81 ms with 256 MB; docs/benchmarks.md). Buffers are allocated only as
 * temporary tables need them.
 */
const ORBIT_START_PARAMS = ['-c', 'temp_buffers=128MB'];

export interface PGliteRowStoreOptions {
  /** PGlite data directory: a path (Node files), `memory://`, `idb://name` or `opfs-ahp://name`. */
  readonly dataDir: string;
  /** A pre-initialised data directory tarball; skips initdb on first start. */
  readonly loadDataDir?: Blob;
  /** Extra PGlite options (wasm modules, fs bundle) supplied by the runtime. */
  readonly pgliteOptions?: Partial<PGliteOptions>;
  /** `timescaledb.*` settings of the server's configuration (catalog/extension/settings.ts). */
  readonly settings?: Readonly<Record<string, string>>;
}

export class PGliteRowStore implements RowStore {
  private constructor(readonly db: PGlite) {}

  static async open(options: PGliteRowStoreOptions): Promise<PGliteRowStore> {
    const db = await PGlite.create(options.dataDir, {
      ...options.pgliteOptions,
      startParams: [...(options.pgliteOptions?.startParams ?? PGlite.defaultStartParams), ...timescaledbStartParams(options.settings), ...ORBIT_START_PARAMS],
      ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    });
    try {
      await installExtensionFiles(db);
    } catch (err) {
      await db.close();
      throw err;
    }
    return new PGliteRowStore(db);
  }

  get closed(): boolean {
    return this.db.closed;
  }

  async execProtocolRaw(messages: Uint8Array): Promise<Uint8Array> {
    // PGlite's execProtocolRaw also runs every backend message through its own JavaScript parser
    // (one ArrayBuffer and one TextDecoder call per field), which Orbit never reads: 43 K rows of
    // 20 columns took ~5 s there against ~0.3 s for the raw bytes (docs/benchmarks.md). The stream
    // variant hands the bytes over unparsed; they are views of WASM memory, so each is copied.
    // syncToFs after each call: an acknowledged COMMIT must be in the backing files before the
    // client sees its ReadyForQuery (for Node files this is a no-op beyond PostgreSQL's own writes).
    const parts: Uint8Array[] = [];
    await this.db.execProtocolRawStream(messages, {
      syncToFs: true,
      onRawData: (data: Uint8Array) => {
        parts.push(data.slice());
      },
    });
    return parts.length === 1 ? parts[0]! : concatBytes(parts);
  }

  async query<Row>(sql: string, params?: unknown[]): Promise<QueryResult<Row>> {
    if (!params?.length) return readTypedResult<Row>(await this.execProtocolRaw(typedQueryMessages(sql)), this.db.parsers);
    const r = await this.db.query<Row>(sql, params);
    return { rows: r.rows, fields: r.fields, affectedRows: r.affectedRows };
  }

  valueReader(oid: number): ValueOf {
    return valueOfType(oid, this.db.parsers);
  }

  paramTexts(types: readonly number[], params: readonly unknown[]): Array<string | null> | undefined {
    return paramTexts(types, params, this.db.serializers as Record<number, (x: unknown) => string>);
  }

  async exec(sql: string): Promise<QueryResult[]> {
    const results = await this.db.exec(sql);
    return results.map((r) => ({ rows: r.rows as Record<string, unknown>[], fields: r.fields, affectedRows: r.affectedRows }));
  }

  sync(): Promise<void> {
    return this.db.syncToFs();
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }

  /** The data directory as a tarball (used to ship pre-initialised clusters). */
  dumpDataDir(): Promise<Blob> {
    return this.db.dumpDataDir('none');
  }
}
