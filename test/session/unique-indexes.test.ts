// A unique index added to a hypertable with chunks in the columnstore (CREATE UNIQUE INDEX, ALTER
// TABLE … ADD PRIMARY KEY / UNIQUE) is checked against the batches' rows too, as TimescaleDB 2.19+
// checks compressed chunks: duplicates give PostgreSQL's own 23505 (the same message and DETAIL as
// over a plain table holding the rows), no duplicates give the index, and inserts then see it.
import { describe, expect, it } from 'vitest';
import { serverWithClient } from '../support/server.js';

describe('unique indexes on hypertables with chunks in the columnstore', () => {
  const wire = serverWithClient();

  /** The error (code, message with the table's name as T, DETAIL) or 'ok', over TCP and in-process alike (errors only: an index made over TCP is there for the second run). */
  async function outcome(sql: string, table: string): Promise<string> {
    const norm = (e: { code?: string; message: string; detail?: string }) => `${e.code} ${e.message.replaceAll(table, 'T')} | ${e.detail ?? ''}`;
    const tcp = await wire.client.query(sql).then(() => 'ok', norm);
    const inProcess = await wire.server.orbit.query(sql).then(() => 'ok', norm);
    expect(inProcess, sql).toBe(tcp);
    return tcp;
  }

  /** A hypertable `name` compressed with `rows`, and a plain table `<name>_ref` with the same rows. */
  async function tables(name: string, rows: string, late = ''): Promise<void> {
    await wire.server.orbit.exec(`CREATE TABLE ${name} (time timestamptz NOT NULL, host text, v float8, ok bool);
      SELECT create_hypertable('${name}', 'time', chunk_time_interval => INTERVAL '1 day');
      ALTER TABLE ${name} SET (timescaledb.compress, timescaledb.compress_segmentby = 'host');
      INSERT INTO ${name} VALUES ${rows};
      SELECT count(compress_chunk(c)) FROM show_chunks('${name}') c;
      ${late ? `INSERT INTO ${name} VALUES ${late};` : ''}
      CREATE TABLE ${name}_ref AS SELECT * FROM ${name};`);
  }

  it('refuses duplicates in the batches, and between batches and the rowstore, with PostgreSQL error', async () => {
    await wire.server.orbit.exec('CREATE EXTENSION IF NOT EXISTS timescaledb');
    const rows = Array.from({ length: 400 }, (_, i) => `('2024-01-0${1 + (i % 3)} 00:00:00+00'::timestamptz + ${i % 50} * interval '1 minute', 'h${i % 2}', ${i % 11}, ${i % 2 === 0})`).join(', ');
    await tables('dup', rows);
    await tables('split', "('2024-01-01 10:00+00', 'a', 1, true), ('2024-01-02 10:00+00', NULL, 2, NULL), ('2024-01-02 10:00+00', NULL, 3, NULL)", "('2024-01-01 10:00+00', 'a', 4, false)");
    for (const [table, ddls] of [
      // A trailing comment runs to the end of the statement's text: the check's own SQL must not follow it on that line.
      ['dup', ['CREATE UNIQUE INDEX ON {t} (time, host)', 'CREATE UNIQUE INDEX ON {t} (time, host) -- a note', 'ALTER TABLE {t} ADD PRIMARY KEY (time, host)', 'ALTER TABLE {t} ADD CONSTRAINT {t}_u UNIQUE (time, ok, host)', 'CREATE UNIQUE INDEX ON {t} (time, ok) WHERE v > 5', 'CREATE UNIQUE INDEX ON {t} (time, upper(host))']],
      ['split', ['CREATE UNIQUE INDEX ON {t} (time, host)', 'CREATE UNIQUE INDEX ON {t} (time, host) NULLS NOT DISTINCT', 'ALTER TABLE {t} ADD UNIQUE (time)']],
    ] as const) {
      for (const ddl of ddls) {
        // Which duplicate the DETAIL names depends on the order rows are met (PostgreSQL's sort): the rest must be the same.
        const key = /=\((.*)\) is duplicated\.$/;
        const mine = await outcome(ddl.replaceAll('{t}', table), table);
        expect(mine, ddl).toMatch(/^23505 could not create unique index ".*" \| Key \(.*\)=\(.*\) is duplicated\.$/);
        expect(mine.replace(key, '=(…) is duplicated.'), ddl).toBe((await outcome(ddl.replaceAll('{t}', `${table}_ref`), `${table}_ref`)).replace(key, '=(…) is duplicated.'));
      }
    }
    // Nothing was created; NULLs are distinct by default.
    expect((await wire.server.orbit.query("SELECT count(*)::int AS n FROM pg_index WHERE indrelid IN ('dup'::regclass, 'split'::regclass) AND indisunique")).rows).toEqual([{ n: 0 }]);
    await wire.server.orbit.exec('CREATE UNIQUE INDEX split_time_host_v ON split (time, host, v)');
  });

  it('in-process, in a string with its own BEGIN: the trial is undone, nothing is left', async () => {
    await expect(wire.server.orbit.exec('BEGIN; CREATE UNIQUE INDEX dup_trial ON dup (time, host); COMMIT')).rejects.toMatchObject({ code: '23505' });
    await wire.server.orbit.exec('ROLLBACK');
    expect((await wire.server.orbit.query("SELECT to_regclass('dup_trial') IS NULL AS gone")).rows).toEqual([{ gone: true }]);
  });

  it('creates the index over unique rows; inserts then see it, ON CONFLICT included', async () => {
    await tables('uniq', "('2024-01-01 10:00+00', 'a', 1, true), ('2024-01-01 10:00+00', 'b', 2, true), ('2024-01-02 10:00+00', 'a', 3, NULL)");
    await wire.server.orbit.exec('CREATE INDEX ON uniq (host, v); CREATE UNIQUE INDEX ON uniq (time, host)');
    await wire.client.query("INSERT INTO uniq VALUES ('2024-01-01 10:00+00', 'a', 9, false) ON CONFLICT DO NOTHING");
    await expect(wire.client.query("INSERT INTO uniq VALUES ('2024-01-02 10:00+00', 'a', 9, false)")).rejects.toMatchObject({ code: '23505' });
    expect((await wire.server.orbit.query('SELECT count(*)::int AS n, sum(v) AS s FROM uniq')).rows).toEqual([{ n: 3, s: 6 }]);
  });

  it('checks a prepared statement at each Bind: rows compressed since its Parse count', async () => {
    // Duplicates in the rowstore: the named statement parses, and its first run fails in PostgreSQL.
    await tables('later', "('2024-01-01 10:00+00', 'a', 1, true)", "('2024-01-02 10:00+00', 'b', 2, true), ('2024-01-02 10:00+00', 'b', 3, true)");
    const named = { name: 'later_u', text: 'CREATE UNIQUE INDEX later_u ON later (time, host)' };
    await expect(wire.client.query(named)).rejects.toMatchObject({ code: '23505' });
    // The duplicates compressed: the same statement, bound again, finds them in the batches.
    await wire.client.query("SELECT count(compress_chunk(c, if_not_compressed => true)) FROM show_chunks('later') c");
    await expect(wire.client.query(named)).rejects.toMatchObject({ code: '23505', message: 'could not create unique index "later_u"', detail: 'Key ("time", host)=(2024-01-02 10:00:00+00, b) is duplicated.' });
    expect((await wire.server.orbit.query("SELECT count(*)::int AS n FROM pg_index WHERE indrelid = 'later'::regclass AND indisunique")).rows).toEqual([{ n: 0 }]);
    // Without them, it makes the index.
    await wire.server.orbit.exec("DELETE FROM later WHERE v = 3");
    await wire.client.query(named);
    expect((await wire.server.orbit.query("SELECT count(*)::int AS n FROM pg_index WHERE indrelid = 'later'::regclass AND indisunique")).rows).toEqual([{ n: 1 }]);
  });

  it('aborts the transaction block as the statement would; refuses what it cannot check', async () => {
    await wire.client.query('BEGIN');
    await expect(wire.client.query('CREATE UNIQUE INDEX ON dup (time, host)')).rejects.toMatchObject({ code: '23505' });
    await expect(wire.client.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
    await wire.client.query('ROLLBACK');
    // (uniq's inserts decompressed the batches they could conflict with: dup still has its chunks in the columnstore.)
    for (const ddl of ['CREATE UNIQUE INDEX CONCURRENTLY ON dup (time, v)', 'ALTER TABLE dup ADD CONSTRAINT x EXCLUDE USING btree (time WITH =)']) {
      await expect(wire.client.query(ddl), ddl).rejects.toMatchObject({ code: '0A000' });
    }
    await expect(wire.client.query('ALTER TABLE dup ADD COLUMN z int, ADD CONSTRAINT dup_z UNIQUE (time, z)')).rejects.toMatchObject({ code: '0A000' });
    const chunk = (await wire.server.orbit.query<{ c: string }>("SELECT c::text FROM show_chunks('dup') c LIMIT 1")).rows[0]!.c;
    await expect(wire.client.query(`CREATE UNIQUE INDEX ON ${chunk} (time, host, v)`)).rejects.toMatchObject({ code: '0A000' });
  });
});
