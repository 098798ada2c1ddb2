/**
 * @module web-demo/charts
 * The dashboard's two time-series charts, drawn by uPlot (a ~50 KB canvas chart for time series,
 * MIT, no dependencies): per-sensor time_bucket averages, and one sensor's gap-filled series. Each
 * chart is created once and then only given new data, so a refresh redraws without re-layout.
 */
import uPlot from 'uplot';
import { SENSORS } from './sensors.js';

const COLORS = ['#e4572e', '#2e86ab', '#8a4fff', '#3bb273', '#f3a712', '#6c757d'];
const HEIGHT = 260;

/** A chart that follows its container's width. */
abstract class Chart {
  private plot: uPlot | undefined;

  constructor(protected readonly container: HTMLElement) {
    new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: HEIGHT })).observe(container);
  }

  protected abstract options(): Omit<uPlot.Options, 'width' | 'height'>;

  /** Drops the chart, so the next draw builds it again from `options()`. */
  protected reset(): void {
    this.plot?.destroy();
    this.plot = undefined;
  }

  protected draw(data: uPlot.AlignedData): void {
    if (this.plot) this.plot.setData(data);
    else this.plot = new uPlot({ ...this.options(), width: this.width(), height: HEIGHT }, data, this.container);
    this.container.dataset.points = String(data[0].length);
  }

  private width(): number {
    return Math.max(300, this.container.clientWidth);
  }
}

export interface BucketRow {
  readonly bucket: Date;
  readonly sensor: string;
  readonly avg: number | null;
}

/** One line per sensor: the average of each time_bucket. */
export class BucketChart extends Chart {
  private readonly sensors: string[] = SENSORS.map((s) => s.name);

  protected options(): Omit<uPlot.Options, 'width' | 'height'> {
    return {
      scales: { x: { time: true } },
      axes: [{}, { label: '°C', size: 50 }],
      series: [{}, ...this.sensors.map((name, i) => ({ label: name, stroke: COLORS[i % COLORS.length], width: 1.5, value: celsius }))],
    };
  }

  update(rows: readonly BucketRow[]): void {
    // Sensors imported from a CSV get their own line; uPlot's series are fixed at creation, so a new
    // name rebuilds the chart once.
    const names = [...new Set(rows.map((r) => r.sensor))].filter((n) => !this.sensors.includes(n));
    if (names.length > 0) {
      this.sensors.push(...names);
      this.reset();
    }
    const times = [...new Set(rows.map((r) => r.bucket.getTime()))].sort((a, b) => a - b);
    const at = new Map(times.map((t, i) => [t, i]));
    const columns = this.sensors.map(() => new Array<number | null>(times.length).fill(null));
    for (const r of rows) columns[this.sensors.indexOf(r.sensor)]![at.get(r.bucket.getTime())!] = r.avg;
    this.draw([times.map((t) => t / 1000), ...columns]);
  }
}

export interface GapfillRow {
  readonly bucket: Date;
  readonly avg: number | null;
  readonly locf: number | null;
  readonly interpolate: number | null;
}

/** One sensor over time_bucket_gapfill: the raw average (with holes), locf and interpolate. */
export class GapfillChart extends Chart {
  protected options(): Omit<uPlot.Options, 'width' | 'height'> {
    const stepped = uPlot.paths.stepped?.({ align: 1 });
    return {
      scales: { x: { time: true } },
      axes: [{}, { label: '°C', size: 50 }],
      series: [
        {},
        { label: 'locf', stroke: '#f3a712', width: 1.5, dash: [6, 4], points: { show: false }, value: celsius, ...(stepped ? { paths: stepped } : {}) },
        { label: 'interpolate', stroke: '#2e86ab', width: 1.5, dash: [2, 3], points: { show: false }, value: celsius },
        { label: 'avg', stroke: '#e4572e', width: 2.5, points: { show: true, size: 4 }, value: celsius },
      ],
    };
  }

  update(rows: readonly GapfillRow[]): void {
    this.draw([rows.map((r) => r.bucket.getTime() / 1000), rows.map((r) => r.locf), rows.map((r) => r.interpolate), rows.map((r) => r.avg)]);
  }
}

function celsius(_u: uPlot, v: number | null): string {
  return v === null ? '—' : `${v.toFixed(2)} °C`;
}
