/**
 * @module wire/auth/saslprep
 * SASLprep (RFC 4013, a profile of stringprep RFC 3454) as PostgreSQL applies it to passwords
 * before hashing them for SCRAM (src/common/saslprep.c). PostgreSQL never rejects a password over
 * SASLprep: when the password is not UTF-8 or is prohibited, it hashes the raw bytes instead.
 * `scramPassword` does the same, so verifiers agree with PostgreSQL's for the same password.
 *
 * Limits: RFC 3454 tables A.1 (unassigned in Unicode 3.2) and D.2 (bidi class L) are large, so
 * they are approximated with Unicode property escapes: A.1 by \p{Cn} of the runtime's (newer)
 * Unicode, D.2 by general categories (see LEFT_TO_RIGHT). Only passwords with characters assigned
 * after Unicode 3.2, or mixing right-to-left letters with rare symbols whose bidi class the
 * categories miss, can be prepared differently from PostgreSQL (and then fail to log in with a
 * verifier PostgreSQL made). ASCII passwords are never changed, exactly as in PostgreSQL.
 */

/** Inclusive code point ranges, [first, last, first, last, ...]. */
type Ranges = readonly number[];

/** C.1.2 non-ASCII space characters, mapped to U+0020. */
const NON_ASCII_SPACE: Ranges = [0xa0, 0xa0, 0x1680, 0x1680, 0x2000, 0x200b, 0x202f, 0x202f, 0x205f, 0x205f, 0x3000, 0x3000];

/** B.1 commonly mapped to nothing. */
const MAPPED_TO_NOTHING: Ranges = [
  0xad, 0xad, 0x34f, 0x34f, 0x1806, 0x1806, 0x180b, 0x180d, 0x200b, 0x200d, 0x2060, 0x2060, 0xfe00, 0xfe0f, 0xfeff, 0xfeff,
];

/**
 * SASLprep's prohibited output: C.1.2, C.2.1, C.2.2, C.3, C.4 (except the per-plane U+xFFFE/F
 * noncharacters, tested arithmetically), C.5, C.6, C.7, C.8, C.9, with overlaps merged.
 */
const PROHIBITED: Ranges = [
  0x0, 0x1f, 0x7f, 0xa0, 0x340, 0x341, 0x6dd, 0x6dd, 0x70f, 0x70f, 0x1680, 0x1680, 0x180e, 0x180e, 0x2000, 0x200f,
  0x2028, 0x202f, 0x205f, 0x2063, 0x206a, 0x206f, 0x2ff0, 0x2ffb, 0x3000, 0x3000, 0xd800, 0xf8ff, 0xfdd0, 0xfdef,
  0xfeff, 0xfeff, 0xfff9, 0xfffd, 0x1d173, 0x1d17a, 0xe0001, 0xe0001, 0xe0020, 0xe007f, 0xf0000, 0x10ffff,
];

/** D.1 characters with bidirectional property R or AL. */
const RAND_AL_CAT: Ranges = [
  0x5be, 0x5be, 0x5c0, 0x5c0, 0x5c3, 0x5c3, 0x5d0, 0x5ea, 0x5f0, 0x5f4, 0x61b, 0x61b, 0x61f, 0x61f, 0x621, 0x63a,
  0x640, 0x64a, 0x66d, 0x66f, 0x671, 0x6d5, 0x6dd, 0x6dd, 0x6e5, 0x6e6, 0x6fa, 0x6fe, 0x700, 0x70d, 0x710, 0x710,
  0x712, 0x72c, 0x780, 0x7a5, 0x7b1, 0x7b1, 0x200f, 0x200f, 0xfb1d, 0xfb1d, 0xfb1f, 0xfb28, 0xfb2a, 0xfb36,
  0xfb38, 0xfb3c, 0xfb3e, 0xfb3e, 0xfb40, 0xfb41, 0xfb43, 0xfb44, 0xfb46, 0xfbb1, 0xfbd3, 0xfd3d, 0xfd50, 0xfd8f,
  0xfd92, 0xfdc7, 0xfdf0, 0xfdfc, 0xfe70, 0xfe74, 0xfe76, 0xfefc,
];

const UNASSIGNED = /^\p{Cn}$/u;
/**
 * Approximates D.2 (bidi class L): letters, spacing marks, letter numbers, decimal digits other
 * than the EN/AN ones (ASCII, Arabic-Indic, extended Arabic-Indic, fullwidth, mathematical) and the
 * parenthesized/circled Latin letters, without the neutral modifier letters U+02B9-02BA, U+02C2-02CF.
 */
const LEFT_TO_RIGHT = /^[\p{L}\p{Mc}\p{Nl}\p{Nd}\u249c-\u24e9]$/u;
const NOT_LEFT_TO_RIGHT = /^[0-9\u0660-\u0669\u06f0-\u06f9\uff10-\uff19\u{1d7ce}-\u{1d7ff}\u02b9\u02ba\u02c2-\u02cf]$/u;

function inRanges(cp: number, ranges: Ranges): boolean {
  for (let i = 0; i < ranges.length; i += 2) {
    if (cp < ranges[i]!) return false;
    if (cp <= ranges[i + 1]!) return true;
  }
  return false;
}

function isProhibited(cp: number): boolean {
  return inRanges(cp, PROHIBITED) || (cp & 0xfffe) === 0xfffe || UNASSIGNED.test(String.fromCodePoint(cp));
}

function isLCat(cp: number): boolean {
  const ch = String.fromCodePoint(cp);
  return !inRanges(cp, RAND_AL_CAT) && LEFT_TO_RIGHT.test(ch) && !NOT_LEFT_TO_RIGHT.test(ch);
}

/**
 * The SASLprep form of `input`, or undefined where PostgreSQL's pg_saslprep returns
 * SASLPREP_PROHIBITED (which includes a password that maps to the empty string).
 */
export function saslprep(input: string): string | undefined {
  // PostgreSQL returns pure ASCII untouched, control characters included.
  if (/^[\x00-\x7f]*$/.test(input)) return input;

  // 1) Map.
  const mapped: number[] = [];
  for (const ch of input) {
    const cp = ch.codePointAt(0)!;
    if (inRanges(cp, NON_ASCII_SPACE)) mapped.push(0x20);
    else if (!inRanges(cp, MAPPED_TO_NOTHING)) mapped.push(cp);
  }
  if (mapped.length === 0) return undefined;

  // 3) and 4) Prohibit and check bidi. PostgreSQL runs both on the mapped code points, before
  // normalization, so this does too.
  if (mapped.some(isProhibited)) return undefined;
  if (mapped.some((cp) => inRanges(cp, RAND_AL_CAT))) {
    if (mapped.some(isLCat)) return undefined;
    if (!inRanges(mapped[0]!, RAND_AL_CAT) || !inRanges(mapped[mapped.length - 1]!, RAND_AL_CAT)) return undefined;
  }

  // 2) Normalize.
  return mapped.map((cp) => String.fromCodePoint(cp)).join('').normalize('NFKC');
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * The bytes PostgreSQL feeds to PBKDF2 for a password: its SASLprep form in UTF-8, or the raw bytes
 * when they are not valid UTF-8 or SASLprep prohibits them. A string is taken as UTF-8.
 */
export function scramPassword(password: string | Uint8Array): Uint8Array {
  const raw = typeof password === 'string' ? encoder.encode(password) : password;
  let text: string;
  try {
    text = strictUtf8.decode(raw);
  } catch {
    return raw;
  }
  const prepared = saslprep(text);
  return prepared === undefined ? raw : encoder.encode(prepared);
}
