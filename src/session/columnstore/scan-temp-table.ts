/**
 * @module session/columnstore/scan-temp-table
 * The scan's output on the general route: the compressed rows the statement may need, COPYed in
 * binary into its temporary table (`pg_temp.orbit_scan_<id>`), which PostgreSQL then reads in
 * place of the compressed chunks (docs/guides/planner.md, "How a scan runs").
 */
import { concatBytes } from '../../bytes.js';
import type { Column } from '../../columnstore/columns.js';
import { CopyBinaryWriter } from '../../columnstore/pg-binary-writer.js';
import { copyData } from '../../wire/protocol/frontend.js';
import { FrontendMessage } from '../../wire/protocol/message-codes.js';
import { throwIfError, type InternalRunner } from '../internal-sql.js';
import { simpleQuery } from '../settings.js';

const COPY_DONE = new Uint8Array([FrontendMessage.CopyDone, 0, 0, 0, 4]);

/**
 * Bytes of tuples held before they are COPYed: an unselective scan hands PostgreSQL its rows in
 * COPYs of about this size, so Orbit's memory does not grow with the rows passed.
 */
const PIECE_BYTES = 16 << 20;

/**
 * Tuples for the temporary table: per column set, batches between one header and one trailer, COPYed
 * whenever the tuples held reach PIECE_BYTES and at the end.
 */
export class TempTableSink {
  private readonly parts = new Map<string, CopyBinaryWriter>();
  private held = 0;

  constructor(
    private readonly temp: string,
    private readonly pieceBytes = PIECE_BYTES,
  ) {}

  /** Appends the rows `rows` (undefined: all) of a batch's `columns`, named by the quoted column list `key`. */
  append(key: string, columns: readonly Column[], rows: Uint32Array | undefined): void {
    let writer = this.parts.get(key);
    if (!writer) this.parts.set(key, (writer = new CopyBinaryWriter(1 << 20)));
    const before = writer.byteLength;
    writer.append(columns, rows);
    this.held += writer.byteLength - before;
  }

  /** Whether the tuples held should be COPYed now (flush) before more are appended. */
  get full(): boolean {
    return this.held >= this.pieceBytes;
  }

  /** COPYs what was appended into the temporary table. */
  async flush(run: InternalRunner): Promise<void> {
    const parts = [...this.parts];
    this.parts.clear();
    this.held = 0;
    for (const [columns, writer] of parts) {
      throwIfError(await run.raw(concatBytes([simpleQuery(`COPY ${this.temp} (${columns}) FROM STDIN (FORMAT binary)`), copyData(writer.finish()), COPY_DONE])));
    }
  }
}
