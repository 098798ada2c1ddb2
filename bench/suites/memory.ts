/**
 * @module bench/suites/memory
 * `--suite memory [--hours 240] [--cache-mb 64] [--queries a,b]`: issue 10's "memory stays bounded".
 * An `orbit serve` process on files (its own process, so its memory is all Orbit's) takes a
 * direct-to-columnstore COPY of TSBS-style cpu data generated on the fly (never held whole: the CSV
 * is many times the size of PGlite's WASM memory), then answers the nine TSBS queries. Reported: the
 * data's size (CSV bytes, the values as 8-byte numbers, bytes on disk) against the server's peak
 * resident memory during the load and during the queries, with the batch cache limited to
 * `--cache-mb` so the queries must read batches back from storage.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import postgres from 'postgres';
import { cpuCsvPieces } from '../data/cpu-csv.js';
import { tsbsQueries } from '../tsbs/queries.js';
import { orbitCpuTableSql } from '../tsbs/systems.js';
import type { Suite } from './suite.js';

/** Resident and peak resident memory of a process, MiB (Linux /proc). */
function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Starts the peak (VmHWM) afresh, so each phase reports its own; false where the kernel refuses. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

function diskBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += statSync(join(e.parentPath, e.name)).size;
  }
  return total;
}

async function startServer(dir: string, cacheMb: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['bin/orbit.js', 'serve', '--data-dir', dir, '--listen', '127.0.0.1:0', '--http', 'off', '--no-job-scheduler', '--batch-cache-mb', String(cacheMb)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PostgreSQL on [^:]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`orbit exited with ${code}`)));
  });
  return { child, port };
}

export const memorySuite: Suite = {
  name: 'memory',
  options: {
    hours: { type: 'string', default: '240' },
    'cache-mb': { type: 'string', default: '64' },
    queries: { type: 'string' },
  },
  async run(args) {
    const hours = Number(args.hours);
    const rows = hours * 360 * 100;
    const cacheMb = Number(args['cache-mb']);
    const dir = mkdtempSync(join(tmpdir(), 'orbit-memory-'));
    const { child, port } = await startServer(dir, cacheMb);
    const pid = child.pid!;
    const conn = { host: '127.0.0.1', port, user: 'postgres', database: 'postgres' };
    const client = new pg.Client(conn);
    try {
      await client.connect();
      await client.query(orbitCpuTableSql(true));
      const before = memoryMb(pid);
      const peaksReset = resetPeak(pid);
      // The CSV is generated as it is sent: the bench process never holds it either.
      let csvBytes = 0;
      const source = Readable.from(
        (function* () {
          for (const piece of cpuCsvPieces(rows)) {
            csvBytes += piece.length;
            if (csvBytes % (64 << 20) < piece.length) process.stderr.write(`\r  loading ${((csvBytes / 1e6) | 0)} MB`);
            yield piece;
          }
        })(),
      );
      const sql = postgres({ ...conn, max: 1, onnotice: () => undefined });
      const t0 = performance.now();
      await pipeline(source, await sql`COPY cpu FROM STDIN (FORMAT csv)`.writable());
      const loadMs = performance.now() - t0;
      await sql.end();
      process.stderr.write('\n');
      const load = memoryMb(pid);
      const count = Number((await client.query('SELECT count(*) FROM cpu')).rows[0].count);
      if (count !== rows) throw new Error(`loaded ${count} rows, expected ${rows}`);
      const disk = diskBytes(dir);

      resetPeak(pid);
      await client.query("SET TIME ZONE 'UTC'");
      const wanted = args.queries ? new Set(String(args.queries).split(',')) : undefined;
      const queries: Array<{ query: string; rows: number; coldMs: number; warmMs: number; rssMb: number }> = [];
      for (const q of tsbsQueries(hours)) {
        if (wanted && !wanted.has(q.name)) continue;
        const c0 = performance.now();
        const r = await client.query({ text: q.sql.timescaledb, rowMode: 'array' });
        const coldMs = performance.now() - c0;
        const w0 = performance.now();
        await client.query({ text: q.sql.timescaledb, rowMode: 'array' });
        queries.push({ query: q.name, rows: r.rowCount ?? 0, coldMs, warmMs: performance.now() - w0, rssMb: memoryMb(pid).rss });
      }
      const after = memoryMb(pid);

      const valuesMb = (rows * 11 * 8) / 2 ** 20; // time + 10 metrics as 8-byte numbers, tags aside
      console.log(`\nmemory: ${rows} rows (${hours} h), batch cache ${cacheMb} MiB, orbit serve on files`);
      console.log(`  data: CSV ${(csvBytes / 2 ** 20).toFixed(0)} MiB, values as 8-byte numbers ${valuesMb.toFixed(0)} MiB, on disk ${(disk / 2 ** 20).toFixed(0)} MiB`);
      console.log(`  load: ${((rows / loadMs) * 1000).toFixed(0)} rows/s; server RSS ${before.rss.toFixed(0)} MiB before, ${load.rss.toFixed(0)} after, peak ${load.peak.toFixed(0)}${peaksReset ? '' : ' (since start)'}`);
      console.log(`  queries: peak RSS ${after.peak.toFixed(0)} MiB${peaksReset ? '' : ' (since start)'}`);
      console.log(`  ${'query'.padEnd(24)} ${'rows'.padStart(6)} ${'cold ms'.padStart(9)} ${'warm ms'.padStart(9)} ${'RSS MiB'.padStart(8)}`);
      for (const q of queries) {
        console.log(`  ${q.query.padEnd(24)} ${String(q.rows).padStart(6)} ${q.coldMs.toFixed(1).padStart(9)} ${q.warmMs.toFixed(1).padStart(9)} ${q.rssMb.toFixed(0).padStart(8)}`);
      }
      return { rows, hours, cacheMb, csvBytes, diskBytes: disk, loadMs, rssBeforeMb: before.rss, loadPeakMb: load.peak, queryPeakMb: after.peak, queries };
    } finally {
      await client.end().catch(() => undefined);
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
