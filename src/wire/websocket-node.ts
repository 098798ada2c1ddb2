/**
 * @module wire/websocket-node
 * HTTP server with PostgreSQL-over-WebSocket (Node `http` + `ws`): raw protocol bytes in binary
 * frames, on any path, as `@neondatabase/serverless` and `orbit bridge` speak it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { Connection, type ConnectionContext } from './connection.js';
import { isLoopback, listenOn, type Listener } from './listen-node.js';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function listenHttp(ctx: ConnectionContext | Promise<ConnectionContext>, host: string, port: number, onRequest: HttpHandler): Promise<Listener> {
  const server = createServer(onRequest);
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  const sockets = new Set<WebSocket>();
  wss.on('connection', (ws, req) => {
    sockets.add(ws);
    const conn = new Connection(ctx, {
      loopback: isLoopback(req.socket.remoteAddress),
      write: (b) => {
        if (ws.readyState === ws.OPEN) ws.send(b, { binary: true });
      },
      close: () => ws.close(),
      pause: () => ws.pause(),
      resume: () => ws.resume(),
    });
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      const chunks = Array.isArray(data) ? data : [data];
      for (const c of chunks) conn.receive(c instanceof ArrayBuffer ? new Uint8Array(c) : c);
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      sockets.delete(ws);
      void conn.closed();
    });
  });
  return listenOn(server, host, port, () => {
    for (const ws of sockets) ws.terminate();
    wss.close();
    server.closeAllConnections();
  });
}
