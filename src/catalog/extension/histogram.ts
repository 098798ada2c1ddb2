/**
 * @module catalog/extension/histogram
 * `histogram(value, min, max, nbuckets) → integer[]` (timescale_api.md §1.2; TimescaleDB
 * `sql/histogram.sql`, `src/histogram.c`).
 *
 * The result has nbuckets + 2 counts: element 1 counts values below `min`, the last one values at or
 * above `max`, and the ones between count equal-width buckets closed below and open above. The
 * bucket of a value is PostgreSQL's `width_bucket(value, min, max, nbuckets)`, which is what
 * TimescaleDB calls, so its errors are TimescaleDB's too (2201G: nbuckets <= 0, min = max, NaN,
 * infinite bounds). TimescaleDB's own checks, raised with `elog` and therefore XX000: `min > max`
 * ("lower bound cannot exceed upper bound") and a bucket count that changes between rows of a group.
 * As in TimescaleDB the checks run per row, so an empty group raises nothing and returns NULL.
 *
 * Deviation: a row whose value, min, max or nbuckets is NULL is skipped (the aggregate is STRICT),
 * and a group with no other rows returns NULL. TimescaleDB's C function does not test for NULL and
 * reads the NULL as 0 (so a NULL value is counted in the bucket of 0.0 on 64-bit builds).
 *
 * The state is the counts array, which PL/pgSQL updates in place (PostgreSQL hands aggregate states
 * to it as expanded arrays), so a row costs the same for any number of buckets.
 */
import { ErrCode as E } from './errcodes.js';
import { EXTENSION_SCHEMA as EXT, FUNCTIONS_SCHEMA as F } from './schemas.js';

const NBUCKETS_CHANGED = 'number of buckets must not change between calls';

export function histogramSql(): string {
  return `
-- The state starts as '{}' (INITCOND) so that the function can be STRICT: NULL rows never reach it.
CREATE FUNCTION ${F}.orbit_hist_sfunc(state integer[], val double precision, min double precision,
                                      max double precision, nbuckets integer)
RETURNS integer[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $body$
DECLARE
  bucket integer;
BEGIN
  -- C's comparison, which is false when either bound is NaN (width_bucket rejects NaN next).
  IF min > max AND min <> 'NaN' AND max <> 'NaN' THEN
    RAISE EXCEPTION USING ERRCODE = '${E.internal_error}', MESSAGE = 'lower bound cannot exceed upper bound';
  END IF;
  IF cardinality(state) = 0 THEN
    -- width_bucket first: it rejects nbuckets <= 0 before the array is sized from it.
    bucket := width_bucket(val, min, max, nbuckets);
    state := array_fill(0, ARRAY[nbuckets + 2]);
  ELSIF cardinality(state) <> nbuckets::bigint + 2 THEN
    RAISE EXCEPTION USING ERRCODE = '${E.internal_error}', MESSAGE = '${NBUCKETS_CHANGED}';
  ELSE
    bucket := width_bucket(val, min, max, nbuckets);
  END IF;
  state[bucket + 1] := state[bucket + 1] + 1;
  RETURN state;
END
$body$;

CREATE FUNCTION ${F}.orbit_hist_combinefunc(state1 integer[], state2 integer[])
RETURNS integer[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $body$
  SELECT CASE
    WHEN cardinality(state2) = 0 THEN state1
    WHEN cardinality(state1) = 0 THEN state2
    WHEN cardinality(state1) <> cardinality(state2)
      THEN ${F}.orbit_raise_if(cardinality(state1) <> cardinality(state2), '${E.internal_error}', '${NBUCKETS_CHANGED}', state1)
    ELSE (SELECT array_agg(a + b ORDER BY n) FROM unnest(state1, state2) WITH ORDINALITY AS u(a, b, n))
  END
$body$;

CREATE FUNCTION ${F}.orbit_hist_finalfunc(state integer[])
RETURNS integer[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $body$
  SELECT NULLIF(state, '{}')
$body$;

CREATE AGGREGATE ${EXT}.histogram(double precision, double precision, double precision, integer) (
  SFUNC = ${F}.orbit_hist_sfunc,
  STYPE = integer[],
  INITCOND = '{}',
  COMBINEFUNC = ${F}.orbit_hist_combinefunc,
  FINALFUNC = ${F}.orbit_hist_finalfunc,
  PARALLEL = SAFE
);
`;
}
