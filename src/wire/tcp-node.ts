/**
 * @module wire/tcp-node
 * PostgreSQL wire protocol over TCP (Node `net`).
 */
import { createServer, type Socket } from 'node:net';
import { Connection, type ConnectionContext } from './connection.js';
import { isLoopback, listenOn, type Listener } from './listen-node.js';

export type { Listener };

/** Listens for PostgreSQL clients; resolves once listening, rejects (e.g. EADDRINUSE) otherwise. */
export function listenTcp(ctx: ConnectionContext | Promise<ConnectionContext>, host: string, port: number): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    const write = turnWriter(socket);
    const conn = new Connection(ctx, {
      loopback: isLoopback(socket.remoteAddress),
      write: (b) => {
        if (!socket.destroyed) write(b);
      },
      close: () => socket.end(),
      pause: () => socket.pause(),
      resume: () => socket.resume(),
    });
    socket.on('data', (chunk) => conn.receive(chunk));
    socket.on('error', () => undefined); // a reset by the client ends the session like a close
    socket.on('close', () => {
      sockets.delete(socket);
      void conn.closed();
    });
  });
  return listenOn(server, host, port, () => {
    for (const s of sockets) s.destroy();
  });
}

/** What turnWriter needs of a socket (node:net's Socket). */
export interface Corkable {
  cork(): void;
  uncork(): void;
  write(bytes: Uint8Array): unknown;
}

/**
 * Writes to `socket` corked until the current turn's ticks and promise jobs have run: a response
 * is written as several messages (RowDescription, DataRow parts, CommandComplete, and the
 * ReadyForQuery after an await), which then leave in one writev and reach the client as one read,
 * rather than as one send (and one packet, with noDelay) each. `end()` flushes what is corked.
 */
export function turnWriter(socket: Corkable): (bytes: Uint8Array) => void {
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  return (bytes) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    socket.write(bytes);
  };
}
