/**
 * @module session/columnstore/scan-temp-table
 * The scan's output on the general route: the compressed rows the statement may need, COPYed in
 * binary into its temporary table (`pg_temp.orbit_scan_<id>`), which PostgreSQL then reads in
 * place of the compressed chunks (docs/guides/planner.md, "How a scan runs").
 */
import { concatBytes } from '../../bytes.js';
import type { Column } from '../../columnstore/columns.js';
import { CopyBinaryWriter } from '../../columnstore/pg-binary.js';
import { copyData } from '../../wire/protocol/frontend.js';
import { FrontendMessage } from '../../wire/protocol/message-codes.js';
import { throwIfError, type InternalRunner } from '../internal-sql.js';
import { simpleQuery } from '../settings.js';

const COPY_DONE = new Uint8Array([FrontendMessage.CopyDone, 0, 0, 0, 4]);

/** Tuples for the temporary table: one binary COPY per column set, all its batches between one header and one trailer. */
export class TempTableSink {
  private readonly parts = new Map<string, CopyBinaryWriter>();

  constructor(private readonly temp: string) {}

  /** Appends the rows `rows` (undefined: all) of a batch's `columns`, named by the quoted column list `key`. */
  append(key: string, columns: readonly Column[], rows: Uint32Array | undefined): void {
    let writer = this.parts.get(key);
    if (!writer) this.parts.set(key, (writer = new CopyBinaryWriter(1 << 20)));
    writer.append(columns, rows);
  }

  /** COPYs what was appended into the temporary table. */
  async finish(run: InternalRunner): Promise<void> {
    for (const [columns, writer] of this.parts) {
      throwIfError(await run.raw(concatBytes([simpleQuery(`COPY ${this.temp} (${columns}) FROM STDIN (FORMAT binary)`), copyData(writer.finish()), COPY_DONE])));
    }
  }
}
