/**
 * psycopg 3.1 (Debian python3-psycopg: extended protocol for everything, binary parameters and
 * results, prepared statements after prepare_threshold, pipeline mode, cursor.copy()) against
 * Orbit. fixtures/psycopg3_smoke.py does the work and prints JSON; each test checks one habit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { runPythonJson } from './run.js';

let server: TestServer;
let out: Record<string, any>;

beforeAll(async () => {
  server = await startTestServer();
  out = await runPythonJson('psycopg3_smoke.py', [String(server.port)]);
}, 120_000);

afterAll(async () => {
  await server?.close();
});

const ROW = {
  price: '-98765.4321',
  at: '2024-03-10T09:59:59.999999+00:00',
  doc: { k: [1, 'two', { three: 3.5 }], n: null },
  tags: [3, null, -7],
  uid: '12345678-1234-5678-1234-567812345678',
  raw: '009fff',
  interval_s: 93784.5,
  date: '2000-02-29',
  big_numeric: '12345678901234567890.000000000123',
  nan: 'NaN',
  float: 1e-5,
};

describe('psycopg 3', () => {
  it('connects and reads the reported parameters', () => {
    expect(out.info).toEqual({ server_version: 180006, is_superuser: 'on', session_authorization: 'postgres', TimeZone: 'UTC' });
  });

  it('sends binary int parameters that compare with int4 and bigint', () => {
    expect(out.int_param_compare).toEqual([42, true, 2 ** 41]);
    expect(out.text_param).toEqual(['héllo!', 3000]);
  });

  it('reads timestamptz, numeric, jsonb, arrays, uuid, bytea, interval in binary (cursor(binary=True))', () => {
    expect(out.binary_result).toEqual(ROW);
    expect(out.binary_pgresult_formats).toEqual([1, 1, 1]);
    expect(out.binary_formats).toEqual([1700, 1184, 3802, 1007, 2950, 17, 1186, 1082, 1700, 1700, 701]);
    expect(out.binary_scalars).toEqual(['2024-01-01T00:00:00+00:00', '-0.000100', { a: [true, false] }]);
  });

  it('reads the same values in text format, from a row inserted with %t parameters', () => {
    expect(out.text_result).toEqual(ROW);
    expect(out.text_pgresult_formats).toEqual(Array(11).fill(0));
  });

  it('switches to a named prepared statement after prepare_threshold executions', () => {
    expect(out.prepared_values).toEqual(Array.from({ length: 12 }, (_, i) => i * 10 + 1));
    expect(out.prepared_on_server).toBe(1);
    expect(out.prepare_true).toEqual(['0p', '1p', '2p']);
  });

  it('keeps two connections\' _pg3_0 statements apart, and survives another session\'s DEALLOCATE ALL', () => {
    expect(out.same_statement_names).toEqual({
      mine: Array.from({ length: 11 }, (_, i) => 1000 + i),
      theirs: ['0-other', '1-other', '2-other'],
    });
  });

  it('raises errors with the right sqlstate', () => {
    expect(out.errors).toEqual({
      unique: { sqlstate: '23505', class: 'UniqueViolation' },
      undefined_table: { sqlstate: '42P01', class: 'UndefinedTable' },
      division_by_zero: { sqlstate: '22012', class: 'DivisionByZero' },
      syntax: { sqlstate: '42601', class: 'SyntaxError' },
      undefined_column: { sqlstate: '42703', class: 'UndefinedColumn' },
      not_null: { sqlstate: '23502', class: 'NotNullViolation' },
      identity: { sqlstate: '428C9', class: 'GeneratedAlways' },
    });
    expect(out.unique_diag).toEqual({ constraint: 'p3_items_name_key', table: 'p3_items', detail: 'Key (name)=(alpha) already exists.' });
  });

  it('commits, rolls back, and nests transaction() blocks as savepoints', () => {
    expect(out.tx_status_in).toBe('INTRANS');
    expect(out.tx_names).toEqual(['t2', 't3', 't5']);
    expect(out.in_failed).toEqual({ sqlstate: '25P02', class: 'InFailedSqlTransaction' });
    expect(out.in_failed_status).toBe('INERROR');
    expect(out.after_rollback).toBe('ok');
  });

  it('runs pipeline mode, and an error aborts the rest of the pipeline', () => {
    expect(out.pipeline).toEqual({ count: 1, sum: '3.0000', returning_is_int: true });
    expect(out.pipeline_error).toBe('23505');
    expect(out.pipeline_after_error).toEqual(['pipe1', 'pipe2']);
  });

  it("runs pipeline mode over a hypertable's compressed chunks: committed at the sync, rolled back by a later error", () => {
    // 72 compressed rows (v = 0…71, dev = i % 3) and the one inserted; dev 2 below 10: 2, 5, 8.
    expect(out.pipeline_columnstore).toEqual({ agg: [73, 3556], joined: 25, newest: [1000, 70], deleted: 3 });
    expect(out.pipeline_columnstore_error).toBe('22012');
    // The second pipeline's INSERT and its DELETE of dev 0 (decompressing those batches) undone.
    expect(out.pipeline_columnstore_after).toEqual([70, 3556 - 15, 24]);
  });

  it('runs executemany (pipelined) with and without returning', () => {
    expect(out.executemany_rowcount).toBe(500);
    expect(out.executemany_returning).toEqual(['0.0000', '1.0000', '2.0000']);
    expect(out.executemany_sum).toBe(String((499 * 500) / 2 + 3) + '.0000');
  });

  it('copies in text and binary with cursor.copy(), and out again', () => {
    expect(out.copy_text_rowcount).toBe(30000);
    expect(out.copy_binary_rowcount).toBe(60000);
    expect(out.copy_totals).toEqual([90000, (89999 * 90000) / 2, '1012488750.00', 30]);
    expect(out.copy_out_rows).toEqual([
      [0, 'row\t0\n', '0'],
      [1, 'row 1', '0.25'],
      [30000, 'b'.repeat(60) + '30000', '7500'],
    ]);
    expect(out.copy_out_binary).toEqual([30001, '7500.25', '2024-03-10T09:59:59.999999+00:00']);
    expect(out.copy_error).toEqual({ sqlstate: '22P02', context: 'COPY p3_copy, line 2, column id: "nope"' });
    expect(out.copy_count_after_error).toBe(90000);
  });

  it('introspects types with TypeInfo/EnumInfo ($1::regtype) and round-trips an enum', () => {
    expect(out.typeinfo_int4_array).toEqual(['_int4', 1007, 0]);
    expect(out.typeinfo_int4).toEqual(['int4', 23, 1007, 'integer']);
    expect(out.typeinfo_missing).toBe(true);
    expect(out.enum_labels).toEqual(['sad', 'ok', 'happy']);
    expect(out.enum_roundtrip).toEqual(['ok', 'happy']);
    expect(out.regtype_error).toEqual({ sqlstate: '42704', class: 'UndefinedObject' });
  });

  it('iterates a server-side cursor', () => {
    expect(out.server_cursor).toEqual([1000, 2502500]);
  });

  it('keeps SET TimeZone, statement_timeout and search_path to the connection that set them; SET LOCAL ends with the transaction', () => {
    expect(out.isolation).toEqual({
      mine_tz: 'Pacific/Auckland',
      mine_ts: '2024-01-15 13:00:00+13',
      mine_param: 'Pacific/Auckland',
      other_tz: 'UTC',
      other_ts: '2024-01-15 00:00:00+00',
      other_param: 'UTC',
      other_timeout: '0',
      mine_timeout: '1234s',
      mine_search_path: 'pg_catalog, public',
    });
    expect(out.set_local).toEqual(['2024-01-15 05:30:00+05:30', '2024-01-15 13:00:00+13']);
  });
});
