/**
 * @module columnstore/numeric-text
 * PostgreSQL numeric values kept as their text output: conversion from and to numeric's binary
 * send format (src/backend/utils/adt/numeric.c, numeric_send/numeric_recv), and numeric ordering
 * and equality on the text (NaN above +Infinity above every number; 1.0 = 1.00).
 *
 * Binary: int16 ndigits, int16 weight, u16 sign, int16 dscale, ndigits × int16 base-10000 digits;
 * value = Σ digit[i] · 10000^(weight − i); dscale = digits shown after the decimal point.
 */
import { orbitError } from '../errors.js';

const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;
const NUMERIC_NAN = 0xc000;
const NUMERIC_PINF = 0xd000;
const NUMERIC_NINF = 0xf000;

function pad4(d: number): string {
  return d < 10 ? `000${d}` : d < 100 ? `00${d}` : d < 1000 ? `0${d}` : String(d);
}

/** numeric_out of the binary form at `view[offset .. offset+length)`. */
export function numericBinaryToText(view: DataView, offset: number, length: number): string {
  if (length < 8) throw orbitError('invalid_binary_representation', 'numeric value is too short');
  const ndigits = view.getInt16(offset);
  const weight = view.getInt16(offset + 2);
  const sign = view.getUint16(offset + 4);
  const dscale = view.getInt16(offset + 6);
  if (sign === NUMERIC_NAN) return 'NaN';
  if (sign === NUMERIC_PINF) return 'Infinity';
  if (sign === NUMERIC_NINF) return '-Infinity';
  if ((sign !== NUMERIC_POS && sign !== NUMERIC_NEG) || ndigits < 0 || dscale < 0 || length !== 8 + ndigits * 2) {
    throw orbitError('invalid_binary_representation', 'invalid numeric binary value');
  }
  const digits = new Array<number>(ndigits);
  for (let i = 0; i < ndigits; i++) digits[i] = view.getInt16(offset + 8 + i * 2);
  let out = sign === NUMERIC_NEG && ndigits > 0 ? '-' : '';
  if (weight < 0) out += '0';
  for (let i = 0; i <= weight; i++) {
    const d = i < ndigits ? digits[i]! : 0;
    out += i === 0 ? String(d) : pad4(d);
  }
  if (dscale > 0) {
    let frac = '';
    for (let i = weight + 1; frac.length < dscale; i++) frac += pad4(i >= 0 && i < ndigits ? digits[i]! : 0);
    out += `.${frac.slice(0, dscale)}`;
  }
  return out;
}

const NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?$/;

interface ParsedNumeric {
  /** 1, -1, or 0 for zero. */
  readonly sign: number;
  /** Integer digits without leading zeros. */
  readonly int: string;
  /** Fraction digits as written (their count is the display scale). */
  readonly frac: string;
}

function parse(text: string): ParsedNumeric | 'NaN' | 'Infinity' | '-Infinity' {
  const t = text.trim();
  const lower = t.toLowerCase();
  if (lower === 'nan') return 'NaN';
  if (lower === 'infinity' || lower === '+infinity' || lower === 'inf' || lower === '+inf') return 'Infinity';
  if (lower === '-infinity' || lower === '-inf') return '-Infinity';
  const m = NUMBER.exec(t);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw orbitError('invalid_text_representation', `invalid input syntax for type numeric: "${text}"`);
  const int = m[2]!.replace(/^0+/, '');
  const frac = m[3] ?? '';
  const zero = int === '' && /^0*$/.test(frac);
  return { sign: zero ? 0 : m[1] === '-' ? -1 : 1, int, frac };
}

/** numeric_send of a numeric's text (plain decimal notation, NaN, ±Infinity), as bytes. */
export function numericTextToBinary(text: string): Uint8Array {
  const p = parse(text);
  const head = (ndigits: number, weight: number, sign: number, dscale: number): DataView => {
    const v = new DataView(new ArrayBuffer(8 + ndigits * 2));
    v.setInt16(0, ndigits);
    v.setInt16(2, weight);
    v.setUint16(4, sign);
    v.setInt16(6, dscale);
    return v;
  };
  if (p === 'NaN') return new Uint8Array(head(0, 0, NUMERIC_NAN, 0).buffer);
  if (p === 'Infinity') return new Uint8Array(head(0, 0, NUMERIC_PINF, 0).buffer);
  if (p === '-Infinity') return new Uint8Array(head(0, 0, NUMERIC_NINF, 0).buffer);
  const dscale = p.frac.length;
  const intPadded = p.int.padStart(Math.ceil(p.int.length / 4) * 4, '0');
  const fracPadded = p.frac.padEnd(Math.ceil(p.frac.length / 4) * 4, '0');
  const groups: number[] = [];
  for (let i = 0; i < intPadded.length; i += 4) groups.push(Number(intPadded.slice(i, i + 4)));
  for (let i = 0; i < fracPadded.length; i += 4) groups.push(Number(fracPadded.slice(i, i + 4)));
  let weight = intPadded.length / 4 - 1;
  let first = 0;
  while (first < groups.length && groups[first] === 0) {
    first++;
    weight--;
  }
  let last = groups.length;
  while (last > first && groups[last - 1] === 0) last--;
  const digits = groups.slice(first, last);
  if (digits.length === 0) weight = 0;
  const v = head(digits.length, weight, p.sign < 0 ? NUMERIC_NEG : NUMERIC_POS, dscale);
  digits.forEach((d, i) => v.setInt16(8 + i * 2, d));
  return new Uint8Array(v.buffer);
}

function rank(p: ReturnType<typeof parse>): number {
  return p === 'NaN' ? 3 : p === 'Infinity' ? 2 : p === '-Infinity' ? -2 : 0;
}

/** Compares two numerics' texts as PostgreSQL orders numeric (NaN = NaN, greatest). */
export function compareNumericText(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  const ra = rank(pa);
  const rb = rank(pb);
  if (ra !== 0 || rb !== 0) return Math.sign(ra - rb);
  const x = pa as ParsedNumeric;
  const y = pb as ParsedNumeric;
  if (x.sign !== y.sign) return Math.sign(x.sign - y.sign);
  if (x.sign === 0) return 0;
  let c = x.int.length - y.int.length;
  if (c === 0) c = x.int < y.int ? -1 : x.int > y.int ? 1 : 0;
  if (c === 0) {
    const fx = x.frac.replace(/0+$/, '');
    const fy = y.frac.replace(/0+$/, '');
    c = fx < fy ? -1 : fx > fy ? 1 : 0;
  }
  return Math.sign(c) * x.sign;
}

/** A canonical text for numeric equality (1.0 and 1.00 give the same key). */
export function numericKey(text: string): string {
  const p = parse(text);
  if (typeof p === 'string') return p;
  if (p.sign === 0) return '0';
  const frac = p.frac.replace(/0+$/, '');
  return `${p.sign < 0 ? '-' : ''}${p.int || '0'}${frac ? `.${frac}` : ''}`;
}
