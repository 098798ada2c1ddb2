/**
 * @module wire/auth/scram-sha-256
 * Server side of SASL SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL runs it
 * (src/backend/libpq/auth-scram.c and auth.c CheckSASLAuth), including its error messages:
 *
 *   S: AuthenticationSASL (10) "SCRAM-SHA-256"
 *   C: SASLInitialResponse     client-first-message  "n,,n=,r=<c-nonce>"
 *   S: AuthenticationSASLContinue (11) server-first-message "r=<c-nonce><s-nonce>,s=<salt>,i=<count>"
 *   C: SASLResponse            client-final-message  "c=biws,r=<nonce>,p=<ClientProof>"
 *   S: AuthenticationSASLFinal (12) "v=<ServerSignature>", then the connection sends AuthenticationOk
 *
 * SCRAM-SHA-256-PLUS is never offered: channel binding needs the TLS certificate, and Orbit's
 * transports have no TLS of their own. The user name inside the SCRAM messages is ignored, as in
 * PostgreSQL: the StartupMessage's user is authenticated.
 */
import { orbitError, type OrbitError } from '../../errors.js';
import { authentication } from '../protocol/backend.js';
import { MessageReader, malformed } from '../protocol/reader.js';
import { binaryToBytes, bytesToBinary, decodeBase64, encodeBase64 } from './base64.js';
import {
  SCRAM_DEFAULT_ITERATIONS,
  SCRAM_KEY_LENGTH,
  type ScramSecret,
  classifySecret,
  deriveScramSecret,
  hmacSha256,
  mockSalt,
  mockScramSecret,
  randomBytes,
  sha256,
  timingSafeEqual,
  xorBytes,
} from './scram-verifier.js';
import { AuthenticationCode, asFatal, authenticationFailed, type AuthFlow, type SecretLookup } from './types.js';

export { createScramVerifier, isScramVerifier, parseScramVerifier } from './scram-verifier.js';

/** The only SASL mechanism offered. */
export const SCRAM_SHA_256 = 'SCRAM-SHA-256';

/** PostgreSQL's SCRAM_RAW_NONCE_LEN: random bytes in the server nonce, sent as base64. */
const RAW_NONCE_LENGTH = 18;

export interface ScramOptions {
  /**
   * PBKDF2 rounds for a verifier derived from a plaintext secret, and the count shown in mock
   * exchanges (PostgreSQL's scram_iterations). Default 4096. A plaintext secret costs one PBKDF2
   * of this many rounds per attempt (about 2-5 ms at 4096 in Node 20); stored verifiers cost none.
   */
  iterations?: number;
  /** Server part of the nonce. Default: 18 random bytes in base64, as PostgreSQL. For known-answer tests. */
  serverNonce?: () => string;
  /** Key for the fake salts of unknown roles (see mockSalt); default random per process. */
  mockNonce?: Uint8Array;
}

interface ResolvedSecret {
  readonly scram: ScramSecret;
  /** True for a mock exchange, which fails at the end whatever the client proves. */
  readonly doomed: boolean;
}

type Phase = 'initial' | 'first' | 'final' | 'finished';

export class ScramSha256Flow implements AuthFlow {
  private phase: Phase = 'initial';
  private secret?: Promise<ResolvedSecret>;
  private cbindFlag = '';
  private clientFirstBare = '';
  private clientNonce = '';
  private serverNonce = '';
  private serverFirst = '';

  constructor(
    private readonly user: string,
    private readonly lookup: SecretLookup,
    private readonly options: ScramOptions = {},
  ) {}

  async start(): Promise<Uint8Array> {
    await this.resolveSecret();
    return authentication(AuthenticationCode.SASL, [SCRAM_SHA_256]);
  }

  async next(body: Uint8Array): Promise<{ send?: Uint8Array; done: boolean }> {
    try {
      return await this.step(body);
    } catch (err) {
      this.phase = 'finished';
      throw asFatal(err);
    }
  }

  private async step(body: Uint8Array): Promise<{ send?: Uint8Array; done: boolean }> {
    switch (this.phase) {
      case 'initial': {
        // SASLInitialResponse: mechanism name, Int32 length (-1: no initial response), data.
        const r = new MessageReader(body);
        if (r.cstring() !== SCRAM_SHA_256) {
          throw orbitError('protocol_violation', 'client selected an invalid SASL authentication mechanism');
        }
        const length = r.int32();
        const data = length === -1 ? undefined : r.bytes(length);
        if (r.remaining !== 0) throw malformed('unexpected bytes after SASLInitialResponse data');
        if (data === undefined) {
          // No initial response: send an empty challenge, answered by a SASLResponse carrying the
          // client-first-message (RFC 4422 section 5; PostgreSQL does the same).
          this.phase = 'first';
          return { send: authentication(AuthenticationCode.SASLContinue, new Uint8Array(0)), done: false };
        }
        return this.clientFirst(data);
      }
      case 'first':
        return this.clientFirst(body);
      case 'final':
        return this.clientFinal(body);
      case 'finished':
        throw orbitError('protocol_violation', 'unexpected SASLResponse after the SCRAM exchange ended');
    }
  }

  private async clientFirst(data: Uint8Array): Promise<{ send: Uint8Array; done: boolean }> {
    const input = scramText(data);
    const flag = input[0];
    // gs2-cbind-flag: "n" (no channel binding) or "y" (client could bind but thinks the server
    // cannot — true here, so accepted). "p=" asks for binding that was never offered.
    if (flag === 'n' || flag === 'y') {
      if (input[1] !== ',') throw malformedScram(`Comma expected, but found character ${quoteChar(input[1])}.`);
    } else if (flag === 'p') {
      throw malformedScram(
        'The client selected SCRAM-SHA-256 without channel binding, but the SCRAM message includes channel binding data.',
      );
    } else {
      throw malformedScram(`Unexpected channel-binding flag ${quoteChar(flag)}.`);
    }
    this.cbindFlag = flag;
    if (input[2] === 'a') {
      throw orbitError('feature_not_supported', 'client uses authorization identity, but it is not supported');
    }
    if (input[2] !== ',') throw malformedScram(`Unexpected attribute ${quoteChar(input[2])} in client-first-message.`);

    this.clientFirstBare = input.slice(3);
    const attrs = new AttributeReader(this.clientFirstBare);
    if (attrs.peek() === 'm') throw orbitError('feature_not_supported', 'client requires an unsupported SCRAM extension');
    attrs.expect('n');
    this.clientNonce = attrs.expect('r');
    if (!/^[\x21-\x2b\x2d-\x7e]*$/.test(this.clientNonce)) {
      throw orbitError('protocol_violation', 'non-printable characters in SCRAM nonce');
    }
    // Optional extensions are allowed and ignored, but must be well-formed.
    while (!attrs.atEnd) attrs.any();

    const { scram } = await this.resolveSecret();
    this.serverNonce = this.options.serverNonce?.() ?? encodeBase64(randomBytes(RAW_NONCE_LENGTH));
    this.serverFirst = `r=${this.clientNonce}${this.serverNonce},s=${encodeBase64(scram.salt)},i=${scram.iterations}`;
    this.phase = 'final';
    return { send: authentication(AuthenticationCode.SASLContinue, binaryToBytes(this.serverFirst)), done: false };
  }

  private async clientFinal(data: Uint8Array): Promise<{ send: Uint8Array; done: boolean }> {
    const input = scramText(data);
    const attrs = new AttributeReader(input);
    // Without channel binding, c= must be the base64 of the gs2 header the client sent first.
    const binding = attrs.expect('c');
    if (!((binding === 'biws' && this.cbindFlag === 'n') || (binding === 'eSws' && this.cbindFlag === 'y'))) {
      throw orbitError('protocol_violation', 'unexpected SCRAM channel-binding attribute in client-final-message');
    }
    const finalNonce = attrs.expect('r');
    let proofStart: number;
    let attr: string;
    let value: string;
    do {
      proofStart = attrs.position;
      [attr, value] = attrs.any();
    } while (attr !== 'p');
    const proof = decodeBase64(value);
    if (proof?.length !== SCRAM_KEY_LENGTH) throw malformedScram('Malformed proof in client-final-message.');
    if (!attrs.atEnd) throw malformedScram('Garbage found at the end of client-final-message.');
    if (finalNonce !== this.clientNonce + this.serverNonce) {
      throw orbitError('protocol_violation', 'invalid SCRAM response', { detail: 'Nonce does not match.' });
    }

    // The proof is checked even in a mock exchange so timing does not tell whether the role exists.
    const { scram, doomed } = await this.resolveSecret();
    const withoutProof = input.slice(0, proofStart - 1);
    const authMessage = binaryToBytes(`${this.clientFirstBare},${this.serverFirst},${withoutProof}`);
    const clientKey = xorBytes(proof, await hmacSha256(scram.storedKey, authMessage));
    const proven = timingSafeEqual(await sha256(clientKey), scram.storedKey);
    this.phase = 'finished';
    // PostgreSQL does not send "e=invalid-proof": it fails with the same error as every method.
    if (!proven || doomed) throw authenticationFailed(this.user);

    const serverSignature = await hmacSha256(scram.serverKey, authMessage);
    return { send: authentication(AuthenticationCode.SASLFinal, binaryToBytes(`v=${encodeBase64(serverSignature)}`)), done: true };
  }

  private resolveSecret(): Promise<ResolvedSecret> {
    return (this.secret ??= this.loadSecret());
  }

  private async loadSecret(): Promise<ResolvedSecret> {
    const stored = classifySecret(await this.lookup(this.user));
    if (stored.kind === 'scram') return { scram: stored.secret, doomed: false };
    // A plaintext secret gets a verifier on the fly. Its salt is the role's mock salt rather than a
    // fresh random one: a salt that changed on every attempt would show the role exists, since
    // unknown roles get a stable (mock) salt.
    const salt = await mockSalt(this.user, this.options.mockNonce);
    const iterations = this.options.iterations ?? SCRAM_DEFAULT_ITERATIONS;
    if (stored.kind === 'plaintext') return { scram: await deriveScramSecret(stored.password, salt, iterations), doomed: false };
    return { scram: mockScramSecret(salt, iterations), doomed: true };
  }
}

/**
 * The SCRAM payload as a binary string (one char per byte, see base64.ts). PostgreSQL handles it as
 * a C string, so it must be non-empty and free of NUL bytes.
 */
function scramText(data: Uint8Array): string {
  if (data.length === 0) throw malformedScram('The message is empty.');
  if (data.includes(0)) throw malformedScram('Message length does not match input length.');
  return bytesToBinary(data);
}

function malformedScram(detail: string): OrbitError {
  return orbitError('protocol_violation', 'malformed SCRAM message', { detail });
}

/** PostgreSQL's sanitize_char, quoted: a printable char as "'c'", anything else (or the end) as "0x.."; never echoes raw client bytes. */
function quoteChar(ch: string | undefined): string {
  const code = ch === undefined ? 0 : ch.charCodeAt(0);
  const shown = code >= 0x21 && code <= 0x7e ? `'${ch}'` : `0x${code.toString(16).padStart(2, '0')}`;
  return `"${shown}"`;
}

/** Cursor over comma-separated `a=value` attributes (PostgreSQL's read_attr_value/read_any_attr). */
class AttributeReader {
  position = 0;

  constructor(private readonly text: string) {}

  get atEnd(): boolean {
    return this.position >= this.text.length;
  }

  peek(): string | undefined {
    return this.text[this.position];
  }

  /** The value of the next attribute, which must be `attr`. */
  expect(attr: string): string {
    const found = this.peek();
    if (found !== attr) throw malformedScram(`Expected attribute "${attr}" but found ${quoteChar(found)}.`);
    return this.value(attr);
  }

  /** The next attribute, whatever its (single ASCII letter) name. */
  any(): [string, string] {
    const attr = this.peek();
    if (attr === undefined) throw malformedScram('Attribute expected, but found end of string.');
    if (!/^[A-Za-z]$/.test(attr)) throw malformedScram(`Attribute expected, but found invalid character ${quoteChar(attr)}.`);
    return [attr, this.value(attr)];
  }

  private value(attr: string): string {
    if (this.text[this.position + 1] !== '=') throw malformedScram(`Expected character "=" for attribute "${attr}".`);
    const begin = this.position + 2;
    const comma = this.text.indexOf(',', begin);
    const end = comma < 0 ? this.text.length : comma;
    this.position = comma < 0 ? end : end + 1;
    return this.text.slice(begin, end);
  }
}
