import { describe, expect, it } from 'vitest';
import { OrbitError } from '../../../src/errors.js';
import { AuthMethod, CleartextPasswordFlow, ScramSha256Flow, createAuthFlow, createScramVerifier } from '../../../src/wire/auth/index.js';
import type { SecretLookup } from '../../../src/wire/auth/types.js';

const enc = new TextEncoder();

/** PasswordMessage body: the password as a NUL-terminated string. */
function passwordMessage(password: string | Uint8Array): Uint8Array {
  const bytes = typeof password === 'string' ? enc.encode(password) : password;
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

const secretOf =
  (secrets: Record<string, string>): SecretLookup =>
  async (user) =>
    secrets[user];

async function expectError(promise: Promise<unknown>, code: string, message?: string) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OrbitError);
  expect((err as OrbitError).code).toBe(code);
  expect((err as OrbitError).severity).toBe('FATAL');
  if (message !== undefined) expect((err as OrbitError).message).toBe(message);
}

async function login(secrets: Record<string, string>, user: string, password: string | Uint8Array) {
  const flow = new CleartextPasswordFlow(user, secretOf(secrets));
  await flow.start();
  return flow.next(passwordMessage(password));
}

describe('CleartextPasswordFlow', () => {
  it('asks with AuthenticationCleartextPassword (R, length 8, code 3)', async () => {
    const flow = new CleartextPasswordFlow('alice', secretOf({ alice: 'x' }));
    expect(await flow.start()).toEqual(new Uint8Array([0x52, 0, 0, 0, 8, 0, 0, 0, 3]));
  });

  it('accepts the right password against a plaintext secret or a SCRAM verifier, sending nothing', async () => {
    const secrets = { alice: 'hunter2', bob: await createScramVerifier('s3cret') };
    expect(await login(secrets, 'alice', 'hunter2')).toEqual({ done: true });
    expect(await login(secrets, 'bob', 's3cret')).toEqual({ done: true });
  });

  it('checks verifiers through SASLprep, as PostgreSQL does', async () => {
    const secrets = { carol: await createScramVerifier('IX'), dave: await createScramVerifier('I\u00ADX') };
    expect(await login(secrets, 'carol', '\u2168')).toEqual({ done: true });
    expect(await login(secrets, 'dave', 'IX')).toEqual({ done: true });
  });

  it('applies SASLprep to plaintext secrets too, so every method accepts the same passwords', async () => {
    const secrets = { erin: 'p\u00e4ss' };
    expect(await login(secrets, 'erin', 'p\u00e4ss')).toEqual({ done: true });
    expect(await login(secrets, 'erin', 'pa\u0308ss')).toEqual({ done: true });
    await expectError(login(secrets, 'erin', 'pass'), '28P01');
  });

  it('fails a wrong password, an unknown role and unusable secrets with the same 28P01', async () => {
    const verifier = await createScramVerifier('s3cret');
    const secrets = { alice: 'hunter2', bob: verifier, md5: 'md5' + 'ab'.repeat(16), damaged: verifier.slice(0, -4) };
    for (const [user, password] of [
      ['alice', 'hunter3'],
      ['alice', 'hunter2 '],
      ['bob', 'wrong'],
      ['bob', verifier],
      ['mallory', 'anything'],
      ['md5', 'md5' + 'ab'.repeat(16)],
      ['damaged', verifier.slice(0, -4)],
    ] as const) {
      await expectError(login(secrets, user, password), '28P01', `password authentication failed for user "${user}"`);
    }
  });

  it('refuses an empty password (28P01), as PostgreSQL does', async () => {
    await expectError(login({ alice: 'x' }, 'alice', ''), '28P01', 'empty password returned by client');
  });

  it.each([
    ['an empty body', new Uint8Array(0)],
    ['no terminator', enc.encode('hunter2')],
    ['a NUL inside', passwordMessage('hun\0ter2')],
  ])('rejects a PasswordMessage with %s (08P01)', async (_name, body) => {
    const flow = new CleartextPasswordFlow('alice', secretOf({ alice: 'hunter2' }));
    await flow.start();
    await expectError(flow.next(body), '08P01', 'invalid password packet size');
  });

  it('rejects a second PasswordMessage (08P01)', async () => {
    const flow = new CleartextPasswordFlow('alice', secretOf({ alice: 'hunter2' }));
    await flow.start();
    await flow.next(passwordMessage('hunter2'));
    await expectError(flow.next(passwordMessage('hunter2')), '08P01');
  });
});

describe('createAuthFlow', () => {
  const lookup = secretOf({});
  it('returns no flow for trust and one flow per password method', () => {
    expect(createAuthFlow(AuthMethod.trust, 'alice', lookup)).toBeUndefined();
    expect(createAuthFlow(AuthMethod.password, 'alice', lookup)).toBeInstanceOf(CleartextPasswordFlow);
    expect(createAuthFlow(AuthMethod.scramSha256, 'alice', lookup)).toBeInstanceOf(ScramSha256Flow);
  });

  it('never treats an unknown method as trust', () => {
    expect(() => createAuthFlow('md5' as AuthMethod, 'alice', lookup)).toThrow(OrbitError);
  });
});
