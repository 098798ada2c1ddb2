/**
 * Helpers for the batch-store tests: seeded random rows of every columnstore type (with NULLs,
 * duplicates and the awkward values), and a canonical string per row for exact multiset comparison.
 */
import { allocColumn, columnLength, isNullAt, PgType, type Column, type Rows } from '../../src/columnstore/columns.js';
import { Prng, fromBits } from '../support/prng.js';

export const ALL_TYPES: readonly PgType[] = Object.values(PgType);

const TEXTS = ['', 'a', 'b', 'B', 'host_1', 'host_10', 'host_2', 'é', 'z', '\u{1F600}', '\uFFFD', 'a b'];
const NUMERICS = ['0', '0.000', '1.0', '1.00', '-1.5', '123456789.000100', '0.00000000000000000001', 'NaN', 'Infinity', '-Infinity', '99999999999999999999.9', '-0.5'];
const FLOATS = [0, -0, 1.5, -1.5, NaN, Infinity, -Infinity, 1e-310, 0.1, 100, 3.25];

/** A value drawn from a small pool (so segments and ties occur) or at random. */
function fill(p: Prng, c: Column, i: number, pool: number): void {
  const small = p.int(pool);
  switch (c.type) {
    case 'timestamptz':
    case 'timestamp':
    case 'int8':
      c.values[i] = p.chance(0.05) ? p.pick([-(1n << 63n), (1n << 63n) - 1n, 1n << 60n]) : BigInt(small) * 10_000_000n + 757_382_400_000_000n;
      break;
    case 'date':
    case 'int4':
      c.values[i] = p.chance(0.05) ? p.pick([-2147483648, 2147483647]) : small - 3;
      break;
    case 'int2':
      c.values[i] = p.chance(0.05) ? p.pick([-32768, 32767]) : small - 3;
      break;
    case 'float4':
    case 'float8':
      c.values[i] = p.chance(0.5) ? p.pick(FLOATS) : p.chance(0.5) ? small / 8 : fromBits(p.u64());
      break;
    case 'bool':
      c.values[i] = small & 1;
      break;
    case 'uuid':
      for (let b = 0; b < 16; b++) c.values[i * 16 + b] = b < 15 ? (small * 37 + b) & 0xff : p.int(2);
      break;
    case 'numeric':
      c.values[i] = p.chance(0.7) ? NUMERICS[small % NUMERICS.length]! : `${p.int(2) ? '-' : ''}${p.int(1e6)}.${p.int(1000)}`;
      break;
    case 'json':
    case 'jsonb':
      c.values[i] = `{"k": ${small}}`;
      break;
    case 'opaque':
      c.values[i] = Uint8Array.from({ length: small * 3 }, (_, k) => (k * 7 + small) & 0xff);
      break;
    default:
      (c.values as string[])[i] = p.chance(0.8) ? TEXTS[small % TEXTS.length]! : `s${p.int(1e9)}`;
  }
}

/** `n` random rows with the given types (named c0, c1, …); NULLs at rate `nullRate`. */
export function randomRows(p: Prng, n: number, types: readonly PgType[], nullRate = 0.1, pool = 6): Rows {
  const columns = types.map((t) => {
    const c = allocColumn(t, n);
    let nulls: Uint8Array | null = null;
    for (let i = 0; i < n; i++) {
      if (p.chance(nullRate)) (nulls ??= new Uint8Array((n + 7) >> 3))[i >> 3]! |= 1 << (i & 7);
      else fill(p, c, i, pool);
    }
    return { ...c, nulls } as Column;
  });
  return { names: types.map((_, i) => `c${i}`), columns };
}

function bits(v: number, float4: boolean): string {
  const a = float4 ? new Float32Array([v]) : new Float64Array([v]);
  return Buffer.from(a.buffer).toString('hex');
}

/** One value as an exact string (float bits, bytes as hex); NULL as "∅". */
export function cell(c: Column, i: number): string {
  if (isNullAt(c, i)) return '∅';
  switch (c.type) {
    case 'float4':
    case 'float8':
      return bits(c.values[i]!, c.type === 'float4');
    case 'uuid':
      return Buffer.from(c.values.subarray(i * 16, i * 16 + 16)).toString('hex');
    case 'opaque':
      return Buffer.from(c.values[i]!).toString('hex');
    default:
      return JSON.stringify(String((c.values as ArrayLike<unknown>)[i]));
  }
}

export function rowStrings(rows: Rows): string[] {
  const n = rows.columns.length ? columnLength(rows.columns[0]!) : 0;
  return Array.from({ length: n }, (_, i) => rows.columns.map((c) => cell(c, i)).join('|'));
}

export function sorted(strings: string[]): string[] {
  return [...strings].sort();
}
