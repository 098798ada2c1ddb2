/**
 * The job scheduler on Node (session/job-scheduler.ts): policies compress and drop chunks on their
 * own, failing jobs are retried and then paused, jobs and their statistics survive a restart on a
 * file data directory, and with the scheduler off only CALL run_job runs a job. SQL-level behaviour
 * of every job function is in test/golden/jobs/.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openOrbit, type Orbit } from '../../../src/runtime/node.js';
import { TEMPLATE, tempDir } from '../../support/server.js';

/** Polls `check` until it holds (the scheduler works on timers). */
async function waitFor<T>(what: string, read: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const open: Orbit[] = [];
async function openDb(dataDir: string, jobScheduler?: boolean): Promise<Orbit> {
  const db = await openOrbit({ dataDir, templatePath: TEMPLATE, ...(jobScheduler === undefined ? {} : { jobScheduler }) });
  open.push(db);
  return db;
}

afterEach(async () => {
  for (const db of open.splice(0)) await db.close();
});

describe('job scheduler', () => {
  it('runs columnstore and retention policies on their own, and retries a failing job until max_retries', async () => {
    const db = await openDb('memory://');
    await db.exec(`CREATE EXTENSION timescaledb;
      CREATE TABLE m (time timestamptz NOT NULL, device int, v float8);
      SELECT create_hypertable('m', by_range('time', INTERVAL '1 day'));
      ALTER TABLE m SET (timescaledb.compress, timescaledb.compress_segmentby = 'device');
      INSERT INTO m VALUES (now() - INTERVAL '5 days', 1, 1), (now() - INTERVAL '2 days', 1, 2), (now(), 2, 3);`);
    const chunks = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM timescaledb_information.chunks');
    expect(chunks.rows[0]!.n).toBe(3);
    await db.exec(`SELECT add_compression_policy('m', INTERVAL '1 day', schedule_interval => INTERVAL '1 second');
      SELECT add_retention_policy('m', INTERVAL '3 days', schedule_interval => INTERVAL '1 second');`);

    // The chunk of 5 days ago is dropped, the one of 2 days ago goes to the columnstore, today's stays.
    const state = () =>
      db
        .query<{ total: number; compressed: number; rows: number; sum: number }>(
          `SELECT (SELECT count(*)::int FROM timescaledb_information.chunks) AS total,
             (SELECT count(*)::int FROM timescaledb_information.chunks WHERE is_compressed) AS compressed,
             (SELECT count(*)::int FROM m) AS rows, (SELECT sum(v)::int FROM m) AS sum`,
        )
        .then((r) => r.rows[0]!);
    expect(await waitFor('the policies to run', state, (s) => s.total === 2 && s.compressed === 1)).toEqual({ total: 2, compressed: 1, rows: 2, sum: 5 });
    // Every second, again and again, and each run recorded.
    const stats = () =>
      db
        .query<{ job_id: number; runs: number; ok: number; failed: number; status: string }>(
          `SELECT job_id, total_runs::int AS runs, total_successes::int AS ok, total_failures::int AS failed, last_run_status AS status
           FROM timescaledb_information.job_stats WHERE job_id >= 1000 ORDER BY job_id`,
        )
        .then((r) => r.rows);
    // (A run may be in progress while the statistics are read: its last_run_status is NULL then.)
    const ran = await waitFor('repeated runs', stats, (rows) => rows.length === 2 && rows.every((r) => r.ok >= 2 && r.status === 'Success'));
    expect(ran.map((r) => [r.job_id, r.failed])).toEqual([
      [1000, 0],
      [1001, 0],
    ]);

    // A failing job: retried after retry_period, paused after max_retries consecutive failures.
    await db.exec(`CREATE FUNCTION boom(job_id int, config jsonb) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'boom %', config->>'n' USING ERRCODE = '22012'; END $$;`);
    const warnings: unknown[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => warnings.push(args);
    try {
      await db.query(`SELECT * FROM alter_job(add_job('boom', '1 hour', '{"n": 7}'), max_retries => 2, retry_period => '1 second')`);
      const paused = await waitFor(
        'the failing job to be paused',
        () => db.query<{ status: string; runs: number; failed: number }>(`SELECT job_status AS status, total_runs::int AS runs, total_failures::int AS failed FROM timescaledb_information.job_stats WHERE job_id = 1002`).then((r) => r.rows[0]!),
        (s) => s.status === 'Paused',
      );
      expect(paused).toEqual({ status: 'Paused', runs: 2, failed: 2 });
    } finally {
      console.warn = warn;
    }
    expect(warnings.length).toBe(2);
    const errors = await db.query(`SELECT job_id, proc_name, sqlerrcode, err_message FROM timescaledb_information.job_errors ORDER BY start_time`);
    expect(errors.rows).toEqual([
      { job_id: 1002, proc_name: 'boom', sqlerrcode: '22012', err_message: 'boom 7' },
      { job_id: 1002, proc_name: 'boom', sqlerrcode: '22012', err_message: 'boom 7' },
    ]);
    const scheduled = await db.query<{ scheduled: boolean }>('SELECT scheduled FROM timescaledb_information.jobs WHERE job_id = 1002');
    expect(scheduled.rows[0]!.scheduled).toBe(false);
    // Successful runs are not history by default (timescaledb.enable_job_execution_logging off).
    expect((await db.query('SELECT count(*)::int AS n FROM timescaledb_information.job_history WHERE succeeded')).rows).toEqual([{ n: 0 }]);
  });

  it('logs successful runs too when the server is configured with timescaledb.enable_job_execution_logging', async () => {
    const db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, settings: { 'timescaledb.enable_job_execution_logging': 'on' } });
    open.push(db);
    expect((await db.query('SHOW timescaledb.enable_job_execution_logging')).rows).toEqual([{ 'timescaledb.enable_job_execution_logging': 'on' }]);
    await db.exec(`CREATE EXTENSION timescaledb;
      CREATE FUNCTION ok(job_id int, config jsonb) RETURNS void LANGUAGE sql AS $$ SELECT 1 $$;
      SELECT add_job('ok', '1 second', '{"k": 1}');`);
    const history = await waitFor(
      'two successful runs in the history',
      () => db.query<{ job_id: number; succeeded: boolean; proc_name: string; config: unknown; sqlerrcode: null; err_message: null; ended: boolean }>(
        `SELECT job_id, succeeded, proc_name, config, sqlerrcode, err_message, finish_time >= start_time AS ended FROM timescaledb_information.job_history WHERE job_id >= 1000 ORDER BY id`,
      ).then((r) => r.rows),
      (rows) => rows.length >= 2,
    );
    expect(history[0]).toEqual({ job_id: 1000, succeeded: true, proc_name: 'ok', config: { k: 1 }, sqlerrcode: null, err_message: null, ended: true });
    expect((await db.query('SELECT count(*)::int AS n FROM timescaledb_information.job_errors')).rows).toEqual([{ n: 0 }]);
    // The built-in job 3 ran when the extension was created, and its success is history too.
    expect((await db.query('SELECT succeeded, proc_name FROM timescaledb_information.job_history WHERE job_id = 3')).rows).toEqual([
      { succeeded: true, proc_name: 'policy_job_stat_history_retention' },
    ]);
    // A server setting, as in TimescaleDB: sessions cannot change it, and ALTER SYSTEM says where it goes.
    await expect(db.query('SET timescaledb.enable_job_execution_logging = off')).rejects.toMatchObject({ code: '55P02' });
    await expect(db.query('RESET timescaledb.enable_job_execution_logging')).rejects.toMatchObject({ code: '55P02' });
    await expect(db.query('ALTER SYSTEM SET timescaledb.enable_job_execution_logging = off')).rejects.toMatchObject({ code: '0A000', hint: expect.stringContaining('settings') });
    // Only settings Orbit knows can be given.
    await expect(openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, settings: { 'timescaledb.no_such': 'on' } })).rejects.toThrow(/unknown setting "timescaledb.no_such"/);
  });

  it('keeps jobs and their statistics across a restart on a file data directory', async () => {
    const dir = tempDir('orbit-jobs-');
    try {
      let db = await openDb(dir.path);
      // A procedure that COMMITs: the scheduler runs it at top level.
      await db.exec(`CREATE EXTENSION timescaledb;
        CREATE TABLE log (job_id int, at timestamptz DEFAULT clock_timestamp());
        CREATE PROCEDURE tick(job_id int, config jsonb) LANGUAGE plpgsql AS $$ BEGIN INSERT INTO log (job_id) VALUES (job_id); COMMIT; END $$;
        SELECT add_job('tick', '1 second');`);
      const count = (d: Orbit, id: number) => d.query<{ n: number }>(`SELECT count(*)::int AS n FROM log WHERE job_id = ${id}`).then((r) => r.rows[0]!.n);
      await waitFor('the job to run', () => count(db, 1000), (n) => n >= 1);
      // Due in a few seconds, i.e. after the restart.
      await db.query(`SELECT add_job('tick', '1 hour', initial_start => now() + INTERVAL '3 seconds')`);
      await db.close();
      const before = await (async () => {
        const d = await openDb(dir.path, false);
        const n = await count(d, 1000);
        const runs = (await d.query<{ runs: number }>('SELECT total_runs::int AS runs FROM timescaledb_information.job_stats WHERE job_id = 1000')).rows[0]!.runs;
        // A run that never finished (as after a crash): marked started, then the database goes away.
        await d.exec(`SELECT add_job('tick', '1 hour', initial_start => '2000-01-01 00:00+00');
          SELECT _timescaledb_functions.orbit_job_start(1002);`);
        await d.close();
        return { n, runs };
      })();
      expect(before.runs).toBe(before.n);

      db = await openDb(dir.path);
      await waitFor('the job to run again after the restart', () => count(db, 1000), (n) => n > before.n);
      const stats = () =>
        db
          .query<{ job_id: number; runs: number; ok: number }>(
            'SELECT job_id, total_runs::int AS runs, total_successes::int AS ok FROM timescaledb_information.job_stats WHERE job_id >= 1000 ORDER BY job_id',
          )
          .then((r) => r.rows);
      // Statistics go on from where they were; every run finished (but one may be in progress now).
      const after = await waitFor('the job added before the restart to run when due', stats, (rows) => rows[1]?.ok === 1);
      expect(after[0]!.runs).toBeGreaterThan(before.runs);
      expect(after[0]!.ok).toBeGreaterThanOrEqual(after[0]!.runs - 1);
      expect(after[1]).toEqual({ job_id: 1001, runs: 1, ok: 1 });
      expect(await count(db, 1001)).toBe(1);
      // The interrupted run counts as a crash, and the job is run again at once.
      await waitFor('the interrupted job to run again', () => count(db, 1002), (n) => n === 1);
      const crash = await db.query('SELECT job_id, proc_name, sqlerrcode, err_message FROM timescaledb_information.job_errors');
      expect(crash.rows).toEqual([{ job_id: 1002, proc_name: 'tick', sqlerrcode: null, err_message: 'job crash detected, see server logs' }]);
    } finally {
      for (const db of open.splice(0)) await db.close();
      dir.remove();
    }
  });

  it('prunes the job history with the built-in job 3 (Job History Log Retention Policy)', async () => {
    const db = await openDb('memory://');
    await db.exec('CREATE EXTENSION timescaledb');
    const job3 = () =>
      db.query<{ ok: number; status: string }>('SELECT total_successes::int AS ok, last_run_status AS status FROM timescaledb_information.job_stats WHERE job_id = 3').then((r) => r.rows[0]!);
    // Due from the start, as in TimescaleDB; then every 6 hours.
    await waitFor('job 3 to run on its own', job3, (s) => s.ok === 1);
    const next = await db.query<{ ahead: boolean }>(`SELECT next_start > now() AND next_start <= now() + INTERVAL '6 hours' AS ahead FROM timescaledb_information.job_stats WHERE job_id = 3`);
    expect(next.rows).toEqual([{ ahead: true }]);
    // History as a month of failing and succeeding runs would leave it: old runs, and more runs of
    // one job than it keeps.
    await db.exec(`INSERT INTO _timescaledb_internal.bgw_job_stat_history (job_id, execution_start, execution_finish, succeeded, data)
        SELECT 1000, now() - INTERVAL '40 days', now() - INTERVAL '40 days', false, '{}' FROM generate_series(1, 5);
      INSERT INTO _timescaledb_internal.bgw_job_stat_history (job_id, execution_start, execution_finish, succeeded, data)
        SELECT 2000, now() - i * INTERVAL '1 minute', now() - i * INTERVAL '1 minute', i % 100 <> 0, '{}' FROM generate_series(1, 1200) i;`);
    await db.query(`SELECT * FROM alter_job(3, config_merge => '{"max_successes_per_job": 50}', next_start => now())`);
    await waitFor('job 3 to run again', job3, (s) => s.ok === 2 && s.status === 'Success');
    const kept = await db.query(
      `SELECT job_id, succeeded, count(*)::int AS n, max(execution_start) > now() - INTERVAL '2 minutes' AS newest_kept
       FROM _timescaledb_internal.bgw_job_stat_history WHERE job_id <> 3 GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    // Older than a month: gone. Of job 2000's 1,188 successes the newest 50, and all 12 failures.
    expect(kept.rows).toEqual([
      { job_id: 2000, succeeded: false, n: 12, newest_kept: false },
      { job_id: 2000, succeeded: true, n: 50, newest_kept: true },
    ]);
    // Its check function refuses a config it could not work with (TimescaleDB's messages).
    await expect(db.query(`SELECT * FROM alter_job(3, config_merge => '{"max_failures_per_job": 5}')`)).rejects.toMatchObject({
      code: 'P0001',
      message: 'max_failures_per_job has to be at least 10',
    });
    await expect(db.query(`SELECT * FROM alter_job(3, config => '{"max_successes_per_job": 20, "max_failures_per_job": 20}')`)).rejects.toMatchObject({
      message: 'drop_after interval not provided',
    });
  });

  it('with the scheduler off, runs a job only through CALL run_job', async () => {
    const db = await openDb('memory://', false);
    await db.exec(`CREATE EXTENSION timescaledb;
      CREATE TABLE log (job_id int);
      CREATE FUNCTION tick(job_id int, config jsonb) RETURNS void LANGUAGE sql AS $$ INSERT INTO log VALUES (job_id) $$;
      SELECT add_job('tick', '1 second');`);
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM log')).rows[0]!.n).toBe(0);
    await db.exec('CALL run_job(1000)');
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM log')).rows[0]!.n).toBe(1);
    // run_job leaves the statistics to the scheduler, as TimescaleDB's does.
    expect((await db.query<{ runs: number }>('SELECT total_runs::int AS runs FROM timescaledb_information.job_stats WHERE job_id = 1000')).rows[0]!.runs).toBe(0);
  });
});

describe('max_runtime', () => {
  it('stops a run longer than max_runtime: the run fails and the next start follows retry_period', async () => {
    const dir = tempDir('orbit-max-runtime-');
    try {
      // PGlite in a worker thread on files: a running statement can be stopped (docs/sessions.md).
      const db = await openOrbit({ dataDir: dir.path, templatePath: TEMPLATE, thread: true });
      open.push(db);
      await db.exec(`CREATE EXTENSION timescaledb; CREATE TABLE log (at timestamptz);
        CREATE PROCEDURE slow(job_id int, config jsonb) LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO log VALUES (now()); PERFORM pg_sleep(60); END $$;
        SELECT add_job('slow', INTERVAL '1 day', scheduled => false);
        SELECT alter_job(1000, max_runtime => INTERVAL '1 second', retry_period => INTERVAL '1 hour', scheduled => true);`);
      const started = Date.now();
      const stats = () =>
        db
          .query<{ runs: number; failed: number; status: string; retry: boolean; job_status: string }>(
            `SELECT total_runs::int AS runs, total_failures::int AS failed, last_run_status AS status, job_status,
               next_start - last_run_duration - last_run_started_at BETWEEN INTERVAL '59 minutes' AND INTERVAL '61 minutes' AS retry
             FROM timescaledb_information.job_stats WHERE job_id = 1000`,
          )
          .then((r) => r.rows[0]!);
      expect(await waitFor('the run to be stopped', stats, (s) => s.failed === 1)).toEqual({ runs: 1, failed: 1, status: 'Failed', retry: true, job_status: 'Scheduled' });
      // Stopped after about a second, not after the procedure's minute; its transaction rolled back.
      expect(Date.now() - started).toBeLessThan(30_000);
      expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM log')).rows[0]!.n).toBe(0);
      const errors = await db.query<{ sqlerrcode: string | null; err_message: string | null }>('SELECT sqlerrcode, err_message FROM timescaledb_information.job_errors WHERE job_id = 1000');
      // The stopped run reports no error of its own: the scheduler records the failure, as TimescaleDB's does for a worker it terminated.
      expect(errors.rows).toEqual([{ sqlerrcode: null, err_message: 'job crash detected, see server logs' }]);
      // A run within max_runtime succeeds.
      await db.exec(`CREATE OR REPLACE PROCEDURE slow(job_id int, config jsonb) LANGUAGE plpgsql AS $$ BEGIN INSERT INTO log VALUES (now()); END $$;
        SELECT alter_job(1000, next_start => now());`);
      expect(await waitFor('the second run', stats, (s) => s.runs === 2)).toMatchObject({ runs: 2, failed: 1, status: 'Success' });
      expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM log')).rows[0]!.n).toBe(1);
    } finally {
      for (const db of open.splice(0)) await db.close();
      dir.remove();
    }
  });
});

describe('job owners', () => {
  it('runs a job as its owner, with the owner\'s privileges', async () => {
    const db = await openDb('memory://');
    await db.exec(`CREATE EXTENSION timescaledb; CREATE ROLE worker; CREATE TABLE ran (who text, allowed boolean);
      CREATE TABLE private (x int); GRANT INSERT ON ran TO worker;
      CREATE PROCEDURE who(job_id int, config jsonb) LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO ran VALUES (current_user, has_table_privilege('private', 'SELECT')); END $$;
      GRANT EXECUTE ON PROCEDURE who(int, jsonb) TO worker;
      SET SESSION AUTHORIZATION worker;
      SELECT add_job('who', INTERVAL '1 day');
      RESET SESSION AUTHORIZATION;`);
    const rows = () => db.query<{ who: string; allowed: boolean }>('SELECT who, allowed FROM ran').then((r) => r.rows);
    expect(await waitFor('the job to run', rows, (r) => r.length === 1)).toEqual([{ who: 'worker', allowed: false }]);
    // The scheduler's own session is the superuser's again, and so is every other session.
    expect((await db.query<{ u: string }>('SELECT current_user AS u')).rows).toEqual([{ u: 'postgres' }]);
  });

  it('runs the columnstore policy of a hypertable whose owner is not a superuser, as that owner', async () => {
    const db = await openDb('memory://');
    // The extension's internal functions that point chunks at their batches are the backend's role's
    // alone (catalog/extension/privileges.ts): Orbit switches to it for them within the owner's run.
    await db.exec(`CREATE EXTENSION timescaledb; CREATE ROLE keeper;
      CREATE TABLE k (time timestamptz NOT NULL, v float8);
      SELECT create_hypertable('k', by_range('time', INTERVAL '1 day'));
      ALTER TABLE k SET (timescaledb.compress);
      ALTER TABLE k OWNER TO keeper;
      INSERT INTO k VALUES (now() - INTERVAL '5 days', 1), (now() - INTERVAL '3 days', 2);
      SET SESSION AUTHORIZATION keeper;
      SELECT add_compression_policy('k', INTERVAL '1 day');
      RESET SESSION AUTHORIZATION;`);
    const chunks = () =>
      db.query<{ compressed: number }>("SELECT count(*) FILTER (WHERE is_compressed)::int AS compressed FROM timescaledb_information.chunks WHERE hypertable_name = 'k'").then((r) => r.rows[0]!.compressed);
    expect(await waitFor('the policy to compress both chunks', chunks, (n) => n === 2)).toBe(2);
    const stats = await db.query<{ owner: string; failures: number }>(
      "SELECT j.owner::text AS owner, s.total_failures::int AS failures FROM timescaledb_information.jobs j JOIN timescaledb_information.job_stats s USING (job_id) WHERE j.proc_name = 'policy_compression'",
    );
    expect(stats.rows).toEqual([{ owner: 'keeper', failures: 0 }]);
  });

  it('runs the retention policy of a hypertable whose owner is not a superuser, as that owner, and records its failures', async () => {
    const db = await openDb('memory://');
    // A dropped chunk's catalog rows go with its table (the sql_drop event trigger), so the policy
    // needs no privilege on the catalog.
    await db.exec(`CREATE EXTENSION timescaledb; CREATE ROLE keeper;
      CREATE TABLE r (time timestamptz NOT NULL, host text, v float8);
      SELECT create_hypertable('r', by_range('time', INTERVAL '1 day'));
      SELECT add_dimension('r', by_hash('host', 2));
      ALTER TABLE r OWNER TO keeper;
      SET SESSION AUTHORIZATION keeper;
      INSERT INTO r VALUES (now() - INTERVAL '5 days', 'a', 1), (now() - INTERVAL '4 days', 'b', 2), (now(), 'a', 3);
      SELECT add_retention_policy('r', INTERVAL '3 days', schedule_interval => INTERVAL '1 second');
      RESET SESSION AUTHORIZATION;`);
    const left = () => db.query<{ n: number }>("SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE hypertable_name = 'r'").then((r) => r.rows[0]!.n);
    expect(await waitFor('the policy to drop the old chunks', left, (n) => n === 2)).toBe(2);
    const stats = () =>
      db.query<{ ok: number; failed: number }>(
        "SELECT total_successes::int AS ok, total_failures::int AS failed FROM timescaledb_information.job_stats WHERE hypertable_name = 'r'",
      ).then((r) => r.rows[0]!);
    expect((await waitFor('a recorded success', stats, (s) => s.ok > 0)).failed).toBe(0);
    expect((await db.query<{ n: number }>("SELECT count(*)::int AS n FROM r")).rows).toEqual([{ n: 1 }]);
    // Once the owner may no longer drop them (the chunks given away), each run fails and is recorded.
    await db.exec("INSERT INTO r VALUES (now() - INTERVAL '6 days', 'a', 4)");
    await db.exec(`DO $$ DECLARE c regclass; BEGIN FOR c IN SELECT show_chunks('r', older_than => INTERVAL '3 days') LOOP EXECUTE format('ALTER TABLE %s OWNER TO postgres', c); END LOOP; END $$`);
    const errors = () =>
      db.query<{ code: string; message: string }>(
        "SELECT sqlerrcode AS code, err_message AS message FROM timescaledb_information.job_errors WHERE proc_name = 'policy_retention'",
      ).then((r) => r.rows);
    const recorded = await waitFor('a recorded failure', errors, (e) => e.length > 0);
    expect(recorded[0]).toMatchObject({ code: '42501', message: expect.stringMatching(/^must be owner of table _hyper_\d+_\d+_chunk$/) });
  });
});
