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
   * `now() - INTERVAL …`), so partitions are pruned at executor start-up, after planning them all.
   */
  readonly form: 'constant' | 'parameters' | 'stable';
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
      // Chunks first (cheap when empty), then one INSERT that PostgreSQL routes.
      await db.query("SELECT _timescaledb_functions.create_chunks_for_range('m', TIMESTAMPTZ '2024-01-01', TIMESTAMPTZ '2024-01-01' + $1 * INTERVAL '1 hour' - INTERVAL '1 second')", [chunks]);
      await db.query(
        `INSERT INTO m SELECT TIMESTAMPTZ '2024-01-01' + i * INTERVAL '10 seconds', i % 10, i % 97
         FROM generate_series(0, $1 - 1) i`,
        [chunks * ROWS_PER_CHUNK],
      );
      await db.exec('ANALYZE m');
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM show_chunks($1)', ['m']);
      if (rows[0]!.n !== chunks) throw new Error(`expected ${chunks} chunks, found ${rows[0]!.n}`);
      // The same hour in the middle of each data set.
      const queries = [
        { form: 'constant' as const, sql: "SELECT count(*), avg(value) FROM m WHERE time >= TIMESTAMPTZ '2024-01-01 05:00' AND time < TIMESTAMPTZ '2024-01-01 06:00'", params: [] },
        { form: 'parameters' as const, sql: 'SELECT count(*), avg(value) FROM m WHERE time >= $1 AND time < $2', params: ['2024-01-01 05:00+00', '2024-01-01 06:00+00'] },
        { form: 'stable' as const, sql: "SELECT count(*), avg(value) FROM m WHERE time >= $1 AND time < $1::timestamptz + INTERVAL '1 hour'", params: ['2024-01-01 05:00+00'] },
      ];
      for (const q of queries) {
        for (let i = 0; i < 20; i++) await db.query(q.sql, q.params);
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          const t0 = performance.now();
          const r = await db.query<{ count: string }>(q.sql, q.params);
          times.push(performance.now() - t0);
          if (Number(r.rows[0]!.count) !== ROWS_PER_CHUNK) throw new Error(`expected ${ROWS_PER_CHUNK} rows in the hour`);
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
