/**
 * psycopg2 2.9 (libpq; simple Query protocol with client-side parameters; BEGIN before the first
 * statement unless autocommit) against Orbit. fixtures/psycopg2_smoke.py does the work and prints
 * JSON; each test below checks one habit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDir, type TestServer } from '../support/server.js';
import { runPythonJson } from './run.js';

let server: TestServer;
let data: ReturnType<typeof tempDir>;
let out: Record<string, any>;

beforeAll(async () => {
  // On files, so a CancelRequest can stop a running statement (not possible on memory://).
  data = tempDir('orbit-psycopg2-');
  // A short idle-in-transaction timeout: a client left waiting inside a transaction (see the
  // large-object test) fails in seconds rather than a minute.
  server = await startTestServer({ dataDir: data.path, session: { idleInTransactionTimeoutMs: 15_000 } });
  out = await runPythonJson('psycopg2_smoke.py', [String(server.port)]);
}, 120_000);

afterAll(async () => {
  await server?.close();
  data?.remove();
});

describe('psycopg2', () => {
  it('sees PostgreSQL 18 and the ParameterStatus values libpq keeps', () => {
    expect(out.server_version).toBe(180006);
    expect(out.params).toEqual({
      server_version: '18.6',
      DateStyle: 'ISO, MDY',
      TimeZone: 'UTC',
      client_encoding: 'UTF8',
      integer_datetimes: 'on',
      standard_conforming_strings: 'on',
      // PostgreSQL reports both at startup (GUC_REPORT); libpq's PQparameterStatus reads them.
      is_superuser: 'on',
      session_authorization: 'postgres',
    });
  });

  it('answers pg_backend_pid() with the process id of BackendKeyData', () => {
    expect(out.backend_pid_matches).toEqual([true, true]);
  });

  it('round-trips client-interpolated values of every common type', () => {
    expect(out.status_after_commit).toBe(0);
    expect(out.returning_id).toBe(1);
    expect(out.in_transaction_after_insert).toBe(true);
    expect(out.roundtrip).toEqual({
      name: 'it\'s "quoted" \\ back',
      price: '12345.678',
      price_type: 'Decimal',
      at_utc: '2024-02-29T18:29:58.123456+00:00',
      at_offset_seconds: 0,
      day: '2024-01-31',
      tags: [1, 2, null, 4],
      doc: { a: [1, 2.5, null], b: { c: 'ü' } },
      raw: '0001ff275c',
      flag: true,
      span: 90061,
    });
    expect(out.description).toEqual([
      ['name', 25], ['price', 1700], ['at', 1184], ['day', 1082], ['tags', 1007], ['doc', 3802], ['raw', 17], ['flag', 16], ['span', 1186],
    ]);
  });

  it('runs executemany, execute_values and execute_batch', () => {
    expect(out.executemany_rowcount).toBe(50);
    // 1 + 50 + 300 rows; prices 12345.678 + sum(0..49) + 2*sum(0..299).
    expect(out.bulk).toEqual({ count: 351, sum: '103270.678', flagged: 100 + 1 });
  });

  it('maps errors to SQLSTATE classes with diagnostics', () => {
    expect(out.unique).toEqual({
      pgcode: '23505',
      constraint: 'p2_items_name_key',
      table: 'p2_items',
      schema: 'public',
      detail: 'Key (name)=(many1) already exists.',
      severity: 'ERROR',
    });
    expect(out.after_error_status).toBe(true);
    expect(out.in_failed_tx).toEqual({ pgcode: '25P02', class: 'InFailedSqlTransaction' });
    expect(out.undefined_table).toEqual({ pgcode: '42P01', class: 'UndefinedTable' });
    expect(out.undefined_table_position).toBe('15');
    expect(out.division_by_zero).toEqual({ pgcode: '22012', class: 'DivisionByZero' });
    expect(out.syntax_error).toEqual({ pgcode: '42601', class: 'SyntaxError' });
    expect(out.bad_int).toEqual({ pgcode: '22P02', class: 'InvalidTextRepresentation' });
  });

  it('rolls back, and keeps work before a savepoint', () => {
    expect(out.savepoint_error).toEqual({ pgcode: '23505', class: 'UniqueViolation' });
    expect(out.after_rollbacks).toEqual(['kept', 'kept2']);
  });

  it('honours set_session(readonly=True) with 25006', () => {
    expect(out.readonly).toEqual({ pgcode: '25006', class: 'ReadOnlySqlTransaction' });
    expect(out.readonly_reset).toBe('off');
  });

  it('copies with copy_from, copy_expert and copy_to', () => {
    expect(out.copy_from_rowcount).toBe(3);
    expect(out.copy_expert_rowcount).toBe(20000);
    expect(out.copy_to_first).toEqual(['1|one', '2|NULL', '3|three\\tTAB']);
    // 20003 rows with one quoted newline each (to text format: \n escaped), plus the final empty string.
    expect(out.copy_to_lines).toBe(20004);
    expect(out.copy_expert_out).toBe('id,v\n4,"line 4\nnext"\n20003,"line 20003\nnext"\n');
    expect(out.copy_error).toEqual({ pgcode: '22P02', context: 'COPY p2_copy, line 2, column id: "eight"' });
    expect(out.copy_count).toBe(20003);
  });

  it('iterates a named (server-side) cursor with itersize', () => {
    expect(out.named_cursor).toEqual({ rows: 5500, sum: 5500 * 5501 });
  });

  it('refuses a WITH HOLD cursor with 0A000 (docs/sessions.md), and no other session sees it', () => {
    expect(out.held_cursor).toEqual({ pgcode: '0A000', class: 'FeatureNotSupported' });
    expect(out.other_session_fetch_held).toEqual({ pgcode: '34000', class: 'InvalidCursorName' });
  });

  it('keeps SQL PREPARE names per session, and DEALLOCATE ALL to the session that sends it', () => {
    expect(out.prepare_per_session).toEqual([{ value: 2 }, { value: 100 }, { value: 3 }]);
    expect(out.deallocated_other).toEqual({ pgcode: '26000', class: 'InvalidSqlStatementName' });
  });

  it('shows only its own prepared statements in pg_prepared_statements, under their own names', () => {
    expect(out.pg_prepared_statements).toEqual(['q']);
  });

  it('delivers NOTIFY from another connection to a LISTENing one', () => {
    expect(out.notifies).toEqual([
      ['p2_channel', 'hello from other', true],
      ['p2_channel', 'second', true],
    ]);
  });

  it('keeps SET TimeZone, search_path and startup options to their own connection', () => {
    expect(out.isolation).toEqual({
      other_tz: 'UTC',
      other_ts: '2024-07-01 12:00:00+00',
      other_search_path: 'public', // PGlite boots with search_path=public (source: command line)
      mine_tz: 'America/New_York',
      mine_ts: '2024-07-01 08:00:00-04',
      mine_param_status: 'America/New_York',
      other_param_status: 'UTC',
    });
    expect(out.other_sees_p2_only_in_schema).toEqual({ pgcode: '42P01', class: 'UndefinedTable' });
    expect(out.after_reset_all).toBe('UTC');
    expect(out.options_conn).toEqual(['p2_schema,public', '12345ms']);
    expect(out.options_other).toBe('0');
    expect(out.options_conn_again).toBe('12345ms');
  });

  it('cancels a waiting and a running statement with 57014 (conn.cancel())', () => {
    expect(out.cancel_waiting).toEqual({ error: { pgcode: '57014', class: 'QueryCanceled' }, fast: true });
    expect(out.after_cancel_waiting).toBe(43);
    expect(out.cancel_running).toEqual({ error: { pgcode: '57014', class: 'QueryCanceled' }, fast: true });
    expect(out.after_cancel_running).toBe(44);
  });

  it('writes and reads a large object with lobject() (libpq fast-path FunctionCall)', () => {
    const payload = Buffer.concat(Array(1000).fill(Buffer.from('\x00large object payload\xff', 'latin1')));
    expect(out.large_object).toEqual({ value: [payload.length, payload.subarray(0, 24).toString('hex')] });
  });
});
