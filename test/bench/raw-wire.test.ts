// The bench's pgbench-like client steps over messages by their headers only: a response split at
// every byte must give the same rows, columns and errors as one in a single chunk.
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RawWireClient } from '../../bench/tsbs/raw-wire.js';
import { commandComplete, errorResponse, readyForQuery } from '../../src/wire/protocol/backend.js';
import { BackendMessage, TransactionStatus } from '../../src/wire/protocol/message-codes.js';
import { MessageWriter } from '../../src/wire/protocol/writer.js';
import { concatBytes } from '../../src/bytes.js';
import { orbitError } from '../../src/errors.js';

function description(names: string[]): Uint8Array {
  const w = new MessageWriter().begin(BackendMessage.RowDescription).int16(names.length);
  for (const n of names) w.cstring(n).int32(0).int16(0).int32(25).int16(-1).int32(-1).int16(0);
  return w.end().flush();
}

function dataRow(values: Array<string | null>): Uint8Array {
  const w = new MessageWriter().begin(BackendMessage.DataRow).int16(values.length);
  for (const v of values) {
    if (v === null) w.int32(-1);
    else {
      const b = new TextEncoder().encode(v);
      w.int32(b.length).bytes(b);
    }
  }
  return w.end().flush();
}

const startupReply = concatBytes([new Uint8Array([0x52, 0, 0, 0, 8, 0, 0, 0, 0]), readyForQuery(TransactionStatus.Idle)]);
const rows = Array.from({ length: 50 }, (_, i) => [`host_${i}`, i % 7 === 0 ? null : 'x'.repeat(i)]);
const queryReply = concatBytes([description(['hostname', 'v']), ...rows.map(dataRow), commandComplete('SELECT 50'), readyForQuery(TransactionStatus.Idle)]);
const errorReply = concatBytes([errorResponse(orbitError('undefined_table', 'relation "nope" does not exist')), readyForQuery(TransactionStatus.Idle)]);

let server: Server | undefined;
afterEach(() => server?.close());

/** A server that answers startup, then each query in turn with `replies`, written `step` bytes at a time. */
async function fakeServer(replies: Uint8Array[], step: number): Promise<number> {
  server = createServer((socket) => {
    const answers = [startupReply, ...replies];
    socket.on('data', async () => {
      const reply = answers.shift();
      if (!reply) return;
      for (let i = 0; i < reply.length; i += step) {
        socket.write(reply.subarray(i, i + step));
        await new Promise((r) => setImmediate(r));
      }
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return (server!.address() as AddressInfo).port;
}

describe('bench raw-wire client', () => {
  for (const step of [1, 3, 5, 7, 64, 1 << 20]) {
    it(`frames a response written ${step} bytes at a time`, async () => {
      const client = await RawWireClient.connect(await fakeServer([queryReply, errorReply, queryReply], step), { user: 'u' });
      const r = await client.query('SELECT 1');
      await expect(client.query('SELECT * FROM nope')).rejects.toThrow('relation "nope" does not exist');
      const again = await client.query('SELECT 1');
      client.close();
      expect(r.columns).toEqual(['hostname', 'v']);
      expect(r.rowCount).toBe(50);
      expect(r.rows).toEqual(rows);
      expect(again.rows).toEqual(rows);
    });
  }
});
