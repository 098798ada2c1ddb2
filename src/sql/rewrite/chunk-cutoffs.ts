/**
 * @module sql/rewrite/chunk-cutoffs
 * `show_chunks('t', older_than => '2024-01-01')`: TimescaleDB declares the cut-offs `"any"` and reads
 * an untyped literal as a value of the time column's type. A SQL function cannot take `"any"`
 * (Orbit's take `_timescaledb_internal.orbit_time_arg`, which the supported types convert to
 * implicitly), and an untyped literal would be read as that composite type's input. So Orbit marks
 * such literals `::text`; `text` converts to an `orbit_time_arg` of type `unknown`, which the extension
 * casts to the column's type (catalog/extension/show-drop-chunks.ts).
 */
import { as, funcName, kind, type Node } from './ast.js';

/** Argument positions (after the relation) and names of the cut-offs, by function. */
const CUTOFFS: Record<string, { positional: readonly number[]; named: readonly string[] }> = {
  // show_chunks(relation, older_than, newer_than, created_before, created_after)
  show_chunks: { positional: [1, 2, 3, 4], named: ['older_than', 'newer_than', 'created_before', 'created_after'] },
  // drop_chunks(relation, older_than, newer_than, verbose, created_before, created_after)
  drop_chunks: { positional: [1, 2, 4, 5], named: ['older_than', 'newer_than', 'created_before', 'created_after'] },
  // The policies' lags (catalog/extension/policies.ts), after the relation.
  add_retention_policy: { positional: [1], named: ['drop_after'] },
  add_compression_policy: { positional: [1], named: ['compress_after'] },
  add_columnstore_policy: { positional: [1], named: ['after'] },
};

/** Whether a statement calls one of the functions whose cut-offs this rewrites (CALL included). */
export function callsChunkCutoffs(functions: readonly string[], type: string, text: string): boolean {
  if (Object.keys(CUTOFFS).some((f) => functions.includes(f))) return true;
  return type === 'CallStmt' && /add_columnstore_policy/i.test(text);
}

/** `root` with untyped string cut-offs of show_chunks/drop_chunks cast to text, or undefined. */
export function rewriteChunkCutoffs(root: Node): Node | undefined {
  let changed = false;
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit);
    if (value === null || typeof value !== 'object') return value;
    const t = kind(value);
    const fields = (t ? (value as Node)[t] : value) as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(fields)) {
      // CALL's procedure is a bare FuncCall (no node wrapper).
      out[key] = key === 'funccall' && t === 'CallStmt' ? (visit({ FuncCall: child }) as Node).FuncCall : visit(child);
    }
    const name = t === 'FuncCall' ? funcName(value) : undefined;
    const spec = name ? CUTOFFS[name] : undefined;
    if (spec && Array.isArray(out.args)) {
      out.args = (out.args as Node[]).map((arg, i) => {
        const named = as<{ name: string; arg: Node }>(arg, 'NamedArgExpr');
        if (named) return spec.named.includes(named.name) && isUntypedString(named.arg) ? { NamedArgExpr: { ...named, arg: asText(named.arg) } } : arg;
        return spec.positional.includes(i) && isUntypedString(arg) ? asText(arg) : arg;
      });
      if ((out.args as Node[]).some((a, i) => a !== (fields.args as Node[])[i])) changed = true;
    }
    return t ? { [t]: out } : out;
  };
  const rewritten = visit(root) as Node;
  return changed ? rewritten : undefined;
}

function isUntypedString(node: Node): boolean {
  const c = as<{ sval?: unknown; isnull?: boolean }>(node, 'A_Const');
  return c !== undefined && c.sval !== undefined && c.isnull !== true;
}

function asText(node: Node): Node {
  return { TypeCast: { arg: node, typeName: { names: [{ String: { sval: 'pg_catalog' } }, { String: { sval: 'text' } }], typemod: -1 } } };
}
