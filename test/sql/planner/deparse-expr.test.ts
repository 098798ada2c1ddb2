// deparseExpr prints literals without the deparser (one per host and bound of every fresh
// statement): its text must be the deparser's, byte for byte, and anything else goes to the deparser.
import { deparseSync } from 'pgsql-deparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser, parseSql } from '../../../src/sql/parser.js';
import { deparseExpr } from '../../../src/sql/planner/expressions.js';
import type { Fields, Node } from '../../../src/sql/rewrite/ast.js';

beforeAll(async () => {
  await loadParser();
});

const LITERALS = [
  "'host_1'", "'it''s'", "''", "'é \u{1F600}'", "'x\\y'", "E'q\\n'", "'line\nbreak'", "U&'d\\0061t'", '5', '0', '-3', '2147483648', '9223372036854775808',
  '1.5', '-1.5e300', '.5', 'true', 'false', 'NULL', "B'101'", "X'1F'", "'2024-01-01T06:00:00.000Z'", "'1 minute'::interval", "TIMESTAMPTZ '2024-01-01'",
];

describe('deparseExpr', () => {
  it('prints every literal as the deparser does', () => {
    for (const literal of LITERALS) {
      const val = ((parseSql(`SELECT ${literal}`)[0]!.node.targetList as Node[])[0]!.ResTarget as Fields).val as Node;
      const want = deparseSync({ SelectStmt: { targetList: [{ ResTarget: { val } }], op: 'SETOP_NONE' } } as never, { pretty: false }).replace(/^SELECT /, '');
      expect(deparseExpr(val), literal).toBe(want);
    }
  });
});
