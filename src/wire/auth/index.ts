/**
 * @module wire/auth
 * Server-side authentication flows of the wire protocol.
 */
import { orbitError } from '../../errors.js';
import { CleartextPasswordFlow } from './password.js';
import { ScramSha256Flow } from './scram-sha-256.js';
import { AuthMethod, type AuthFlow, type SecretLookup } from './types.js';

// The connection's contract with a method, and the shared failure
export { AuthMethod, AuthenticationCode, authenticationFailed, type AuthFlow, type SecretLookup } from './types.js';
// Methods
export { CleartextPasswordFlow, type PasswordOptions } from './password.js';
export { SCRAM_SHA_256, ScramSha256Flow, type ScramOptions } from './scram-sha-256.js';
// Stored secrets (pg_authid.rolpassword)
export {
  SCRAM_DEFAULT_ITERATIONS,
  classifySecret,
  createScramVerifier,
  isScramVerifier,
  parseScramVerifier,
  type ScramSecret,
  type StoredSecret,
} from './scram-verifier.js';
export { saslprep } from './saslprep.js';

/** The flow for a pg_hba-style method, or undefined for trust (send AuthenticationOk at once). */
export function createAuthFlow(method: AuthMethod, user: string, lookup: SecretLookup): AuthFlow | undefined {
  switch (method) {
    case AuthMethod.trust:
      return undefined;
    case AuthMethod.password:
      return new CleartextPasswordFlow(user, lookup);
    case AuthMethod.scramSha256:
      return new ScramSha256Flow(user, lookup);
    default:
      // A method name from configuration that is not known must never fall back to trust.
      throw orbitError('invalid_parameter_value', `unknown authentication method "${String(method satisfies never)}"`);
  }
}
