/**
 * The runtime smoke suite, written once: every runtime runs these steps through Orbit's in-process
 * API and must give the same answers (test/runtimes/node and test/runtimes/browser compare them).
 * It imports nothing but types, so it bundles unchanged into a browser worker.
 *
 * Results are JSON values (see `toJson`), so they compare with `toEqual` after crossing a worker
 * boundary or the browser's DevTools protocol. Errors are recorded by SQLSTATE only, never by message.
 */
import type { Orbit } from '../../src/orbit.js';

/** What the suite needs from a database: Orbit's in-process API. */
export type SmokeDatabase = Pick<Orbit, 'query' | 'exec' | 'transaction'>;

export interface SmokeStatement {
  readonly sql: string;
  readonly params?: readonly unknown[];
}

/** One step: a `query` (one statement, optional params), an `exec` (several statements), or a `transaction`. */
export type SmokeStep =
  | { readonly name: string; readonly query: string; readonly params?: readonly unknown[] }
  | { readonly name: string; readonly exec: string }
  | {
      readonly name: string;
      readonly transaction: readonly SmokeStatement[];
      /** Throw from inside the transaction after its statements ran, so `transaction()` must roll back. */
      readonly abort?: boolean;
    };

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonRow = { [column: string]: Json };

/**
 * The outcome of one step: the rows of a `query`, the rows of each statement of an `exec` or
 * `transaction`, `rolledBack` for an aborted transaction, or the SQLSTATE of the error it raised.
 */
export type SmokeResult =
  | { readonly step: string; readonly rows: JsonRow[]; readonly affectedRows?: number }
  | { readonly step: string; readonly results: JsonRow[][] }
  | { readonly step: string; readonly rolledBack: true }
  | { readonly step: string; readonly error: string };

/** The value the runner throws inside an aborting transaction. */
class SmokeAbort extends Error {}

const READINGS = `CREATE TABLE readings (
  id int PRIMARY KEY,
  ts timestamptz NOT NULL,
  device text NOT NULL,
  temp numeric(6,2),
  tags text[],
  meta jsonb,
  raw bytea
)`;

export const SMOKE_STEPS: readonly SmokeStep[] = [
  { name: 'create table', query: READINGS },
  {
    name: 'multi-row insert',
    query: `INSERT INTO readings VALUES
      (1, '2025-03-01 00:00:00+00', 'a', 20.50, '{hot,roof}', '{"unit": "C", "limits": [0, 40]}', '\\xdeadbeef'),
      (2, '2025-03-01 00:30:00+00', 'b', 19.25, '{}', '{"unit": "C"}', '\\x'),
      (3, '2025-03-01 01:00:00+00', 'a', 22.75, '{"with space","quote\\"d"}', null, '\\x00ff'),
      (4, '2025-03-02 23:45:00+00', 'b', -3.10, null, '{"nested": {"ok": true, "n": 1.5}}', null)`,
  },
  {
    name: 'select with params',
    query: 'SELECT id, device, temp FROM readings WHERE device = $1 AND temp > $2 ORDER BY id',
    params: ['a', 21],
  },
  {
    name: 'aggregates',
    query: `SELECT device, count(*) AS n, sum(temp) AS total, avg(temp)::numeric(8,3) AS mean,
              min(ts) AS first, max(ts) AS last
            FROM readings GROUP BY device ORDER BY device`,
  },
  { name: 'set time zone', query: "SET TimeZone = 'America/New_York'" },
  { name: 'show time zone', query: 'SHOW TimeZone' },
  {
    name: 'timestamptz in the session time zone',
    query: `SELECT id, ts, ts::text AS local, date_trunc('day', ts) AS local_day,
              to_char(ts, 'YYYY-MM-DD HH24:MI TZ') AS formatted, extract(hour FROM ts)::int AS hour
            FROM readings WHERE id IN (1, 4) ORDER BY id`,
  },
  {
    name: 'timestamptz params',
    query: 'SELECT $1::timestamptz AS t, $1::timestamptz + interval $$90 minutes$$ AS later, $2::date AS d',
    params: [new Date('2025-06-15T12:34:56.789Z'), '2025-12-31'],
  },
  {
    name: 'numeric',
    query: `SELECT 0.1::numeric + 0.2 AS exact, (10::numeric / 3)::numeric(10,4) AS third,
              12345678901234567890.123456789::numeric * 10 AS wide, round(2.5::numeric) AS rounded,
              0.1::float8 + 0.2::float8 AS inexact, 9007199254740993::int8 AS big, 42::int8 AS small_big`,
  },
  {
    name: 'jsonb',
    query: `SELECT id, meta, meta->>'unit' AS unit, meta->'limits' AS limits, meta #> '{nested,n}' AS nested_n,
              jsonb_build_object('id', id, 'list', jsonb_build_array(1, 'two', null)) AS built, $1::jsonb AS echoed
            FROM readings WHERE id IN (1, 4) ORDER BY id`,
    params: [{ k: [1, { deep: 'ü' }] }],
  },
  {
    name: 'arrays',
    query: `SELECT id, tags, cardinality(tags) AS n, $1::text[] AS echoed, ARRAY[1, 2, 3]::int[] AS ints,
              array_agg(id) OVER () AS all_ids
            FROM readings WHERE id <= 3 ORDER BY id`,
    params: [['x', 'y z', '"q"']],
  },
  {
    name: 'bytea',
    query: `SELECT id, raw, length(raw) AS len, $1::bytea AS echoed, decode('cafe', 'hex') AS decoded
            FROM readings WHERE id <= 3 ORDER BY id`,
    params: [new Uint8Array([0, 1, 127, 128, 255])],
  },
  {
    name: 'exec several statements',
    exec: `UPDATE readings SET temp = temp + 1 WHERE device = 'b';
           SELECT id, temp FROM readings WHERE device = 'b' ORDER BY id;
           SELECT count(*) AS n FROM readings`,
  },
  {
    name: 'transaction commits',
    transaction: [
      { sql: "INSERT INTO readings (id, ts, device, temp) VALUES (5, '2025-03-03 00:00+00', 'c', 1.00)" },
      { sql: 'INSERT INTO readings (id, ts, device, temp) VALUES ($1, $2, $3, $4)', params: [6, '2025-03-03 00:10+00', 'c', '2.00'] },
      { sql: 'SELECT count(*) AS n FROM readings' },
    ],
  },
  {
    name: 'transaction rolls back when its function throws',
    transaction: [{ sql: "INSERT INTO readings (id, ts, device) VALUES (7, '2025-03-04 00:00+00', 'd')" }],
    abort: true,
  },
  {
    name: 'transaction rolls back on a statement error',
    transaction: [
      { sql: "INSERT INTO readings (id, ts, device) VALUES (8, '2025-03-04 00:00+00', 'd')" },
      { sql: "INSERT INTO readings (id, ts, device) VALUES (1, '2025-03-04 00:00+00', 'd')" },
    ],
  },
  { name: 'only committed rows remain', query: 'SELECT id, device FROM readings ORDER BY id' },
  { name: 'division by zero', query: 'SELECT 1 / 0' },
  { name: 'undefined table', query: 'SELECT * FROM no_such_table' },
  { name: 'unique violation', query: "INSERT INTO readings (id, ts, device) VALUES (2, now(), 'x')" },
  { name: 'syntax error', query: 'SELEC id FROM readings' },
  { name: 'temporary table refused in-process', query: 'CREATE TEMP TABLE scratch (a int)' },
  { name: 'session survives errors', exec: 'SHOW TimeZone; RESET TimeZone; SHOW TimeZone; SELECT count(*) AS n FROM readings' },
];

/** Runs every step in order on `db` and returns one JSON result per step. */
export async function runSmoke(db: SmokeDatabase, steps: readonly SmokeStep[] = SMOKE_STEPS): Promise<SmokeResult[]> {
  const results: SmokeResult[] = [];
  for (const step of steps) {
    try {
      results.push(await runStep(db, step));
    } catch (err) {
      if (err instanceof SmokeAbort) results.push({ step: step.name, rolledBack: true });
      else results.push({ step: step.name, error: sqlState(err) });
    }
  }
  return results;
}

async function runStep(db: SmokeDatabase, step: SmokeStep): Promise<SmokeResult> {
  if ('query' in step) {
    const r = await db.query(step.query, step.params ? [...step.params] : undefined);
    const rows = r.rows.map(toJsonRow);
    return r.affectedRows ? { step: step.name, rows, affectedRows: r.affectedRows } : { step: step.name, rows };
  }
  if ('exec' in step) {
    const rs = await db.exec(step.exec);
    return { step: step.name, results: rs.map((r) => r.rows.map(toJsonRow)) };
  }
  const results = await db.transaction(async (tx) => {
    const out: JsonRow[][] = [];
    for (const s of step.transaction) out.push((await tx.query(s.sql, s.params ? [...s.params] : undefined)).rows.map(toJsonRow));
    if (step.abort) throw new SmokeAbort('smoke: abort the transaction');
    return out;
  });
  return { step: step.name, results };
}

function sqlState(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : `no SQLSTATE: ${String(err)}`;
}

function toJsonRow(row: Record<string, unknown>): JsonRow {
  return toJson(row) as JsonRow;
}

/**
 * Makes a value JSON-comparable across runtimes: Date → ISO 8601 string, bytes → PostgreSQL's hex
 * form (`\x…`), bigint → decimal string, undefined → null; arrays and objects recursively.
 */
export function toJson(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return '\\x' + Array.from(value, (b) => b.toString(16).padStart(2, '0')).join('');
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, toJson(v)]));
  }
  throw new TypeError(`smoke: no JSON form for ${typeof value}`);
}
