/**
 * Seeded generator for a TSBS-style "cpu" CSV: time, 9 tag columns and 10 float metrics (20 columns),
 * 100 hosts reporting every 10 s. Deterministic: the same seed and row count give the same bytes.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export const CPU_TABLE_SQL = `CREATE TABLE cpu (
  time timestamptz NOT NULL, hostname text, region text, datacenter text, rack text, os text, arch text,
  team text, service text, service_version text,
  usage_user double precision, usage_system double precision, usage_idle double precision, usage_nice double precision,
  usage_iowait double precision, usage_irq double precision, usage_softirq double precision, usage_steal double precision,
  usage_guest double precision, usage_guest_nice double precision)`;

const REGIONS = ['us-east-1', 'us-west-1', 'eu-west-1', 'eu-central-1', 'ap-northeast-1'];
const OS = ['Ubuntu16.04LTS', 'Ubuntu15.10', 'Ubuntu16.10'];
const ARCH = ['x64', 'x86'];

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

/** The first row's time: every variant and system uses the same instant. */
export const CPU_START = Date.UTC(2024, 0, 1);

/**
 * The CSV text of `rows` rows, in pieces of about 1 MiB. `ints`: metrics are whole numbers, as TSBS
 * writes them (stored as double precision either way).
 */
export function* cpuCsvPieces(rows: number, seed = 42, options: { ints?: boolean } = {}): Generator<string> {
  const rand = rng(seed);
  const hosts = 100;
  const tags = Array.from({ length: hosts }, (_, h) => {
    const region = REGIONS[h % REGIONS.length]!;
    return [`host_${h}`, region, `${region}${'abc'[h % 3]}`, String(h % 100), OS[h % 3], ARCH[h % 2], `team_${h % 7}`, String(h % 20), String(h % 2)].join(',');
  });
  let buf = '';
  for (let i = 0; i < rows; i++) {
    const h = i % hosts;
    const t = new Date(CPU_START + Math.floor(i / hosts) * 10_000).toISOString();
    const metrics = Array.from({ length: 10 }, () => (options.ints ? String(Math.floor(rand() * 100)) : (rand() * 100).toFixed(6))).join(',');
    buf += `${t},${tags[h]},${metrics}\n`;
    if (buf.length > 1 << 20) {
      yield buf;
      buf = '';
    }
  }
  if (buf.length > 0) yield buf;
}

/** Writes `rows` rows (cpuCsvPieces) to `path`; returns the byte size. */
export async function writeCpuCsv(path: string, rows: number, seed = 42, options: { ints?: boolean } = {}): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  for (const piece of cpuCsvPieces(rows, seed, options)) {
    bytes += piece.length;
    if (!out.write(piece)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return bytes;
}
