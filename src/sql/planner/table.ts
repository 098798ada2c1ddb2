/**
 * @module sql/planner/table
 * What the planner knows of a hypertable with chunks in the columnstore: its columns, time column
 * and segmentby columns. Every planner path (aggregates.ts, last-point.ts, scan.ts) and the WHERE
 * readers (filters.ts, predicates.ts) plan against it; session/columnstore builds it from the catalog.
 */

/** A column of the hypertable: its name, `format_type` spelling and pg_type name. */
export interface PlannerColumn {
  readonly name: string;
  readonly type: string;
  readonly typname: string;
  /** The hypertable's attnum (which batches hold this column: session/columnstore/live-columns.ts). */
  readonly attnum?: number;
}

/** What the planner knows of a hypertable with chunks in the columnstore. */
export interface PlannerTable {
  readonly id: number;
  readonly schema: string;
  readonly name: string;
  readonly timeColumn: string;
  readonly segmentBy: readonly string[];
  readonly columns: readonly PlannerColumn[];
}
