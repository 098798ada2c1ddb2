/**
 * @module edge/copy-in
 * One `COPY … FROM STDIN` at the edge, fed its data as it arrives (CopyData messages over WebSocket,
 * the HTTP request body stream), so an object's memory does not grow with the size of the COPY.
 *
 * Rows are read a piece at a time (CopyReader) and each piece is staged in the object's SQLite
 * (copy_staging) with the index of the chunk it belongs to. Chunks the COPY needs are only planned
 * while data arrives — their ranges computed exactly as `chunkFor` would, in the same order — and
 * created when the COPY ends, in the one SQLite transaction that moves the staged rows into the
 * write buffer. So the COPY is all or nothing: an error (or CopyFail, or a lost client) drops the
 * staged rows and leaves no chunk behind; a restart in the middle leaves staged rows that the next
 * open drops; an acknowledged COPY is in the write buffer like any INSERT.
 *
 * Inside a transaction block, and into a hypertable spread over shard objects, the rows are
 * gathered in memory and written as one INSERT is (staged until COMMIT / sent to the shards), so
 * those COPYs hold their rows (docs/runtimes/workers.md, "Limits").
 */
import { orbitError } from '../errors.js';
import { toInternal, type Chunk, type Hypertable } from './catalog.js';
import { CopyReader, type CopyPlan } from './copy.js';
import type { EdgeEngine } from './engine.js';
import { encodeRow } from './buffer-rows.js';
import { sealFull } from './seal.js';
import { notAtEdge } from './expr.js';
import type { Value } from './values.js';

/** A chunk rows of this COPY go to: an existing one, or one to create at the end. */
interface Slot {
  readonly start: number;
  readonly end: number;
  readonly chunk?: Chunk;
}

export class EdgeCopyIn {
  private readonly reader: CopyReader;
  private readonly h: Hypertable;
  private readonly timeAt: number;
  /** Rows gathered in memory (transaction block, sharded hypertable); undefined: staged in SQLite. */
  private readonly gathered: Value[][] | undefined;
  private readonly slots: Slot[] = [];
  /** Slot indexes ordered by range start, for the lookup. */
  private readonly byStart: number[] = [];
  private lastSlot = -1;

  constructor(
    private readonly engine: EdgeEngine,
    readonly plan: CopyPlan,
    gather: boolean,
  ) {
    const h = engine.catalog.hypertable(plan.table.name);
    if (!h) throw notAtEdge(`writing to "${plan.table.name}", which is not a hypertable,`);
    this.h = h;
    this.timeAt = plan.table.columns.findIndex((c) => c.name === h.timeColumn);
    this.reader = new CopyReader(plan, engine.settings.timeZone);
    this.gathered = gather ? [] : undefined;
    if (!gather) engine.catalog.clearStaged();
  }

  /** Reads a chunk of COPY data; an error drops everything staged (the COPY has failed). */
  push(chunk: Uint8Array | string): void {
    try {
      for (const piece of this.reader.push(chunk)) this.add(piece);
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  /** The end of the data: writes the COPY (acknowledged once this resolves); returns the row count. */
  async finish(): Promise<number> {
    try {
      for (const piece of this.reader.end()) this.add(piece);
      if (this.gathered) {
        await this.engine.write(this.plan.table, this.gathered);
        return this.gathered.length;
      }
      const touched = new Map<number, { h: Hypertable; table: CopyPlan['table'] }>();
      this.engine.catalog.atomically(() => {
        // Planned chunks are created in the order their first rows arrived, as row-by-row writes would.
        const ids = this.slots.map((s) => s.chunk?.id ?? this.engine.catalog.chunkWithRange(this.h, s.start, s.end).id);
        this.engine.catalog.unstage(ids);
        for (const id of ids) touched.set(id, { h: this.h, table: this.plan.table });
      });
      await sealFull(this.engine, touched);
      return this.reader.rows;
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  /** Drops what this COPY staged (CopyFail, an error, a lost client); nothing once it has ended. */
  abort(): void {
    if (!this.gathered) this.engine.catalog.clearStaged();
  }

  private add(piece: Value[][]): void {
    if (this.gathered) {
      for (const row of piece) this.gathered.push(row);
      return;
    }
    const { h, timeAt } = this;
    const rows = piece.map((row) => {
      const t = row[timeAt];
      if (t === null || t === undefined) {
        throw orbitError('not_null_violation', `null value in column "${h.timeColumn}" of relation "${this.plan.table.name}" violates not-null constraint`);
      }
      return { slot: this.slotFor(toInternal(h.timeType, t as bigint | number)), row: encodeRow(row) };
    });
    this.engine.catalog.stage(rows);
  }

  /** The slot of internal time `t`: a chunk seen before, an existing chunk, or a new planned one. */
  private slotFor(t: number): number {
    const last = this.slots[this.lastSlot];
    if (last && last.start <= t && t < last.end) return this.lastSlot;
    // The last slot starting at or before t.
    let lo = 0;
    let hi = this.byStart.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.slots[this.byStart[mid]!]!.start <= t) lo = mid + 1;
      else hi = mid;
    }
    const before = lo > 0 ? this.byStart[lo - 1]! : -1;
    if (before >= 0 && t < this.slots[before]!.end) return (this.lastSlot = before);
    const existing = this.engine.catalog.chunkAt(this.h, t);
    const slot: Slot = existing
      ? { start: existing.rangeStart, end: existing.rangeEnd, chunk: existing }
      : this.engine.catalog.newChunkRange(this.h, t, this.slots.filter((s) => !s.chunk));
    this.slots.push(slot);
    this.byStart.splice(lo, 0, this.slots.length - 1);
    return (this.lastSlot = this.slots.length - 1);
  }
}
