// COPY FROM STDIN handed to PostgreSQL in pieces (here tiny ones, 256 bytes, so every stream is
// cut many times): text, CSV with quoted newlines and HEADER, binary; errors report the line number
// of the whole stream and leave nothing behind; COPY inside a client transaction.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readErrorFields } from '../../src/wire/protocol/backend.js';
import { MessageWriter } from '../../src/wire/protocol/writer.js';
import { msg, RawClient, types, type BackendMsg } from '../support/raw-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let c: RawClient;

beforeAll(async () => {
  server = await startTestServer({ session: { copyChunkBytes: 256 } });
  c = await RawClient.ready(server.port);
  await sql('CREATE TABLE t (id int PRIMARY KEY, note text, at timestamptz)');
});
afterAll(async () => {
  c?.close();
  await server?.close();
});

const query = (text: string) => msg('Q', (w) => w.cstring(text));

async function sql(text: string): Promise<BackendMsg[]> {
  c.send(query(text));
  return c.until('Z');
}

async function scalar(text: string): Promise<string> {
  const ms = await sql(text);
  const row = ms.find((m) => m.type === 'D')!;
  const len = new DataView(row.body.buffer, row.body.byteOffset + 2, 4).getInt32(0);
  return new TextDecoder().decode(row.body.subarray(6, 6 + len));
}

/** Sends COPY … FROM STDIN with the data in messages of `chunk` bytes; returns the reply. */
async function copy(statement: string, data: Uint8Array, chunk = 100): Promise<BackendMsg[]> {
  c.send(query(statement));
  const g = await c.next();
  expect(g?.type).toBe('G');
  for (let i = 0; i < data.length; i += chunk) c.send(msg('d', (w) => w.bytes(data.subarray(i, i + chunk))));
  c.send(msg('c'));
  return c.until('Z');
}

const tag = (ms: BackendMsg[]) => new TextDecoder().decode(ms.find((m) => m.type === 'C')!.body).replace(/\0$/, '');
const enc = (s: string) => new TextEncoder().encode(s);

describe('COPY in pieces', () => {
  it('loads text format across many pieces', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => `${i}\tnote\\twith tab ${i}\t2024-01-01 00:00:${String(i % 60).padStart(2, '0')}+00`).join('\n') + '\n';
    expect(tag(await copy('COPY t FROM STDIN', enc(rows)))).toBe('COPY 200');
    expect(await scalar('SELECT count(*) FROM t')).toBe('200');
    expect(await scalar("SELECT note FROM t WHERE id = 7")).toBe('note\twith tab 7');
  });

  it('loads CSV with HEADER, quoted newlines and doubled quotes', async () => {
    await sql('TRUNCATE t');
    const body = Array.from({ length: 150 }, (_, i) => `${i},"line one\nline ""two"" ${i}",2024-01-01T00:00:00Z`).join('\n');
    const csv = `id,note,at\n${body}\n`;
    expect(tag(await copy('COPY t FROM STDIN WITH (FORMAT csv, HEADER true)', enc(csv), 37))).toBe('COPY 150');
    expect(await scalar('SELECT note FROM t WHERE id = 149')).toBe('line one\nline "two" 149');
  });

  it('loads binary format across pieces', async () => {
    await sql('TRUNCATE t');
    const w = new MessageWriter();
    w.bytes(new Uint8Array([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00])).int32(0).int32(0);
    for (let i = 0; i < 120; i++) {
      const note = enc(`binary ${i}`);
      w.int16(3).int32(4).int32(i).int32(note.length).bytes(note).int32(-1);
    }
    w.int16(-1);
    expect(tag(await copy('COPY t FROM STDIN WITH (FORMAT binary)', w.flush(), 53))).toBe('COPY 120');
    expect(await scalar("SELECT string_agg(note, ',' ORDER BY id) FROM t WHERE id IN (0, 119)")).toBe('binary 0,binary 119');
    expect(await scalar('SELECT count(*) FROM t WHERE at IS NULL')).toBe('120');
  });

  it('fails the whole COPY with the line number of the stream and leaves nothing behind', async () => {
    await sql('TRUNCATE t');
    const lines = Array.from({ length: 100 }, (_, i) => (i === 83 ? 'oops\tbad\t\\N' : `${i}\tok\t\\N`));
    const reply = await copy('COPY t FROM STDIN', enc(lines.join('\n') + '\n'));
    expect(types(reply)).toBe('EZ');
    const e = readErrorFields(reply[0]!.body);
    expect(e.C).toBe('22P02');
    expect(e.W).toMatch(/^COPY t, line 84, column id: "oops"/);
    // Fields other than the line number arrive as PostgreSQL sent them, LOCATION included.
    expect(e.R).toBe('pg_strtoint32_safe');
    expect(e.F).toBeTruthy();
    expect(await scalar('SELECT count(*) FROM t')).toBe('0');
  });

  it('runs inside the client’s transaction, and CopyFail aborts it', async () => {
    await sql('TRUNCATE t');
    await sql('BEGIN');
    const rows = Array.from({ length: 50 }, (_, i) => `${i}\tin tx\t\\N`).join('\n') + '\n';
    const reply = await copy('COPY t FROM STDIN', enc(rows));
    expect(tag(reply)).toBe('COPY 50');
    expect(reply.at(-1)!.body[0]).toBe(0x54); // 'T': still in the transaction
    await sql('ROLLBACK');
    expect(await scalar('SELECT count(*) FROM t')).toBe('0');

    c.send(query('COPY t FROM STDIN'));
    expect((await c.next())?.type).toBe('G');
    c.send(msg('d', (w) => w.bytes(enc('1\tx\t\\N\n'))));
    c.send(msg('f', (w) => w.cstring('client gave up')));
    const failed = await c.until('Z');
    expect(readErrorFields(failed[0]!.body).C).toBe('57014');
    expect(await scalar('SELECT count(*) FROM t')).toBe('0');
  });
});

describe('COPY error line numbers in CSV', () => {
  // Expected numbers are what PostgreSQL 18 reports for the same data in one piece: it counts
  // newlines inside quoted fields, except in the first record (before it knows the line ending).
  it('counts newlines inside quoted fields, as PostgreSQL does', async () => {
    await sql('TRUNCATE t');
    const records = Array.from({ length: 80 }, (_, i) => `${i === 59 ? 'bad' : i},"two\nlines",`);
    const reply = await copy('COPY t FROM STDIN WITH (FORMAT csv)', enc(records.join('\n') + '\n'), 64);
    const e = readErrorFields(reply[0]!.body);
    expect(e.C).toBe('22P02');
    expect(e.W).toMatch(/^COPY t, line 119, column id: "bad"/);
    records[0] = '0,one,';
    const again = await copy('COPY t FROM STDIN WITH (FORMAT csv)', enc(records.join('\n') + '\n'), 64);
    expect(readErrorFields(again[0]!.body).W).toMatch(/^COPY t, line 119, column id: "bad"/);
  });
});
