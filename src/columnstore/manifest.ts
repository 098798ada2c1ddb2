/**
 * @module columnstore/manifest
 * The manifest of a compressed chunk (docs/design/columnstore.md, "Manifest object"): the chunk's
 * columns and compression settings, and per batch its row count, object size, segment values,
 * NULL counts, min/max and integer sums. The planner reads it alone to skip batches
 * (`batchesMatching`) and to answer count/min/max without decoding.
 *
 *   u8[2] "OM" | u8 version (1) | varint JSON length | JSON header (UTF-8)
 *   the statistics table: a batch object (batch-format.ts) with one row per batch
 *
 * The statistics are stored as a table of columns, encoded by the same codecs as the data: per-batch
 * minima and maxima of a metric are a slowly changing series, which DECIMAL/PACK encode in a few
 * bytes each. Its columns, in order: rows int4, bytes int4, one per segmentby column (its type),
 * then per data column: NULL count int4, min and max (its type; if `hasMinMax`), sum int8 (if `hasSum`),
 * and (format 2) the version and object number of the batch object, int4 each, and (format 3) the
 * batch's byte offset in that object, int4 (objects are packs of batches, pack-layout.ts; formats 1 and 2
 * had one batch per object, at offset 0).
 */
import { orbitError } from '../errors.js';
import { compareValues } from './compare.js';
import { allocColumn, type Column, type PgType, type Scalar } from './columns.js';
import { decodeBatch, encodeBatch } from './batch-format.js';
import { hasMinMax, hasSum, type BatchStats, type CompressionSettings } from './batch.js';
import type { CodecBackend } from './codecs/index.js';
import { ByteReader, ByteWriter } from './codecs/format.js';

const MAGIC = [0x4f, 0x4d];
/**
 * 2 added per-batch object locations (version, object number), 3 their byte offsets (packs);
 * format 1 and 2 manifests still decode.
 */
export const MANIFEST_FORMAT_VERSION = 3;

export interface ManifestColumn {
  readonly name: string;
  readonly type: PgType;
  /**
   * The hypertable's attnum of the column when the batches were written (absent in manifests written
   * before it was recorded, and by the edge profile): a column dropped and added again under the same
   * name gets another attnum, and the batches' values are not its values.
   */
  readonly attnum?: number;
}

export interface Manifest {
  /** Storage key of this manifest (what the catalog points at). */
  readonly key: string;
  readonly hypertableId: number;
  readonly chunkId: number;
  readonly version: number;
  readonly columns: readonly ManifestColumn[];
  readonly settings: CompressionSettings;
  readonly rowCount: number;
  /** Index = batch number. */
  readonly batches: readonly BatchStats[];
}

interface Header {
  hypertableId: number;
  chunkId: number;
  version: number;
  columns: ManifestColumn[];
  settings: CompressionSettings;
  batchCount: number;
}

function corruptManifest(why: string): Error {
  return orbitError('data_corrupted', `columnstore manifest is malformed: ${why}`);
}

/** A column of `type` holding `values` (null = NULL). */
function columnOf(type: PgType, values: readonly Scalar[]): Column {
  const n = values.length;
  const c = allocColumn(type, n);
  let nulls: Uint8Array | null = null;
  values.forEach((v, i) => {
    if (v === null) {
      (nulls ??= new Uint8Array((n + 7) >> 3))[i >> 3]! |= 1 << (i & 7);
      return;
    }
    if (c.type === 'uuid') c.values.set(v as Uint8Array, i * 16);
    else if (c.type === 'bool') c.values[i] = v ? 1 : 0;
    else (c.values as unknown as Scalar[])[i] = v;
  });
  return { ...c, nulls } as Column;
}

function valuesOf(c: Column, n: number): Scalar[] {
  const out = new Array<Scalar>(n);
  for (let i = 0; i < n; i++) {
    if (c.nulls && (c.nulls[i >> 3]! & (1 << (i & 7))) !== 0) out[i] = null;
    else if (c.type === 'uuid') out[i] = c.values.slice(i * 16, i * 16 + 16);
    else if (c.type === 'bool') out[i] = c.values[i] !== 0;
    else out[i] = (c.values as ArrayLike<Scalar>)[i]!;
  }
  return out;
}

function statsLayout(h: Header, format = MANIFEST_FORMAT_VERSION): PgType[] {
  const types: PgType[] = ['int4', 'int4'];
  for (const s of h.settings.segmentBy) types.push(h.columns.find((c) => c.name === s)!.type);
  for (const c of h.columns) {
    types.push('int4');
    if (hasMinMax(c.type)) types.push(c.type, c.type);
    if (hasSum(c.type)) types.push('int8');
  }
  if (format >= 2) types.push('int4', 'int4');
  if (format >= 3) types.push('int4');
  return types;
}

/** `format`: the current one; older ones only for tests of reading data written before it. */
export function encodeManifest(backend: CodecBackend, m: Omit<Manifest, 'key' | 'rowCount'>, format = MANIFEST_FORMAT_VERSION): Uint8Array {
  if (format < 1 || format > MANIFEST_FORMAT_VERSION) throw orbitError('invalid_parameter_value', `no manifest format ${format}`);
  const header: Header = {
    hypertableId: m.hypertableId,
    chunkId: m.chunkId,
    version: m.version,
    columns: [...m.columns],
    settings: m.settings,
    batchCount: m.batches.length,
  };
  const types = statsLayout(header, format);
  const cols: Scalar[][] = types.map(() => []);
  for (const [no, b] of m.batches.entries()) {
    let k = 0;
    cols[k++]!.push(b.rows);
    cols[k++]!.push(b.bytes);
    for (const v of b.segment) cols[k++]!.push(v);
    m.columns.forEach((c, i) => {
      cols[k++]!.push(b.nullCount[i]!);
      if (hasMinMax(c.type)) {
        cols[k++]!.push(b.min[i]!);
        cols[k++]!.push(b.max[i]!);
      }
      if (hasSum(c.type)) cols[k++]!.push(b.sum[i]!);
    });
    const version = b.source?.version ?? m.version;
    const object = b.source?.no ?? no;
    const offset = b.source?.offset ?? 0;
    if (format < 3 && offset !== 0) throw orbitError('invalid_parameter_value', `manifest format ${format} cannot place a batch at an offset`);
    if (format === 1 && (version !== m.version || object !== no)) throw orbitError('invalid_parameter_value', 'manifest format 1 cannot place a batch in another object');
    if (format >= 2) {
      cols[k++]!.push(version);
      cols[k++]!.push(object);
    }
    if (format >= 3) {
      if (!Number.isSafeInteger(offset) || offset < 0 || offset > 0x7fffffff) throw orbitError('program_limit_exceeded', `batch offset ${offset} does not fit a manifest`);
      cols[k++]!.push(offset);
    }
  }
  const table = encodeBatch(backend, types.map((t, i) => columnOf(t, cols[i]!)));
  const json = new TextEncoder().encode(JSON.stringify(header));
  return new ByteWriter(json.length + table.length + 16)
    .bytes(Uint8Array.from(MAGIC))
    .byte(format)
    .varint(json.length)
    .bytes(json)
    .bytes(table)
    .finish();
}

export function decodeManifest(backend: CodecBackend, bytes: Uint8Array, key: string): Manifest {
  const r = new ByteReader(bytes);
  if (r.byte() !== MAGIC[0] || r.byte() !== MAGIC[1]) throw corruptManifest('bad magic');
  const version = r.byte();
  if (version < 1 || version > MANIFEST_FORMAT_VERSION) throw corruptManifest(`format version ${version}`);
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(r.bytes(r.varint()))) as Header;
  } catch (cause) {
    throw orbitError('data_corrupted', 'columnstore manifest is malformed: header', { cause });
  }
  const types = statsLayout(header, version);
  const table = decodeBatch(backend, bytes.subarray(r.pos), types.map(String), types);
  const n = header.batchCount;
  const cols = table.columns.map((c) => valuesOf(c, n));
  const batches: BatchStats[] = [];
  let rowCount = 0;
  for (let b = 0; b < n; b++) {
    let k = 0;
    const rows = cols[k++]![b] as number;
    const bytesOf = cols[k++]![b] as number;
    const segment = header.settings.segmentBy.map(() => cols[k++]![b]!);
    const nullCount: number[] = [];
    const min: Scalar[] = [];
    const max: Scalar[] = [];
    const sum: (bigint | null)[] = [];
    for (const c of header.columns) {
      nullCount.push(cols[k++]![b] as number);
      min.push(hasMinMax(c.type) ? cols[k++]![b]! : null);
      max.push(hasMinMax(c.type) ? cols[k++]![b]! : null);
      sum.push(hasSum(c.type) ? (cols[k++]![b] as bigint | null) : null);
    }
    rowCount += rows;
    const objectVersion = version >= 2 ? (cols[k++]![b] as number) : header.version;
    const objectNo = version >= 2 ? (cols[k++]![b] as number) : b;
    const offset = version >= 3 ? (cols[k++]![b] as number) : 0;
    const own = objectVersion === header.version && objectNo === b && offset === 0;
    const source = offset === 0 ? { version: objectVersion, no: objectNo } : { version: objectVersion, no: objectNo, offset };
    batches.push({ rows, bytes: bytesOf, segment, nullCount, min, max, sum, ...(own ? {} : { source }) });
  }
  return { key, hypertableId: header.hypertableId, chunkId: header.chunkId, version: header.version, columns: header.columns, settings: header.settings, rowCount, batches };
}

/** A predicate the manifest can test: a comparison with a constant, or a NULL test. */
export type Predicate =
  | { readonly column: string; readonly op: '=' | '<' | '<=' | '>' | '>='; readonly value: Exclude<Scalar, null> }
  | { readonly column: string; readonly op: 'is null' | 'is not null' };

/** Types whose stored order is byte order, not the column's collation: only `=` may exclude. */
const COLLATED: ReadonlySet<PgType> = new Set(['text', 'varchar', 'bpchar', 'name']);

function mayHold(op: Predicate['op'], min: Scalar, max: Scalar, type: PgType, value: Scalar): boolean {
  if (min === null || max === null) return true;
  // Integer times against an integer (most tests): compareValues' order, without its dispatch.
  const ints = typeof min === 'bigint' && typeof max === 'bigint' && typeof value === 'bigint';
  const lo = ints ? (min < value ? -1 : min > value ? 1 : 0) : compareValues(type, min, value);
  const hi = ints ? (max < value ? -1 : max > value ? 1 : 0) : compareValues(type, max, value);
  switch (op) {
    case '=':
      return lo <= 0 && hi >= 0;
    case '<':
      return lo < 0;
    case '<=':
      return lo <= 0;
    case '>':
      return hi > 0;
    default:
      return hi >= 0;
  }
}

/**
 * Batch numbers that may hold rows satisfying every predicate (AND), from the manifest alone.
 * Exact on segment columns; min/max ranges on the others. Comparisons never match NULL.
 * Range predicates on text-like columns never exclude (the batch order is byte order, see
 * compare.ts); nor do comparisons on json, jsonb and opaque columns (only their NULL tests).
 */
export function batchesMatching(m: Manifest, predicates: readonly Predicate[], only?: readonly number[]): number[] {
  const tests = predicates.map((p) => {
    const col = m.columns.findIndex((c) => c.name === p.column);
    if (col < 0) throw orbitError('undefined_column', `column "${p.column}" does not exist`);
    return { p, col, type: m.columns[col]!.type, seg: m.settings.segmentBy.indexOf(p.column) };
  });
  // An equality on a segmentby column picks its batches from the manifest's index; the tests below
  // still run on them.
  // A comparison no batch's range can meet, by the range of the whole chunk: nothing to test.
  for (const { p, col, type, seg } of tests) {
    if (seg >= 0 || !('value' in p) || typeof p.value !== 'bigint' || COLLATED.has(type) || !hasMinMax(type)) continue;
    const range = columnRange(m, col);
    if (range && !mayHold(p.op, range.lo, range.hi, type, p.value)) return [];
  }
  let numbers = only;
  for (const { p, seg } of tests) {
    const hit = seg >= 0 && p.op === '=' ? batchesWithSegment(m, seg, [p.value]) : undefined;
    if (hit) numbers = numbers ? intersect(numbers, hit) : hit;
  }
  const out: number[] = [];
  const check = (no: number): void => {
    const b = m.batches[no]!;
    for (const { p, col, type, seg } of tests) {
      const nulls = b.nullCount[col]!;
      if (p.op === 'is null') {
        if (nulls === 0) return;
        continue;
      }
      if (p.op === 'is not null') {
        if (nulls === b.rows) return;
        continue;
      }
      if (nulls === b.rows) return;
      if ((p.op !== '=' && COLLATED.has(type)) || !hasMinMax(type)) continue;
      const value = (p as { value: Scalar }).value;
      if (seg >= 0) {
        if (!mayHold(p.op, b.segment[seg]!, b.segment[seg]!, type, value)) return;
      } else if (!mayHold(p.op, b.min[col]!, b.max[col]!, type, value)) return;
    }
    out.push(no);
  };
  if (numbers) for (const no of numbers) check(no);
  else for (let no = 0; no < m.batches.length; no++) check(no);
  return out;
}

/** Per manifest (immutable once written; cached by its versioned key) and column: see columnRange. */
const columnRanges = new WeakMap<Manifest, Array<{ lo: bigint; hi: bigint } | null | undefined>>();

/**
 * The least minimum and greatest maximum of an int64-held column (int8, timestamps) over the
 * manifest's batches that hold a non-NULL value; null when a batch's statistics are not int64 or
 * no batch has a value. Every batch's min/max lie inside it, so a comparison it cannot meet no
 * batch meets: a chunk wholly outside a time range costs one test, not one per batch.
 */
export function columnRange(m: Manifest, col: number): { lo: bigint; hi: bigint } | null {
  let ranges = columnRanges.get(m);
  if (!ranges) columnRanges.set(m, (ranges = []));
  let range = ranges[col];
  if (range === undefined) {
    let lo: bigint | undefined;
    let hi: bigint | undefined;
    let ok = true;
    for (const b of m.batches) {
      if (b.nullCount[col] === b.rows) continue;
      const min = b.min[col];
      const max = b.max[col];
      if (typeof min !== 'bigint' || typeof max !== 'bigint') {
        ok = false;
        break;
      }
      if (lo === undefined || min < lo) lo = min;
      if (hi === undefined || max > hi) hi = max;
    }
    range = ranges[col] = ok && lo !== undefined && hi !== undefined ? { lo, hi } : null;
  }
  return range;
}

/** Types whose equality (compare.ts) is JavaScript's on the values held: string, number or bigint. */
const INDEXED: ReadonlyMap<PgType, string> = new Map([
  ['text', 'string'],
  ['varchar', 'string'],
  ['bpchar', 'string'],
  ['name', 'string'],
  ['int2', 'number'],
  ['int4', 'number'],
  ['date', 'number'],
  ['int8', 'bigint'],
  ['timestamp', 'bigint'],
  ['timestamptz', 'bigint'],
]);

/** Per manifest (immutable once written; cached by its versioned key) and segmentby column: batch numbers by value. */
const segmentIndexes = new WeakMap<Manifest, Array<Map<Scalar, number[]> | undefined>>();

/**
 * The batches (ascending) whose segment value `seg` equals one of `values`, from an index built
 * once per manifest; undefined when the column's type or a value's representation is not indexed
 * (the caller tests every batch).
 */
export function batchesWithSegment(m: Manifest, seg: number, values: readonly Scalar[]): number[] | undefined {
  const name = m.settings.segmentBy[seg];
  const type = m.columns.find((c) => c.name === name)?.type;
  const js = type ? INDEXED.get(type) : undefined;
  if (!js || values.some((v) => v !== null && typeof v !== js)) return undefined;
  let perColumn = segmentIndexes.get(m);
  if (!perColumn) segmentIndexes.set(m, (perColumn = []));
  let index = perColumn[seg];
  if (!index) {
    index = new Map();
    for (let no = 0; no < m.batches.length; no++) {
      const v = m.batches[no]!.segment[seg]!;
      // A value of another representation (never written for these types): no index.
      if (v !== null && typeof v !== js) return undefined;
      let list = index.get(v);
      if (!list) index.set(v, (list = []));
      list.push(no);
    }
    perColumn[seg] = index;
  }
  const lists = [...new Set(values)].flatMap((v) => (v === null ? [] : [index.get(v) ?? []]));
  if (lists.length === 1) return lists[0]!.slice();
  return lists.flat().sort((a, b) => a - b);
}

/** The numbers of `a` also in `b`, in `a`'s order. */
export function intersect(a: readonly number[], b: readonly number[]): number[] {
  const keep = new Set(b);
  return a.filter((n) => keep.has(n));
}
