// client_encoding other than UTF8 (and SQL_ASCII, which converts nothing) needs a conversion PGlite
// does not have: set, it answered with empty results or nothing (a client waited forever), and from
// a startup packet it hung every session after it. Refused as PostgreSQL refuses a missing
// conversion (0A000), before PGlite sees it.
import { spawn } from 'node:child_process';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { serverWithClient } from '../support/server.js';

describe('client_encoding', () => {
  const wire = serverWithClient();
  const code = (sql: string) => wire.client.query(sql).then(() => 'ok', (e: { code?: string }) => e.code);
  const text = async () => (await wire.client.query("SELECT 'ü' AS x, current_setting('client_encoding') AS e")).rows[0];

  it('refuses SET client_encoding, SET NAMES and set_config to an encoding needing conversion', async () => {
    for (const sql of ["SET client_encoding = 'LATIN1'", "SET client_encoding TO 'iso-8859-1'", "SET NAMES 'win1252'", "SELECT set_config('client_encoding', 'SJIS', false)", "SET SESSION client_encoding = 'EUC_JP'"]) {
      expect(await code(sql), sql).toBe('0A000');
      expect(await text(), sql).toEqual({ x: 'ü', e: 'UTF8' });
    }
    await expect(wire.client.query("SET client_encoding = 'LATIN1'")).rejects.toThrow('conversion between LATIN1 and UTF8 is not supported');
  });

  it('takes UTF8 in any spelling and SQL_ASCII; an unknown name is PostgreSQL\'s 22023', async () => {
    for (const name of ['UTF-8', 'unicode', 'utf8', 'SQL_ASCII']) {
      expect(await code(`SET client_encoding = '${name}'`), name).toBe('ok');
      expect((await text()).x).toBe('ü');
    }
    expect(await code("SET client_encoding = 'bogus'")).toBe('22023');
    await wire.client.query('RESET client_encoding');
    expect(await text()).toEqual({ x: 'ü', e: 'UTF8' });
  });

  it('fails a connection whose startup packet asks for one, and the others go on', async () => {
    // psql sends PGCLIENTENCODING as the startup packet's client_encoding.
    const psql = await new Promise<{ code: number | null; err: string }>((resolve) => {
      const p = spawn('psql', ['-X', '-d', wire.server.url, '-c', "SELECT 'ü'"], { env: { ...process.env, PGCLIENTENCODING: 'LATIN1' } });
      let err = '';
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('close', (code) => resolve({ code, err }));
    });
    expect(psql.code).toBe(2);
    expect(psql.err).toContain('FATAL:  conversion between LATIN1 and UTF8 is not supported');
    const good = new pg.Client({ connectionString: wire.server.url });
    await good.connect();
    expect((await good.query("SELECT 'ü' AS x")).rows).toEqual([{ x: 'ü' }]);
    await good.end();
    expect(await text()).toEqual({ x: 'ü', e: 'UTF8' });
  });
});
