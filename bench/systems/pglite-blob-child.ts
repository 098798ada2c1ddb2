// Child process of the pglite-blob system: one COPY FROM '/dev/blob', then prints JSON figures.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { CPU_TABLE_SQL } from '../data/cpu-csv.js';
import { peakRssMb } from './orbit-tcp.js';

const csvPath = process.argv[2]!;
/** Extra SQL run on the new table before the load (an index, say). */
const setupSql = process.argv[3] ?? '';
const dir = mkdtempSync(join(tmpdir(), 'pglite-bench-'));
try {
  const db = await PGlite.create(dir, { loadDataDir: new Blob([readFileSync('dist/pgdata-template.tar.gz')]) });
  await db.exec(CPU_TABLE_SQL);
  if (setupSql) await db.exec(setupSql);
  const t0 = performance.now();
  const blob = new Blob([readFileSync(csvPath)]);
  const r = await db.query("COPY cpu FROM '/dev/blob' WITH (FORMAT csv)", [], { blob });
  const ms = performance.now() - t0;
  await db.close();
  process.stdout.write(`${JSON.stringify({ ms, rows: r.affectedRows, peakRssMb: peakRssMb(process.pid) })}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
