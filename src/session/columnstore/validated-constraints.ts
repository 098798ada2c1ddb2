/**
 * @module session/columnstore/validated-constraints
 * ALTER TABLE that PostgreSQL checks against the rows already there — a CHECK, FOREIGN KEY or NOT
 * NULL constraint added valid, VALIDATE CONSTRAINT, SET NOT NULL — on a hypertable with chunks in
 * the columnstore: PostgreSQL checks the chunk tables only, the rowstore's rows, so the rows of the
 * batches are checked here first, as TimescaleDB 2.19+ validates compressed chunks (PR #7864). As
 * for unique indexes (unique-indexes.ts), the statement runs once inside a savepoint that is rolled
 * back, to read from the catalog what it validates: the constraints of the hypertable validated now
 * that were not before, a CHECK's expression as PostgreSQL stores it (`pg_get_expr(conbin)`, not
 * deparsed again), a foreign key's columns, referenced table, equality operators and MATCH type.
 * The rows of the compressed chunks are then read from the general path's cache tables (decoded
 * rows, one child per chunk: the violating chunk is known, and PostgreSQL's expression and operators
 * judge the rows); batch metadata alone could answer SET NOT NULL but not a CHECK or a key, and the
 * cache tables show a column added since compression as PostgreSQL shows it. A violation is
 * PostgreSQL's own error as if the rows were in the chunk's table: 23514 / 23502 / 23503 naming the
 * chunk (the first violating one in PostgreSQL's order, by relation OID). Rows of the rowstore are
 * left to the statement itself, which then runs as written; when they violate, only compressed
 * chunks PostgreSQL checks before theirs are looked at. A prepared statement is checked at each Bind.
 */
import { OrbitError } from '../../errors.js';
import type { ClassifiedStatement } from '../../sql/classify.js';
import { cacheParentName } from '../../sql/rewrite/columnstore-reads.js';
import type { Fields, Node } from '../../sql/rewrite/ast.js';
import { SqlState } from '../../sqlstate.js';
import { firstError, jsonRows, quoteIdent, textRows, type InternalRunner } from '../internal-sql.js';
import { quoteLiteral } from '../settings.js';
import { inTrial } from './trial.js';

/** A constraint of the hypertable the statement validates, as the catalog says after it ran. */
interface Validated {
  readonly name: string;
  /** pg_constraint.contype: c(heck), n(ot null) or f(oreign key). */
  readonly type: 'c' | 'n' | 'f';
  readonly check: string | null;
  readonly columns: readonly string[];
  /** NOT NULL on a column the statement adds without a default: its compressed rows are all NULL. */
  readonly nullColumn: boolean;
  readonly refTable: string | null;
  readonly refName: string | null;
  readonly refColumns: readonly string[] | null;
  readonly operators: readonly string[] | null;
  readonly matchFull: boolean;
}

/**
 * What of an ALTER TABLE PostgreSQL checks against the existing rows, described for a refusal:
 * SET NOT NULL, VALIDATE CONSTRAINT, adding a CHECK, FOREIGN KEY, NOT NULL or EXCLUDE constraint
 * other than NOT VALID, or a NOT NULL column; undefined when nothing is checked.
 */
export function validatedConstraint(s: ClassifiedStatement): string | undefined {
  if (s.type !== 'AlterTableStmt') return undefined;
  for (const c of (s.node.cmds as Node[] | undefined) ?? []) {
    const cmd = c.AlterTableCmd as Fields | undefined;
    if (cmd?.subtype === 'AT_SetNotNull') return 'SET NOT NULL';
    if (cmd?.subtype === 'AT_ValidateConstraint') return 'VALIDATE CONSTRAINT';
    const column = cmd?.subtype === 'AT_AddColumn' ? ((cmd.def as Node | undefined)?.ColumnDef as Fields | undefined) : undefined;
    if (column && (column.is_not_null === true || ((column.constraints as Node[] | undefined) ?? []).some((n) => (n.Constraint as Fields).contype === 'CONSTR_NOTNULL'))) return 'a NOT NULL column';
    const con = cmd?.subtype === 'AT_AddConstraint' ? ((cmd.def as Node | undefined)?.Constraint as Fields | undefined) : undefined;
    if (!con || con.skip_validation) continue;
    const what = ({ CONSTR_CHECK: 'CHECK', CONSTR_FOREIGN: 'FOREIGN KEY', CONSTR_EXCLUSION: 'EXCLUDE', CONSTR_NOTNULL: 'NOT NULL' } as Record<string, string>)[con.contype as string];
    if (what) return `adding a ${what} constraint`;
  }
  return undefined;
}

/**
 * Checks the rows of `table`'s compressed chunks against every constraint `ddl` (the statement's
 * text) validates; throws PostgreSQL's error for the first violation. `fill`: makes the hypertable's
 * cache tables hold its compressed rows; `query`: runs Orbit's SQL and returns its output. Inside a
 * transaction block when `idle` is false (a savepoint keeps the trial out of it).
 */
export async function checkValidatedConstraints(
  run: InternalRunner,
  table: { readonly id: number; readonly schema: string; readonly name: string },
  ddl: string,
  idle: boolean,
  fill: () => Promise<void>,
  query: (sql: string) => Promise<Uint8Array>,
): Promise<void> {
  const rel = `'${`${quoteIdent(table.schema)}.${quoteIdent(table.name)}`.replace(/'/g, "''")}'::regclass`;
  let out = await trial(run, rel, ddl, idle, false);
  const error = firstError(out);
  /** A chunk whose rowstore rows violate a constraint: PostgreSQL names it unless it meets a violation first. */
  let rowstore: { readonly oid: string; readonly rowCheck: boolean } | undefined;
  if (error) {
    // The statement's own error (a name taken, …) comes when it runs; so does a violation among the
    // rowstore's rows, unless a compressed chunk PostgreSQL checks before it violates one too.
    if (!VIOLATIONS.includes(error.C ?? '') || !error.t) return;
    out = await trial(run, rel, ddl, idle, true);
    if (firstError(out)) return;
    rowstore = { oid: `${quoteLiteral(`${quoteIdent(error.s ?? table.schema)}.${quoteIdent(error.t)}`)}::regclass::oid`, rowCheck: error.C !== SqlState.foreign_key_violation };
  }
  const constraints = JSON.parse(textRows(out).at(-1)?.[0] ?? '[]') as Validated[];
  if (constraints.length === 0) return;
  await fill();
  const cache = `pg_temp.${quoteIdent(cacheParentName(table.id))}`;
  // PostgreSQL checks NOT NULL and CHECK constraints of every chunk before any foreign key.
  const rowChecks = constraints.filter((c) => c.type !== 'f');
  if (rowChecks.length > 0) {
    const conditions = rowChecks.map((c) => (c.type === 'c' ? `((${c.check})) IS FALSE` : c.nullColumn ? 'true' : `r.${quoteIdent(c.columns[0]!)} IS NULL`));
    // Per row the first failing constraint, NOT NULL before CHECK as PostgreSQL tests a row.
    const order = [...rowChecks.keys()].sort((a, b) => Number(rowChecks[a]!.type === 'c') - Number(rowChecks[b]!.type === 'c'));
    const which = `CASE ${order.map((i) => `WHEN ${conditions[i]} THEN ${i}`).join(' ')} END`;
    const violating = `SELECT r.tableoid AS orbit_rel, min(${which}) AS orbit_order FROM ${cache} r WHERE ${conditions.join(' OR ')} GROUP BY r.tableoid`;
    const found = await firstViolation<[string, string, number]>(query, table, violationSql(violating, 'v.orbit_order', rowstore?.rowCheck ? rowstore.oid : undefined));
    if (found) {
      const [schema, chunk, index] = found;
      const c = rowChecks[index]!;
      if (c.type === 'c') throw new OrbitError(SqlState.check_violation, `check constraint "${c.name}" of relation "${chunk}" is violated by some row`, { schema, table: chunk, constraint: c.name });
      throw new OrbitError(SqlState.not_null_violation, `column "${c.columns[0]}" of relation "${chunk}" contains null values`, { schema, table: chunk, column: c.columns[0]! });
    }
  }
  if (rowstore?.rowCheck) return;
  for (const c of constraints.filter((x) => x.type === 'f')) await checkForeignKey(query, table, cache, c, rowstore?.oid);
}

/** Errors of a row found violating a constraint; PostgreSQL names the relation (field `t`). */
const VIOLATIONS: readonly string[] = [SqlState.check_violation, SqlState.not_null_violation, SqlState.foreign_key_violation];

/**
 * Runs the statement once and undoes it, returning its output and then what the catalog says it
 * validates (`detailsSql`). `hideRows`: the hypertable's partitions are emptied first, in the trial
 * only, so that rows of the rowstore that violate a constraint do not keep its definition unread.
 */
function trial(run: InternalRunner, rel: string, ddl: string, idle: boolean, hideRows: boolean): Promise<Uint8Array> {
  const before = `SELECT set_config('orbit.validated_before', (SELECT coalesce(array_agg(oid), '{}') FROM pg_constraint WHERE conrelid = ${rel} AND convalidated)::text, true),
    set_config('orbit.validated_columns', (SELECT max(attnum) FROM pg_attribute WHERE attrelid = ${rel})::text, true)`;
  const why = 'Orbit checks the compressed rows against a constraint by running the statement and undoing that, which a savepoint does and the implicit transaction has none.';
  return inTrial(run, idle, why, async () => {
    if (hideRows) {
      const partitions = textRows(await run.sql(`SELECT string_agg(inhrelid::regclass::text, ', ') FROM pg_inherits WHERE inhparent = ${rel}`))[0]?.[0];
      if (partitions) await run.sql(`TRUNCATE ${partitions}`);
    }
    return run.sql(`${before}; ${ddl}\n; ${detailsSql(rel)}`);
  });
}

/**
 * The first chunk, in the order PostgreSQL checks a table's partitions (OID order,
 * find_all_inheritors), among the rows `violating` returns (`orbit_rel`: the cache child, one per
 * chunk, `orbit_<hypertable>_<chunk>_v…` (cache-tables.ts); `orbit_order`: the order within it):
 * its schema, name and `select`. `before`: only chunks checked before that relation.
 */
function violationSql(violating: string, select: string, before: string | undefined): string {
  const oid = `format('%I.%I', ch.schema_name, ch.table_name)::regclass::oid`;
  return `SELECT json_build_array(ch.schema_name, ch.table_name, ${select}) FROM (${violating}) v JOIN pg_class cc ON cc.oid = v.orbit_rel
    JOIN _timescaledb_catalog.chunk ch ON ch.id = substring(cc.relname FROM '^orbit_cs_[0-9]+_([0-9]+)_v')::int
    ${before ? `WHERE ${oid} < ${before}` : ''} ORDER BY ${oid}, v.orbit_order LIMIT 1`;
}

/**
 * A foreign key over the compressed rows, as RI_Initial_Check tests it: a row whose key has no NULL
 * (MATCH SIMPLE) or is not all NULL (MATCH FULL) and matches no row of the referenced table under the
 * constraint's equality operators. The key named is the smallest of the first violating chunk
 * (PostgreSQL names the first its join meets, in the chunk table's order, which batches do not keep).
 */
async function checkForeignKey(query: (sql: string) => Promise<Uint8Array>, table: { readonly name: string }, cache: string, c: Validated, before: string | undefined): Promise<void> {
  const fk = c.columns.map((k) => `r.${quoteIdent(k)}`);
  const matches = c.refColumns!.map((k, i) => `p.${quoteIdent(k)} ${c.operators![i]} ${fk[i]}`).join(' AND ');
  const missing = `NOT EXISTS (SELECT FROM ${c.refTable} p WHERE ${matches})`;
  const someNull = fk.map((k) => `${k} IS NULL`).join(' OR ');
  const where = c.matchFull ? `(${fk.map((k) => `${k} IS NOT NULL`).join(' OR ')}) AND (${someNull} OR ${missing})` : `${fk.map((k) => `${k} IS NOT NULL`).join(' AND ')} AND ${missing}`;
  const violating = `SELECT r.tableoid AS orbit_rel, row_number() OVER (ORDER BY ${fk.join(', ')}) AS orbit_order,
    json_build_array(${fk.map((k) => `format('%s', ${k})`).join(', ')}) AS orbit_key, ${someNull} AS orbit_mixed FROM ${cache} r WHERE ${where}`;
  const found = await firstViolation<[string, string, string[], boolean]>(query, table, violationSql(violating, 'v.orbit_key, v.orbit_mixed', before));
  if (!found) return;
  const [schema, chunk, key, mixed] = found;
  throw new OrbitError(SqlState.foreign_key_violation, `insert or update on table "${chunk}" violates foreign key constraint "${c.name}"`, {
    detail: mixed ? 'MATCH FULL does not allow mixing of null and nonnull key values.' : `Key (${c.columns.join(', ')})=(${key.join(', ')}) is not present in table "${c.refName}".`,
    schema,
    table: chunk,
    constraint: c.name,
  });
}

/** The row of a violation query, if any; its failure is the statement's error. */
async function firstViolation<T>(query: (sql: string) => Promise<Uint8Array>, table: { readonly name: string }, sql: string): Promise<T | undefined> {
  const out = await query(sql);
  const error = firstError(out);
  // A column the same ALTER TABLE adds exists only in the trial.
  if (error?.C === SqlState.undefined_column) {
    throw new OrbitError(SqlState.feature_not_supported, `a constraint on a column added by the same statement to hypertable "${table.name}" with chunks in the columnstore is not supported by Orbit`, {
      hint: 'Add the column first, then the constraint.',
    });
  }
  if (error) throw new OrbitError(error.C ?? SqlState.internal_error, error.M ?? 'constraint check failed', error.D ? { detail: error.D } : {});
  return jsonRows<T>(out)[0];
}

/**
 * The hypertable's CHECK, NOT NULL and FOREIGN KEY constraints validated now and not before the
 * statement (in the order they were made), read inside the trial.
 */
function detailsSql(rel: string): string {
  const names = (keys: string, relid: string) => `(SELECT json_agg(a.attname ORDER BY k.i) FROM unnest(${keys}) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = ${relid} AND a.attnum = k.n)`;
  return `SELECT coalesce(json_agg(json_build_object(
      'name', c.conname, 'type', c.contype, 'check', CASE WHEN c.contype = 'c' THEN pg_get_expr(c.conbin, c.conrelid) END,
      'columns', ${names('c.conkey', 'c.conrelid')},
      'nullColumn', c.contype = 'n' AND c.conkey[1] > current_setting('orbit.validated_columns')::int,
      'refTable', CASE WHEN c.contype = 'f' THEN format('%s%I.%I', CASE WHEN r.relkind = 'p' THEN '' ELSE 'ONLY ' END, rn.nspname, r.relname) END,
      'refName', r.relname,
      'refColumns', ${names('c.confkey', 'c.confrelid')},
      'operators', (SELECT json_agg(format('OPERATOR(%I.%s)', n.nspname, o.oprname) ORDER BY k.i) FROM unnest(c.conpfeqop) WITH ORDINALITY k(op, i)
        JOIN pg_operator o ON o.oid = k.op JOIN pg_namespace n ON n.oid = o.oprnamespace),
      'matchFull', c.confmatchtype = 'f') ORDER BY c.oid), '[]')
    FROM pg_constraint c LEFT JOIN pg_class r ON r.oid = c.confrelid LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
    WHERE c.conrelid = ${rel} AND c.convalidated AND c.contype IN ('c', 'n', 'f') AND NOT c.oid = ANY (current_setting('orbit.validated_before')::oid[])
      -- A column added NOT NULL with a (literal) default holds it in every compressed row.
      AND NOT (c.contype = 'n' AND c.conkey[1] > current_setting('orbit.validated_columns')::int
        AND EXISTS (SELECT FROM pg_attrdef d WHERE d.adrelid = c.conrelid AND d.adnum = c.conkey[1]))`;
}
