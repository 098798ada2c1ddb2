/**
 * Chunk exclusion: a one-hour query on a hypertable of 1,000 chunks should cost about what it costs
 * on one of 10 (issue "Hypertables and chunks"). Orbit in-process, one-hour chunks with the same
 * rows per chunk in both; each query is run many times and the median reported.
 */
import { openOrbit } from '../../src/runtime/node.js';

export interface ExclusionResult {
  readonly chunks: number;
  readonly rows: number;
  /**
   * `constant`: bounds written in the query; `parameters`: bounds bound as $1 and $2; `stable`: a
   * bound PostgreSQL can only evaluate when the query starts (`$1 + INTERVAL '1 hour'`, like
   * `now() - INTERVAL …`), so partitions are pruned at executor start-up, after planning them all;
   * `now`: `time > now() - INTERVAL '2 hours'`, which Orbit makes constant (sql/rewrite/stable-bounds.ts).
   */
  readonly form: 'constant' | 'parameters' | 'stable' | 'now';
  readonly medianMs: number;
  readonly p90Ms: number;
}

const ROWS_PER_CHUNK = 360; // one row every 10 s

export async function runExclusion(chunkCounts: number[], runs = 200): Promise<ExclusionResult[]> {
  const results: ExclusionResult[] = [];
  for (const chunks of chunkCounts) {
    const db = await openOrbit({ dataDir: 'memory://' });
    try {
      await db.exec(`CREATE EXTENSION timescaledb;
        CREATE TABLE m (time timestamptz NOT NULL, device int, value float8);
        SELECT create_hypertable('m', by_range('time', INTERVAL '1 hour'));`);
      // Data ending at the start of the current hour, so that now()-relative queries find some.
      const end = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
      const base = new Date(end.getTime() - chunks * 3_600_000);
      const at = (hours: number) => new Date(base.getTime() + hours * 3_600_000).toISOString();
      // Chunks first (cheap when empty), then one INSERT that PostgreSQL routes.
      await db.query("SELECT _timescaledb_functions.create_chunks_for_range('m', $1::timestamptz, $2::timestamptz - INTERVAL '1 second')", [at(0), at(chunks)]);
      await db.query(
        `INSERT INTO m SELECT $1::timestamptz + i * INTERVAL '10 seconds', i % 10, i % 97
         FROM generate_series(0, $2 - 1) i`,
        [at(0), chunks * ROWS_PER_CHUNK],
      );
      await db.exec('ANALYZE m');
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM show_chunks($1)', ['m']);
      if (rows[0]!.n !== chunks) throw new Error(`expected ${chunks} chunks, found ${rows[0]!.n}`);
      // The same hour in the middle of each data set.
      const queries = [
        { form: 'constant' as const, sql: `SELECT count(*), avg(value) FROM m WHERE time >= '${at(5)}' AND time < '${at(6)}'`, params: [], rows: ROWS_PER_CHUNK },
        { form: 'parameters' as const, sql: 'SELECT count(*), avg(value) FROM m WHERE time >= $1 AND time < $2', params: [at(5), at(6)], rows: ROWS_PER_CHUNK },
        { form: 'stable' as const, sql: "SELECT count(*), avg(value) FROM m WHERE time >= $1 AND time < $1::timestamptz + INTERVAL '1 hour'", params: [at(5)], rows: ROWS_PER_CHUNK },
        { form: 'now' as const, sql: "SELECT count(*), avg(value) FROM m WHERE time > now() - INTERVAL '2 hours'", params: [], rows: undefined },
      ];
      for (const q of queries) {
        for (let i = 0; i < 20; i++) await db.query(q.sql, q.params);
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          const t0 = performance.now();
          const r = await db.query<{ count: string }>(q.sql, q.params);
          times.push(performance.now() - t0);
          const n = Number(r.rows[0]!.count);
          if (q.rows === undefined ? n === 0 : n !== q.rows) throw new Error(`unexpected row count ${n} for the ${q.form} query`);
        }
        times.sort((a, b) => a - b);
        results.push({ chunks, rows: chunks * ROWS_PER_CHUNK, form: q.form, medianMs: times[Math.floor(runs / 2)]!, p90Ms: times[Math.floor(runs * 0.9)]! });
      }
    } finally {
      await db.close();
    }
  }
  return results;
}
