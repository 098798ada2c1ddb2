/**
 * @module sql/rewrite/name-clashes
 * Internal aliases for the subqueries that replace hypertables (columnstore-reads.ts) where their
 * bare name cannot be theirs. PostgreSQL lets two relations named without an alias share a bare
 * name in one FROM clause when they are different tables (`FROM public.t, other.t`;
 * parse_relation.c, checkNameSpaceConflicts), but a subquery has an alias, so the same statement
 * failed with 42712 "table name "t" specified more than once". Such a subquery is aliased
 * `t#orbit<id>` instead (whole-row.ts rewrites the references PostgreSQL resolves to it), and
 * PostgreSQL's messages naming that alias get the bare name back (`publicNames`); a reference
 * the alias would make resolve to the other relation keeps PostgreSQL's 42P09 (`ambiguousReference`).
 */
import { OrbitError } from '../../errors.js';
import { SqlState } from '../../sqlstate.js';
import { parseSql } from '../parser.js';
import { as, ident, type Fields, type Node } from './ast.js';
import type { SubqueryReads } from './whole-row.js';

/** A FROM item as checkNameSpaceConflicts sees it. */
export interface NameEntry {
  readonly name: string;
  /** A relation named without an alias: which one (equal keys, the same table). */
  readonly relation?: string;
  /** The subquery replacing a hypertable named without an alias. */
  readonly read?: unknown;
}

/**
 * The subqueries (`read`s) of one query level that share their name with another relation where
 * PostgreSQL allows it: both named without an alias and different tables, checked as PostgreSQL
 * checks each FROM item against the ones before it (`target`: a DML target) and a join's sides
 * against each other. A name some pair shares where PostgreSQL refuses it (42712) is left alone,
 * for PostgreSQL to refuse as it would.
 */
export function clashingReads(list: readonly Node[], target: readonly NameEntry[], entry: (item: Node) => NameEntry | undefined): Set<unknown> {
  const pairs: Array<[NameEntry, NameEntry]> = [];
  const check = (before: readonly NameEntry[], added: readonly NameEntry[]) => {
    for (const a of before) for (const b of added) if (a.name === b.name) pairs.push([a, b]);
  };
  const namespace = (i: Node): NameEntry[] => {
    const join = as(i, 'JoinExpr');
    if (!join) {
      const e = entry(i);
      return e ? [e] : [];
    }
    const left = namespace(join.larg as Node);
    const right = namespace(join.rarg as Node);
    check(left, right);
    // An aliased join hides its sides' names; JOIN … USING (…) AS x adds x.
    const alias = (join.alias as Fields | undefined)?.aliasname as string | undefined;
    if (alias !== undefined) return [{ name: alias }];
    const using = (join.join_using_alias as Fields | undefined)?.aliasname as string | undefined;
    return [...left, ...right, ...(using !== undefined ? [{ name: using }] : [])];
  };
  const seen = [...target];
  for (const i of list) {
    const added = namespace(i);
    check(seen, added);
    seen.push(...added);
  }
  const refused = new Set<string>();
  const allowed: NameEntry[] = [];
  for (const [a, b] of pairs) {
    // Pairs of relations read as they are PostgreSQL decides alone.
    if (!a.read && !b.read) continue;
    if (a.relation === undefined || b.relation === undefined || a.relation === b.relation) refused.add(a.name);
    else allowed.push(a, b);
  }
  return new Set(allowed.filter((e) => e.read !== undefined && !refused.has(e.name)).map((e) => e.read));
}

/**
 * A FROM item's name and, named without an alias, the relation it is (`isCte`: an unqualified
 * name is a CTE in scope there).
 */
export function nameEntry(i: Node, reads: Pick<SubqueryReads, 'subqueries' | 'unaliased' | 'lookup'>, isCte: (name: string) => boolean): NameEntry | undefined {
  const alias = (f: Fields) => (f.alias as Fields | undefined)?.aliasname as string | undefined;
  const table = reads.subqueries.get(i);
  if (table) {
    const name = alias(i.RangeSubselect as Fields)!;
    return reads.unaliased.has(i) ? { name, relation: `hypertable ${table.id}`, read: i } : { name };
  }
  const rv = as(i, 'RangeVar');
  if (rv) {
    const name = alias(rv) ?? (rv.relname as string);
    if (alias(rv) !== undefined || (rv.schemaname === undefined && isCte(name))) return { name };
    // Not a subquery: FROM ONLY, a DML target, or another relation than a hypertable read.
    const hypertable = reads.lookup(rv.schemaname as string | undefined, name);
    return { name, relation: hypertable ? `hypertable ${hypertable.id}` : `relation ${String(rv.schemaname)}.${name}` };
  }
  const f = as(i, 'RangeSubselect') ?? as(i, 'RangeFunction') ?? as(i, 'RangeTableFunc') ?? as(i, 'JsonTable');
  const name = f ? alias(f) : undefined;
  if (name !== undefined) return { name };
  // An unaliased function goes by its name.
  const functions = (as(i, 'RangeFunction')?.functions as Node[] | undefined) ?? [];
  const call = as<{ funcname: Node[] }>(as<{ items: Node[] }>(functions[0], 'List')?.items[0], 'FuncCall');
  const called = as<{ sval: string }>(call?.funcname.at(-1), 'String')?.sval;
  return called !== undefined && functions.length === 1 ? { name: called } : undefined;
}

/**
 * A reference (`node`) to a name several relations named without an alias share at its level, one
 * of them a subquery aliased internally, which would hide the others: put in a scalar subquery over
 * those relations (FROM ONLY, never run), where PostgreSQL raises its 42P09 "table reference … is
 * ambiguous" at the point of the statement it would have, after any error it meets first.
 */
export function ambiguousReference(node: Node, relations: ReadonlyArray<{ readonly schema?: string; readonly name: string }>): Node {
  const from = relations.map((r) => `ONLY ${r.schema === undefined ? '' : `${ident(r.schema)}.`}${ident(r.name)}`);
  const sublink = ((parseSql(`SELECT (SELECT 1 FROM ${from.join(', ')})`)[0]!.node.targetList as Node[])[0]!.ResTarget as Fields).val as Node;
  (((sublink.SubLink as Fields).subselect as Node).SelectStmt as Fields).targetList = [{ ResTarget: { val: node } }];
  return sublink;
}

const MARK = '#orbit';

/** The alias of the subquery reading hypertable `id` called `name` where that name is not its own. */
export function internalAlias(name: string, id: number): string {
  const alias = `${name}${MARK}${id}`;
  // NAMEDATALEN: PostgreSQL would truncate a longer alias, and its messages could not name the table.
  if (new TextEncoder().encode(alias).length > 63) {
    throw new OrbitError(SqlState.feature_not_supported, `hypertable "${name}" with compressed chunks next to another relation of its name is not supported by Orbit with a name this long`, {
      hint: 'Give the hypertable an alias, or convert the chunks back to the rowstore (decompress_chunk).',
    });
  }
  return alias;
}

/** A message of PostgreSQL's (message, detail, hint) with internal aliases named as the statement names their tables. */
export function publicNames(text: string): string {
  return text.includes(MARK) ? text.replace(/#orbit\d+/g, '') : text;
}
