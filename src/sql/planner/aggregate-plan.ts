/**
 * @module sql/planner/aggregate-plan
 * The plan of an aggregate taken by the kernels (aggregates.ts planAggregate makes it): what
 * session/columnstore reads to run the kernels and the final statement over their partials
 * (fast-path.ts), to make the rows itself (aggregate-rows.ts, `direct`), or to cut at a bucket
 * limit (bucket-limit.ts).
 */
import type { AggregateCall } from '../../columnstore/kernels/index.js';
import type { ConstantFilter } from './filters.js';
import type { ColumnPredicate } from './predicates.js';
import type { PlannerColumn, PlannerTable } from './table.js';

export interface AggregatePlan {
  readonly table: PlannerTable;
  /** time_bucket's width (SQL of an interval), when grouping by a bucket. */
  readonly bucketWidthSql?: string;
  /** GROUP BY items in order: the bucket or a segmentby column. */
  readonly groups: ReadonlyArray<{ readonly kind: 'bucket' } | { readonly kind: 'column'; readonly column: PlannerColumn }>;
  readonly filters: readonly ConstantFilter[];
  /** Conjuncts on other columns (or other comparisons): the kernels aggregate only the rows they keep. */
  readonly predicates: readonly ColumnPredicate[];
  /**
   * GROUP BY only the bucket, ORDER BY it, LIMIT n: the direction, the limit (and offset), and a
   * query of the first n bucket starts among the rowstore rows the WHERE keeps (column `b`).
   */
  readonly bucketOrder?: { readonly desc: boolean; readonly limitSql: string; readonly offsetSql?: string; rowstoreSql(limitSql: string): string };
  readonly aggregates: ReadonlyArray<AggregateCall & { readonly resultType: string; readonly partialTypes: readonly string[] }>;
  /**
   * When the result is nothing but group keys and aggregates (no HAVING or OFFSET; no LIMIT but the
   * bucket limit's, see DirectShape.limited), ordered by all the group keys or not at all: its columns and order, so that the rows can be made from
   * the kernels' partials without a final statement (session/columnstore/aggregate-rows.ts).
   */
  readonly direct?: DirectShape;
  /**
   * Whether the rowstore holds rows the WHERE keeps (else finalSql can leave it out): a boolean
   * expression, NULL when one of them is a float sum or average input PostgreSQL's overflow checks
   * could trip on (finite, above 1e130 in magnitude): the statement then takes the general path.
   */
  readonly rowstoreExistsSql: string;
  /** The NULL case of rowstoreExistsSql alone ('false' without float sums or averages). */
  readonly rowstoreRiskSql: string;
  /**
   * The statement to run, given a query yielding the kernels' partial rows (columns g1…, then each
   * aggregate's partial columns, of the types `partialTypes`), undefined when there are none.
   * Mode (see FinalMode) `union` (default): merged with the rowstore's partials.
   */
  finalSql(kernelRows: string | undefined, mode?: FinalMode): string;
}

/** See AggregatePlan.direct. */
export interface DirectShape {
  /** Per output column, its name and what it is: a group (index into `groups`) or an aggregate (index into `aggregates`). */
  readonly columns: ReadonlyArray<{ readonly name: string; readonly group: number } | { readonly name: string; readonly aggregate: number }>;
  /** ORDER BY, as group indexes (every group among them: the order is total); undefined without ORDER BY. */
  readonly order?: ReadonlyArray<{ readonly group: number; readonly desc: boolean; readonly nullsFirst: boolean }>;
  /**
   * ORDER BY the bucket LIMIT n (no OFFSET; `bucketOrder`): the sorted rows are cut at n, the limit
   * as the bucket limit's statement evaluated it (EvaluatedInputs.limit).
   */
  readonly limited?: boolean;
}

/**
 * How the final statement reads the partials: `union` with the rowstore's; `kernels` alone (the
 * rowstore has no rows the WHERE keeps: PostgreSQL then plans no scan of the hypertable); `rowwise`
 * the kernels' alone with one row per group (their group keys equal exactly when PostgreSQL's
 * GROUP BY would put them together), merged without aggregation.
 */
export type FinalMode = 'union' | 'kernels' | 'rowwise';
