/**
 * @module session/columnstore/reuse
 * Reuse of the fast path's results across repeated statements (docs/design/columnstore.md,
 * "Reuse"): an aggregate's final statement kept while the internal statement's answer (manifest
 * keys, constants, rowstore flags, buckets) and the store's objects are the same; a last point's
 * candidate rows kept in `pg_temp.orbit_last_<id>` while the manifests are; and the guarded form
 * that runs a kept statement in one round trip, checking its inputs in the same statement.
 * `ColumnStoreOptions.reuseResults: false` turns the keeping off.
 */
import type { ColumnStore } from '../../columnstore/store.js';
import type { KernelBackend } from '../../columnstore/kernels/index.js';
import type { AggregatePlan } from '../../sql/planner/aggregate-plan.js';
import type { LastPointPlan } from '../../sql/planner/last-point.js';
import { boundBucketLimit, bucketLimitSql } from './bucket-limit.js';
import { aggregateInputsSql, runAggregate } from './fast-path.js';
import { lastPointCandidates, lastPointKeys, lastPointKeysSql, runLastPoint } from './last-point.js';
import { cacheRunner, firstError, quoteIdent, textRows, type InternalRunner } from '../internal-sql.js';
import { grantCacheSql } from '../roles.js';
import { quoteLiteral } from '../settings.js';

/** Named in the error of a reused fast-path statement whose inputs changed (ResultReuse.guard). */
export const STALE_FAST_PATH = 'orbit_fast_path_inputs_changed';

export class ResultReuse {
  /**
   * Per hypertable, what `pg_temp.orbit_last_<id>` holds, committed: the last-point candidate rows
   * of these manifests (immutable, by versioned key, while `store.generation` holds) and columns.
   */
  private readonly lastPointTables = new Map<number, { shape: string; keys: string }>();
  /** Plans whose reused statement was found stale once (guarded runs are not tried again for them). */
  private readonly unguarded = new WeakSet<object>();
  /** The plan whose statement was last handed out guarded (see `guard`). */
  private guardedPlan: object | undefined;
  /** Per aggregate plan, its last final statement and the inputs it was made from (aggregate). */
  private readonly aggregateSql = new WeakMap<AggregatePlan, { answer: string; generation: number; sql: string }>();
  /** A last-point plan's statement over its candidates table (the same text each time). */
  private readonly lastPointSql = new WeakMap<LastPointPlan, string>();

  constructor(
    private readonly store: ColumnStore,
    private readonly kernels: KernelBackend,
  ) {}

  /** The candidates tables may have changed or gone (DDL, DISCARD, a statement naming one). */
  forgetLastPoints(): void {
    this.lastPointTables.clear();
  }

  /** A new statement is being planned: none is guarded yet. */
  unguard(): void {
    this.guardedPlan = undefined;
  }

  /**
   * The last point outside a transaction block. The candidate rows depend only on the manifests
   * (immutable, by versioned key), so they are kept in `pg_temp.orbit_last_<id>` and read from there
   * while the catalog lists the same manifests: PostgreSQL parsing them from array constants was
   * most of the query's time (2,000 values for 100 segments: ~3 ms), decoding them most of the rest.
   */
  async lastPoint(run: InternalRunner, plan: LastPointPlan, guarded: boolean): Promise<string | undefined> {
    // With a WHERE the candidates depend on its constants too (`now()` changes at each statement):
    // they are chosen afresh.
    if (plan.filters.length > 0) return runLastPoint(this.store, run, plan);
    const id = plan.table.id;
    const shape = [this.store.generation, plan.segment, ...plan.table.columns.map((c) => `${c.name} ${c.type}`)].join('\n');
    const final = () => {
      let sql = this.lastPointSql.get(plan);
      if (sql === undefined) this.lastPointSql.set(plan, (sql = plan.finalSql(`SELECT * FROM pg_temp.orbit_last_${id}`)));
      return sql;
    };
    const reuse = this.store.reuseResults;
    const kept = reuse ? this.lastPointTables.get(id) : undefined;
    if (guarded && kept?.shape === shape && !this.unguarded.has(plan)) return this.guard(plan, final(), lastPointKeysSql(plan), kept.keys);
    const found = await lastPointKeys(run, plan);
    if (!found) return undefined;
    if (found.text === null || kept?.shape !== shape || kept.keys !== found.text) {
      const candidates = await lastPointCandidates(this.store, plan, found.keys);
      if (candidates === undefined) return undefined;
      if (!reuse || candidates === null || found.text === null) return plan.finalSql(candidates ?? undefined);
      this.lastPointTables.delete(id);
      const columns = plan.table.columns.map((c) => quoteIdent(c.name)).join(', ');
      // One implicit transaction, committed at once (the session is outside a transaction block).
      const out = await cacheRunner(run).sql(
        `DROP TABLE IF EXISTS pg_temp.orbit_last_${id}; CREATE TEMP TABLE orbit_last_${id} AS SELECT * FROM (${candidates}) AS c (${columns}); ${grantCacheSql(`pg_temp.orbit_last_${id}`)}`,
      );
      // No temporary table (no TEMP privilege, …): the candidates go in the statement.
      if (firstError(out)) return plan.finalSql(candidates);
      this.lastPointTables.set(id, { shape, keys: found.text });
    }
    return final();
  }

  /**
   * A statement reused without asking for its inputs first (one round trip instead of two): it runs
   * only if the internal statement `inputsSql` still answers `answer` when it runs (same snapshot),
   * and fails otherwise with an error naming STALE_FAST_PATH, on which the caller plans it again
   * (`retryStale`; it does so on any failure). Only for statements run at once outside a transaction block, whose failure
   * aborts nothing. PostgreSQL evaluates the uncorrelated condition once, before any row.
   */
  private guard(plan: object, sql: string, inputsSql: string, answer: string): string {
    this.guardedPlan = plan;
    // The ELSE text is not a constant (pg_backend_pid() is not immutable), so it is not cast while planning.
    return `SELECT * FROM (${sql}) AS orbit_guarded WHERE CASE WHEN (${inputsSql})::text = ${quoteLiteral(answer)} THEN true ELSE ('${STALE_FAST_PATH} ' || pg_backend_pid())::bool END`;
  }

  /**
   * After a statement from `runPlanned(…, guarded)` ran: whether it failed (`message`: its error,
   * if any), on its guard or otherwise. The caller then plans and runs it again, unguarded, so any
   * error is the one the unguarded path gives (a changed constant may fail the internal statement,
   * which the unguarded path answers by falling back); a plan whose guard failed is not guarded again.
   */
  retryStale(message: () => string | undefined): boolean {
    const plan = this.guardedPlan;
    this.guardedPlan = undefined;
    const error = plan ? message() : undefined;
    if (!plan || error === undefined) return false;
    if (error.includes(STALE_FAST_PATH)) this.unguarded.add(plan);
    return true;
  }

  /**
   * An aggregate whose final statement is reused while its inputs are: the internal statement's
   * answer (manifest keys, constants, rowstore rows and buckets) with the objects those keys name
   * (`store.generation`) determine it, so the kernels run only when the answer changes.
   */
  async aggregate(run: InternalRunner, plan: AggregatePlan, guarded: boolean): Promise<string | undefined> {
    const bounded = plan.bucketOrder ? bucketLimitSql(plan) : undefined;
    const inputsSql = bounded ?? `SELECT ${aggregateInputsSql(plan)}`;
    const generation = this.store.generation;
    const memo = this.store.reuseResults ? this.aggregateSql.get(plan) : undefined;
    if (guarded && memo?.generation === generation && !this.unguarded.has(plan)) return this.guard(plan, memo.sql, inputsSql, memo.answer);
    const out = await run.sql(inputsSql);
    const answer = firstError(out) ? undefined : (textRows(out)[0]?.[0] ?? undefined);
    if (answer !== undefined && memo?.answer === answer && memo.generation === generation) return memo.sql;
    let sql: string | undefined;
    if (bounded !== undefined) {
      const limited = await boundBucketLimit(this.store, this.kernels, run, plan, out);
      sql = limited.evaluated ? await runAggregate(this.store, this.kernels, run, plan, limited.evaluated) : await runAggregate(this.store, this.kernels, run, limited.plan);
    } else {
      // A failure (infinity, bad input) falls back.
      if (answer === undefined) return undefined;
      sql = await runAggregate(this.store, this.kernels, run, plan, { values: JSON.parse(answer) as unknown[], filters: [] });
    }
    if (sql !== undefined && answer !== undefined && this.store.generation === generation && this.store.reuseResults) this.aggregateSql.set(plan, { answer, generation, sql });
    return sql;
  }
}
