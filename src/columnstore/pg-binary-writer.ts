/**
 * @module columnstore/pg-binary-writer
 * Typed columns written as PostgreSQL's binary COPY format (the layout is in pg-binary.ts): how
 * decoded batches go back to PostgreSQL, `COPY tmp FROM STDIN (FORMAT binary)` (cache tables,
 * scans' temporary tables).
 */
import { orbitError } from '../errors.js';
import { columnLength, type Column } from './columns.js';
import { isNull } from './codecs/values.js';
import { numericTextToBinary } from './numeric-text.js';
import { bytesOf, FIXED_SIZE, JSONB_VERSION, SIGNATURE, swap } from './pg-binary.js';

const encoder = new TextEncoder();

/** Growable big-endian byte buffer. */
class CopyWriter {
  buf: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(size = 1 << 16) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** A field of variable length: its int32 length and bytes. */
  field(bytes: Uint8Array): void {
    this.reserve(4 + bytes.length);
    this.view.setInt32(this.pos, bytes.length);
    this.buf.set(bytes, this.pos + 4);
    this.pos += 4 + bytes.length;
  }

  /** A text field, UTF-8 encoded straight into the buffer. */
  text(s: string, prefix?: number): void {
    const extra = prefix === undefined ? 0 : 1;
    this.reserve(4 + extra + s.length * 3);
    let at = this.pos + 4;
    if (prefix !== undefined) this.buf[at++] = prefix;
    const { written } = encoder.encodeInto(s, this.buf.subarray(at));
    this.view.setInt32(this.pos, written + extra);
    this.pos = at + written;
  }
}

/**
 * Binary COPY bytes built from several sets of columns (e.g. one per batch) of the same types, with
 * one header and one trailer: the scan path hands all its batches to PostgreSQL in one COPY.
 */
export class CopyBinaryWriter {
  private readonly w: CopyWriter;
  private done = false;

  constructor(sizeHint = 1 << 16) {
    this.w = new CopyWriter(Math.max(64, sizeHint));
    this.w.buf.set(SIGNATURE, 0);
    this.w.pos = 19; // flags 0, no header extension
  }

  /**
   * Appends rows. Without `selection`, every row of `columns` (all of the same length). With it,
   * the rows it lists (ascending indices into a batch): each column then holds either one value
   * per row of the batch, read at the listed indices, or exactly one per listed row (a constant
   * column made for them), read in order. The scan path appends only the rows its filters accept
   * without first copying them out of the decoded columns.
   */
  append(columns: readonly Column[], selection?: Uint32Array): void {
    if (this.done) throw new Error('CopyBinaryWriter: append after finish');
    if (columns.length > 0x7fff) throw orbitError('program_limit_exceeded', 'binary COPY holds at most 32767 columns');
    const rows = selection ? selection.length : columns.length ? columnLength(columns[0]!) : 0;
    const lengths = columns.map(columnLength);
    const batch = selection ? lengths.find((n) => n !== rows) ?? rows : rows;
    if (lengths.some((n) => n !== rows && n !== batch)) throw orbitError('invalid_parameter_value', 'columns differ in length');
    if (selection && selection.length > 0 && selection[selection.length - 1]! >= batch) throw orbitError('invalid_parameter_value', 'selection past the batch');
    // Per column: whether it is read at the selection's indices (else at the row's position).
    const indexed = lengths.map((n) => selection !== undefined && n !== rows);
    const w = this.w;
    const raw = columns.map((c) => (ArrayBuffer.isView(c.values) ? bytesOf(c.values) : null));
    const fixedSize = columns.map((c) => FIXED_SIZE[c.type]);
    // The last text value of each column and where its UTF-8 bytes are in the buffer (offsets stay
    // valid when it grows): repeated values (tags, dictionary entries, a batch's constant columns)
    // are copied instead of encoded again.
    const lastText: Array<string | undefined> = columns.map(() => undefined);
    const lastAt = new Int32Array(columns.length);
    const lastLen = new Int32Array(columns.length);
    // The fixed-size part of every row at once.
    const fixedRow = 2 + fixedSize.reduce((a, f) => a + 4 + f, 0);
    w.reserve(rows * fixedRow);
    for (let k = 0; k < rows; k++) {
      w.reserve(fixedRow);
      w.view.setInt16(w.pos, columns.length);
      w.pos += 2;
      for (let f = 0; f < columns.length; f++) {
        const c = columns[f]!;
        const row = indexed[f] ? selection![k]! : k;
        if (c.nulls && isNull(c.nulls, row)) {
          w.reserve(4);
          w.view.setInt32(w.pos, -1);
          w.pos += 4;
          continue;
        }
        const fixed = fixedSize[f]!;
        if (fixed) {
          w.view.setInt32(w.pos, fixed);
          const at = w.pos + 4;
          w.pos = at + fixed;
          if (c.type === 'uuid') w.buf.set(c.values.subarray(row * 16, row * 16 + 16), at);
          else if (c.type === 'bool') w.buf[at] = c.values[row]!;
          else swap(raw[f]!, row * fixed, w.buf, at, fixed);
          continue;
        }
        switch (c.type) {
          case 'numeric':
            w.field(numericTextToBinary(c.values[row]!));
            break;
          case 'jsonb':
            w.text(c.values[row]!, JSONB_VERSION);
            break;
          case 'opaque':
            w.field(c.values[row]!);
            break;
          default: {
            const s = (c.values as string[])[row]!;
            if (s === lastText[f]) {
              const len = lastLen[f]!;
              w.reserve(4 + len);
              w.view.setInt32(w.pos, len);
              w.buf.copyWithin(w.pos + 4, lastAt[f]!, lastAt[f]! + len);
              w.pos += 4 + len;
            } else {
              lastAt[f] = w.pos + 4;
              w.text(s);
              lastText[f] = s;
              lastLen[f] = w.pos - lastAt[f]!;
            }
          }
        }
        // Room for the rest of the row's fixed-size fields again (a variable field may have used it).
        w.reserve(fixedRow);
      }
    }
  }

  /** Bytes written so far. */
  get byteLength(): number {
    return this.w.pos;
  }

  /** The bytes, trailer included; the writer takes no more rows. */
  finish(): Uint8Array {
    this.done = true;
    this.w.reserve(2);
    this.w.view.setInt16(this.w.pos, -1);
    this.w.pos += 2;
    return this.w.buf.subarray(0, this.w.pos);
  }
}

/** Writes columns (all of the same length) as binary COPY bytes, header and trailer included. */
export function writeCopyBinary(columns: readonly Column[]): Uint8Array {
  const w = new CopyBinaryWriter();
  w.append(columns);
  return w.finish().slice();
}
