/**
 * @module wire/auth/scram-verifier
 * SCRAM-SHA-256 keys (RFC 5802 section 3) and the verifier PostgreSQL stores in
 * pg_authid.rolpassword: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64 fields.
 * A verifier made here logs in to PostgreSQL and vice versa, since both SASLprep the password the
 * same way (see saslprep.ts). Web Crypto only, so it runs in Node, browsers and workerd.
 */
import { orbitError } from '../../errors.js';
import { decodeBase64, encodeBase64 } from './base64.js';
import { scramPassword } from './saslprep.js';

/** SHA-256 output length; PostgreSQL's SCRAM_SHA_256_KEY_LEN. */
export const SCRAM_KEY_LENGTH = 32;
/** PostgreSQL's SCRAM_DEFAULT_SALT_LEN. */
export const SCRAM_DEFAULT_SALT_LENGTH = 16;
/** PostgreSQL's default for the scram_iterations setting. */
export const SCRAM_DEFAULT_ITERATIONS = 4096;

/** PBKDF2 iteration counts PostgreSQL accepts (scram_iterations is 1..INT_MAX). */
const MAX_ITERATIONS = 0x7fffffff;

/** The decoded fields of a verifier. */
export interface ScramSecret {
  readonly iterations: number;
  readonly salt: Uint8Array;
  readonly storedKey: Uint8Array;
  readonly serverKey: Uint8Array;
}

/** What a role's stored secret allows, following PostgreSQL's get_password_type. */
export type StoredSecret =
  | { readonly kind: 'scram'; readonly secret: ScramSecret }
  | { readonly kind: 'plaintext'; readonly password: string }
  | { readonly kind: 'unusable' };

const encoder = new TextEncoder();

/** Web Crypto rejects views over SharedArrayBuffer, and TS types BufferSource accordingly. */
function bufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

export function randomBytes(length: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

export async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bufferSource(data)));
}

export async function hmacSha256(key: Uint8Array, data: Uint8Array | string): Promise<Uint8Array> {
  const subtle = globalThis.crypto.subtle;
  const k = await subtle.importKey('raw', bufferSource(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const bytes = typeof data === 'string' ? encoder.encode(data) : bufferSource(data);
  return new Uint8Array(await subtle.sign('HMAC', k, bytes));
}

/** Compares in time that depends only on the lengths, which are public (key sizes). */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function xorBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** SaltedPassword := Hi(Normalize(password), salt, i), with Hi = PBKDF2-HMAC-SHA-256. */
async function saltedPassword(password: string | Uint8Array, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const subtle = globalThis.crypto.subtle;
  const key = await subtle.importKey('raw', bufferSource(scramPassword(password)), 'PBKDF2', false, ['deriveBits']);
  const params = { name: 'PBKDF2', hash: 'SHA-256', salt: bufferSource(salt), iterations };
  return new Uint8Array(await subtle.deriveBits(params, key, SCRAM_KEY_LENGTH * 8));
}

/** StoredKey := H(HMAC(SaltedPassword, "Client Key")), ServerKey := HMAC(SaltedPassword, "Server Key"). */
export async function deriveScramSecret(password: string | Uint8Array, salt: Uint8Array, iterations: number): Promise<ScramSecret> {
  const salted = await saltedPassword(password, salt, iterations);
  const storedKey = await sha256(await hmacSha256(salted, 'Client Key'));
  const serverKey = await hmacSha256(salted, 'Server Key');
  return { iterations, salt, storedKey, serverKey };
}

/**
 * Checks a cleartext password against a verifier as PostgreSQL's scram_verify_plain_password does:
 * by recomputing ServerKey (one PBKDF2 of the verifier's iteration count).
 */
export async function verifyScramPassword(password: string | Uint8Array, secret: ScramSecret): Promise<boolean> {
  const salted = await saltedPassword(password, secret.salt, secret.iterations);
  return timingSafeEqual(await hmacSha256(salted, 'Server Key'), secret.serverKey);
}

export function formatScramVerifier(secret: ScramSecret): string {
  const { iterations, salt, storedKey, serverKey } = secret;
  return `SCRAM-SHA-256$${iterations}:${encodeBase64(salt)}$${encodeBase64(storedKey)}:${encodeBase64(serverKey)}`;
}

/**
 * A verifier in pg_authid.rolpassword format, as CREATE ROLE ... PASSWORD stores it with
 * password_encryption = 'scram-sha-256'. `salt` defaults to 16 random bytes, as in PostgreSQL.
 * Costs one PBKDF2 of `iterations` rounds.
 */
export async function createScramVerifier(
  password: string,
  iterations: number = SCRAM_DEFAULT_ITERATIONS,
  salt: Uint8Array = randomBytes(SCRAM_DEFAULT_SALT_LENGTH),
): Promise<string> {
  // PostgreSQL stores no password at all for '' (the role then cannot log in with one).
  if (password === '') throw orbitError('invalid_parameter_value', 'empty string is not a valid password');
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
    throw orbitError('invalid_parameter_value', `SCRAM iteration count must be between 1 and ${MAX_ITERATIONS}`);
  }
  if (salt.length === 0) throw orbitError('invalid_parameter_value', 'SCRAM salt must not be empty');
  return formatScramVerifier(await deriveScramSecret(password, salt, iterations));
}

const VERIFIER = /^SCRAM-SHA-256\$([1-9][0-9]{0,9}):([^$]+)\$([^:]+):(.+)$/;

/** The fields of a well-formed verifier, or undefined (PostgreSQL's parse_scram_secret). */
export function parseScramVerifier(text: string): ScramSecret | undefined {
  const m = VERIFIER.exec(text);
  if (!m) return undefined;
  const iterations = Number(m[1]);
  const salt = decodeBase64(m[2]!);
  const storedKey = decodeBase64(m[3]!);
  const serverKey = decodeBase64(m[4]!);
  if (iterations > MAX_ITERATIONS || !salt || salt.length === 0) return undefined;
  if (storedKey?.length !== SCRAM_KEY_LENGTH || serverKey?.length !== SCRAM_KEY_LENGTH) return undefined;
  return { iterations, salt, storedKey, serverKey };
}

export function isScramVerifier(text: string): boolean {
  return parseScramVerifier(text) !== undefined;
}

/** PostgreSQL's MD5 format: "md5" followed by 32 hex digits. */
const MD5_SECRET = /^md5[0-9a-f]{32}$/;

export function classifySecret(secret: string | undefined): StoredSecret {
  // Empty means no password, as PostgreSQL never stores ''.
  if (secret === undefined || secret === '') return { kind: 'unusable' };
  // MD5 needs MD5 (not in Web Crypto), and taking the hash as plaintext would let the hash itself log in.
  if (MD5_SECRET.test(secret)) return { kind: 'unusable' };
  if (secret.startsWith('SCRAM-SHA-256$')) {
    // PostgreSQL would treat a damaged verifier as plaintext; refusing it keeps the verifier text
    // from working as a password.
    const parsed = parseScramVerifier(secret);
    return parsed ? { kind: 'scram', secret: parsed } : { kind: 'unusable' };
  }
  return { kind: 'plaintext', password: secret };
}

/** Mock-authentication key; PostgreSQL keeps one per cluster in pg_control (MOCK_AUTH_NONCE_LEN). */
const MOCK_NONCE_LENGTH = 32;
let processMockNonce: Uint8Array | undefined;

/**
 * PostgreSQL's scram_mock_salt: the first 16 bytes of SHA-256(user || mock nonce), so the fake salt
 * of a role is stable across attempts, like a real one. Without a `mockNonce` the key is random per
 * process (isolate); pass a persisted one so salts also stay stable across restarts.
 */
export async function mockSalt(user: string, mockNonce?: Uint8Array): Promise<Uint8Array> {
  const nonce = mockNonce ?? (processMockNonce ??= randomBytes(MOCK_NONCE_LENGTH));
  const name = encoder.encode(user);
  const input = new Uint8Array(name.length + nonce.length);
  input.set(name);
  input.set(nonce, name.length);
  return (await sha256(input)).subarray(0, SCRAM_DEFAULT_SALT_LENGTH);
}

/** PostgreSQL's mock_scram_secret: a plausible salt and count, and keys no proof can match. */
export function mockScramSecret(salt: Uint8Array, iterations: number = SCRAM_DEFAULT_ITERATIONS): ScramSecret {
  return { iterations, salt, storedKey: new Uint8Array(SCRAM_KEY_LENGTH), serverKey: new Uint8Array(SCRAM_KEY_LENGTH) };
}
