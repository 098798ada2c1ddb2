// Messages larger than the connection's read buffer high-water mark (8 MiB): the transport is
// paused while the buffer is full and must resume to receive the rest of a message still arriving.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

describe('messages larger than the read buffer', () => {
  let server: TestServer;
  let sql: postgres.Sql;
  beforeAll(async () => {
    server = await startTestServer();
    sql = postgres(server.url, { max: 1, onnotice: () => {} });
    await sql`CREATE TABLE big (a int, b text)`;
  });
  afterAll(async () => {
    await sql?.end();
    await server?.close();
  });

  it('takes one 34 MiB CopyData message', async () => {
    const pad = 'x'.repeat(1000);
    const rows = 36_000;
    const data = Buffer.from(Array.from({ length: rows }, (_, i) => `${i}\t${pad}${i}\n`).join(''));
    expect(data.length).toBeGreaterThan(34 << 20);
    const w = await sql`COPY big FROM STDIN`.writable();
    await new Promise<void>((resolve, reject) => {
      w.on('error', reject);
      w.on('finish', resolve);
      w.write(data);
      w.end();
    });
    expect(await sql`SELECT count(*)::int AS n, sum(a)::int8 AS s, max(length(b))::int AS l FROM big`).toEqual([{ n: rows, s: String((rows * (rows - 1)) / 2), l: 1005 }]);
  });

  it('takes a 9 MiB simple query', async () => {
    const literal = 'y'.repeat(9 << 20);
    const [row] = await sql.unsafe(`SELECT length('${literal}') AS n`);
    expect(row).toEqual({ n: 9 << 20 });
  });
});
