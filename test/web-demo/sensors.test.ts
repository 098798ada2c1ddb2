/** The demo's synthetic sensors (web-demo/src/sensors.ts): seeded, and shaped as the dashboard expects. */
import { describe, expect, it } from 'vitest';
import { history, HISTORY_GAP, prng, SENSORS, SensorStream } from '../../web-demo/src/sensors.js';

describe('sensors', () => {
  it('repeat with the same seed and clock', () => {
    const end = Date.UTC(2026, 10, 25, 12, 0, 30);
    expect(history(end, 3_600_000, 60_000, 7)).toEqual(history(end, 3_600_000, 60_000, 7));
    expect(new SensorStream(1).next(end, 1000, 3)).toEqual(new SensorStream(1).next(end, 1000, 3));
    const random = prng(42);
    const draws = Array.from({ length: 1000 }, random);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
  });

  it('backfill a day of whole minutes with greenhouse offline for 74 of them', () => {
    const end = Date.UTC(2026, 10, 25, 12, 0, 30);
    const day = history(end, 24 * 3_600_000, 60_000, 1);
    expect(day.time).toHaveLength(SENSORS.length * 1441 - 74);
    expect(day.time.every((t) => t.getTime() % 60_000 === 0)).toBe(true);
    const last = Date.UTC(2026, 10, 25, 12, 0, 0);
    const greenhouse = day.time.filter((_, i) => day.sensor[i] === 'greenhouse').map((t) => t.getTime());
    expect(greenhouse.some((t) => t > last - HISTORY_GAP.fromMs && t < last - HISTORY_GAP.toMs)).toBe(false);
    expect(day.value.every((v) => Number.isFinite(v) && Number(v.toFixed(2)) === v)).toBe(true);
  });

  it('stream readings per sensor spread over the tick, ending at its end', () => {
    const end = 1_700_000_000_000;
    const batch = new SensorStream(3).next(end, 1000, 10);
    expect(batch.time).toHaveLength(10 * SENSORS.length);
    expect(Math.max(...batch.time.map((t) => t.getTime()))).toBe(end);
    expect(Math.min(...batch.time.map((t) => t.getTime()))).toBe(end - 900);
  });
});
