/**
 * @module session/columnstore/function-guard
 * Refusals (0A000) of statements that would make PostgreSQL read a hypertable with chunks in the
 * columnstore through SQL Orbit does not see: the body of a function or procedure of the user's
 * (LANGUAGE sql or plpgsql) that a statement calls — in any expression, FROM item or CALL, or run
 * as a trigger of a table the statement writes, or as the job `run_job` runs — or a DO block.
 * PostgreSQL runs that SQL by itself, over the chunk tables, which hold only the rowstore's rows:
 * it would compute on part of the data.
 *
 * A body reads such a hypertable when it names it (or a view over it, or one of its compressed
 * chunks) other than as the target of a plain INSERT into a hypertable without a unique index,
 * calls a user function or procedure that does, writes a table whose trigger function does, or
 * runs SQL Orbit cannot know (EXECUTE of a string not written in the body; refused while any
 * hypertable has chunks in the columnstore). Names are matched as written: an unqualified name
 * matches a hypertable (function) of that name in any schema, so a name that PostgreSQL would
 * resolve elsewhere through search_path is refused too — errs on the side of refusing. Functions
 * of extensions and of the system schemas are exempt.
 *
 * Functions reached without being named — through operators, aggregates, casts, domains, column
 * defaults, constraints, indexes, rules, policies, event triggers (`ROUTES_SQL` in function-guard-sql.ts, `Route`) — are
 * checked as calls when the statement (or a body) uses what reaches them.
 *
 * Cost: the names of the user's functions and of tables with their triggers come with the
 * columnstore metadata (statement-plans.ts) while some hypertable has compressed chunks (the
 * routes too, in one more round trip, when `ROUTED_SQL` says some may exist); definitions are read (`FUNCTIONS_SQL`, one round trip)
 * only when a statement calls one of those names (or is a CALL or DO, or writes such a table) while
 * a hypertable has compressed chunks, and kept with the metadata (read again when it is).
 */
import { OrbitError } from '../../errors.js';
import type { ClassifiedStatement } from '../../sql/classify.js';
import { BUILTIN_FUNCTIONS } from '../../sql/builtin-functions.js';
import { definitionUses, nameOf, statementUses, type NameRef, type SqlUses } from '../../sql/function-bodies.js';
import { CREATES_ROUTES, CREATING, pendingObjects, type Pending } from './pending-objects.js';
import { SqlState } from '../../sqlstate.js';
import { firstError, jsonRows, type InternalRunner } from '../internal-sql.js';
import type { ExecutedStatements } from './executed-statements.js';
import { FUNCTIONS_SQL } from './function-guard-sql.js';

/** Statements that define objects and run none of the SQL they hold. */
const DEFINES = new Set([
  'CreateFunctionStmt',
  'AlterFunctionStmt',
  'ViewStmt',
  'CreateTrigStmt',
  'RuleStmt',
  'CreatePolicyStmt',
  'AlterPolicyStmt',
  'DefineStmt',
  'CreateCastStmt',
  'CommentStmt',
  'DropStmt',
  'CreateStmt',
  'CreateDomainStmt',
  'PrepareStmt',
  'GrantStmt',
  'CreateEventTrigStmt',
]);

/** Statement kinds that evaluate no expression and run no SQL of the user's. */
const INERT_KINDS = new Set(['transaction', 'session', 'listen', 'unlisten', 'notify', 'deallocate', 'prepare']);

/** Statements an event trigger does not fire for: creating, altering or dropping event triggers. */
function eventTriggerStatement(s: ClassifiedStatement): boolean {
  return s.type === 'CreateEventTrigStmt' || s.type === 'AlterEventTrigStmt' || (s.type === 'DropStmt' && s.node.removeType === 'OBJECT_EVENT_TRIGGER');
}

/** Schemas whose functions are the system's or an extension's own. */
function systemSchema(schema: string | undefined): boolean {
  return schema !== undefined && (schema === 'pg_catalog' || schema === 'information_schema' || schema.startsWith('_timescaledb') || schema.startsWith('timescaledb_'));
}

export interface Definition {
  /** '' for a function a statement of the query string creates without naming its schema: any. */
  readonly schema: string;
  readonly name: string;
  readonly procedure: boolean;
  readonly language: string;
  readonly text: string;
  uses?: SqlUses;
}

interface Facts {
  /** By lower-case name. */
  readonly functions: Map<string, Definition[]>;
  /** By table name: the trigger functions (schema, name) of tables of that name in `schema`. */
  readonly triggers: Map<string, Array<{ schema: string; function: NameRef }>>;
  readonly jobs: Map<number, NameRef>;
}

/** Why a body reads compressed rows: what it reads, through which functions. */
interface Finding {
  /** `hypertable "d"`, `view "v"`, … or undefined: SQL Orbit cannot know (`opaque`). */
  readonly reads?: string;
  readonly opaque?: string;
  /** The functions (`function "f"`, …) from the statement's call to the body that reads, outermost first. */
  readonly via: readonly string[];
}

/**
 * An object through which PostgreSQL runs a user function, or reads a compressed hypertable, for
 * statements that do not name it (`ROUTES_SQL`).
 */
export interface Route {
  /**
   * operator: statements naming operator `name`; aggregate: calling aggregate `name`; write:
   * writing table `name`; index: writing or rebuilding (REINDEX, …) its indexes; use: naming relation `name`; any: every statement evaluating
   * expressions (casts, domains, comparison operators: applied without being written); all: every
   * statement but those on event triggers (an event trigger).
   */
  readonly kind: 'operator' | 'aggregate' | 'write' | 'index' | 'use' | 'any' | 'all';
  readonly schema?: string;
  readonly name?: string;
  /** `the default of column "n" of table "d"`, … */
  readonly what: string;
  /** The user function it runs; or */
  readonly function?: NameRef;
  /** the relation it reads itself; or */
  readonly reads?: string;
  /** what it uses, for objects a statement of the query string creates (pending-objects.ts). */
  readonly uses?: SqlUses;
}

/** A row of `ROUTES_SQL`. */
export type RouteRow = readonly [Route['kind'], string | null, string | null, string, string | null, string | null, string | null];

/** The routes of the metadata, by what a statement must use to reach them. */
class Routes {
  readonly operators = new Map<string, Route[]>();
  readonly aggregates = new Map<string, Route[]>();
  readonly writes = new Map<string, Route[]>();
  readonly indexes = new Map<string, Route[]>();
  readonly uses = new Map<string, Route[]>();
  readonly any: Route[] = [];
  readonly all: Route[] = [];

  /** `rows`: the catalog's; `pending`: those statements of the query string create. */
  constructor(rows: readonly RouteRow[], pending: readonly Route[] = []) {
    const routes = rows.map(
      ([kind, schema, name, what, fnSchema, fnName, reads]): Route => ({
        kind,
        what,
        ...(schema !== null ? { schema } : {}),
        ...(name !== null ? { name } : {}),
        ...(fnSchema !== null && fnName !== null ? { function: { schema: fnSchema, name: fnName } } : {}),
        ...(reads !== null ? { reads } : {}),
      }),
    );
    for (const route of [...routes, ...pending]) {
      if (route.kind === 'any' || route.kind === 'all') this[route.kind].push(route);
      else if (route.name !== undefined) {
        const map = { operator: this.operators, aggregate: this.aggregates, write: this.writes, index: this.indexes, use: this.uses }[route.kind];
        map.set(route.name, [...(map.get(route.name) ?? []), route]);
      }
    }
  }

  /** What writing table `ref` reaches: its own objects' and its indexes'. */
  written(ref: NameRef): readonly Route[] {
    return [...Routes.of(this.writes, ref), ...Routes.of(this.indexes, ref)];
  }

  /** The routes of `map` a name reaches (in its schema, if both are known). */
  static of(map: ReadonlyMap<string, readonly Route[]>, ref: NameRef): readonly Route[] {
    if (ref.dynamic) return [...map.values()].flat();
    return (map.get(ref.name) ?? []).filter((r) => ref.schema === undefined || r.schema === undefined || r.schema === ref.schema);
  }
}

/** What a statement's hypertables are, as the planner's metadata says. */
export interface CompressedLookup {
  /** `hypertable "d"` (or `view "v"`, `chunk "c"`) when reading the relation named reads compressed rows. */
  reads(ref: NameRef): string | undefined;
  /** Whether a plain INSERT into the relation needs its compressed rows (a unique index). */
  insertReads(ref: NameRef): string | undefined;
}

export class FunctionGuard {
  /** Lower-case names of the user's functions (metadata), plus those created since. */
  private names = new Set<string>();
  /** `names` were read (they are only while some hypertable has compressed chunks: `forgetNames`). */
  private namesRead = false;
  /** Names of tables with triggers calling user functions. */
  private triggered = new Set<string>();
  /** By view name: the user functions it calls (itself or through views it reads). */
  private viewCalls = new Map<string, NameRef[]>();
  /** Objects running user functions for statements that do not name them (`ROUTES_SQL`), and those of `pending`. */
  private routes = new Routes([]);
  /** The catalog's routes. */
  private routeRows: readonly RouteRow[] = [];
  /**
   * What the statements of the query string being planned create (`expect`), and the statement
   * whose view `routes` and `definitions` give now (`scope`: what statements before it create).
   */
  private pending:
    | { readonly statements: readonly ClassifiedStatement[]; readonly definitions: ReadonlyArray<Pending<Definition>>; readonly routes: ReadonlyArray<Pending<Route>>; at: number; byName: Map<string, Definition[]> }
    | undefined;
  /** A statement that may have created such objects ran since the metadata was read (`CREATES_ROUTES`). */
  private created = false;
  private facts: Facts | undefined;
  private readonly findings = new Map<Definition, Finding | null>();
  private readonly uses = new WeakMap<object, SqlUses>();

  /** `executed`: what an EXECUTE runs (read before `concerns` and `check` see it). */
  constructor(private readonly executed: ExecutedStatements) {}

  /** The metadata's names (`FUNCTION_NAMES_SQL`) were read anew: definitions read before are dropped. */
  setNames(functions: readonly string[], triggered: readonly string[], viewCalls: ReadonlyArray<readonly [string, string, string]>, routes: readonly RouteRow[]): void {
    this.routeRows = routes;
    this.routes = new Routes(routes);
    this.pending = undefined;
    this.created = false;
    // Aggregates are called by name: calls of theirs are not built-in ones.
    this.names = new Set([...functions, ...this.routes.aggregates.keys()]);
    this.namesRead = true;
    this.triggered = new Set(triggered);
    this.viewCalls = new Map();
    for (const [view, schema, name] of viewCalls) this.viewCalls.set(view, [...(this.viewCalls.get(view) ?? []), { schema, name }]);
    this.facts = undefined;
    this.findings.clear();
  }

  /**
   * The metadata was read without the names: no hypertable has compressed chunks, so there is
   * nothing to guard until the metadata is read again (`mayCall` then assumes any call may be the user's).
   */
  forgetNames(): void {
    this.setNames([], [], [], []);
    this.namesRead = false;
  }

  /**
   * The statements of one query string, about to be planned (before any runs): what earlier ones
   * create is not in the catalog read before them, so it is taken from their text
   * (pending-objects.ts) until the next statements are expected or the metadata is read again.
   */
  expect(statements: readonly ClassifiedStatement[]): void {
    if (this.pending?.statements === statements) return;
    const creating = statements.length > 1 && statements.some((s) => CREATING.has(s.type));
    if (!creating && !this.pending) return;
    if (!creating) {
      this.pending = undefined;
      this.routes = new Routes(this.routeRows);
      return;
    }
    const { definitions, routes } = pendingObjects(statements);
    this.pending = { statements, definitions, routes, at: -1, byName: new Map() };
    // Until a statement is checked (`scope`), all of them: whether the string concerns the guard.
    this.scopeAt(statements.length);
    for (const name of [...this.pending.byName.keys(), ...this.routes.aggregates.keys()]) this.names.add(name);
  }

  /** `routes` and the pending definitions as `s` sees them: what statements before it create. */
  private scope(s: ClassifiedStatement): void {
    if (!this.pending) return;
    const at = this.pending.statements.indexOf(s);
    this.scopeAt(at < 0 ? this.pending.statements.length : at);
  }

  private scopeAt(at: number): void {
    const pending = this.pending!;
    if (pending.at === at) return;
    pending.at = at;
    // Findings depend on the definitions a statement sees.
    this.findings.clear();
    pending.byName = new Map();
    for (const { at: created, object: d } of pending.definitions) {
      if (created < at) pending.byName.set(d.name.toLowerCase(), [...(pending.byName.get(d.name.toLowerCase()) ?? []), d]);
    }
    this.routes = new Routes(this.routeRows, pending.routes.filter((r) => r.at < at).map((r) => r.object));
  }

  /** Statements about to run create functions: their names count as the user's until the metadata is read again. */
  note(statements: readonly ClassifiedStatement[]): void {
    for (const s of statements) {
      if (CREATES_ROUTES.has(s.type)) this.created = true;
      if (s.type !== 'CreateFunctionStmt' && !(s.type === 'RenameStmt' && s.node.renameType === 'OBJECT_FUNCTION')) continue;
      const name = s.type === 'RenameStmt' ? (s.node.newname as string | undefined) : nameOf(s.node.funcname)?.name;
      if (name) this.names.add(name.toLowerCase());
    }
  }

  /**
   * Before the metadata is read: whether a statement may call a function of the user's (a name
   * not built in, or one the user defined; any name when the names were not read), or is a CALL or
   * DO. `false` needs no catalog lookup.
   */
  mayCall(s: ClassifiedStatement): boolean {
    this.scope(s);
    // Objects reached without being named may be unknown (not read, or created since): any of them.
    if ((!this.namesRead || this.created || this.routes.all.length > 0) && this.everyStatement(s)) return true;
    if (DEFINES.has(s.type)) return false;
    if (s.type === 'DoStmt' || runsJob(s)) return true;
    if (this.routes.any.length > 0 && !INERT_KINDS.has(s.kind)) return true;
    if (this.usesRoutedOperator(s)) return true;
    if (s.functions.length === 0 && s.type !== 'CallStmt') return false;
    if (!this.namesRead) return this.calls(s).length > 0;
    return this.calls(s).some((c) => !BUILTIN_FUNCTIONS.has(c.name.toLowerCase()) || this.names.has(c.name.toLowerCase()));
  }

  /** With the metadata read (and some hypertable with compressed chunks): whether `check` must look at `s`. */
  concerns(s: ClassifiedStatement): boolean {
    // An EXECUTE is checked as the statement it runs, at each EXECUTE (chunks may be compressed since its PREPARE).
    const executed = this.executed.of(s);
    if (executed) return executed.some((e) => this.concerns(e));
    this.scope(s);
    if (this.routes.all.length > 0 && this.everyStatement(s)) return true;
    if (DEFINES.has(s.type)) return false;
    if (s.type === 'DoStmt' || runsJob(s)) return true;
    if (this.routes.any.length > 0 && !INERT_KINDS.has(s.kind)) return true;
    if (rebuildsIndexes(s) && this.routes.indexes.size > 0) return true;
    if (s.relations.some((r) => this.triggered.has(r.name) || this.viewCalls.has(r.name) || this.routes.writes.has(r.name) || this.routes.indexes.has(r.name) || this.routes.uses.has(r.name))) return true;
    if (this.usesRoutedOperator(s)) return true;
    return (s.type === 'CallStmt' || s.functions.some((f) => this.names.has(f))) && this.calls(s).some((c) => this.names.has(c.name.toLowerCase()));
  }

  /**
   * Reads the definitions `check` needs, unless kept. A failed read (an aborted transaction, a
   * statement timeout) is the statement's error: without them nothing could be checked.
   */
  async load(run: InternalRunner): Promise<void> {
    if (this.facts) return;
    const out = await run.sql(FUNCTIONS_SQL);
    const error = firstError(out);
    if (error) throw new OrbitError(error.C ?? SqlState.internal_error, error.M ?? 'could not read function definitions', error.D ? { detail: error.D } : {});
    const json = jsonRows<{ functions: Array<[string, string, string, string, string]> | null; triggers: Array<[string, string, string, string]> | null; jobs: Array<[number, string, string]> | null }>(out)[0];
    const functions = new Map<string, Definition[]>();
    for (const [schema, name, kind, language, text] of json?.functions ?? []) {
      const key = name.toLowerCase();
      functions.set(key, [...(functions.get(key) ?? []), { schema, name, procedure: kind === 'p', language, text }]);
    }
    const triggers = new Map<string, Array<{ schema: string; function: NameRef }>>();
    for (const [schema, table, fnSchema, fn] of json?.triggers ?? []) {
      triggers.set(table, [...(triggers.get(table) ?? []), { schema, function: { schema: fnSchema, name: fn } }]);
    }
    const jobs = new Map<number, NameRef>();
    for (const [id, schema, name] of json?.jobs ?? []) jobs.set(id, { schema, name });
    this.facts = { functions, triggers, jobs };
    this.findings.clear();
  }

  /**
   * Throws 0A000 when `s` would make PostgreSQL read compressed rows through SQL Orbit does not
   * see (see the module comment). The statement's own relations are Orbit's to rewrite; only a DO
   * block's are checked here. Without definitions (not read: the statement concerns no user SQL)
   * it checks nothing.
   */
  check(s: ClassifiedStatement, tables: CompressedLookup): void {
    const executed = this.executed.of(s);
    if (executed) {
      for (const e of executed) this.check(e, tables);
      return;
    }
    if (!this.facts) return;
    this.scope(s);
    if (this.everyStatement(s)) this.checkRoutes(this.routes.all, undefined, tables);
    if (DEFINES.has(s.type)) return;
    if (!INERT_KINDS.has(s.kind)) this.checkRoutes(this.routes.any, undefined, tables);
    const uses = this.statementUses(s);
    if (s.type === 'DoStmt') {
      const found = this.bodyFinding(uses, tables, new Set());
      if (found) throw refusal('a DO block', found);
      return;
    }
    if (runsJob(s)) this.checkRunJob(s, tables);
    for (const call of uses.calls) {
      if (this.builtIn(call)) continue;
      for (const def of this.definitions(call)) {
        const found = this.finding(def, tables, new Set());
        if (found) throw refusal(`calling ${def.procedure ? 'procedure' : 'function'} "${def.name}"`, found);
      }
    }
    for (const table of uses.writes) {
      for (const def of this.triggerFunctions(table)) {
        const found = this.finding(def, tables, new Set());
        if (found) throw refusal(`writing table "${table.name}" (its trigger calls function "${def.name}")`, found);
      }
    }
    for (const view of s.relations) {
      for (const def of this.viewFunctions(view)) {
        const found = this.finding(def, tables, new Set());
        if (found) throw refusal(`reading view "${view.name}" (it calls function "${def.name}")`, found);
      }
    }
    for (const op of new Set(uses.operators)) this.checkRoutes(this.routes.operators.get(op) ?? [], `using operator ${op}`, tables);
    for (const call of uses.calls) this.checkRoutes(Routes.of(this.routes.aggregates, { ...call, name: call.name.toLowerCase() }), `calling aggregate "${call.name}"`, tables);
    for (const table of uses.writes) this.checkRoutes(this.routes.written(table), `writing ${table.dynamic ? 'a table named at run time' : `table "${table.name}"`}`, tables);
    if (rebuildsIndexes(s)) {
      // REINDEX INDEX names the index: its table's are checked as every table's (conservative), as when none is named.
      const all = s.type === 'ReindexStmt' && s.node.kind === 'REINDEX_OBJECT_INDEX';
      const named = all ? [] : s.relations.flatMap((r) => Routes.of(this.routes.indexes, r));
      this.checkRoutes(all || s.relations.length === 0 ? [...this.routes.indexes.values()].flat() : named, 'rebuilding indexes', tables);
    }
    // DDL (ALTER TABLE … DISABLE ROW LEVEL SECURITY) reads no row through a policy or view, but CREATE TABLE … AS.
    if (s.kind !== 'ddl' || s.type === 'CreateTableAsStmt') for (const r of s.relations) this.checkRoutes(Routes.of(this.routes.uses, r), `using "${r.name}"`, tables);
  }

  /** Statements an event trigger fires for, or that evaluate expressions (`INERT_KINDS`). */
  private everyStatement(s: ClassifiedStatement): boolean {
    return !INERT_KINDS.has(s.kind) && !eventTriggerStatement(s);
  }

  /** Whether `s` names an operator that runs a user function. */
  private usesRoutedOperator(s: ClassifiedStatement): boolean {
    return this.routes.operators.size > 0 && this.statementUses(s).operators.some((o) => this.routes.operators.has(o));
  }

  /**
   * Throws when one of `routes` reads compressed rows (`subject`: what the statement does to reach
   * them; undefined: any statement may).
   */
  private checkRoutes(routes: readonly Route[], subject: string | undefined, tables: CompressedLookup): void {
    for (const route of routes) {
      const found = this.routeFinding(route, tables, new Set());
      if (!found) continue;
      const calls = route.function ? ` calls function "${route.function.name}"` : '';
      throw refusal(subject === undefined ? `any statement while ${route.what}${calls}` : `${subject} (${route.what}${calls})`, found);
    }
  }

  /** Why a route reads compressed rows, or null. */
  private routeFinding(route: Route, tables: CompressedLookup, active: Set<object>): Finding | null {
    if (route.reads !== undefined) {
      const reads = tables.reads({ name: route.reads });
      return reads ? { reads, via: [] } : null;
    }
    if (route.uses) {
      // A rule writing its own table reaches itself.
      if (active.has(route)) return null;
      active.add(route);
      const found = this.bodyFinding(route.uses, tables, active);
      active.delete(route);
      return found;
    }
    const fn = route.function;
    if (!fn) return null;
    for (const def of this.definitions(fn).filter((d) => d.schema === '' || d.schema === fn.schema)) {
      const found = this.finding(def, tables, active);
      if (found) return found;
    }
    return null;
  }

  /** The user functions reading view `view` calls. */
  private viewFunctions(view: NameRef): Definition[] {
    return (this.viewCalls.get(view.name) ?? []).flatMap((f) => this.definitions(f));
  }

  /** `CALL run_job(id)`: the job's procedure (every user job's when the id is not a constant). */
  private checkRunJob(s: ClassifiedStatement, tables: CompressedLookup): void {
    const arg = ((s.node.funccall as { args?: Array<{ A_Const?: { ival?: { ival?: number } } }> } | undefined)?.args ?? [])[0];
    const id = arg?.A_Const ? (arg.A_Const.ival?.ival ?? 0) : undefined;
    const procs = id === undefined ? [...this.facts!.jobs.values()] : [this.facts!.jobs.get(id)].filter((j) => j !== undefined);
    for (const proc of procs) {
      for (const def of this.definitions(proc)) {
        const found = this.finding(def, tables, new Set());
        if (found) throw refusal(`running ${id === undefined ? 'a job' : `job ${id}`} (${def.procedure ? 'procedure' : 'function'} "${def.name}")`, found);
      }
    }
  }

  private statementUses(s: ClassifiedStatement): SqlUses {
    let uses = this.uses.get(s.node);
    if (!uses) {
      uses = statementUses(s.type, s.node);
      this.uses.set(s.node, uses);
    }
    return uses;
  }

  /** The functions a statement calls by name (FuncCall and CALL), with their schemas. */
  private calls(s: ClassifiedStatement): readonly NameRef[] {
    return this.statementUses(s).calls.filter((c) => !systemSchema(c.schema));
  }

  private builtIn(call: NameRef): boolean {
    return systemSchema(call.schema) || !this.names.has(call.name.toLowerCase());
  }

  /** User functions a call may reach: every one of its name (in its schema, if written). */
  private definitions(call: NameRef): Definition[] {
    const key = call.name.toLowerCase();
    // `pg_temp` is the session's own temporary schema, pg_temp_<n> in the catalog.
    return [...(this.facts!.functions.get(key) ?? []), ...(this.pending?.byName.get(key) ?? [])].filter(
      (d) => call.schema === undefined || d.schema === '' || d.schema === call.schema || (call.schema === 'pg_temp' && d.schema.startsWith('pg_temp_')),
    );
  }

  /** The trigger functions of the user's that writing `table` fires (of every table when it is named at run time). */
  private triggerFunctions(table: NameRef): Definition[] {
    const triggers = table.dynamic ? [...this.facts!.triggers.values()].flat() : (this.facts!.triggers.get(table.name) ?? []);
    return triggers.filter((t) => table.schema === undefined || t.schema === table.schema).flatMap((t) => this.definitions(t.function).filter((d) => d.schema === t.function.schema));
  }

  /** Why a user function's body reads compressed rows, or null; kept per definition. */
  private finding(def: Definition, tables: CompressedLookup, active: Set<object>): Finding | null {
    const kept = this.findings.get(def);
    if (kept !== undefined) return kept;
    // A recursive call reads nothing its first call does not.
    if (active.has(def)) return null;
    active.add(def);
    def.uses ??= definitionUses(def.text, def.language);
    const found = this.bodyFinding(def.uses, tables, active);
    active.delete(def);
    this.findings.set(def, found);
    return found;
  }

  private bodyFinding(uses: SqlUses, tables: CompressedLookup, active: Set<object>): Finding | null {
    for (const r of uses.relations) {
      const reads = tables.reads(r);
      if (reads) return { reads, via: [] };
    }
    for (const r of uses.inserts) {
      const reads = tables.insertReads(r);
      if (reads) return { reads, via: [] };
    }
    if (uses.opaque) return { opaque: uses.opaque, via: [] };
    for (const call of uses.calls) {
      if (this.builtIn(call)) continue;
      for (const def of this.definitions(call)) {
        const found = this.finding(def, tables, active);
        if (found) return { ...found, via: [`${def.procedure ? 'procedure' : 'function'} "${def.name}"`, ...found.via] };
      }
    }
    for (const view of uses.relations) {
      for (const def of this.viewFunctions(view)) {
        const found = this.finding(def, tables, active);
        if (found) return { ...found, via: [`function "${def.name}" of view "${view.name}"`, ...found.via] };
      }
    }
    for (const table of uses.writes) {
      for (const def of this.triggerFunctions(table)) {
        const found = this.finding(def, tables, active);
        if (found) return { ...found, via: [`trigger function "${def.name}" of ${table.dynamic ? 'a table named at run time' : `table "${table.name}"`}`, ...found.via] };
      }
    }
    // Objects that run user functions (or read such a hypertable) for what the body does.
    const reached = [
      ...[...new Set(uses.operators)].flatMap((op) => this.routes.operators.get(op) ?? []),
      ...uses.calls.flatMap((call) => Routes.of(this.routes.aggregates, { ...call, name: call.name.toLowerCase() })),
      ...uses.writes.flatMap((table) => this.routes.written(table)),
      ...[...uses.relations, ...uses.inserts].flatMap((r) => Routes.of(this.routes.uses, r)),
    ];
    for (const route of reached) {
      const found = this.routeFinding(route, tables, active);
      if (found) return { ...found, via: [`${route.what}${route.function ? ` (function "${route.function.name}")` : ''}`, ...found.via] };
    }
    return null;
  }
}

/** REINDEX, CLUSTER and VACUUM FULL compute their tables' index entries anew. */
function rebuildsIndexes(s: ClassifiedStatement): boolean {
  if (s.type === 'ReindexStmt' || s.type === 'ClusterStmt') return true;
  return s.type === 'VacuumStmt' && ((s.node.options as Array<{ DefElem?: { defname?: string } }> | undefined) ?? []).some((o) => o.DefElem?.defname === 'full');
}

/** `CALL run_job(…)`: TimescaleDB's procedure runs a job's function or procedure by dynamic SQL. */
function runsJob(s: ClassifiedStatement): boolean {
  return s.type === 'CallStmt' && nameOf((s.node.funccall as { funcname?: unknown } | undefined)?.funcname)?.name.toLowerCase() === 'run_job';
}

function refusal(subject: string, found: Finding): OrbitError {
  const what = found.reads ? `reads ${found.reads} with chunks in the columnstore` : `runs ${found.opaque} (it could read any table) while hypertables have chunks in the columnstore`;
  const through = found.via.length > 0 ? { detail: `It does so through ${found.via.join(', then ')}.` } : {};
  return new OrbitError(SqlState.feature_not_supported, `${subject}, which ${what}, is not supported by Orbit`, {
    ...through,
    hint:
      'Orbit shows rows in the columnstore only to the statements it receives, not to SQL that PostgreSQL runs inside functions, procedures, DO blocks or triggers. ' +
      'Query the hypertable in the statement itself, or convert its chunks back to the rowstore (decompress_chunk).',
  });
}
