/**
 * @module columnstore/kernels/batch-columns
 * Decodes just the columns a query's kernels read from one batch object, into arrays reused from
 * batch to batch (decoding allocates nothing for NULL-free numeric columns). readBatch builds a
 * fresh `Rows` per call, which at 1,000 rows costs about as much as decoding itself.
 * The same checks as readBatch: column types and row counts against the manifest (XX001).
 */
import { readBatchHeader, decodeSection, corruptBatch, type BatchHeader } from '../batch-format.js';
import { readColumnHeader, type ColumnHeader } from '../codecs/index.js';
import type { FloatValues, IntValues, RangeOp, StreamAt } from '../codecs/index.js';
import { scatter } from '../codecs/values.js';
import { takeRows, type Column, type PgType } from '../columns.js';
import type { Manifest } from '../manifest.js';
import type { ColumnStore, ReadPlan } from '../store.js';
import type { EncodedColumn, KernelValues } from './backend.js';

type Scratch = { type: PgType; values: KernelValues; view?: KernelValues };

/**
 * Encoded columns already located in a batch object, by column index: a repeated query (the batch
 * cache keeps the objects) parses neither the batch header nor the column headers again. Entries
 * go with their batch object.
 */
const located = new WeakMap<Uint8Array, Array<EncodedColumn | undefined>>();

function alloc(type: PgType, n: number): KernelValues {
  switch (type) {
    case 'float8':
      return new Float64Array(n);
    case 'float4':
      return new Float32Array(n);
    case 'int4':
    case 'date':
      return new Int32Array(n);
    case 'int2':
      return new Int16Array(n);
    default:
      return new BigInt64Array(n);
  }
}

export class BatchColumns {
  private readonly scratch = new Map<string, Scratch>();
  /** Arrays for the values of the rows readAt keeps (apart: the full ones may be the filter's). */
  private readonly keptScratch = new Map<string, Scratch>();
  private zeroTimes = new BigInt64Array(0);
  private upcoming: ReadPlan | undefined;

  constructor(
    private readonly store: ColumnStore,
    private readonly manifest: Manifest,
    /** Types decoded into reused arrays; others go through decodeSection. */
    private readonly numeric: ReadonlySet<PgType>,
  ) {}

  /** The batches about to be read, in order: a batch not cached is read with its planned neighbours (ColumnStore.planReads). */
  plan(batchNos: readonly number[]): this {
    this.upcoming = this.store.planReads(this.manifest, batchNos);
    return this;
  }

  /** The batch read last, and its header. */
  private last: { batchNo: number; bytes: Uint8Array; header: BatchHeader } | undefined;

  /** The named columns of batch `batchNo` (valid until the next call). */
  async read(batchNo: number, names: readonly string[]): Promise<Map<string, Column>> {
    return this.readRows(batchNo, names, undefined);
  }

  /**
   * The named columns of batch `batchNo` at the rows `rows` only (ascending): value j of each is
   * row rows[j] (valid until the next call). NULL-free numeric columns decode just those rows'
   * values; the others are decoded whole and then taken.
   */
  async readAt(batchNo: number, names: readonly string[], rows: Uint32Array): Promise<Map<string, Column>> {
    return this.readRows(batchNo, names, rows);
  }

  /**
   * Filters batch `batchNo` by `name op x` (a NULL-free float column, x not NaN) as it decodes it:
   * the rows kept and the column at those rows only (valid until the next call); undefined when
   * the column holds NULLs or is not a float (the caller decodes and filters it itself).
   */
  async filterAt(batchNo: number, name: string, op: RangeOp, x: number): Promise<{ rows: Uint32Array; column: Column } | undefined> {
    const m = this.manifest;
    const index = this.indexOf(name);
    const type = m.columns[index]!.type;
    if (type !== 'float8' && type !== 'float4') return undefined;
    const rows = m.batches[batchNo]!.rows;
    const { bytes, header } = await this.batch(batchNo);
    if (header.columns[index]!.type !== type) throw corruptBatch('column types differ from the manifest');
    const { section, h } = sectionOf(bytes, header, index, rows);
    if (h.nulls) return undefined;
    const values = this.buffer(name, type, rows) as FloatValues;
    if (this.selection.length < rows) this.selection = new Uint32Array(Math.max(rows, 1024));
    const { count, used } = this.store.backend.decodeFloatsWhere(section, h.bodyOffset, rows, op, x, this.selection, values);
    const end = h.bodyOffset + used;
    if (end !== section.length) throw corruptBatch(`${section.length - end} trailing bytes`);
    return { rows: this.selection.subarray(0, count), column: { type, values: values.subarray(0, count), nulls: null } as Column };
  }

  /** filterAt's row numbers. */
  private selection = new Uint32Array(0);

  /** Batch `batchNo`'s object and header (a scan reads a batch in two or three calls: kept from the last). */
  private async batch(batchNo: number): Promise<{ bytes: Uint8Array; header: BatchHeader }> {
    const m = this.manifest;
    const rows = m.batches[batchNo]!.rows;
    let last = this.last;
    if (last?.batchNo !== batchNo) {
      const bytes = await this.store.batchObject(m, batchNo, this.upcoming);
      const header = readBatchHeader(bytes);
      if (header.rows !== rows || header.columns.length !== m.columns.length) throw corruptBatch('row or column count differs from the manifest');
      this.last = last = { batchNo, bytes, header };
    }
    return last;
  }

  private async readRows(batchNo: number, names: readonly string[], at: Uint32Array | undefined): Promise<Map<string, Column>> {
    const m = this.manifest;
    const rows = m.batches[batchNo]!.rows;
    const { bytes, header } = await this.batch(batchNo);
    const out = new Map<string, Column>();
    // With `at`, the NULL-free 64-bit and float4 columns are decoded together (one call).
    const many: StreamAt[] = [];
    const manyColumns: Array<{ name: string; type: PgType; section: Uint8Array; bodyOffset: number }> = [];
    for (const name of names) {
      const index = this.indexOf(name);
      const type = m.columns[index]!.type;
      if (header.columns[index]!.type !== type) throw corruptBatch('column types differ from the manifest');
      if (!this.numeric.has(type)) {
        const whole = decodeSection(this.store.backend, bytes, header, index);
        out.set(name, at ? takeRows(whole, at) : whole);
        continue;
      }
      const { section, h } = sectionOf(bytes, header, index, rows);
      if (at && !h.nulls && WIDE.has(type)) {
        const kept = this.buffer(name, type, at.length, this.keptScratch);
        many.push(type === 'float8' || type === 'float4' ? { bytes: section, offset: h.bodyOffset, float: true, out: kept as FloatValues } : { bytes: section, offset: h.bodyOffset, float: false, out: kept as BigInt64Array });
        manyColumns.push({ name, type, section, bodyOffset: h.bodyOffset });
      } else out.set(name, this.decodeNumeric(section, h, name, type, rows, at));
    }
    if (many.length > 0) {
      const used = this.used;
      this.store.backend.decodeManyAt(many, rows, at!, used);
      for (let i = 0; i < many.length; i++) {
        const { name, type, section, bodyOffset } = manyColumns[i]!;
        const end = bodyOffset + used[i]!;
        if (end !== section.length) throw corruptBatch(`${section.length - end} trailing bytes`);
        out.set(name, { type, values: many[i]!.out, nulls: null } as Column);
      }
    }
    return out;
  }

  /** Bytes used per stream by the last decodeManyAt. */
  private readonly used: number[] = [];

  /**
   * The named numeric columns of batch `batchNo` still encoded (value stream and NULL bitmap), for
   * a backend that decodes them itself; the same checks as `read`.
   */
  async encoded(batchNo: number, names: readonly string[]): Promise<Map<string, EncodedColumn>> {
    const list = await this.encodedInto(batchNo, names, []);
    return new Map(names.map((name, i) => [name, list[i]!]));
  }

  /** `encoded` into `out` (out[i] is names[i]; no Map per batch), which it returns. */
  async encodedInto(batchNo: number, names: readonly string[], out: EncodedColumn[]): Promise<EncodedColumn[]> {
    const m = this.manifest;
    const bytes = await this.store.batchObject(m, batchNo, this.upcoming);
    const rows = m.batches[batchNo]!.rows;
    let known = located.get(bytes);
    if (!known) located.set(bytes, (known = []));
    let header: BatchHeader | undefined;
    for (let i = 0; i < names.length; i++) {
      const index = this.indexOf(names[i]!);
      const type = m.columns[index]!.type;
      const seen = known[index];
      // Located before, with the same row count and type: the checks below passed then.
      if (seen && seen.rows === rows && seen.type === type) {
        out[i] = seen;
        continue;
      }
      if (!header) {
        header = readBatchHeader(bytes);
        if (header.rows !== rows || header.columns.length !== m.columns.length) throw corruptBatch('row or column count differs from the manifest');
      }
      const { offset, length, type: stored } = header.columns[index]!;
      if (stored !== type) throw corruptBatch('column types differ from the manifest');
      const section = bytes.subarray(offset, offset + length);
      const h = readColumnHeader(section);
      if (h.count !== rows) throw corruptBatch(`a column of ${h.count} values in a batch of ${rows} rows`);
      const nonNull = h.count - h.nullCount;
      // An all-NULL column ends at its codec byte; otherwise the stream runs to the section's end.
      if (nonNull === 0 && h.bodyOffset + 1 !== section.length) throw corruptBatch(`${section.length - h.bodyOffset - 1} trailing bytes`);
      const column: EncodedColumn = { type, stream: section.subarray(h.bodyOffset), rows, nonNull, nulls: h.nulls };
      known[index] = column;
      out[i] = column;
    }
    out.length = names.length;
    return out;
  }

  private readonly indexes = new Map<string, number>();

  /** The manifest's index of column `name`. */
  private indexOf(name: string): number {
    let index = this.indexes.get(name);
    if (index === undefined) this.indexes.set(name, (index = this.manifest.columns.findIndex((c) => c.name === name)));
    return index;
  }

  /** n zero times: slots for a batch whose rows are all kept in one bucket, without decoding time. */
  zeros(n: number): BigInt64Array {
    if (this.zeroTimes.length < n) this.zeroTimes = new BigInt64Array(Math.max(n, 1024));
    return this.zeroTimes.subarray(0, n);
  }

  private buffer(name: string, type: PgType, n: number, scratch = this.scratch): KernelValues {
    let s = scratch.get(name);
    if (!s || s.values.length < n) scratch.set(name, (s = { type, values: alloc(type, Math.max(n, 1024)) }));
    // Batches mostly hold the same number of rows: their view of the array is made once.
    if (s.view?.length !== n) s.view = s.values.subarray(0, n) as KernelValues;
    return s.view;
  }

  private decodeNumeric(section: Uint8Array, h: ColumnHeader, name: string, type: PgType, rows: number, at: Uint32Array | undefined): Column {
    const nonNull = h.count - h.nullCount;
    const float = type === 'float4' || type === 'float8';
    const backend = this.store.backend;
    let end = section.length;
    if (at && !h.nulls) {
      // Only the kept rows' values.
      const kept = this.buffer(name, type, at.length, this.keptScratch);
      end = h.bodyOffset + (float ? backend.decodeFloatsAt(section, h.bodyOffset, rows, at, kept as FloatValues) : backend.decodeIntsAt(section, h.bodyOffset, rows, at, kept as IntValues));
      if (end !== section.length) throw corruptBatch(`${section.length - end} trailing bytes`);
      return { type, values: kept, nulls: null } as Column;
    }
    const full = this.buffer(name, type, rows);
    if (nonNull === 0) full.fill((full instanceof BigInt64Array ? 0n : 0) as never);
    else {
      // With NULLs the stream holds only the non-NULL values: decode compactly, then spread.
      const target = h.nulls ? alloc(type, nonNull) : full;
      end = h.bodyOffset + (float ? backend.decodeFloats(section, h.bodyOffset, target as FloatValues) : backend.decodeInts(section, h.bodyOffset, target as IntValues));
      if (h.nulls) full.set(scatter(target, h.nulls, rows) as never);
    }
    if (end !== section.length) throw corruptBatch(`${section.length - end} trailing bytes`);
    const column = { type, values: full, nulls: h.nulls } as Column;
    return at ? takeRows(column, at) : column;
  }
}

/** Types decoded to int64 or float slots, which decodeManyAt takes. */
const WIDE: ReadonlySet<PgType> = new Set(['float8', 'float4', 'int8', 'timestamptz', 'timestamp']);

/** Column `index`'s section of a batch object and its header, checked against the batch's rows. */
function sectionOf(bytes: Uint8Array, header: BatchHeader, index: number, rows: number): { section: Uint8Array; h: ColumnHeader } {
  const { offset, length } = header.columns[index]!;
  const section = bytes.subarray(offset, offset + length);
  const h = readColumnHeader(section);
  if (h.count !== rows) throw corruptBatch(`a column of ${h.count} values in a batch of ${rows} rows`);
  return { section, h };
}
