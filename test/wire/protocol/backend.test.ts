// scanBackend with types against scanBackend without: the same frames of the types asked for, over a stream of
// many messages (DataRows around notices, errors and a ReadyForQuery), whole or cut short.
import { describe, expect, it } from 'vitest';
import { errorResponse, notificationResponse, readyForQuery, scanBackend } from '../../../src/wire/protocol/backend.js';
import { BackendMessage, TransactionStatus } from '../../../src/wire/protocol/message-codes.js';
import { OrbitError } from '../../../src/errors.js';
import { SqlState } from '../../../src/sqlstate.js';
import { concatBytes } from '../../../src/bytes.js';

function dataRow(i: number): Uint8Array {
  // A DataRow whose length word has bytes above 127 in it for long rows (unsigned reading).
  const text = 'x'.repeat(i % 7 === 0 ? 200 + i : i % 13);
  const out = new Uint8Array(11 + text.length);
  const view = new DataView(out.buffer);
  out[0] = BackendMessage.DataRow;
  view.setInt32(1, out.length - 1);
  view.setInt16(5, 1);
  view.setInt32(7, text.length);
  out.set(new TextEncoder().encode(text), 11);
  return out;
}

describe('scanBackend with types', () => {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 500; i++) {
    parts.push(dataRow(i));
    if (i % 97 === 0) parts.push(notificationResponse(7, 'channel', `payload ${i}`));
    if (i % 211 === 0) parts.push(errorResponse(new OrbitError(SqlState.division_by_zero, `error ${i}`), BackendMessage.NoticeResponse));
  }
  parts.push(errorResponse(new OrbitError(SqlState.division_by_zero, 'last')), readyForQuery(TransactionStatus.Idle));
  const stream = concatBytes(parts);
  const types: number[] = [BackendMessage.NotificationResponse, BackendMessage.ErrorResponse, BackendMessage.ReadyForQuery];

  it('finds the frames of the given types that scanBackend lists', () => {
    const want = scanBackend(stream).filter((f) => types.includes(f.type));
    expect(want.length).toBe(6 + 1 + 1);
    expect(scanBackend(stream, types)).toEqual(want);
    expect(scanBackend(stream, [BackendMessage.DataRow]).length).toBe(500);
  });

  it('stops where scanBackend stops in a stream cut short', () => {
    for (const cut of [1, 4, 5, 6, 300, stream.length - 7, stream.length - 1]) {
      const part = stream.subarray(0, cut);
      expect(scanBackend(part, types), `cut at ${cut}`).toEqual(scanBackend(part).filter((f) => types.includes(f.type)));
    }
  });
});
