/**
 * @module catalog/extension/gapfill
 * `time_bucket_gapfill`, `locf` and `interpolate` (timescale_api.md §1.2, errors §3.3), plus the
 * internal helpers the gapfill rewrite (src/sql/rewrite/gapfill.ts, docs/design/gapfill.md) emits.
 *
 * PostgreSQL has no GapFill node, so a query that gap-fills is rewritten by Orbit before PostgreSQL
 * sees it. The user-facing functions below are what remains when no rewrite applies, and they do what
 * TimescaleDB's do in that case (`gapfill_functions.c`): `time_bucket_gapfill` is `time_bucket` (the
 * start and finish arguments are ignored), `locf` and `interpolate` return their first argument.
 * TimescaleDB's regression suite checks exactly that (`SELECT locf(1)` is 1).
 *
 * The helpers (`_timescaledb_functions.orbit_gapfill_*`) carry the parts of TimescaleDB's executor
 * (`tsl/src/nodes/gapfill/gapfill_exec.c`, `locf.c`, `interpolate.c`) that are easier to state as a
 * function than inline: argument checks with TimescaleDB's messages, bucket series, the arithmetic
 * of linear interpolation, and the type checks of interpolate's (time, value) records.
 */
import { SqlState } from '../../sqlstate.js';
import { EXTENSION_SCHEMA as EXT, FIXED_SEARCH_PATH, FUNCTIONS_SCHEMA as F } from './schemas.js';

const BAD_ARG = SqlState.invalid_parameter_value;
const HINT = 'Specify start and finish as arguments or in the WHERE clause.';

/** The time types of time_bucket_gapfill with their width types. */
const GAPFILL_TYPES = [
  { ts: 'smallint', width: 'smallint' },
  { ts: 'integer', width: 'integer' },
  { ts: 'bigint', width: 'bigint' },
  { ts: 'date', width: 'interval' },
  { ts: 'timestamp', width: 'interval' },
  { ts: 'timestamptz', width: 'interval' },
] as const;

/** The value types interpolate accepts (TimescaleDB `sql/gapfill.sql`). */
const INTERPOLATE_TYPES = ['smallint', 'integer', 'bigint', 'real', 'double precision'] as const;

function sqlFn(signature: string, returns: string, volatility: string, body: string): string {
  return `CREATE FUNCTION ${signature}\nRETURNS ${returns} LANGUAGE sql ${volatility} PARALLEL SAFE AS $body$\n${body.trim()}\n$body$;\n`;
}

function plpgsqlFn(signature: string, returns: string, volatility: string, body: string): string {
  return `CREATE FUNCTION ${signature}\nRETURNS ${returns} LANGUAGE plpgsql ${volatility} PARALLEL SAFE ${FIXED_SEARCH_PATH} AS $body$\n${body.trim()}\n$body$;\n`;
}

/**
 * The user-facing functions. VOLATILE like TimescaleDB's; PostgreSQL still inlines a volatile SQL
 * function whose body is not more volatile than declared, so `time_bucket_gapfill` costs what
 * `time_bucket` does.
 */
function userFunctions(): string {
  const buckets = GAPFILL_TYPES.map(({ ts, width }) =>
    sqlFn(
      `${EXT}.time_bucket_gapfill(bucket_width ${width}, ts ${ts}, start ${ts} DEFAULT NULL, finish ${ts} DEFAULT NULL)`,
      ts,
      'VOLATILE',
      `SELECT ${EXT}.time_bucket(bucket_width, ts)`,
    ),
  );
  const timezone = sqlFn(
    `${EXT}.time_bucket_gapfill(bucket_width interval, ts timestamptz, timezone text, start timestamptz DEFAULT NULL, finish timestamptz DEFAULT NULL)`,
    'timestamptz',
    'VOLATILE',
    `SELECT ${EXT}.time_bucket(bucket_width, ts, timezone)`,
  );
  const locf = sqlFn(
    `${EXT}.locf(value anyelement, prev anyelement DEFAULT NULL, treat_null_as_missing boolean DEFAULT false)`,
    'anyelement',
    'VOLATILE',
    'SELECT value',
  );
  // SQL functions cannot take `record` arguments, so these markers are PL/pgSQL.
  const interpolate = INTERPOLATE_TYPES.map((t) =>
    plpgsqlFn(`${EXT}.interpolate(value ${t}, prev record DEFAULT NULL, next record DEFAULT NULL)`, t, 'VOLATILE', 'BEGIN\n  RETURN value;\nEND'),
  );
  return [...buckets, timezone, locf, ...interpolate].join('\n');
}

/**
 * bucket_width checks of `gapfill_begin`: NULL, then "greater than 0". An interval must have no
 * negative field and not be all zero (months, days and time are checked separately, as TimescaleDB
 * does, so `'1 month -1 day'` fails).
 */
function widthHelpers(): string {
  return GAPFILL_TYPES.map(({ ts, width }) => {
    const notPositive =
      width === 'interval'
        ? `${F}.orbit_interval_months(bucket_width) < 0 OR extract(day FROM bucket_width) < 0 OR ${F}.orbit_interval_time_us(bucket_width) < 0
      OR bucket_width = INTERVAL '0'`
        : 'bucket_width <= 0';
    const body = `
BEGIN
  IF bucket_width IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '${BAD_ARG}', MESSAGE = 'invalid time_bucket_gapfill argument: bucket_width cannot be NULL';
  END IF;
  IF ${notPositive} THEN
    RAISE EXCEPTION USING ERRCODE = '${BAD_ARG}', MESSAGE = 'invalid time_bucket_gapfill argument: bucket_width must be greater than 0';
  END IF;
  RETURN bucket_width;
END`;
    const plain = plpgsqlFn(`${F}.orbit_gapfill_width(bucket_width ${width}, witness ${ts})`, width, 'STABLE', body);
    if (ts !== 'timestamptz') return plain;
    return plain + '\n' + plpgsqlFn(`${F}.orbit_gapfill_width(bucket_width ${width}, witness ${ts}, timezone text)`, width, 'STABLE', body);
  }).join('\n');
}

/**
 * Bounds. `orbit_gapfill_bound` turns one start/finish value (an argument, or the right-hand side of
 * a WHERE predicate on the time column) into the bucket type, as TimescaleDB's cast does, rejecting
 * NULL; with `succ` it adds one unit (µs, day or 1), which is how TimescaleDB turns `ts > v` into a
 * start and `ts <= v` into an exclusive finish. `orbit_gapfill_start` aligns the start to its bucket.
 */
function boundHelpers(): string {
  const bound = plpgsqlFn(
    `${F}.orbit_gapfill_bound(witness anyelement, value anycompatible, name text, succ boolean)`,
    'anyelement',
    'STABLE',
    `
DECLARE
  result ALIAS FOR $0;
BEGIN
  IF value IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '${BAD_ARG}', MESSAGE = format('invalid time_bucket_gapfill argument: %s cannot be NULL', name),
      HINT = '${HINT}';
  END IF;
  result := value;
  IF succ THEN
    CASE pg_typeof(witness)
      WHEN 'timestamp with time zone'::regtype, 'timestamp without time zone'::regtype THEN result := result + INTERVAL '1 microsecond';
      ELSE result := result + 1;
    END CASE;
  END IF;
  RETURN result;
END`,
  );
  const fail = plpgsqlFn(
    `${F}.orbit_gapfill_fail(witness anyelement, message text, hint text DEFAULT NULL)`,
    'anyelement',
    'VOLATILE',
    `
BEGIN
  RAISE EXCEPTION USING ERRCODE = '${BAD_ARG}', MESSAGE = message, HINT = coalesce(hint, '');
END`,
  );
  const starts = GAPFILL_TYPES.map(({ ts, width }) =>
    plpgsqlFn(
      `${F}.orbit_gapfill_start(bucket_width ${width}, start ${ts})`,
      ts,
      'STABLE',
      `
BEGIN
  RETURN ${EXT}.time_bucket(bucket_width, start);
END`,
    ),
  );
  const timezone = plpgsqlFn(
    `${F}.orbit_gapfill_start(bucket_width interval, start timestamptz, timezone text)`,
    'timestamptz',
    'STABLE',
    `
BEGIN
  IF timezone IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '${BAD_ARG}', MESSAGE = 'invalid time_bucket_gapfill argument: timezone cannot be NULL';
  END IF;
  RETURN ${EXT}.time_bucket(bucket_width, start, timezone);
END`,
  );
  return [bound, fail, ...starts, timezone].join('\n');
}

/**
 * The bucket starts of [start, finish), stepped as `gapfill_advance_timestamp` steps: integers by
 * the width; dates and timestamps by adding the interval; timestamptz in UTC, or in the given time
 * zone for the timezone variant (so a day is a local day across a DST change, #6344, #6788).
 */
function seriesHelpers(): string {
  const ints = (['smallint', 'integer', 'bigint'] as const).map((t) =>
    sqlFn(
      `${F}.orbit_gapfill_series(start ${t}, finish ${t}, bucket_width ${t})`,
      `SETOF ${t}`,
      'IMMUTABLE',
      `SELECT s::${t} FROM generate_series(start::bigint, finish::bigint - 1, bucket_width::bigint) AS s`,
    ),
  );
  const date = sqlFn(
    `${F}.orbit_gapfill_series(start date, finish date, bucket_width interval)`,
    'SETOF date',
    'IMMUTABLE',
    'SELECT s::date FROM generate_series(start::timestamp, finish::timestamp, bucket_width) AS s WHERE s < finish',
  );
  const timestamp = sqlFn(
    `${F}.orbit_gapfill_series(start timestamp, finish timestamp, bucket_width interval)`,
    'SETOF timestamp',
    'IMMUTABLE',
    'SELECT s FROM generate_series(start, finish, bucket_width) AS s WHERE s < finish',
  );
  const utc = sqlFn(
    `${F}.orbit_gapfill_series(start timestamptz, finish timestamptz, bucket_width interval)`,
    'SETOF timestamptz',
    'IMMUTABLE',
    `SELECT s FROM generate_series(start, finish, bucket_width, 'UTC') AS s WHERE s < finish`,
  );
  const zoned = sqlFn(
    `${F}.orbit_gapfill_series(start timestamptz, finish timestamptz, bucket_width interval, timezone text)`,
    'SETOF timestamptz',
    'IMMUTABLE',
    'SELECT s FROM generate_series(start, finish, bucket_width, timezone) AS s WHERE s < finish',
  );
  return [...ints, date, timestamp, utc, zoned].join('\n');
}

/**
 * locf and interpolate support.
 * - `orbit_gapfill_ts` rejects a NULL bucket in the aggregated rows, as `gapfill_fetch_next_tuple` does.
 * - `orbit_gapfill_last` is the last non-NULL value of a running window frame (O(n) per partition).
 * - `orbit_gapfill_locf` picks the `prev` expression or the carried value; it is inlined, so `prev`
 *   (often a correlated subquery) runs only where it is used, and its arguments must share a type,
 *   as `locf(value anyelement, prev anyelement)` demands.
 * - `orbit_gapfill_x` is TimescaleDB's internal time value: µs for timestamps, days for dates.
 * - `orbit_gapfill_interpolate` is `gapfill_interpolate_calculate`: numeric arithmetic rounded back
 *   for integers; float arithmetic for floats, returning y0 when y0 = y1 (#1528).
 * - `orbit_gapfill_sample` type-checks one field of a (time, value) record; `orbit_gapfill_field`
 *   takes a field from a record whose shape is only known at run time.
 */
function fillHelpers(): string {
  const ts = sqlFn(
    `${F}.orbit_gapfill_ts(ts anyelement)`,
    'anyelement',
    'IMMUTABLE',
    `SELECT CASE WHEN ts IS NULL THEN ${F}.orbit_raise_if(ts IS NULL, '${BAD_ARG}', 'invalid time_bucket_gapfill argument: ts cannot be NULL', ts) ELSE ts END`,
  );
  const last = [
    sqlFn(`${F}.orbit_gapfill_last_step(state anyelement, value anyelement)`, 'anyelement', 'IMMUTABLE', 'SELECT coalesce(value, state)'),
    `CREATE AGGREGATE ${F}.orbit_gapfill_last(anyelement) (SFUNC = ${F}.orbit_gapfill_last_step, STYPE = anyelement, PARALLEL = SAFE);\n`,
  ].join('\n');
  const locf = sqlFn(
    `${F}.orbit_gapfill_locf(value anyelement, use_prev boolean, prev anyelement)`,
    'anyelement',
    'IMMUTABLE',
    'SELECT CASE WHEN use_prev THEN prev ELSE value END',
  );
  const xs = [
    ...(['smallint', 'integer', 'bigint'] as const).map((t) => sqlFn(`${F}.orbit_gapfill_x(t ${t})`, 'numeric', 'IMMUTABLE', 'SELECT t::numeric')),
    sqlFn(`${F}.orbit_gapfill_x(t date)`, 'numeric', 'IMMUTABLE', "SELECT (t - DATE '2000-01-01')::numeric"),
    sqlFn(`${F}.orbit_gapfill_x(t timestamp)`, 'numeric', 'IMMUTABLE', 'SELECT extract(epoch FROM t) * 1000000'),
    sqlFn(`${F}.orbit_gapfill_x(t timestamptz)`, 'numeric', 'IMMUTABLE', 'SELECT extract(epoch FROM t) * 1000000'),
  ];
  const X = (v: string) => `${F}.orbit_gapfill_x(${v})`;
  const interpolate = INTERPOLATE_TYPES.map((t) => {
    const integer = t === 'smallint' || t === 'integer' || t === 'bigint';
    const value = integer
      ? `((y0::numeric * (${X('x1')} - ${X('x')}) + y1::numeric * (${X('x')} - ${X('x0')})) / (${X('x1')} - ${X('x0')}))::${t}`
      : `CASE WHEN y0 = y1 THEN y0
      ELSE (y0 * (${X('x1')} - ${X('x')})::${t} + y1 * (${X('x')} - ${X('x0')})::${t}) / (${X('x1')} - ${X('x0')})::${t} END`;
    return sqlFn(
      `${F}.orbit_gapfill_interpolate(is_real boolean, v ${t}, x anyelement, x0 anyelement, y0 ${t}, x1 anyelement, y1 ${t})`,
      t,
      'IMMUTABLE',
      `
SELECT CASE
  WHEN is_real THEN v
  WHEN x0 IS NULL OR y0 IS NULL OR x1 IS NULL OR y1 IS NULL THEN NULL
  ELSE ${value}
END`,
    );
  });
  const sample = plpgsqlFn(
    `${F}.orbit_gapfill_sample(witness anyelement, value anycompatible, field integer)`,
    'anyelement',
    'STABLE',
    `
BEGIN
  IF pg_typeof(value) <> pg_typeof(witness) THEN
    RAISE EXCEPTION USING ERRCODE = '${BAD_ARG}',
      MESSAGE = CASE field WHEN 1 THEN 'first argument of interpolate returned record must match used timestamp datatype'
                ELSE 'second argument of interpolate returned record must match used interpolate datatype' END,
      DETAIL = format('Returned type %s does not match expected type %s.', pg_typeof(value), pg_typeof(witness));
  END IF;
  RETURN value;
END`,
  );
  // Records built by ROW(...) or a subquery are read through their JSON form: PL/pgSQL caches the
  // field types of a record variable per call site, and these records change shape between queries.
  const field = plpgsqlFn(
    `${F}.orbit_gapfill_field(witness anyelement, sample record, field integer)`,
    'anyelement',
    'STABLE',
    `
DECLARE
  fields text[];
BEGIN
  IF sample IS NULL THEN
    RETURN NULL;
  END IF;
  SELECT array_agg(value ORDER BY n) INTO fields FROM json_each_text(to_json(sample)) WITH ORDINALITY AS f(key, value, n);
  IF coalesce(array_length(fields, 1), 0) <> 2 THEN
    RAISE EXCEPTION USING ERRCODE = '${BAD_ARG}', MESSAGE = 'interpolate RECORD arguments must have 2 elements';
  END IF;
  RETURN fields[field];
END`,
  );
  return [ts, last, locf, ...xs, ...interpolate, sample, field].join('\n');
}

export function gapfillSql(): string {
  return [userFunctions(), widthHelpers(), boundHelpers(), seriesHelpers(), fillHelpers()].join('\n');
}
