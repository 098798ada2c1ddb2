/**
 * @module session/columnstore/fast-path-runner
 * Runs a statement's fast-path plan (statement-plans.ts): an aggregate in the kernels or a last
 * point (fast-path.ts, reused through reuse.ts), a scan of the batches into its temporary table
 * (`pg_temp.orbit_scan_<id>`, scan.ts) or as printed rows, and EXPLAIN of them (explain.ts) — inside
 * the transaction or savepoint the work needs, or none when it only reads.
 */
import type { ColumnStore } from '../../columnstore/store.js';
import type { KernelBackend } from '../../columnstore/kernels/index.js';
import type { ValueOf } from '../../columnstore/pg-text.js';
import type { AggregatePlan } from '../../sql/planner/aggregate-plan.js';
import { explainResultSql } from '../../sql/planner/explain.js';
import { boundBucketLimit, type BucketBound } from './bucket-limit.js';
import type { DirectRows } from './columnstore.js';
import { aggregateLines, lastPointLines, scanLines } from './explain.js';
import type { FactsCache } from './facts.js';
import { runAggregate, type DirectRowsTarget } from './fast-path.js';
import { lastPointCandidates, runLastPoint } from './last-point.js';
import { lastPointRows } from './last-point-rows.js';
import type { ResultReuse } from './reuse.js';
import { runScan } from './scan.js';
import type { ColumnstorePlan } from './statement-plans.js';
import { cacheRunner, firstError, must, quoteIdent, textRows, type InternalRunner } from '../internal-sql.js';
import { grantCacheSql } from '../roles.js';
import { quoteLiteral } from '../settings.js';

/** A backend's fast paths, and the scan tables they keep between statements. */
export class FastPathRunner {
  /** Hypertables whose scan table (`pg_temp.orbit_scan_<id>`) exists with their current columns. */
  private readonly scanTables = new Set<number>();

  constructor(
    private readonly store: ColumnStore,
    private readonly kernels: KernelBackend,
    private readonly facts: FactsCache,
    private readonly reuse: ResultReuse,
  ) {}

  /** After anything that may have dropped temporary tables. */
  forget(): void {
    this.scanTables.clear();
  }

  /**
   * Runs a plan's fast path (aggregate, last point, scan, EXPLAIN of them) and returns the statement
   * PostgreSQL runs instead; undefined when the chunks do not allow it after all (the caller takes
   * the general path). Outside a transaction block the work is one transaction; inside one, a
   * savepoint, released when the statement needs what it filled (the scan's temporary table).
   */
  async runPlanned(run: InternalRunner, plan: ColumnstorePlan, idle: boolean, onRows?: (rows: DirectRows) => void, values?: (oid: number) => ValueOf, guarded = false): Promise<string | null | undefined> {
    this.reuse.unguard();
    // Outside a transaction block, an aggregate or last point only reads (the catalog and constants,
    // one statement each): a failure aborts nothing and there is nothing to undo, so the BEGIN and
    // ROLLBACK round trips are skipped. No other session can run in between (this one holds the backend).
    if (idle && !plan.scan && !plan.explain) {
      if (plan.aggregate) {
        // Rows Orbit makes from the partials (no final statement); otherwise the final statement,
        // reused while its inputs are.
        if (onRows && plan.aggregate.direct) return this.aggregate(run, plan.aggregate, undefined, { onRows: (rows) => onRows({ ...rows, describes: true }), ...(values ? { values } : {}) }, run.settingsKey);
        return this.reuse.aggregate(run, plan.aggregate, guarded);
      }
      if (plan.lastPoint) {
        // Without reuse of results, every answer is a first one: its rows made here when they can
        // be (one round trip; with reuse, the candidates table kept for later answers instead).
        if (onRows && plan.lastPoint.output && !this.store.reuseResults && plan.lastPoint.filters.length === 0) {
          const made = await lastPointRows(this.store, run, plan.lastPoint, values, this.facts, run.settingsKey);
          if (!made) return undefined;
          if (made.rows && made.sql !== undefined) {
            onRows(made.rows);
            return made.sql;
          }
          const candidates = await lastPointCandidates(this.store, plan.lastPoint, made.keys);
          return candidates === undefined ? undefined : plan.lastPoint.finalSql(candidates ?? undefined);
        }
        return this.reuse.lastPoint(run, plan.lastPoint, guarded);
      }
    }
    // A scan whose rows may be printed (outside a transaction block) reads only, until it needs its
    // temporary table: the transaction (BEGIN, TRUNCATE, COMMIT: three round trips) is opened then,
    // and not at all for printed rows.
    const lazy = idle && plan.scan !== undefined && onRows !== undefined && plan.explain === undefined;
    let opened = !lazy;
    if (opened) await must(run, idle ? 'BEGIN' : 'SAVEPOINT orbit_internal');
    let keep = false;
    let created: number | undefined;
    try {
      let sql: string | null | undefined;
      let lines: string[] = [];
      if (plan.scan) {
        const id = plan.scan.table.id;
        const temp = `pg_temp.orbit_scan_${id}`;
        const t = plan.scan.table;
        const prepareTemp = async (): Promise<boolean> => {
          if (!opened) {
            await must(run, 'BEGIN');
            opened = true;
          }
          const reuse = idle && this.scanTables.has(id);
          const owner = cacheRunner(run);
          // Granted only when the session runs as another role than the table's owner (again at a
          // reuse: the role may have changed since): a GRANT costs each time (the extension's
          // GRANT event triggers), and a scan in a transaction block makes its table each time.
          const grant = owner !== run ? `; ${grantCacheSql(temp)}` : '';
          const ready = await owner.sql(
            reuse ? `TRUNCATE ${temp}${grant}` : `DROP TABLE IF EXISTS ${temp}; CREATE TEMP TABLE orbit_scan_${id} (LIKE ${quoteIdent(t.schema)}.${quoteIdent(t.name)} INCLUDING GENERATED); ` +
                  // Columns the statement does not name are left NULL.
                  `ALTER TABLE ${temp} ${t.columns.map((c) => `ALTER COLUMN ${quoteIdent(c.name)} DROP NOT NULL`).join(', ')}${grant}`,
          );
          if (!reuse && idle) created = id;
          // No temporary table (no TEMP privilege, …): the general path.
          return !firstError(ready);
        };
        const direct = onRows !== undefined && plan.explain === undefined;
        const stats = lazy ? await runScan(this.store, run, plan.scan, temp, direct && (values ?? true), prepareTemp) : (await prepareTemp()) ? await runScan(this.store, run, plan.scan, temp, direct && (values ?? true)) : undefined;
        if (stats?.rows && direct) {
          // The statement runs as written (it then reads the rowstore's rows only); the caller
          // appends the compressed rows to its result.
          onRows(stats.rows);
          sql = null;
        } else if (stats) {
          sql = plan.scan.finalSql(temp);
          lines = scanLines(plan.scan, stats, temp, plan.explain?.timing ?? false);
        }
      } else if (plan.aggregate) {
        // ORDER BY the bucket LIMIT n: the kernels read only the buckets that can reach the result.
        const limited = plan.aggregate.bucketOrder ? await boundBucketLimit(this.store, this.kernels, run, plan.aggregate, undefined, this.facts) : undefined;
        sql = await this.aggregate(run, plan.aggregate, limited, onRows && !plan.explain ? { onRows, ...(values ? { values } : {}) } : undefined);
        if (sql !== undefined && plan.explain) lines = await aggregateLines(this.store, run, plan.aggregate, limited);
      } else if (plan.lastPoint) {
        sql = await runLastPoint(this.store, run, plan.lastPoint);
        if (sql !== undefined && plan.explain) lines = lastPointLines(plan.lastPoint);
      }
      if (typeof sql === 'string' && plan.explain) {
        const out = await run.sql(`EXPLAIN ${plan.explain.sql} ${sql}`);
        // PostgreSQL's own error (of the statement it would run) comes from the general path.
        sql = firstError(out) ? undefined : explainResultSql(lines, textRows(out).map((r) => r[0] ?? ''), quoteLiteral);
      }
      keep = sql !== undefined && plan.scan !== undefined && plan.explain === undefined;
      return sql;
    } finally {
      if (!opened) {
        // Nothing was written: no transaction to end.
      } else if (idle) {
        await run.sql(keep ? 'COMMIT' : 'ROLLBACK');
        if (keep && created !== undefined) this.scanTables.add(created);
      } else await run.sql(keep ? 'RELEASE SAVEPOINT orbit_internal' : 'ROLLBACK TO SAVEPOINT orbit_internal; RELEASE SAVEPOINT orbit_internal');
    }
  }

  /**
   * An aggregate in the kernels; ORDER BY the bucket LIMIT n first bounds the buckets they read
   * (session/columnstore/bucket-limit.ts), whose query also evaluates the kernels' inputs.
   * `quietKey`: outside a transaction block, the session's settings key (runAggregate).
   */
  async aggregate(run: InternalRunner, plan: AggregatePlan, limited?: BucketBound, direct?: DirectRowsTarget, quietKey?: string): Promise<string | undefined> {
    limited ??= plan.bucketOrder ? await boundBucketLimit(this.store, this.kernels, run, plan, undefined, this.facts) : undefined;
    if (limited?.evaluated) return runAggregate(this.store, this.kernels, run, plan, limited.evaluated, direct);
    return runAggregate(this.store, this.kernels, run, limited?.plan ?? plan, undefined, direct, this.facts, quietKey);
  }
}
