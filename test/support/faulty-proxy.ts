/**
 * A TCP proxy in front of a PostgreSQL server that injects network failures: a link that is down
 * (connections cut at once), a link that stalls (bytes never delivered), and a lost acknowledgement
 * (the server's reply to COMMIT is dropped with the connection, after the server committed).
 */
import { createServer, connect, type Socket } from 'node:net';

export interface FaultyProxy {
  readonly port: number;
  readonly url: string;
  /** New and open connections are cut: the remote is unreachable. */
  down(): void;
  /** Connections are accepted but no byte is relayed: a link that silently drops packets. */
  stall(): void;
  /** Back to relaying normally. */
  up(): void;
  /** The next CommandComplete "COMMIT" from the server is swallowed and the connection cut. */
  dropNextCommitAck(): void;
  /** The next COMMIT from the client is swallowed and the connection cut: the server rolls back. */
  dropNextCommit(): void;
  /** How many COMMIT acknowledgements were dropped so far. */
  readonly droppedAcks: number;
  close(): Promise<void>;
}

// CommandComplete ('C'), length 11, tag "COMMIT\0": sent only after the commit is durable.
const COMMIT_COMPLETE = Buffer.from([0x43, 0, 0, 0, 11, ...Buffer.from('COMMIT'), 0]);
// Query ('Q'), length 11, "COMMIT\0": how node-postgres sends a COMMIT without parameters.
const COMMIT_QUERY = Buffer.from([0x51, 0, 0, 0, 11, ...Buffer.from('COMMIT'), 0]);

export async function startFaultyProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<FaultyProxy> {
  let mode: 'up' | 'down' | 'stall' = 'up';
  let dropAck = false;
  let dropCommit = false;
  let dropped = 0;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => undefined);
    if (mode === 'down') {
      client.destroy();
      return;
    }
    if (mode === 'stall') return;
    const upstream = connect(targetPort, targetHost);
    open.add(upstream);
    upstream.on('close', () => {
      open.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    let sent = Buffer.alloc(0);
    client.on('data', (d: Buffer) => {
      const seen = Buffer.concat([sent, d]);
      if (dropCommit && seen.includes(COMMIT_QUERY)) {
        dropCommit = false;
        client.destroy();
        upstream.destroy();
        return;
      }
      sent = seen.subarray(Math.max(0, seen.length - COMMIT_QUERY.length));
      upstream.write(d);
    });
    // The tail of the previous chunk, so a tag split across two chunks is still found.
    let tail = Buffer.alloc(0);
    upstream.on('data', (d: Buffer) => {
      const seen = Buffer.concat([tail, d]);
      if (dropAck && seen.includes(COMMIT_COMPLETE)) {
        dropAck = false;
        dropped++;
        client.destroy();
        upstream.destroy();
        return;
      }
      tail = seen.subarray(Math.max(0, seen.length - COMMIT_COMPLETE.length));
      client.write(d);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const cutAll = () => {
    for (const s of open) s.destroy();
  };
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    down() {
      mode = 'down';
      cutAll();
    },
    stall() {
      mode = 'stall';
      cutAll();
    },
    up() {
      if (mode === 'stall') cutAll();
      mode = 'up';
    },
    dropNextCommitAck() {
      dropAck = true;
    },
    dropNextCommit() {
      dropCommit = true;
    },
    get droppedAcks() {
      return dropped;
    },
    close: async () => {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
