/**
 * @module catalog/extension/helpers
 * Internal SQL helpers (schema `_timescaledb_functions`, names prefixed `orbit_` so they never clash
 * with TimescaleDB's own internals) shared by the function families of the extension script.
 *
 * Why they look the way they do: the user-facing functions are `LANGUAGE sql` so that PostgreSQL
 * inlines them into the calling query (no per-row function call). Inlining requires the body to be a
 * single expression of IMMUTABLE functions, so the only non-SQL piece, `orbit_raise_if`, is declared
 * IMMUTABLE (it is: same arguments, same error) with COST 1 (the inliner refuses to duplicate
 * arguments whose estimated cost exceeds 10 operators).
 *
 * `orbit_raise_if` takes the failing condition as an argument and raises only when it is true. The
 * planner pre-evaluates immutable calls whose arguments are all constants, even in CASE branches it
 * cannot yet rule out; a helper that raised unconditionally would then fail queries that never reach
 * the branch. Passing the condition (and the row's value) keeps such calls either harmless or
 * row-dependent.
 */
export function helpersSql(): string {
  return `
CREATE FUNCTION _timescaledb_functions.orbit_raise_if(failed boolean, code text, message text, value anyelement)
RETURNS anyelement LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 1 AS $body$
BEGIN
  IF failed THEN
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message;
  END IF;
  RETURN value;
END
$body$;

-- The month field of an interval (years included), as PostgreSQL stores it.
CREATE FUNCTION _timescaledb_functions.orbit_interval_months(i interval)
RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $body$
  SELECT extract(year FROM i) * 12 + extract(month FROM i)
$body$;

-- The time field of an interval in microseconds (hours, minutes, seconds; days excluded).
CREATE FUNCTION _timescaledb_functions.orbit_interval_time_us(i interval)
RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $body$
  SELECT extract(hour FROM i) * 3600000000 + extract(minute FROM i) * 60000000 + extract(microseconds FROM i)
$body$;

-- Months since year 0 (astronomical numbering: 1 BC is year 0) of a timestamp's date. date_part
-- (float8, exact for these integers) rather than extract (numeric): it runs once per row.
CREATE FUNCTION _timescaledb_functions.orbit_month_index(t timestamp)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $body$
  SELECT ((CASE WHEN date_part('year', t) < 0 THEN date_part('year', t) + 1 ELSE date_part('year', t) END) * 12
          + date_part('month', t) - 1)::bigint
$body$;
`;
}
