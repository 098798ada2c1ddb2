// Float sums and averages over compressed chunks where PostgreSQL's overflow checks decide the
// answer (docs/design/columnstore.md, "Kernels"): finite inputs whose sum leaves float8 (or, for
// sum(real), float4) raise 22003, ±Infinity and NaN inputs give ±Infinity/NaN, avg's float8_accum
// also checks its sum of squares. Each answer (rows, or SQLSTATE and message) must be what
// PostgreSQL gives over a plain table holding the same rows, in-process and over TCP; where no
// check can fire the kernels answer, where one might PostgreSQL does.
import { beforeAll, describe, expect, it } from 'vitest';
import { serverWithClient } from '../support/server.js';

/**
 * Whether the kernels answer `agg` over `values`: finite inputs of at most 1e130 in magnitude (no
 * sum or sum of squares of fewer than 2^53 of them overflows float8), and for sum(real) no
 * non-finite input and a sum that cannot reach float4's range.
 */
function kernelsAnswer(agg: string, values: readonly string[]): boolean {
  const xs = values.map(Number);
  const finite = xs.filter(Number.isFinite);
  const max = Math.max(0, ...finite.map(Math.abs));
  if (max > 1e130) return false;
  return agg !== 'sum(r)' || (finite.length === xs.length && xs.length * max < 1e38);
}

/** Per host: its float8 values `v` and real values `r` (NULL where a list is shorter). */
const SERIES: Record<string, { v: string[]; r: string[] }> = {
  // 10 × 1e308 overflows in any order; 2 × 3e38 overflows float4.
  big: { v: Array(10).fill('1e308'), r: ['3e38', '3e38'] },
  // A sum of 0, but float8_accum's sum of squares overflows.
  mix: { v: ['1e200', '-1e200'], r: ['1'] },
  // Non-finite inputs with small finite ones: the same result in any order.
  inf: { v: ['1.5', 'Infinity', '2', '-3'], r: ['1', 'Infinity'] },
  nan: { v: ['1.5', 'NaN', '2'], r: ['NaN', '2'] },
  both: { v: ['Infinity', '-Infinity', '1'], r: ['-Infinity', 'Infinity'] },
  zero: { v: ['-0', '-0'], r: ['-0'] },
  // Large but finite: sums cannot overflow, yet above the bound the kernels leave it to PostgreSQL.
  large: { v: ['1e131', '2.5'], r: ['1e38', '1e38'] },
  small: { v: ['0.125', '-4', '1e100'], r: ['0.5', '1e30'] },
};

describe('float sums and averages near overflow', () => {
  const wire = serverWithClient();

  beforeAll(async () => {
    const rows: string[] = [];
    let minute = 0;
    for (const [host, s] of Object.entries(SERIES)) {
      for (let i = 0; i < Math.max(s.v.length, s.r.length); i++) {
        const v = s.v[i] === undefined ? 'NULL' : `'${s.v[i]}'`;
        const r = s.r[i] === undefined ? 'NULL' : `'${s.r[i]}'`;
        rows.push(`('2024-01-01'::timestamptz + ${minute++} * interval '7 minutes', '${host}', ${v}, ${r})`);
      }
    }
    await wire.server.orbit.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb;
      CREATE TABLE m (time timestamptz NOT NULL, host text, v float8, r real);
      SELECT create_hypertable('m', 'time', chunk_time_interval => INTERVAL '1 hour');
      ALTER TABLE m SET (timescaledb.compress, timescaledb.compress_segmentby = 'host');
      INSERT INTO m VALUES ${rows.join(', ')};
      CREATE TABLE ref AS SELECT * FROM m;
      SELECT count(compress_chunk(c)) FROM show_chunks('m') c;`);
  });
  const inProcess = (sql: string) =>
    wire.server.orbit.query(sql).then(
      (r) => JSON.stringify(r.rows, (_, x) => (typeof x === 'number' ? (Object.is(x, -0) ? '-0' : String(x)) : x)),
      (e: { code?: string; message: string }) => `ERROR ${e.code} ${e.message}`,
    );
  const overTcp = (sql: string) =>
    wire.client.query({ text: sql, rowMode: 'array' }).then(
      (r) => JSON.stringify(r.rows),
      (e: { code?: string; message: string }) => `ERROR ${e.code} ${e.message}`,
    );

  /** Every host and shape against the plain table; `paths`: also checks who answers (no rowstore rows). */
  async function compare(paths: boolean): Promise<void> {
    for (const [host, s] of Object.entries(SERIES)) {
      for (const aggs of ['sum(v)', 'avg(v)', 'sum(r)', 'avg(r)', 'sum(v), avg(v), sum(r), avg(r), count(*)']) {
        for (const shape of [`SELECT ${aggs} FROM T WHERE host = '${host}'`, `SELECT host, ${aggs} FROM T WHERE host = '${host}' GROUP BY host`, `SELECT time_bucket('1 day', time) AS b, ${aggs} FROM T WHERE host = '${host}' GROUP BY b ORDER BY b`]) {
          const q = shape.replace(' T ', ' m ');
          const ref = shape.replace(' T ', ' ref ');
          for (const run of [inProcess, overTcp]) expect(await run(q), `${run === inProcess ? 'in-process' : 'TCP'}: ${q}`).toBe(await run(ref));
          if (!paths) continue;
          const plan = (await wire.server.orbit.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) ${q}`)).rows.map((r) => r['QUERY PLAN']);
          const fast = aggs.split(', ').every((a) => a === 'count(*)' || kernelsAnswer(a, a.includes('(v)') ? s.v : s.r));
          expect(plan[0]!.startsWith('Orbit Columnstore Aggregate'), `${q}\n${plan.join('\n')}`).toBe(fast);
        }
      }
    }
  }

  it('answers as PostgreSQL does over a plain table, from the kernels where no overflow check can fire', async () => {
    await compare(true);
  });

  it('answers so with rowstore rows merged in', async () => {
    // 'small' gets a value above 1e130 in the rowstore only: avg's sum of squares overflows with the
    // batches' rows in any order (with ±Infinity or NaN among them it would depend on the order).
    // 'large' gets two reals in the rowstore whose float4 sum overflows: sum(r) raises, avg(r) (float8_accum) does not.
    const late = "('2024-01-01 00:01+00', 'zero', '-0', '-0'), ('2024-01-01 00:02+00', 'inf', 5, 5), ('2024-01-01 00:03+00', 'big', 1e308, 3e38), ('2024-01-01 00:04+00', 'small', -1e100, 1e30), ('2024-01-01 00:05+00', 'small', 1e200, 1), ('2024-01-01 00:06+00', 'large', 1, 3e38), ('2024-01-01 00:08+00', 'large', 1, 3e38)";
    await wire.server.orbit.exec(`INSERT INTO m VALUES ${late}; INSERT INTO ref VALUES ${late}`);
    await compare(false);
  });
});
