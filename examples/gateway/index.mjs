// The offline-first gateway pattern (docs/guides/gateway.md), end to end:
// a simulated device ingests sensor readings into its own Orbit data directory, loses its uplink,
// keeps ingesting and compresses its old chunks, then comes back and forwards everything exactly
// once to a remote: an `orbit serve` started here, or any PostgreSQL given with --remote.
//
//   npm run build && node examples/gateway/index.mjs [--remote postgres://…] [--data-dir DIR]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Forwarder, openOrbit, pgRemote } from 'orbit/node';

const { values: args } = parseArgs({
  options: {
    remote: { type: 'string' },
    'data-dir': { type: 'string' },
    device: { type: 'string', default: 'gateway-1' },
    sensors: { type: 'string', default: '20' },
  },
});
const sensors = Number(args.sensors);
const log = (...parts) => console.log(new Date().toISOString().slice(11, 23), ...parts);

// 1. The remote: an `orbit serve` child process on an ephemeral port unless a URL was given.
let server;
let remoteUrl = args.remote;
if (!remoteUrl) {
  server = spawn(process.execPath, ['bin/orbit.js', 'serve', '--data-dir', 'memory://', '--listen', '127.0.0.1:0', '--http', 'off'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      const m = /PostgreSQL on [^,)]*:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    server.on('exit', (code) => reject(new Error(`orbit serve exited with ${code}`)));
  });
  remoteUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  log(`remote: orbit serve on port ${port}`);
}

// The remote table: the device's columns plus the device's name (no sequence column there).
const admin = new pg.Client({ connectionString: remoteUrl });
await admin.connect();
await admin.query(`CREATE EXTENSION IF NOT EXISTS timescaledb`);
await admin.query(`CREATE TABLE IF NOT EXISTS readings (
  time timestamptz NOT NULL, sensor text NOT NULL, temperature double precision, humidity double precision,
  device text NOT NULL)`);
await admin.query(`SELECT create_hypertable('readings', by_range('time', INTERVAL '1 day'), if_not_exists => true)`);

// 2. The device's uplink: a relay we can cut, standing in for the device's network.
const uplink = await startUplink(new URL(remoteUrl));

// 3. The device: its own data directory, a hypertable with a sequence column, old chunks compressible.
const dataDir = args['data-dir'] ?? mkdtempSync(join(tmpdir(), 'orbit-gateway-'));
const db = await openOrbit({ dataDir });
await db.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb;
  CREATE TABLE IF NOT EXISTS readings (
    time timestamptz NOT NULL, sensor text NOT NULL, temperature double precision, humidity double precision,
    seq bigint GENERATED ALWAYS AS IDENTITY
  ) WITH (tsdb.hypertable, tsdb.partition_column = 'time', tsdb.chunk_interval = '1 hour', tsdb.segmentby = 'sensor')`);
log(`device: data in ${dataDir}`);

// 4. The forwarder, on a session of its own, forwarding in the background.
let lastState = '';
let lastBatches = -1;
const forwarder = new Forwarder({
  local: db.session(),
  remote: pgRemote(uplink.url, { timeoutMs: 5000 }),
  device: args.device,
  source: 'readings',
  deviceColumn: 'device',
  batchSize: 2000,
  retry: { initialDelayMs: 200, maxDelayMs: 2000 },
  pollIntervalMs: 200,
  // Logs changes between idle, backoff and failed (not every batch's 'forwarding'), and every 5th batch.
  onStatus: (s) => {
    const batchLine = s.forwardedBatches !== lastBatches && s.forwardedBatches % 5 === 0;
    lastBatches = s.forwardedBatches;
    if (s.state === 'forwarding' && !batchLine) return;
    if (s.state === lastState && !batchLine) return;
    if (s.state !== 'forwarding') lastState = s.state;
    const why = s.state === 'backoff' ? ` (attempt ${s.consecutiveFailures} failed: ${s.lastError?.message})` : '';
    log(`forwarder: ${s.state}, ${s.forwardedRows} rows in ${s.forwardedBatches} batches acknowledged${why}`);
  },
});
forwarder.start();

// Simulated sensors: one reading per sensor every 10 s of device time, a minute of it per tick.
const { rows: [last] } = await db.query(`SELECT max(time) AS t FROM readings`);
let clock = last.t ? last.t.getTime() + 10_000 : Date.UTC(2024, 0, 1);
async function ingestMinutes(minutes) {
  for (let m = 0; m < minutes; m++) {
    const from = new Date(clock).toISOString();
    await db.query(
      `INSERT INTO readings (time, sensor, temperature, humidity)
       SELECT $1::timestamptz + t * INTERVAL '10 seconds', 'sensor-' || s,
              round((20 + 5 * sin(extract(epoch FROM $1::timestamptz) / 3600 + s) + random())::numeric, 3),
              round((40 + 10 * cos(extract(epoch FROM $1::timestamptz) / 7200 + s))::numeric, 2)
       FROM generate_series(0, 5) t, generate_series(1, $2::int) s`,
      [from, sensors],
    );
    clock += 60_000;
    // Device time runs at about 20 minutes per second of wall time, so retries show up offline.
    if (m % 20 === 19) await new Promise((r) => setTimeout(r, 1000));
  }
}

log('phase 1: online, 2 hours of readings');
await ingestMinutes(120);
await waitFor(async () => (await forwarder.backlog()) === 0);
log(`remote has ${await remoteCount()} rows`);

log('phase 2: uplink down; the device keeps ingesting 4 hours and compresses its old chunks');
uplink.down();
await ingestMinutes(240);
const { rows: compressed } = await db.query(
  `SELECT compress_chunk(c) FROM show_chunks('readings', older_than => $1::timestamptz) c`,
  [new Date(clock - 3_600_000).toISOString()],
);
const { rows: [chunks] } = await db.query(
  `SELECT count(*) FILTER (WHERE is_compressed) AS compressed, count(*) AS total FROM timescaledb_information.chunks WHERE hypertable_name = 'readings'`,
);
log(`forwarder while offline: ${forwarder.status().state}, ${forwarder.status().consecutiveFailures} failed attempts`);
log(`compressed ${compressed.length} chunks (${chunks.compressed} of ${chunks.total} now in the columnstore); backlog ${await forwarder.backlog()} rows; remote still has ${await remoteCount()}`);

log('phase 3: uplink back; catching up');
uplink.up();
forwarder.wake();
const started = Date.now();
await waitFor(async () => (await forwarder.backlog()) === 0);
log(`caught up in ${Date.now() - started} ms`);

// 5. Both sides agree: same rows, same values.
const check = `SELECT count(*)::int AS n, md5(string_agg(concat_ws('|', extract(epoch FROM time), sensor, temperature, humidity), ',' ORDER BY time, sensor)) AS md5 FROM readings`;
const local = (await db.query(check)).rows[0];
const remote = (await admin.query(`${check} WHERE device = $1`, [args.device])).rows[0];
log(`device: ${local.n} rows, md5 ${local.md5}`);
log(`remote: ${remote.n} rows, md5 ${remote.md5}`);
const ok = local.n === remote.n && local.md5 === remote.md5;
log(ok ? 'every row arrived exactly once' : 'MISMATCH');

await forwarder.stop();
await admin.end();
await db.close();
await uplink.close();
if (server) server.kill('SIGTERM');
if (!args['data-dir']) rmSync(dataDir, { recursive: true, force: true });
process.exitCode = ok ? 0 : 1;

async function remoteCount() {
  const { rows } = await admin.query('SELECT count(*)::int AS n FROM readings WHERE device = $1', [args.device]);
  return rows[0].n;
}

async function waitFor(check, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A TCP relay to the remote that can be cut: down() drops open connections and refuses new ones. */
async function startUplink(target) {
  let isUp = true;
  const open = new Set();
  const relay = createServer((inbound) => {
    if (!isUp) return inbound.destroy();
    const outbound = connect(Number(target.port || 5432), target.hostname);
    for (const s of [inbound, outbound]) {
      open.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        open.delete(s);
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(relay.address().port);
  return {
    url: url.toString(),
    down() {
      isUp = false;
      for (const s of open) s.destroy();
    },
    up() {
      isUp = true;
    },
    close: () => {
      for (const s of open) s.destroy();
      return new Promise((resolve) => relay.close(resolve));
    },
  };
}
