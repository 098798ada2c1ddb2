/**
 * @module web-demo/sensors
 * A synthetic sensor stream: a daily cycle plus seeded noise per sensor, so a run with the same seed
 * and clock gives the same readings (no Math.random). `history` also backfills the last day when the
 * database is new, with one sensor offline for a while so the gap-filled chart has a gap to fill.
 */

export interface Sensor {
  readonly name: string;
  readonly base: number;
  readonly amplitude: number;
  /** Hours by which the daily cycle is shifted. */
  readonly phase: number;
  readonly noise: number;
}

export const SENSORS: readonly Sensor[] = [
  { name: 'greenhouse', base: 24, amplitude: 5, phase: 0, noise: 0.6 },
  { name: 'cellar', base: 12, amplitude: 0.8, phase: 3, noise: 0.2 },
  { name: 'attic', base: 19, amplitude: 9, phase: 1.5, noise: 1.2 },
  { name: 'outdoor', base: 8, amplitude: 7, phase: 2, noise: 1.5 },
];

/** Column arrays, the shape `INSERT … SELECT * FROM unnest($1, $2, $3)` takes. */
export interface Readings {
  readonly time: Date[];
  readonly sensor: string[];
  readonly value: number[];
}

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOUR_MS = 3_600_000;

function reading(sensor: Sensor, atMs: number, random: () => number): number {
  const cycle = Math.sin(((atMs / HOUR_MS + sensor.phase) / 24) * 2 * Math.PI);
  // Two decimals, like a real sensor's resolution (and the decimal-aware codecs' favourite case).
  return Math.round((sensor.base + sensor.amplitude * cycle + (random() - 0.5) * 2 * sensor.noise) * 100) / 100;
}

/** When the backfilled history has `greenhouse` offline, relative to its end. */
export const HISTORY_GAP = { fromMs: 150 * 60_000, toMs: 75 * 60_000 } as const;

/** One reading per sensor per `stepMs` over the `spanMs` up to `endMs`, minus the offline window. */
export function history(endMs: number, spanMs: number, stepMs: number, seed: number): Readings {
  const random = prng(seed);
  const out: Readings = { time: [], sensor: [], value: [] };
  // Whole steps, so a day of minutes is always 1441 readings per sensor, less 74 offline.
  const last = Math.floor(endMs / stepMs) * stepMs;
  for (let t = last - spanMs; t <= last; t += stepMs) {
    for (const sensor of SENSORS) {
      const offline = sensor.name === 'greenhouse' && t > last - HISTORY_GAP.fromMs && t < last - HISTORY_GAP.toMs;
      if (offline) continue;
      out.time.push(new Date(t));
      out.sensor.push(sensor.name);
      out.value.push(reading(sensor, t, random));
    }
  }
  return out;
}

/** The live stream: `perSensor` readings per sensor spread evenly over the `spanMs` before `endMs`. */
export class SensorStream {
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = prng(seed);
  }

  next(endMs: number, spanMs: number, perSensor: number): Readings {
    const out: Readings = { time: [], sensor: [], value: [] };
    for (let i = perSensor - 1; i >= 0; i--) {
      const t = endMs - Math.floor((i * spanMs) / perSensor);
      for (const sensor of SENSORS) {
        out.time.push(new Date(t));
        out.sensor.push(sensor.name);
        out.value.push(reading(sensor, t, this.random));
      }
    }
    return out;
  }
}
