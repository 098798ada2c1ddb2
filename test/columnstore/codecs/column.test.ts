/**
 * Property tests of the column format: every generated column (random and adversarial values, every
 * NULL pattern) round-trips bit-exactly through the WebAssembly backend and through the reference,
 * and both backends write the same bytes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ReferenceBackend,
  decodeColumn,
  encodeColumn,
  textValues,
  type CodecBackend,
  type ColumnInput,
  type DecodedColumn,
} from '../../../src/columnstore/codecs/index.js';
import { loadCodecsNode } from '../../../src/columnstore/codecs/load-node.js';
import { gather, isNull, scatter, type FixedArray } from '../../../src/columnstore/codecs/values.js';
import { booleanCases, floatCases, intCases, textCases, timestampNumberCases, type Case } from './generators.js';

let wasm: CodecBackend;
const reference = new ReferenceBackend();

beforeAll(async () => {
  wasm = await loadCodecsNode();
});

function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** The input as a decoder must return it: NULL slots zeroed, same element type. */
function expected(column: ColumnInput): Buffer | (string | null)[] {
  const n = column.values.length;
  if (column.kind === 'text') {
    return column.values.map((v, i) => (column.nulls && isNull(column.nulls, i) ? null : v));
  }
  const values = column.values as FixedArray;
  if (!column.nulls) return bytesOf(values);
  let nonNull = 0;
  for (let i = 0; i < n; i++) if (!isNull(column.nulls, i)) nonNull++;
  return bytesOf(scatter(gather(values, column.nulls, n, nonNull), column.nulls, n));
}

function actual(decoded: DecodedColumn): Buffer | (string | null)[] {
  if (decoded.kind === 'text') return textValues(decoded);
  return bytesOf(decoded.values);
}

function check(cases: Case[], int64As?: 'number'): void {
  for (const { name, column } of cases) {
    const encoded = encodeColumn(wasm, column);
    expect(bytesOf(encodeColumn(reference, column)).equals(bytesOf(encoded)), `${name}: reference bytes differ`).toBe(true);
    const want = expected(column);
    for (const backend of [wasm, reference]) {
      const decoded = decodeColumn(backend, encoded, { int64As });
      expect(decoded.count, name).toBe(column.values.length);
      expect(actual(decoded), `${name} via ${backend.name}`).toEqual(want);
    }
  }
}

describe('column round trip (wasm = reference, bit-exact)', () => {
  it.each(['int64', 'timestamp', 'int32', 'int16'] as const)('%s', (kind) => check(intCases(kind, 11)));
  it('timestamps given as Float64Array µs', () => check(timestampNumberCases(12), 'number'));
  it.each(['float64', 'float32'] as const)('%s', (kind) => check(floatCases(kind, 13)));
  it('boolean', () => check(booleanCases(14)));
  it('text', () => check(textCases(15)));
  it('gives each column bytes of its own, unchanged by the next encodings (one writer and the backend\'s memory reused)', () => {
    const cases = [...floatCases('float64', 21), ...textCases(22), ...intCases('int64', 23)];
    const encoded = cases.map(({ column }) => encodeColumn(wasm, column));
    const copies = encoded.map((e) => Buffer.from(e));
    cases.forEach(({ column }) => encodeColumn(wasm, column));
    encoded.forEach((e, i) => expect(Buffer.from(e).equals(copies[i]!)).toBe(true));
    expect(new Set(encoded.map((e) => e.buffer)).size).toBe(encoded.length);
    // And the same bytes as each column encoded with nothing before it.
    cases.forEach(({ column }, i) => expect(bytesOf(encodeColumn(reference, column)).equals(copies[i]!)).toBe(true));
  });
  it('empty column', () => {
    check([
      { name: 'empty int64', column: { kind: 'int64', values: new BigInt64Array(0) } },
      { name: 'empty text', column: { kind: 'text', values: [] } },
    ]);
  });
  it('batches beyond 2^16 values', () => {
    const n = 70_000;
    const t = BigInt64Array.from({ length: n }, (_, i) => 1_700_000_000_000_000n + BigInt(i) * 1_000_000n);
    check([{ name: 'timestamps 70k', column: { kind: 'timestamp', values: t } }]);
    // The BigInt reference takes seconds on 70k floats: WebAssembly only.
    const f = Float64Array.from({ length: n }, (_, i) => Math.round(Math.sin(i) * 1e4) / 100);
    const decoded = decodeColumn(wasm, encodeColumn(wasm, { kind: 'float64', values: f }));
    expect(bytesOf(decoded.values as Float64Array).equals(bytesOf(f))).toBe(true);
    // The arena grew for 70k values: later small batches must still see fresh views.
    check(floatCases('float64', 16).slice(0, 40));
  });
});
