// The gapfill rewrite on the parse tree (src/sql/rewrite/gapfill.ts): which statements it touches,
// what the rewritten SQL keeps of the query, and the errors TimescaleDB raises while planning.
// Results of the rewritten SQL are checked by test/golden/functions/gapfill.sql.
import { deparseSync } from 'pgsql-deparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser, parseSql } from '../../../src/sql/parser.js';
import { rewriteGapfill } from '../../../src/sql/rewrite/gapfill.js';
import { backendText } from '../../../src/session/rewrite.js';

beforeAll(async () => {
  await loadParser();
});

/** The rewritten SQL of one statement, or undefined when nothing is rewritten. */
function rewrite(sql: string): string | undefined {
  const [stmt] = parseSql(sql);
  const node = rewriteGapfill(stmt!.type, stmt!.node);
  return node ? deparseSync(node as never, { pretty: false }) : undefined;
}

function error(sql: string): { code?: string; message: string; hint?: string } {
  try {
    rewrite(sql);
  } catch (err) {
    return err as { code?: string; message: string; hint?: string };
  }
  throw new Error(`no error for ${sql}`);
}

describe('which statements are rewritten', () => {
  it('rewrites a SELECT … GROUP BY whose target list calls time_bucket_gapfill', () => {
    const sql = rewrite('SELECT time_bucket_gapfill(1, t, 0, 5), min(v) FROM m GROUP BY 1');
    expect(sql).toMatch(/^WITH __gf_agg AS \(SELECT time_bucket_gapfill\(1, t, 0, 5\)/);
    expect(sql).toContain('orbit_gapfill_series(');
    expect(sql).toContain('WHERE __gf_w.__gf_keep');
  });

  it('leaves calls without GROUP BY, in WHERE only, or absent alone (they are time_bucket)', () => {
    expect(rewrite('SELECT time_bucket_gapfill(1, t, 0, 5) FROM m')).toBeUndefined();
    expect(rewrite('SELECT count(*) FROM m WHERE time_bucket_gapfill(1, t) > 3 GROUP BY v')).toBeUndefined();
    expect(rewrite('SELECT locf(1)')).toBeUndefined();
    expect(rewrite('SELECT time_bucket(1, t), min(v) FROM m GROUP BY 1')).toBeUndefined();
  });

  it('rewrites gapfill queries nested in subqueries, INSERT … SELECT, PREPARE, views and EXPLAIN', () => {
    for (const sql of [
      'SELECT * FROM (SELECT time_bucket_gapfill(1, t, 0, 5) AS b FROM m GROUP BY 1) s',
      'INSERT INTO x SELECT time_bucket_gapfill(1, t, 0, 5) FROM m GROUP BY 1',
      'PREPARE p AS SELECT time_bucket_gapfill(1, t, 0, 5) FROM m GROUP BY 1',
      'CREATE VIEW v AS SELECT time_bucket_gapfill(1, t, 0, 5) FROM m GROUP BY 1',
      'EXPLAIN SELECT time_bucket_gapfill(1, t, 0, 5) FROM m GROUP BY 1',
    ]) {
      expect(rewrite(sql), sql).toContain('__gf_agg');
    }
  });

  it('keeps the query’s own CTEs ahead of its aggregation', () => {
    const sql = rewrite('WITH x AS (SELECT * FROM m) SELECT time_bucket_gapfill(1, t, 0, 5) FROM x GROUP BY 1')!;
    expect(sql.indexOf('x AS (SELECT')).toBeLessThan(sql.indexOf('__gf_agg AS'));
  });
});

describe('what the rewrite keeps', () => {
  it('names result columns as PostgreSQL would have', () => {
    const sql = rewrite('SELECT time_bucket_gapfill(1, t, 0, 5), min(v), v2::text, 1 + 2, CASE WHEN true THEN 1 END FROM m GROUP BY 1, v2')!;
    expect(sql).toContain('__gf_w.__gf_t AS time_bucket_gapfill');
    expect(sql).toContain('__gf_w.__gf_a0 AS min');
    expect(sql).toContain('AS v2');
    expect(sql).toContain('AS "?column?"');
    expect(sql).toContain('AS "case"');
  });

  it('infers bounds from WHERE and inner-join ON, with one unit added for > and <=', () => {
    const sql = rewrite('SELECT time_bucket_gapfill(1, t) FROM m WHERE t > 0 AND t <= 10 AND t >= -5 GROUP BY 1')!;
    expect(sql).toContain("GREATEST(_timescaledb_functions.orbit_gapfill_bound((SELECT __gf_t FROM __gf_agg LIMIT 0), 0, 'start', true)");
    expect(sql).toContain("orbit_gapfill_bound((SELECT __gf_t FROM __gf_agg LIMIT 0), -5, 'start', false)");
    expect(sql).toContain("orbit_gapfill_bound((SELECT __gf_t FROM __gf_agg LIMIT 0), 10, 'finish', true)");
    const join = rewrite('SELECT time_bucket_gapfill(1, b.t) FROM a JOIN b ON a.id = b.id AND b.t BETWEEN 1 AND 4 GROUP BY 1')!;
    expect(join).toContain("1, 'start', false)");
    expect(join).toContain("4, 'finish', true)");
  });

  it('reports bounds it cannot infer when the query runs (after the width checks)', () => {
    const sql = rewrite('SELECT time_bucket_gapfill(1, t) FROM m WHERE t = 0 OR t < 2 GROUP BY 1')!;
    expect(sql).toContain("orbit_gapfill_fail((SELECT __gf_t FROM __gf_agg LIMIT 0), 'missing time_bucket_gapfill argument: could not infer start from WHERE clause'");
  });

  it('passes parameters of the bounds on to the bucket series', () => {
    const sql = rewrite('SELECT time_bucket_gapfill($1, t) FROM m WHERE t >= $2 AND t < $3 GROUP BY 1')!;
    expect(sql).toContain("orbit_gapfill_bound((SELECT __gf_t FROM __gf_agg LIMIT 0), $2, 'start', false)");
    expect(sql).toContain("orbit_gapfill_bound((SELECT __gf_t FROM __gf_agg LIMIT 0), $3, 'finish', false)");
    expect(sql).toContain('orbit_gapfill_width($1,');
  });

  it('orders by group keys then bucket unless the query orders', () => {
    expect(rewrite('SELECT time_bucket_gapfill(1, t, 0, 5), d FROM m GROUP BY 1, d')).toMatch(/ORDER BY __gf_w\.__gf_k0, __gf_w\.__gf_t$/);
    expect(rewrite('SELECT time_bucket_gapfill(1, t, 0, 5) AS b, d FROM m GROUP BY 1, d ORDER BY b DESC')).toMatch(/ORDER BY b DESC, __gf_w\.__gf_k0, __gf_w\.__gf_t$/);
    expect(rewrite('SELECT DISTINCT time_bucket_gapfill(1, t, 0, 5), d FROM m GROUP BY 1, d')).not.toContain('ORDER BY __gf_w');
  });

  it('evaluates locf prev lookups lazily, with the query’s names for correlated subqueries', () => {
    const sql = rewrite('SELECT time_bucket_gapfill(1, t, 0, 5), m1.d, locf(min(v), (SELECT 1 FROM m m2 WHERE m2.d = m1.d)) FROM m m1 GROUP BY 1, 2')!;
    expect(sql).toContain('orbit_gapfill_locf(');
    expect(sql).toContain('LATERAL ( SELECT __gf_w.__gf_k0 AS d ) AS m1');
  });

  it('splits row-valued interpolate lookups into typed fields', () => {
    const sql = rewrite('SELECT time_bucket_gapfill(1, t, 0, 5), interpolate(min(v), (SELECT (t, v) FROM m ORDER BY t LIMIT 1)) FROM m GROUP BY 1')!;
    expect(sql).toContain('orbit_gapfill_sample(__gf_w.__gf_t, (SELECT t FROM m ORDER BY t LIMIT 1), 1)');
    expect(sql).toContain('orbit_gapfill_sample(__gf_w.__gf_v0, (SELECT v FROM m ORDER BY t LIMIT 1), 2)');
  });
});

describe('TimescaleDB’s planning errors', () => {
  const cases: Array<[string, string, string]> = [
    ['SELECT time_bucket_gapfill(1,t,1,11), time_bucket_gapfill(1,t,1,11) FROM m GROUP BY 1', '0A000', 'multiple time_bucket_gapfill calls not allowed'],
    ['SELECT time_bucket_gapfill(1,time_bucket_gapfill(1,t,1,11),1,11) FROM m GROUP BY 1', '0A000', 'multiple time_bucket_gapfill calls not allowed'],
    ['SELECT 1 + time_bucket_gapfill(1,t,1,11) FROM m GROUP BY 1', '22023', 'no top level time_bucket_gapfill in group by clause'],
    ['SELECT time_bucket_gapfill(1,t,1,11), locf(locf(min(t))) FROM m GROUP BY 1', '0A000', 'multiple interpolate/locf function calls per resultset column not supported'],
    ['SELECT time_bucket_gapfill(1,t,1,11), 1 + locf(min(t)) FROM m GROUP BY 1', '0A000', 'locf must be toplevel function call'],
    ['SELECT time_bucket_gapfill(1,t,1,11), 1 + interpolate(min(t)) FROM m GROUP BY 1', '0A000', 'interpolate must be toplevel function call'],
    ['SELECT time_bucket_gapfill(1,t,1,11), min(min(locf(t))) OVER () FROM m GROUP BY 1', '0A000', 'aggregate functions must be below locf'],
    ['SELECT time_bucket_gapfill(1,t,1,11), locf(avg(min(t)) OVER ()) FROM m GROUP BY 1', '0A000', 'window functions must not be below locf'],
    ['SELECT time_bucket_gapfill(1,t,1,11), avg(min(t)) OVER () + avg(min(t)) OVER () FROM m GROUP BY 1', '0A000', 'multiple window function calls per column not supported'],
    ['SELECT time_bucket_gapfill(1,t,1,11), first(min(t),min(t)) OVER () FROM m GROUP BY 1', '0A000', 'window functions with multiple column references not supported'],
    ['SELECT time_bucket_gapfill(1,t,1,11), locf(min(t), treat_null_as_missing => random() > 0) FROM m GROUP BY 1', '0A000', 'invalid locf argument: treat_null_as_missing must be a BOOL literal'],
    ["SELECT time_bucket_gapfill('1 day', t, tz) FROM m WHERE t >= now() AND t < now() GROUP BY 1", '0A000', 'time_bucket_gapfill does not support non-constant timezone'],
    ['SELECT time_bucket_gapfill(w, t) FROM m WHERE t >= 0 AND t < 5 GROUP BY 1', '22023', 'invalid time_bucket_gapfill argument: bucket_width must be a simple expression'],
    ['SELECT time_bucket_gapfill(1,t,1,11) FROM m GROUP BY ROLLUP (1)', '0A000', 'time_bucket_gapfill with GROUPING SETS, ROLLUP or CUBE is not supported by Orbit'],
  ];
  for (const [sql, code, message] of cases) {
    it(message, () => {
      expect(error(sql)).toMatchObject({ code, message });
    });
  }

  it('reaches clients as a rejected statement, not as rewritten SQL', () => {
    const text = backendText('SELECT time_bucket_gapfill(1,t,1,11), 1 + locf(min(t)) FROM m GROUP BY 1');
    expect(text.ok).toBe(false);
  });
});

describe('backendText', () => {
  it('rewrites only the gapfill statements of a string, leaving the others byte for byte', () => {
    const text = backendText("SELECT 'ü' ; SELECT time_bucket_gapfill(1, t, 0, 5) FROM m GROUP BY 1;\n  SELECT  2");
    expect(text.ok).toBe(true);
    if (!text.ok) return;
    expect(text.sql.startsWith("SELECT 'ü' ; WITH __gf_agg AS")).toBe(true);
    expect(text.sql.endsWith(';\n  SELECT  2')).toBe(true);
    expect(text.analysis.ok && text.analysis.statements.length).toBe(3);
  });

  it('returns other text unchanged', () => {
    const sql = 'SELECT time_bucket(1, 2)';
    const text = backendText(sql);
    expect(text.ok && text.sql).toBe(sql);
  });
});
