/**
 * @module edge/insert
 * INSERT … VALUES at the edge: every value is a constant expression (literals, parameters, casts,
 * now()) converted to its column's type as PostgreSQL's assignment casts do; the rows of one
 * statement are committed to the write buffer together. INSERT … SELECT, ON CONFLICT and RETURNING
 * need row semantics the append-only columnstore does not have, and are answered with 0A000.
 */
import { orbitError } from '../errors.js';
import type { EdgeEngine, StatementResult } from './engine.js';
import { coerce, compile, notAtEdge, type Node } from './expr.js';
import type { Value } from './values.js';

export async function runInsert(engine: EdgeEngine, stmt: Node, params: readonly (string | null)[], valueGroups?: () => Iterable<Node[]>): Promise<StatementResult> {
  if (stmt.onConflictClause) throw notAtEdge('INSERT ... ON CONFLICT');
  if (stmt.returningList) throw notAtEdge('INSERT ... RETURNING');
  if (stmt.withClause) throw notAtEdge('WITH queries');
  const rel = stmt.relation as Node;
  if (rel.schemaname && rel.schemaname !== 'public') throw notAtEdge(`tables outside schema public ("${String(rel.schemaname)}.${String(rel.relname)}")`);
  const table = engine.catalog.requireTable(String(rel.relname));
  const select = (stmt.selectStmt as Node | undefined)?.SelectStmt as Node | undefined;
  if (!select?.valuesLists) throw notAtEdge(select ? 'INSERT ... SELECT' : 'INSERT ... DEFAULT VALUES');
  if (select.sortClause || select.limitCount || select.limitOffset) throw notAtEdge('INSERT ... VALUES with ORDER BY, LIMIT or OFFSET');
  const names = ((stmt.cols as Node[] | undefined) ?? []).map((c) => String((c.ResTarget as Node).name));
  const targets = names.length > 0 ? names : table.columns.map((c) => c.name);
  const positions = targets.map((n) => {
    const i = table.columns.findIndex((c) => c.name === n);
    if (i < 0) throw orbitError('undefined_column', `column "${n}" of relation "${table.name}" does not exist`);
    return i;
  });
  const scope = engine.constantScope(params);
  const toRows = (lists: readonly Node[]): Value[][] =>
    lists.map((list) => {
      const items = (list.List as Node).items as Node[];
      if (items.length > targets.length) throw orbitError('syntax_error', 'INSERT has more expressions than target columns');
      const row: Value[] = table.columns.map(() => null);
      items.forEach((item, k) => {
        if (item.SetToDefault) return;
        const col = table.columns[positions[k]!]!;
        const e = coerce(compile(item, scope), col.type, scope);
        row[positions[k]!] = e.eval([], 0);
      });
      table.columns.forEach((c, j) => {
        if (c.notNull && row[j] === null) {
          throw orbitError('not_null_violation', `null value in column "${c.name}" of relation "${table.name}" violates not-null constraint`);
        }
      });
      return row;
    });
  // A split INSERT's groups are parsed and converted one at a time, inside the write's transaction.
  const pieces = valueGroups ? mapIterable(valueGroups(), toRows) : [toRows(select.valuesLists as Node[])];
  const n = await engine.writePieces(table, pieces);
  return { command: `INSERT 0 ${n}`, rows: [] };
}

function* mapIterable<T, U>(items: Iterable<T>, f: (item: T) => U): Generator<U> {
  for (const item of items) yield f(item);
}
