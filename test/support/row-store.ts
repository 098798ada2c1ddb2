/**
 * An in-thread PGlite row store from the cluster template (as `openOrbit` makes one), for tests that
 * compare TypeScript code with SQL run by PostgreSQL itself.
 */
import { readFileSync } from 'node:fs';
import { PGliteRowStore } from '../../src/rowstore/pglite.js';
import { TEMPLATE } from './server.js';

export async function openTestRowStore(): Promise<PGliteRowStore> {
  return PGliteRowStore.open({ dataDir: 'memory://', loadDataDir: new Blob([readFileSync(TEMPLATE)]) });
}

/** Microseconds since 2000-01-01 of a `YYYY-MM-DD[ HH:MM[:SS[.ffffff]]]` wall-clock (or UTC) time. */
export function micros(text: string): bigint {
  const m = /^(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,6}))?)?)?$/.exec(text);
  if (!m) throw new Error(`bad timestamp ${text}`);
  const d = new Date(0);
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), 0);
  return (BigInt(d.getTime()) - 946_684_800_000n) * 1000n + BigInt((m[7] ?? '').padEnd(6, '0') || '0');
}

/** Days since 2000-01-01 of `YYYY-MM-DD`. */
export function days(text: string): number {
  return Number(micros(text) / 86_400_000_000n);
}

/** Seeded PRNG (mulberry32): the same inputs on every run. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
