/**
 * @module catalog/extension/bookend
 * The bookend aggregates `first(value, time)` and `last(value, time)` (timescale_api.md §1.2;
 * TimescaleDB `sql/aggregates.sql`, `src/agg_bookend.c`).
 *
 * Semantics, as TimescaleDB 2.x: the result is the value of the row with the smallest (first) or
 * largest (last) ordering value under the ordering type's btree order. Rows whose ordering value is
 * NULL are ignored; a NULL value can be the result; no row with a non-NULL ordering value gives
 * NULL. Ties keep the row seen first (TimescaleDB replaces only on a strict `<` / `>`).
 *
 * Design. TimescaleDB declares `first(anyelement, "any")` with an `internal` state, both of which
 * need C. Without C an aggregate state cannot hold a value of a polymorphic type next to a value of
 * another type: CREATE AGGREGATE refuses `record` states and composite types cannot have polymorphic
 * columns. So there is one overload per ordering type (ORDERING_TYPES), each with a composite state
 * `(cmp <ordering type>, value text)`: the ordering value is kept and compared natively, the value
 * travels as its text form and the final function turns it back into the argument's type (PL/pgSQL
 * assignment, which converts through the type's input function). The transition function runs with
 * extra_float_digits = 3, so a float's text holds every digit (with the session's 0 or less, 0.1 + 0.2
 * came back as 0.3, and the largest float8 overflowed with 22003); the setting cost no measurable
 * time. Ordering by other types fails with 42883 (cast the ordering argument to one of the listed
 * types).
 *
 * Speed (1M rows, one group, PGlite, best of 3 on a shared machine, so ±30%): `last(v, t)` 2.9 s
 * (every row replaces the state on ascending time), `first(v, t)` 1.7 s, against 0.74 s for
 * `(array_agg(v ORDER BY t DESC))[1]` and 0.54 s for a `row_number()` window; 100 groups: 2.4 s
 * against 1.4 s. The transition function is PL/pgSQL because it measured faster than LANGUAGE sql
 * (4.1-4.9 s): PostgreSQL never inlines transition functions, and a SQL function call runs a small
 * executor plan per row while PL/pgSQL evaluates simple expressions directly.
 */
import { EXTENSION_SCHEMA as EXT, FUNCTIONS_SCHEMA as F } from './schemas.js';

/** Ordering types with an overload: [SQL type, suffix of the state type's name]. */
export const ORDERING_TYPES = [
  ['smallint', 'int2'],
  ['integer', 'int4'],
  ['bigint', 'int8'],
  ['numeric', 'numeric'],
  ['real', 'float4'],
  ['double precision', 'float8'],
  ['date', 'date'],
  ['time', 'time'],
  ['timestamp', 'timestamp'],
  ['timestamptz', 'timestamptz'],
  ['interval', 'interval'],
  ['text', 'text'],
  ['uuid', 'uuid'],
  ['boolean', 'bool'],
] as const;

const KINDS = [
  // first keeps its state unless the new ordering value is strictly smaller: ties keep the first seen.
  { name: 'first', keep: '>=', wins: '<' },
  { name: 'last', keep: '<=', wins: '>' },
] as const;

function overload(type: string, suffix: string): string {
  const state = `${F}.orbit_bookend_${suffix}`;
  const parts = [`CREATE TYPE ${state} AS (cmp ${type}, value text);`];
  for (const k of KINDS) {
    parts.push(`
CREATE FUNCTION ${F}.orbit_${k.name}_sfunc(state ${state}, value anyelement, cmp ${type})
RETURNS ${state} LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET extra_float_digits = 3 AS $body$
BEGIN
  -- A NULL state has a NULL cmp, so the comparison is NULL and the row is taken.
  IF cmp IS NULL OR cmp ${k.keep} state.cmp THEN
    RETURN state;
  END IF;
  state.cmp := cmp;
  state.value := value;
  RETURN state;
END
$body$;

CREATE FUNCTION ${F}.orbit_${k.name}_combinefunc(state1 ${state}, state2 ${state})
RETURNS ${state} LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $body$
  SELECT CASE WHEN state2 IS NULL THEN state1
              WHEN state1 IS NULL OR (state2).cmp ${k.wins} (state1).cmp THEN state2
              ELSE state1 END
$body$;
`);
  }
  parts.push(`
-- Text back to the value's type: a PL/pgSQL assignment converts through the type's input function.
CREATE FUNCTION ${F}.orbit_bookend_finalfunc(state ${state}, value anyelement, cmp ${type})
RETURNS anyelement LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $body$
DECLARE
  result ALIAS FOR $0;
BEGIN
  result := state.value;
  RETURN result;
END
$body$;
`);
  for (const k of KINDS) {
    parts.push(`CREATE AGGREGATE ${EXT}.${k.name}(anyelement, ${type}) (
  SFUNC = ${F}.orbit_${k.name}_sfunc,
  STYPE = ${state},
  COMBINEFUNC = ${F}.orbit_${k.name}_combinefunc,
  FINALFUNC = ${F}.orbit_bookend_finalfunc,
  FINALFUNC_EXTRA,
  PARALLEL = SAFE
);`);
  }
  return parts.join('\n');
}

export function bookendSql(): string {
  return ORDERING_TYPES.map(([type, suffix]) => overload(type, suffix)).join('\n') + '\n';
}
