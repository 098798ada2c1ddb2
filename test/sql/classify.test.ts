import { beforeAll, describe, expect, it } from 'vitest';
import { classify } from '../../src/sql/classify.js';
import { loadParser, parseSql, scanSql, spliceSql } from '../../src/sql/parser.js';

beforeAll(async () => {
  await loadParser();
});

const one = (sql: string) => classify(parseSql(sql)[0]!);

describe('parseSql', () => {
  it('splits statements and keeps each statement’s text, also after non-ASCII text', () => {
    const stmts = parseSql("SELECT 'héllo'; SELECT 2 ;  INSERT INTO t VALUES ('ü')");
    expect(stmts.map((s) => s.type)).toEqual(['SelectStmt', 'SelectStmt', 'InsertStmt']);
    expect(stmts.map((s) => s.text)).toEqual(["SELECT 'héllo'", 'SELECT 2', "INSERT INTO t VALUES ('ü')"]);
  });

  it('reports syntax errors as PostgreSQL does: 42601 with a 1-based character position', () => {
    expect(() => parseSql('SELEC 1')).toThrow(expect.objectContaining({ code: '42601', position: 1, message: 'syntax error at or near "SELEC"' }));
    expect(() => parseSql("SELECT 'ü', FROM")).toThrow(expect.objectContaining({ code: '42601', position: 13 }));
  });
});

describe('classify', () => {
  it('finds what touches session state', () => {
    expect(one("SET TimeZone = 'UTC'")).toMatchObject({ kind: 'session', changesSettings: true });
    expect(one('RESET ALL')).toMatchObject({ kind: 'session', changesSettings: true });
    expect(one('DISCARD ALL')).toMatchObject({ kind: 'session', changesSettings: true });
    expect(one("SELECT set_config('search_path', 'x', false)")).toMatchObject({ kind: 'query', changesSettings: true });
    expect(one('SELECT 1')).toMatchObject({ kind: 'query', changesSettings: false });
  });

  it('finds temporary objects', () => {
    for (const sql of ['CREATE TEMP TABLE t (a int)', 'CREATE TEMPORARY VIEW v AS SELECT 1', 'SELECT 1 INTO TEMP t2', 'CREATE TEMP SEQUENCE s', 'CREATE TEMP TABLE t3 AS SELECT 1']) {
      expect(one(sql).createsTempObject, sql).toBe(true);
    }
    expect(one('CREATE TABLE t (a int)').createsTempObject).toBe(false);
  });

  it('describes COPY, LISTEN and prepared statements', () => {
    expect(one('COPY t FROM STDIN')).toMatchObject({ kind: 'copy', copy: { from: true, stdio: true } });
    expect(one("COPY t TO '/tmp/x'")).toMatchObject({ kind: 'copy', copy: { from: false, stdio: false } });
    expect(one('LISTEN "My Channel"')).toMatchObject({ kind: 'listen', channel: 'My Channel' });
    expect(one('UNLISTEN *')).toMatchObject({ kind: 'unlisten', channel: '*' });
    expect(one('PREPARE p(int) AS SELECT $1')).toMatchObject({ kind: 'prepare', preparedName: 'p' });
    expect(one('EXECUTE p(1)')).toMatchObject({ kind: 'execute', preparedName: 'p' });
    expect(one('DEALLOCATE ALL')).toMatchObject({ kind: 'deallocate', preparedName: undefined });
    expect(one('BEGIN')).toMatchObject({ kind: 'transaction' });
  });

  it('lists the tables a statement names', () => {
    expect(one('INSERT INTO s.m SELECT * FROM a JOIN b ON true').relations).toEqual([
      { schema: 's', name: 'm' },
      { schema: undefined, name: 'a' },
      { schema: undefined, name: 'b' },
    ]);
    expect(one('COPY cpu FROM STDIN').relations).toEqual([{ schema: undefined, name: 'cpu' }]);
  });
});

describe('scanSql and spliceSql', () => {
  it('replaces token byte ranges, including after multi-byte characters', () => {
    const sql = "SELECT 'ü'; EXECUTE foo(1)";
    const tokens = scanSql(sql);
    const name = tokens.find((t) => t.text === 'foo')!;
    expect(spliceSql(sql, [{ start: name.start, end: name.end, text: '"bar"' }])).toBe(`SELECT 'ü'; EXECUTE "bar"(1)`);
  });
});
