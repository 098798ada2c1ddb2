/**
 * The shared smoke suite (test/support/smoke-suite.ts) on Node's runtime entry, against answers written
 * out here. test/runtimes/browser/smoke.test.ts checks that the browser gives the same answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrbit, type Orbit } from '../../../src/runtime/node.js';
import { runSmoke, SMOKE_STEPS, type SmokeResult } from '../../support/smoke-suite.js';
import { TEMPLATE } from '../../support/server.js';

/** What PostgreSQL answers, as the suite's JSON form (ISO dates, `\x` hex bytes, numerics as strings). */
const EXPECTED: SmokeResult[] = [
  { step: 'create table', rows: [] },
  { step: 'multi-row insert', rows: [], affectedRows: 4 },
  { step: 'select with params', rows: [{ id: 3, device: 'a', temp: '22.75' }] },
  {
    step: 'aggregates',
    rows: [
      { device: 'a', n: 2, total: '43.25', mean: '21.625', first: '2025-03-01T00:00:00.000Z', last: '2025-03-01T01:00:00.000Z' },
      { device: 'b', n: 2, total: '16.15', mean: '8.075', first: '2025-03-01T00:30:00.000Z', last: '2025-03-02T23:45:00.000Z' },
    ],
  },
  { step: 'set time zone', rows: [] },
  { step: 'show time zone', rows: [{ TimeZone: 'America/New_York' }] },
  {
    step: 'timestamptz in the session time zone',
    rows: [
      {
        id: 1,
        ts: '2025-03-01T00:00:00.000Z',
        local: '2025-02-28 19:00:00-05',
        local_day: '2025-02-28T05:00:00.000Z',
        formatted: '2025-02-28 19:00 EST',
        hour: 19,
      },
      {
        id: 4,
        ts: '2025-03-02T23:45:00.000Z',
        local: '2025-03-02 18:45:00-05',
        local_day: '2025-03-02T05:00:00.000Z',
        formatted: '2025-03-02 18:45 EST',
        hour: 18,
      },
    ],
  },
  {
    step: 'timestamptz params',
    rows: [{ t: '2025-06-15T12:34:56.789Z', later: '2025-06-15T14:04:56.789Z', d: '2025-12-31T00:00:00.000Z' }],
  },
  {
    step: 'numeric',
    rows: [
      {
        exact: '0.3',
        third: '3.3333',
        wide: '123456789012345678901.234567890',
        rounded: '3',
        inexact: 0.30000000000000004,
        big: '9007199254740993',
        small_big: 42,
      },
    ],
  },
  {
    step: 'jsonb',
    rows: [
      {
        id: 1,
        meta: { unit: 'C', limits: [0, 40] },
        unit: 'C',
        limits: [0, 40],
        nested_n: null,
        built: { id: 1, list: [1, 'two', null] },
        echoed: { k: [1, { deep: 'ü' }] },
      },
      {
        id: 4,
        meta: { nested: { n: 1.5, ok: true } },
        unit: null,
        limits: null,
        nested_n: 1.5,
        built: { id: 4, list: [1, 'two', null] },
        echoed: { k: [1, { deep: 'ü' }] },
      },
    ],
  },
  {
    step: 'arrays',
    rows: [
      { id: 1, tags: ['hot', 'roof'], n: 2, echoed: ['x', 'y z', '"q"'], ints: [1, 2, 3], all_ids: [1, 2, 3] },
      { id: 2, tags: [], n: 0, echoed: ['x', 'y z', '"q"'], ints: [1, 2, 3], all_ids: [1, 2, 3] },
      { id: 3, tags: ['with space', 'quote"d'], n: 2, echoed: ['x', 'y z', '"q"'], ints: [1, 2, 3], all_ids: [1, 2, 3] },
    ],
  },
  {
    step: 'bytea',
    rows: [
      { id: 1, raw: '\\xdeadbeef', len: 4, echoed: '\\x00017f80ff', decoded: '\\xcafe' },
      { id: 2, raw: '\\x', len: 0, echoed: '\\x00017f80ff', decoded: '\\xcafe' },
      { id: 3, raw: '\\x00ff', len: 2, echoed: '\\x00017f80ff', decoded: '\\xcafe' },
    ],
  },
  {
    step: 'exec several statements',
    results: [
      [],
      [
        { id: 2, temp: '20.25' },
        { id: 4, temp: '-2.10' },
      ],
      [{ n: 4 }],
    ],
  },
  { step: 'transaction commits', results: [[], [], [{ n: 6 }]] },
  { step: 'transaction rolls back when its function throws', rolledBack: true },
  { step: 'transaction rolls back on a statement error', error: '23505' },
  {
    step: 'only committed rows remain',
    rows: [
      { id: 1, device: 'a' },
      { id: 2, device: 'b' },
      { id: 3, device: 'a' },
      { id: 4, device: 'b' },
      { id: 5, device: 'c' },
      { id: 6, device: 'c' },
    ],
  },
  { step: 'division by zero', error: '22012' },
  { step: 'undefined table', error: '42P01' },
  { step: 'unique violation', error: '23505' },
  { step: 'syntax error', error: '42601' },
  { step: 'temporary table refused in-process', error: '0A000' },
  { step: 'session survives errors', results: [[{ TimeZone: 'America/New_York' }], [], [{ TimeZone: 'UTC' }], [{ n: 6 }]] },
];

describe('smoke suite on Node (memory://, from the cluster template)', () => {
  let db: Orbit | undefined;
  let results: SmokeResult[] = [];

  beforeAll(async () => {
    db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE });
    results = await runSmoke(db);
  });

  afterAll(async () => {
    await db?.close();
  });

  it('runs every step once, in order', () => {
    expect(results.map((r) => r.step)).toEqual(SMOKE_STEPS.map((s) => s.name));
    expect(EXPECTED.map((r) => r.step)).toEqual(SMOKE_STEPS.map((s) => s.name));
  });

  it.each(EXPECTED.map((expected) => [expected.step, expected] as const))('%s', (name, expected) => {
    expect(results.find((r) => r.step === name)).toEqual(expected);
  });
});
