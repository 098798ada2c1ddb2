import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { OrbitError } from '../../../src/errors.js';
import { decodeBase64 } from '../../../src/wire/auth/base64.js';
import {
  SCRAM_SHA_256,
  ScramSha256Flow,
  createScramVerifier,
  parseScramVerifier,
  type ScramOptions,
} from '../../../src/wire/auth/scram-sha-256.js';
import type { AuthFlow, SecretLookup } from '../../../src/wire/auth/types.js';

/** The `pg` client's own SCRAM implementation plays the client (node_modules/pg/lib/crypto/sasl.js). */
interface PgSaslSession {
  mechanism: string;
  response: string;
}
interface PgSasl {
  startSession(mechanisms: string[], stream?: object): PgSaslSession;
  continueSession(session: PgSaslSession, password: string, serverData: string, stream?: object): Promise<void>;
  finalizeSession(session: PgSaslSession, serverData: string): void;
}
const sasl = createRequire(import.meta.url)('pg/lib/crypto/sasl.js') as PgSasl;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Splits an Authentication ('R') message into its request code and data. */
function parseAuth(msg: Uint8Array | undefined): { code: number; data: Uint8Array } {
  expect(msg).toBeDefined();
  const view = new DataView(msg!.buffer, msg!.byteOffset, msg!.byteLength);
  expect(msg![0]).toBe(0x52);
  expect(view.getInt32(1)).toBe(msg!.length - 1);
  return { code: view.getInt32(5), data: msg!.subarray(9) };
}

function text(data: Uint8Array): string {
  return dec.decode(data);
}

/** SASLInitialResponse body; `data` undefined sends length -1 (no initial response). */
function initialResponse(mechanism: string, data?: string | Uint8Array): Uint8Array {
  const mech = enc.encode(mechanism);
  const bytes = typeof data === 'string' ? enc.encode(data) : data;
  const out = new Uint8Array(mech.length + 5 + (bytes?.length ?? 0));
  out.set(mech);
  new DataView(out.buffer).setInt32(mech.length + 1, bytes ? bytes.length : -1);
  if (bytes) out.set(bytes, mech.length + 5);
  return out;
}

const secretOf =
  (secrets: Record<string, string>): SecretLookup =>
  async (user) =>
    secrets[user];

async function expectError(promise: Promise<unknown>, code: string, message?: string | RegExp, detail?: string) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OrbitError);
  const e = err as OrbitError;
  expect(e.code).toBe(code);
  expect(e.severity).toBe('FATAL');
  if (typeof message === 'string') expect(e.message).toBe(message);
  else if (message) expect(e.message).toMatch(message);
  if (detail !== undefined) expect(e.detail).toBe(detail);
  return e;
}

/** A whole exchange with the pg client; `stream` makes it send the "y" gs2 flag. */
async function pgLogin(flow: AuthFlow, password: string, stream?: object): Promise<void> {
  const first = parseAuth(await flow.start());
  expect(first.code).toBe(10);
  expect(first.data).toEqual(enc.encode(`${SCRAM_SHA_256}\0\0`));
  const session = sasl.startSession([SCRAM_SHA_256], stream);
  const cont = await flow.next(initialResponse(session.mechanism, session.response));
  expect(cont.done).toBe(false);
  const serverFirst = parseAuth(cont.send);
  expect(serverFirst.code).toBe(11);
  await sasl.continueSession(session, password, text(serverFirst.data), stream);
  const fin = await flow.next(enc.encode(session.response));
  expect(fin.done).toBe(true);
  const serverFinal = parseAuth(fin.send);
  expect(serverFinal.code).toBe(12);
  sasl.finalizeSession(session, text(serverFinal.data));
}

/** Salt and iteration count a client is shown for `user` (first half of an exchange). */
async function serverFirstFor(flow: AuthFlow): Promise<Map<string, string>> {
  await flow.start();
  const cont = await flow.next(initialResponse(SCRAM_SHA_256, 'n,,n=,r=abcdef'));
  return new Map(text(parseAuth(cont.send).data).split(',').map((kv) => [kv[0]!, kv.slice(2)]));
}

// RFC 7677 section 3.
const RFC = {
  salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal:
    'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

describe('createScramVerifier / parseScramVerifier', () => {
  it('produces pg_authid.rolpassword format, matching an independent node:crypto derivation', async () => {
    const salt = decodeBase64(RFC.salt)!;
    const verifier = await createScramVerifier('pencil', 4096, salt);
    const salted = pbkdf2Sync('pencil', salt, 4096, 32, 'sha256');
    const storedKey = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest();
    const serverKey = createHmac('sha256', salted).update('Server Key').digest();
    expect(verifier).toBe(`SCRAM-SHA-256$4096:${RFC.salt}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`);

    const parsed = parseScramVerifier(verifier)!;
    expect(parsed.iterations).toBe(4096);
    expect(parsed.salt).toEqual(salt);
    expect(parsed.storedKey).toEqual(new Uint8Array(storedKey));
    expect(parsed.serverKey).toEqual(new Uint8Array(serverKey));
  });

  it('defaults to 4096 iterations and a random 16-byte salt', async () => {
    const a = parseScramVerifier(await createScramVerifier('pencil'))!;
    const b = parseScramVerifier(await createScramVerifier('pencil'))!;
    expect(a.iterations).toBe(4096);
    expect(a.salt.length).toBe(16);
    expect(a.salt).not.toEqual(b.salt);
  });

  it('rejects what PostgreSQL would not store', async () => {
    await expect(createScramVerifier('')).rejects.toMatchObject({ code: '22023' });
    await expect(createScramVerifier('x', 0)).rejects.toMatchObject({ code: '22023' });
    await expect(createScramVerifier('x', 4096, new Uint8Array(0))).rejects.toMatchObject({ code: '22023' });
  });

  it('parses only well-formed verifiers', async () => {
    const good = await createScramVerifier('pencil', 4096, decodeBase64(RFC.salt));
    const [, rest] = good.split('$4096:');
    for (const bad of [
      'pencil',
      good.replace('SCRAM-SHA-256', 'SCRAM-SHA-1'),
      good.replace('$4096:', '$0:'),
      good.replace('$4096:', '$-1:'),
      good.replace('$4096:', '$40x6:'),
      `SCRAM-SHA-256$4096:!!!!${rest!.slice(4)}`,
      good.slice(0, -4),
      `${good}AAAA`,
      good.replace(/:[^:]*$/, ''),
    ]) {
      expect(parseScramVerifier(bad), bad).toBeUndefined();
    }
  });
});

describe('ScramSha256Flow: RFC 7677 known answer', () => {
  it('sends the RFC server-first and server-final messages for the RFC client', async () => {
    const verifier = await createScramVerifier('pencil', 4096, decodeBase64(RFC.salt));
    const flow = new ScramSha256Flow('user', secretOf({ user: verifier }), { serverNonce: () => RFC.serverNonce });
    expect(parseAuth(await flow.start()).code).toBe(10);
    const cont = await flow.next(initialResponse(SCRAM_SHA_256, RFC.clientFirst));
    expect(cont.done).toBe(false);
    expect(parseAuth(cont.send)).toEqual({ code: 11, data: enc.encode(RFC.serverFirst) });
    const fin = await flow.next(enc.encode(RFC.clientFinal));
    expect(fin.done).toBe(true);
    expect(parseAuth(fin.send)).toEqual({ code: 12, data: enc.encode(RFC.serverFinal) });
  });

  it('rejects the RFC proof for a plaintext secret, whose derived verifier has another salt', async () => {
    const flow = new ScramSha256Flow('user', secretOf({ user: 'pencil' }), { serverNonce: () => RFC.serverNonce });
    await flow.start();
    await flow.next(initialResponse(SCRAM_SHA_256, RFC.clientFirst));
    await expectError(flow.next(enc.encode(RFC.clientFinal)), '28P01', 'password authentication failed for user "user"');
  });
});

describe('ScramSha256Flow against the pg client', () => {
  const lookup = (secrets: Record<string, string>, options?: ScramOptions) => (user: string) =>
    new ScramSha256Flow(user, secretOf(secrets), options);

  it('logs in with the right password, from a verifier or a plaintext secret', async () => {
    const verifier = await createScramVerifier('s3cret');
    const flows = lookup({ alice: verifier, bob: 'hunter2' });
    await pgLogin(flows('alice'), 's3cret');
    await pgLogin(flows('bob'), 'hunter2');
  });

  it('accepts the "y" gs2 flag (client supports channel binding, server offers none)', async () => {
    const flows = lookup({ alice: await createScramVerifier('s3cret') });
    await pgLogin(flows('alice'), 's3cret', {});
  });

  it('applies SASLprep like the client does', async () => {
    const flows = lookup({ carol: 'I\u00ADX', dave: await createScramVerifier('\u2168') });
    await pgLogin(flows('carol'), 'IX');
    await pgLogin(flows('dave'), 'IX');
  });

  it('fails a wrong password with 28P01', async () => {
    const flows = lookup({ alice: await createScramVerifier('s3cret'), bob: 'hunter2' });
    await expectError(pgLogin(flows('alice'), 'wrong'), '28P01', 'password authentication failed for user "alice"');
    await expectError(pgLogin(flows('bob'), 'wrong'), '28P01', 'password authentication failed for user "bob"');
  });

  it('runs a mock exchange for unknown roles and fails it like a wrong password', async () => {
    const flows = lookup({});
    await expectError(pgLogin(flows('mallory'), 'anything'), '28P01', 'password authentication failed for user "mallory"');
  });

  it('fails roles whose secret cannot be used, after a full exchange', async () => {
    const verifier = await createScramVerifier('s3cret');
    const flows = lookup({
      md5: 'md5' + '0123456789abcdef'.repeat(2),
      damaged: verifier.slice(0, -4),
      empty: '',
    });
    await expectError(pgLogin(flows('md5'), 'md5' + '0123456789abcdef'.repeat(2)), '28P01');
    await expectError(pgLogin(flows('damaged'), verifier.slice(0, -4)), '28P01');
    await expectError(pgLogin(flows('empty'), 'x'), '28P01');
  });

  it('shows unknown roles a stable salt of the same shape as real ones', async () => {
    const real = await createScramVerifier('s3cret');
    const flows = lookup({ alice: real, bob: 'hunter2' });
    const unknown1 = await serverFirstFor(flows('mallory'));
    const unknown2 = await serverFirstFor(flows('mallory'));
    const other = await serverFirstFor(flows('trudy'));
    const alice = await serverFirstFor(flows('alice'));
    const bob1 = await serverFirstFor(flows('bob'));
    const bob2 = await serverFirstFor(flows('bob'));
    expect(unknown1.get('s')).toBe(unknown2.get('s'));
    expect(unknown1.get('s')).not.toBe(other.get('s'));
    expect(bob1.get('s')).toBe(bob2.get('s'));
    for (const m of [unknown1, alice, bob1]) {
      expect(m.get('i')).toBe('4096');
      expect(m.get('s')).toHaveLength(24);
      expect(m.get('r')).toMatch(/^abcdef[A-Za-z0-9+/]{24}$/);
    }
    expect(alice.get('s')).toBe(real.split(/[:$]/)[2]);
  });

  it('uses a supplied mock nonce, so fake salts survive restarts', async () => {
    const mockNonce = new Uint8Array(32).fill(7);
    const a = await serverFirstFor(lookup({}, { mockNonce })('mallory'));
    const b = await serverFirstFor(lookup({}, { mockNonce })('mallory'));
    expect(a.get('s')).toBe(b.get('s'));
  });

  it('sends an empty challenge when the client gives no initial response', async () => {
    const flow = lookup({ alice: await createScramVerifier('s3cret') })('alice');
    await flow.start();
    const empty = await flow.next(initialResponse(SCRAM_SHA_256));
    expect(parseAuth(empty.send)).toEqual({ code: 11, data: new Uint8Array(0) });
    const session = sasl.startSession([SCRAM_SHA_256]);
    const cont = await flow.next(enc.encode(session.response));
    await sasl.continueSession(session, 's3cret', text(parseAuth(cont.send).data));
    const fin = await flow.next(enc.encode(session.response));
    expect(fin.done).toBe(true);
    sasl.finalizeSession(session, text(parseAuth(fin.send).data));
  });
});

describe('ScramSha256Flow: malformed messages', () => {
  const FIRST = 'n,,n=,r=abcdef';
  async function afterFirst(): Promise<{ flow: ScramSha256Flow; nonce: string }> {
    const flow = new ScramSha256Flow('alice', secretOf({ alice: await createScramVerifier('s3cret') }));
    await flow.start();
    const cont = await flow.next(initialResponse(SCRAM_SHA_256, FIRST));
    const nonce = text(parseAuth(cont.send).data).split(',')[0]!.slice(2);
    return { flow, nonce };
  }
  const PROOF = 'p=' + Buffer.alloc(32).toString('base64');

  it.each([
    ['an unknown mechanism', initialResponse('SCRAM-SHA-256-PLUS', FIRST), 'client selected an invalid SASL authentication mechanism'],
    ['a missing length', enc.encode(`${SCRAM_SHA_256}\0`), /^invalid message format/],
    ['a length past the end', initialResponse(SCRAM_SHA_256, FIRST).subarray(0, 20), /^invalid message format/],
    ['trailing bytes', new Uint8Array([...initialResponse(SCRAM_SHA_256, FIRST), 0]), /^invalid message format/],
    ['an empty message', initialResponse(SCRAM_SHA_256, ''), 'malformed SCRAM message', 'The message is empty.'],
    ['a NUL byte', initialResponse(SCRAM_SHA_256, 'n,,n=\0,r=abc'), 'malformed SCRAM message', 'Message length does not match input length.'],
    [
      'channel binding',
      initialResponse(SCRAM_SHA_256, 'p=tls-server-end-point,,n=,r=abc'),
      'malformed SCRAM message',
      'The client selected SCRAM-SHA-256 without channel binding, but the SCRAM message includes channel binding data.',
    ],
    ['a bad gs2 flag', initialResponse(SCRAM_SHA_256, 'x,,n=,r=abc'), 'malformed SCRAM message', `Unexpected channel-binding flag "'x'".`],
    ['no comma after the flag', initialResponse(SCRAM_SHA_256, 'n=,r=abc'), 'malformed SCRAM message', `Comma expected, but found character "'='".`],
    ['a missing user name', initialResponse(SCRAM_SHA_256, 'n,,r=abc'), 'malformed SCRAM message', `Expected attribute "n" but found "'r'".`],
    ['a missing nonce', initialResponse(SCRAM_SHA_256, 'n,,n='), 'malformed SCRAM message', 'Expected attribute "r" but found "0x00".'],
    ['an attribute without "="', initialResponse(SCRAM_SHA_256, 'n,,n=,r'), 'malformed SCRAM message', 'Expected character "=" for attribute "r".'],
    ['a non-printable nonce', initialResponse(SCRAM_SHA_256, 'n,,n=,r=ab\u00e9'), 'non-printable characters in SCRAM nonce'],
    ['a bad extension', initialResponse(SCRAM_SHA_256, 'n,,n=,r=abc,1=x'), 'malformed SCRAM message', `Attribute expected, but found invalid character "'1'".`],
  ])('rejects a client-first-message with %s (08P01)', async (_name, body, message, detail?: string) => {
    const flow = new ScramSha256Flow('alice', secretOf({}));
    await flow.start();
    await expectError(flow.next(body), '08P01', message, detail);
  });

  it('rejects an authorization identity and mandatory extensions (0A000)', async () => {
    for (const first of ['n,a=bob,n=,r=abc', 'n,,m=ext,n=,r=abc']) {
      const flow = new ScramSha256Flow('alice', secretOf({}));
      await flow.start();
      await expectError(flow.next(initialResponse(SCRAM_SHA_256, first)), '0A000');
    }
  });

  it.each([
    ['a channel-binding mismatch', (n: string) => `c=eSws,r=${n},${PROOF}`, 'unexpected SCRAM channel-binding attribute in client-final-message'],
    ['channel-binding data', (n: string) => `c=cD10bHM=,r=${n},${PROOF}`, 'unexpected SCRAM channel-binding attribute in client-final-message'],
    ['a missing channel binding', (n: string) => `r=${n},${PROOF}`, 'malformed SCRAM message'],
    ['a wrong nonce', () => `c=biws,r=abcdefWRONGNONCE,${PROOF}`, 'invalid SCRAM response', 'Nonce does not match.'],
    ['a missing proof', (n: string) => `c=biws,r=${n}`, 'malformed SCRAM message', 'Attribute expected, but found end of string.'],
    ['a short proof', (n: string) => `c=biws,r=${n},p=AAAA`, 'malformed SCRAM message', 'Malformed proof in client-final-message.'],
    ['a non-base64 proof', (n: string) => `c=biws,r=${n},p=!!!!`, 'malformed SCRAM message', 'Malformed proof in client-final-message.'],
    ['garbage after the proof', (n: string) => `c=biws,r=${n},${PROOF},x=1`, 'malformed SCRAM message', 'Garbage found at the end of client-final-message.'],
  ])('rejects a client-final-message with %s (08P01)', async (_name, final, message, detail?: string) => {
    const { flow, nonce } = await afterFirst();
    await expectError(flow.next(enc.encode(final(nonce))), '08P01', message, detail);
  });

  it('ignores extensions before the proof, and still checks the proof', async () => {
    const { flow, nonce } = await afterFirst();
    await expectError(flow.next(enc.encode(`c=biws,r=${nonce},x=ext,${PROOF}`)), '28P01');
  });

  it('rejects any message after the exchange ended (08P01)', async () => {
    const { flow, nonce } = await afterFirst();
    await expectError(flow.next(enc.encode(`c=biws,r=${nonce},${PROOF}`)), '28P01');
    await expectError(flow.next(enc.encode(`c=biws,r=${nonce},${PROOF}`)), '08P01');
  });
});
