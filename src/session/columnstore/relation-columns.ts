/**
 * @module session/columnstore/relation-columns
 * The columns of the relations next to a whole-row reference to a hypertable with compressed
 * chunks (sql/rewrite/whole-row.ts): a bare name is a column when some FROM item in scope has a
 * column of that name, so typing `x` as the hypertable's row needs the other items' columns. Read
 * from the catalog for the statements about to be planned, and only for those naming such a
 * reference (wholeRowRelations); a relation not found stays unknown, and the reference is refused.
 */
import type { ClassifiedStatement } from '../../sql/classify.js';
import { wholeRowRelations, type ColumnstoreTable } from '../../sql/rewrite/columnstore-reads.js';
import { firstError, jsonRows, quoteIdent, type InternalRunner } from '../internal-sql.js';
import { quoteLiteral } from '../settings.js';

export class RelationColumns {
  /** By qualified name as written (`"s"."t"` or `"t"`): the columns, or null when not found. */
  private columns = new Map<string, ReadonlySet<string> | null>();

  /**
   * Reads the columns of the relations `statements` name next to whole-row references
   * (`isHypertable`: names no other relation; `lookup`: the hypertables read).
   */
  async load(
    run: InternalRunner,
    statements: readonly ClassifiedStatement[],
    isHypertable: (name: string) => boolean,
    lookup: (schema: string | undefined, name: string) => ColumnstoreTable | undefined,
  ): Promise<void> {
    this.columns = new Map();
    const keys = new Set<string>();
    for (const s of statements) {
      // Cheap test first: a statement naming hypertables only needs no other columns.
      if (s.relations.every((r) => isHypertable(r.name))) continue;
      for (const r of wholeRowRelations(s.type, s.node, lookup)) keys.add(key(r.schema, r.name));
    }
    if (keys.size === 0) return;
    const sql = `SELECT json_object_agg(k, (SELECT json_agg(attname::text ORDER BY attnum) FROM pg_attribute WHERE attrelid = to_regclass(k) AND attnum > 0 AND NOT attisdropped)) FROM unnest(ARRAY[${[...keys].map(quoteLiteral).join(', ')}]::text[]) k`;
    const out = await run.sql(sql);
    // Not read (an aborted transaction, whose statement fails anyway): unknown, refused.
    if (firstError(out)) return;
    const json = jsonRows<Record<string, string[] | null>>(out)[0] ?? {};
    for (const k of keys) this.columns.set(k, json[k] ? new Set(json[k]) : null);
  }

  /** The columns of the relation `schema`.`name` (as written), undefined when not known. */
  readonly columnsOf = (schema: string | undefined, name: string): ReadonlySet<string> | undefined => this.columns.get(key(schema, name)) ?? undefined;
}

function key(schema: string | undefined, name: string): string {
  return schema === undefined ? quoteIdent(name) : `${quoteIdent(schema)}.${quoteIdent(name)}`;
}
