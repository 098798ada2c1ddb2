/**
 * @module sql/rewrite/ast
 * Small tools for rewriting libpg-query's JSON parse trees: node constructors, structural equality
 * (PostgreSQL's `equal()` ignores locations, so does `fingerprint`), walks that stop at subqueries,
 * SQL templates whose holes are filled with parse-tree nodes, and PostgreSQL's rule for naming a
 * result column (`FigureColname`). Rewrites build SQL text only from Orbit's own identifiers; user
 * expressions enter as nodes, so nothing the user wrote is ever spliced into text.
 */
import { parseSql } from '../parser.js';

/** A parse-tree node as libpg-query writes it: `{ NodeType: { ...fields } }`. */
export type Node = Record<string, unknown>;
export type Fields = Record<string, unknown>;

/** The node's type name (`FuncCall`, `ColumnRef`, …), or undefined for a plain value. */
export function kind(node: unknown): string | undefined {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
  const keys = Object.keys(node);
  return keys.length === 1 && /^[A-Z]/.test(keys[0]!) ? keys[0] : undefined;
}

/** The fields of a node of type `type`, or undefined when it is another type. */
export function as<T = Fields>(node: unknown, type: string): T | undefined {
  return kind(node) === type ? ((node as Node)[type] as T) : undefined;
}

export function clone<T>(node: T): T {
  return structuredClone(node);
}

/** A key equal for nodes PostgreSQL's `equal()` would call equal after parse analysis (locations ignored). */
export function fingerprint(node: unknown): string {
  return JSON.stringify(node, (key, value: unknown) => (key === 'location' ? undefined : value));
}

export function colRef(...names: string[]): Node {
  return { ColumnRef: { fields: names.map((sval) => ({ String: { sval } })) } };
}

/** The names of a ColumnRef (`*` as '*'), or undefined. */
export function colNames(node: unknown): string[] | undefined {
  const ref = as<{ fields: Node[] }>(node, 'ColumnRef');
  return ref?.fields.map((f) => (kind(f) === 'A_Star' ? '*' : (as<{ sval: string }>(f, 'String')?.sval ?? '')));
}

export function resTarget(val: Node, name?: string): Node {
  return { ResTarget: name === undefined ? { val } : { name, val } };
}

/** The last name of a FuncCall's function name, lower case. */
export function funcName(node: unknown): string | undefined {
  const call = as<{ funcname: Node[] }>(node, 'FuncCall');
  const last = call?.funcname[call.funcname.length - 1];
  return as<{ sval: string }>(last, 'String')?.sval.toLowerCase();
}

/** NULL, possibly cast (`NULL`, `NULL::int`): what TimescaleDB sees as a Const NULL argument. */
export function isNullConst(node: unknown): boolean {
  const cast = as<{ arg: Node }>(node, 'TypeCast');
  if (cast) return isNullConst(cast.arg);
  return as<{ isnull?: boolean }>(node, 'A_Const')?.isnull === true;
}

/**
 * Visits every node below `node` (itself included), not descending into subqueries (SubLink) unless
 * `intoSubLinks`; `visit` returning false stops the descent below that node.
 */
export function walk(node: unknown, visit: (n: Node, type: string) => boolean | void, intoSubLinks = false): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, visit, intoSubLinks);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const type = kind(node);
  if (type !== undefined) {
    if (visit(node as Node, type) === false) return;
    if (type === 'SubLink' && !intoSubLinks) return;
    walk((node as Node)[type], visit, intoSubLinks);
    return;
  }
  for (const value of Object.values(node)) walk(value, visit, intoSubLinks);
}

/**
 * Copies `node`, replacing every node for which `replace` returns a value (the copy is not walked
 * again). SubLinks are copied as they are unless `replace` handles them.
 */
export function transform(node: unknown, replace: (n: Node, type: string) => unknown): unknown {
  if (Array.isArray(node)) return node.map((item) => transform(item, replace));
  if (node === null || typeof node !== 'object') return node;
  const type = kind(node);
  if (type !== undefined) {
    const replaced = replace(node as Node, type);
    if (replaced !== undefined) return replaced;
    if (type === 'SubLink') return clone(node);
    return { [type]: transform((node as Node)[type], replace) };
  }
  const out: Fields = {};
  for (const [key, value] of Object.entries(node)) out[key] = transform(value, replace);
  return out;
}

/**
 * SQL text with holes: `hole(node)` returns an identifier to write into the text, and `parse` reads
 * the text with PostgreSQL's parser and puts the nodes back in place of those identifiers.
 */
export class Template {
  private readonly nodes: Node[] = [];

  hole(node: Node): string {
    this.nodes.push(node);
    return `__gf_hole_${this.nodes.length - 1}`;
  }

  /** Parses one statement (its node, unwrapped) with every hole filled. */
  parse(sql: string): Fields {
    const [stmt] = parseSql(sql);
    return this.fill(stmt!.node) as Fields;
  }

  fill(node: unknown): unknown {
    return transform(node, (n) => {
      const names = colNames(n);
      const m = names?.length === 1 ? /^__gf_hole_(\d+)$/.exec(names[0]!) : null;
      return m ? clone(this.nodes[Number(m[1])]!) : undefined;
    });
  }
}

/** A double-quoted identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * The column name PostgreSQL gives an unnamed result column (`FigureColnameInternal` in
 * parse_target.c), with its strength: 2 for a real name, 1 for a type name or keyword, 0 for none.
 */
function figure(node: unknown): [string, number] {
  const type = kind(node);
  const f = type ? ((node as Node)[type] as Fields) : {};
  switch (type) {
    case 'ColumnRef': {
      // The last name, `*` skipped: `x.*::text` is named x.
      const last = colNames(node)!.filter((n) => n !== '*').at(-1);
      return last === undefined ? ['?column?', 0] : [last, 2];
    }
    case 'A_Indirection': {
      const ind = (f.indirection as Node[]) ?? [];
      for (let i = ind.length - 1; i >= 0; i--) {
        const s = as<{ sval: string }>(ind[i], 'String');
        if (s) return [s.sval, 2];
        if (kind(ind[i]) === 'A_Star') return ['?column?', 0];
      }
      return figure(f.arg);
    }
    case 'FuncCall':
      return [funcName(node)!, 2];
    case 'A_Expr':
      return f.kind === 'AEXPR_NULLIF' ? ['nullif', 2] : ['?column?', 0];
    case 'TypeCast': {
      const inner = figure(f.arg);
      if (inner[1] > 1) return inner;
      const names = ((f.typeName as Fields).names as Node[]).map((n) => as<{ sval: string }>(n, 'String')!.sval);
      return [names[names.length - 1]!, 1];
    }
    case 'CollateClause':
      return figure(f.arg);
    case 'GroupingFunc':
      return ['grouping', 2];
    case 'MergeSupportFunc':
      return ['merge_action', 2];
    case 'SubLink': {
      if (f.subLinkType === 'EXISTS_SUBLINK') return ['exists', 2];
      if (f.subLinkType === 'ARRAY_SUBLINK') return ['array', 2];
      if (f.subLinkType === 'EXPR_SUBLINK' || f.subLinkType === 'MULTIEXPR_SUBLINK') {
        const sel = as<{ targetList?: Node[] }>(f.subselect, 'SelectStmt');
        const first = as<{ name?: string; val: Node }>(sel?.targetList?.[0], 'ResTarget');
        // The subquery's column name, given or figured (`(SELECT x FROM …)` is named x).
        if (first) return [columnName(first), 2];
      }
      return ['?column?', 0];
    }
    case 'CaseExpr': {
      const inner = figure(f.defresult);
      return inner[1] > 0 ? inner : ['case', 1];
    }
    case 'A_ArrayExpr':
      return ['array', 1];
    case 'RowExpr':
      return ['row', 1];
    case 'CoalesceExpr':
      return ['coalesce', 1];
    case 'MinMaxExpr':
      return [f.op === 'IS_GREATEST' ? 'greatest' : 'least', 1];
    case 'SQLValueFunction':
      return [sqlValueFunctionName(String(f.op)), 1];
    case 'XmlExpr':
      return [xmlName(String(f.op)), 1];
    case 'XmlSerialize':
      return ['xmlserialize', 1];
    default:
      return ['?column?', 0];
  }
}

function sqlValueFunctionName(op: string): string {
  const names: Record<string, string> = {
    SVFOP_CURRENT_DATE: 'current_date',
    SVFOP_CURRENT_TIME: 'current_time',
    SVFOP_CURRENT_TIME_N: 'current_time',
    SVFOP_CURRENT_TIMESTAMP: 'current_timestamp',
    SVFOP_CURRENT_TIMESTAMP_N: 'current_timestamp',
    SVFOP_LOCALTIME: 'localtime',
    SVFOP_LOCALTIME_N: 'localtime',
    SVFOP_LOCALTIMESTAMP: 'localtimestamp',
    SVFOP_LOCALTIMESTAMP_N: 'localtimestamp',
    SVFOP_CURRENT_ROLE: 'current_role',
    SVFOP_CURRENT_USER: 'current_user',
    SVFOP_USER: 'user',
    SVFOP_SESSION_USER: 'session_user',
    SVFOP_CURRENT_CATALOG: 'current_catalog',
    SVFOP_CURRENT_SCHEMA: 'current_schema',
  };
  return names[op] ?? '?column?';
}

function xmlName(op: string): string {
  const names: Record<string, string> = {
    IS_XMLCONCAT: 'xmlconcat',
    IS_XMLELEMENT: 'xmlelement',
    IS_XMLFOREST: 'xmlforest',
    IS_XMLPARSE: 'xmlparse',
    IS_XMLPI: 'xmlpi',
    IS_XMLROOT: 'xmlroot',
    IS_XMLSERIALIZE: 'xmlserialize',
    IS_DOCUMENT: '?column?',
  };
  return names[op] ?? '?column?';
}

/** The name of result column `target` (a ResTarget's fields) as PostgreSQL would report it. */
export function columnName(target: { name?: string; val: Node }): string {
  return target.name ?? figure(target.val)[0];
}
