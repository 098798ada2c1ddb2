/**
 * @module session/copy-chunks
 * Chunks for a COPY into a hypertable, created before each piece is sent. Without this, every row of
 * a bulk load into new time ranges would land in the default partition and be moved into its chunk
 * afterwards (written twice; docs/design/hypertables-rowstore.md). Orbit reads the time column of each
 * piece (text, CSV or binary), and the extension's `create_chunks_for_values` casts the distinct
 * values with the session's own settings, exactly as the COPY will, and creates the missing chunks.
 * Anything this reader cannot read plainly (escapes, non-ASCII bytes, unusual types) is skipped:
 * the default-partition fix-up stays the safety net, so a skip costs speed, never correctness. Only the
 * time column matters, also with a space dimension: a new time slice is created with all its chunks.
 */
import { readDataRow, scanBackend } from '../wire/protocol/backend.js';
import { BackendMessage } from '../wire/protocol/message-codes.js';
import type { CopyFormat } from './copy-in.js';
import { asBackendRole } from './roles.js';
import { escapeLiteral, simpleQuery } from './settings.js';

type Run = (messages: Uint8Array) => Promise<Uint8Array>;

const NL = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
const FUNCTIONS = '_timescaledb_functions';

/** The hypertable a COPY writes to, and where its time values sit in each row. */
interface Target {
  readonly relid: string;
  /** Zero-based field of the time column in each row. */
  readonly field: number;
  readonly type: string;
}

export class CopyChunks {
  private target: Target | null | undefined;

  constructor(
    private readonly node: Record<string, unknown>,
    private readonly format: CopyFormat,
  ) {}

  /** Creates the chunks the rows of `piece` need. `first`: the piece starts the stream (header, binary signature). */
  async beforePiece(piece: Uint8Array, first: boolean, run: Run): Promise<void> {
    if (this.target === undefined) this.target = await this.lookUp(run);
    if (this.target === null) return;
    const values = this.format.kind === 'binary' ? binaryTimeValues(piece, this.target, first) : textTimeValues(piece, this.format, this.target.field, first && this.format.header);
    if (values === undefined || values.size === 0) return;
    // As the backend's role, whose alone the function is (catalog/extension/privileges.ts).
    await guarded(run, asBackendRole(`SELECT ${FUNCTIONS}.create_chunks_for_values(${this.target.relid}::pg_catalog.regclass, ${textArrayLiteral(values)})`));
  }

  /** The hypertable and time field of this COPY, or null when there is nothing to pre-create. */
  private async lookUp(run: Run): Promise<Target | null> {
    // COPY … WHERE may drop rows: chunks made for them would stay empty, which TimescaleDB never does.
    if (this.node.whereClause !== undefined) return null;
    const relation = this.node.relation as { schemaname?: string; relname: string } | undefined;
    if (!relation) return null;
    const name = relation.schemaname ? `${quoteIdent(relation.schemaname)}.${quoteIdent(relation.relname)}` : quoteIdent(relation.relname);
    const attlist = (this.node.attlist as Array<{ String: { sval: string } }> | undefined)?.map((a) => a.String.sval);
    // COPY without a column list reads every column but generated ones, in order.
    const columns = attlist
      ? `${textArrayLiteral(attlist)}::pg_catalog.name[]`
      : `(SELECT pg_catalog.array_agg(a.attname ORDER BY a.attnum) FROM pg_catalog.pg_attribute a
           WHERE a.attrelid = h.relid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '')`;
    const sql = `SELECT h.relid::pg_catalog.oid::pg_catalog.text, pg_catalog.array_position(${columns}, d.column_name), d.column_type::pg_catalog.oid::pg_catalog.text
      FROM _timescaledb_catalog.hypertable h JOIN _timescaledb_catalog.dimension d ON d.hypertable_id = h.id AND d.interval_length IS NOT NULL
      WHERE h.relid = pg_catalog.to_regclass(${escapeLiteral(name)})`;
    const out = await guarded(run, sql);
    const row = out && scanBackend(out).find((f) => f.type === BackendMessage.DataRow);
    if (!row) return null;
    const [relid, position, typeOid] = readDataRow(out.subarray(row.start + 5, row.end));
    if (!relid || !position || !typeOid) return null;
    return { relid, field: Number(position) - 1, type: TYPE_NAMES[Number(typeOid)] ?? 'other' };
  }
}

/**
 * Runs `sql` inside a savepoint of the COPY's transaction, so that a failure (say, the extension was
 * dropped under a stale cache) only skips pre-creation instead of aborting the COPY. Undefined on error.
 */
async function guarded(run: Run, sql: string): Promise<Uint8Array | undefined> {
  const out = await run(simpleQuery(`SAVEPOINT orbit_copy_chunks; ${sql}; RELEASE SAVEPOINT orbit_copy_chunks`));
  if (!scanBackend(out).some((f) => f.type === BackendMessage.ErrorResponse)) return out;
  await run(simpleQuery('ROLLBACK TO SAVEPOINT orbit_copy_chunks; RELEASE SAVEPOINT orbit_copy_chunks'));
  return undefined;
}

/** Built-in time column types by OID (pg_type.dat). */
const TYPE_NAMES: Record<number, string> = { 21: 'int2', 23: 'int4', 20: 'int8', 1082: 'date', 1114: 'timestamp', 1184: 'timestamptz' };

/**
 * The distinct values of field `field` in the rows of a text or CSV piece, or undefined when one of
 * them cannot be read without COPY's full decoding (text escapes, non-ASCII bytes).
 */
export function textTimeValues(piece: Uint8Array, format: CopyFormat, field: number, skipHeader: boolean): Set<string> | undefined {
  const values = new Set<string>();
  const csv = format.kind === 'csv';
  let pos = 0;
  if (skipHeader) {
    const end = endOfRow(piece, 0, format);
    pos = end < 0 ? piece.length : end + 1;
  }
  // Consecutive rows usually share a time (one row per device per instant): compare bytes before decoding.
  let prevStart = -1;
  let prevEnd = -1;
  while (pos < piece.length) {
    // Skip to the wanted field.
    let p = pos;
    for (let f = 0; f < field; f++) {
      p = endOfField(piece, p, format);
      // Fewer fields than expected: the COPY will report it.
      if (p < 0 || p >= piece.length || piece[p - 1] === NL) return undefined;
    }
    let start = p;
    let end = endOfField(piece, p, format) - 1; // the delimiter or newline after the field
    if (end < 0) end = piece.length;
    if (end > start && piece[end - 1] === CR) end--;
    let quoted = false;
    if (csv && piece[start] === format.quote) {
      quoted = true;
      start++;
      end--;
    }
    if (quoted || !matches(piece, start, end, format.nullString)) {
      if (prevStart < 0 || !sameBytes(piece, start, end, prevStart, prevEnd)) {
        const text = csv ? asciiValue(piece, start, end, format.quote, format.escape) : asciiValue(piece, start, end, BACKSLASH, BACKSLASH);
        if (text === undefined) return undefined;
        values.add(text);
        prevStart = start;
        prevEnd = end;
      }
    }
    const rowEnd = endOfRow(piece, pos, format);
    if (rowEnd < 0) break;
    pos = rowEnd + 1;
  }
  return values;
}

/**
 * The offset just past the delimiter that ends the field starting at `p` (or just past the newline
 * ending the row, so callers see `piece[result - 1] === NL`), or -1 at the end of the piece.
 */
function endOfField(piece: Uint8Array, p: number, format: CopyFormat): number {
  const delimiter = format.delimiter;
  if (format.kind === 'csv') {
    let inQuotes = false;
    for (let i = p; i < piece.length; i++) {
      const c = piece[i]!;
      if (inQuotes) {
        if (c === format.escape && format.escape !== format.quote && i + 1 < piece.length) i++;
        else if (c === format.quote) {
          if (format.escape === format.quote && piece[i + 1] === format.quote) i++;
          else inQuotes = false;
        }
      } else if (c === format.quote) inQuotes = true;
      else if (c === delimiter || c === NL) return i + 1;
    }
    return -1;
  }
  for (let i = p; i < piece.length; i++) {
    const c = piece[i]!;
    if (c === BACKSLASH) i++;
    else if (c === delimiter || c === NL) return i + 1;
  }
  return -1;
}

/** Offset of the newline ending the row that starts at `p`, or -1. */
function endOfRow(piece: Uint8Array, p: number, format: CopyFormat): number {
  let i = p;
  for (;;) {
    const next = endOfField(piece, i, format);
    if (next < 0) return -1;
    if (piece[next - 1] === NL) return next - 1;
    i = next;
  }
}

function matches(piece: Uint8Array, start: number, end: number, text: string): boolean {
  if (end - start !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (piece[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

function sameBytes(piece: Uint8Array, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false;
  for (let i = 0; i < aEnd - a; i++) if (piece[a + i] !== piece[b + i]) return false;
  return true;
}

/** The field as a string if it is printable ASCII without the format's quote or escape bytes. */
function asciiValue(piece: Uint8Array, start: number, end: number, quote: number, escape: number): string | undefined {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = piece[i]!;
    if (c < 0x20 || c > 0x7e || c === quote || c === escape) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}

const MICROS_2000 = 946_684_800_000_000n; // 2000-01-01 in µs since the Unix epoch
const DAYS_2000 = 10_957;
const MIN_MS = -62_135_596_800_000; // 0001-01-01
const MAX_MS = 253_402_300_799_999; // 9999-12-31 23:59:59.999

/** The distinct time values of a binary COPY piece as PostgreSQL text input, or undefined. */
export function binaryTimeValues(piece: Uint8Array, target: Pick<Target, 'field' | 'type'>, first: boolean): Set<string> | undefined {
  const view = new DataView(piece.buffer, piece.byteOffset, piece.byteLength);
  let pos = 0;
  if (first) {
    if (piece.length < 19) return undefined;
    pos = 19 + view.getInt32(15);
  }
  const values = new Set<string>();
  while (pos + 2 <= piece.length) {
    const fields = view.getInt16(pos);
    if (fields < 0) break;
    pos += 2;
    for (let f = 0; f < fields; f++) {
      if (pos + 4 > piece.length) return undefined;
      const len = view.getInt32(pos);
      pos += 4;
      if (f === target.field && len >= 0) {
        const text = binaryValueText(view, pos, len, target.type);
        if (text === undefined) return undefined;
        values.add(text);
      }
      pos += Math.max(len, 0);
    }
  }
  return values;
}

function binaryValueText(view: DataView, pos: number, len: number, type: string): string | undefined {
  switch (type) {
    case 'int2':
      return len === 2 ? String(view.getInt16(pos)) : undefined;
    case 'int4':
      return len === 4 ? String(view.getInt32(pos)) : undefined;
    case 'int8':
      return len === 8 ? String(view.getBigInt64(pos)) : undefined;
    case 'date': {
      if (len !== 4) return undefined;
      const ms = (view.getInt32(pos) + DAYS_2000) * 86_400_000;
      return ms >= MIN_MS && ms <= MAX_MS ? new Date(ms).toISOString().slice(0, 10) : undefined;
    }
    case 'timestamp':
    case 'timestamptz': {
      if (len !== 8) return undefined;
      const us = view.getBigInt64(pos) + MICROS_2000;
      const ms = Number(us / 1000n) - (us % 1000n < 0n ? 1 : 0);
      if (ms < MIN_MS || ms > MAX_MS) return undefined; // infinities and years outside 1–9999
      const micros = String(Number(((us % 1_000_000n) + 1_000_000n) % 1_000_000n)).padStart(6, '0');
      const iso = new Date(ms).toISOString();
      return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${micros}${type === 'timestamptz' ? '+00' : ''}`;
    }
    default:
      return undefined;
  }
}

/** A text[] literal that reads the same whatever standard_conforming_strings is. */
function textArrayLiteral(values: Iterable<string>): string {
  const items: string[] = [];
  for (const v of values) items.push(`"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`);
  return `${escapeLiteral(`{${items.join(',')}}`)}::pg_catalog.text[]`;
}


function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
