/**
 * pgjdbc 42.5 (Debian libpostgresql-jdbc-java) against Orbit: fixtures/JdbcSmoke.java, run as a
 * Java 17 single-file program, prints "key<TAB>value" lines; each test checks one habit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { FIXTURES, PGJDBC_JAR, run } from './run.js';

let server: TestServer;
const out = new Map<string, string>();

beforeAll(async () => {
  // A short idle-in-transaction timeout: a driver left waiting inside a transaction (see the
  // large-object test) fails in seconds rather than a minute.
  server = await startTestServer({ session: { idleInTransactionTimeoutMs: 15_000 } });
  // The JVM's zone goes into pgjdbc's StartupMessage (TimeZone=Europe/Paris).
  const r = await run('java', ['-Duser.timezone=Europe/Paris', '-cp', PGJDBC_JAR, FIXTURES + 'JdbcSmoke.java', String(server.port)], {
    timeoutMs: 110_000,
  });
  for (const line of r.stdout.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab > 0) out.set(line.slice(0, tab), line.slice(tab + 1).replace(/\\(.)/g, (_m, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c)));
  }
  if (r.code !== 0 || out.get('done') !== 'true') throw new Error(`JdbcSmoke exited with ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe('pgjdbc', () => {
  it('connects with its startup parameters and SET statements', () => {
    expect(out.get('product')).toBe('PostgreSQL 18.6');
    expect(out.get('driver')).toBe('42.5');
    expect(out.get('startup_timezone')).toBe('Europe/Paris');
    expect(out.get('application_name')).toBe('PostgreSQL JDBC Driver');
    expect(out.get('extra_float_digits')).toBe('3');
  });

  it('answers DatabaseMetaData getTables, getColumns, getPrimaryKeys, getImportedKeys, getIndexInfo', () => {
    expect(out.get('md_tables')).toBe('public.jd_items:TABLE:the items,public.jd_lines:TABLE:null');
    expect(out.get('md_columns')!.split(',')).toEqual([
      "1:id:serial:4:10:0:YES:nextval('jd_items_id_seq'::regclass)",
      '2:name:varchar:12:40:0:NO:null',
      '3:price:numeric:2:12:1:NO:0',
      '4:at:timestamptz:93:35:1:NO:null',
      '5:doc:jsonb:1111:2147483647:1:NO:null',
      '6:tags:_int4:2003:10:1:NO:null',
    ]);
    expect(out.get('md_pk')).toBe('id:1:jd_items_pkey');
    expect(out.get('md_fk')).toBe('jd_items.id<-item_id:jd_lines_item_id_fkey');
    expect(out.get('md_indexes')).toBe('jd_items_name_key:name:false,jd_items_pkey:id:false');
  });

  it('reads the same timestamptz, numeric, jsonb and int4[] values before and after prepareThreshold (text, then binary)', () => {
    const row = '1|widget|1234567890.12|2024-02-29T10:30:45.123456Z|{"k": [1, "two", null], "ü": true}|[4, null, 6]';
    expect(out.get('insert_count')).toBe('1');
    expect(out.get('prepared_rows_first')).toBe(`${row}|0`);
    expect(out.get('prepared_rows_last')).toBe(`${row}|18`);
    expect(out.get('prepared_rows_same_text_and_binary')).toBe('true');
    expect(out.get('prepared_server_side')).toBe('true');
    expect(out.get('forced_binary')).toBe('2024-02-29T10:30:45.123456Z|1234567890.12|{"k": [1, "two", null], "ü": true}|true');
  });

  it('runs batch inserts, and a failing batch with 23505', () => {
    expect(out.get('batch_counts')).toBe('1000:1000');
    expect(out.get('batch_total')).toBe('1000:4995.00');
    expect(out.get('batch_error')).toBe('23505:23505');
    expect(out.get('batch_error_left')).toBe('0');
  });

  it('commits, rolls back and rolls back to a savepoint with setAutoCommit(false)', () => {
    expect(out.get('tx_names')).toBe('tx_after_rollback_to,tx_before_sp,tx_committed');
    expect(out.get('tx_error')).toBe('ERROR 23505');
    expect(out.get('tx_after_error')).toBe('ERROR 25P02');
    expect(out.get('tx_after_rollback')).toBe('fine');
  });

  it('reads a large result in fetch-size chunks (named portal) and returns generated keys', () => {
    expect(out.get('fetch_size')).toBe('2000:2001000');
    expect(out.get('generated_key_matches')).toBe('true');
  });

  it('reports SQLSTATEs through SQLException.getSQLState()', () => {
    expect(out.get('err_unique')).toBe('ERROR 23505');
    expect(out.get('err_undefined_table')).toBe('ERROR 42P01');
    expect(out.get('err_division')).toBe('ERROR 22012');
    expect(out.get('err_syntax')).toBe('ERROR 42601');
    expect(out.get('err_fk')).toBe('ERROR 23503');
    expect(out.get('err_not_null')).toBe('ERROR 23502');
    expect(out.get('err_varchar')).toBe('ERROR 22001');
    expect(out.get('err_prepared_division')).toBe('ERROR 22012');
  });

  it('copies in and out with CopyManager', () => {
    expect(out.get('copy_in_text')).toBe('60000');
    expect(out.get('copy_in_csv')).toBe('2');
    // ids 0..59999 and -1, -2; n = i + 0.5 for the text rows.
    expect(out.get('copy_totals')).toBe(`60002:${(59999 * 60000) / 2 - 3}:1800000000.0:60`);
    expect(out.get('copy_out_rows')).toBe('4');
    expect(out.get('copy_out_data')).toBe('-2,"a ""quote"""\n-1,"multi\nline"\n0,value 0\ttab\n1,value 1\n');
    expect(out.get('copy_in_error')).toBe('ERROR 22P02');
    expect(out.get('copy_count_after_error')).toBe('60002');
  });

  it('keeps SET TimeZone/search_path and server-side statement names per connection', () => {
    expect(out.get('iso_mine')).toBe('Asia/Kathmandu|pg_catalog, public|2024-01-01 05:45:00+05:45');
    expect(out.get('iso_other')).toBe('Europe/Paris|public|2024-01-01 01:00:00+01');
    expect(out.get('iso_statements')).toBe(Array.from({ length: 8 }, (_, i) => `${100 + i}/${i}b`).join(','));
  });

  it('keeps a transaction usable after an error with autosave=always', () => {
    expect(out.get('autosave_error')).toBe('ERROR 23505');
    expect(out.get('autosave_rows')).toBe('autosave_1,autosave_2');
  });

  it('works with preferQueryMode=simple', () => {
    expect(out.get('simple_mode')).toBe("it's|-7|0.0001");
    expect(out.get('simple_mode_error')).toBe('ERROR 42P01');
  });

  it('writes, seeks and reads a large object through LargeObjectManager (fast-path FunctionCall)', () => {
    const tail = Array.from({ length: 10 }, (_, i) => (((99990 + i) % 251) << 24) >> 24);
    expect(out.get('large_object')).toBe(`100000:[${tail.join(', ')}]`);
  });
});
