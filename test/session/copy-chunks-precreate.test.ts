// COPY into a hypertable creates each piece's chunks before sending it, so rows go straight into
// their chunks instead of through the default partition (src/session/copy-chunks.ts).
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let c: pg.Client;

beforeAll(async () => {
  // Small pieces: one COPY becomes many pieces, each opening new chunks.
  server = await startTestServer({ session: { copyChunkBytes: 512 } });
  c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
  await c.connect();
  await c.query('CREATE EXTENSION timescaledb');
  await c.query('CREATE TABLE readings (device int, time timestamptz NOT NULL, value float8)');
  await c.query("SELECT create_hypertable('readings', by_range('time', INTERVAL '1 hour'))");
  // Counts every row that reaches the default partition.
  await c.query('CREATE TABLE default_hits (n int)');
  await c.query("CREATE FUNCTION count_hit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO default_hits VALUES (1); RETURN NULL; END $$");
  await c.query('CREATE TRIGGER hits AFTER INSERT ON _timescaledb_internal._hyper_1_default FOR EACH ROW EXECUTE FUNCTION count_hit()');
});
afterAll(async () => {
  await c?.end();
  await server?.close();
});

/** Runs one psql command with `input` on its stdin; resolves with its stdout. */
async function psql(command: string, input: string | Buffer = ''): Promise<Buffer> {
  const { execFile } = await import('node:child_process');
  // Asynchronously: the server runs in this process.
  return new Promise<Buffer>((resolve, reject) => {
    const args = ['-X', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(server.port), '-U', 'postgres', '-d', 'postgres', '-c', command];
    const child = execFile('psql', args, { encoding: 'buffer' }, (err, stdout, stderr) => (err ? reject(new Error(stderr.toString())) : resolve(stdout)));
    child.stdin!.end(input);
  });
}

const copy = async (command: string, input: string | Buffer): Promise<string> => (await psql(command, input)).toString();

const hits = async () => (await c.query('SELECT count(*)::int AS n FROM default_hits')).rows[0].n as number;

it('sends CSV rows of many new chunks straight into them, out of order too', async () => {
  const hours = [5, 1, 9, 3, 7, 2, 8, 0, 6, 4];
  const rows = hours.flatMap((h) => Array.from({ length: 20 }, (_, d) => `${d},2024-03-01 ${String(h).padStart(2, '0')}:${String(d).padStart(2, '0')}:00+00,${h}.5`));
  expect((await copy('\\copy readings from stdin csv', rows.join('\n') + '\n')).trim()).toBe('COPY 200');
  expect(await hits()).toBe(0);
  const parts = await c.query("SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM readings GROUP BY 1 ORDER BY 1");
  expect(parts.rows).toHaveLength(10);
  expect(parts.rows.every((p) => p.n === 20 && !p.part.endsWith('_default'))).toBe(true);
});

it('does the same for text format with a column list and a header', async () => {
  const rows = ['time\tdevice', ...Array.from({ length: 30 }, (_, i) => `2024-03-02 ${String(i % 3).padStart(2, '0')}:00:00+00\t${i}`)];
  expect((await copy('\\copy readings (time, device) from stdin (format text, header true)', rows.join('\n') + '\n')).trim()).toBe('COPY 30');
  expect(await hits()).toBe(0);
  expect((await c.query("SELECT count(*)::int AS n FROM show_chunks('readings')")).rows[0].n).toBe(13);
});

it('leaves nothing behind, chunks included, when a later piece has a bad time', async () => {
  const before = (await c.query("SELECT count(*)::int AS n FROM show_chunks('readings')")).rows[0].n;
  const rows = Array.from({ length: 40 }, (_, i) => `1,2024-04-01 ${String(i % 24).padStart(2, '0')}:00:00+00,1`);
  rows[35] = '1,not a time,1';
  await expect(copy('\\copy readings from stdin csv', rows.join('\n') + '\n')).rejects.toThrow(/invalid input syntax for type timestamp with time zone: "not a time"[\s\S]*line 36/);
  expect((await c.query("SELECT count(*)::int AS n FROM show_chunks('readings')")).rows[0].n).toBe(before);
  expect((await c.query("SELECT count(*)::int AS n FROM readings WHERE time >= '2024-04-01'")).rows[0].n).toBe(0);
});

it('still routes values it cannot read itself through the default partition', async () => {
  // A quoted value with a doubled quote is left to PostgreSQL: such rows take the fix-up path.
  expect((await copy("\\copy readings from stdin (format csv, quote '''')", "1,'2024-05-01 00:00:00+00',1\n")).trim()).toBe('COPY 1');
  const r = await c.query("SELECT tableoid::regclass::text AS part FROM readings WHERE time = '2024-05-01 00:00:00+00'");
  expect(r.rows[0].part).toMatch(/_chunk$/);
});

it('reads the time column of binary COPY data', async () => {
  await c.query('CREATE TABLE readings2 (LIKE readings)');
  await c.query("SELECT create_hypertable('readings2', by_range('time', INTERVAL '1 hour'))");
  await c.query('CREATE TRIGGER hits AFTER INSERT ON _timescaledb_internal._hyper_2_default FOR EACH ROW EXECUTE FUNCTION count_hit()');
  const binary = await psql("\\copy (SELECT * FROM readings WHERE time < '2024-03-02') to stdout (format binary)");
  expect((await copy('\\copy readings2 from stdin (format binary)', binary)).trim()).toBe('COPY 200');
  expect(await hits()).toBe(0);
  expect((await c.query("SELECT count(*)::int AS n FROM show_chunks('readings2')")).rows[0].n).toBe(10);
});

it('pre-creates whole time slices of a space-partitioned hypertable from the time column alone', async () => {
  await c.query('CREATE TABLE readings3 (device int, time timestamptz NOT NULL, value float8, PRIMARY KEY (device, time))');
  await c.query("SELECT create_hypertable('readings3', 'time', 'device', 3, chunk_time_interval => INTERVAL '1 hour')");
  await c.query('CREATE TRIGGER hits AFTER INSERT ON _timescaledb_internal._hyper_3_default FOR EACH ROW EXECUTE FUNCTION count_hit()');
  const before = await hits();
  const rows = [4, 0, 2, 1, 3].flatMap((h) => Array.from({ length: 12 }, (_, d) => `${d},2024-03-03 ${String(h).padStart(2, '0')}:${String(d).padStart(2, '0')}:00+00,${d}`));
  expect((await copy('\\copy readings3 from stdin csv', rows.join('\n') + '\n')).trim()).toBe('COPY 60');
  expect(await hits()).toBe(before);
  // Five time slices of three hash chunks each; every row in a chunk, none in the default partition.
  expect((await c.query("SELECT count(*)::int AS n FROM show_chunks('readings3')")).rows[0].n).toBe(15);
  const parts = await c.query('SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM readings3 GROUP BY 1');
  expect(parts.rows.some((p) => p.part.endsWith('_default'))).toBe(false);
  expect(parts.rows.reduce((s, p) => s + p.n, 0)).toBe(60);
  // The primary key holds across chunks.
  await expect(copy('\\copy readings3 from stdin csv', '3,2024-03-03 00:03:00+00,0\n')).rejects.toThrow(/duplicate key/);
});
