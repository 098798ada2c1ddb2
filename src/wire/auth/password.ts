/**
 * @module wire/auth/password
 * The "password" method: AuthenticationCleartextPassword (3), answered by a PasswordMessage that
 * holds the password in clear (PostgreSQL auth.c CheckPasswordAuth). Only safe over a transport that
 * is itself encrypted or local.
 */
import { orbitError } from '../../errors.js';
import { authentication } from '../protocol/backend.js';
import {
  SCRAM_DEFAULT_ITERATIONS,
  type StoredSecret,
  classifySecret,
  mockSalt,
  mockScramSecret,
  sha256,
  timingSafeEqual,
  verifyScramPassword,
} from './scram-verifier.js';
import { scramPassword } from './saslprep.js';
import { AuthenticationCode, asFatal, authenticationFailed, type AuthFlow, type SecretLookup } from './types.js';

export interface PasswordOptions {
  /**
   * PBKDF2 rounds spent on a role with a plaintext secret, or none that works, so that answering
   * takes as long as checking a SCRAM verifier of the default count. Default 4096.
   */
  iterations?: number;
  /** Key for the fake salt used in that wasted work (see mockSalt); default random per process. */
  mockNonce?: Uint8Array;
}

export class CleartextPasswordFlow implements AuthFlow {
  private secret?: Promise<StoredSecret>;
  private finished = false;

  constructor(
    private readonly user: string,
    private readonly lookup: SecretLookup,
    private readonly options: PasswordOptions = {},
  ) {}

  async start(): Promise<Uint8Array> {
    await this.resolveSecret();
    return authentication(AuthenticationCode.CleartextPassword);
  }

  async next(body: Uint8Array): Promise<{ send?: Uint8Array; done: boolean }> {
    if (this.finished) {
      throw asFatal(orbitError('protocol_violation', 'unexpected PasswordMessage after authentication ended'));
    }
    this.finished = true;
    // The body must be exactly one NUL-terminated string (PostgreSQL's recv_password_packet).
    if (body.length === 0 || body.indexOf(0) !== body.length - 1) {
      throw asFatal(orbitError('protocol_violation', 'invalid password packet size'));
    }
    // libpq never sends an empty password; PostgreSQL refuses one rather than compare it.
    if (body.length === 1) throw asFatal(orbitError('invalid_password', 'empty password returned by client'));
    if (!(await this.verify(body.subarray(0, body.length - 1)))) throw authenticationFailed(this.user);
    return { done: true };
  }

  private async verify(password: Uint8Array): Promise<boolean> {
    const stored = await this.resolveSecret();
    switch (stored.kind) {
      case 'scram':
        return verifyScramPassword(password, stored.secret);
      case 'plaintext':
      case 'unusable': {
        // Spend the PBKDF2 work of checking a verifier here too, so response time reveals neither a
        // missing role nor a plaintext secret.
        const salt = await mockSalt(this.user, this.options.mockNonce);
        await verifyScramPassword(password, mockScramSecret(salt, this.options.iterations ?? SCRAM_DEFAULT_ITERATIONS));
        // SASLprep both sides, so a plaintext secret accepts exactly what the verifier PostgreSQL
        // would have stored for it accepts (and what ScramSha256Flow accepts). Comparing digests keeps
        // the time independent of where, and whether by length, they differ.
        return (
          stored.kind === 'plaintext' &&
          timingSafeEqual(await sha256(scramPassword(password)), await sha256(scramPassword(stored.password)))
        );
      }
    }
  }

  private resolveSecret(): Promise<StoredSecret> {
    return (this.secret ??= this.lookup(this.user).then(classifySecret));
  }
}
