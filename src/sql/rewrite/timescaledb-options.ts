/**
 * @module sql/rewrite/timescaledb-options
 * TimescaleDB's `timescaledb.*` (alias `tsdb.*`) storage options, as its with_clause_parser.c reads
 * them: names matched case-insensitively against a definition table with aliases, booleans with
 * PostgreSQL's boolean input, and its errors. Plus the quoting helpers the generated SQL needs.
 */

export const TIMESCALEDB_NAMESPACES = ['timescaledb', 'tsdb'];

export interface DefElem {
  defnamespace?: string;
  defname: string;
  arg?: Record<string, Record<string, unknown>>;
}

export interface OptionDefinition {
  /** Canonical name first, then aliases. */
  readonly names: readonly string[];
  readonly bool: boolean;
}

/** An error the generated SQL raises, with TimescaleDB's SQLSTATE and wording. */
export interface Failure {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
}

/** Splits storage options into TimescaleDB's and the others. */
export function splitOptions(defs: readonly DefElem[]): { ours: DefElem[]; rest: DefElem[] } {
  const ours = defs.filter((d) => d.defnamespace !== undefined && TIMESCALEDB_NAMESPACES.includes(d.defnamespace.toLowerCase()));
  return { ours, rest: defs.filter((d) => !ours.includes(d)) };
}

/**
 * Values by canonical name (booleans as 'true'/'false'), or TimescaleDB's error. With `reset`, only
 * names are read (ALTER TABLE … RESET) and each value is 'reset'.
 */
export function parseOptions(defs: readonly DefElem[], definitions: readonly OptionDefinition[], reset = false): { values: Record<string, string>; failure?: Failure } {
  const values: Record<string, string> = {};
  for (const d of defs) {
    const option = definitions.find((o) => o.names.includes(d.defname.toLowerCase()));
    const qualified = `${d.defnamespace}.${d.defname}`;
    if (!option) {
      const valid = definitions.map((o) => o.names[0]).join(', ');
      return { values, failure: { code: '22023', message: `unrecognized parameter "${qualified}"`, hint: `Valid timescaledb parameters are: ${valid}` } };
    }
    const key = option.names[0]!;
    if (values[key] !== undefined) return { values, failure: { code: '42P08', message: `duplicate parameter "${qualified}"` } };
    if (reset) {
      values[key] = 'reset';
      continue;
    }
    const raw = argText(d);
    if (raw === undefined) {
      if (!option.bool) return { values, failure: { code: '22023', message: `parameter "${qualified}" must have a value` } };
      values[key] = 'true';
    } else if (option.bool) {
      const b = parseBool(raw);
      if (b === undefined) return { values, failure: { code: '22023', message: `invalid value for ${qualified} '${raw}'`, hint: `${qualified} must be a valid bool` } };
      values[key] = b ? 'true' : 'false';
    } else {
      values[key] = raw;
    }
  }
  return { values };
}

/** The option's value as PostgreSQL's defGetString gives it. */
function argText(d: DefElem): string | undefined {
  const [kind, v] = Object.entries(d.arg ?? {})[0] ?? [];
  if (!v) return undefined;
  switch (kind) {
    case 'String':
      return String(v.sval ?? '');
    case 'Integer':
      return String(v.ival ?? 0);
    case 'Float':
      return String(v.fval);
    case 'Boolean':
      return v.boolval === true ? 'true' : 'false';
    case 'TypeName':
      return ((v.names as Array<{ String: { sval: string } }> | undefined) ?? []).map((n) => n.String.sval).join('.');
    default:
      return undefined;
  }
}

/** PostgreSQL's boolean input (boolin): prefixes of true/false/yes/no, on/of(f), 1/0, blanks trimmed. */
function parseBool(text: string): boolean | undefined {
  const v = text.trim().toLowerCase();
  if (v.length === 0) return undefined;
  if ('true'.startsWith(v) || 'yes'.startsWith(v) || v === 'on' || v === '1') return true;
  if ('false'.startsWith(v) || 'no'.startsWith(v) || (v.length >= 2 && 'off'.startsWith(v)) || v === '0') return false;
  return undefined;
}

/** `RAISE EXCEPTION` for a failure, as one PL/pgSQL statement. */
export function raiseSql(f: Failure): string {
  return `RAISE EXCEPTION USING ERRCODE = ${literal(f.code)}, MESSAGE = ${literal(f.message)}${f.hint ? `, HINT = ${literal(f.hint)}` : ''};`;
}

/** The check every generated block starts with: without the extension, PostgreSQL's own error. */
export function requireExtensionSql(namespace: string): string {
  return `IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'timescaledb') THEN
    RAISE EXCEPTION 'unrecognized parameter namespace "%"', ${literal(namespace)} USING ERRCODE = '22023';
  END IF;`;
}

/** An escape-string literal: its meaning does not depend on standard_conforming_strings. */
export function literal(value: string): string {
  return `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** A dollar-quoted string whose tag does not occur in `text`. */
export function dollarQuote(text: string): string {
  let tag = 'orbit';
  for (let n = 1; text.includes(`$${tag}$`); n++) tag = `orbit${n}`;
  return `$${tag}$${text}$${tag}$`;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `schema.name` or `name`, quoted, for a RangeVar. */
export function qualifiedName(relation: { schemaname?: string; relname: string }): string {
  return relation.schemaname ? `${quoteIdent(relation.schemaname)}.${quoteIdent(relation.relname)}` : quoteIdent(relation.relname);
}
