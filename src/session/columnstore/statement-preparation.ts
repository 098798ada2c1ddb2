/**
 * @module session/columnstore/statement-preparation
 * A session's statements made ready on the shared backend for the columnstore before they run (not
 * SQL PREPARE): the privilege check for sessions running as another role, the fast path run when
 * the plan has one (fast-path-runner.ts), otherwise the rewritten text, the cache tables it reads
 * (cache-tables.ts) and the chunks it writes decompressed (dml.ts) — inside Orbit's own transaction
 * when the session is idle, inside a savepoint when it is in a transaction block.
 */
import { OrbitError } from '../../errors.js';
import type { ValueOf } from '../../columnstore/pg-text.js';
import type { ClassifiedStatement } from '../../sql/classify.js';
import { scanSql, spliceSql } from '../../sql/parser.js';
import { SqlState } from '../../sqlstate.js';
import type { BackendSession } from '../backend.js';
import type { Columnstore, DirectRows, InternalRunner } from './columnstore.js';
import type { PrintedRows } from './scan.js';
import type { ColumnstorePlan } from './statement-plans.js';
import type { ColumnstoreTable } from '../../sql/rewrite/columnstore-reads.js';
import { jsonRows, textRows } from '../internal-sql.js';
import { statementRange } from '../rewrite.js';
import { partlyReadableSql, privilegeCheckResult, privilegeCheckSql, PrivilegeDenied, runsAsRole } from '../roles.js';
import { analyse } from '../statement-cache.js';
import { firstError } from '../settings.js';
import { checkUniqueIndexes } from './unique-indexes.js';
import { checkValidatedConstraints } from './validated-constraints.js';
import { checkDomainColumns, constrainsDomain, mayCheckRows, refuseUncheckedRows } from './unchecked-rows.js';

/** What the backend's columnstore work does before a statement runs (Backend forwards to it). */
export class StatementPreparation {
  constructor(
    private readonly columnstore: Columnstore | undefined,
    /** Orbit's own SQL for a session, as the columnstore runs it (Backend.internalRunner). */
    private readonly internalRunner: (session: BackendSession) => InternalRunner,
    /** A simple query of Orbit's own for a session (Backend.runInternal). */
    private readonly runInternal: (session: BackendSession, sql: string) => Promise<Uint8Array>,
  ) {}

  /**
   * Gets \`sql\` ready to run for the columnstore: reads of hypertables with the columnstore enabled
   * rewritten to include the compressed chunks' rows (decoded into temporary tables first), and the
   * compressed chunks of hypertables it updates or deletes from decompressed. \`idle\`: the session is
   * outside a transaction block (the preparation then runs in a transaction of its own).
   * Returns the text to run. `onRows`: the caller can append rows to a lone SELECT's result (its
   * RowDescription, text format): a scan may then hand over its compressed rows printed, and the
   * statement runs as written over the rowstore alone. `guarded`: the caller runs the text at once
   * and, when it fails, asks `retryStale` whether to prepare and run it again (unguarded): a fast
   * path may then reuse its last statement without asking for its inputs first. `checkBatches`:
   * a unique index or validated constraint the text adds is checked against the batches now (false:
   * the extended protocol checks it at each Bind, `checkNewConstraints`).
   */
  async prepareColumnstore(session: BackendSession, sql: string, idle: boolean, fastPath = true, fill = true, onRows?: (rows: DirectRows) => void, values?: (oid: number) => ValueOf, guarded = false, checkBatches = true): Promise<string> {
    const cs = this.columnstore;
    if (!cs) return sql;
    cs.retryStale(() => undefined);
    const analysis = analyse(sql);
    if (!analysis.ok || !cs.mayConcern(analysis.statements)) return sql;
    const checked = await this.privilegesChecked(session, analysis.statements);
    if (!checked) {
      fastPath = false;
      onRows = undefined;
    }
    const run = this.internalRunner(session);
    await cs.load(run, analysis.statements);
    if (!cs.mayConcern(analysis.statements)) return sql;
    await this.checkStringEscapes(session, analysis.statements);
    const texts: Array<string | undefined> = [];
    const plans: ColumnstorePlan[] = [];
    const bytes = new TextEncoder().encode(sql);
    for (const s of analysis.statements) {
      if (checkBatches) {
        const { start, end } = statementRange(bytes, s);
        await this.checkConstraints(session, s, new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.subarray(start, end)), idle);
      }
      let plan = cs.plan(s, fastPath && analysis.statements.length === 1);
      // A scan's temporary table (one per hypertable, dropped and made again by each scan) may still
      // be read by an earlier portal of a pipeline (55006 at the drop): the cache tables instead.
      if (plan.scan && run.pipeline) plan = cs.plan(s, false);
      let text = plan.sql;
      if (plan.lastPoint) await this.checkWholeRows(session, [plan.lastPoint.table], [s]);
      if (plan.aggregate || plan.lastPoint || plan.scan) {
        const fast = plan;
        const out = await cs.runPlanned(run, fast, idle, analysis.statements.length === 1 ? onRows : undefined, values, guarded && idle && analysis.statements.length === 1);
        if (out === null) {
          // Printed rows handed over: the statement reads the rowstore as written.
          texts.push(undefined);
          plans.push({ reads: [], writes: plan.writes });
          continue;
        }
        text = out;
        if (text === undefined) plan = cs.plan(s, false);
        text ??= plan.sql;
      }
      texts.push(text);
      plans.push(plan);
    }
    // Not filled (a named statement's Parse): its Bind may take a fast path, else checks then.
    if (fill) await this.checkWholeRows(session, plans.flatMap((p) => p.reads), analysis.statements);
    await this.prepareReadsAndWrites(session, plans, idle, checked && plans.every((p, i) => writeChecked(analysis.statements[i]!, p)), fill);
    const edits = analysis.statements.flatMap((s, i) => {
      const text = texts[i];
      return text === undefined ? [] : [{ ...statementRange(bytes, s), text }];
    });
    return edits.length > 0 ? spliceSql(sql, edits) : sql;
  }

  /**
   * Before a prepared statement (`sql`: its text on the backend) that adds a unique index or a
   * constraint checked against the existing rows runs: the hypertable's rows in the batches checked
   * (unique-indexes.ts, validated-constraints.ts), at each Bind since rows may have been compressed
   * since its Parse.
   */
  async checkNewConstraints(session: BackendSession, statement: ClassifiedStatement, sql: string, idle: boolean): Promise<void> {
    const cs = this.columnstore;
    if (!cs?.mayConcern([statement])) return;
    await cs.load(this.internalRunner(session), [statement]);
    await this.checkConstraints(session, statement, sql, idle);
  }

  /** The batches' rows checked against what `statement` (`ddl`: its text) adds or validates. */
  private async checkConstraints(session: BackendSession, statement: ClassifiedStatement, ddl: string, idle: boolean): Promise<void> {
    const cs = this.columnstore!;
    const run = this.internalRunner(session);
    if (cs.anyCompressed && constrainsDomain(statement)) {
      const fill = (tables: readonly ColumnstoreTable[]) => this.prepareReadsAndWrites(session, [{ reads: tables, writes: [] }], idle, true);
      await checkDomainColumns(run, statement, ddl, idle, fill, (check) => this.runInternal(session, check));
    } else if (cs.anyCompressed && mayCheckRows(statement)) await refuseUncheckedRows(run, statement);
    const unique = cs.uniqueIndexTarget(statement);
    if (unique) await checkUniqueIndexes(run, unique, ddl, idle, (check) => this.runGeneral(session, check, idle));
    const validated = cs.validatedConstraintTarget(statement);
    if (!validated) return;
    const fill = () => this.prepareReadsAndWrites(session, [{ reads: [validated], writes: [] }], idle, true);
    await checkValidatedConstraints(run, validated, ddl, idle, fill, (check) => this.runInternal(session, check));
  }

  /** Runs a statement of Orbit's own over hypertables through the general path (cache tables); its output. */
  private async runGeneral(session: BackendSession, sql: string, idle: boolean): Promise<Uint8Array> {
    const analysis = analyse(sql);
    if (!analysis.ok || analysis.statements.length !== 1) throw new OrbitError(SqlState.internal_error, 'an internal statement that does not parse');
    const plan = this.columnstore!.plan(analysis.statements[0]!);
    await this.prepareReadsAndWrites(session, [plan], idle, false);
    return this.runInternal(session, plan.sql ?? sql);
  }

  /**
   * Before a prepared statement runs again: its cache tables and DML decompression (the statement's
   * text was rewritten when it was parsed; aggregates computed then are not recomputed).
   */
  async prepareColumnstoreStatement(session: BackendSession, statement: ClassifiedStatement, idle: boolean): Promise<void> {
    const cs = this.columnstore;
    if (!cs?.mayConcern([statement])) return;
    await cs.load(this.internalRunner(session), [statement]);
    const plan = cs.plan(statement);
    await this.checkWholeRows(session, plan.reads, [statement]);
    // Its decompression runs as Orbit's owner only once PostgreSQL has checked the role may write.
    const checked = writeChecked(statement, plan) && (plan.writes.length === 0 || (await this.privilegesChecked(session, [statement])));
    await this.prepareReadsAndWrites(session, [plan], idle, checked);
  }

  /**
   * For a prepared statement about to run: the statement to run instead when the planner's fast path
   * takes it (kernels, last point), computed now; undefined otherwise. `onRows` (outside a
   * transaction block): an aggregate's rows made from the kernels' partials alone are handed there
   * (text format), and the statement returned only describes them.
   */
  async fastPathSql(session: BackendSession, statement: ClassifiedStatement, idle: boolean, onRows?: (rows: PrintedRows) => void): Promise<string | undefined> {
    const cs = this.columnstore;
    if (!cs?.mayConcern([statement])) return undefined;
    if (!(await this.privilegesChecked(session, [statement]))) return undefined;
    const run = this.internalRunner(session);
    await cs.load(run, [statement]);
    await this.checkStringEscapes(session, [statement]);
    const plan = cs.plan(statement, true);
    // Scans fill a temporary table for one statement; EXPLAIN is answered at Parse: neither at Bind.
    if ((!plan.aggregate && !plan.lastPoint) || plan.scan || plan.explain) return undefined;
    if (plan.lastPoint) await this.checkWholeRows(session, [plan.lastPoint.table], [statement]);
    return this.inSavepoint(session, idle, () => (plan.aggregate ? cs.runAggregate(run, plan.aggregate, idle, idle ? onRows : undefined) : cs.runLastPoint(run, plan.lastPoint!)));
  }

  /**
   * Under standard_conforming_strings = off PostgreSQL reads the backslashes of a '…' string as
   * escapes; Orbit's parser reads them as written, and what it evaluates and writes from the tree
   * would mean other strings ('a\\b' compared as a\\b, not a\b): refused (0A000) when such a
   * constant holds a backslash and the setting is off.
   */
  private async checkStringEscapes(session: BackendSession, statements: readonly ClassifiedStatement[]): Promise<void> {
    const escaped = (s: ClassifiedStatement) => s.text.includes('\\') && scanSql(s.text).some((t) => t.tokenName === 'SCONST' && /^[Nn]?'/.test(t.text) && t.text.includes('\\'));
    if (!statements.some(escaped)) return;
    // PostgreSQL lexes a whole query string before running it: a SET earlier in the string does
    // not change how its later statements read, so the setting before the string counts too.
    const before = session.settings.get('standard_conforming_strings');
    const now = session.settingsUnread ? jsonRows<[string]>(await this.runInternal(session, "SELECT json_build_array(current_setting('standard_conforming_strings'))"))[0]?.[0] : before;
    if (before !== 'off' && now !== 'off') return;
    throw new OrbitError(SqlState.feature_not_supported, "a '…' string with a backslash under standard_conforming_strings = off in a statement over a hypertable with the columnstore is not supported by Orbit", {
      hint: "Write it as an escape string (E'…'), or set standard_conforming_strings to on.",
    });
  }

  /**
   * For a session that may run as another role (roles.ts): PostgreSQL checks the role's privileges
   * for `statements` by planning them (EXPLAIN), since Orbit may answer them from the columnstore
   * without PostgreSQL reading every column they name (the kernels compute an aggregate of a column
   * the role may not read). A 42501 is thrown as PrivilegeDenied, before any of Orbit's work; the
   * check itself changes nothing (it cannot fail a transaction). Any other failure of the check (a
   * parameter whose type only a Bind gives, …) returns false: the statements then take the general
   * path, which reads the hypertable in PostgreSQL, and no fast path.
   */
  private async privilegesChecked(session: BackendSession, statements: readonly ClassifiedStatement[]): Promise<boolean> {
    if (!runsAsRole(session)) return true;
    for (const s of statements) if ((await this.checkPrivileges(session, s)) === false) return false;
    return true;
  }

  /**
   * Whether `statement`, bound without Orbit's work for it since its role was denied it, would now
   * run without that work: the role may run it now (or that is not known) and it concerns the
   * columnstore (as the catalog says now).
   */
  async missesWork(session: BackendSession, statement: ClassifiedStatement): Promise<boolean> {
    const cs = this.columnstore;
    if (!cs?.mayConcern([statement])) return false;
    if (runsAsRole(session)) {
      try {
        await this.checkPrivileges(session, statement);
      } catch (err) {
        if (err instanceof PrivilegeDenied) return false;
        throw err;
      }
    }
    await cs.load(this.internalRunner(session), [statement]);
    return cs.mayConcern([statement]);
  }

  /** The role's privileges for `s` checked (privilegeCheckSql): undefined when `s` has no check, false when the check failed; throws PrivilegeDenied. */
  private async checkPrivileges(session: BackendSession, s: ClassifiedStatement): Promise<boolean | undefined> {
    const check = privilegeCheckSql(s);
    if (!check) return undefined;
    const out = await this.runInternal(session, check);
    const result = firstError(out) ? false : privilegeCheckResult(out);
    if (result instanceof PrivilegeDenied) throw result;
    return result;
  }

  /**
   * For a session that may run as another role: the general path's rewrite (`SELECT * FROM hypertable
   * UNION ALL …`) and a last point's rowstore side read every column of the hypertable, which
   * PostgreSQL refuses (42501) to a role with SELECT on some of its columns only, though `statements`
   * may read only those. Refused with 0A000 instead, where PostgreSQL would run every one of them
   * (checked: the one more round trip only in that case); otherwise its own 42501 stands.
   */
  private async checkWholeRows(session: BackendSession, tables: readonly ColumnstoreTable[], statements: readonly ClassifiedStatement[]): Promise<void> {
    if (!runsAsRole(session) || tables.length === 0) return;
    const out = await this.runInternal(session, partlyReadableSql(tables));
    const table = firstError(out) ? undefined : textRows(out)[0]?.[0];
    if (!table) return;
    for (const s of statements) if ((await this.checkPrivileges(session, s)) !== true) return;
    throw new OrbitError(SqlState.feature_not_supported, `reading hypertable "${table}" with SELECT on some of its columns only is not supported by Orbit for this query`, {
      hint: 'Orbit reads every column of the hypertable for it (joins, subqueries, last points). Grant SELECT on the table, or query it with scans and aggregates of those columns.',
    });
  }

  /** `checked`: privilegesChecked passed for the statements planned (see decompressForWrite). */
  private async prepareReadsAndWrites(session: BackendSession, plans: readonly ColumnstorePlan[], idle: boolean, checked: boolean, fill = true): Promise<void> {
    const cs = this.columnstore!;
    const run = this.internalRunner(session);
    const reads = plans.flatMap((p) => p.reads);
    const writes = plans.flatMap((p) => p.writes);
    if (reads.length === 0 && writes.length === 0) return;
    // Reads only fill Orbit's temporary cache tables: that works in a read-only session too
    // (default_transaction_read_only), whose statement then runs in a transaction of its own.
    if (idle) await this.runInternal(session, writes.length === 0 ? 'BEGIN READ WRITE' : 'BEGIN');
    try {
      await cs.decompressForWrite(run, writes, checked);
      if (writes.length > 0) await cs.load(run);
      // A statement's time bounds limit the chunks decoded only when no other statement reads the table.
      const readers = (id: number) => plans.filter((p) => p.reads.some((t) => t.id === id)).length;
      const ranges = new Map(plans.flatMap((p) => [...(p.ranges ?? [])]).filter(([id]) => readers(id) === 1));
      await cs.prepareReads(run, reads, idle, ranges, fill);
      if (idle) await this.runInternal(session, 'COMMIT');
    } catch (err) {
      if (idle) await this.runInternal(session, 'ROLLBACK');
      throw err;
    }
  }

  /** Runs Orbit's own work so that its errors cannot abort the session's transaction block. */
  private async inSavepoint<T>(session: BackendSession, idle: boolean, fn: () => Promise<T>): Promise<T> {
    if (idle) return fn();
    await this.runInternal(session, 'SAVEPOINT orbit_internal');
    try {
      return await fn();
    } finally {
      await this.runInternal(session, 'ROLLBACK TO SAVEPOINT orbit_internal; RELEASE SAVEPOINT orbit_internal');
    }
  }
}

/**
 * Whether privilegesChecked covers what `plan` writes: not for COPY FROM, which EXPLAIN cannot take
 * (its decompression then runs as the session's role, with the chunks' grants, which follow the hypertable's).
 */
function writeChecked(statement: ClassifiedStatement, plan: ColumnstorePlan): boolean {
  return plan.writes.length === 0 || privilegeCheckSql(statement) !== undefined;
}
