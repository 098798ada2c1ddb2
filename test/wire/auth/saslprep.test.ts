import { describe, expect, it } from 'vitest';
import { saslprep, scramPassword } from '../../../src/wire/auth/saslprep.js';

const enc = new TextEncoder();

describe('saslprep', () => {
  // RFC 4013 section 3 examples, except those PostgreSQL answers differently (it maps prohibited and
  // bidi-invalid input to "use the raw bytes" rather than an error).
  it.each([
    ['I\u00ADX', 'IX'],
    ['user', 'user'],
    ['USER', 'USER'],
    ['\u00AA', 'a'],
    ['\u2168', 'IX'],
    ['a\u00A0b\u3000c', 'a b c'],
    ['\u00C5', '\u00C5'],
    ['A\u030A', '\u00C5'],
    ['\u0627\u0031\u0628', '\u0627\u0031\u0628'],
  ])('prepares %j as %j', (input, expected) => {
    expect(saslprep(input)).toBe(expected);
  });

  it('returns ASCII untouched, control characters included, as PostgreSQL does', () => {
    expect(saslprep('a\u0007b')).toBe('a\u0007b');
  });

  it.each([
    ['a non-ASCII string with a control character', '\u00E4\u0007'],
    ['private use', '\u00E4\uE000'],
    ['a noncharacter', '\u00E4\uFFFF'],
    ['an unassigned code point', '\u00E4\u0378'],
    ['RandALCat mixed with LCat', '\u05D0a\u05D1'],
    ['RandALCat not at both ends', '\u0627\u0031'],
    ['nothing left after mapping', '\u00AD\u034F'],
  ])('reports %s as prohibited', (_name, input) => {
    expect(saslprep(input)).toBeUndefined();
  });
});

describe('scramPassword', () => {
  it('hashes the raw bytes when SASLprep prohibits the password or it is not UTF-8', () => {
    expect(scramPassword('\u00E4\u0007')).toEqual(enc.encode('\u00E4\u0007'));
    const latin1 = new Uint8Array([0x70, 0xe4, 0x73, 0x73]);
    expect(scramPassword(latin1)).toEqual(latin1);
  });

  it('hashes the prepared UTF-8 otherwise', () => {
    expect(scramPassword('I\u00ADX')).toEqual(enc.encode('IX'));
    expect(scramPassword(enc.encode('\u2168'))).toEqual(enc.encode('IX'));
  });
});
