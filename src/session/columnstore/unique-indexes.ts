/**
 * @module session/columnstore/unique-indexes
 * A unique index (CREATE UNIQUE INDEX, ALTER TABLE … ADD PRIMARY KEY / UNIQUE) on a hypertable with
 * chunks in the columnstore: PostgreSQL checks only the rows it holds, the rowstore's, so the rows
 * of the batches are checked here first, as TimescaleDB 2.19+ checks compressed chunks
 * (`validate_index_constraints`: a GROUP BY … HAVING count(*) > 1 over the hypertable). The index
 * is made once inside a savepoint and rolled back, to read what PostgreSQL made of the statement
 * (name, key columns or expressions, predicate, NULLS NOT DISTINCT); the duplicates query then reads
 * the hypertable through the general path, which sees the batches' rows too. A duplicate is
 * PostgreSQL's own error for it: 23505 "could not create unique index", Key (…)=(…) is duplicated,
 * naming the smallest duplicated key (PostgreSQL names the first its sort meets). A prepared
 * statement (extended protocol) is checked at each Bind (session/extended-query.ts), since chunks
 * may have been compressed since its Parse.
 */
import { OrbitError } from '../../errors.js';
import type { ClassifiedStatement } from '../../sql/classify.js';
import type { Fields, Node } from '../../sql/rewrite/ast.js';
import { SqlState } from '../../sqlstate.js';
import { firstError, jsonRows, quoteIdent, textRows, type InternalRunner } from '../internal-sql.js';
import { inTrial } from './trial.js';

/** What PostgreSQL made of a unique index the statement creates. */
interface NewIndex {
  readonly name: string;
  /** Key columns or expressions as pg_get_indexdef prints them (PostgreSQL's DETAIL names them so). */
  readonly keys: readonly string[];
  readonly predicate: string | null;
  readonly nullsNotDistinct: boolean;
  /** Default operator classes and deterministic collations only: GROUP BY's equality is the index's. */
  readonly plain: boolean;
}

/** The kind of unique index a statement adds to its table: none, an exclusion constraint, or a unique one. */
export function addsUniqueIndex(s: ClassifiedStatement): 'unique' | 'exclusion' | undefined {
  if (s.type === 'IndexStmt') return s.node.unique || s.node.primary ? 'unique' : undefined;
  if (s.type !== 'AlterTableStmt') return undefined;
  let kind: 'unique' | 'exclusion' | undefined;
  for (const c of (s.node.cmds as Node[] | undefined) ?? []) {
    const cmd = c.AlterTableCmd as Fields | undefined;
    const def = (cmd?.def as Node | undefined)?.Constraint as Fields | undefined;
    if (cmd?.subtype !== 'AT_AddConstraint' || !def || def.indexname) continue;
    if (def.contype === 'CONSTR_EXCLUSION') return 'exclusion';
    if (def.contype === 'CONSTR_PRIMARY' || def.contype === 'CONSTR_UNIQUE') kind = 'unique';
  }
  return kind;
}

/**
 * Checks the hypertable's rows for duplicates of every unique index `ddl` (the statement's text)
 * creates on it; throws PostgreSQL's 23505 for the first one found. `general`: runs a SELECT of the
 * hypertable through the general path (reading the batches) and returns its output. Inside a
 * transaction block when `idle` is false (a savepoint keeps the trial out of it).
 */
export async function checkUniqueIndexes(
  run: InternalRunner,
  table: { readonly schema: string; readonly name: string },
  ddl: string,
  idle: boolean,
  general: (sql: string) => Promise<Uint8Array>,
): Promise<void> {
  const rel = `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
  const before = `(SELECT coalesce(array_agg(indexrelid), '{}') FROM pg_index WHERE indrelid = '${rel.replace(/'/g, "''")}'::regclass)`;
  const details = `SELECT coalesce(json_agg(json_build_object(
      'name', c.relname, 'nullsNotDistinct', i.indnullsnotdistinct, 'predicate', pg_get_expr(i.indpred, i.indrelid),
      'keys', (SELECT json_agg(pg_get_indexdef(i.indexrelid, k, true) ORDER BY k) FROM generate_series(1, i.indnkeyatts) k),
      'plain', (SELECT bool_and(o.opcdefault) FROM unnest(i.indclass::oid[]) oc JOIN pg_opclass o ON o.oid = oc)
        AND (SELECT coalesce(bool_and(l.collisdeterministic), true) FROM unnest(i.indcollation::oid[]) ic JOIN pg_collation l ON l.oid = ic))), '[]')
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid = '${rel.replace(/'/g, "''")}'::regclass AND i.indisunique AND NOT i.indexrelid = ANY (current_setting('orbit.unique_before')::oid[])`;
  const why = 'Orbit checks a unique index against the compressed rows by creating it and undoing that, which a savepoint does and the implicit transaction has none.';
  const out = await inTrial(run, idle, why, () => run.sql(`SELECT set_config('orbit.unique_before', ${before}::text, true); ${ddl}\n; ${details}`));
  // The statement's own error (rowstore duplicates, a name taken, …) comes when it runs.
  if (firstError(out)) return;
  const indexes = JSON.parse(textRows(out).at(-1)?.[0] ?? '[]') as NewIndex[];
  for (const index of indexes) {
    if (!index.plain) {
      throw new OrbitError(SqlState.feature_not_supported, `unique index "${index.name}" with a non-default operator class or a nondeterministic collation on hypertable "${table.name}" with chunks in the columnstore is not supported by Orbit`, {
        hint: 'Convert its chunks back to the rowstore (decompress_chunk) first.',
      });
    }
    // NULLS DISTINCT (the default): a row with a NULL key conflicts with none.
    const where = [...(index.predicate ? [`(${index.predicate})`] : []), ...(index.nullsNotDistinct ? [] : index.keys.map((k) => `(${k}) IS NOT NULL`))];
    // format('%s') prints with the types' output functions, as PostgreSQL's DETAIL does.
    const values = index.keys.map((k) => `CASE WHEN (${k}) IS NULL THEN NULL ELSE format('%s', ${k}) END`);
    const check = `SELECT json_build_array(${values.join(', ')}) FROM ${rel}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} GROUP BY ${index.keys.map((k) => `(${k})`).join(', ')} HAVING count(*) > 1 ORDER BY ${index.keys.map((k) => `(${k})`).join(', ')} LIMIT 1`;
    const result = await general(check);
    const error = firstError(result);
    // A column the same ALTER TABLE adds exists only in the trial.
    if (error?.C === SqlState.undefined_column) {
      throw new OrbitError(SqlState.feature_not_supported, `a unique constraint on a column added by the same statement to hypertable "${table.name}" with chunks in the columnstore is not supported by Orbit`, {
        hint: 'Add the column first, then the constraint.',
      });
    }
    if (error) throw new OrbitError(error.C ?? SqlState.internal_error, error.M ?? 'unique index check failed', error.D ? { detail: error.D } : {});
    const duplicate = jsonRows<Array<string | null>>(result)[0];
    if (duplicate) {
      throw new OrbitError(SqlState.unique_violation, `could not create unique index "${index.name}"`, {
        detail: `Key (${index.keys.join(', ')})=(${duplicate.map((v) => v ?? 'null').join(', ')}) is duplicated.`,
      });
    }
  }
}
