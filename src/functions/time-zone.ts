/**
 * @module functions/time-zone
 * Time zone conversions with PostgreSQL's semantics, over the platform's IANA database (`Intl`, present
 * in Node, browsers and workerd; no tz data ships with Orbit).
 *
 * - `toLocal` is `timestamptz AT TIME ZONE zone` (the wall-clock time of an instant).
 * - `fromLocal` is `timestamp AT TIME ZONE zone` (the instant of a wall-clock time). Like
 *   PostgreSQL's `DetermineTimeZoneOffset`, a time skipped by a spring-forward transition takes the
 *   offset from before it and an ambiguous fall-back time takes the offset from after it; in both
 *   cases that is the later of the two candidate instants.
 * - `timestamptzPlusInterval` is `timestamptz + interval` with the session TimeZone.
 *
 * Limits: zone names are IANA names (and `UTC`); PostgreSQL's abbreviations (`EST`, `PST`) and POSIX
 * strings (`+01:00`, `EST5EDT` aside) are not interpreted as PostgreSQL would. Offsets are whole
 * seconds. Outside JavaScript's Date range (±275,760 years) the nearest representable offset is used.
 * Results match PostgreSQL wherever the platform's tz data and PGlite's agree (both follow IANA).
 */
import { orbitError } from '../errors.js';
import {
  addMonths,
  checkTimestampRange,
  floorDiv,
  isFiniteTimestamp,
  USECS_PER_DAY,
  USECS_PER_SEC,
  type Interval,
} from './calendar.js';

/** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
const UNIX_EPOCH_OFFSET_US = 946_684_800_000_000n;
const MAX_DATE_MS = 8.64e15;
const DAY_SEC = 86_400;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  const key = zone.toLowerCase();
  let f = formatters.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        era: 'short',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw orbitError('invalid_parameter_value', `time zone "${zone}" not recognized`);
    }
    formatters.set(key, f);
  }
  return f;
}

/** UTC offset in seconds (local = UTC + offset) in `zone` at the Unix time `unixSec`. */
export function utcOffsetSeconds(zone: string, unixSec: number): number {
  const sec = Math.max(-MAX_DATE_MS / 1000 + DAY_SEC, Math.min(MAX_DATE_MS / 1000 - DAY_SEC, unixSec));
  const parts = formatter(zone).formatToParts(new Date(sec * 1000));
  const field = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const bc = parts.find((p) => p.type === 'era')?.value === 'BC';
  const year = bc ? 1 - field('year') : field('year');
  const local = Date.UTC(2000, field('month') - 1, field('day'), field('hour'), field('minute'), field('second'));
  // Date.UTC maps years 0..99 to 1900..1999, so the year is applied separately.
  const d = new Date(local);
  d.setUTCFullYear(year);
  return Math.round((d.getTime() - sec * 1000) / 1000);
}

/** The offset in effect at instant `ts` (microseconds since 2000-01-01 UTC). */
function offsetAt(zone: string, ts: bigint): bigint {
  const unixSec = Number(floorDiv(ts + UNIX_EPOCH_OFFSET_US, USECS_PER_SEC));
  return BigInt(utcOffsetSeconds(zone, unixSec)) * USECS_PER_SEC;
}

/** `timestamptz AT TIME ZONE zone`: the wall-clock time of instant `ts` in `zone`. */
export function toLocal(zone: string, ts: bigint): bigint {
  if (!isFiniteTimestamp(ts)) return ts;
  return ts + offsetAt(zone, ts);
}

/** `timestamp AT TIME ZONE zone`: the instant at which `zone` shows wall-clock time `local`. */
export function fromLocal(zone: string, local: bigint): bigint {
  if (!isFiniteTimestamp(local)) return local;
  // PostgreSQL looks for the first transition after local - 1 day (read as UTC) and considers the
  // offsets before and after it; transitions are assumed to be more than two days apart.
  const start = local - USECS_PER_DAY;
  const before = offsetAt(zone, start);
  const end = local + USECS_PER_DAY;
  if (offsetAt(zone, end) === before) return local - before;
  const boundary = firstChange(zone, start, end, before);
  const after = offsetAt(zone, boundary);
  const beforeTime = local - before;
  const afterTime = local - after;
  if (beforeTime < boundary && afterTime < boundary) return beforeTime;
  if (beforeTime >= boundary && afterTime >= boundary) return afterTime;
  return beforeTime > afterTime ? beforeTime : afterTime;
}

/**
 * Transitions found so far, per zone and offset pair: a binary search costs ~18 Intl calls, and
 * bucketing a series of timestamps near one transition would otherwise repeat it for each.
 */
const transitions = new Map<string, bigint[]>();

/** The first second in (lo, hi] whose offset differs from `offset` (a transition instant). */
function firstChange(zone: string, lo: bigint, hi: bigint, offset: bigint): bigint {
  const key = `${zone.toLowerCase()}|${offset}`;
  const known = transitions.get(key);
  const hit = known?.find((t) => t > lo && t <= hi);
  if (hit !== undefined) return hit;
  const found = searchChange(zone, lo, hi, offset);
  if (!known) transitions.set(key, [found]);
  else if (known.length < 1000) known.push(found);
  return found;
}

function searchChange(zone: string, lo: bigint, hi: bigint, offset: bigint): bigint {
  let a = lo;
  let b = hi;
  while (b - a > USECS_PER_SEC) {
    const mid = a + ((b - a) / 2n / USECS_PER_SEC) * USECS_PER_SEC;
    if (offsetAt(zone, mid) === offset) a = mid;
    else b = mid;
  }
  return b;
}

/** `timestamptz + interval` evaluated with session time zone `zone` (`timestamptz_pl_interval`). */
export function timestamptzPlusInterval(ts: bigint, span: Interval, zone: string): bigint {
  if (!isFiniteTimestamp(ts)) return ts;
  let t = ts;
  if (span.months !== 0) t = checkTimestampRange(fromLocal(zone, addMonths(toLocal(zone, t), span.months)));
  if (span.days !== 0) t = checkTimestampRange(fromLocal(zone, toLocal(zone, t) + BigInt(span.days) * USECS_PER_DAY));
  return checkTimestampRange(t + span.micros);
}
