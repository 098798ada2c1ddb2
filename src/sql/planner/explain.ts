/**
 * @module sql/planner/explain
 * EXPLAIN of statements the planner takes over compressed chunks (docs/guides/planner.md):
 * Orbit's part (which path, chunks and batches read or skipped, rows handed to PostgreSQL) as
 * lines of text above PostgreSQL's own plan of the statement it runs, in the one `QUERY PLAN`
 * column PostgreSQL's text format has. Other formats (JSON, XML, YAML) keep the general path.
 */
import type { Fields, Node } from '../rewrite/ast.js';

export interface ExplainOptions {
  /** The option list as PostgreSQL should get it, e.g. `(ANALYZE true, COSTS off)`; '' for none. */
  readonly sql: string;
  readonly analyze: boolean;
  /** Whether timings are shown (ANALYZE without TIMING off). */
  readonly timing: boolean;
}

/** The options of an EXPLAIN in text format; undefined for another format. */
export function explainOptions(node: Fields): ExplainOptions | undefined {
  const options = ((node.options as Node[] | undefined) ?? []).map((o) => o.DefElem as Fields);
  const items: string[] = [];
  let analyze = false;
  let timing = true;
  for (const o of options) {
    const name = String(o.defname).toLowerCase();
    const value = argText(o.arg);
    if (!/^[a-z_]+$/.test(name) || (value !== undefined && !/^[A-Za-z0-9_]+$/.test(value))) return undefined;
    const on = value === undefined || !['off', 'false', '0', 'no'].includes(value.toLowerCase());
    if (name === 'format' && value?.toLowerCase() !== 'text') return undefined;
    if (name === 'analyze') analyze = on;
    if (name === 'timing') timing = on;
    items.push(value === undefined ? name : `${name} ${value}`);
  }
  return { sql: items.length > 0 ? `(${items.join(', ')})` : '', analyze, timing: analyze && timing };
}

function argText(arg: unknown): string | undefined {
  if (arg === undefined || arg === null) return undefined;
  const a = arg as Node;
  if (a.String) return String((a.String as Fields).sval);
  if (a.Integer) return String((a.Integer as Fields).ival ?? 0);
  if (a.Boolean) return (a.Boolean as Fields).boolval ? 'true' : 'false';
  if (a.Float) return String((a.Float as Fields).fval);
  return undefined;
}

/**
 * The statement returning Orbit's lines, then PostgreSQL's plan lines (indented under a
 * "PostgreSQL Plan" line), as one text column named `QUERY PLAN`.
 */
export function explainResultSql(orbit: readonly string[], postgres: readonly string[], quote: (s: string) => string): string {
  const lines = [...orbit, 'PostgreSQL Plan:', ...postgres.map((l) => `  ${l}`)];
  const rows = lines.map((l, i) => `(${i + 1}, ${quote(l)})`);
  return `SELECT "QUERY PLAN" FROM (VALUES ${rows.join(', ')}) AS orbit_explain (n, "QUERY PLAN") ORDER BY n`;
}
