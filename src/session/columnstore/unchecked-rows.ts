/**
 * @module session/columnstore/unchecked-rows
 * Statements whose check of existing rows PostgreSQL makes over its own tables only, which do not
 * hold the rows of compressed chunks:
 * - ALTER DOMAIN ADD CONSTRAINT, SET NOT NULL, VALIDATE CONSTRAINT of a domain that a column of a
 *   hypertable with compressed chunks has (or a domain over it: get_rels_with_domain; a column of
 *   an array or composite of it PostgreSQL refuses itself) are checked against the compressed rows
 *   (`checkDomainColumns`). Unchecked, violating compressed rows passed, and the general path, which
 *   decodes them into columns of the domain (cache-tables.ts) whose input checks every constraint,
 *   then failed every read; PostgreSQL checked the cache tables only when they happened to be filled,
 *   naming them.
 * - ALTER TABLE … ADD FOREIGN KEY (not NOT VALID) or VALIDATE CONSTRAINT of a foreign key that
 *   references a hypertable with compressed chunks is refused (0A000): PostgreSQL's check
 *   (RI_Initial_Check) does not see the referenced compressed rows and reports a false 23503.
 *   Writes to such a table are refused by the function guard (function-guard.ts) in the same words.
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
import { cacheParentName, type ColumnstoreTable } from '../../sql/rewrite/columnstore-reads.js';
import { inTrial } from './trial.js';

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

/** SQL: hypertable catalog row `h` has chunks in the columnstore. */
const COMPRESSED = (h: string) => `EXISTS (SELECT FROM _timescaledb_catalog.chunk ch WHERE ch.hypertable_id = ${h}.id AND ch.compressed_chunk_id IS NOT NULL AND NOT ch.dropped)`;

/** Whether `s` changes the constraints of a domain (checkDomainColumns). */
export function constrainsDomain(s: ClassifiedStatement): boolean {
  return s.type === 'AlterDomainStmt' && CONSTRAINING.has(s.node.subtype as string);
}

/** A column of a hypertable with compressed chunks whose type is the domain or one over it. */
interface DomainColumn {
  /** The hypertable's id (its cache tables' names). */
  readonly id: number;
  readonly schema: string;
  readonly table: string;
  readonly column: string;
  /** Its type (format_type): its input checks every constraint of the domains it is built on. */
  readonly type: string;
}

/**
 * ALTER DOMAIN ADD CONSTRAINT, SET NOT NULL, VALIDATE CONSTRAINT (`s`, `ddl` its text) checked
 * against the compressed rows of the hypertables with a column of the domain (or of a domain over
 * it), as PostgreSQL checks the rows of its tables. `fill` makes their cache tables hold every
 * compressed row; those are temporary tables with columns of the domain, which PostgreSQL checks
 * itself: the statement runs once in a trial that is undone (trial.ts), and a violation it reports
 * in a cache child is raised as PostgreSQL's 23514 / 23502 naming that child's chunk (rowstore
 * chunks, older, come first in its order: their violations are left to the statement itself).
 * PostgreSQL does not check a NOT VALID constraint: the trial tests the cache rows with the
 * column's type input (pg_input_is_valid, which checks the new constraint too; compressed rows
 * satisfy the others) and refuses it (0A000) over violating rows, which decoded into the domain
 * would fail every read.
 */
export async function checkDomainColumns(
  run: InternalRunner,
  s: ClassifiedStatement,
  ddl: string,
  idle: boolean,
  fill: (tables: readonly ColumnstoreTable[]) => Promise<void>,
  query: (sql: string) => Promise<Uint8Array>,
): Promise<void> {
  const names = ((s.node.typeName as Node[] | undefined) ?? []).map((n) => (n.String as Fields).sval as string);
  const out = await run.sql(`WITH RECURSIVE d(oid) AS (SELECT to_regtype(${nameLiteral(names)})::oid
      UNION SELECT t.oid FROM pg_type t JOIN d ON t.typbasetype = d.oid WHERE t.typtype = 'd')
    SELECT json_build_object('id', h.id, 'schema', h.schema_name, 'table', h.table_name, 'column', a.attname, 'type', format_type(a.atttypid, a.atttypmod))
    FROM _timescaledb_catalog.hypertable h JOIN pg_attribute a ON a.attrelid = h.relid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE a.atttypid IN (SELECT oid FROM d) AND ${COMPRESSED('h')} ORDER BY h.id, a.attnum`);
  const columns = firstError(out) ? [] : jsonRows<DomainColumn>(out);
  if (columns.length === 0) return;
  await fill([...new Map(columns.map((c) => [c.id, { id: c.id, schema: c.schema, name: c.table }])).values()]);
  const con = (s.node.def as Node | undefined)?.Constraint as Fields | undefined;
  const notValid = con?.skip_validation === true;
  const why = 'Orbit checks the compressed rows against a domain constraint by running the statement and undoing that, which a savepoint does and the implicit transaction has none.';
  const found = await inTrial(run, idle, why, async (): Promise<{ chunk: number; code: string; column: string } | undefined> => {
    // PostgreSQL checks the cache tables (temporary tables with columns of the domain) itself.
    const error = firstError(await run.sql(ddl));
    if (error) {
      const child = CACHE_CHILD.exec(error.t ?? '');
      // Otherwise the statement's own error (a violation among the rowstore's rows: those chunks come first) comes when it runs.
      return child && error.s?.startsWith('pg_temp') ? { chunk: Number(child[1]), code: error.C ?? SqlState.check_violation, column: error.c ?? '' } : undefined;
    }
    if (!notValid) return undefined;
    for (const c of columns) {
      const rows = await query(violatingChunkSql(c, `NOT pg_input_is_valid(r.${quoteIdent(c.column)}::text, ${quoteLiteral(c.type)})`));
      const chunk = firstError(rows) ? undefined : jsonRows<number>(rows)[0];
      if (chunk !== undefined) return { chunk, code: SqlState.feature_not_supported, column: c.column };
    }
    return undefined;
  });
  if (!found) return;
  if (notValid) {
    throw new OrbitError(SqlState.feature_not_supported, `a NOT VALID constraint on domain "${names.at(-1)}" that values of column "${found.column}" in the columnstore violate is not supported by Orbit`, {
      detail: 'Orbit decodes the rows in the columnstore into columns of the domain, which checks every constraint.',
      hint: 'Convert the chunks back to the rowstore (decompress_chunk) first.',
    });
  }
  const [schema, chunk] = jsonRows<[string, string]>(await query(`SELECT json_build_array(schema_name, table_name) FROM _timescaledb_catalog.chunk WHERE id = ${found.chunk}`))[0] ?? ['', ''];
  const what = found.code === SqlState.not_null_violation ? 'null values' : 'values that violate the new constraint';
  throw new OrbitError(found.code, `column "${found.column}" of table "${chunk}" contains ${what}`, { schema, table: chunk, column: found.column });
}

/** A cache child's name (`orbit_cs_<hypertable>_<chunk>_v<version>_g<generation>`: cache-tables.ts); group 1: the chunk id. */
const CACHE_CHILD = /^orbit_cs_\d+_(\d+)_v/;

/**
 * The id of the first chunk (by OID) of `c`'s hypertable whose decoded rows (its cache child,
 * `orbit_cs_<hypertable>_<chunk>_v…`: cache-tables.ts) have a value `bad` holds for.
 */
function violatingChunkSql(c: DomainColumn, bad: string): string {
  return `SELECT to_json(ch.id) FROM (SELECT DISTINCT r.tableoid AS rel FROM pg_temp.${cacheParentName(c.id)} r WHERE ${bad}) v
      JOIN pg_class cc ON cc.oid = v.rel JOIN _timescaledb_catalog.chunk ch ON ch.id = substring(cc.relname FROM '^orbit_cs_[0-9]+_([0-9]+)_v')::int
    ORDER BY format('%I.%I', ch.schema_name, ch.table_name)::regclass::oid LIMIT 1`;
}

/**
 * Throws 0A000 when `s` would check rows of a hypertable with compressed chunks that PostgreSQL
 * does not see (a foreign key referencing one). Call only while some hypertable has compressed
 * chunks (the catalog tables exist). The lookups fail on nothing (to_regclass).
 */
export async function refuseUncheckedRows(run: InternalRunner, s: ClassifiedStatement): Promise<void> {
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
