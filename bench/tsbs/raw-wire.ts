/**
 * @module bench/tsbs/raw-wire
 * A PostgreSQL client that times a query the way pgbench does: the simple query is sent and the
 * whole response read up to ReadyForQuery, its rows framed and kept as bytes but not turned into
 * values. TimescaleDB's figures in research/perf_anchors.md are pgbench's, which discards the rows;
 * node-postgres (`orbit-tcp`) also parses every field in the bench's own process, which for
 * high-cpu-all's 43 K rows is most of the time measured. The rows are decoded only when read
 * (`rows`), after the timing, for the bench's comparison of answers.
 */
import { connect, type Socket } from 'node:net';
import { readDataRow, readErrorFields } from '../../src/wire/protocol/backend.js';
import { writeStartup } from '../../src/wire/protocol/frontend.js';
import { MessageFramer, MessageReader } from '../../src/wire/protocol/reader.js';
import { simpleQuery } from '../../src/session/settings.js';

interface Pending {
  resolve(r: RawResult): void;
  reject(e: Error): void;
  columns: string[];
  rows: Uint8Array[];
  error?: string;
}

/** A response: column names, and the rows decoded (as text) when first read. */
export interface RawResult {
  readonly columns: readonly string[];
  readonly rowCount: number;
  readonly rows: ReadonlyArray<ReadonlyArray<string | null>>;
}

export class RawWireClient {
  private readonly framer = new MessageFramer();
  private pending: Pending | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => this.receive(d));
    socket.on('error', (e) => this.pending?.reject(e));
  }

  /** Connects and completes a trust startup (the bench's server has no passwords). */
  static async connect(port: number, params: Record<string, string>): Promise<RawWireClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    const client = new RawWireClient(socket);
    await client.exchange(writeStartup(params));
    return client;
  }

  /** Runs `sql` as a simple query; resolves at ReadyForQuery, rejects with the server's error. */
  query(sql: string): Promise<RawResult> {
    return this.exchange(simpleQuery(sql));
  }

  close(): void {
    this.socket.end();
  }

  private exchange(message: Uint8Array): Promise<RawResult> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, columns: [], rows: [] };
      this.socket.write(message);
    });
  }

  private receive(chunk: Buffer): void {
    this.framer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    for (let m = this.framer.next(true); m; m = this.framer.next(true)) {
      const p = this.pending;
      if (!p) continue;
      switch (String.fromCharCode(m.type)) {
        case 'T':
          p.columns = columnNames(m.body);
          break;
        case 'D':
          p.rows.push(m.body.slice());
          break;
        case 'E':
          p.error = readErrorFields(m.body).M ?? 'error';
          break;
        case 'Z': {
          this.pending = undefined;
          if (p.error !== undefined) p.reject(new Error(p.error));
          else p.resolve(lazyRows(p.columns, p.rows));
          break;
        }
      }
    }
  }
}

function columnNames(body: Uint8Array): string[] {
  const r = new MessageReader(body);
  const names: string[] = [];
  for (let n = r.uint16(); n > 0; n--) {
    names.push(r.cstring());
    r.bytes(18); // table oid, attnum, type oid, typlen, typmod, format
  }
  return names;
}

function lazyRows(columns: string[], raw: Uint8Array[]): RawResult {
  let rows: Array<Array<string | null>> | undefined;
  return {
    columns,
    rowCount: raw.length,
    get rows() {
      return (rows ??= raw.map(readDataRow));
    },
  };
}
