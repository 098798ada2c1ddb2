/**
 * @module wire/listen-node
 * Starting and stopping a Node server on an address, shared by the TCP, WebSocket and bridge
 * listeners.
 */
import type { Server } from 'node:net';

export interface Listener {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Listens on host:port (port 0 picks a free one). Rejects with the system error (EADDRINUSE …) if
 * it cannot; `dropConnections` runs before the server closes.
 */
export function listenOn(server: Server, host: string, port: number, dropConnections: () => void): Promise<Listener> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve({
        host,
        port: typeof addr === 'object' && addr ? addr.port : port,
        close: () =>
          new Promise<void>((done) => {
            dropConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
