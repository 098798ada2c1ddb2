// A text value that starts with U+FEFF (bytes EF BB BF) keeps it everywhere Orbit decodes UTF-8 —
// compressed batches, direct COPY (csv and binary), rows printed or made by Orbit, results in
// process — as PostgreSQL keeps it: a decoder's default would drop it as a byte order mark.
import { beforeAll, describe, expect, it } from 'vitest';
import { serverWithClient } from '../support/server.js';

const BOM = '\uFEFF';

describe('text starting with U+FEFF', () => {
  const wire = serverWithClient();
  beforeAll(async () => {
    await wire.server.orbit.exec(`CREATE EXTENSION IF NOT EXISTS timescaledb; SET TimeZone = 'UTC';
      CREATE TABLE c (time timestamptz NOT NULL, host text, tag text, v float8);
      SELECT create_hypertable('c', 'time', chunk_time_interval => INTERVAL '1 day');
      ALTER TABLE c SET (timescaledb.compress, timescaledb.compress_segmentby = 'host');
      INSERT INTO c SELECT '2024-01-01'::timestamptz + i * interval '1 minute', U&'\\FEFFh' || (i % 2), U&'\\FEFFt' || i, i FROM generate_series(1, 200) i;
      SELECT count(compress_chunk(x)) FROM show_chunks('c') x;
      CREATE TABLE d (time timestamptz NOT NULL, host text, tag text, v float8) WITH (timescaledb.hypertable, timescaledb.segmentby = 'host');`);
  });

  it('keeps it through compression, in process and over TCP', async () => {
    const sql = "SELECT host, tag, octet_length(tag) AS n FROM c WHERE v <= 3 ORDER BY v";
    const want = [1, 2, 3].map((i) => ({ host: `${BOM}h${i % 2}`, tag: `${BOM}t${i}`, n: 3 + String(i).length + 1 }));
    expect((await wire.server.orbit.query(sql)).rows).toEqual(want);
    expect((await wire.client.query(sql)).rows).toEqual(want);
    // Rows Orbit prints itself (a scan of the batches' own columns).
    expect((await wire.client.query('SELECT host, tag FROM c WHERE v <= 3 ORDER BY time')).rows).toEqual(want.map(({ host, tag }) => ({ host, tag })));
  });

  it('keeps it through a direct COPY', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => `2024-01-02 00:${String(i % 60).padStart(2, '0')}:${String(i % 7).padStart(2, '0')}+00,${BOM}h${i % 3},${BOM}t${i},${i}`).join('\n') + '\n';
    await wire.server.orbit.copyFrom('COPY d FROM STDIN (FORMAT csv)', rows);
    const r = await wire.client.query("SELECT count(*)::int AS n, count(*) FILTER (WHERE left(host, 1) = U&'\\FEFF' AND left(tag, 1) = U&'\\FEFF')::int AS bom FROM d");
    expect(r.rows).toEqual([{ n: 300, bom: 300 }]);
    expect((await wire.client.query("SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE hypertable_name = 'd' AND is_compressed")).rows[0].n).toBeGreaterThan(0);
  });
});
