/**
 * @module sql/planner/scan
 * Row-returning reads of one hypertable with compressed chunks (docs/guides/planner.md). Orbit
 * decodes only the batches the WHERE clause can match, keeps only the rows its pushed-down
 * comparisons accept, and hands those rows to PostgreSQL in a per-statement temporary table; the
 * statement itself runs unchanged over
 *
 *     (SELECT * FROM hypertable UNION ALL SELECT * FROM pg_temp.orbit_scan_<id>) AS <alias>
 *
 * (the hypertable's columns the statement does not name read as NULLs on both sides), so PostgreSQL applies the whole WHERE again and computes everything else. Pushed predicates only
 * have to keep every row PostgreSQL would keep; they are exact (same semantics as PostgreSQL's
 * comparison) so that `ORDER BY time LIMIT n` can stop reading batches once n rows are certain
 * (ordered append) when every conjunct of the WHERE clause was pushed down.
 */
import { deparseSync } from '../deparse.js';
import { parseSql } from '../parser.js';
import { clone, colNames, columnName, funcName, ident as quote, kind, walk, type Fields, type Node } from '../rewrite/ast.js';
import type { PlannerColumn, PlannerTable } from './table.js';
import { conjuncts, deparseExpr, STABLE_FUNCTIONS } from './expressions.js';
import { isSafeConstant, predicateOf, type ColumnPredicate } from './predicates.js';
import { typeWholeRows } from '../rewrite/whole-row.js';

export interface ScanPlan {
  readonly table: PlannerTable;
  readonly predicates: readonly ColumnPredicate[];
  /** Conjuncts of the WHERE clause that are not predicates (PostgreSQL alone evaluates them). */
  readonly residual: number;
  /** The columns the statement names (undefined: all); the others reach PostgreSQL as NULLs. */
  readonly columns?: ReadonlySet<string>;
  /** `ORDER BY time … LIMIT n [OFFSET m]` over plain rows: only the newest (oldest) batches are needed. */
  readonly order?: { readonly desc: boolean; readonly limitSql: string; readonly offsetSql?: string };
  /**
   * The output columns when the statement only lists columns of the table (or `*`), with no ORDER
   * BY, LIMIT, OFFSET, grouping, DISTINCT or window: its compressed rows are then the stored values
   * themselves, which the scan may print without PostgreSQL (session/columnstore/scan.ts).
   */
  readonly output?: readonly PlannerColumn[];
  /** The name PostgreSQL gives each output column (its alias, else the column's name). */
  readonly outputNames?: readonly string[];
  /** The statement to run, reading the rowstore plus the temporary table `temp` (`pg_temp.<name>`). */
  finalSql(temp: string): string;
}

/** Target-list functions that return one value per row (ordered append may then cut rows). */
const SCALAR_FUNCTIONS = new Set([...STABLE_FUNCTIONS, 'time_bucket', 'date_part', 'extract', 'concat', 'length', 'greatest', 'least', 'nullif', 'to_char', 'format']);

/**
 * The scan plan of a lone SELECT reading `table` once (the caller checks that the statement names
 * the hypertable only once), or undefined for any other statement.
 */
export function planScan(type: string, node: Fields, lookup: (schema: string | undefined, name: string) => PlannerTable | undefined): ScanPlan | undefined {
  if (type !== 'SelectStmt') return undefined;
  const s = node;
  if ((s.op && s.op !== 'SETOP_NONE') || s.withClause || s.lockingClause || s.intoClause || s.valuesLists) return undefined;
  const from = s.fromClause as Node[] | undefined;
  if (from?.length !== 1 || kind(from[0]) !== 'RangeVar') return undefined;
  const rv = from[0]!.RangeVar as Fields;
  if (rv.inh === false) return undefined;
  const table = lookup(rv.schemaname as string | undefined, rv.relname as string);
  if (!table) return undefined;
  const aliasNode = rv.alias as Fields | undefined;
  if (aliasNode?.colnames) return undefined;
  const alias = (aliasNode?.aliasname as string | undefined) ?? table.name;
  // Parameters (re-planned at each execution) and schema-qualified column references (which the
  // subquery replacing the table cannot answer) keep the general path.
  let unsupported = false;
  walk(
    s,
    (n, t) => {
      if (t === 'ParamRef' || (t === 'ColumnRef' && (colNames(n)?.length ?? 0) > 2)) unsupported = true;
      return !unsupported;
    },
    true,
  );
  if (unsupported) return undefined;
  // A whole-row reference: read through the scan's subquery the row would be a record; the general
  // path types it as the table's row (or refuses it).
  const read = { RangeSubselect: { subquery: { SelectStmt: {} }, alias: aliasNode ?? { aliasname: table.name } } };
  const rows = typeWholeRows({ SelectStmt: { ...s, fromClause: [read] } }, { subqueries: new Map([[read, table]]), unaliased: new Set(), lookup: () => undefined });
  if (rows.typed || rows.unsure) return undefined;
  const columnOf = (n: unknown): PlannerColumn | undefined => {
    const names = colNames(n);
    if (!names || names.length > 2 || (names.length === 2 && names[0] !== alias)) return undefined;
    return table.columns.find((c) => c.name === names[names.length - 1]);
  };

  const predicates: ColumnPredicate[] = [];
  let residual = 0;
  for (const conjunct of conjuncts(s.whereClause as Node | undefined)) {
    const p = predicateOf(conjunct, columnOf);
    if (p) predicates.push(...p);
    else residual++;
  }
  const order = orderedAppend(s, table, columnOf);
  // The columns the statement names: only those need decoding (`*` or a whole-row reference: all).
  let columns: Set<string> | undefined = new Set<string>();
  walk(
    s,
    (n, t) => {
      if (t !== 'ColumnRef' || !columns) return;
      const names = colNames(n)!;
      const last = names[names.length - 1]!;
      if (last === '*' || (names.length === 1 && !table.columns.some((c) => c.name === last))) {
        // A star, or a name that is no column (an output name, a whole-row reference): be safe.
        if (last === '*' || last === alias || last === table.name) columns = undefined;
        return;
      }
      columns.add(last);
    },
    true,
  );
  // Nothing to prune by: the reusable cache tables serve such statements better.
  if (predicates.length === 0 && !order) return undefined;
  const quoted = `${quote(table.schema)}.${quote(table.name)}`;
  const output = plainOutput(s, table, alias, columnOf);
  const outputNames = output?.map((o) => o.name);
  return {
    table,
    predicates,
    residual,
    ...(order ? { order } : {}),
    ...(output ? { output: output.map((o) => o.column), outputNames } : {}),
    ...(columns ? { columns } : {}),
    finalSql(temp) {
      // The rowstore's side reads only the columns the statement names (the others as NULLs, as in
      // the temporary table), so a role with SELECT on those columns alone may run it.
      const named = columns;
      const rowstore = named ? table.columns.map((c) => (named.has(c.name) ? quote(c.name) : `NULL::${c.type} AS ${quote(c.name)}`)).join(', ') : '*';
      const union = parseSql(`SELECT ${rowstore} FROM ${quoted} UNION ALL SELECT * FROM ${temp}`)[0]!.node;
      const out = clone(s);
      out.fromClause = [{ RangeSubselect: { subquery: { SelectStmt: union }, alias: aliasNode ? clone(aliasNode) : { aliasname: table.name } } }];
      return deparseSync({ SelectStmt: out } as never, { pretty: false });
    },
  };
}

/** The columns a SELECT lists when it lists nothing but columns of the table (see ScanPlan.output). */
function plainOutput(s: Fields, table: PlannerTable, alias: string, columnOf: (n: unknown) => PlannerColumn | undefined): Array<{ column: PlannerColumn; name: string }> | undefined {
  if (s.sortClause || s.limitCount || s.limitOffset || s.groupClause || s.havingClause || s.distinctClause || s.windowClause) return undefined;
  const out: Array<{ column: PlannerColumn; name: string }> = [];
  for (const t of (s.targetList as Node[] | undefined) ?? []) {
    const target = t.ResTarget as Fields;
    if (target.indirection) return undefined;
    const names = colNames(target.val);
    if (!names) return undefined;
    if (names[names.length - 1] === '*') {
      if (names.length > 2 || (names.length === 2 && names[0] !== alias)) return undefined;
      out.push(...table.columns.map((column) => ({ column, name: column.name })));
      continue;
    }
    const column = columnOf(target.val);
    if (!column) return undefined;
    out.push({ column, name: (target.name as string | undefined) ?? column.name });
  }
  return out.length > 0 ? out : undefined;
}

/** `ORDER BY time [ASC|DESC][, …] LIMIT n [OFFSET m]` over rows the LIMIT counts one by one. */
function orderedAppend(s: Fields, table: PlannerTable, columnOf: (n: unknown) => PlannerColumn | undefined): ScanPlan['order'] | undefined {
  const sort = s.sortClause as Node[] | undefined;
  if (!sort?.length || !s.limitCount || (s.limitOption && s.limitOption !== 'LIMIT_OPTION_COUNT' && s.limitOption !== 'LIMIT_OPTION_DEFAULT')) return undefined;
  if (s.groupClause || s.havingClause || s.distinctClause || s.windowClause) return undefined;
  const first = sort[0]!.SortBy as Fields;
  if (columnOf(first.node)?.name !== table.timeColumn || first.sortby_dir === 'SORTBY_USING') return undefined;
  const targets = (s.targetList as Node[]).map((t) => t.ResTarget as Fields);
  // An output column named like the time column would be what ORDER BY means, named by an alias
  // or by PostgreSQL (`time::text` is named "time", and ORDER BY time then sorts the text).
  if (targets.some((t) => columnName(t as { name?: string; val: Node }) === table.timeColumn && columnOf(t.val)?.name !== table.timeColumn)) return undefined;
  // Each input row must give exactly one output row: no aggregates, window or set-returning functions.
  let plain = true;
  walk(
    targets.map((t) => t.val),
    (n, t) => {
      if (t === 'SubLink' || (t === 'FuncCall' && (!SCALAR_FUNCTIONS.has(funcName(n) ?? '') || (n.FuncCall as Fields).over))) plain = false;
      return plain;
    },
  );
  if (!plain || !isSafeConstant(s.limitCount as Node) || (s.limitOffset && !isSafeConstant(s.limitOffset as Node))) return undefined;
  return {
    desc: first.sortby_dir === 'SORTBY_DESC',
    limitSql: deparseExpr(s.limitCount as Node),
    ...(s.limitOffset ? { offsetSql: deparseExpr(s.limitOffset as Node) } : {}),
  };
}

