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
    const conn = new Connection(ctx, {
      loopback: isLoopback(socket.remoteAddress),
      write: (b) => {
        if (!socket.destroyed) socket.write(b);
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
