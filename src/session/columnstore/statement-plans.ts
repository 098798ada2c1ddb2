/**
 * @module session/columnstore/statement-plans
 * What a statement needs from the columnstore before it runs (docs/design/columnstore.md): which
 * hypertables have the columnstore enabled, their compressed chunks and the views over them (loaded
 * from the catalog when stale), and per statement a `ColumnstorePlan` — its text rewritten to read
 * the cache tables too (sql/rewrite/columnstore-reads.ts), the compressed chunks it writes, or one of
 * the planner's fast-path shapes (sql/planner/). Reads Orbit cannot make see compressed rows are
 * refused with 0A000 here, those of SQL that PostgreSQL runs by itself (functions, procedures, DO
 * blocks, triggers) by function-guard.ts.
 */
import { OrbitError } from '../../errors.js';
import type { ClassifiedStatement } from '../../sql/classify.js';
import { planAggregate } from '../../sql/planner/aggregates.js';
import type { AggregatePlan } from '../../sql/planner/aggregate-plan.js';
import type { PlannerTable } from '../../sql/planner/table.js';
import { timeFilters, writeFilters, type ConstantFilter } from '../../sql/planner/filters.js';
import { deparseExpr, isConstant, visit } from '../../sql/planner/expressions.js';
import { kind, type Fields, type Node } from '../../sql/rewrite/ast.js';
import { planLastPoint, type LastPointPlan } from '../../sql/planner/last-point.js';
import { explainOptions, type ExplainOptions } from '../../sql/planner/explain.js';
import { planScan, type ScanPlan } from '../../sql/planner/scan.js';
import { namesSystemColumn, readsOnly, rewriteColumnstoreReads, type ColumnstoreTable } from '../../sql/rewrite/columnstore-reads.js';
import { SqlState } from '../../sqlstate.js';
import { addsUniqueIndex } from './unique-indexes.js';
import { validatedConstraint } from './validated-constraints.js';
import { mayCheckRows } from './unchecked-rows.js';
import { INSTALLED_SQL } from '../hypertable-routing.js';
import { firstError, jsonRows, textRows, type InternalRunner } from '../internal-sql.js';
import { FunctionGuard, type CompressedLookup, type RouteRow } from './function-guard.js';
import { FUNCTION_NAMES_SQL, ROUTES_QUERY } from './function-guard-sql.js';
import { executedName, ExecutedStatements } from './executed-statements.js';
import { quoteLiteral } from '../settings.js';
import { RelationColumns } from './relation-columns.js';

/** `orderBy`: the columns of the compression settings' ORDER BY (time when unset); `rls`: row-level security is enabled on it. */
type TableInfo = PlannerTable & { compressed: boolean; unique: boolean; orderBy: string[]; rls: boolean };

interface Metadata {
  tables: TableInfo[];
  chunks: string[];
  views: string[];
  functions: string[] | null;
  triggered: string[] | null;
  viewCalls: Array<[string, string, string]> | null;
  /** Objects may run user functions for statements not naming them: `ROUTES_QUERY` is read. */
  routed: boolean | null;
}

/** The columnstore hypertables of a backend as the catalog last said, and the plans made from them. */
export class StatementPlanner {
  private stale = true;
  private tables = new Map<string, TableInfo[]>();
  /** Per search key (InternalRunner.searchKey), where unqualified hypertable names resolve (null: to no hypertable). */
  private readonly resolutions = new Map<string, Map<string, string | null>>();
  /** Those of the session whose statements are planned now (set by `load`). */
  private resolved: Map<string, string | null> | undefined;
  /** Names of compressed chunk tables (read by name: refused). */
  private compressedChunks = new Set<string>();
  /** Views (and materialized views) over hypertables with compressed chunks. */
  private views = new Set<string>();
  /** Aggregate and last-point plans by parse tree, valid while `tables` and the name resolutions are those they were made from. */
  private readonly plans = new WeakMap<Fields, { tables: Map<string, TableInfo[]>; resolved: Map<string, string | null> | undefined; aggregate?: AggregatePlan; lastPoint?: LastPointPlan }>();
  /** Some hypertable has chunks in the columnstore. */
  private anyCompressed = false;
  /** What EXECUTEs run, as the catalog says (executed-statements.ts). */
  private readonly executed = new ExecutedStatements();
  /** Calls of functions whose SQL reads compressed hypertables (function-guard.ts). */
  private readonly guard = new FunctionGuard(this.executed);
  /** The columns of relations next to whole-row references, for the statements planned now (relation-columns.ts). */
  private readonly relationColumns = new RelationColumns();

  /** Some hypertable had compressed chunks when the metadata was last read: the function guard checks statements. */
  get guarding(): boolean {
    return this.anyCompressed;
  }

  /** After anything that may have changed the columnstore hypertables: loaded again at the next `load`. */
  forget(): void {
    this.stale = true;
    this.executed.forget();
  }

  /** Whether `name` is a hypertable with the columnstore enabled, in some schema (as last loaded). */
  namesHypertable(name: string): boolean {
    return this.tables.has(name);
  }

  /** Statements about to run or that ran (their new functions' names, prepared statements). */
  note(statements: readonly ClassifiedStatement[]): void {
    this.guard.note(statements);
    this.executed.note(statements);
  }

  /**
   * Loads which hypertables have the columnstore enabled (when stale) and, while hypertables have
   * compressed chunks, what the EXECUTEs of `statements` run and the definitions of the user's
   * functions when they call some.
   */
  async load(run: InternalRunner, statements: readonly ClassifiedStatement[] = []): Promise<void> {
    await this.loadMetadata(run);
    this.guard.expect(statements);
    await this.resolve(run, statements);
    if (!this.anyCompressed) return;
    await this.relationColumns.load(run, statements, (name) => this.tables.has(name), this.lookup);
    await this.executed.load(run, statements);
    if (statements.some((s) => this.guard.concerns(s))) await this.guard.load(run);
  }

  private async loadMetadata(run: InternalRunner): Promise<void> {
    if (!this.stale) return;
    // A failing lookup would abort the client's transaction block: ask only once the extension is there.
    const installed = await run.sql(INSTALLED_SQL);
    if (textRows(installed).length === 0) {
      this.tables = new Map();
      this.compressedChunks = new Set();
      this.views = new Set();
      this.anyCompressed = false;
      this.guard.forgetNames();
      this.stale = firstError(installed) !== undefined;
      return;
    }
    // The function names (costly to read) only matter while some hypertable has compressed chunks:
    // read with the metadata when the last read found some, after it when this one finds some.
    const withNames = this.anyCompressed;
    const sql = withNames ? METADATA_WITH_NAMES_SQL : METADATA_SQL;
    const out = await run.sql(sql);
    const error = firstError(out);
    const json = error ? undefined : jsonRows<Metadata>(out)[0];
    this.tables = new Map();
    this.resolutions.clear();
    this.resolved = undefined;
    this.compressedChunks = new Set(json?.chunks ?? []);
    this.views = new Set(json?.views ?? []);
    for (const t of json?.tables ?? []) {
      const list = this.tables.get(t.name) ?? [];
      list.push(t);
      this.tables.set(t.name, list);
    }
    this.anyCompressed = json?.tables?.some((t) => t.compressed) ?? false;
    // A failed lookup (aborted transaction) is retried at the next statement.
    this.stale = error !== undefined;
    if (!this.anyCompressed) return this.guard.forgetNames();
    const names = withNames ? json : await this.readGuardFacts<Pick<Metadata, 'functions' | 'triggered' | 'viewCalls' | 'routed'>>(run, `SELECT json_build_object(${FUNCTION_NAMES_SQL})`);
    const routes = names?.routed ? ((await this.readGuardFacts<RouteRow[] | null>(run, ROUTES_QUERY)) ?? []) : [];
    this.guard.setNames(names?.functions ?? [], names?.triggered ?? [], names?.viewCalls ?? [], routes);
  }

  /**
   * What the function guard needs beyond the metadata (`FUNCTION_NAMES_SQL` read alone, `ROUTES_QUERY`):
   * a failed read is the statement's error (nothing could be checked).
   */
  private async readGuardFacts<T>(run: InternalRunner, sql: string): Promise<T | undefined> {
    const out = await run.sql(sql);
    const error = firstError(out);
    if (error) {
      this.stale = true;
      throw new OrbitError(error.C ?? SqlState.internal_error, error.M ?? 'could not read the user\'s functions', error.D ? { detail: error.D } : {});
    }
    return jsonRows<T>(out)[0];
  }

  /** Whether any statement may touch the columnstore (cheap test before loading). */
  mayConcern(statements: readonly ClassifiedStatement[]): boolean {
    // What earlier statements of the string create reaches later ones (function-guard.ts).
    this.guard.expect(statements);
    // A check of rows PostgreSQL would make without the compressed ones (unchecked-rows.ts) may name no hypertable.
    if ((this.stale || this.anyCompressed) && statements.some(mayCheckRows)) return true;
    if (this.stale) return statements.some((s) => s.relations.length > 0 || executedName(s) !== undefined || this.guard.mayCall(s));
    return statements.some(
      (s) =>
        (executedName(s) !== undefined && this.tables.size > 0) ||
        s.relations.some((r) => this.tables.has(r.name) || this.views.has(r.name) || this.compressedChunks.has(r.name)) ||
        (this.anyCompressed && this.guard.concerns(s)),
    );
  }

  /**
   * The hypertables a reference may name: those of `schema`, or for an unqualified name the one
   * PostgreSQL resolves it to under the session's search_path (`resolve`; none when it resolves to
   * another relation), or — not resolved — every one of that name.
   */
  private candidates(schema: string | undefined, name: string): TableInfo[] {
    const list = this.tables.get(name) ?? [];
    if (schema !== undefined) return list.filter((t) => t.schema === schema);
    const resolved = this.resolved?.get(name);
    return resolved === undefined ? list : list.filter((t) => t.schema === resolved);
  }

  private lookup = (schema: string | undefined, name: string): ColumnstoreTable | undefined => this.candidates(schema, name)[0];

  /**
   * For the session whose statements are planned next: the schema of each unqualified hypertable
   * name they use, as PostgreSQL resolves it (to_regclass under the session's search_path and
   * role), kept per search key until the metadata is read again (DDL). Without it a name would be
   * taken for the first hypertable of that name in any schema (`m` read `a.m` under
   * `search_path = b`, and a DELETE of `b.m`'s compressed rows was lost).
   */
  private async resolve(run: InternalRunner, statements: readonly ClassifiedStatement[]): Promise<void> {
    const key = run.searchKey;
    let map = key === undefined ? undefined : this.resolutions.get(key);
    if (!map) {
      map = new Map();
      if (key !== undefined) this.resolutions.set(key, map);
    }
    this.resolved = map;
    const known = map;
    const missing = [...new Set(statements.flatMap((s) => s.relations.filter((r) => r.schema === undefined && this.tables.has(r.name) && !known.has(r.name)).map((r) => r.name)))];
    if (missing.length === 0) return;
    const sql = `SELECT json_object_agg(n, (SELECT ns.nspname FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace WHERE c.oid = to_regclass(quote_ident(n)))) FROM unnest(ARRAY[${missing.map(quoteLiteral).join(', ')}]::text[]) n`;
    const out = await run.sql(sql);
    // Not resolved (an aborted transaction, whose statement fails anyway): every table of the name.
    if (firstError(out)) return;
    const json = jsonRows<Record<string, string | null>>(out)[0] ?? {};
    for (const n of missing) known.set(n, json[n] ?? null);
  }

  /**
   * What a statement needs before it runs: its rewritten text (undefined: run as is), the
   * hypertables whose cache tables it reads, and those whose compressed chunks it writes.
   * Throws 0A000 for reads Orbit cannot make see compressed rows.
   */
  plan(statement: ClassifiedStatement, fastPath = false): ColumnstorePlan {
    // Only statements that may call, trigger or run user SQL are walked (concerns: from the classifier's lists).
    if (this.anyCompressed && this.guard.concerns(statement)) this.guard.check(statement, this.compressedReads);
    if (statement.type === 'CreateTableAsStmt' && statement.node.objtype === 'OBJECT_MATVIEW') return this.planMaterializedView(statement);
    for (const r of statement.relations) {
      if (this.views.has(r.name) && statement.type !== 'DropStmt') {
        throw new OrbitError(SqlState.feature_not_supported, `reading view "${r.name}" over a hypertable with chunks in the columnstore is not supported by Orbit`, {
          hint: 'Query the hypertable directly, or convert its chunks back to the rowstore (decompress_chunk).',
        });
      }
      // PostgreSQL would empty the chunk's table only: its batches, the chunk's rows, would stay.
      if (this.compressedChunks.has(r.name) && statement.type === 'TruncateStmt') {
        throw new OrbitError(SqlState.feature_not_supported, `truncating chunk "${r.name}" while it is in the columnstore is not supported by Orbit`, {
          hint: 'Drop the chunk (drop_chunks), truncate the hypertable, or convert the chunk back to the rowstore (decompress_chunk) first.',
        });
      }
      if (this.compressedChunks.has(r.name) && isRead(statement)) {
        throw new OrbitError(SqlState.feature_not_supported, `reading chunk "${r.name}" by name while it is in the columnstore is not supported by Orbit`, {
          hint: 'Query the hypertable, or convert the chunk back to the rowstore (decompress_chunk).',
        });
      }
    }
    this.refuseNestedWrites(statement);
    const secured = this.rowSecured(statement);
    if (secured) {
      throw new OrbitError(SqlState.feature_not_supported, `reading hypertable "${secured.name}" with row-level security and chunks in the columnstore is not supported by Orbit`, {
        hint: 'Orbit reads rows in the columnstore without applying policies. Disable row-level security on the hypertable, or convert its chunks back to the rowstore (decompress_chunk).',
      });
    }
    const writes: WriteTarget[] = [];
    const target = statement.node.relation as { schemaname?: string; relname?: string } | undefined;
    const t = target?.relname ? this.candidates(target.schemaname, target.relname).find((x) => x.compressed) : undefined;
    if (t && (statement.type === 'UpdateStmt' || statement.type === 'DeleteStmt' || statement.type === 'MergeStmt')) {
      // With a unique index, an UPDATE's or MERGE's new rows could conflict with rows of any batch.
      const functions = new Set<string>();
      const filters = t.unique && statement.type !== 'DeleteStmt' ? undefined : writeFilters(statement.type, statement.node, t, functions);
      writes.push(filters ? { ...t, filters, functions } : t);
    }
    // Rows inserted where compressed rows may conflict with them (a unique index, ON CONFLICT): the
    // compressed chunks their times fall in are decompressed first, or all of them when the times
    // are not constants Orbit can read off the statement (INSERT … SELECT, COPY).
    const inserting = (statement.type === 'InsertStmt' && (t?.unique || statement.node.onConflictClause !== undefined)) || (statement.type === 'CopyStmt' && statement.node.is_from && t?.unique);
    if (t && inserting) {
      const times = statement.type === 'InsertStmt' ? insertedTimes(statement.node, t) : undefined;
      writes.push(times ? { ...t, times, inserting: true } : { ...t, inserting: true });
    }
    if (statement.type === 'AlterTableStmt' || statement.type === 'RenameStmt') {
      const rel = statement.relations[0];
      const t = rel ? this.lookup(rel.schema, rel.name) : undefined;
      if (t && this.tables.get(t.name)?.find((x) => x.id === t.id)?.compressed && changesColumns(statement)) {
        throw new OrbitError(SqlState.feature_not_supported, `renaming or changing the type of columns of hypertable "${t.name}" while it has chunks in the columnstore is not supported by Orbit`, {
          hint: 'Convert its chunks back to the rowstore (decompress_chunk) first.',
        });
      }
      const info = t && this.tables.get(t.name)?.find((x) => x.id === t.id);
      // What the statement checks against compressed rows is checked before it runs
      // (validatedConstraintTarget), but for an exclusion constraint, whose check Orbit cannot make.
      if (info?.compressed && addsUniqueIndex(statement) === 'exclusion') {
        throw new OrbitError(SqlState.feature_not_supported, `an exclusion constraint on hypertable "${info.name}" while it has chunks in the columnstore is not supported by Orbit`, {
          detail: 'PostgreSQL would check the existing rows, and those in the columnstore are not in its tables.',
          hint: 'Convert the chunks back to the rowstore (decompress_chunk) first.',
        });
      }
      // PostgreSQL would check the chunk's table only, which holds none of its compressed rows.
      const chunk = statement.type === 'AlterTableStmt' ? (statement.node.relation as { relname?: string } | undefined)?.relname : undefined;
      const validated = chunk !== undefined && this.compressedChunks.has(chunk) ? validatedConstraint(statement) : undefined;
      if (validated) {
        throw new OrbitError(SqlState.feature_not_supported, `${validated} on chunk "${chunk}" while it is in the columnstore is not supported by Orbit`, {
          hint: 'Alter the hypertable (its chunks get the constraint, checked against the compressed rows), or convert the chunk back to the rowstore (decompress_chunk) first.',
        });
      }
      if (info && statement.type === 'AlterTableStmt') checkColumnChanges(statement, info);
    }
    // EXECUTE of a statement PREPAREd (and rewritten) earlier, alone or under EXPLAIN / CREATE TABLE
    // AS: its cache tables may be stale.
    if (executedName(statement) !== undefined) {
      // A prepared UPDATE/DELETE/MERGE (or conflicting INSERT) writes the compressed chunks of its
      // target: they are decompressed whole (its parameters are unknown here).
      const targets = this.anyCompressed ? this.executed.of(statement)!.flatMap((s) => this.preparedWriteTargets(s)) : [];
      return { reads: [...this.tables.values()].flat(), writes: [...writes, ...targets] };
    }
    if (fastPath) {
      const fast = this.planFast(statement);
      if (fast) return { reads: [], writes, ...fast };
    }
    const rewritten = rewriteColumnstoreReads(statement.type, statement.node, this.lookup, this.relationColumns.columnsOf);
    const reads = [...(rewritten?.tables ?? [])];
    // A lone SELECT of one hypertable with time bounds only needs the compressed chunks they reach.
    const only = reads.length === 1 ? this.tables.get(reads[0]!.name)?.find((t) => t.id === reads[0]!.id) : undefined;
    const filters = only && statement.relations.filter((r) => r.name === only.name).length === 1 ? timeFilters(statement.type, statement.node, only) : undefined;
    return {
      ...(rewritten ? { sql: rewritten.sql } : {}),
      reads,
      writes,
      ...(filters && only ? { ranges: new Map([[only.id, { table: only, filters }]]) } : {}),
    };
  }

  /**
   * A hypertable with row-level security and compressed chunks that `s` reads (any reference but
   * the target of a plain INSERT or of COPY FROM, which add rows only): Orbit's reads of the
   * batches would show every row to every role.
   */
  private rowSecured(s: ClassifiedStatement): TableInfo | undefined {
    if (!isRead(s) || (s.type === 'CopyStmt' && s.node.is_from)) return undefined;
    const target = s.type === 'InsertStmt' && !s.node.onConflictClause ? (s.node.relation as { schemaname?: string; relname?: string } | undefined) : undefined;
    let added = false;
    for (const r of s.relations) {
      if (!added && target && r.name === target.relname && r.schema === target.schemaname) {
        added = true;
        continue;
      }
      const t = this.candidates(r.schema, r.name).find((x) => x.compressed && x.rls);
      if (t) return t;
    }
    return undefined;
  }

  /** What reading or inserting into a relation a function names reads of the columnstore (function-guard.ts). */
  private readonly compressedReads: CompressedLookup = {
    reads: (ref) => {
      if (this.tables.get(ref.name)?.some((t) => t.compressed && (ref.schema === undefined || t.schema === ref.schema))) return `hypertable "${ref.name}"`;
      if (this.views.has(ref.name)) return `view "${ref.name}" over a hypertable`;
      if (this.compressedChunks.has(ref.name)) return `chunk "${ref.name}"`;
      return undefined;
    },
    // A plain INSERT adds rows to the rowstore; with a unique index they may conflict with compressed rows.
    insertReads: (ref) => {
      if (ref.dynamic) {
        const unique = [...this.tables.values()].flat().find((t) => t.compressed && t.unique);
        return unique && `hypertable "${unique.name}" (a table named at run time, which may be it, has a unique index)`;
      }
      const unique = this.tables.get(ref.name)?.some((t) => t.compressed && t.unique && (ref.schema === undefined || t.schema === ref.schema));
      return unique || this.views.has(ref.name) ? `hypertable "${ref.name}" (its unique index)` : undefined;
    },
  };

  /**
   * CREATE MATERIALIZED VIEW: PostgreSQL fills it by itself, and a materialized view cannot read
   * the general path's temporary cache tables: refused over a hypertable with compressed chunks,
   * run as written otherwise (there are no compressed rows to show it).
   */
  private planMaterializedView(statement: ClassifiedStatement): ColumnstorePlan {
    const view = ((statement.node.into as Fields | undefined)?.rel as { relname?: string } | undefined)?.relname ?? '';
    for (const r of statement.relations) {
      if (this.compressedReads.reads(r)) {
        throw new OrbitError(SqlState.feature_not_supported, `materialized view "${view}" over ${this.compressedReads.reads(r)} with chunks in the columnstore is not supported by Orbit`, {
          hint: 'PostgreSQL fills a materialized view by itself and does not see rows in the columnstore. Use CREATE TABLE … AS (Orbit fills it with them), or convert the chunks back to the rowstore (decompress_chunk) first.',
        });
      }
    }
    return { reads: [], writes: [] };
  }

  /**
   * The planner's shapes over compressed chunks (statements run at once only): aggregates in the
   * kernels, last points, scans of the batches a WHERE can match; and EXPLAIN of those.
   */
  private planFast(statement: ClassifiedStatement): Pick<ColumnstorePlan, 'aggregate' | 'lastPoint' | 'scan' | 'explain'> | undefined {
    const compressed = (schema: string | undefined, name: string) => this.candidates(schema, name).find((t) => t.compressed);
    if (readsOnly(statement.node, compressed) || namesSystemColumn(statement.node)) return undefined;
    if (statement.type === 'ExplainStmt') {
      const explain = explainOptions(statement.node);
      const query = statement.node.query as Node | undefined;
      const type = query ? Object.keys(query)[0] : undefined;
      if (!explain || !type) return undefined;
      const inner = this.planFast({ ...statement, type, node: query![type] as Fields });
      return inner && !inner.explain ? { ...inner, explain } : undefined;
    }
    // Parsed statements are shared by text (session/statement-cache.ts), so a plan is kept with its
    // parse tree for as long as the hypertables' metadata it was made from (`load` replaces it).
    let cached = this.plans.get(statement.node);
    if (cached?.tables !== this.tables || cached.resolved !== this.resolved) {
      const aggregate = planAggregate(statement.type, statement.node, compressed);
      const lastPoint = aggregate ? undefined : planLastPoint(statement.type, statement.node, compressed);
      cached = { tables: this.tables, resolved: this.resolved, ...(aggregate ? { aggregate } : {}), ...(lastPoint ? { lastPoint } : {}) };
      this.plans.set(statement.node, cached);
    }
    if (cached.aggregate) return { aggregate: cached.aggregate };
    if (cached.lastPoint) return { lastPoint: cached.lastPoint };
    const scan = planScan(statement.type, statement.node, compressed);
    // The hypertable named once (nothing else of the statement reads it), and no other hypertable
    // with compressed chunks in subqueries (only the general path shows those their rows).
    const others = statement.relations.filter((r) => r.name !== scan?.table.name);
    if (scan && statement.relations.length - others.length === 1 && !others.some((r) => this.tables.get(r.name)?.some((t) => t.compressed))) return { scan };
    return undefined;
  }

  /**
   * The hypertable with chunks in the columnstore a statement adds a unique index to (its rows in
   * the batches are then checked first: unique-indexes.ts). Refused with 0A000 where they cannot be:
   * an exclusion constraint, CONCURRENTLY (it cannot run in the trial's transaction), a unique
   * index on a compressed chunk by name.
   */
  uniqueIndexTarget(statement: ClassifiedStatement): TableInfo | undefined {
    const kind = addsUniqueIndex(statement);
    const rel = statement.node.relation as { schemaname?: string; relname?: string } | undefined;
    if (!kind || !rel?.relname) return undefined;
    const refuse = (what: string) =>
      new OrbitError(SqlState.feature_not_supported, `${what} is not supported by Orbit`, { hint: 'Convert the chunks back to the rowstore (decompress_chunk) first.' });
    if (this.compressedChunks.has(rel.relname)) throw refuse(`a unique index on chunk "${rel.relname}" while it is in the columnstore`);
    const t = this.candidates(rel.schemaname, rel.relname).find((x) => x.compressed);
    if (!t) return undefined;
    if (kind === 'exclusion') throw refuse(`an exclusion constraint on hypertable "${t.name}" while it has chunks in the columnstore`);
    if (statement.node.concurrent) throw refuse(`CREATE UNIQUE INDEX CONCURRENTLY on hypertable "${t.name}" while it has chunks in the columnstore`);
    return t;
  }

  /**
   * The hypertable with chunks in the columnstore whose existing rows an ALTER TABLE checks (a
   * CHECK, FOREIGN KEY or NOT NULL constraint added valid, VALIDATE CONSTRAINT, SET NOT NULL): its
   * compressed rows are then checked first (validated-constraints.ts).
   */
  validatedConstraintTarget(statement: ClassifiedStatement): TableInfo | undefined {
    if (!validatedConstraint(statement)) return undefined;
    const rel = statement.node.relation as { schemaname?: string; relname?: string } | undefined;
    const t = rel?.relname ? this.candidates(rel.schemaname, rel.relname).find((x) => x.compressed) : undefined;
    // TimescaleDB's refusals (plan) come before any check of the rows.
    if (t) checkColumnChanges(statement, t);
    return t;
  }

  /**
   * Throws 0A000 for an UPDATE, DELETE or MERGE nested in a statement (a data-modifying WITH, EXPLAIN
   * ANALYZE) whose target is a hypertable with compressed chunks, or such an INSERT where compressed
   * rows may conflict (a unique index, ON CONFLICT): only a statement's own target (and an EXECUTEd
   * one's) has its batches turned back into rows first, so the nested write missed the compressed
   * rows. PREPARE's statement, and one EXPLAIN does not run, write nothing now.
   */
  private refuseNestedWrites(statement: ClassifiedStatement): void {
    if (!this.anyCompressed) return;
    const notRun = statement.type === 'PrepareStmt' || (statement.type === 'ExplainStmt' && explainOptions(statement.node)?.analyze === false);
    const skipped = notRun ? statement.node.query : undefined;
    visit(statement.node, (n) => {
      if (n === skipped) return false;
      const type = kind(n)!;
      if (!['UpdateStmt', 'DeleteStmt', 'MergeStmt', 'InsertStmt'].includes(type)) return;
      const fields = n[type] as Fields;
      const rel = fields.relation as { schemaname?: string; relname?: string } | undefined;
      const t = rel?.relname ? this.candidates(rel.schemaname, rel.relname).find((x) => x.compressed) : undefined;
      if (!t || (type === 'InsertStmt' && !t.unique && fields.onConflictClause === undefined)) return;
      throw new OrbitError(SqlState.feature_not_supported, `a data-modifying WITH writing hypertable "${t.name}" while it has chunks in the columnstore is not supported by Orbit`, {
        hint: 'Run the write as a statement of its own (with RETURNING), or convert the chunks back to the rowstore (decompress_chunk) first.',
      });
    });
  }

  /** The hypertables with compressed chunks a prepared statement writes where compressed rows matter (UPDATE, DELETE, MERGE, a conflicting INSERT). */
  private preparedWriteTargets(s: ClassifiedStatement): TableInfo[] {
    if (executedName(s) !== undefined) return this.executed.of(s)!.flatMap((e) => this.preparedWriteTargets(e));
    if (!['UpdateStmt', 'DeleteStmt', 'MergeStmt', 'InsertStmt'].includes(s.type)) return [];
    const rel = s.node.relation as { schemaname?: string; relname?: string } | undefined;
    const insert = s.type === 'InsertStmt';
    return this.candidates(rel?.schemaname, rel?.relname ?? '').filter((t) => t.compressed && (!insert || t.unique || s.node.onConflictClause !== undefined));
  }
}

/** A hypertable a statement writes; `times`: SQL of the inserted rows' times when known. */
export type WriteTarget = TableInfo & {
  readonly times?: readonly string[];
  /** UPDATE/DELETE/MERGE: comparisons bounding the rows it touches, and the functions they call. */
  readonly filters?: readonly ConstantFilter[];
  readonly functions?: ReadonlySet<string>;
  readonly inserting?: boolean;
};

/**
 * The time of every row of an `INSERT … VALUES` as SQL constants, or undefined when one is not a
 * constant Orbit can read off the statement (then every compressed chunk may be hit).
 */
function insertedTimes(node: Fields, table: TableInfo): string[] | undefined {
  const select = (node.selectStmt as Node | undefined)?.SelectStmt as Fields | undefined;
  const lists = select?.valuesLists as Node[] | undefined;
  if (!lists || select!.withClause) return undefined;
  const cols = (node.cols as Node[] | undefined)?.map((c) => (c.ResTarget as Fields).name as string);
  const index = cols ? cols.indexOf(table.timeColumn) : table.columns.findIndex((c) => c.name === table.timeColumn);
  if (index < 0) return undefined;
  const out: string[] = [];
  for (const row of lists) {
    const expr = ((row.List as Fields | undefined)?.items as Node[] | undefined)?.[index];
    if (!expr || !isConstant(expr)) return undefined;
    out.push(deparseExpr(expr));
  }
  return out;
}

export interface ColumnstorePlan {
  /** The statement rewritten for the cache tables (undefined: as it is). */
  readonly sql?: string;
  readonly reads: readonly ColumnstoreTable[];
  readonly writes: readonly WriteTarget[];
  /** An aggregate the kernels take (then reads/writes are empty). */
  readonly aggregate?: AggregatePlan;
  /** A last-point query answered from the newest batches. */
  readonly lastPoint?: LastPointPlan;
  /** A row-returning read of the batches its WHERE can match. */
  readonly scan?: ScanPlan;
  /** EXPLAIN of the statement that `aggregate`, `lastPoint` or `scan` plans. */
  readonly explain?: ExplainOptions;
  /** Per hypertable read: the time bounds of the rows the statement can see. */
  readonly ranges?: ReadonlyMap<number, { readonly table: PlannerTable; readonly filters: readonly ConstantFilter[] }>;
}

/** The metadata's SELECT, its object left open for the function names (METADATA_WITH_NAMES_SQL). */
const METADATA_FIELDS = `SELECT json_build_object(
  'tables', (SELECT json_agg(json_build_object('id', h.id, 'schema', h.schema_name, 'name', h.table_name,
      'compressed', EXISTS (SELECT FROM _timescaledb_catalog.chunk ch WHERE ch.hypertable_id = h.id AND ch.compressed_chunk_id IS NOT NULL AND NOT ch.dropped),
      'timeColumn', (SELECT d.column_name FROM _timescaledb_catalog.dimension d WHERE d.hypertable_id = h.id AND d.interval_length IS NOT NULL ORDER BY d.id LIMIT 1),
      'segmentBy', coalesce((SELECT s.segmentby FROM _timescaledb_catalog.compression_settings s WHERE s.hypertable_id = h.id), '{}'),
      'orderBy', coalesce((SELECT s.orderby FROM _timescaledb_catalog.compression_settings s WHERE s.hypertable_id = h.id), '{}'),
      'unique', EXISTS (SELECT FROM pg_index i WHERE i.indrelid = h.relid AND i.indisunique),
      'rls', (SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = h.relid),
      'columns', (SELECT json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod), 'typname', t.typname, 'attnum', a.attnum) ORDER BY a.attnum)
        FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = h.relid AND a.attnum > 0 AND NOT a.attisdropped)))
    FROM _timescaledb_catalog.hypertable h WHERE h.compression_state = 1),
  'chunks', (SELECT json_agg(ch.table_name) FROM _timescaledb_catalog.chunk ch WHERE ch.compressed_chunk_id IS NOT NULL AND NOT ch.dropped),
  'views', (WITH RECURSIVE deps(oid) AS (
      SELECT h.relid FROM _timescaledb_catalog.hypertable h
        WHERE EXISTS (SELECT FROM _timescaledb_catalog.chunk ch WHERE ch.hypertable_id = h.id AND ch.compressed_chunk_id IS NOT NULL AND NOT ch.dropped)
      UNION
      SELECT r.ev_class FROM deps JOIN pg_depend d ON d.refobjid = deps.oid AND d.classid = 'pg_rewrite'::regclass
        JOIN pg_rewrite r ON r.oid = d.objid WHERE r.ev_class <> deps.oid)
    SELECT json_agg(c.relname) FROM pg_class c WHERE c.oid IN (SELECT oid FROM deps) AND c.relkind IN ('v', 'm'))`;

const METADATA_SQL = `${METADATA_FIELDS})`;
const METADATA_WITH_NAMES_SQL = `${METADATA_FIELDS}, ${FUNCTION_NAMES_SQL})`;

function isRead(s: ClassifiedStatement): boolean {
  return !['DropStmt', 'TruncateStmt', 'AlterTableStmt', 'RenameStmt', 'IndexStmt', 'CommentStmt', 'GrantStmt', 'VacuumStmt', 'LockStmt'].includes(s.type);
}

/**
 * ALTER TABLE of a hypertable with the columnstore enabled, refused where TimescaleDB refuses it
 * (0A000). DROP COLUMN of a segmentby or orderby column (the batches are cut and ordered by it; the
 * time column is left to PostgreSQL's 42P16). ADD COLUMN with a default other than a literal (or a
 * literal cast to a boolean type, as its parser once made `true`), since a volatile one would make
 * PostgreSQL rewrite the table with a value per row that the batches cannot take; with any
 * constraint but NULL, NOT NULL and DEFAULT (CHECK, UNIQUE, REFERENCES, generated and identity
 * columns); NOT NULL without a default.
 */
function checkColumnChanges(s: ClassifiedStatement, table: TableInfo): void {
  const cmds = (s.node.cmds as Array<{ AlterTableCmd?: Fields }> | undefined) ?? [];
  const refuse = (what: string) => new OrbitError(SqlState.feature_not_supported, `cannot add column with ${what} to a hypertable that has columnstore enabled`);
  for (const c of cmds) {
    const dropped = c.AlterTableCmd?.subtype === 'AT_DropColumn' ? (c.AlterTableCmd.name as string) : undefined;
    if (dropped !== undefined && dropped !== table.timeColumn && (table.segmentBy.includes(dropped) || table.orderBy.includes(dropped))) {
      throw new OrbitError(SqlState.feature_not_supported, 'cannot drop orderby or segmentby column from a hypertable with columnstore enabled');
    }
    const def = c.AlterTableCmd?.subtype === 'AT_AddColumn' ? ((c.AlterTableCmd.def as Node | undefined)?.ColumnDef as Fields | undefined) : undefined;
    if (!def) continue;
    let notNull = def.is_not_null === true;
    let withDefault = false;
    for (const n of (def.constraints as Node[] | undefined) ?? []) {
      const k = n.Constraint as Fields;
      if (k.contype === 'CONSTR_NULL') continue;
      if (k.contype === 'CONSTR_NOTNULL') {
        notNull = true;
        continue;
      }
      if (k.contype !== 'CONSTR_DEFAULT') throw refuse('constraints');
      if (!literalDefault(k.raw_expr as Node)) throw refuse('non-constant default expression');
      withDefault = true;
    }
    if (notNull && !withDefault) throw refuse('NOT NULL constraint without default');
  }
}

/** A literal, or a literal cast to a type whose name contains "bool" (TimescaleDB's test). */
function literalDefault(expr: Node): boolean {
  if ('A_Const' in expr) return true;
  const cast = expr.TypeCast as Fields | undefined;
  if (!cast || !('A_Const' in (cast.arg as Node))) return false;
  const names = ((cast.typeName as Fields).names as Array<{ String?: { sval?: string } }>) ?? [];
  return (names[names.length - 1]?.String?.sval ?? '').includes('bool');
}

/** ALTER TABLE … ALTER COLUMN … TYPE, or RENAME COLUMN. */
function changesColumns(s: ClassifiedStatement): boolean {
  if (s.type === 'RenameStmt') return s.node.renameType === 'OBJECT_COLUMN';
  const cmds = (s.node.cmds as Array<{ AlterTableCmd?: { subtype?: string } }> | undefined) ?? [];
  return cmds.some((c) => c.AlterTableCmd?.subtype === 'AT_AlterColumnType');
}
