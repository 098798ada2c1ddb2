/**
 * psql 15 (Debian postgresql-client) against Orbit: simple-query scripts, the catalog SQL behind the
 * backslash commands, \copy in both directions (including streams larger than one 4 MB COPY piece),
 * COPY error line numbers, ON_ERROR_STOP exit codes, SCRAM logins, and per-session settings.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { libpqEnv, run, type RunResult } from './run.js';

let server: TestServer;
let dir: string;

beforeAll(async () => {
  // A short idle-in-transaction timeout: a client left waiting inside a transaction (see the large
  // object test) fails in seconds rather than a minute. No script here idles that long.
  server = await startTestServer({ session: { idleInTransactionTimeoutMs: 15_000 } });
  dir = mkdtempSync(join(tmpdir(), 'orbit-psql-'));
});

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** psql with no psqlrc; extra arguments follow. */
function psql(args: readonly string[], input?: string, env: Record<string, string | undefined> = {}, port = server.port): Promise<RunResult> {
  return run('psql', ['-X', ...args], { env: libpqEnv(port, env), input, timeoutMs: 110_000 });
}

/** Runs SQL with ON_ERROR_STOP, unaligned tuples-only output; fails the test on a non-zero exit. */
async function sql(text: string): Promise<string> {
  const r = await psql(['-At', '-v', 'ON_ERROR_STOP=1', '-c', text]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

describe('simple query scripts', () => {
  it('runs a multi-statement Query string and prints every result', async () => {
    const r = await psql(['-At', '-v', 'ON_ERROR_STOP=1', '-c',
      "CREATE TABLE ms (id int PRIMARY KEY, v text); INSERT INTO ms VALUES (1,'a'),(2,'b'); SELECT count(*) FROM ms; SELECT v FROM ms ORDER BY id"]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('CREATE TABLE\nINSERT 0 2\n2\na\nb\n');
  });

  it('rolls back the whole implicit transaction of a multi-statement string on error (22012)', async () => {
    const r = await psql(['-At', '-v', 'VERBOSITY=verbose', '-c', "INSERT INTO ms VALUES (3,'c'); SELECT 1/0; INSERT INTO ms VALUES (4,'d')"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('INSERT 0 1\n');
    expect(r.stderr).toContain('ERROR:  22012: division by zero');
    expect(await sql('SELECT array_agg(id ORDER BY id) FROM ms')).toBe('{1,2}\n');
  });

  it('commits an explicit BEGIN/COMMIT inside the string and rolls back only what follows it', async () => {
    const r = await psql(['-At', '-c', "BEGIN; INSERT INTO ms VALUES (5,'e'); COMMIT; INSERT INTO ms VALUES (6,'f'); SELECT 1/0"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('BEGIN\nINSERT 0 1\nCOMMIT\nINSERT 0 1\n');
    expect(r.stderr).toContain('ERROR:  division by zero');
    expect(await sql('SELECT array_agg(id ORDER BY id) FROM ms')).toBe('{1,2,5}\n');
  });

  it('reports the SQLSTATE of a unique violation and an unknown table with VERBOSITY verbose', async () => {
    const dup = await psql(['-At', '-v', 'VERBOSITY=verbose', '-c', "INSERT INTO ms VALUES (1,'dup')"]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('ERROR:  23505: duplicate key value violates unique constraint "ms_pkey"');
    expect(dup.stderr).toContain('DETAIL:  Key (id)=(1) already exists.');
    const missing = await psql(['-At', '-v', 'VERBOSITY=verbose', '-c', 'SELECT * FROM no_such_table']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('ERROR:  42P01: relation "no_such_table" does not exist');
    const syntax = await psql(['-At', '-v', 'VERBOSITY=verbose', '-c', 'SELEC 1']);
    expect(syntax.code).toBe(1);
    expect(syntax.stderr).toContain('ERROR:  42601: syntax error at or near "SELEC"');
  });

  it('describes a query with \\gdesc (Parse + Describe over the extended protocol)', async () => {
    const r = await psql(['-At', '-v', 'ON_ERROR_STOP=1', '-f', '-'], "SELECT 1::int AS a, 'x'::text AS b, now() AS c, 1.5::numeric(10,2) AS d \\gdesc\n");
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('a|integer\nb|text\nc|timestamp with time zone\nd|numeric(10,2)\n');
  });

  it('sets variables from a row with \\gset and runs generated SQL with \\gexec', async () => {
    const script = [
      'SELECT 40 + 2 AS answer \\gset',
      "SELECT :answer * 2 AS doubled;",
      "SELECT format('CREATE TABLE gx_%s (n int)', i) FROM generate_series(1,3) i \\gexec",
      "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relname LIKE 'gx\\_%';",
    ].join('\n');
    const file = join(dir, 'gexec.sql');
    writeFileSync(file, script + '\n');
    const r = await psql(['-At', '-v', 'ON_ERROR_STOP=1', '-f', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('84\nCREATE TABLE\nCREATE TABLE\nCREATE TABLE\ngx_1,gx_2,gx_3\n');
  });
});

describe('backslash commands (psql 15 catalog SQL)', () => {
  beforeAll(async () => {
    await sql(`
      CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL DEFAULT 'anon', total numeric(10,2), placed timestamptz);
      CREATE INDEX orders_customer_idx ON orders (customer);
      CREATE SCHEMA sales;
      CREATE TABLE sales.lines (order_id int REFERENCES orders(id), qty int CHECK (qty > 0));
      CREATE FUNCTION add_one(a int) RETURNS int LANGUAGE sql AS 'SELECT a + 1';
      CREATE ROLE reporter NOLOGIN;
    `);
  });

  it('\\d TABLE shows columns, defaults, indexes and referencing foreign keys', async () => {
    const r = await psql(['-v', 'ON_ERROR_STOP=1', '-c', '\\d orders']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').map((l) => l.replace(/\s+$/, ''));
    expect(lines[0]).toMatch(/^\s+Table "public\.orders"$/);
    expect(lines).toContain(' id       | integer                  |           | not null |');
    expect(lines).toContain(" customer | text                     |           | not null | 'anon'::text");
    expect(lines).toContain(' total    | numeric(10,2)            |           |          |');
    expect(lines).toContain(' placed   | timestamp with time zone |           |          |');
    expect(lines).toContain('Indexes:');
    expect(lines).toContain('    "orders_pkey" PRIMARY KEY, btree (id)');
    expect(lines).toContain('    "orders_customer_idx" btree (customer)');
    expect(lines).toContain('Referenced by:');
    expect(lines).toContain('    TABLE "sales.lines" CONSTRAINT "lines_order_id_fkey" FOREIGN KEY (order_id) REFERENCES orders(id)');
  });

  it('\\d SCHEMA.TABLE shows check and foreign-key constraints', async () => {
    const r = await psql(['-v', 'ON_ERROR_STOP=1', '-c', '\\d sales.lines']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').map((l) => l.replace(/\s+$/, ''));
    expect(lines[0]).toMatch(/^\s+Table "sales\.lines"$/);
    expect(lines).toContain('Check constraints:');
    expect(lines).toContain('    "lines_qty_check" CHECK (qty > 0)');
    expect(lines).toContain('Foreign-key constraints:');
    expect(lines).toContain('    "lines_order_id_fkey" FOREIGN KEY (order_id) REFERENCES orders(id)');
  });

  it('\\dt lists the tables of the search path', async () => {
    const out = (await sql('\\dt')).split('\n');
    expect(out).toContain('public|orders|table|postgres');
    expect(out).toContain('public|ms|table|postgres');
    expect(out.some((l) => l.includes('lines'))).toBe(false); // sales is not on the search path
    expect(await sql('\\dt sales.*')).toBe('sales|lines|table|postgres\n');
  });

  it('\\dx lists plpgsql', async () => {
    expect(await sql('\\dx')).toBe('plpgsql|1.0|pg_catalog|PL/pgSQL procedural language\n');
  });

  it('\\df lists a user function with its signature', async () => {
    expect(await sql('\\df')).toBe('public|add_one|integer|a integer|func\n');
  });

  it('\\dn lists schemas with owners', async () => {
    expect(await sql('\\dn')).toBe('public|pg_database_owner\nsales|postgres\n');
  });

  it('\\du lists roles with their attributes', async () => {
    const out = (await sql('\\du')).split('\n');
    expect(out).toContain('postgres|Superuser, Create role, Create DB, Replication, Bypass RLS|{}');
    expect(out).toContain('reporter|Cannot login|{}');
  });

  it('\\l: psql 15 asks PostgreSQL 18 for pg_database.daticulocale and gets 42703, as against any PG 17+ server', async () => {
    // psql's describe.c picks this query by server major version >= 15; PG 17 renamed the column
    // to datlocale. Real PostgreSQL 18 answers exactly the same way.
    const r = await psql(['-At', '-v', 'VERBOSITY=verbose', '-c', '\\l']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERROR:  42703: column d.daticulocale does not exist');
    // What psql 18 sends for \l instead (describe.c, server >= 17).
    const out = await sql(`SELECT d.datname as "Name", pg_catalog.pg_get_userbyid(d.datdba) as "Owner",
        pg_catalog.pg_encoding_to_char(d.encoding) as "Encoding",
        CASE d.datlocprovider WHEN 'b' THEN 'builtin' WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' END AS "Locale Provider",
        d.datcollate as "Collate", d.datctype as "Ctype", d.datlocale as "Locale", d.daticurules as "ICU Rules",
        CASE WHEN pg_catalog.array_length(d.datacl, 1) = 0 THEN '(none)' ELSE pg_catalog.array_to_string(d.datacl, E'\\n') END AS "Access privileges"
      FROM pg_catalog.pg_database d ORDER BY 1`);
    const names = out.split('\n').filter(Boolean).map((l) => l.split('|').slice(0, 3).join('|'));
    expect(names).toContain('postgres|postgres|UTF8');
    expect(names).toContain('template1|postgres|UTF8');
  });
});

describe('\\copy', () => {
  beforeAll(async () => {
    await sql('CREATE TABLE c_csv (id int, v text); CREATE TABLE c_text (id int, v text); CREATE TABLE big (id int PRIMARY KEY, v text)');
  });

  it('loads CSV with quoted newlines, doubled quotes, NULL and a header', async () => {
    const data = 'id,v\n1,"first\nsecond"\n2,"say ""hi"""\n3,\n4,""\n';
    const r = await psql(['-v', 'ON_ERROR_STOP=1', '-c', '\\copy c_csv from stdin with (format csv, header true)'], data);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('COPY 4\n');
    expect(await sql("SELECT id, coalesce(replace(v, E'\\n', '<NL>'), '<NULL>') FROM c_csv ORDER BY id")).toBe(
      '1|first<NL>second\n2|say "hi"\n3|<NULL>\n4|\n',
    );
  });

  it('loads text format with backslash escapes and \\N', async () => {
    const data = '1\ttab\\there\n2\tback\\\\slash\n3\tnew\\nline\n4\t\\N\n5\toctal \\101 hex \\x42\n';
    const r = await psql(['-v', 'ON_ERROR_STOP=1', '-c', '\\copy c_text from pstdin'], data);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('COPY 5\n');
    expect(await sql("SELECT id, coalesce(replace(replace(v, E'\\n', '<NL>'), E'\\t', '<TAB>'), '<NULL>') FROM c_text ORDER BY id")).toBe(
      '1|tab<TAB>here\n2|back\\slash\n3|new<NL>line\n4|<NULL>\n5|octal A hex B\n',
    );
  });

  it('reads COPY data inline from a script up to \\. (pg_dump style) and carries on', async () => {
    const file = join(dir, 'dump.sql');
    writeFileSync(file, 'CREATE TABLE dumped (id int, name text);\nCOPY dumped (id, name) FROM stdin;\n1\tone\n2\ttwo\n\\.\nSELECT count(*) FROM dumped;\n');
    const r = await psql(['-At', '-v', 'ON_ERROR_STOP=1', '-f', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('CREATE TABLE\nCOPY 2\n2\n');
  });

  it('loads 50,000 text rows (over 6 MB, several COPY pieces) exactly', async () => {
    const values: string[] = [];
    let data = '';
    for (let i = 1; i <= 50_000; i++) {
      // Every 997th row carries escapes, so some pieces cut near backslashes.
      const v = i % 997 === 0 ? `r${i}\ttab\\back\nnl-${'y'.repeat(100)}` : `r${i}-${'abcdefghij'.repeat(12)}`;
      values.push(v);
      data += `${i}\t${v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n')}\n`;
    }
    expect(data.length).toBeGreaterThan(6 << 20);
    const r = await psql(['-v', 'ON_ERROR_STOP=1', '-c', '\\copy big from stdin'], data);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('COPY 50000\n');
    const out = await sql("SELECT count(*), sum(id), md5(string_agg(v, '|' ORDER BY id)) FROM big");
    expect(out).toBe(`50000|1250025000|${md5(values.join('|'))}\n`);
  });

  it('writes \\copy ... to stdout in text and CSV', async () => {
    const text = await psql(['-v', 'ON_ERROR_STOP=1', '-c', '\\copy c_text to stdout']);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe('1\ttab\\there\n2\tback\\\\slash\n3\tnew\\nline\n4\t\\N\n5\toctal A hex B\n');
    const csv = await psql(['-v', 'ON_ERROR_STOP=1', '-c', '\\copy (SELECT id, v FROM c_csv ORDER BY id) to stdout with (format csv, header)']);
    expect(csv.code).toBe(0);
    expect(csv.stdout).toBe('id,v\n1,"first\nsecond"\n2,"say ""hi"""\n3,\n4,""\n');
    const big = await psql(['-v', 'ON_ERROR_STOP=1', '-c', '\\copy (SELECT id FROM big ORDER BY id) to stdout']);
    expect(big.code).toBe(0);
    expect(md5(big.stdout)).toBe(md5(Array.from({ length: 50_000 }, (_, i) => `${i + 1}\n`).join('')));
  });

  it('reports line 40001 and 22P02 for a bad integer past the first 4 MB piece, leaving the table unchanged', async () => {
    await sql('CREATE TABLE c_err (id int, v text)');
    await sql("INSERT INTO c_err VALUES (0, 'before')");
    let data = '';
    for (let i = 1; i <= 60_000; i++) data += `${i === 40_001 ? 'forty' : i}\t${'x'.repeat(100)}\n`;
    expect(data.indexOf('forty')).toBeGreaterThan(4 << 20);
    const r = await psql(['-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose', '-c', '\\copy c_err from stdin'], data);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERROR:  22P02: invalid input syntax for type integer: "forty"');
    expect(r.stderr).toContain('CONTEXT:  COPY c_err, line 40001, column id: "forty"');
    expect(await sql('SELECT count(*), min(v) FROM c_err')).toBe('1|before\n');
  });

  it('reports the line of a bad row within the first piece', async () => {
    const r = await psql(['-v', 'VERBOSITY=verbose', '-c', '\\copy c_err from stdin'], '1\ta\n2\tb\n3\tc\t\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERROR:  22P04: extra data after last expected column');
    expect(r.stderr).toContain('CONTEXT:  COPY c_err, line 3: "3\tc\t"');
    expect(await sql('SELECT count(*) FROM c_err')).toBe('1\n');
  });

  it('counts CSV lines (quoted newlines included) the way PostgreSQL does, across pieces', async () => {
    // PostgreSQL's COPY line counter counts physical lines: the header, and each newline inside
    // quotes. Row k of this file (1-based) spans lines 2k and 2k+1, and an error in it is reported
    // once the whole row is read: line 2k+1.
    await sql('CREATE TABLE c_csv_err (id int, v text)');
    let data = 'id,v\n';
    for (let i = 1; i <= 50_000; i++) data += `${i === 45_000 ? 'bad' : i},"first ${i}\nsecond ${'p'.repeat(90)}"\n`;
    expect(data.indexOf('bad')).toBeGreaterThan(4 << 20);
    const r = await psql(['-v', 'VERBOSITY=verbose', '-c', '\\copy c_csv_err from stdin with (format csv, header)'], data);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERROR:  22P02: invalid input syntax for type integer: "bad"');
    expect(r.stderr).toContain('CONTEXT:  COPY c_csv_err, line 90001, column id: "bad"');
    expect(await sql('SELECT count(*) FROM c_csv_err')).toBe('0\n');
  });

  it('counts CSV lines the same way within the first piece', async () => {
    const r = await psql(['-v', 'VERBOSITY=verbose', '-c', '\\copy c_csv_err from stdin with (format csv, header)'], 'id,v\n1,"a\nb"\nbad,"c\nd"\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CONTEXT:  COPY c_csv_err, line 5, column id: "bad"');
  });

  it('loads 50,000 CSV rows with header and quoted newlines across pieces', async () => {
    let data = 'id,v\n';
    const values: string[] = [];
    for (let i = 1; i <= 50_000; i++) {
      const v = `first ${i}\nsecond, "quoted" ${'q'.repeat(90)}`;
      values.push(v);
      data += `${i},"${v.replace(/"/g, '""')}"\n`;
    }
    expect(data.length).toBeGreaterThan(5 << 20);
    const r = await psql(['-v', 'ON_ERROR_STOP=1', '-c', '\\copy c_csv_err from stdin with (format csv, header)'], data);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('COPY 50000\n');
    expect(await sql("SELECT count(*), sum(id), md5(string_agg(v, '|' ORDER BY id)) FROM c_csv_err")).toBe(
      `50000|1250025000|${md5(values.join('|'))}\n`,
    );
  });
});

describe('COPY inside transaction blocks, binary COPY, large objects', () => {
  it('rolls back and commits multi-piece \\copy inside BEGIN, and aborts the block on a COPY error', async () => {
    let rows = '';
    for (let i = 1; i <= 60_000; i++) rows += `${i}\t${'z'.repeat(100)}\n`;
    const file = join(dir, 'rows.txt');
    writeFileSync(file, rows);
    const script = join(dir, 'copy-tx.sql');
    writeFileSync(script, [
      'CREATE TABLE txc (id int, v text);',
      'BEGIN;',
      `\\copy txc from '${file}'`,
      'SELECT count(*) FROM txc;',
      'ROLLBACK;',
      'SELECT count(*) FROM txc;',
      'BEGIN;',
      `\\copy txc from '${file}'`,
      `\\copy txc from '${file}'`,
      'COMMIT;',
      'SELECT count(*), sum(id) FROM txc;',
      'BEGIN;',
      '\\copy txc from stdin',
      '5\ta',
      'x\tb',
      '\\.',
      'SELECT 2;',
      'ROLLBACK;',
      'SELECT count(*) FROM txc;',
    ].join('\n') + '\n');
    const r = await psql(['-At', '-v', 'VERBOSITY=verbose', '-f', script]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('CREATE TABLE\nBEGIN\nCOPY 60000\n60000\nROLLBACK\n0\nBEGIN\nCOPY 60000\nCOPY 60000\nCOMMIT\n120000|3600060000\nBEGIN\nROLLBACK\n120000\n');
    expect(r.stderr).toContain('ERROR:  22P02: invalid input syntax for type integer: "x"');
    expect(r.stderr).toContain('CONTEXT:  COPY txc, line 2, column id: "x"');
    expect(r.stderr).toContain('ERROR:  25P02: current transaction is aborted');
  });

  it('round-trips 120,000 rows through binary \\copy (over 13 MB, several pieces)', async () => {
    const bin = join(dir, 'txc.bin');
    const r = await psql(['-At', '-v', 'ON_ERROR_STOP=1', '-f', '-'], [
      `\\copy txc to '${bin}' with (format binary)`,
      'CREATE TABLE txc2 (id int, v text);',
      `\\copy txc2 from '${bin}' with (format binary)`,
      "SELECT count(*), sum(id), (SELECT md5(string_agg(id || v, ',' ORDER BY id, v)) FROM txc) = md5(string_agg(id || v, ',' ORDER BY id, v)) FROM txc2;",
    ].join('\n') + '\n');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('COPY 120000\nCREATE TABLE\nCOPY 120000\n120000|3600060000|t\n');
  });

  it('imports and exports a large object with \\lo_import / \\lo_export (fast-path FunctionCall)', async () => {
    const blob = Buffer.alloc(300_000);
    for (let i = 0; i < blob.length; i++) blob[i] = (i * 7919) % 256;
    const src = join(dir, 'blob.bin');
    const dst = join(dir, 'blob.out');
    writeFileSync(src, blob);
    const imp = await psql(['-At', '-v', 'ON_ERROR_STOP=1', '-c', `\\lo_import '${src}'`]);
    expect(imp.stderr).toBe('');
    const oid = /^lo_import (\d+)$/m.exec(imp.stdout)?.[1];
    expect(oid).toBeDefined();
    const exp = await psql(['-At', '-v', 'ON_ERROR_STOP=1', '-c', `\\lo_export ${oid} '${dst}'`]);
    expect(exp.stderr).toBe('');
    expect(md5(readFileSync(dst).toString('latin1'))).toBe(md5(blob.toString('latin1')));
    expect(await sql(`SELECT length(lo_get(${oid}))`)).toBe('300000\n');
  }, 60_000);
});

describe('ON_ERROR_STOP and exit codes', () => {
  it('stops a script at the first error with exit 3, and runs on without ON_ERROR_STOP', async () => {
    const file = join(dir, 'stop.sql');
    writeFileSync(file, 'SELECT 1 AS one;\nSELECT * FROM missing_table;\nSELECT 2 AS two;\n');
    const stop = await psql(['-At', '-v', 'ON_ERROR_STOP=1', '-f', file]);
    expect(stop.code).toBe(3);
    expect(stop.stdout).toBe('1\n');
    expect(stop.stderr).toContain(`psql:${file}:2: ERROR:  relation "missing_table" does not exist`);
    const go = await psql(['-At', '-f', file]);
    expect(go.code).toBe(0);
    expect(go.stdout).toBe('1\n2\n');
  });

  it('exits 1 for a failed -c command and 2 when it cannot connect', async () => {
    expect((await psql(['-At', '-v', 'ON_ERROR_STOP=1', '-c', 'SELECT 1/0'])).code).toBe(1);
    const r = await psql(['-At', '-c', 'SELECT 1'], undefined, { PGDATABASE: 'no_such_db' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('FATAL:  database "no_such_db" does not exist');
  });

  it('leaves a failed transaction block in 25P02 until ROLLBACK, then carries on', async () => {
    const file = join(dir, 'tx.sql');
    writeFileSync(file, [
      'BEGIN;',
      "INSERT INTO ms VALUES (10, 'in tx');",
      'SELECT 1/0;',
      'SELECT 1;',
      'ROLLBACK;',
      'SELECT count(*) FROM ms WHERE id = 10;',
    ].join('\n') + '\n');
    const r = await psql(['-At', '-v', 'VERBOSITY=verbose', '-f', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('BEGIN\nINSERT 0 1\nROLLBACK\n0\n');
    expect(r.stderr).toContain('ERROR:  22012: division by zero');
    expect(r.stderr).toContain('ERROR:  25P02: current transaction is aborted, commands ignored until end of transaction block');
  });
});

describe('session isolation', () => {
  it('keeps SET TimeZone and search_path to the session that set them', async () => {
    await sql('CREATE SCHEMA iso; CREATE TABLE iso.only_here (n int); INSERT INTO iso.only_here VALUES (7)');
    const file = join(dir, 'iso.sql');
    writeFileSync(file, [
      "SET TimeZone = 'Asia/Tokyo';",
      'SET search_path = iso, public;',
      // A second connection, opened while this one stays connected with its settings.
      "\\! psql -X -At -c 'SHOW TimeZone' -c 'SHOW search_path' -c \"SELECT '2024-01-01 00:00:00+00'::timestamptz\"",
      'SHOW TimeZone;',
      'SHOW search_path;',
      "SELECT '2024-01-01 00:00:00+00'::timestamptz;",
      'SELECT n FROM only_here;',
    ].join('\n') + '\n');
    const r = await psql(['-At', '-v', 'ON_ERROR_STOP=1', '-f', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      ['SET', 'SET', 'UTC', 'public', '2024-01-01 00:00:00+00', 'Asia/Tokyo', 'iso, public', '2024-01-01 09:00:00+09', '7', ''].join('\n'),
    );
  });

  it('sends startup options (PGOPTIONS) only to its own session', async () => {
    const r = await psql(['-At', '-c', 'SHOW DateStyle', '-c', 'SHOW work_mem'], undefined, { PGOPTIONS: '-c DateStyle=German -c work_mem=7MB' });
    expect(r.stdout).toBe('German, DMY\n7MB\n');
    expect(await sql('SHOW DateStyle')).toBe('ISO, MDY\n');
  });
});

describe('roles (trusted loopback)', () => {
  it('refuses a role that does not exist with FATAL 28000, as PostgreSQL does after trust authentication', async () => {
    const r = await psql(['-At', '-v', 'VERBOSITY=verbose', '-c', 'SELECT 1'], undefined, { PGUSER: 'nobody' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('FATAL:  role "nobody" does not exist');
  });

  it('runs a role\'s session with its privileges (42501) and its own current_user', async () => {
    await sql('CREATE ROLE viewer LOGIN; CREATE TABLE viewer_t (v int); INSERT INTO viewer_t VALUES (7)');
    const denied = await psql(['-At', '-v', 'VERBOSITY=verbose', '-c', 'SELECT v FROM viewer_t'], undefined, { PGUSER: 'viewer' });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('ERROR:  42501: permission denied for table viewer_t');
    await sql('GRANT SELECT ON viewer_t TO viewer');
    const r = await psql(['-At', '-v', 'ON_ERROR_STOP=1', '-c', 'SELECT current_user, v FROM viewer_t'], undefined, { PGUSER: 'viewer' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('viewer|7\n');
  });
});

describe('SCRAM-SHA-256 login', () => {
  let scram: TestServer;
  beforeAll(async () => {
    scram = await startTestServer({ users: { alice: 'secret' }, authLoopback: 'scram-sha-256' });
  });
  afterAll(async () => {
    await scram?.close();
  });

  it('logs in with the right PGPASSWORD', async () => {
    const r = await psql(['-At', '-v', 'ON_ERROR_STOP=1', '-c', 'SELECT 6 * 7'], undefined, { PGUSER: 'alice', PGPASSWORD: 'secret' }, scram.port);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('42\n');
  });

  it('rejects a wrong password with 28P01 and exit 2', async () => {
    const r = await psql(['-At', '-c', 'SELECT 1'], undefined, { PGUSER: 'alice', PGPASSWORD: 'wrong' }, scram.port);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('FATAL:  password authentication failed for user "alice"');
  });

  it('rejects a missing password without prompting', async () => {
    const r = await psql(['-At', '-w', '-c', 'SELECT 1'], undefined, { PGUSER: 'alice' }, scram.port);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('fe_sendauth: no password supplied');
  });

  it('logs in a role made with CREATE ROLE ... PASSWORD', async () => {
    const alice = { PGUSER: 'alice', PGPASSWORD: 'secret' };
    const made = await psql(['-At', '-v', 'ON_ERROR_STOP=1', '-c', "CREATE ROLE bob LOGIN PASSWORD 'hunter2'"], undefined, alice, scram.port);
    expect(made.stderr).toBe('');
    const r = await psql(['-At', '-v', 'ON_ERROR_STOP=1', '-c', 'SELECT 1'], undefined, { PGUSER: 'bob', PGPASSWORD: 'hunter2' }, scram.port);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1\n');
    const wrong = await psql(['-At', '-c', 'SELECT 1'], undefined, { PGUSER: 'bob', PGPASSWORD: 'hunter3' }, scram.port);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('FATAL:  password authentication failed for user "bob"');
  });

  it('runs the session as the role that logged in', async () => {
    const r = await psql(['-At', '-c', 'SELECT current_user, session_user', '-c', 'SHOW session_authorization'], undefined, { PGUSER: 'bob', PGPASSWORD: 'hunter2' }, scram.port);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // PostgreSQL runs a session as the role that authenticated (permissions follow from it).
    expect(r.stdout).toBe('bob|bob\nbob\n');
  });
});
