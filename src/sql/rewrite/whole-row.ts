/**
 * @module sql/rewrite/whole-row
 * Whole-row references to a hypertable read through the general path's subquery
 * (columnstore-reads.ts). The whole row of a subquery is an anonymous `record`, while PostgreSQL
 * gives a table's whole row the table's row type (pg_typeof, RowDescription, functions taking it).
 * Each such reference `x` (or `x.*` where it does not expand into columns) becomes
 *
 *     CASE WHEN x.* IS NOT DISTINCT FROM NULL THEN NULL ELSE x.*::schema.table END
 *
 * The cast expands the subquery's row into its columns and builds the table's row type, dropped
 * columns included (parse_coerce.c, coerce_record_to_complex); that row is never NULL, so the CASE
 * keeps the NULL an outer join gives for a missing row (IS NOT DISTINCT FROM tests the record
 * itself, not its fields). `x.f` naming no column of x (the function f on the row) becomes `(…).f`.
 *
 * Which name a bare `x` means follows PostgreSQL (parse_expr.c, transformColumnRef): a column of
 * that name in any FROM item of any enclosing query level wins; otherwise the innermost FROM item
 * called x. The FROM items' columns come from the hypertables' metadata, the text of subqueries,
 * CTEs and VALUES, and `columnsOf` for tables and views (the catalog); when an item in scope might
 * still have a column x (a function, a subquery with `*`, a relation not found), the reference is
 * left as it is and reported, for the caller to refuse (0A000) rather than guess.
 *
 * The same scopes name a subquery by an internal alias where its bare name is not its own
 * (name-clashes.ts: another relation of that name next to it, or a schema-qualified reference that
 * its bare name would not reach): every reference PostgreSQL resolves to it is rewritten to that
 * alias; one PostgreSQL finds ambiguous is put where PostgreSQL raises that (42P09) itself.
 */
import { parseSql } from '../parser.js';
import type { ColumnstoreTable, RelationColumns } from './columnstore-reads.js';
import { as, colNames, columnName, ident, kind, type Fields, type Node } from './ast.js';
import { ambiguousReference, clashingReads, internalAlias, nameEntry, type NameEntry } from './name-clashes.js';

/** A FROM item as the names in expressions see it. */
interface Item {
  /** The name that qualifies its columns (alias, table or function name); undefined: none. */
  readonly name?: string;
  /** Its column names; undefined: unknown. */
  readonly columns?: ReadonlySet<string>;
  /** The hypertable it reads through the subquery, for the items this module types. */
  readonly table?: ColumnstoreTable;
  /**
   * A relation named without an alias (the subquery's item: the hypertable was): what a
   * schema-qualified `schema.table.column` may name. `schema`: as written; `maybe`: unqualified, it
   * may be any schema's table of that name (a DML target, FROM ONLY: not replaced by the subquery).
   */
  readonly relation?: { readonly schema?: string; readonly maybe: boolean };
  /** The subquery's own alias where the name is not its own (name-clashes.ts). */
  readonly internal?: string;
  /** The subquery node (columnstore-reads.ts's, by identity). */
  readonly read?: unknown;
}

/** The FROM items of the query levels around an expression, outermost first. */
type Scope = ReadonlyArray<readonly Item[]>;

/** The subqueries columnstore-reads.ts made (RangeSubselect nodes, by identity) and what they read. */
export interface SubqueryReads {
  /** Each with the hypertable it reads. */
  readonly subqueries: ReadonlyMap<unknown, ColumnstoreTable>;
  /** Those replacing a hypertable named without an alias (called by its name). */
  readonly unaliased: ReadonlySet<unknown>;
  /** The hypertable a relation name means, if any (which table a FROM ONLY or a DML target is). */
  readonly lookup: (schema: string | undefined, name: string) => ColumnstoreTable | undefined;
  /** Those to alias internally for the schema-qualified references to them (a first typing's `rename`). */
  readonly renamed?: ReadonlySet<unknown>;
}

export interface WholeRowTyping {
  /** The statement with its whole-row references typed. */
  readonly node: unknown;
  /** Whether some reference was typed. */
  readonly typed: boolean;
  /** A whole-row reference that could not be told apart from a column of another FROM item. */
  readonly unsure?: string;
  /** Whether some schema-qualified reference to a subquery was made to name it by its alias. */
  readonly qualified: boolean;
  /** A schema-qualified reference to a subquery that its bare name would not reach. */
  readonly hidden?: string;
  /**
   * A schema-qualified reference to a hypertable read under an alias, which PostgreSQL refuses
   * naming the alias (42P01; the subquery would make it "missing FROM-clause entry").
   */
  readonly misnamed?: { readonly table: string; readonly alias: string };
  /** Whether some subquery got an internal alias (name-clashes.ts). */
  readonly renamed: boolean;
  /** Subqueries a schema-qualified reference reaches only by an internal alias: type again with them `renamed`. */
  readonly rename: ReadonlySet<unknown>;
}

/**
 * Types the whole-row references of `node` to the subqueries of `reads`, and names the subqueries
 * whose bare name is not theirs by an internal alias (name-clashes.ts), with the references to them.
 */
export function typeWholeRows(node: unknown, reads: SubqueryReads, columnsOf?: RelationColumns): WholeRowTyping {
  const typer = new Typer(reads, columnsOf);
  const out = typer.value(node, []);
  return {
    node: out,
    typed: typer.typed,
    qualified: typer.qualified,
    renamed: typer.internal.size > 0,
    rename: typer.rename,
    ...(typer.unsure !== undefined ? { unsure: typer.unsure } : {}),
    ...(typer.hidden !== undefined ? { hidden: typer.hidden } : {}),
    ...(typer.misnamed !== undefined ? { misnamed: typer.misnamed } : {}),
  };
}

class Typer {
  typed = false;
  unsure: string | undefined;
  qualified = false;
  hidden: string | undefined;
  misnamed: { table: string; alias: string } | undefined;
  readonly rename = new Set<unknown>();
  /** The name of the MERGE whose parts are typed now. */
  private mergeTarget: string | undefined;
  /** The internal alias of each subquery given one. */
  readonly internal = new Map<unknown, string>();
  /** The CTEs of the enclosing statements, innermost last: their columns (null: unknown). */
  private readonly ctes: Array<ReadonlyMap<string, ReadonlySet<string> | null>> = [];
  private readonly subqueries: ReadonlyMap<unknown, ColumnstoreTable>;
  private readonly unaliased: ReadonlySet<unknown>;

  constructor(
    private readonly reads: SubqueryReads,
    private readonly columnsOf: RelationColumns | undefined,
  ) {
    this.subqueries = reads.subqueries;
    this.unaliased = reads.unaliased;
    for (const read of reads.renamed ?? []) this.aliasInternally(read);
  }

  private aliasInternally(read: unknown): void {
    const table = this.subqueries.get(read)!;
    this.internal.set(read, internalAlias(table.name, table.id));
  }

  /**
   * The FROM list `list` of a query level (after a DML's `target`): its subqueries that share
   * their name with another relation as PostgreSQL allows get an internal alias.
   */
  private clashes(list: readonly Node[], target: readonly NameEntry[] = []): void {
    for (const read of clashingReads(list, target, (i) => nameEntry(i, this.reads, (name) => this.cte(name) !== undefined))) if (!this.internal.has(read)) this.aliasInternally(read);
  }

  /** Any part of a statement, read in `scope`. */
  value(v: unknown, scope: Scope): unknown {
    if (Array.isArray(v)) return v.map((x) => this.value(x, scope));
    if (v === null || typeof v !== 'object') return v;
    const type = kind(v);
    const f = type ? ((v as Node)[type] as Fields) : undefined;
    switch (type) {
      case 'SelectStmt':
        return { SelectStmt: this.select(f!, scope) };
      case 'UpdateStmt':
      case 'DeleteStmt':
      case 'MergeStmt':
        return { [type]: this.modify(f!, scope) };
      case 'ColumnRef':
        return this.ref(v as Node, scope, false);
      case 'RowExpr':
        // ROW(x.*) expands x into its columns, as a target list does.
        return { RowExpr: { ...this.fields(f!, scope, ['args']), args: ((f!.args as Node[] | undefined) ?? []).map((a) => this.expanding(a, scope)) } };
    }
    return type ? { [type]: this.fields(f!, scope) } : this.fields(v as Fields, scope);
  }

  private fields(f: Fields, scope: Scope, skip: readonly string[] = []): Fields {
    const out: Fields = {};
    for (const [key, x] of Object.entries(f)) out[key] = skip.includes(key) ? x : this.value(x, scope);
    return out;
  }

  /** An expression where `x.*` expands into columns (a target list entry, a ROW() argument). */
  private expanding(v: unknown, scope: Scope): unknown {
    return kind(v) === 'ColumnRef' ? this.ref(v as Node, scope, true) : this.value(v, scope);
  }

  private select(s: Fields, scope: Scope): Fields {
    const withClause = s.withClause && this.with(s.withClause as Fields, scope);
    this.ctes.push(cteColumns(s.withClause));
    this.clashes((s.fromClause as Node[] | undefined) ?? []);
    // A set operation's own ORDER BY / LIMIT see its output columns, no FROM item.
    const items = ((s.fromClause as Node[] | undefined) ?? []).flatMap((i) => this.items(i));
    const inner = [...scope, items];
    const outputs = new Set(((s.targetList as Node[] | undefined) ?? []).map((t) => columnName(as<{ name?: string; val: Node }>(t, 'ResTarget')!)));
    const out: Fields = {};
    for (const [key, x] of Object.entries(s)) {
      // A set operation's sides are SelectStmt fields (not wrapped in a node), each a level of its own.
      if (key === 'larg' || key === 'rarg') out[key] = this.select(x as Fields, scope);
      else if (key === 'withClause') out[key] = withClause;
      else if (key === 'fromClause') out[key] = this.fromList(x as Node[], scope);
      else if (key === 'targetList') out[key] = (x as Node[]).map((t) => this.target(t, inner));
      else if (key === 'sortClause' || key === 'groupClause' || key === 'distinctClause') out[key] = (x as Node[]).map((e) => this.sortKey(e, inner, outputs));
      else if (key === 'lockingClause') out[key] = (x as Node[]).map((l) => this.locking(l, items));
      else out[key] = this.value(x, inner);
    }
    this.ctes.pop();
    return out;
  }

  /** FOR UPDATE OF x also names the subquery aliased internally that PostgreSQL calls x (which then refuses it, 0A000). */
  private locking(l: Node, items: readonly Item[]): Node {
    const c = as(l, 'LockingClause');
    const rels = (c?.lockedRels as Node[] | undefined) ?? [];
    const internal = rels.flatMap((r) => items.filter((i) => i.internal !== undefined && i.name === as(r, 'RangeVar')?.relname).map((i) => ({ RangeVar: { relname: i.internal, inh: true } })));
    return internal.length === 0 ? l : { LockingClause: { ...c, lockedRels: [...rels, ...internal] } };
  }

  /** A WITH clause: each CTE's query sees the CTEs before it (under RECURSIVE all of them). */
  private with(w: Fields, scope: Scope): Fields {
    const all = cteColumns(w);
    const before = new Map<string, ReadonlySet<string> | null>();
    const ctes = ((w.ctes as Node[] | undefined) ?? []).map((c) => {
      const cte = c.CommonTableExpr as Fields;
      this.ctes.push(w.recursive ? all : new Map(before));
      const ctequery = this.value(cte.ctequery, scope);
      this.ctes.pop();
      before.set(cte.ctename as string, all.get(cte.ctename as string) ?? null);
      return { CommonTableExpr: { ...cte, ctequery } };
    });
    return { ...w, ctes };
  }

  /** A FROM list: a LATERAL item sees the items before it. */
  private fromList(list: readonly Node[], outer: Scope, before: Item[] = []): Node[] {
    const seen = [...before];
    return list.map((i) => {
      const out = this.fromItem(i, outer, seen);
      seen.push(...this.items(i));
      return out as Node;
    });
  }

  /** UPDATE, DELETE, MERGE: their target and FROM / USING / source items are in scope. */
  private modify(s: Fields, scope: Scope): Fields {
    const withClause = s.withClause && this.with(s.withClause as Fields, scope);
    this.ctes.push(cteColumns(s.withClause));
    // The target is a RangeVar's fields (not wrapped in a node).
    const from = [...((s.fromClause as Node[] | undefined) ?? []), ...((s.usingClause as Node[] | undefined) ?? []), s.sourceRelation].filter((i) => i !== undefined);
    // MERGE adds its target after its source, refusing a source of its name (transformMergeStmt).
    const entry = (i: Node) => nameEntry(i, this.reads, (name) => this.cte(name) !== undefined);
    const named = s.relation && !('sourceRelation' in s) ? entry({ RangeVar: s.relation }) : undefined;
    const mergeTarget = this.mergeTarget;
    if ('sourceRelation' in s) this.mergeTarget = entry({ RangeVar: s.relation })?.name;
    this.clashes(from as Node[], named ? [named] : []);
    const target = s.relation ? this.items({ RangeVar: s.relation }, true) : [];
    const inner = [...scope, [...target, ...from.flatMap((i) => this.items(i as Node))]];
    const out: Fields = {};
    for (const [key, x] of Object.entries(s)) {
      if (key === 'withClause') out[key] = withClause;
      else if (key === 'fromClause' || key === 'usingClause' || key === 'sourceRelation') out[key] = key === 'sourceRelation' ? this.fromList([x as Node], scope)[0] : this.fromList(x as Node[], scope);
      else if (key === 'returningList') out[key] = (x as Node[]).map((t) => this.target(t, inner));
      else out[key] = this.value(x, inner);
    }
    this.ctes.pop();
    this.mergeTarget = mergeTarget;
    return out;
  }

  /**
   * A FROM item after the items `before` of its level: a subquery sees the enclosing levels, a
   * LATERAL one or a function those items too, an ON clause the join's sides only.
   */
  private fromItem(i: Node, outer: Scope, before: readonly Item[]): unknown {
    if (this.subqueries.has(i)) {
      const internal = this.internal.get(i);
      return internal === undefined ? i : { RangeSubselect: { ...(i.RangeSubselect as Fields), alias: { aliasname: internal } } };
    }
    const lateral = [...outer, before];
    const sub = as(i, 'RangeSubselect');
    if (sub) return { RangeSubselect: { ...sub, subquery: this.value(sub.subquery, sub.lateral ? lateral : outer) } };
    const join = as(i, 'JoinExpr');
    if (join) {
      const [larg, rarg] = this.fromList([join.larg as Node, join.rarg as Node], outer, [...before]);
      const sides = [...outer, [...this.items(join.larg as Node), ...this.items(join.rarg as Node)]];
      return { JoinExpr: { ...this.fields(join, sides, ['larg', 'rarg']), larg, rarg } };
    }
    return this.value(i, lateral);
  }

  /** The items a FROM entry (or a DML's `target`) puts in scope. */
  private items(i: Node, target = false): Item[] {
    const alias = (f: Fields) => (f.alias as Fields | undefined)?.aliasname as string | undefined;
    const table = this.subqueries.get(i);
    if (table) {
      const sub = i.RangeSubselect as Fields;
      const relation = this.unaliased.has(i) ? { relation: { schema: table.schema, maybe: false } } : {};
      const internal = this.internal.get(i);
      return [{ name: alias(sub)!, ...(table.columns ? { columns: renamed(table.columns.map((c) => c.name), sub) } : {}), table, ...relation, read: i, ...(internal !== undefined ? { internal } : {}) }];
    }
    const join = as(i, 'JoinExpr');
    if (join) {
      const both = [...this.items(join.larg as Node), ...this.items(join.rarg as Node)];
      const name = alias(join);
      if (name === undefined) return both;
      // An aliased join hides the names of its sides; their columns are its own (renamed by column
      // aliases in an order USING changes: not followed).
      const known = both.every((b) => b.columns !== undefined) && (join.alias as Fields).colnames === undefined;
      return [{ name, ...(known ? { columns: new Set(both.flatMap((b) => [...b.columns!])) } : {}) }];
    }
    const rv = as(i, 'RangeVar');
    if (rv) {
      const cte = rv.schemaname === undefined ? this.cte(rv.relname as string) : undefined;
      const columns = cte ? cte.columns : this.columnsOf?.(rv.schemaname as string | undefined, rv.relname as string);
      // Not replaced unqualified, a name is another relation than the hypertable, unless FROM ONLY or a DML target.
      const relation = cte || alias(rv) !== undefined ? {} : { relation: { schema: rv.schemaname as string | undefined, maybe: rv.inh === false || target } };
      return [{ name: alias(rv) ?? (rv.relname as string), ...(columns ? { columns: renamed([...columns], rv) } : {}), ...relation }];
    }
    const sub = as(i, 'RangeSubselect');
    if (sub) {
      const columns = queryColumns(sub.subquery);
      return [{ name: alias(sub)!, ...(columns ? { columns: renamed(columns, sub) } : {}) }];
    }
    // A function's columns depend on its result type.
    const other = as(i, 'RangeFunction') ?? as(i, 'RangeTableFunc');
    const name = other ? alias(other) : undefined;
    return [name === undefined ? {} : { name }];
  }

  /** The innermost CTE in scope called `name` (its columns; undefined: unknown), or undefined. */
  private cte(name: string): { columns: ReadonlySet<string> | undefined } | undefined {
    for (let i = this.ctes.length - 1; i >= 0; i--) {
      const found = this.ctes[i]!.get(name);
      if (found !== undefined) return { columns: found ?? undefined };
    }
    return undefined;
  }

  /** A target list entry: `x.*` expands; a typed reference keeps the name PostgreSQL gave the column. */
  private target(t: Node, scope: Scope): unknown {
    const r = as<{ name?: string; val: Node }>(t, 'ResTarget');
    if (!r) return this.value(t, scope);
    const before = this.typed;
    this.typed = false;
    const val = this.expanding(r.val, scope);
    const changed = this.typed;
    this.typed ||= before;
    return { ResTarget: { ...r, val, ...(changed && r.name === undefined && namedByRef(r.val) ? { name: columnName(r) } : {}) } };
  }

  /** ORDER BY / GROUP BY / DISTINCT ON: a bare name of an output column is that column (SQL92 rule), left to PostgreSQL. */
  private sortKey(e: Node, scope: Scope, outputs: ReadonlySet<string>): unknown {
    const by = as(e, 'SortBy');
    const key = by ? by.node : e;
    const names = colNames(key);
    if (names?.length === 1 && outputs.has(names[0]!)) return e;
    return this.value(e, scope);
  }

  private ref(node: Node, scope: Scope, expanding: boolean): unknown {
    const names = colNames(node)!;
    if (names.length === 1 && names[0] !== '*') {
      const name = names[0]!;
      if (scope.some((level) => level.some((i) => i.columns?.has(name)))) return node;
      const found = this.named(scope, name);
      if (this.ambiguous(found)) return ambiguousReference(node, found.map(relationOf));
      const item = found[0];
      if (!item?.table) return node;
      if (scope.some((level) => level.some((i) => i.columns === undefined))) {
        this.unsure ??= name;
        return node;
      }
      return this.row(item);
    }
    const found = names.length === 2 ? this.named(scope, names[0]!) : [this.unqualified(names, scope)];
    if (this.ambiguous(found)) return ambiguousReference(node, (found as Item[]).map(relationOf));
    const item = found[0];
    if (!item?.table) return node;
    const column = names.at(-1)!;
    // `table.column` by the name the subquery goes by.
    const fields = (node.ColumnRef as { fields: Node[] }).fields;
    const ref = names.length === 2 && item.internal === undefined ? node : { ColumnRef: { ...(node.ColumnRef as Fields), fields: [{ String: { sval: item.internal ?? item.name } }, fields.at(-1)] } };
    if (column === '*') return expanding ? ref : this.row(item);
    if (item.columns?.has(column) !== false) return ref;
    // x.f, no column f: PostgreSQL calls f on the row (functional notation).
    return { A_Indirection: { arg: this.row(item), indirection: [{ String: { sval: column } }] } };
  }

  /** The FROM items called `name` at the innermost level that has one (several: PostgreSQL finds the name ambiguous). */
  private named(scope: Scope, name: string): Item[] {
    for (let level = scope.length - 1; level >= 0; level--) {
      const found = scope[level]!.filter((i) => i.name === name);
      if (found.length > 0) return found;
    }
    return [];
  }

  /** Whether PostgreSQL finds several of `items` called by the name, and Orbit aliased one internally (which hides the ambiguity). */
  private ambiguous(items: ReadonlyArray<Item | undefined>): boolean {
    return items.length > 1 && items.some((i) => i?.internal !== undefined);
  }

  /**
   * The subquery `[catalog.]schema.table.column` (or `.*`) names when it replaced the hypertable
   * named without an alias (undefined: left as written). PostgreSQL resolves the qualified name to
   * the innermost FROM item that is that relation without an alias (parse_relation.c,
   * scanNameSpaceForRelid), which the subquery no longer is; its bare name must then reach the same
   * item, or the subquery needs an internal alias (`rename`). An aliased one is left for PostgreSQL
   * to refuse (42P01); a catalog other than PGlite's one database too (0A000).
   */
  private unqualified(names: readonly string[], scope: Scope): Item | undefined {
    if (names.length < 3 || names.length > 4 || (names.length === 4 && names[0] !== DATABASE)) return undefined;
    const [schema, name] = names.slice(-3);
    let found: Item | undefined;
    for (let level = scope.length - 1; level >= 0 && !found; level--) {
      found = scope[level]!.find((i) => i.name === name && i.relation && (i.relation.schema === undefined ? i.relation.maybe : i.relation.schema === schema));
    }
    if (!found) {
      // The hypertable read under an alias in scope: PostgreSQL points at the alias (errorMissingRTE).
      const aliased = scope.flat().find((i) => i.table && !i.relation && i.table.schema === schema && i.table.name === name);
      if (aliased) this.misnamed ??= { table: name!, alias: aliased.name! };
    }
    // Another relation of that name (FROM ONLY, a DML target) is left to PostgreSQL.
    if (!found?.table) return undefined;
    if (found.internal === undefined && resolve(scope, name!) !== found) {
      // MERGE refuses a source named like its target (42712): left to PostgreSQL.
      if (this.mergeTarget === name) return undefined;
      // A second typing names it by its internal alias; one that still could not is refused.
      if (this.reads.renamed === undefined) this.rename.add(found.read);
      else this.hidden ??= names.join('.');
      return undefined;
    }
    this.qualified = true;
    return found;
  }

  /** The row of `item`, typed as its hypertable's rows. */
  private row(item: Item): Node {
    this.typed = true;
    const row = `${ident(item.internal ?? item.name!)}.*`;
    const type = `${ident(item.table!.schema)}.${ident(item.table!.name)}`;
    // The outer cast changes nothing; it makes the deparser put `(…).f` in parentheses, which it
    // does not do for a CASE.
    const sql = `SELECT CAST(CASE WHEN ${row} IS NOT DISTINCT FROM NULL THEN NULL ELSE ${row}::${type} END AS ${type})`;
    return ((parseSql(sql)[0]!.node.targetList as Node[])[0]!.ResTarget as Fields).val as Node;
  }
}

/** The CTEs of a WITH clause and their columns (null: unknown). */
function cteColumns(withClause: unknown): ReadonlyMap<string, ReadonlySet<string> | null> {
  const out = new Map<string, ReadonlySet<string> | null>();
  for (const c of ((withClause as Fields | undefined)?.ctes as Node[] | undefined) ?? []) {
    const cte = c.CommonTableExpr as Fields;
    const columns = queryColumns(cte.ctequery);
    out.set(cte.ctename as string, columns ? renamed(columns, { alias: { colnames: cte.aliascolnames } }) : null);
  }
  return out;
}

/** The output column names of a query (a SelectStmt node), undefined when not known from its text (a `*`, a DML's RETURNING). */
function queryColumns(query: unknown): string[] | undefined {
  let s = as(query, 'SelectStmt');
  while (s && s.op !== undefined && s.op !== 'SETOP_NONE') s = s.larg as Fields;
  if (!s) return undefined;
  const values = s.valuesLists as Node[] | undefined;
  if (values) return ((as<{ items: Node[] }>(values[0], 'List')?.items ?? []) as Node[]).map((_, k) => `column${k + 1}`);
  const names: string[] = [];
  for (const t of (s.targetList as Node[] | undefined) ?? []) {
    const r = as<{ name?: string; val: Node }>(t, 'ResTarget')!;
    const star = colNames(r.val)?.includes('*') || (as<{ indirection: Node[] }>(r.val, 'A_Indirection')?.indirection.some((n) => kind(n) === 'A_Star') ?? false);
    if (star && r.name === undefined) return undefined;
    names.push(columnName(r));
  }
  return names;
}

/** A relation's column names as its FROM item shows them: an alias's column names rename the first ones. */
function renamed(names: string[], item: Fields): ReadonlySet<string> {
  for (const [k, n] of (((item.alias as Fields | undefined)?.colnames as Node[] | undefined) ?? []).entries()) names[k] = (n.String as Fields).sval as string;
  return new Set(names);
}

/**
 * Whether PostgreSQL names a result column `val` after a column reference in it (FigureColname
 * follows casts, COLLATE and subscripts down to it): the name a typed reference would change.
 */
function namedByRef(val: unknown): boolean {
  const type = kind(val);
  const f = type ? ((val as Node)[type] as Fields) : {};
  if (type === 'ColumnRef') return true;
  if (type === 'TypeCast' || type === 'CollateClause') return namedByRef(f.arg);
  if (type === 'A_Indirection') return !(f.indirection as Node[]).some((i) => kind(i) === 'String' || kind(i) === 'A_Star') && namedByRef(f.arg);
  return false;
}

/** The relation an item named without an alias is (its schema when known). */
function relationOf(i: Item): { schema?: string; name: string } {
  const schema = i.table?.schema ?? i.relation?.schema;
  return { ...(schema !== undefined ? { schema } : {}), name: i.table?.name ?? i.name! };
}

/** The database every session of Orbit's backend is connected to (PGlite's one). */
const DATABASE = 'postgres';

/** The innermost FROM item called `name`. */
function resolve(scope: Scope, name: string): Item | undefined {
  for (let level = scope.length - 1; level >= 0; level--) {
    const found = scope[level]!.find((i) => i.name === name);
    if (found) return found;
  }
  return undefined;
}
