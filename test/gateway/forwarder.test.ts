/**
 * The gateway forwarder: every row of a device's hypertable reaches the remote exactly once, through
 * a remote that is down, stalls, loses a COMMIT or its acknowledgement, and a device process killed
 * mid-forward; chunks compressed before forwarding arrive intact.
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Forwarder, ForwarderState, type ForwarderOptions } from '../../src/gateway/forwarder.js';
import { pgRemote } from '../../src/gateway/remote-pg-node.js';
import { RemoteTimeout, type Remote } from '../../src/gateway/remote.js';
import { openOrbit, type Orbit } from '../../src/runtime/node.js';
import { startFaultyProxy, type FaultyProxy } from '../support/faulty-proxy.js';
import { DEVICE_SCHEMA, REMOTE_SCHEMA, digest, ingest } from '../support/gateway.js';
import { startTestServer, tempDir, TEMPLATE, type TestServer } from '../support/server.js';

let server: TestServer;
let proxy: FaultyProxy;
let remoteDb: pg.Client;

beforeAll(async () => {
  server = await startTestServer();
  proxy = await startFaultyProxy(server.port);
  remoteDb = new pg.Client({ connectionString: server.url });
  await remoteDb.connect();
  await remoteDb.query(REMOTE_SCHEMA);
});

afterAll(async () => {
  await remoteDb?.end();
  await proxy?.close();
  await server?.close();
});

/** Each test forwards as its own device, so the remote's rows are told apart by device. */
let deviceNumber = 0;
let device: string;
// The scheduler stays off: the device tables (created WITH (tsdb.hypertable)) get TimescaleDB 2.23's
// columnstore policy, which would compress chunks at a time of its own; these tests compress them.
let db: Orbit;
let remote: Remote;
const forwarders: Forwarder[] = [];

beforeEach(async () => {
  device = `device-${++deviceNumber}`;
  db = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, jobScheduler: false });
  await db.exec(DEVICE_SCHEMA);
  remote = pgRemote(proxy.url, { timeoutMs: 5000 });
  proxy.up();
});

afterEach(async () => {
  for (const f of forwarders.splice(0)) await f.stop();
  await remote.close();
  await db.close();
});

function forwarder(options: Partial<ForwarderOptions> = {}): Forwarder {
  const f = new Forwarder({
    local: db.session(),
    remote,
    device,
    source: 'readings',
    deviceColumn: 'device',
    batchSize: 500,
    retry: { initialDelayMs: 20, maxDelayMs: 200 },
    pollIntervalMs: 50,
    ...options,
  });
  forwarders.push(f);
  return f;
}

const remoteDigest = (name = device) => digest(remoteDb, 'device = $1', [name]);
const remoteBatches = async (name = device) =>
  Number((await remoteDb.query('SELECT count(*) AS n FROM gateway_batches WHERE device = $1', [name])).rows[0].n);

async function compressOldChunks(before: string): Promise<number> {
  const { rows } = await db.query(`SELECT compress_chunk(c) FROM show_chunks('readings', older_than => $1::timestamptz) c`, [before]);
  return rows.length;
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('forwarding', () => {
  it('sends every row once, compressed chunks included, with exact values', async () => {
    await ingest(db, 1, 2600);
    expect(await compressOldChunks('2024-01-01 04:00+00')).toBe(4);
    const fwd = forwarder();
    expect(await fwd.backlog()).toBe(2600);
    expect(await fwd.drain()).toBe(2600);
    expect(await remoteDigest()).toEqual(await digest(db));
    expect(fwd.status()).toMatchObject({ state: ForwarderState.idle, ackedSeq: 2600, forwardedRows: 2600, forwardedBatches: 6, consecutiveFailures: 0 });
    expect(fwd.status().pending).toBeUndefined();
    expect(await remoteBatches()).toBe(6);

    // New rows after the chunks were compressed; nothing is sent twice.
    await ingest(db, 2601, 2700);
    expect(await fwd.drain()).toBe(100);
    expect(await fwd.drain()).toBe(0);
    expect(await remoteDigest()).toEqual(await digest(db));
    expect(await fwd.backlog()).toBe(0);
  });

  it('keeps the remote rows when old chunks are compressed after forwarding started', async () => {
    await ingest(db, 1, 1500);
    const fwd = forwarder({ batchSize: 400 });
    expect(await fwd.forwardBatch()).toMatchObject({ batchId: 1, firstSeq: 1, lastSeq: 400, rows: 400, duplicate: false });
    // Rows already forwarded and rows not yet forwarded now live only in the columnstore.
    expect(await compressOldChunks('2024-01-01 02:00+00')).toBe(2);
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE is_compressed`);
    expect(rows[0]!.n).toBe(2);
    expect(await fwd.drain()).toBe(1100);
    expect(await remoteDigest()).toEqual(await digest(db));
  });
});

describe('failures', () => {
  it('keeps ingesting while the remote is down, then catches up', async () => {
    proxy.down();
    const fwd = forwarder();
    fwd.start();
    await ingest(db, 1, 1200);
    await until('a few failed attempts', () => fwd.status().consecutiveFailures >= 3);
    expect(fwd.status().state).toBe(ForwarderState.backoff);
    expect(fwd.status().lastError?.message).toBeTruthy();
    expect(fwd.status().nextAttemptAt).toBeInstanceOf(Date);
    // Offline: more rows, and the old chunks go to the columnstore before any of them left.
    await ingest(db, 1201, 2400);
    expect(await compressOldChunks('2024-01-01 04:00+00')).toBe(4);
    expect((await remoteDigest()).rows).toBe(0);

    proxy.up();
    fwd.wake();
    await until('the backlog to drain', async () => (await fwd.backlog()) === 0 && fwd.status().state === ForwarderState.idle);
    expect(fwd.status().consecutiveFailures).toBe(0);
    expect(await remoteDigest()).toEqual(await digest(db));
    expect(await remoteBatches()).toBe(fwd.status().forwardedBatches);
  });

  it('makes the retry a no-op when the remote committed but the acknowledgement was lost', async () => {
    await ingest(db, 1, 1400);
    const fwd = forwarder();
    expect(await fwd.forwardBatch()).toMatchObject({ batchId: 1, rows: 500, duplicate: false });
    proxy.dropNextCommitAck();
    const dropped = proxy.droppedAcks;
    await expect(fwd.forwardBatch()).rejects.toThrow();
    expect(proxy.droppedAcks).toBe(dropped + 1);
    // The remote has batch 2; the device does not know and still holds it in flight.
    expect((await remoteDigest()).rows).toBe(1000);
    expect(fwd.status()).toMatchObject({ state: ForwarderState.backoff, ackedSeq: 500, pending: { batchId: 2, firstSeq: 501, lastSeq: 1000, rows: 500 } });

    expect(await fwd.forwardBatch()).toMatchObject({ batchId: 2, rows: 500, duplicate: true });
    expect((await remoteDigest()).rows).toBe(1000);
    expect(await fwd.drain()).toBe(400);
    expect(await remoteDigest()).toEqual(await digest(db));
    expect(await remoteBatches()).toBe(3);
    expect(fwd.status()).toMatchObject({ ackedSeq: 1400, forwardedRows: 1400, forwardedBatches: 3 });
  });

  it('writes nothing when the connection drops before COMMIT, and the retry writes once', async () => {
    await ingest(db, 1, 1200);
    const fwd = forwarder();
    expect(await fwd.forwardBatch()).toMatchObject({ batchId: 1, rows: 500, duplicate: false });
    proxy.dropNextCommit();
    await expect(fwd.forwardBatch()).rejects.toThrow();
    // The server rolls the transaction back when the connection goes: neither batch 2's key nor its
    // rows may remain (an Orbit remote must not have written them to its columnstore early).
    await until('the remote to roll back', async () => (await remoteBatches()) === 1);
    expect((await remoteDigest()).rows).toBe(500);
    expect(fwd.status().pending).toMatchObject({ batchId: 2, firstSeq: 501, lastSeq: 1000 });
    expect(await fwd.forwardBatch()).toMatchObject({ batchId: 2, rows: 500, duplicate: false });
    expect(await fwd.drain()).toBe(200);
    expect(await remoteBatches()).toBe(3);
    expect(await remoteDigest()).toEqual(await digest(db));
  });

  it('gives up on a remote that stops answering and retries on a new connection', async () => {
    await ingest(db, 1, 300);
    remote = pgRemote(proxy.url, { timeoutMs: 300 });
    const fwd = forwarder({ remote });
    proxy.stall();
    await expect(fwd.forwardBatch()).rejects.toBeInstanceOf(RemoteTimeout);
    proxy.up();
    expect(await fwd.drain({ timeoutMs: 20_000 })).toBe(300);
    expect(await remoteDigest()).toEqual(await digest(db));
  });

  it('stops, without writing, when another database already used the device name', async () => {
    await ingest(db, 1, 600);
    expect(await forwarder().drain()).toBe(600);
    // A device reset to an empty database under the same name: its batch 1 holds other rows.
    const other = await openOrbit({ dataDir: 'memory://', templatePath: TEMPLATE, jobScheduler: false });
    try {
      await other.exec(DEVICE_SCHEMA);
      await ingest(other, 5000, 5100);
      const fwd = forwarder({ local: other.session() });
      await expect(fwd.drain()).rejects.toMatchObject({ code: '23505' });
      expect(fwd.status().state).toBe(ForwarderState.failed);
      await expect(fwd.forwardBatch()).rejects.toMatchObject({ code: '55000' });
      expect(await remoteDigest()).toEqual(await digest(db));
    } finally {
      await other.close();
    }
  });

  it('stops when rows of the batch in flight change before it is resent', async () => {
    await ingest(db, 1, 1200);
    const fwd = forwarder();
    expect(await fwd.forwardBatch()).toMatchObject({ batchId: 1, duplicate: false });
    proxy.dropNextCommitAck();
    await expect(fwd.forwardBatch()).rejects.toThrow();
    // Batch 2 is on the remote but not acknowledged; deleting one of its rows locally means the
    // device can no longer resend what it sent.
    await db.query('DELETE FROM readings WHERE seq = 650');
    await expect(fwd.forwardBatch()).rejects.toMatchObject({ code: '55000' });
    expect(fwd.status()).toMatchObject({ state: ForwarderState.failed, ackedSeq: 500, pending: { batchId: 2 } });
    expect((await remoteDigest()).rows).toBe(1000);
  });

  it('refuses a source without a sequence column, with the fix in the hint', async () => {
    await db.exec(`CREATE TABLE plain (time timestamptz NOT NULL, v int)`);
    const fwd = forwarder({ source: 'plain' });
    await expect(fwd.drain()).rejects.toMatchObject({ code: '42703', hint: expect.stringContaining('GENERATED ALWAYS AS IDENTITY') });
    expect(fwd.status().state).toBe(ForwarderState.failed);
  });
});

describe('a device process killed mid-forward', () => {
  /** Runs the device script (test/gateway/fixtures/device.ts) on `dataDir`; resolves with its exit. */
  function runDevice(dataDir: string, env: Record<string, string>, onLine?: (line: string, kill: () => void) => void) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/gateway/fixtures/device.ts'], {
      env: { ...process.env, DATA_DIR: dataDir, REMOTE_URL: proxy.url, DEVICE: device, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let pending = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      pending += d.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        onLine?.(line, () => child.kill('SIGKILL'));
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    return new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal, out })),
    );
  }

  it('resumes after SIGKILL between the remote commit and the local acknowledgement, and at a random point', async () => {
    const dir = tempDir('orbit-gateway-');
    try {
      // The device's data: ingested and partly compressed before any forwarding.
      const local = await openOrbit({ dataDir: dir.path, templatePath: TEMPLATE, jobScheduler: false });
      await local.exec(DEVICE_SCHEMA);
      await ingest(local, 1, 3000);
      const compressed = await local.query(`SELECT compress_chunk(c) FROM show_chunks('readings', older_than => timestamptz '2024-01-01 04:00+00') c`);
      expect(compressed.rows.length).toBe(4);
      const expected = await digest(local);
      await local.close();

      // 1. Killed by itself right after the remote acknowledged the third batch's COMMIT.
      const first = await runDevice(dir.path, { KILL_AFTER_COMMIT: '3' });
      expect(first.signal, first.out).toBe('SIGKILL');
      expect((await remoteDigest()).rows).toBe(3 * 200);

      // 2. Killed from outside after two more batches were acknowledged, wherever it then is.
      let acks = 0;
      const second = await runDevice(dir.path, {}, (line, kill) => {
        if (line.startsWith('batch ') && ++acks === 2) setTimeout(kill, Math.floor(Math.random() * 40));
      });
      expect(second.signal, second.out).toBe('SIGKILL');
      expect(second.out).toContain('batch 3 rows 200 duplicate true');

      // 3. Runs to the end.
      const third = await runDevice(dir.path, {});
      expect(third.code, third.out).toBe(0);
      expect(await remoteDigest()).toEqual(expected);
      expect(await remoteBatches()).toBe(3000 / 200);
      expect(third.out).toMatch(/^done forwarded 3000 batches 15$/m);
    } finally {
      dir.remove();
    }
  });
});
