/**
 * asyncpg 0.27 (Debian python3-asyncpg) against Orbit: named statements sent as Parse + Describe +
 * Flush, binary parameters and results, type introspection for arrays/enums/composites/domains,
 * executemany, binary COPY, pools that reset connections on release. fixtures/asyncpg_smoke.py does
 * the work and prints JSON; each test checks one habit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { runPythonJson } from './run.js';

let server: TestServer;
let out: Record<string, any>;

beforeAll(async () => {
  server = await startTestServer();
  out = await runPythonJson('asyncpg_smoke.py', [String(server.port)]);
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe('asyncpg', () => {
  it('parses the server version and settings', () => {
    expect(out.server_version).toEqual([18, 0, 6]);
    expect(out.settings).toEqual({ client_encoding: 'UTF8', DateStyle: 'ISO, MDY', integer_datetimes: 'on' });
  });

  it('round-trips binary parameters and results, introspecting enum, domain and array types', () => {
    expect(out.row).toEqual({
      id: 1,
      name: 'first',
      mood: 'happy',
      tags: [1, null, 3],
      price: '-12.345',
      at: '2024-05-06T07:08:09.101112+00:00',
      doc: { x: [1, 2] },
      uid: 'abcdefab-0000-1111-2222-333344445555',
      pos: 5,
    });
    expect(out.int4_array).toEqual([10, 20, null, 40]);
    expect(out.int4_array_2d).toEqual([[1, 2], [3, 4]]);
    expect(out.enum_array).toEqual(['sad', 'ok']);
    expect(out.composite).toEqual([7, 'seven']);
    expect(out.range).toEqual([1, 10, true, false]);
    expect(out.numeric_edge).toEqual(['NaN', '0.000001', '123456789012345678901234567890.123456789', '-0.5']);
    expect(out.interval).toBe(3 * 86400 + 4 * 3600 + 5 * 60 + 6.789);
    expect(out.domain_violation).toEqual({ sqlstate: '23514', class: 'CheckViolationError' });
    expect(out.enum_bad).toEqual({ sqlstate: '22P02', class: 'InvalidTextRepresentationError' });
    expect(out.jsonb_codec).toEqual({ a: 1, b: 2 });
  });

  it('prepares named statements and describes their parameters and columns', () => {
    expect(out.stmt_params).toEqual(['int4', 'int4', 'text']);
    expect(out.stmt_attrs).toEqual([['total', 'int4'], ['label', 'text']]);
    expect(out.stmt_values).toEqual([[0, 'n0'], [2, 'n1'], [4, 'n2']]);
    expect(out.fetchval_maxrows).toBe(5);
  });

  it('runs executemany, and a failing executemany leaves nothing behind', () => {
    expect(out.executemany).toEqual(['1000', '62437.500', '333']);
    expect(out.executemany_error).toEqual({ sqlstate: '23505', class: 'UniqueViolationError' });
    expect(out.executemany_error_left).toBe(0);
  });

  it('raises errors with the right sqlstate and fields', () => {
    expect(out.errors).toEqual({
      unique: { sqlstate: '23505', class: 'UniqueViolationError' },
      undefined_table: { sqlstate: '42P01', class: 'UndefinedTableError' },
      division_by_zero: { sqlstate: '22012', class: 'DivisionByZeroError' },
      syntax: { sqlstate: '42601', class: 'PostgresSyntaxError' },
      bad_cast: { sqlstate: '22P02', class: 'InvalidTextRepresentationError' },
    });
    expect(out.unique_fields).toEqual({ constraint: 'ap_items_name_key', table: 'ap_items', detail: 'Key (name)=(first) already exists.' });
  });

  it('runs transaction() blocks, nested savepoints, read-only serializable, and cursors', () => {
    expect(out.tx_names).toEqual(['tx1', 'tx3']);
    expect(out.tx_readonly).toEqual(['serializable', 'on']);
    expect(out.tx_readonly_write).toEqual({ sqlstate: '25006', class: 'ReadOnlySQLTransactionError' });
    expect(out.cursor).toEqual([2500, (2500 * 2501) / 2]);
  });

  it('copies records in binary (copy_records_to_table) and out with copy_from_query / copy_from_table', () => {
    expect(out.copy_records).toBe('COPY 100000');
    expect(out.copy_records_check).toEqual(['100000', '4999950000', '2024-07-14 17:47:09.101112+00:00', '33333', '1666650000.00']);
    expect(out.copy_from_query).toBe('COPY 3');
    expect(out.copy_from_query_data).toBe('id,v\n0,v0v0v0v0v0v0v0v0\n1,v1v1v1v1v1v1v1v1\n2,v2v2v2v2v2v2v2v2\n');
    expect(out.copy_from_table_lines).toBe(100000);
    expect(out.copy_to_table).toBe('COPY 2');
    expect(out.copy_to_table_rows).toEqual([[100000, 'csv row'], [100001, 'q,"x']]);
    expect(out.copy_records_error).toEqual({ sqlstate: '22P02', class: 'InvalidTextRepresentationError' });
    expect(out.copy_count_after_error).toBe(100002);
  });

  it('keeps SET TimeZone and application_name to the connection that set them', () => {
    expect(out.isolation).toEqual({
      mine: ['Europe/Berlin', '2024-07-01 14:00:00+02', 'ap-main'],
      other: ['UTC', '2024-07-01 12:00:00+00', ''],
      binary_same: true,
    });
  });

  it('re-prepares a cached statement after another session altered its table', () => {
    expect(out.cached_statement).toEqual([[[1]], [[1, 'x']]]);
  });

  it('refuses session-level advisory locks with 0A000 (docs/sessions.md); transaction-level ones and the pool reset statement work', () => {
    const refused = { sqlstate: '0A000', class: 'FeatureNotSupportedError' };
    expect(out.advisory).toEqual({
      session_try: refused,
      session_lock: refused,
      session_unlock: refused,
      unlock_all: { value: null },
      xact_try: true,
      xact_held: 1,
      xact_after_commit: 0,
    });
    expect(out.reset_statement).toEqual({ value: 'RESET' });
    expect(out.reset_statement_tz).toBe('UTC');
  });

  it('serves concurrent queries from a pool (min_size=2, max_size=5)', () => {
    expect(out.pool_initial_size).toBe(2);
    expect(out.pool_results).toEqual(Array.from({ length: 40 }, (_, i) => [1, i * 3]));
    expect(out.pool_totals).toEqual([40, Array.from({ length: 40 }, (_, i) => i * i).reduce((a, b) => a + b)]);
    expect(out.pool_max_size_respected).toBe(true);
    expect(out.pool_fetch_gather).toEqual(Array.from({ length: 10 }, (_, i) => `${i}!`));
  });

  it('resets a connection on release (RESET ALL and friends)', () => {
    expect(out.pool_reset).toEqual({ before: ['Asia/Tokyo', 'pg_catalog'], after: ['UTC', 'public'] });
  });

  it('a release reset (pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL) leaves other sessions\' settings and channels alone', () => {
    expect(out.after_other_reset).toEqual({ other_tz: 'America/Denver', notify: ['still listening'] });
  });
});
