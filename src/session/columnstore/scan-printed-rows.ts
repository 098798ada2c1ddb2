/**
 * @module session/columnstore/scan-printed-rows
 * The scan's output when Orbit can give the compressed rows exactly as PostgreSQL would
 * (docs/guides/planner.md, "Printed rows"): DataRow messages in text format for the wire, or the
 * JS values PGlite's type parsers would give for the in-process `query()`. The statement itself
 * then runs as written on the rowstore's rows, and these rows are appended to its result.
 */
import type { Column, PgType } from '../../columnstore/columns.js';
import type { Manifest } from '../../columnstore/manifest.js';
import { DataRowWriter } from '../../columnstore/data-rows.js';
import { formatterOf, TEXT_OUTPUT_TYPES, TYPE_OIDS, UTC_ZONES, type Formatter, type ValueOf } from '../../columnstore/pg-text.js';
import { ObjectRows } from '../../columnstore/row-objects.js';
import type { ScanPlan } from '../../sql/planner/scan.js';
import { BackendMessage } from '../../wire/protocol/message-codes.js';

/** Printed compressed rows and the RowDescription they fit (names and type oids, text format). */
export interface PrintedRows {
  /** DataRow messages, in pieces (concatenated once, with the rest of the result). */
  readonly messages: readonly Uint8Array[];
  /** Instead of `messages`, when the caller asked for JS values: the rows as objects. */
  readonly objects?: ReadonlyArray<Record<string, unknown>>;
  readonly count: number;
  readonly names: readonly string[];
  readonly types: readonly number[];
}


/**
 * A statement's output with printed rows, in parts of whole messages: PostgreSQL's messages up to
 * its CommandComplete (`head`), Orbit's DataRows and the CommandComplete counting them too (`rows`:
 * nothing else), and PostgreSQL's messages after it (`tail`: ReadyForQuery, notices).
 */
export interface PrintedOutput {
  readonly head: Uint8Array;
  readonly rows: readonly Uint8Array[];
  readonly tail: Uint8Array;
}

/**
 * The formatters of the statement's output columns when every value can be printed as PostgreSQL
 * would under the session's settings (extra_float_digits, DateStyle, TimeZone, client_encoding);
 * undefined otherwise (the rows then go through PostgreSQL).
 */
export function directFormats(plan: ScanPlan, settings: readonly string[], generated: ReadonlySet<string>, manifests: readonly Manifest[]): Formatter[] | undefined {
  const [extraFloatDigits, dateStyle, timeZone, clientEncoding] = settings;
  if (!plan.output || Number(extraFloatDigits) <= 0 || !/^ISO\b/.test(dateStyle ?? '') || clientEncoding !== 'UTF8') return undefined;
  const out: Formatter[] = [];
  for (const c of plan.output) {
    const type = c.typname as PgType;
    if (!TEXT_OUTPUT_TYPES.has(type) || generated.has(c.name)) return undefined;
    if (type === 'timestamptz' && !UTC_ZONES.has(timeZone ?? '')) return undefined;
    // The batches must hold the column as that type (not, say, as opaque bytes).
    if (manifests.some((m) => m.columns.find((x) => x.name === c.name)?.type !== type)) return undefined;
    out.push(formatterOf(type)!);
  }
  return out;
}

/**
 * Collects a scan's rows as DataRows (wire) or row objects (in-process, `values` converting each
 * output column's text as the row store's parsers would), one writer per set of batch columns.
 */
export class PrintedRowsSink {
  private readonly printed = new Map<string, DataRowWriter>();
  private readonly objects = new Map<string, ObjectRows>();
  private readonly converters: ValueOf[] | undefined;
  private passed = 0;

  constructor(
    private readonly plan: ScanPlan,
    private readonly formats: readonly Formatter[],
    values: ((oid: number) => ValueOf) | undefined,
  ) {
    this.converters = values ? plan.output!.map((c) => values(TYPE_OIDS[c.typname]!)) : undefined;
  }

  /**
   * Appends `count` rows of a batch: `rows` (undefined: all) of its decoded columns; constant
   * columns are read at row 0 only (one row is enough).
   */
  append(key: string, column: (name: string) => Column, constant: (name: string) => boolean, rows: Uint32Array | undefined, count: number): void {
    const output = this.plan.output!;
    const columns = output.map((c) => column(c.name));
    const constants = output.map((c) => constant(c.name));
    if (this.converters) {
      let out = this.objects.get(key);
      if (!out) this.objects.set(key, (out = new ObjectRows(this.plan.outputNames!)));
      out.append(columns, this.formats, this.converters, rows, count, constants);
    } else {
      let out = this.printed.get(key);
      if (!out) this.printed.set(key, (out = new DataRowWriter(1 << 20)));
      out.append(columns, this.formats, rows, count, constants);
    }
    this.passed += count;
  }

  finish(): PrintedRows {
    const printed = [...this.printed.values()];
    return {
      messages: printed.flatMap((w) => w.bytes()),
      ...(this.converters ? { objects: this.objects.size === 1 ? [...this.objects.values()][0]!.rows : [...this.objects.values()].flatMap((o) => o.rows) } : {}),
      count: this.converters ? this.passed : printed.reduce((n, w) => n + w.rows, 0),
      names: this.plan.outputNames!,
      types: this.plan.output!.map((c) => TYPE_OIDS[c.typname]!),
    };
  }
}

/**
 * `out` (the backend's messages for a lone SELECT run as written) with the printed rows added after
 * its own (the order of the general path's rowstore-then-temporary-table scan) and its command tag
 * counting them, in parts; `out` unchanged when it holds an error; undefined when its RowDescription is not
 * the one the rows were printed for (the caller then takes the general path).
 */
export function appendRows(out: Uint8Array, rows: PrintedRows): Uint8Array | PrintedOutput | undefined {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let described = false;
  let complete = -1;
  let completeEnd = -1;
  for (let pos = 0; pos + 5 <= out.length; ) {
    const type = out[pos]!;
    const end = pos + 1 + view.getInt32(pos + 1);
    if (type === BackendMessage.ErrorResponse) return out;
    if (type === BackendMessage.RowDescription) {
      if (described || !describes(out.subarray(pos + 5, end), rows)) return undefined;
      described = true;
    } else if (type === BackendMessage.CommandComplete) {
      if (complete >= 0) return undefined;
      complete = pos;
      completeEnd = end;
    }
    pos = end;
  }
  if (!described || complete < 0) return undefined;
  const tag = new TextDecoder('utf-8', { ignoreBOM: true }).decode(out.subarray(complete + 5, completeEnd - 1));
  const m = /^SELECT (\d+)$/.exec(tag);
  if (!m) return undefined;
  const newTag = new TextEncoder().encode(`SELECT ${Number(m[1]) + rows.count}\0`);
  const tagMessage = new Uint8Array(5 + newTag.length);
  tagMessage[0] = BackendMessage.CommandComplete;
  new DataView(tagMessage.buffer).setInt32(1, 4 + newTag.length);
  tagMessage.set(newTag, 5);
  // Not concatenated: a result of 40 K rows is megabytes, sent as the pieces they were printed in.
  return { head: out.subarray(0, complete), rows: [...rows.messages, tagMessage], tail: out.subarray(completeEnd) };
}

/** Whether a RowDescription's body is the one `rows` were printed for (names, type oids, text format). */
export function describes(body: Uint8Array, rows: PrintedRows): boolean {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const n = view.getInt16(0);
  if (n !== rows.names.length) return false;
  let p = 2;
  for (let i = 0; i < n; i++) {
    const zero = body.indexOf(0, p);
    const name = new TextDecoder('utf-8', { ignoreBOM: true }).decode(body.subarray(p, zero));
    // Table oid (4), column number (2), type oid (4), type size (2), modifier (4), format (2).
    if (name !== rows.names[i] || view.getInt32(zero + 7) !== rows.types[i] || view.getInt16(zero + 17) !== 0) return false;
    p = zero + 19;
  }
  return true;
}
