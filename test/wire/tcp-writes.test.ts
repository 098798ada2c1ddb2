import { describe, expect, it } from 'vitest';
import { turnWriter } from '../../src/wire/tcp-node.js';

/** A socket that records what it is asked to do. */
function recorder(): { events: string[]; socket: { cork(): void; uncork(): void; write(b: Uint8Array): boolean } } {
  const events: string[] = [];
  return {
    events,
    socket: {
      cork: () => events.push('cork'),
      uncork: () => events.push('uncork'),
      write: (b) => events.push(`write ${b.length}`) > 0,
    },
  };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('TCP writes of one turn', () => {
  it('go out between one cork and uncork, awaits within the turn included', async () => {
    const { events, socket } = recorder();
    const write = turnWriter(socket);
    write(new Uint8Array(1)); // RowDescription …
    write(new Uint8Array(2)); // … DataRows, CommandComplete
    await Promise.resolve(); // the ReadyForQuery comes after an await (endOfBatch)
    await Promise.resolve();
    write(new Uint8Array(3));
    await nextTurn();
    expect(events).toEqual(['cork', 'write 1', 'write 2', 'write 3', 'uncork']);
  });

  it('are corked again in a later turn', async () => {
    const { events, socket } = recorder();
    const write = turnWriter(socket);
    write(new Uint8Array(1));
    await nextTurn();
    write(new Uint8Array(2));
    await nextTurn();
    expect(events).toEqual(['cork', 'write 1', 'uncork', 'cork', 'write 2', 'uncork']);
  });
});
