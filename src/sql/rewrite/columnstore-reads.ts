/**
 * @module sql/rewrite/columnstore-reads
 * Makes reads of hypertables with the columnstore enabled see the rows of their compressed chunks
 * (docs/design/columnstore.md, "Reading"). Those rows are not in the chunk tables but in Orbit's
 * batches; the session layer decodes them into temporary tables that inherit from one temporary
 * parent per hypertable (session/columnstore/cache-tables.ts), and every reference to the hypertable that reads
 * it becomes
 *
 *     (SELECT * FROM hypertable UNION ALL SELECT * FROM pg_temp.orbit_cs_<id>) AS <alias or name>
 *
 * PostgreSQL flattens the UNION ALL into one append of the chunks and the temporary tables, so the
 * query's predicates still prune chunks (partition bounds) and temporary tables (their CHECK
 * constraint copies the chunk's partition constraint). Targets of INSERT/UPDATE/DELETE/MERGE are
 * not rewritten (the session decompresses what DML touches); `COPY hypertable TO` becomes
 * `COPY (SELECT …) TO`, and a `COPY (query) TO` has its query's reads rewritten.
 */
import { deparseSync } from '../deparse.js';
import { OrbitError } from '../../errors.js';
import { SqlState } from '../../sqlstate.js';
import { parseSql } from '../parser.js';
import { clone, ident as quote, kind, type Fields, type Node } from './ast.js';
import { typeWholeRows } from './whole-row.js';

/** A hypertable whose reads are rewritten. */
export interface ColumnstoreTable {
  readonly id: number;
  readonly schema: string;
  readonly name: string;
  /** false: none of its chunks is in the columnstore now (its cache table is empty). */
  readonly compressed?: boolean;
  /** Its columns, when known (a bare name that is none of them is a whole-row reference). */
  readonly columns?: ReadonlyArray<{ readonly name: string }>;
}

/** The temporary parent table holding the decoded rows of a hypertable's compressed chunks. */
export function cacheParentName(hypertableId: number): string {
  return `orbit_cs_${hypertableId}`;
}

/** Statement types whose reads are rewritten (others name tables without reading them). */
const READING = new Set(['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'ExplainStmt', 'CreateTableAsStmt', 'DeclareCursorStmt', 'PrepareStmt', 'CopyStmt']);

export interface ColumnstoreRewrite {
  /** The statement as PostgreSQL should run it. */
  readonly sql: string;
  /** The hypertables whose cache tables it reads. */
  readonly tables: readonly ColumnstoreTable[];
}

type TableLookup = (schema: string | undefined, name: string) => ColumnstoreTable | undefined;

/** The column names of a relation the statement names (undefined: unknown). */
export type RelationColumns = (schema: string | undefined, name: string) => ReadonlySet<string> | undefined;

/**
 * Rewrites one statement (`type`/`node` from the parser) when it reads one of `tables` (found by
 * `lookup(schema, name)`); undefined when it reads none. `columnsOf` gives the columns of the other
 * relations it names, which decide what a bare name means (whole-row.ts).
 */
export function rewriteColumnstoreReads(type: string, node: Fields, lookup: TableLookup, columnsOf?: RelationColumns): ColumnstoreRewrite | undefined {
  const replaced = replaceReads(type, node, lookup);
  if (!replaced) return undefined;
  const { used, readNames, subqueries, unaliased } = replaced;
  let root = replaced.root;
  // whole-row.ts tells a CTE from a relation of its name by where the CTE is in scope; it also
  // makes schema-qualified references to a subquery name it by its alias, and gives a subquery
  // whose bare name is not its own an internal alias (name-clashes.ts), with the references to it.
  const reads = { subqueries, unaliased, lookup };
  let rows = typeWholeRows(root, reads, columnsOf);
  if (rows.rename.size > 0) rows = typeWholeRows(root, { ...reads, renamed: rows.rename }, columnsOf);
  if (rows.typed || rows.unsure || rows.qualified || rows.hidden || rows.misnamed || rows.renamed) {
    // With no compressed chunks the hypertable alone has every row, typed and named as PostgreSQL does.
    if ([...used.values()].every((t) => t.compressed === false)) return undefined;
    if (rows.misnamed) {
      throw new OrbitError(SqlState.undefined_table, `invalid reference to FROM-clause entry for table "${rows.misnamed.table}"`, {
        hint: `Perhaps you meant to reference the table alias "${rows.misnamed.alias}".`,
      });
    }
    if (rows.hidden) {
      throw new OrbitError(SqlState.feature_not_supported, `reference "${rows.hidden}" to a hypertable with compressed chunks from where another FROM item has its name is not supported by Orbit`, {
        hint: 'Give the hypertable an alias and qualify the column with it, or convert the chunks back to the rowstore (decompress_chunk).',
      });
    }
    if (rows.unsure) {
      throw new OrbitError(SqlState.feature_not_supported, `whole-row reference "${rows.unsure}" to a hypertable with compressed chunks next to a FROM item Orbit does not know the columns of is not supported by Orbit`, {
        hint: `Qualify it as ${rows.unsure}.* where it is not a whole entry of a target list (e.g. f(${rows.unsure}.*)), name the columns, or convert the chunks back to the rowstore (decompress_chunk).`,
      });
    }
    root = rows.node as Fields;
  }
  // `schema.table.column` names the relation, which the subquery is only when it read it unaliased.
  const unaliasedTables = [...subqueries].filter(([read]) => unaliased.has(read)).map(([, t]) => t);
  const system = systemColumnRead(node, (qualifier, schema) =>
    qualifier === undefined ? !DML.has(type) : schema === undefined ? readNames.has(qualifier) : unaliasedTables.some((t) => t.schema === schema && t.name === qualifier),
  );
  if (system) {
    // With no compressed chunks the hypertable alone has every row, system columns included.
    if ([...used.values()].every((t) => t.compressed === false)) return undefined;
    throw new OrbitError(SqlState.feature_not_supported, `system column "${system}" is not supported on hypertables with compressed chunks in Orbit`, {
      hint: 'Name the chunk with show_chunks() or timescaledb_information.chunks instead.',
    });
  }
  return { sql: deparseSync(root as never, { pretty: false }), tables: [...used.values()] };
}

/**
 * The relations (other than the hypertables read) whose columns decide whether a bare name in the
 * statement is a whole-row reference to a hypertable with compressed chunks: none when it names no
 * such reference. The session loads their columns for `rewriteColumnstoreReads`.
 */
export function wholeRowRelations(type: string, node: Fields, lookup: TableLookup): Array<{ schema?: string; name: string }> {
  const replaced = replaceReads(type, node, lookup);
  if (!replaced || [...replaced.used.values()].every((t) => t.compressed === false)) return [];
  const asked: Array<{ schema?: string; name: string }> = [];
  const none = new Set<string>();
  const rows = typeWholeRows(replaced.root, { subqueries: replaced.subqueries, unaliased: replaced.unaliased, lookup }, (schema, name) => {
    asked.push(schema === undefined ? { name } : { schema, name });
    return none;
  });
  return rows.typed || rows.unsure ? asked : [];
}

/** A statement with its reads of hypertables replaced by subqueries (`replaceReads`). */
interface ReplacedReads {
  readonly root: Fields;
  readonly used: ReadonlyMap<number, ColumnstoreTable>;
  /** Names (aliases) the rewritten references go by. */
  readonly readNames: ReadonlySet<string>;
  /** The subqueries replacing them, with the hypertable each reads (whole-row.ts types their rows). */
  readonly subqueries: ReadonlyMap<unknown, ColumnstoreTable>;
  /** Those replacing a hypertable named without an alias (`schema.table.column` may name them). */
  readonly unaliased: ReadonlySet<unknown>;
}

/** `type`/`node` with every read of a hypertable `lookup` finds replaced; undefined when it reads none. */
function replaceReads(type: string, node: Fields, lookup: TableLookup): ReplacedReads | undefined {
  if (!READING.has(type)) return undefined;
  const used = new Map<number, ColumnstoreTable>();
  const readNames = new Set<string>();
  const subqueries = new Map<unknown, ColumnstoreTable>();
  const unaliased = new Set<unknown>();
  /** `ctes`: the CTE names in scope, which an unqualified name means instead of a table. */
  const find = (rv: Fields, ctes: ReadonlySet<string>): ColumnstoreTable | undefined => {
    const schema = rv.schemaname as string | undefined;
    const name = rv.relname as string | undefined;
    if (!name || (schema === undefined && ctes.has(name))) return undefined;
    return lookup(schema, name);
  };
  const replace = (value: unknown, ctes: ReadonlySet<string>): unknown => {
    if (Array.isArray(value)) return value.map((v) => replace(v, ctes));
    if (value === null || typeof value !== 'object') return value;
    const t = kind(value);
    if (t === 'RangeTableSample') {
      // TABLESAMPLE samples a table's pages, which a subquery over the cache tables does not have.
      const relation = (value as Node).RangeTableSample as Fields;
      const rv = ((relation.relation as Node | undefined)?.RangeVar as Fields | undefined) ?? {};
      const table = rv.inh === true ? find(rv, ctes) : undefined;
      if (!table || table.compressed === false) return value;
      throw new OrbitError(SqlState.feature_not_supported, `TABLESAMPLE on hypertable "${table.name}" with compressed chunks is not supported by Orbit`, {
        hint: 'Sample with a WHERE clause (e.g. random() < 0.1), or convert the chunks back to the rowstore (decompress_chunk).',
      });
    }
    if (t === 'RangeVar') {
      const rv = (value as Node).RangeVar as Fields;
      // FROM ONLY hypertable reads the parent alone, which holds no rows (as in TimescaleDB).
      const table = rv.inh === true ? find(rv, ctes) : undefined;
      if (!table) return value;
      used.set(table.id, table);
      readNames.add(((rv.alias as Fields | undefined)?.aliasname as string | undefined) ?? (rv.relname as string));
      const read = { RangeSubselect: { subquery: unionWithCache(table), alias: rv.alias ?? { aliasname: rv.relname } } };
      subqueries.set(read, table);
      if (rv.alias === undefined) unaliased.add(read);
      return read;
    }
    return replaceFields(value as Fields, ctes, replace);
  };
  let root: Fields;
  if (type === 'CopyStmt' && node.query !== undefined) {
    // COPY (query) TO …: the query's reads, as in a SELECT.
    root = { CopyStmt: { ...node, query: replace(node.query, new Set()) } };
  } else if (type === 'CopyStmt') {
    const rv = node.relation as Fields | undefined;
    const table = rv && !node.is_from ? find(rv, new Set()) : undefined;
    if (!table) return undefined;
    used.set(table.id, table);
    // COPY hypertable [(columns)] TO …  →  COPY (SELECT columns FROM (…) AS hypertable) TO …
    const copy = clone(node);
    const columns = (copy.attlist as Node[] | undefined) ?? [];
    delete copy.relation;
    delete copy.attlist;
    copy.query = {
      SelectStmt: {
        targetList: columns.length
          ? columns.map((c) => ({ ResTarget: { val: { ColumnRef: { fields: [clone(c)] } } } }))
          : [{ ResTarget: { val: { ColumnRef: { fields: [{ A_Star: {} }] } } } }],
        fromClause: [{ RangeSubselect: { subquery: unionWithCache(table), alias: { aliasname: rv!.relname } } }],
        op: 'SETOP_NONE',
      },
    };
    root = { CopyStmt: copy };
  } else {
    // DML targets (the statement's `relation`) are written, not read: they stay.
    const target = type === 'InsertStmt' || type === 'UpdateStmt' || type === 'DeleteStmt' || type === 'MergeStmt' ? 'relation' : undefined;
    root = { [type]: replaceFields(node, new Set(), replace, target) };
  }
  return used.size === 0 ? undefined : { root, used, readNames, subqueries, unaliased };
}

const DML = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);
const SYSTEM_COLUMNS = new Set(['tableoid', 'ctid', 'xmin', 'xmax', 'cmin', 'cmax']);

/**
 * A system column the statement reads with a qualifier (table name or alias; undefined: none)
 * `counts` accepts. The rows of compressed chunks come through a subquery, which has no system
 * columns, so PostgreSQL would answer "column does not exist".
 */
function systemColumnRead(value: unknown, counts: (qualifier: string | undefined, schema: string | undefined) => boolean): string | undefined {
  if (Array.isArray(value)) {
    for (const v of value) {
      const found = systemColumnRead(v, counts);
      if (found) return found;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const ref = (value as Node).ColumnRef as Fields | undefined;
  if (ref) {
    const fields = (ref.fields as Node[]).map((f) => ((f as Fields).String as Fields | undefined)?.sval as string | undefined);
    const column = fields.at(-1);
    if (column === undefined || !SYSTEM_COLUMNS.has(column)) return undefined;
    return counts(fields.length === 1 ? undefined : fields.at(-2), fields.length > 2 ? fields.at(-3) : undefined) ? column : undefined;
  }
  for (const v of Object.values(value as Fields)) {
    const found = systemColumnRead(v, counts);
    if (found) return found;
  }
  return undefined;
}

/** Whether the statement names a system column anywhere (the planner leaves those to the general path, which decides). */
export function namesSystemColumn(node: unknown): boolean {
  return systemColumnRead(node, () => true) !== undefined;
}

/** Whether the statement names one of the tables `lookup` finds with FROM ONLY (the planner leaves those to PostgreSQL). */
export function readsOnly(node: unknown, lookup: (schema: string | undefined, name: string) => unknown): boolean {
  if (Array.isArray(node)) return node.some((v) => readsOnly(v, lookup));
  if (node === null || typeof node !== 'object') return false;
  const rv = (node as Node).RangeVar as Fields | undefined;
  if (rv) return rv.inh !== true && rv.relname !== undefined && lookup(rv.schemaname as string | undefined, rv.relname as string) !== undefined;
  return Object.values(node as Fields).some((v) => readsOnly(v, lookup));
}

/**
 * Copies `fields` through `replace`, but for the key `keep` (copied as it is). A statement's WITH
 * puts its CTEs in scope for the rest of the statement and for the CTEs after each (all of them
 * under RECURSIVE), as PostgreSQL resolves an unqualified name (parse_relation.c, scanNameSpaceForCTE).
 */
function replaceFields(fields: Fields, ctes: ReadonlySet<string>, replace: (v: unknown, ctes: ReadonlySet<string>) => unknown, keep?: string): Fields {
  const w = fields.withClause as Fields | undefined;
  const list = ((w?.ctes as Node[] | undefined) ?? []).map((c) => c.CommonTableExpr as Fields);
  const names = list.map((c) => c.ctename as string);
  const inner = names.length > 0 ? new Set([...ctes, ...names]) : ctes;
  const out: Fields = {};
  for (const [key, v] of Object.entries(fields)) {
    // FOR UPDATE OF names FROM items, it does not read relations.
    if (key === keep || key === 'lockingClause') out[key] = clone(v);
    else if (key === 'withClause' && w) {
      const each = list.map((c, i) => ({ CommonTableExpr: { ...c, ctequery: replace(c.ctequery, w.recursive ? inner : new Set([...ctes, ...names.slice(0, i)])) } }));
      out[key] = { ...w, ctes: each };
    } else out[key] = replace(v, inner);
  }
  return out;
}

/** `SELECT * FROM schema.table UNION ALL SELECT * FROM pg_temp.orbit_cs_<id>`, parsed. */
function unionWithCache(table: ColumnstoreTable): Node {
  const sql = `SELECT * FROM ${quote(table.schema)}.${quote(table.name)} UNION ALL SELECT * FROM pg_temp.${cacheParentName(table.id)}`;
  return { SelectStmt: parseSql(sql)[0]!.node };
}

