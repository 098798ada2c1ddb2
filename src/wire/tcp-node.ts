/**
 * @module wire/tcp-node
 * PostgreSQL wire protocol over TCP (Node `net`).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Connection, type ConnectionContext } from './connection.js';

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export interface Listener {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Listens for PostgreSQL clients; resolves once listening, rejects (e.g. EADDRINUSE) otherwise. */
export function listenTcp(ctx: ConnectionContext, host: string, port: number): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ noDelay: true }, (socket) => {
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
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      const actualPort = typeof addr === 'object' && addr ? addr.port : port;
      resolve({
        host,
        port: actualPort,
        close: () =>
          new Promise<void>((res) => {
            for (const s of sockets) s.destroy();
            server.close(() => res());
          }),
      });
    });
  });
}
