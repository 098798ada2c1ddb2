/**
 * @module session/job-scheduler
 * The job scheduler of the Node and browser engines (TimescaleDB's background-worker scheduler):
 * one timer per engine, armed for the next due job. When it fires, the job runs on the scheduler's
 * own session — the job's CALL through Orbit's SQL path, so compress requests a policy makes are
 * carried out after its commit like any session's — between the engine's other statements (the
 * backend is shared, so jobs run one at a time). Start, finish, failures and the next start are
 * catalog rows (catalog/extension/jobs.ts), so jobs survive restarts; a run cut short by a stop
 * counts as a crash at the next start.
 *
 * The timer is re-armed after every run and whenever a statement may have added or changed a job
 * (`poke`); it is unref'd in Node, so an idle engine never keeps a process alive. The edge profile
 * runs its jobs from Durable Object alarms instead (edge/retention.ts).
 */
import { toOrbitError } from '../errors.js';
import type { QueryResult } from '../rowstore/types.js';
import type { ClassifiedStatement } from '../sql/classify.js';
import { BOOT_ROLE } from './settings.js';

const F = '_timescaledb_functions';
/** Longest single wait: the timer is re-armed after it (setTimeout's own limit is ~24.8 days). */
const MAX_WAIT_MS = 60 * 60 * 1000;
/** After an unexpected failure of the scheduler's own queries. */
const RETRY_MS = 5_000;
/** setTimeout's own limit (~24.8 days): a longer max_runtime does not stop a run. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** A job's statement, its name, its max_runtime in milliseconds (null or 0: none) and its owner. */
const JOB_SQL =
  `SELECT ${F}.orbit_job_command($1) AS sql, j.application_name::text AS name, (extract(epoch FROM j.max_runtime) * 1000)::float8 AS max_ms, j.owner::text AS owner ` +
  'FROM (SELECT 1) one LEFT JOIN timescaledb_information.jobs j ON j.job_id = $1';

/** Calls that add, change or (re)schedule jobs. */
const JOB_FUNCTIONS = [
  'add_job',
  'alter_job',
  'add_retention_policy',
  'add_compression_policy',
  'add_columnstore_policy',
  'timescaledb_post_restore',
];

/** Whether statements may have added a job or moved one's next start earlier. */
export function mayScheduleJobs(statements: readonly ClassifiedStatement[]): boolean {
  return statements.some(
    (s) =>
      s.type === 'CreateExtensionStmt' ||
      s.type === 'AlterExtensionStmt' ||
      // CREATE TABLE … WITH (timescaledb.hypertable) adds a columnstore policy.
      (s.type === 'CreateStmt' && /timescaledb|tsdb/i.test(s.text)) ||
      JOB_FUNCTIONS.some((f) => s.functions.includes(f)) ||
      (s.type === 'CallStmt' && /add_columnstore_policy/i.test(s.text)),
  );
}

/** The scheduler's session: statements run through Orbit's SQL path like any session's. */
export interface JobSession {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<Row>>;
  /** Before a job's statement: whatever it calls may queue columnstore conversions or drop chunks. */
  beforeJob?(): void;
  /**
   * Stops the job's statement (max_runtime): it then fails. Resolves false when it cannot be
   * stopped (a row store that cannot interrupt a running statement: `memory://`).
   */
  stop?(): Promise<boolean>;
}

export class JobScheduler {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  /** The job being run (its statement and the record of its outcome). */
  private job: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private recovered = false;

  constructor(
    private readonly session: JobSession,
    /** Where failures of jobs are reported (TimescaleDB writes them to the server log). */
    private readonly log: (message: string) => void = (m) => console.warn(m),
  ) {}

  start(): void {
    this.wake(0);
  }

  /** Jobs may have changed: look at the catalog again (after the run in progress, if any). */
  poke(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.wake(0);
  }

  /**
   * Stops the timer; resolves once a job in progress has ended and its outcome is recorded. A look at
   * the catalog that is still waiting for the backend (behind a session's open transaction) is not
   * waited for: it fails once the database is closed.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.job;
  }

  private wake(ms: number): void {
    if (this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.tick().finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake(0);
        }
      });
    }, Math.max(0, Math.min(ms, MAX_WAIT_MS)));
    // Node: an idle engine must not keep the process alive (browsers return a number).
    (this.timer as { unref?: () => void }).unref?.();
  }

  /** Runs the job due now, if any, and arms the timer for the next one. */
  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      const ext = await this.session.query<{ ok: boolean }>(`SELECT to_regprocedure('${F}.orbit_job_due()') IS NOT NULL AS ok`);
      if (!ext.rows[0]?.ok) return; // no extension (yet): CREATE EXTENSION pokes
      if (!this.recovered) {
        await this.session.query(`SELECT ${F}.orbit_job_recover()`);
        this.recovered = true;
      }
      const due = (await this.session.query<{ job_id: number; wait_ms: number }>(`SELECT job_id, wait_ms FROM ${F}.orbit_job_due()`)).rows[0];
      if (!due || due.job_id === null) return; // no scheduled job: the next add_job pokes
      if (due.wait_ms > 0) {
        this.wake(Math.ceil(due.wait_ms));
        return;
      }
      if (this.stopped) return;
      this.job = this.run(due.job_id);
      try {
        await this.job;
      } finally {
        this.job = undefined;
      }
      if (this.stopped) return;
      // The next due job gets its own turn: other sessions' statements may run in between.
      this.wake(0);
    } catch {
      // The database is closing, or the catalog is being changed under us: look again later.
      if (!this.stopped) this.wake(RETRY_MS);
    }
  }

  /** A job is being started or run (its statements may still run while the database closes). */
  get busy(): boolean {
    return this.job !== undefined;
  }

  /** Marks a due job started, runs it and records how it ended. */
  private async run(id: number): Promise<void> {
    const started = await this.session.query<{ ok: boolean }>(`SELECT ${F}.orbit_job_start($1) AS ok`, [id]);
    // Not started: deleted, paused or rescheduled since it was read.
    if (!started.rows[0]?.ok) return;
    let failure: { code: string; message: string; detail?: string; hint?: string } | undefined;
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let owner: string | null = null;
    try {
      // The job's own CALL (or SELECT) at top level, where a job procedure may COMMIT (inside
      // run_job it could not: PL/pgSQL runs a dynamic CALL atomically).
      const job = (await this.session.query<{ sql: string; name: string; max_ms: number | null; owner: string | null }>(JOB_SQL, [id])).rows[0]!;
      // TimescaleDB runs a job as its owner.
      if (job.owner !== null && job.owner !== BOOT_ROLE) {
        owner = job.owner;
        await this.session.query(`SELECT pg_catalog.set_config('session_authorization', $1, false)`, [owner]);
      }
      // TimescaleDB's scheduler terminates a job's worker once it has run max_runtime (0: no limit).
      const stop = this.session.stop;
      if (stop && job.max_ms !== null && job.max_ms > 0 && job.max_ms <= MAX_TIMEOUT_MS) {
        timer = setTimeout(() => {
          timedOut = true;
          this.log(`orbit: WARNING: terminating background worker "${job.name}" due to timeout`);
          void stop().then((stopped) => {
            if (!stopped) timedOut = false;
          });
        }, job.max_ms);
        (timer as { unref?: () => void }).unref?.();
      }
      this.session.beforeJob?.();
      await this.session.query(job.sql);
    } catch (err) {
      const e = toOrbitError(err);
      failure = { code: e.code, message: e.message, detail: e.detail, hint: e.hint };
      if (!timedOut) this.log(`orbit: job ${id} failed: ${e.message} (SQLSTATE ${e.code})`);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      if (owner !== null) await this.session.query(`SELECT pg_catalog.set_config('session_authorization', '${BOOT_ROLE}', false)`);
    }
    // A terminated worker reports no error of its own: the run fails without one, and job_errors
    // shows it as TimescaleDB shows a run its scheduler ended ("job crash detected, see server logs").
    if (timedOut && failure) failure = { code: '', message: '' };
    await this.session.query(`SELECT ${F}.orbit_job_finish($1, $2, $3, $4, $5, $6)`, [
      id,
      failure === undefined,
      failure?.code || null,
      failure?.message || null,
      failure?.detail ?? null,
      failure?.hint ?? null,
    ]);
  }
}
