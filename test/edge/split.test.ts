/**
 * src/sql/split.ts and src/edge/statements.ts against PostgreSQL's own parser (libpg-query): a text
 * cut into statements and a large INSERT cut into row groups must parse, piece by piece, to exactly
 * what the whole text parses to. The values are made to hide `;`, `,`, `(` and `)` in every way the
 * lexer knows (strings, E'' escapes, quoted identifiers, dollar quotes, nested comments).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { OrbitError } from '../../src/errors.js';
import { edgeStatements, GROUP_CHARS, SPLIT_CHARS } from '../../src/edge/statements.js';
import type { Node } from '../../src/edge/expr.js';
import { loadParser, parseSql } from '../../src/sql/parser.js';
import { groupText, splitStatements, splitValues } from '../../src/sql/split.js';
import { Prng } from '../support/prng.js';

beforeAll(loadParser);

/** Parse trees without source locations (they differ between a piece and the whole by design). */
function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'location' && k !== 'stmt_location' && k !== 'stmt_len').map(([k, x]) => [k, strip(x)]));
  return v;
}

const TRICKY = [
  "'a;b'",
  "'it''s (a), b'",
  "E'\\'; ), ('",
  "e'back\\\\slash'",
  '$$ ; ) ( , $$',
  '$tag$ $$ ; $ $tag$',
  "U&'d\\0061t\\+000061'",
  "B'1010'",
  "'x' /* ; ( /* nested ) */ , */",
  "-- a comment ; (\n 'y'",
  '"quoted;ident"',
  "'2024-01-01 00:00:00+00'::timestamptz",
  "CAST('1.5' AS double precision)",
  '-1.5e-3',
  '.5',
  'NULL',
  'true',
  "(1 + (2 * 3))",
  'DEFAULT',
  "'日本語, ;'",
];

function value(rng: Prng): string {
  return rng.chance(0.5) ? rng.pick(TRICKY) : String(rng.int(1000));
}

function bigInsert(rng: Prng, rows: number, tail = ''): string {
  const list = Array.from({ length: rows }, () => `(${value(rng)}, ${value(rng)}${rng.chance(0.1) ? ' /* ) */' : ''})`);
  return `INSERT INTO t (a, b) VALUES ${list.join(rng.chance(0.5) ? ',' : ' ,\n  ')}${tail}`;
}

describe('sql/split', () => {
  it('cuts a large INSERT into row groups that parse to the same rows as the whole', () => {
    const rng = new Prng(11);
    for (let round = 0; round < 20; round++) {
      const tail = rng.pick(['', ' ', ' RETURNING a', ' ON CONFLICT DO NOTHING', ' -- trailing comment']);
      const sql = bigInsert(rng, 200 + rng.int(800), tail);
      const split = splitValues(sql, 2000)!;
      expect(split, sql.slice(0, 200)).toBeDefined();
      const whole = parseSql(sql)[0]!.node as Node;
      const wholeLists = ((whole.selectStmt as Node).SelectStmt as Node).valuesLists as Node[];
      expect(split.rows).toBe(wholeLists.length);
      const pieces: Node[] = [];
      for (let g = 0; g < split.groups.length; g++) {
        const [s, extra] = parseSql(groupText(sql, split, g));
        expect(extra).toBeUndefined();
        const node = s!.node as Node;
        expect(strip({ ...node, selectStmt: undefined })).toEqual(strip({ ...whole, selectStmt: undefined }));
        const lists = ((node.selectStmt as Node).SelectStmt as Node).valuesLists as Node[];
        expect(lists.length).toBe(split.groups[g]!.rows);
        pieces.push(...lists);
      }
      expect(split.groups.length).toBeGreaterThan(1);
      expect(strip(pieces)).toEqual(strip(wholeLists));
    }
  });

  it('cuts statements where PostgreSQL does', () => {
    const rng = new Prng(12);
    for (let round = 0; round < 30; round++) {
      const parts = Array.from({ length: 1 + rng.int(6) }, () =>
        rng.pick([
          () => bigInsert(rng, 1 + rng.int(5)),
          () => `SELECT ${value(rng)} AS "a;b", ${value(rng)}`,
          () => "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $fn$ SELECT 1; SELECT 2 $fn$",
          () => '  /* only ; a comment */ ',
          () => 'SET TimeZone = \'UTC\'',
        ])(),
      );
      const sql = parts.join(rng.chance(0.5) ? ';' : ' ;\n') + (rng.chance(0.5) ? ';' : '');
      const ranges = splitStatements(sql)!;
      const whole = parseSql(sql);
      expect(ranges.map(([s, e]) => strip(parseSql(sql.slice(s, e)).map((p) => p.node)))).toEqual(whole.map((p) => strip([p.node])));
    }
  });

  it('is unsure of what it cannot lex, and of BEGIN ATOMIC bodies', () => {
    expect(splitStatements("SELECT 'open")).toBeUndefined();
    expect(splitStatements('SELECT 1 /* open')).toBeUndefined();
    expect(splitStatements('SELECT $x 1')).toBeUndefined();
    expect(splitStatements('CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END')).toBeUndefined();
    expect(splitValues('INSERT INTO t SELECT * FROM (VALUES (1), (2)) v', 10)).toBeUndefined();
    expect(splitValues('WITH x AS (SELECT 1) INSERT INTO t VALUES (1), (2)', 10)).toBeUndefined();
    expect(splitValues('INSERT INTO t VALUES (1), (2) + 1', 10)).toBeUndefined();
    expect(splitValues('INSERT INTO t VALUES (1), (2) LIMIT 1', 10)).toBeUndefined();
    expect(splitValues('INSERT INTO t (a) VALUES (1), (2)', 1)!.groups.map((g) => g.rows)).toEqual([1, 1]);
  });
});

describe('edge/statements', () => {
  it('parses a large text a statement at a time, a large INSERT a group at a time', () => {
    const rng = new Prng(13);
    const big = bigInsert(rng, 3 * Math.ceil(SPLIT_CHARS / 20));
    expect(big.length).toBeGreaterThan(SPLIT_CHARS);
    const sql = `SET TimeZone = 'UTC'; ${big}; SELECT 1`;
    const { count, statements } = edgeStatements(sql);
    expect(count).toBe(3);
    const list = [...statements];
    expect(list.map((s) => s.type)).toEqual(['VariableSetStmt', 'InsertStmt', 'SelectStmt']);
    const groups = [...list[1]!.valueGroups!()];
    expect(groups.length).toBeGreaterThanOrEqual(Math.floor(big.length / GROUP_CHARS) - 1);
    const whole = parseSql(big)[0]!.node as Node;
    expect(strip(groups.flat())).toEqual(strip(((whole.selectStmt as Node).SelectStmt as Node).valuesLists));
  });

  it('reports a syntax error anywhere before running anything, at its place in the whole text', () => {
    const rng = new Prng(14);
    const big = bigInsert(rng, 3 * Math.ceil(SPLIT_CHARS / 20));
    const cut = big.lastIndexOf('(');
    const bad = `${big.slice(0, cut)}(1, 2 3)`;
    const sql = `SET TimeZone = 'UTC'; ${bad}`;
    let wholeErr: OrbitError | undefined;
    try {
      parseSql(sql);
    } catch (e) {
      wholeErr = e as OrbitError;
    }
    expect(wholeErr?.code).toBe('42601');
    expect(() => edgeStatements(sql)).toThrow(wholeErr!.message);
    try {
      edgeStatements(sql);
    } catch (e) {
      expect((e as OrbitError).position).toBe(wholeErr!.position);
    }
    // One statement alone: the error surfaces from its group, with the same position.
    const single = edgeStatements(bad);
    const [stmt] = [...single.statements];
    try {
      for (const _ of stmt!.valueGroups!());
      expect.unreachable();
    } catch (e) {
      expect((e as OrbitError).position).toBe(wholeErr!.position! - "SET TimeZone = 'UTC'; ".length);
      expect((e as OrbitError).message).toBe(wholeErr!.message);
    }
  });
});
