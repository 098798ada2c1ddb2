/**
 * @module gateway/forwarder
 * Forwards the rows of a local hypertable to a remote table exactly once, across crashes of either
 * side and lost acknowledgements (docs/guides/gateway.md).
 *
 * - Order: rows are read in the order of a sequence column (`bigint GENERATED ALWAYS AS IDENTITY`).
 *   Orbit runs one transaction at a time on its backend, so sequence values become visible in
 *   increasing order and "everything up to N" never gains a row later.
 * - Outbox: before a batch leaves, its range, row count and checksum are committed locally
 *   (`orbit_gateway.streams`). After a crash the same batch is sent again, never a re-cut one.
 * - Idempotent remote write: the batch's key (device, stream, batch id) is inserted into the remote
 *   batch table first, in the same transaction as the rows; a key that is already there means the
 *   batch committed before (its acknowledgement was lost), so the retry writes nothing.
 * - Rows are read through ordinary SQL on the hypertable, so chunks compressed meanwhile are read
 *   from the columnstore like any other. Values travel as PostgreSQL's own text forms (exact for
 *   every type) in typed array parameters and are cast back to the column types on the remote.
 */
import { orbitError } from '../errors.js';
import type { Queryable } from '../orbit.js';
import { STATE_DDL, STREAM_COLUMNS, type StreamRow } from './outbox.js';
import { quoteIdent, TEXT_SETTINGS, toBatch, type Batch } from './batch.js';
import type { Remote, RemoteTransaction } from './remote.js';

export interface RetryOptions {
  /** First wait after a failure (default 500 ms); it doubles per consecutive failure. */
  readonly initialDelayMs?: number;
  /** Longest wait between attempts (default 60,000 ms). */
  readonly maxDelayMs?: number;
  /** Random spread of each wait, as a fraction of it (default 0.2), so devices do not retry in step. */
  readonly jitter?: number;
}

export interface ForwarderOptions {
  /**
   * The local Orbit. Best a session of its own (`db.session()`): the forwarder runs short
   * transactions on it, and statements of the same session would run inside them.
   */
  readonly local: Queryable;
  readonly remote: Remote;
  /** This device's name on the remote: with `stream`, the key of its batches. Unique per local database. */
  readonly device: string;
  /** The local hypertable (or table), as written in SQL. */
  readonly source: string;
  /** The remote table, as written in SQL on the remote (default: `source`). It must exist. */
  readonly target?: string;
  /** Column numbering rows in commit order (default `seq`): `bigint GENERATED ALWAYS AS IDENTITY`. */
  readonly sequenceColumn?: string;
  /** Columns to forward, named alike on both sides (default: every column but the sequence column). */
  readonly columns?: readonly string[];
  /** A remote text column that receives `device` in every forwarded row. */
  readonly deviceColumn?: string;
  /** Name of this flow of batches (default: `source`); forwarding one table to two places needs two. */
  readonly stream?: string;
  /** Rows per batch and per remote transaction (default 1,000). */
  readonly batchSize?: number;
  /** Remote table recording forwarded batches (default `gateway_batches`). */
  readonly batchTable?: string;
  /** Create the batch table on the remote when missing (default true). */
  readonly createBatchTable?: boolean;
  readonly retry?: RetryOptions;
  /** How long the background loop waits for new rows once caught up (default 1,000 ms). */
  readonly pollIntervalMs?: number;
  /** Called after every change of status. */
  readonly onStatus?: (status: ForwarderStatus) => void;
}

export const ForwarderState = {
  /** Caught up, or not running. */
  idle: 'idle',
  /** A batch is being read, sent or acknowledged. */
  forwarding: 'forwarding',
  /** The last attempt failed; the next one is at `nextAttemptAt`. */
  backoff: 'backoff',
  /** Stopped by an error that retrying cannot fix (see `lastError`). */
  failed: 'failed',
} as const;
export type ForwarderState = (typeof ForwarderState)[keyof typeof ForwarderState];

export interface ForwarderStatus {
  readonly state: ForwarderState;
  readonly device: string;
  readonly stream: string;
  /** Every row with a sequence value up to this one is on the remote. */
  readonly ackedSeq: number;
  readonly ackedBatch: number;
  /** Rows and batches forwarded over the stream's lifetime (kept in the local database). */
  readonly forwardedRows: number;
  readonly forwardedBatches: number;
  /** The batch committed locally as in flight: sent again, unchanged, until acknowledged. */
  readonly pending?: { readonly batchId: number; readonly firstSeq: number; readonly lastSeq: number; readonly rows: number };
  readonly consecutiveFailures: number;
  readonly lastError?: { readonly message: string; readonly code?: string; readonly at: Date };
  readonly nextAttemptAt?: Date;
  readonly lastForwardAt?: Date;
}

/** One batch that reached the remote. */
export interface BatchResult {
  readonly batchId: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly rows: number;
  /** The remote already had it (an earlier attempt committed, its acknowledgement was lost). */
  readonly duplicate: boolean;
}

interface Resolved {
  readonly source: string;
  readonly seq: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
}

/**
 * Forwards one local table to one remote table. Use `drain()` to catch up once, or `start()` for a
 * background loop that retries with exponential backoff until `stop()`.
 *
 * @example
 * const fwd = new Forwarder({ local: db.session(), remote: pgRemote(url), device: 'pump-7', source: 'readings' });
 * fwd.start();
 */
export class Forwarder {
  private readonly options: ForwarderOptions;
  private readonly stream: string;
  private readonly batchSize: number;
  private resolved?: Resolved;
  private remoteSql?: { batchTable: string; insert: string };
  private current: ForwarderStatus;
  private queue: Promise<unknown> = Promise.resolve();
  private loop?: Promise<void>;
  private stopping = false;
  private wakeUp?: () => void;
  /** Errors that retrying cannot fix: the loop stops on them. */
  private readonly fatal = new WeakSet<object>();

  constructor(options: ForwarderOptions) {
    const batchSize = options.batchSize ?? 1000;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw orbitError('invalid_parameter_value', `batchSize must be a positive integer, not ${batchSize}`);
    if (!options.device) throw orbitError('invalid_parameter_value', 'a forwarder needs a device name');
    this.options = options;
    this.batchSize = batchSize;
    this.stream = options.stream ?? options.source;
    this.current = {
      state: ForwarderState.idle,
      device: options.device,
      stream: this.stream,
      ackedSeq: 0,
      ackedBatch: 0,
      forwardedRows: 0,
      forwardedBatches: 0,
      consecutiveFailures: 0,
    };
  }

  status(): ForwarderStatus {
    return this.current;
  }

  /**
   * Forwards at most one batch: the one in flight if there is one, else the next rows after the
   * acknowledged ones. Resolves undefined when there is nothing to forward; a rejection leaves the
   * batch in flight for the next call.
   */
  forwardBatch(): Promise<BatchResult | undefined> {
    return this.exclusive(() => this.forwardOne());
  }

  /**
   * Forwards until no row is left, waiting between failed attempts as the background loop does.
   * Resolves with the number of rows sent; rejects on an error retrying cannot fix, or when
   * `timeoutMs` passes without catching up.
   */
  async drain(options: { timeoutMs?: number } = {}): Promise<number> {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    let rows = 0;
    for (;;) {
      try {
        const batch = await this.forwardBatch();
        if (!batch) return rows;
        rows += batch.rows;
      } catch (err) {
        if (this.fatal.has(err as object)) throw err;
        const delay = this.backoffDelay();
        if (Date.now() + delay > deadline) throw err;
        await this.sleep(delay);
      }
    }
  }

  /** Starts forwarding in the background: new rows as they come, retrying failures with backoff. */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  /** Ends the background loop after the batch in progress (which may end in flight, to be resent). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    await this.loop;
    this.loop = undefined;
  }

  /** Ends a wait (poll or backoff) now: e.g. when the network comes back or rows were written. */
  wake(): void {
    this.wakeUp?.();
  }

  /** Rows not yet acknowledged by the remote (reads the hypertable). */
  backlog(): Promise<number> {
    return this.exclusive(async () => {
      const r = await this.prepare();
      const { rows } = await this.options.local.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM ${r.source} WHERE ${r.seq} > (SELECT acked_seq FROM orbit_gateway.streams WHERE stream = $1)`,
        [this.stream],
      );
      return Number(rows[0]?.n ?? 0);
    });
  }

  /**
   * Runs `fn` after everything queued before it: the local session may be inside one of the
   * forwarder's transactions, and a statement slipped in between would run inside it.
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const batch = await this.forwardBatch();
        if (!batch) await this.sleep(this.options.pollIntervalMs ?? 1000);
      } catch (err) {
        if (this.fatal.has(err as object)) return;
        const delay = this.backoffDelay();
        this.update({ state: ForwarderState.backoff, nextAttemptAt: new Date(Date.now() + delay) });
        await this.sleep(delay);
      }
    }
  }

  private async forwardOne(): Promise<BatchResult | undefined> {
    if (this.current.state === ForwarderState.failed) throw this.failure();
    this.update({ state: ForwarderState.forwarding, nextAttemptAt: undefined });
    try {
      const resolved = await this.prepare();
      const batch = await this.pendingOrNext(resolved);
      if (!batch) {
        this.update({ state: ForwarderState.idle, consecutiveFailures: 0 });
        return undefined;
      }
      const sql = await this.prepareRemote(resolved);
      const duplicate = await this.options.remote.transaction((tx) => this.send(tx, sql, batch));
      await this.acknowledge(batch);
      this.update({ state: ForwarderState.idle, consecutiveFailures: 0, lastForwardAt: new Date() });
      return { batchId: batch.batchId, firstSeq: batch.firstSeq, lastSeq: batch.lastSeq, rows: batch.rows, duplicate };
    } catch (err) {
      const fatal = this.fatal.has(err as object);
      // The remote may have been replaced or restored meanwhile: check its tables again next time.
      this.remoteSql = undefined;
      const e = err as { message?: unknown; code?: unknown };
      this.update({
        state: fatal ? ForwarderState.failed : ForwarderState.backoff,
        consecutiveFailures: this.current.consecutiveFailures + 1,
        lastError: { message: String(e?.message ?? err), code: typeof e?.code === 'string' ? e.code : undefined, at: new Date() },
      });
      throw err;
    }
  }

  /** Creates the local state, checks the columns and loads the stream's progress. */
  private async prepare(): Promise<Resolved> {
    if (this.resolved) return this.resolved;
    const { local, device, source } = this.options;
    await local.exec(STATE_DDL);
    const named = await local.query<{ name: string }>('SELECT $1::regclass::text AS name', [source]);
    const table = named.rows[0]!.name;
    const attrs = await local.query<{ name: string; type: string; typname: string }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, t.typname
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
       WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [source],
    );
    const seqName = this.options.sequenceColumn ?? 'seq';
    const seqAttr = attrs.rows.find((a) => a.name === seqName);
    if (!seqAttr || !['int2', 'int4', 'int8'].includes(seqAttr.typname)) {
      throw this.halt(orbitError('undefined_column', `${table} has no integer column "${seqName}" to forward its rows in order`, {
        hint: `add one: ALTER TABLE ${table} ADD COLUMN ${seqName} bigint GENERATED ALWAYS AS IDENTITY`,
      }));
    }
    const wanted = this.options.columns ?? attrs.rows.filter((a) => a.name !== seqName).map((a) => a.name);
    const columns = wanted.map((name) => {
      const attr = attrs.rows.find((a) => a.name === name);
      if (!attr) throw this.halt(orbitError('undefined_column', `column "${name}" of ${table} does not exist`));
      return { name, type: attr.type };
    });
    if (columns.length === 0) throw this.halt(orbitError('invalid_parameter_value', `no columns of ${table} to forward`));
    await local.query(
      'INSERT INTO orbit_gateway.streams (stream, device, source) VALUES ($1, $2, $3) ON CONFLICT (stream) DO NOTHING',
      [this.stream, device, table],
    );
    const state = await this.readState();
    if (state.device !== device) {
      // Batch keys on the remote are (device, stream, id): renaming mid-stream would resend everything.
      throw this.halt(orbitError('invalid_parameter_value', `stream "${this.stream}" belongs to device "${state.device}", not "${device}"`));
    }
    this.noteState(state);
    this.resolved = { source: table, seq: quoteIdent(seqName), columns };
    return this.resolved;
  }

  /** Creates the remote batch table if asked to and builds the remote statements (once). */
  private async prepareRemote(r: Resolved): Promise<{ batchTable: string; insert: string }> {
    if (this.remoteSql) return this.remoteSql;
    const batchTableName = this.options.batchTable ?? 'gateway_batches';
    const targetName = this.options.target ?? this.options.source;
    const sql = await this.options.remote.transaction(async (tx) => {
      if (this.options.createBatchTable ?? true) {
        await tx.query(`CREATE TABLE IF NOT EXISTS ${batchTableName} (
          device text NOT NULL,
          stream text NOT NULL,
          batch_id bigint NOT NULL,
          first_seq bigint NOT NULL,
          last_seq bigint NOT NULL,
          row_count integer NOT NULL,
          checksum text NOT NULL,
          committed_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (device, stream, batch_id)
        )`);
      }
      const { rows } = await tx.query<{ batches: string | null; target: string | null }>(
        'SELECT to_regclass($1)::text AS batches, to_regclass($2)::text AS target',
        [batchTableName, targetName],
      );
      const batches = rows[0]?.batches;
      const target = rows[0]?.target;
      // Not fatal: someone may create the table while the device keeps trying.
      if (!batches) throw orbitError('undefined_table', `the remote has no table ${batchTableName}`);
      if (!target) throw orbitError('undefined_table', `the remote has no table ${targetName}`);
      const names = r.columns.map((c) => quoteIdent(c.name));
      const casts = r.columns.map((c, i) => `u.c${i}::${c.type}`);
      const arrays = r.columns.map((_, i) => `$${i + 1}::text[]`);
      const aliases = r.columns.map((_, i) => `c${i}`);
      if (this.options.deviceColumn) {
        names.push(quoteIdent(this.options.deviceColumn));
        casts.push(`$${r.columns.length + 1}::text`);
      }
      const insert = `INSERT INTO ${target} (${names.join(', ')}) SELECT ${casts.join(', ')} FROM unnest(${arrays.join(', ')}) AS u(${aliases.join(', ')})`;
      return { batchTable: batches, insert };
    });
    this.remoteSql = sql;
    return sql;
  }

  /** The batch in flight, or the next rows committed as the new batch in flight. */
  private async pendingOrNext(r: Resolved): Promise<Batch | undefined> {
    const { local } = this.options;
    await local.query('BEGIN');
    try {
      for (const s of TEXT_SETTINGS) await local.query(s);
      const state = await this.readState(true);
      let batch: Batch | undefined;
      if (state.pending_batch !== null) {
        const first = Number(state.pending_first);
        const last = Number(state.pending_last);
        const rows = await this.readRows(r, `src.${r.seq} BETWEEN $1 AND $2`, [first, last]);
        batch = await toBatch(Number(state.pending_batch), rows, r.columns.length);
        if (!batch || batch.firstSeq !== first || batch.lastSeq !== last || batch.rows !== state.pending_rows || batch.checksum !== state.pending_checksum) {
          // Rows of a batch that may already be on the remote changed (deleted, updated, dropped with
          // their chunk): resending would break exactly-once either way, so a person has to decide.
          throw this.halt(orbitError('object_not_in_prerequisite_state', `rows ${first}..${last} of ${r.source} changed while batch ${state.pending_batch} was in flight`));
        }
      } else {
        const rows = await this.readRows(r, `src.${r.seq} > $1`, [Number(state.acked_seq)], this.batchSize);
        batch = await toBatch(Number(state.acked_batch) + 1, rows, r.columns.length);
        if (batch) {
          await local.query(
            `UPDATE orbit_gateway.streams SET pending_batch = $2, pending_first = $3, pending_last = $4, pending_rows = $5,
               pending_checksum = $6, updated_at = now() WHERE stream = $1`,
            [this.stream, batch.batchId, batch.firstSeq, batch.lastSeq, batch.rows, batch.checksum],
          );
        }
      }
      await local.query('COMMIT');
      if (batch) this.update({ pending: { batchId: batch.batchId, firstSeq: batch.firstSeq, lastSeq: batch.lastSeq, rows: batch.rows } });
      return batch;
    } catch (err) {
      await local.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  private async readRows(r: Resolved, where: string, params: unknown[], limit?: number): Promise<Record<string, string | null>[]> {
    // Every reference qualified: an unqualified ORDER BY name would match the text output column.
    const cols = r.columns.map((c, i) => `src.${quoteIdent(c.name)}::text AS c${i}`).join(', ');
    const sql = `SELECT src.${r.seq}::text AS seq, ${cols} FROM ${r.source} AS src WHERE ${where} ORDER BY src.${r.seq}${limit ? ` LIMIT ${limit}` : ''}`;
    const { rows } = await this.options.local.query<Record<string, string | null>>(sql, params);
    return rows;
  }

  /** Writes the batch on the remote; true when the remote already had it. */
  private async send(tx: RemoteTransaction, sql: { batchTable: string; insert: string }, b: Batch): Promise<boolean> {
    const { device } = this.options;
    // The key goes in first: a concurrent or earlier copy of this batch makes it conflict (or wait
    // for the other transaction, then conflict), so rows are written only by the one that claims it.
    const claimed = await tx.query(
      `INSERT INTO ${sql.batchTable} (device, stream, batch_id, first_seq, last_seq, row_count, checksum)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (device, stream, batch_id) DO NOTHING RETURNING batch_id`,
      [device, this.stream, b.batchId, b.firstSeq, b.lastSeq, b.rows, b.checksum],
    );
    if (claimed.rows.length === 0) {
      const { rows } = await tx.query<{ row_count: number; checksum: string; first_seq: string; last_seq: string }>(
        `SELECT row_count, checksum, first_seq::text, last_seq::text FROM ${sql.batchTable} WHERE device = $1 AND stream = $2 AND batch_id = $3`,
        [device, this.stream, b.batchId],
      );
      const prior = rows[0];
      if (prior && Number(prior.row_count) === b.rows && prior.checksum === b.checksum && Number(prior.first_seq) === b.firstSeq && Number(prior.last_seq) === b.lastSeq) return true;
      // Another database used this device name (e.g. a device reset to empty): its rows differ.
      throw this.halt(orbitError('unique_violation', `the remote has a different batch ${b.batchId} for device "${device}", stream "${this.stream}"`, {
        hint: 'each local database needs its own device name',
      }));
    }
    const params: unknown[] = [...b.values];
    if (this.options.deviceColumn) params.push(device);
    await tx.query(sql.insert, params);
    return false;
  }

  private async acknowledge(b: Batch): Promise<void> {
    await this.options.local.query(
      `UPDATE orbit_gateway.streams SET acked_seq = pending_last, acked_batch = pending_batch,
         forwarded_rows = forwarded_rows + pending_rows, forwarded_batches = forwarded_batches + 1,
         pending_batch = NULL, pending_first = NULL, pending_last = NULL, pending_rows = NULL, pending_checksum = NULL,
         updated_at = now()
       WHERE stream = $1 AND pending_batch = $2`,
      [this.stream, b.batchId],
    );
    this.noteState(await this.readState());
  }

  private async readState(forUpdate = false): Promise<StreamRow> {
    const { rows } = await this.options.local.query<StreamRow>(
      `SELECT ${STREAM_COLUMNS} FROM orbit_gateway.streams WHERE stream = $1${forUpdate ? ' FOR UPDATE' : ''}`,
      [this.stream],
    );
    if (!rows[0]) throw orbitError('undefined_object', `gateway stream "${this.stream}" does not exist`);
    return rows[0];
  }

  private noteState(s: StreamRow): void {
    this.update({
      ackedSeq: Number(s.acked_seq),
      ackedBatch: Number(s.acked_batch),
      forwardedRows: Number(s.forwarded_rows),
      forwardedBatches: Number(s.forwarded_batches),
      pending: s.pending_batch === null
        ? undefined
        : { batchId: Number(s.pending_batch), firstSeq: Number(s.pending_first), lastSeq: Number(s.pending_last), rows: s.pending_rows ?? 0 },
    });
  }

  private update(change: Partial<ForwarderStatus>): void {
    this.current = { ...this.current, ...change };
    this.options.onStatus?.(this.current);
  }

  private halt<E extends object>(err: E): E {
    this.fatal.add(err);
    return err;
  }

  private failure(): Error {
    const last = this.current.lastError;
    return this.halt(orbitError('object_not_in_prerequisite_state', `the forwarder stopped after an error it cannot retry: ${last?.message ?? 'unknown'}`));
  }

  private backoffDelay(): number {
    const retry = this.options.retry ?? {};
    const initial = retry.initialDelayMs ?? 500;
    const max = retry.maxDelayMs ?? 60_000;
    const jitter = retry.jitter ?? 0.2;
    const n = Math.max(1, this.current.consecutiveFailures);
    const base = Math.min(max, initial * 2 ** Math.min(n - 1, 30));
    return Math.max(0, Math.round(base * (1 + jitter * (Math.random() * 2 - 1))));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}
