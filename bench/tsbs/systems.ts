/**
 * @module bench/tsbs/systems
 * The engines of the TSBS comparison, each loading the same CSV and answering the same queries:
 * - `orbit` / `orbit-tcp`: one Orbit server in this process (PGlite in its worker thread, as
 *   `orbit serve`), loaded with one COPY FROM STDIN over TCP into a hypertable with 12-hour chunks;
 *   `orbit` queries through the in-process API, `orbit-tcp` through node-postgres, `orbit-tcp-raw`
 *   as pgbench (TimescaleDB's figures in research/perf_anchors.md) times it: the response read to
 *   ReadyForQuery, its rows not turned into values (bench/tsbs/raw-wire.ts).
 * - `pglite`: plain PGlite on files, `COPY … FROM '/dev/blob'` in 64 MB pieces (a single Blob of the
 *   whole file needs 2.6 GB, research/perf_anchors.md).
 * - `duckdb-wasm`: @duckdb/duckdb-wasm's blocking Node API (single-threaded), as perf_anchors.md ran it.
 * - `postgres`: any PostgreSQL/TimescaleDB URL (`--pg`), loaded over the wire like Orbit.
 * Timings cover the query and turning its result into rows (objects or arrays), as clients do.
 */
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import pg from 'pg';
import postgres from 'postgres';
import { CPU_TABLE_SQL } from '../data/cpu-csv.js';
import type { CopyFile } from '../../src/session/embedded-copy.js';
import type { Dialect } from './queries.js';
import { RawWireClient } from './raw-wire.js';

export type Row = readonly unknown[];

export interface QueryRows {
  readonly columns: readonly string[];
  readonly rows: readonly Row[];
}

export interface TsbsEngine {
  readonly name: string;
  readonly dialect: Dialect;
  /** Runs `sql`, returning its rows as arrays of values. */
  query(sql: string): Promise<QueryRows>;
  close(): Promise<void>;
}

export interface LoadedEngines {
  readonly engines: TsbsEngine[];
  /** Load time per loading system (orbit and orbit-tcp share one load). */
  readonly loads: Array<{ system: string; ms: number; rows: number }>;
}

/** Reports load progress (bytes sent of total) to the caller's progress bar. */
export type Progress = (system: string, done: number, total: number) => void;

const INDEX_SQL = 'CREATE INDEX cpu_hostname_time_idx ON cpu (hostname, time DESC)';

/** The file's bytes as they are read, reporting progress. */
function counted(csv: string, system: string, progress: Progress): Transform {
  const total = statSync(csv).size;
  let done = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      done += chunk.length;
      progress(system, done, total);
      cb(null, chunk);
    },
  });
  return createReadStream(csv, { highWaterMark: 1 << 20 }).pipe(counter);
}

/**
 * Orbit.copyFrom on the file open for reading (a FileHandle it reads into one kept buffer), as
 * DuckDB-WASM's COPY reads its registered file from disk; the reads report progress.
 */
async function copyFileInProcess(orbit: { copyFrom(sql: string, data: CopyFile): Promise<unknown> }, csv: string, system: string, progress: Progress): Promise<void> {
  const total = statSync(csv).size;
  let done = 0;
  const file = await open(csv);
  try {
    await orbit.copyFrom('COPY cpu FROM STDIN (FORMAT csv)', {
      read: async (buffer, offset, length, position) => {
        const r = await file.read(buffer, offset, length, position);
        progress(system, (done += r.bytesRead), total);
        return r;
      },
      stat: () => file.stat(),
    });
  } finally {
    await file.close();
  }
}

/** Streams a file through a COPY FROM STDIN writable of postgres.js, reporting progress. */
async function copyOverWire(url: { host: string; port: number; user: string; database: string; password?: string }, csv: string, system: string, progress: Progress): Promise<void> {
  const sql = postgres({ ...url, max: 1, onnotice: () => undefined });
  try {
    const writable = await sql`COPY cpu FROM STDIN (FORMAT csv)`.writable();
    await pipeline(counted(csv, system, progress), writable);
  } finally {
    await sql.end();
  }
}

/**
 * The cpu hypertable with 12-hour chunks (TSBS's setting for this data set); `direct`: created WITH
 * (timescaledb.hypertable …), so COPY writes columnstore batches (segmentby hostname).
 */
export function orbitCpuTableSql(direct: boolean): string {
  return direct
    ? `SET TIME ZONE 'UTC'; CREATE EXTENSION timescaledb; ${CPU_TABLE_SQL} WITH (timescaledb.hypertable, timescaledb.partition_column = 'time',
          timescaledb.segmentby = 'hostname', timescaledb.chunk_interval = '12 hours'); ${INDEX_SQL}`
    : `SET TIME ZONE 'UTC'; CREATE EXTENSION timescaledb; ${CPU_TABLE_SQL};
    SELECT create_hypertable('cpu', by_range('time', INTERVAL '12 hours')); ${INDEX_SQL}`;
}

export interface OrbitLoadOptions {
  /** Convert every chunk to the columnstore after loading (compress_chunk), as TimescaleDB users do. */
  readonly compress?: boolean;
  /** Direct-to-columnstore ingest: the table is created WITH (timescaledb.hypertable …) and COPY writes batches. */
  readonly direct?: boolean;
  /** Reuse of aggregate statements and last-point candidates across repeated queries (ColumnStoreOptions.reuseResults). */
  readonly reuseResults?: boolean;
  /**
   * How the CSV reaches Orbit: `tcp`, a postgres.js client's COPY over a TCP connection (client and
   * server in this process); `in-process`, Orbit.copyFrom on the open file, as DuckDB-WASM's COPY
   * reads its file in-process.
   */
  readonly load?: 'tcp' | 'in-process';
}

export async function startOrbit(
  csv: string,
  rows: number,
  progress: Progress,
  { compress = false, direct = false, reuseResults = true, load = 'tcp' }: OrbitLoadOptions = {},
): Promise<{ engines: TsbsEngine[]; loads: Array<{ system: string; ms: number; rows: number }>; close(): Promise<void> }> {
  const { serve } = await import('../../src/runtime/node.js');
  const dir = mkdtempSync(join(tmpdir(), 'orbit-tsbs-'));
  const server = await serve({ dataDir: dir, listen: { host: '127.0.0.1', port: 0 }, http: null, templatePath: 'dist/pgdata-template.tar.gz', columnstore: { reuseResults } });
  const port = server.tcp!.port;
  await server.orbit.exec(orbitCpuTableSql(direct));
  const t0 = performance.now();
  if (load === 'in-process') await copyFileInProcess(server.orbit, csv, 'orbit', progress);
  else await copyOverWire({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' }, csv, 'orbit', progress);
  const ms = performance.now() - t0;
  await server.orbit.exec('ANALYZE cpu');
  const loads = [{ system: `orbit${load === 'in-process' ? ' in-process' : ''}${direct ? ' (direct to columnstore)' : ''}`, ms, rows }];
  if (compress && !direct) {
    // Every chunk to the columnstore (segmentby hostname, orderby time DESC), timed as a load step.
    const c0 = performance.now();
    await server.orbit.exec(`ALTER TABLE cpu SET (timescaledb.compress, timescaledb.compress_segmentby = 'hostname');
      SELECT compress_chunk(c) FROM show_chunks('cpu') c`);
    loads.push({ system: 'orbit compress_chunk', ms: performance.now() - c0, rows });
  }
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await client.connect();
  await client.query("SET TIME ZONE 'UTC'");
  const inProcess: TsbsEngine = {
    name: 'orbit',
    dialect: 'timescaledb',
    async query(sql) {
      const r = await server.orbit.query(sql);
      return { columns: r.fields.map((f) => f.name), rows: r.rows.map((row) => Object.values(row as Record<string, unknown>)) };
    },
    close: async () => undefined,
  };
  const tcp: TsbsEngine = {
    name: 'orbit-tcp',
    dialect: 'timescaledb',
    async query(sql) {
      const r = await client.query({ text: sql, rowMode: 'array' });
      return { columns: r.fields.map((f) => f.name), rows: r.rows as Row[] };
    },
    close: async () => undefined,
  };
  const raw = await RawWireClient.connect(port, { user: 'postgres', database: 'postgres', TimeZone: 'UTC' });
  const tcpRaw: TsbsEngine = {
    name: 'orbit-tcp-raw',
    dialect: 'timescaledb',
    async query(sql) {
      // Timed to ReadyForQuery as pgbench times TimescaleDB; rows decoded when the bench compares them.
      const r = await raw.query(sql);
      return {
        get columns() {
          return r.columns;
        },
        get rows() {
          return r.rows;
        },
      };
    },
    close: async () => undefined,
  };
  return {
    engines: [inProcess, tcp, tcpRaw],
    loads,
    close: async () => {
      raw.close();
      await client.end();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startPglite(csv: string, rows: number, progress: Progress): Promise<{ engine: TsbsEngine; load: { system: string; ms: number; rows: number } }> {
  const { PGlite } = await import('@electric-sql/pglite');
  const dir = mkdtempSync(join(tmpdir(), 'pglite-tsbs-'));
  const db = await PGlite.create(dir, { loadDataDir: new Blob([readFileSync('dist/pgdata-template.tar.gz')]) });
  await db.exec(`SET TIME ZONE 'UTC'; ${CPU_TABLE_SQL}; ${INDEX_SQL}`);
  const t0 = performance.now();
  for (const piece of csvPieces(csv, 64 << 20)) {
    await db.query("COPY cpu FROM '/dev/blob' WITH (FORMAT csv)", [], { blob: new Blob([piece.data as Uint8Array<ArrayBuffer>]) });
    progress('pglite', piece.end, piece.total);
  }
  const ms = performance.now() - t0;
  await db.exec('ANALYZE cpu');
  return {
    load: { system: 'pglite', ms, rows },
    engine: {
      name: 'pglite',
      dialect: 'postgres',
      async query(sql) {
        const r = await db.query<unknown[]>(sql, [], { rowMode: 'array' });
        return { columns: r.fields.map((f) => f.name), rows: r.rows };
      },
      close: async () => {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    },
  };
}

/** The file in pieces of about `size` bytes, each cut after a newline. */
function* csvPieces(path: string, size: number): Generator<{ data: Buffer; end: number; total: number }> {
  const all = readFileSync(path);
  for (let start = 0; start < all.length; ) {
    let end = Math.min(all.length, start + size);
    if (end < all.length) end = all.lastIndexOf(0x0a, end - 1) + 1 || all.length;
    yield { data: all.subarray(start, end), end, total: all.length };
    start = end;
  }
}

export async function startDuckdbWasm(csv: string, rows: number, progress: Progress): Promise<{ engine: TsbsEngine; load: { system: string; ms: number; rows: number } }> {
  const require = createRequire(import.meta.url);
  const duckdb = require('@duckdb/duckdb-wasm/blocking') as typeof import('@duckdb/duckdb-wasm/blocking');
  const dist = dirname(require.resolve('@duckdb/duckdb-wasm/blocking'));
  const bundles = {
    mvp: { mainModule: join(dist, 'duckdb-mvp.wasm'), mainWorker: join(dist, 'duckdb-node-mvp.worker.cjs') },
    eh: { mainModule: join(dist, 'duckdb-eh.wasm'), mainWorker: join(dist, 'duckdb-node-eh.worker.cjs') },
  };
  const db = await duckdb.createDuckDB(bundles, new duckdb.VoidLogger(), duckdb.NODE_RUNTIME);
  await db.instantiate();
  const conn = db.connect();
  // Offline: never try to fetch extensions (ICU would hang, research/perf_anchors.md).
  conn.query('SET autoinstall_known_extensions=false');
  conn.query('SET autoload_known_extensions=false');
  conn.query(CPU_TABLE_SQL.replace('timestamptz', 'TIMESTAMP').replace(/double precision/g, 'DOUBLE'));
  db.registerFileURL('cpu.csv', csv, duckdb.DuckDBDataProtocol.NODE_FS, true);
  progress('duckdb-wasm', 0, 1);
  const t0 = performance.now();
  conn.query("COPY cpu FROM 'cpu.csv' (FORMAT csv, HEADER false, TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%S.%gZ')");
  const ms = performance.now() - t0;
  progress('duckdb-wasm', 1, 1);
  return {
    load: { system: 'duckdb-wasm', ms, rows },
    engine: {
      name: 'duckdb-wasm',
      dialect: 'duckdb',
      async query(sql) {
        const table = conn.query(sql);
        const names = table.schema.fields.map((f) => f.name);
        return { columns: names, rows: table.toArray().map((r: Record<string, unknown>) => names.map((n) => r[n])) };
      },
      close: async () => {
        conn.close();
      },
    },
  };
}

export async function startPostgresUrl(url: string, csv: string, rows: number, progress: Progress): Promise<{ engine: TsbsEngine; load: { system: string; ms: number; rows: number } }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("SET TIME ZONE 'UTC'");
  await client.query('DROP TABLE IF EXISTS cpu');
  await client.query(CPU_TABLE_SQL);
  let dialect: Dialect = 'postgres';
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
    await client.query("SELECT create_hypertable('cpu', by_range('time', INTERVAL '12 hours'))");
    dialect = 'timescaledb';
  } catch {
    // Plain PostgreSQL: the postgres dialect.
  }
  await client.query(INDEX_SQL);
  const u = new URL(url);
  const t0 = performance.now();
  await copyOverWire(
    { host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username || 'postgres'), database: u.pathname.slice(1) || 'postgres', password: decodeURIComponent(u.password) || undefined },
    csv,
    'postgres',
    progress,
  );
  const ms = performance.now() - t0;
  await client.query('ANALYZE cpu');
  return {
    load: { system: 'postgres', ms, rows },
    engine: {
      name: dialect === 'timescaledb' ? 'timescaledb' : 'postgres',
      dialect,
      async query(sql) {
        const r = await client.query({ text: sql, rowMode: 'array' });
        return { columns: r.fields.map((f) => f.name), rows: r.rows as Row[] };
      },
      close: async () => {
        await client.end();
      },
    },
  };
}
