/**
 * @module wire/auth/types
 * The contract between the wire connection and an authentication method, and the errors every
 * method shares.
 */
import { OrbitError, orbitError } from '../../errors.js';

/** Authentication methods, named as in pg_hba.conf. */
export const AuthMethod = {
  trust: 'trust',
  password: 'password',
  scramSha256: 'scram-sha-256',
} as const;
export type AuthMethod = (typeof AuthMethod)[keyof typeof AuthMethod];

/** The Int32 request code of an Authentication ('R') message (protocol "Message Formats"). */
export const AuthenticationCode = {
  Ok: 0,
  CleartextPassword: 3,
  SASL: 10,
  SASLContinue: 11,
  SASLFinal: 12,
} as const;
export type AuthenticationCode = (typeof AuthenticationCode)[keyof typeof AuthenticationCode];

/** One authentication exchange with a client, driven by the connection. */
export interface AuthFlow {
  /** Backend messages to send right after the StartupMessage (e.g. AuthenticationSASL). */
  start(): Promise<Uint8Array>;
  /**
   * Handles the body of the client's next 'p' message (PasswordMessage / SASLInitialResponse /
   * SASLResponse). Returns bytes to send and whether authentication succeeded (done=true means
   * AuthenticationOk must follow — the flow does NOT send AuthenticationOk itself). Throws
   * OrbitError 28P01 with message `password authentication failed for user "<user>"` on a wrong
   * password, and 08P01 (protocol_violation) on malformed input. Errors have severity FATAL, as
   * PostgreSQL ends the connection on any error before authentication completes.
   */
  next(body: Uint8Array): Promise<{ send?: Uint8Array; done: boolean }>;
}

/**
 * Looks up a role's stored secret: a PostgreSQL SCRAM verifier
 * `SCRAM-SHA-256$<iterations>:<salt b64>$<StoredKey b64>:<ServerKey b64>` (as in
 * pg_authid.rolpassword) or a plaintext password; undefined if the role does not exist or cannot
 * log in.
 */
export type SecretLookup = (user: string) => Promise<string | undefined>;

/**
 * The one failure every method reports for a wrong password, an unknown role or a role that cannot
 * log in, so the client cannot tell them apart (PostgreSQL auth.c, auth_failed).
 */
export function authenticationFailed(user: string): OrbitError {
  return orbitError('invalid_password', `password authentication failed for user "${user}"`, { severity: 'FATAL' });
}

/** PostgreSQL raises every error before authentication completes as FATAL: the connection ends. */
export function asFatal(err: unknown): unknown {
  if (!(err instanceof OrbitError) || err.severity === 'FATAL') return err;
  return new OrbitError(err.code, err.message, { severity: 'FATAL', detail: err.detail, hint: err.hint, cause: err });
}
