/**
 * @module session/columnstore/unchecked-rows
 * Statements whose check of existing rows PostgreSQL makes over its own tables only, which do not
 * hold the rows of compressed chunks, and which Orbit refuses (0A000) while those rows exist:
 * - ALTER DOMAIN ADD CONSTRAINT (valid or NOT VALID), SET NOT NULL, VALIDATE CONSTRAINT of a domain
 *   that a column of a hypertable with compressed chunks has (or a domain over it: PostgreSQL's
 *   get_rels_with_domain recursion; a column of an array or composite of it PostgreSQL refuses
 *   itself). PostgreSQL checks the chunks' tables and let violating compressed rows through; and the
 *   general path decodes compressed rows into columns of the domain (cache-tables.ts), whose input
 *   checks every constraint, NOT VALID ones too: every read of the table would then fail.
 * - ALTER TABLE … ADD FOREIGN KEY (not NOT VALID) or VALIDATE CONSTRAINT of a foreign key that
 *   references a hypertable with compressed chunks: PostgreSQL's check (RI_Initial_Check) does not
 *   see the referenced compressed rows and reports a false 23503. Writes to such a table are
 *   refused by the function guard (function-guard.ts) in the same words.
 * The referencing side of a foreign key on a hypertable is checked, not refused
 * (validated-constraints.ts). Rows violating a NOT VALID domain constraint added while they were in
 * the rowstore keep their chunk there (compress_chunk refuses it: compression-requests.ts), so
 * compressed rows always satisfy their domains.
 * In the body of a function, procedure or DO block, the function guard refuses the same statements
 * (sql/function-bodies.ts: ALTER DOMAIN and VALIDATE CONSTRAINT count as reading unknown SQL, ADD
 * FOREIGN KEY as reading the referenced table).
 */
import { OrbitError } from '../../errors.js';
import type { ClassifiedStatement } from '../../sql/classify.js';
import type { Fields, Node } from '../../sql/rewrite/ast.js';
import { SqlState } from '../../sqlstate.js';
import { firstError, jsonRows, quoteIdent, type InternalRunner } from '../internal-sql.js';
import { quoteLiteral } from '../settings.js';

/** ALTER DOMAIN subtypes that check or constrain the domain's values (AlterDomainStmt.subtype). */
const CONSTRAINING = new Set(['C', 'O', 'V']);

/** Whether `s` is a statement this module looks at (cheap, before the catalog is read). */
export function mayCheckRows(s: ClassifiedStatement): boolean {
  return (s.type === 'AlterDomainStmt' && CONSTRAINING.has(s.node.subtype as string)) || foreignKeyChecks(s).length > 0;
}

/** ADD FOREIGN KEY (valid) and VALIDATE CONSTRAINT commands of an ALTER TABLE. */
function foreignKeyChecks(s: ClassifiedStatement): Fields[] {
  if (s.type !== 'AlterTableStmt') return [];
  return ((s.node.cmds as Node[] | undefined) ?? []).flatMap((c) => {
    const cmd = c.AlterTableCmd as Fields | undefined;
    if (cmd?.subtype === 'AT_ValidateConstraint') return [cmd];
    const con = cmd?.subtype === 'AT_AddConstraint' ? ((cmd.def as Node | undefined)?.Constraint as Fields | undefined) : undefined;
    return con?.contype === 'CONSTR_FOREIGN' && !con.skip_validation ? [cmd!] : [];
  });
}

/** A qualified name's SQL literal (`'"a"."b"'`). */
function nameLiteral(names: ReadonlyArray<string | undefined>): string {
  return quoteLiteral(names.filter((n) => n !== undefined).map((n) => quoteIdent(n!)).join('.'));
}

/** Hypertables `relids` (regclass SQL) has that have compressed chunks. */
const COMPRESSED = (h: string) => `EXISTS (SELECT FROM _timescaledb_catalog.chunk ch WHERE ch.hypertable_id = ${h}.id AND ch.compressed_chunk_id IS NOT NULL AND NOT ch.dropped)`;

/**
 * Throws 0A000 when `s` would check (or, for a domain, constrain) rows of a hypertable with
 * compressed chunks that PostgreSQL does not see. Call only while some hypertable has compressed
 * chunks (the catalog tables exist). The lookups fail on nothing (to_regtype / to_regclass).
 */
export async function refuseUncheckedRows(run: InternalRunner, s: ClassifiedStatement): Promise<void> {
  if (s.type === 'AlterDomainStmt' && CONSTRAINING.has(s.node.subtype as string)) {
    const names = ((s.node.typeName as Node[] | undefined) ?? []).map((n) => (n.String as Fields).sval as string);
    const out = await run.sql(`WITH RECURSIVE d(oid) AS (SELECT to_regtype(${nameLiteral(names)})::oid
        UNION SELECT t.oid FROM pg_type t JOIN d ON t.typbasetype = d.oid WHERE t.typtype = 'd')
      SELECT json_build_array(h.table_name, a.attname) FROM _timescaledb_catalog.hypertable h
        JOIN pg_attribute a ON a.attrelid = h.relid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE a.atttypid IN (SELECT oid FROM d) AND ${COMPRESSED('h')} ORDER BY h.id, a.attnum LIMIT 1`);
    const found = firstError(out) ? undefined : jsonRows<[string, string]>(out)[0];
    if (!found) return;
    throw new OrbitError(SqlState.feature_not_supported, `altering the constraints of domain "${names.at(-1)}", the type of column "${found[1]}" of hypertable "${found[0]}" with chunks in the columnstore, is not supported by Orbit`, {
      detail: 'PostgreSQL would not check the rows in the columnstore, and Orbit decodes them into columns of the domain, which checks every constraint.',
      hint: 'Convert the chunks back to the rowstore (decompress_chunk) first.',
    });
  }
  const checks = foreignKeyChecks(s);
  if (checks.length === 0) return;
  const rel = s.node.relation as { schemaname?: string; relname?: string };
  const table = `to_regclass(${nameLiteral([rel.schemaname, rel.relname])})`;
  const referenced = checks.map((cmd) => {
    const con = (cmd.def as Node | undefined)?.Constraint as Fields | undefined;
    if (con) {
      const pk = con.pktable as { schemaname?: string; relname?: string };
      return `to_regclass(${nameLiteral([pk.schemaname, pk.relname])})`;
    }
    return `(SELECT c.confrelid FROM pg_constraint c WHERE c.conrelid = ${table} AND c.conname = ${quoteLiteral(cmd.name as string)} AND c.contype = 'f')`;
  });
  const out = await run.sql(`SELECT json_build_array(h.table_name) FROM _timescaledb_catalog.hypertable h
    WHERE h.relid IN (${referenced.join(', ')}) AND ${COMPRESSED('h')} ORDER BY h.id LIMIT 1`);
  const found = firstError(out) ? undefined : jsonRows<[string]>(out)[0];
  if (!found) return;
  throw new OrbitError(SqlState.feature_not_supported, `checking the rows of table "${rel.relname}" against a foreign key, which reads hypertable "${found[0]}" with chunks in the columnstore, is not supported by Orbit`, {
    detail: 'PostgreSQL would not see the referenced rows in the columnstore.',
    hint: 'Add the foreign key NOT VALID, or convert the chunks back to the rowstore (decompress_chunk) first.',
  });
}
