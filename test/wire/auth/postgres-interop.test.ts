/**
 * Verifiers against real PostgreSQL (PGlite, PostgreSQL compiled to WASM; offline): PostgreSQL's
 * verifiers log in through Orbit's flows, Orbit's verifiers equal PostgreSQL's for the same salt,
 * and PostgreSQL stores Orbit's verifiers verbatim (so it recognises the format).
 */
import { createRequire } from 'node:module';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CleartextPasswordFlow,
  SCRAM_SHA_256,
  ScramSha256Flow,
  createScramVerifier,
  parseScramVerifier,
} from '../../../src/wire/auth/index.js';

interface PgSaslSession {
  mechanism: string;
  response: string;
}
interface PgSasl {
  startSession(mechanisms: string[]): PgSaslSession;
  continueSession(session: PgSaslSession, password: string, serverData: string): Promise<void>;
  finalizeSession(session: PgSaslSession, serverData: string): void;
}
const sasl = createRequire(import.meta.url)('pg/lib/crypto/sasl.js') as PgSasl;
const enc = new TextEncoder();
const dec = new TextDecoder();

// ASCII, SASLprep mappings, NFKC, prohibited characters and right-to-left text, valid or not. The
// later entries pair a prohibited or bidi-invalid character with one NFKC changes, so preparing
// when PostgreSQL hashes the raw bytes (or the reverse) shows up as a different verifier. `pgClient`
// is false where the pg client cannot log in to PostgreSQL either: its SASLprep skips the
// prohibition and bidi checks (see node_modules/pg/lib/crypto/sasl.js), so it prepares what
// PostgreSQL hashes raw.
const PASSWORDS: ReadonlyArray<{ password: string; pgClient: boolean }> = [
  { password: 'pencil', pgClient: true },
  { password: "it's a \"quote\"", pgClient: true },
  { password: 'p\u00e4ssw\u00f6rd\u00ad', pgClient: true },
  { password: '\u2168', pgClient: true },
  { password: 'a\u00a0b', pgClient: true },
  { password: '\u0627\u0031\u0628', pgClient: true },
  { password: '\u00e4\u0007', pgClient: true },
  { password: '\u05d0a\u05d1', pgClient: true },
  { password: '\u05d0\u00bd\u05d1', pgClient: true },
  { password: '\u05d0\u0031\u00bd\u05d1', pgClient: true },
  { password: '\u2168\u0007', pgClient: false },
  { password: '\u05d0\u2168\u05d1', pgClient: false },
  { password: '\u0627\u00aa\u0628', pgClient: false },
  { password: '\u05d0\u0966\u00bd\u05d1', pgClient: false },
];

const authData = (msg: Uint8Array | undefined) => dec.decode(msg!.subarray(9));
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

let db: PGlite;
const verifiers = new Map<string, string>();

beforeAll(async () => {
  db = await PGlite.create();
  await db.exec(`SET password_encryption = 'scram-sha-256'`);
  for (const [i, { password }] of PASSWORDS.entries()) {
    await db.exec(`CREATE ROLE role_${i} LOGIN PASSWORD ${literal(password)}`);
    const { rows } = await db.query<{ rolpassword: string }>(`SELECT rolpassword FROM pg_authid WHERE rolname = 'role_${i}'`);
    verifiers.set(password, rows[0]!.rolpassword);
  }
}, 120_000);

afterAll(async () => {
  await db?.close();
});

describe.each(PASSWORDS.map((p, i) => ({ i, ...p })))('password $i ($password)', ({ password, pgClient }) => {
  const lookup = async () => verifiers.get(password);

  it('createScramVerifier equals PostgreSQL with the same salt and count', async () => {
    const theirs = verifiers.get(password)!;
    const { salt, iterations } = parseScramVerifier(theirs)!;
    expect(await createScramVerifier(password, iterations, salt)).toBe(theirs);
  });

  it("logs in with PostgreSQL's verifier through cleartext", async () => {
    const cleartext = new CleartextPasswordFlow('alice', lookup);
    await cleartext.start();
    expect(await cleartext.next(new Uint8Array([...enc.encode(password), 0]))).toEqual({ done: true });
  });

  it.runIf(pgClient)("logs in with PostgreSQL's verifier through SCRAM (pg client)", async () => {
    const scram = new ScramSha256Flow('alice', lookup);
    await scram.start();
    const session = sasl.startSession([SCRAM_SHA_256]);
    const first = enc.encode(session.response);
    const cont = await scram.next(new Uint8Array([...enc.encode(SCRAM_SHA_256), 0, ...int32(first.length), ...first]));
    await sasl.continueSession(session, password, authData(cont.send));
    const fin = await scram.next(enc.encode(session.response));
    expect(fin.done).toBe(true);
    sasl.finalizeSession(session, authData(fin.send));
  });
});

it('PostgreSQL stores a verifier made by Orbit verbatim', async () => {
  const ours = await createScramVerifier('pencil');
  await db.exec(`CREATE ROLE orbit_made LOGIN PASSWORD ${literal(ours)}`);
  const { rows } = await db.query<{ rolpassword: string }>(`SELECT rolpassword FROM pg_authid WHERE rolname = 'orbit_made'`);
  expect(rows[0]!.rolpassword).toBe(ours);
});

function int32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}
