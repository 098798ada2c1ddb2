import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser, parseSql, spliceSql } from '../../../src/sql/parser.js';
import { findStableBounds } from '../../../src/sql/rewrite/stable-bounds.js';

beforeAll(loadParser);

function bounds(sql: string) {
  const [s] = parseSql(sql);
  return findStableBounds(s!.type, s!.node);
}

/** The statement with the bounds inserted, every bound evaluating to `value` of `type`. */
function rewritten(sql: string, value = '2024-01-01 00:00:00+00', type = 'timestamp with time zone'): string | undefined {
  const b = bounds(sql);
  if (!b) return undefined;
  const n = b.probeSql.split('pg_typeof').length - 1;
  return spliceSql(sql, b.edits(Array.from({ length: n }, () => [value, type]).flat()));
}

describe('now()-style lower bounds', () => {
  it('finds monotonic lower bounds and inserts a constant conjunct in front of each', () => {
    expect(rewritten("SELECT * FROM m WHERE time > now() - INTERVAL '1 day'")).toBe(
      "SELECT * FROM m WHERE \"time\" > E'2024-01-01 00:00:00+00'::pg_catalog.timestamptz AND time > now() - INTERVAL '1 day'",
    );
    expect(rewritten("SELECT 1 FROM m WHERE device = 1 AND m.time >= current_timestamp - '2 hours'::interval AND v > 0")).toBe(
      "SELECT 1 FROM m WHERE device = 1 AND \"m\".\"time\" >= E'2024-01-01 00:00:00+00'::pg_catalog.timestamptz AND m.time >= current_timestamp - '2 hours'::interval AND v > 0",
    );
    expect(rewritten("SELECT 1 FROM m WHERE INTERVAL '1 h' + now() < time")).toBe(
      "SELECT 1 FROM m WHERE \"time\" > E'2024-01-01 00:00:00+00'::pg_catalog.timestamptz AND INTERVAL '1 h' + now() < time",
    );
    expect(rewritten('SELECT 1 FROM m WHERE time BETWEEN date_trunc(\'day\', now()) AND now()')).toBe(
      "SELECT 1 FROM m WHERE \"time\" >= E'2024-01-01 00:00:00+00'::pg_catalog.timestamptz AND time BETWEEN date_trunc('day', now()) AND now()",
    );
    expect(rewritten('SELECT 1 FROM m WHERE (d >= current_date)', '2024-01-01', 'date')).toBe(
      "SELECT 1 FROM m WHERE (\"d\" >= E'2024-01-01'::pg_catalog.date AND d >= current_date)",
    );
  });

  it('leaves alone what could decrease, upper bounds, parameters and other shapes', () => {
    for (const sql of [
      "SELECT 1 FROM m WHERE time < now() - INTERVAL '1 day'", // upper bound
      'SELECT 1 FROM m WHERE time > localtimestamp', // local time steps back at a DST change
      'SELECT 1 FROM m WHERE time > now()::timestamp',
      'SELECT 1 FROM m WHERE time > now() - $1::interval',
      "SELECT 1 FROM m WHERE time > now() - INTERVAL '1 day' OR v = 1",
      'SELECT 1 FROM m WHERE time > clock_timestamp() + v * INTERVAL \'1 s\'',
      "SELECT 1 FROM m WHERE NOT (time > now() - INTERVAL '1 day')",
      "SELECT 1 FROM m WHERE time NOT BETWEEN now() AND now() + INTERVAL '1 day'",
      'SELECT 1 FROM m',
      "DELETE FROM m WHERE time > now() - INTERVAL '1 day'",
    ]) {
      expect(bounds(sql), sql).toBeUndefined();
    }
  });

  it('skips a bound whose value is NULL or of an unexpected type', () => {
    const b = bounds("SELECT 1 FROM m WHERE time > now() - INTERVAL '1 day'")!;
    expect(b.edits([null, 'timestamp with time zone'])).toEqual([]);
    expect(b.edits(['2024-01-01', 'text'])).toEqual([]);
  });
});
