/**
 * @module wire/bridge-node
 * `orbit bridge`: a local TCP port whose every connection is relayed, byte for byte, to an Orbit
 * PostgreSQL-over-WebSocket endpoint, so TCP-only clients (psql) reach Orbit in a browser or Worker.
 */
import { createServer, type Socket } from 'node:net';
import WebSocket from 'ws';
import { listenOn, type Listener } from './listen-node.js';

export function startBridge(wsUrl: string, host: string, port: number): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.pause();
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    ws.on('open', () => socket.resume());
    socket.on('data', (chunk) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(chunk, { binary: true });
    });
    ws.on('message', (data) => {
      if (!socket.destroyed) socket.write(data as Buffer);
    });
    const end = () => {
      sockets.delete(socket);
      socket.destroy();
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
    };
    ws.on('close', end);
    ws.on('error', end);
    socket.on('close', end);
    socket.on('error', end);
  });
  return listenOn(server, host, port, () => {
    for (const s of sockets) s.destroy();
  });
}
